//! The on-disk cache: project pages (revalidated with `ETag`/`Last-Modified` before use, or
//! reused within a short max-age the caller sets) and distribution metadata (keyed by file URL
//! and file sha256: the metadata of a file with a known hash never changes).
//!
//! Layout: `<root>/pages-v1/ab/abcdef…` and `<root>/metadata-v1/…`, where the name is the
//! sha256 of the key (so any URL is a safe file name, and credentials never reach one: they
//! are stripped from keys first). Each file holds a magic line, a JSON header that repeats the
//! key and gives the body's length and sha256, then the body. A file that fails any check is
//! a miss (and is removed); writes go to a temporary file that is renamed into place, so a
//! reader never sees half a file. Cache trouble never fails a run: it only costs requests.
//!
//! ```no_run
//! use mlsupply::index::metadata::MetadataFetcher;
//! use mlsupply::index::{Cache, ClientOptions, IndexClient, IndexSettings};
//! # async fn demo(no_cache: bool) -> Result<(), Box<dyn std::error::Error>> {
//! let settings = IndexSettings::single("https://pypi.org/simple/")?;
//! // `--no-cache` gives `None`: a client without a page store, a fetcher without a cache.
//! let cache = Cache::from_env(no_cache);
//! let options = match &cache {
//!     Some(cache) => cache.client_options(ClientOptions::default()),
//!     None => ClientOptions::default(),
//! };
//! let client = IndexClient::new(&settings, options)?;
//! let fetcher = MetadataFetcher::new(client.clone(), cache.map(|c| c.metadata()));
//! if let Some(project) = client.project("requests").await? {
//!     let file = project.files().next().expect("a file");
//!     let metadata = fetcher.get(file).await?;
//!     assert!(!metadata.name.is_empty());
//! }
//! # Ok(())
//! # }
//! ```

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::client::{CachedPage, ClientOptions, PageStore};
use super::simple::DistFile;

/// Overrides the cache directory.
pub const CACHE_DIR_ENV: &str = "MLSUPPLY_CACHE_DIR";
const MAGIC: &[u8] = b"mlsupply-cache-1\n";
/// A header line longer than this is not ours.
const MAX_HEADER: usize = 64 * 1024;

/// The cache directory: `$MLSUPPLY_CACHE_DIR`, else the platform's cache directory
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux) plus `mlsupply`. `lookup` reads the environment
/// (`std::env::var_os` in the binaries; a map in tests).
pub fn default_cache_dir(lookup: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = lookup(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::cache_dir().map(|d| d.join("mlsupply"))
}

/// A cache directory and the stores inside it.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The cache for this process: `None` with `--no-cache` or when no cache directory can be
    /// found, and the clients then work without one.
    pub fn from_env(no_cache: bool) -> Option<Cache> {
        if no_cache {
            return None;
        }
        default_cache_dir(|k| std::env::var_os(k)).map(Cache::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Project pages, always revalidated before use.
    pub fn pages(&self) -> DiskPageStore {
        DiskPageStore::new(self.root.join("pages-v1"))
    }

    pub fn metadata(&self) -> MetadataCache {
        MetadataCache {
            dir: self.root.join("metadata-v1"),
        }
    }

    /// `options` with this cache's page store (see [`DiskPageStore::with_max_age`] for a
    /// store that skips revalidation of young pages).
    pub fn client_options(&self, mut options: ClientOptions) -> ClientOptions {
        options.page_store = Some(Arc::new(self.pages()));
        options
    }
}

/// A [`PageStore`] on disk.
#[derive(Clone, Debug)]
pub struct DiskPageStore {
    dir: PathBuf,
    max_age: Duration,
}

#[derive(Serialize, Deserialize)]
struct PageHeader {
    key: String,
    len: u64,
    sha256: String,
    stored_at: u64,
    url: String,
    content_type: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

impl DiskPageStore {
    /// Pages in `dir`, each revalidated with the index before use.
    pub fn new(dir: impl Into<PathBuf>) -> DiskPageStore {
        DiskPageStore {
            dir: dir.into(),
            max_age: Duration::ZERO,
        }
    }

    /// Pages stored less than `max_age` ago are used without asking the index (a few minutes
    /// at most is sensible: yanks and new releases are missed meanwhile). Zero, the default,
    /// revalidates every use.
    pub fn with_max_age(mut self, max_age: Duration) -> DiskPageStore {
        self.max_age = max_age;
        self
    }

    fn read(&self, page_url: &Url) -> Option<(PageHeader, Vec<u8>)> {
        let key = page_key(page_url);
        let path = blob_path(&self.dir, &key);
        let (header, body) = read_blob::<PageHeader>(&path)?;
        if header.key != key || header.len != body.len() as u64 || header.sha256 != hex(&body) {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some((header, body))
    }

    fn page(header: PageHeader, body: Vec<u8>) -> Option<CachedPage> {
        Some(CachedPage {
            url: Url::parse(&header.url).ok()?,
            content_type: header.content_type,
            body,
            etag: header.etag,
            last_modified: header.last_modified,
        })
    }
}

impl PageStore for DiskPageStore {
    fn load(&self, page_url: &Url) -> Option<CachedPage> {
        let (header, body) = self.read(page_url)?;
        Self::page(header, body)
    }

    fn store(&self, page_url: &Url, page: &CachedPage) {
        let key = page_key(page_url);
        let header = PageHeader {
            len: page.body.len() as u64,
            sha256: hex(&page.body),
            stored_at: now_secs(),
            url: without_credentials(&page.url).to_string(),
            content_type: page.content_type.clone(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
            key,
        };
        let _ = write_blob(&blob_path(&self.dir, &header.key), &header, &page.body);
    }

    fn load_fresh(&self, page_url: &Url) -> Option<CachedPage> {
        if self.max_age.is_zero() {
            return None;
        }
        let (header, body) = self.read(page_url)?;
        let age = now_secs().checked_sub(header.stored_at)?;
        if age > self.max_age.as_secs() {
            return None;
        }
        Self::page(header, body)
    }
}

/// Raw core metadata of files with a known sha256.
#[derive(Clone, Debug)]
pub struct MetadataCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct MetadataHeader {
    key: String,
    len: u64,
    sha256: String,
}

impl MetadataCache {
    /// A metadata cache in `dir` (normally [`Cache::metadata`]).
    pub fn new(dir: impl Into<PathBuf>) -> MetadataCache {
        MetadataCache { dir: dir.into() }
    }

    /// The stored metadata of `file`, if there is a copy whose digest checks out. Files without
    /// a sha256 on the index are never cached.
    pub fn get(&self, file: &DistFile) -> Option<Vec<u8>> {
        let key = metadata_key(file)?;
        let path = blob_path(&self.dir, &key);
        let (header, body) = read_blob::<MetadataHeader>(&path)?;
        if header.key != key || header.len != body.len() as u64 || header.sha256 != hex(&body) {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(body)
    }

    /// Stores `raw` as the metadata of `file` (nothing when the file has no sha256).
    pub fn put(&self, file: &DistFile, raw: &[u8]) {
        let Some(key) = metadata_key(file) else {
            return;
        };
        let header = MetadataHeader {
            len: raw.len() as u64,
            sha256: hex(raw),
            key,
        };
        let _ = write_blob(&blob_path(&self.dir, &header.key), &header, raw);
    }

    /// Where the entry of `file` lives (for tests and `cache clean` tools).
    pub fn path_of(&self, file: &DistFile) -> Option<PathBuf> {
        metadata_key(file).map(|key| blob_path(&self.dir, &key))
    }
}

impl DiskPageStore {
    /// Where the entry of `page_url` lives.
    pub fn path_of(&self, page_url: &Url) -> PathBuf {
        blob_path(&self.dir, &page_key(page_url))
    }
}

fn without_credentials(url: &Url) -> Url {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean
}

fn page_key(page_url: &Url) -> String {
    format!("page {}", without_credentials(page_url))
}

fn metadata_key(file: &DistFile) -> Option<String> {
    let sha256 = file.sha256()?;
    Some(format!(
        "metadata {} sha256={}",
        without_credentials(&file.url),
        sha256.to_ascii_lowercase()
    ))
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<dir>/<2 hex>/<64 hex>`: the sha256 of the key, fanned out so no directory grows huge.
fn blob_path(dir: &Path, key: &str) -> PathBuf {
    let name = hex(key.as_bytes());
    dir.join(&name[..2]).join(name)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn write_blob<H: Serialize>(path: &Path, header: &H, body: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(MAGIC)?;
    serde_json::to_writer(&mut temp, header)?;
    temp.write_all(b"\n")?;
    temp.write_all(body)?;
    temp.as_file().sync_data()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn read_blob<H: for<'de> Deserialize<'de>>(path: &Path) -> Option<(H, Vec<u8>)> {
    // A regular file only: a FIFO put in the cache directory must not hang the run.
    let (opened, _) = crate::files::open_regular(path).ok()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &opened, &mut bytes).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let newline = rest.iter().take(MAX_HEADER).position(|&b| b == b'\n')?;
    let header: Option<H> = serde_json::from_slice(&rest[..newline]).ok();
    let Some(header) = header else {
        let _ = std::fs::remove_file(path);
        return None;
    };
    let body_start = MAGIC.len() + newline + 1;
    bytes.drain(..body_start);
    Some((header, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_override_wins() {
        let dir = default_cache_dir(|k| (k == CACHE_DIR_ENV).then(|| OsString::from("/x/y")));
        assert_eq!(dir, Some(PathBuf::from("/x/y")));
        // Empty means unset, as for pip's variables.
        let dir = default_cache_dir(|k| (k == CACHE_DIR_ENV).then(OsString::new));
        assert_ne!(dir, Some(PathBuf::new()));
    }

    #[test]
    fn keys_drop_credentials() {
        let url = Url::parse("https://user:secret@example.com/simple/demo/").unwrap();
        let key = page_key(&url);
        assert!(!key.contains("secret") && !key.contains("user"), "{key}");
        let plain = Url::parse("https://example.com/simple/demo/").unwrap();
        assert_eq!(key, page_key(&plain));
    }

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskPageStore::new(dir.path());
        let url = Url::parse("https://example.com/simple/demo/").unwrap();
        let page = CachedPage {
            url: url.clone(),
            content_type: "text/html".to_owned(),
            body: b"<html></html>".to_vec(),
            etag: Some("\"e1\"".to_owned()),
            last_modified: None,
        };
        store.store(&url, &page);
        assert_eq!(store.load(&url), Some(page.clone()));
        assert_eq!(store.load_fresh(&url), None, "max-age 0 always revalidates");
        let young = store.clone().with_max_age(Duration::from_secs(60));
        assert_eq!(young.load_fresh(&url), Some(page));
        // Flip one body byte: the digest no longer matches, so it is a miss and is removed.
        let path = store.path_of(&url);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(store.load(&url), None);
        assert!(!path.exists());
    }
}
