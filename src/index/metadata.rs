//! The core metadata of one distribution file (its `Requires-Dist`, `Requires-Python`, extras),
//! fetched the cheapest safe way, for the resolver:
//!
//! 1. PEP 658/714: `<file-url>.metadata` when the index advertises it, checked against the
//!    advertised sha256;
//! 2. a wheel: HTTP range requests for the zip's end (central directory), then the
//!    `*.dist-info/METADATA` member alone, inflated here;
//! 3. a wheel whose server ignores ranges: the whole wheel (bounded), checked against the
//!    index's sha256 before it is read;
//! 4. an sdist: `PKG-INFO` out of the whole (bounded, sha256-checked) archive, trusted only when
//!    Metadata-Version >= 2.2 and `Requires-Dist` is not `Dynamic`. Nothing is ever built or run.
//!
//! Every response is untrusted: sizes are capped before and while reading, the inflated size of
//! a member is capped (zip bombs), its CRC is checked, and a malformed archive is an error that
//! names the file (so the package and version) and where it came from.

use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, Requirement};
use sha2::{Digest, Sha256};
use url::Url;

use super::IndexError;
use super::blocking::BlockingIndexClient;
use super::cache::MetadataCache;
use super::client::{ByteRange, IndexClient, RangeResponse};
use super::simple::{CoreMetadata, DistFile, DistKind, filename_version};
use super::url::RedactedUrl;
use crate::deps::manifest_pep508::check_requirement;
use crate::typo::normalize;

/// Largest METADATA / PKG-INFO accepted, fetched or inflated (the biggest on PyPI are long
/// READMEs of a few hundred KB).
pub const MAX_METADATA_BYTES: usize = 16 * 1024 * 1024;
/// Largest wheel or sdist downloaded whole when nothing cheaper works.
pub const MAX_DOWNLOAD_BYTES: usize = 256 * 1024 * 1024;
/// Largest zip central directory read (torch's is about 2 MB).
const MAX_CENTRAL_DIRECTORY: u64 = 64 * 1024 * 1024;
/// Most bytes inflated out of an sdist while looking for PKG-INFO.
const MAX_SDIST_INFLATED: u64 = 1024 * 1024 * 1024;
/// The first range request: the end of the zip. Usually holds the central directory and the
/// METADATA member too (dist-info files are written last).
const TAIL_BYTES: u64 = 128 * 1024;
/// EOCD record (22) plus the longest zip comment.
const MAX_EOCD_SEARCH: u64 = 22 + 65535;
/// Range requests per wheel before giving up on ranges (tail, zip64 record, directory, member).
const MAX_RANGE_ROUNDS: usize = 6;

/// Where the metadata came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataSource {
    /// PEP 658 `<file-url>.metadata`.
    MetadataFile,
    /// `METADATA` read out of the wheel with range requests.
    WheelRange,
    /// The whole wheel was downloaded.
    WheelDownload,
    /// `PKG-INFO` of a downloaded sdist.
    Sdist,
    /// The on-disk metadata cache.
    Cache,
}

/// What the resolver needs from a distribution's core metadata.
#[derive(Clone, Debug)]
pub struct DistMetadata {
    /// `Metadata-Version`, as written.
    pub metadata_version: Option<String>,
    /// `Name`, as written (compare with [`normalize`]).
    pub name: String,
    pub version: Version,
    /// `Requires-Dist`, with their markers and extras (`extra == "..."` markers included).
    pub requires_dist: Vec<Requirement<Url>>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
    /// `Dynamic` field names, as written (Metadata-Version 2.2+).
    pub dynamic: Vec<String>,
    /// Values that could not be read (a bad `Requires-Dist` line is skipped, not fatal).
    pub problems: Vec<FieldProblem>,
    /// How the metadata was obtained.
    pub source: MetadataSource,
}

/// A metadata field whose value could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub value: String,
    pub message: String,
}

impl DistMetadata {
    /// Whether `field` (e.g. `Requires-Dist`) is declared dynamic.
    pub fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic.iter().any(|d| d.eq_ignore_ascii_case(field))
    }

    /// `Metadata-Version` as (major, minor), when it parses.
    pub fn metadata_version_number(&self) -> Option<(u32, u32)> {
        let text = self.metadata_version.as_deref()?.trim();
        let (major, minor) = text.split_once('.').unwrap_or((text, "0"));
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

/// Core metadata text that lacks what every distribution must have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CoreMetadataError(pub String);

/// Why a file's metadata could not be had. Every variant names the file (so the package and
/// version) and where it came from; no URL here carries credentials.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// Transport or HTTP failure (names the project or file and the redacted index).
    #[error("{0}")]
    Index(#[from] IndexError),
    #[error("`{file}`: {url} was not found (404)")]
    NotFound { file: String, url: RedactedUrl },
    /// Bytes that do not match the digest the index published.
    #[error(
        "`{file}`: the {what} from {url} has sha256 {actual}, but the index lists {expected}: the file was changed or the index is wrong"
    )]
    HashMismatch {
        file: String,
        what: &'static str,
        url: RedactedUrl,
        expected: String,
        actual: String,
    },
    /// A malformed archive or metadata file.
    #[error("`{file}` from {url}: {message}")]
    Malformed {
        file: String,
        url: RedactedUrl,
        message: String,
    },
    #[error("`{file}` from {url}: {what} is larger than the {limit} MiB limit")]
    TooLarge {
        file: String,
        url: RedactedUrl,
        what: &'static str,
        limit: u64,
    },
    /// The whole file would have to be trusted, but the index gives no sha256 for it.
    #[error(
        "`{file}` from {url}: the index gives no sha256 for it, so a downloaded copy cannot be checked"
    )]
    Unverifiable { file: String, url: RedactedUrl },
    /// An sdist whose dependencies are only known by building it, which is never done. The
    /// caller reports this as a finding naming the package.
    #[error(
        "`{file}`: the dependencies of {name} {version} in this sdist are dynamic ({reason}); only building it would tell them, and mlsupply never builds or runs packages"
    )]
    DynamicSdist {
        file: String,
        name: String,
        version: String,
        reason: String,
    },
    #[error("`{file}` from {url}: {reason}")]
    Unsupported {
        file: String,
        url: RedactedUrl,
        reason: String,
    },
}

impl MetadataError {
    /// True for an sdist whose dependencies are dynamic (a finding, not a failure).
    pub fn is_dynamic(&self) -> bool {
        matches!(self, MetadataError::DynamicSdist { .. })
    }
}

/// Parses core metadata (`METADATA`, `PKG-INFO`, a PEP 658 file): RFC 822-style headers up to
/// the first blank line, continuation lines, repeated fields. `Name` and a PEP 440 `Version`
/// are required; a bad `Requires-Dist`, `Requires-Python` or `Provides-Extra` value goes to
/// [`DistMetadata::problems`] rather than failing the whole file.
pub fn parse_core_metadata(text: &str) -> Result<DistMetadata, CoreMetadataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            // The blank line ends the headers; the description follows.
            break;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => problems.push(FieldProblem {
                    field: String::new(),
                    value: shorten(line),
                    message: "continuation line before any field".to_owned(),
                }),
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) => fields.push((key.trim().to_owned(), value.trim().to_owned())),
            None => problems.push(FieldProblem {
                field: String::new(),
                value: shorten(line),
                message: "not a `Field: value` line".to_owned(),
            }),
        }
    }
    let first = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let all = |name: &'static str| {
        fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let name = first("Name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CoreMetadataError("no `Name` field".to_owned()))?;
    let version_text =
        first("Version").ok_or_else(|| CoreMetadataError("no `Version` field".to_owned()))?;
    let version = Version::from_str(&version_text).map_err(|e| {
        CoreMetadataError(format!(
            "`Version: {}` is not a PEP 440 version: {e}",
            shorten(&version_text)
        ))
    })?;
    let mut requires_dist = Vec::new();
    for value in all("Requires-Dist") {
        match parse_requirement(value) {
            Ok(req) => requires_dist.push(req),
            Err(message) => problems.push(FieldProblem {
                field: "Requires-Dist".to_owned(),
                value: shorten(value),
                message,
            }),
        }
    }
    let requires_python = match first("Requires-Python").filter(|v| !v.is_empty()) {
        None => None,
        Some(value) => match VersionSpecifiers::from_str(&value) {
            Ok(spec) => Some(spec),
            Err(e) => {
                problems.push(FieldProblem {
                    field: "Requires-Python".to_owned(),
                    value: shorten(&value),
                    message: e.to_string(),
                });
                None
            }
        },
    };
    let mut provides_extra = Vec::new();
    for value in all("Provides-Extra") {
        match ExtraName::from_str(value) {
            Ok(extra) => provides_extra.push(extra),
            Err(e) => problems.push(FieldProblem {
                field: "Provides-Extra".to_owned(),
                value: shorten(value),
                message: e.to_string(),
            }),
        }
    }
    Ok(DistMetadata {
        metadata_version: first("Metadata-Version"),
        name,
        version,
        requires_dist,
        requires_python,
        provides_extra,
        dynamic: all("Dynamic").map(str::to_owned).collect(),
        problems,
        source: MetadataSource::MetadataFile,
    })
}

/// One `Requires-Dist` value. The text is first checked the way manifests are
/// ([`check_requirement`]), which answers the inputs that make `pep508_rs` 0.9.2 panic; `url::Url`
/// as the URL type means nothing in the text is expanded from the environment.
fn parse_requirement(text: &str) -> Result<Requirement<Url>, String> {
    if let Some(error) = check_requirement(text).error {
        return Err(error);
    }
    Requirement::<Url>::from_str(text).map_err(|e| e.message.to_string())
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Of the files of one release, the one whose metadata is cheapest to get safely: a wheel (its
/// metadata is final; an sdist's may be dynamic), one with a PEP 658 metadata file first, then
/// a pure-Python one; an sdist only when there is no wheel. Yanked files come last. `None`
/// when there is nothing readable (eggs, `.exe`).
pub fn pick_metadata_file<'a>(files: &[&'a DistFile]) -> Option<&'a DistFile> {
    files
        .iter()
        .copied()
        .filter(|f| f.kind() != DistKind::Other)
        .min_by_key(|f| {
            let wheel = f.kind() == DistKind::Wheel;
            let pure = wheel && f.filename.to_ascii_lowercase().ends_with("-none-any.whl");
            let pep658 = matches!(f.core_metadata, CoreMetadata::Available { .. });
            (f.yanked, !wheel, !pep658, !pure, f.filename.clone())
        })
}

/// Fetches and parses the core metadata of `file`, without any cache. See the module docs for
/// the order of methods.
pub async fn dist_metadata(
    client: &IndexClient,
    file: &DistFile,
) -> Result<DistMetadata, MetadataError> {
    let (raw, source) = fetch_raw(client, file).await?;
    interpret(file, &raw, source)
}

/// [`dist_metadata`] on a [`BlockingIndexClient`].
pub fn blocking_dist_metadata(
    client: &BlockingIndexClient,
    file: &DistFile,
) -> Result<DistMetadata, MetadataError> {
    client.block_on(dist_metadata(client.client(), file))
}

/// [`dist_metadata`] with an optional on-disk cache of metadata keyed by file URL and sha256,
/// and an in-memory one for the life of the fetcher (a resolver asks again when it backtracks).
/// Cheap to clone; clones share the memory.
#[derive(Clone, Debug)]
pub struct MetadataFetcher {
    client: IndexClient,
    cache: Option<MetadataCache>,
    memo: Arc<Mutex<HashMap<FileKey, DistMetadata>>>,
}

/// A file's URL and sha256: what identifies its metadata.
type FileKey = (Url, Option<String>);

impl MetadataFetcher {
    /// `cache: None` (`--no-cache`) fetches every time.
    pub fn new(client: IndexClient, cache: Option<MetadataCache>) -> MetadataFetcher {
        MetadataFetcher {
            client,
            cache,
            memo: Arc::default(),
        }
    }

    pub fn client(&self) -> &IndexClient {
        &self.client
    }

    /// The metadata of `file`: from the cache when a verified copy is there (metadata of a file
    /// with a known sha256 never changes), else fetched and then stored. The sdist checks run
    /// on cached text too.
    pub async fn get(&self, file: &DistFile) -> Result<DistMetadata, MetadataError> {
        let key = (file.url.clone(), file.sha256().map(str::to_ascii_lowercase));
        if let Some(meta) = self.memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(meta);
        }
        let result = self.get_uncached(file).await;
        if let (Ok(meta), Ok(mut memo)) = (&result, self.memo.lock()) {
            memo.insert(key, meta.clone());
        }
        result
    }

    async fn get_uncached(&self, file: &DistFile) -> Result<DistMetadata, MetadataError> {
        if let Some(raw) = self.cache.as_ref().and_then(|c| c.get(file)) {
            // A cached blob that no longer parses is a miss, not an error.
            match interpret(file, &raw, MetadataSource::Cache) {
                Err(MetadataError::Malformed { .. }) => {}
                result => return result,
            }
        }
        let (raw, source) = fetch_raw(&self.client, file).await?;
        let result = interpret(file, &raw, source);
        if let Some(cache) = &self.cache
            && (result.is_ok() || result.as_ref().is_err_and(MetadataError::is_dynamic))
        {
            cache.put(file, &raw);
        }
        result
    }

    /// [`MetadataFetcher::get`] on a blocking client's runtime.
    pub fn get_blocking(
        &self,
        runtime: &BlockingIndexClient,
        file: &DistFile,
    ) -> Result<DistMetadata, MetadataError> {
        runtime.block_on(self.get(file))
    }
}

/// Parses raw metadata of `file`, checks that it describes that file, and applies the sdist
/// rule (static metadata only).
fn interpret(
    file: &DistFile,
    raw: &[u8],
    source: MetadataSource,
) -> Result<DistMetadata, MetadataError> {
    let malformed = |message: String| MetadataError::Malformed {
        file: file.filename.clone(),
        url: RedactedUrl::new(file.url.clone()),
        message,
    };
    let text = String::from_utf8_lossy(raw);
    let mut meta =
        parse_core_metadata(&text).map_err(|e| malformed(format!("bad core metadata: {e}")))?;
    meta.source = source;
    // Metadata for another package or version (a mix-up or a lie) must not drive resolution.
    if filename_version(&file.filename, &meta.name).as_ref() != Some(&meta.version) {
        return Err(malformed(format!(
            "its metadata describes {} {}, not this file",
            shorten(&meta.name),
            meta.version
        )));
    }
    if file.kind() == DistKind::Sdist {
        let reason = match meta.metadata_version_number() {
            Some(v) if v >= (2, 2) => ["Requires-Dist", "Requires-Python"]
                .into_iter()
                .find(|f| meta.is_dynamic(f))
                .map(|f| format!("`{f}` is listed in `Dynamic`")),
            _ => Some(format!(
                "Metadata-Version {} predates 2.2, so its PKG-INFO may not match what a build produces",
                meta.metadata_version.as_deref().unwrap_or("(missing)")
            )),
        };
        if let Some(reason) = reason {
            return Err(MetadataError::DynamicSdist {
                file: file.filename.clone(),
                name: meta.name,
                version: meta.version.to_string(),
                reason,
            });
        }
    }
    Ok(meta)
}

/// The raw metadata bytes of `file` and how they were obtained.
async fn fetch_raw(
    client: &IndexClient,
    file: &DistFile,
) -> Result<(Vec<u8>, MetadataSource), MetadataError> {
    let ctx = Ctx::new(file);
    if let CoreMetadata::Available { hashes } = &file.core_metadata {
        let mut url = file.url.clone();
        url.set_path(&format!("{}.metadata", file.url.path()));
        // A mirror may advertise the file and not have it: fall through to the archive.
        if let Some(body) = client.fetch_file(&url, MAX_METADATA_BYTES).await? {
            if let Some(expected) = hashes.get("sha256") {
                let actual = sha256_hex(&body);
                if !actual.eq_ignore_ascii_case(expected) {
                    return Err(MetadataError::HashMismatch {
                        file: file.filename.clone(),
                        what: "core metadata file",
                        url: RedactedUrl::new(url),
                        expected: expected.clone(),
                        actual,
                    });
                }
            }
            return Ok((body, MetadataSource::MetadataFile));
        }
    }
    match file.kind() {
        DistKind::Wheel => {
            if let Some(raw) = wheel_by_ranges(client, file, &ctx).await? {
                return Ok((raw, MetadataSource::WheelRange));
            }
            let bytes = download_verified(client, file, &ctx).await?;
            let mut zip = Sparse::new(bytes.len() as u64);
            zip.insert(0, bytes);
            match read_zip_member(&zip, &|name| is_wheel_metadata(name, &file.filename)) {
                Ok(Step::Done(raw)) => Ok((raw, MetadataSource::WheelDownload)),
                Ok(Step::Need { .. }) => Err(ctx.malformed("the zip is truncated".to_owned())),
                Err(e) => Err(ctx.zip_error(e)),
            }
        }
        DistKind::Sdist => {
            let lower = file.filename.to_ascii_lowercase();
            let bytes = download_verified(client, file, &ctx).await?;
            let raw = if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
                sdist_pkg_info_targz(&bytes).map_err(|e| ctx.zip_error(e))?
            } else if lower.ends_with(".zip") {
                let mut zip = Sparse::new(bytes.len() as u64);
                zip.insert(0, bytes);
                match read_zip_member(&zip, &is_sdist_pkg_info) {
                    Ok(Step::Done(raw)) => raw,
                    Ok(Step::Need { .. }) => {
                        return Err(ctx.malformed("the zip is truncated".to_owned()));
                    }
                    Err(e) => return Err(ctx.zip_error(e)),
                }
            } else {
                return Err(ctx.unsupported("only .tar.gz and .zip sdists are read"));
            };
            Ok((raw, MetadataSource::Sdist))
        }
        DistKind::Other => Err(ctx.unsupported("neither a wheel nor an sdist")),
    }
}

/// Names and builds errors for one file.
struct Ctx {
    file: String,
    url: RedactedUrl,
}

impl Ctx {
    fn new(file: &DistFile) -> Ctx {
        Ctx {
            file: file.filename.clone(),
            url: RedactedUrl::new(file.url.clone()),
        }
    }

    fn malformed(&self, message: String) -> MetadataError {
        MetadataError::Malformed {
            file: self.file.clone(),
            url: self.url.clone(),
            message,
        }
    }

    fn unsupported(&self, reason: &str) -> MetadataError {
        MetadataError::Unsupported {
            file: self.file.clone(),
            url: self.url.clone(),
            reason: reason.to_owned(),
        }
    }

    fn zip_error(&self, e: ArchiveError) -> MetadataError {
        match e {
            ArchiveError::Malformed(message) => self.malformed(message),
            ArchiveError::TooLarge(what, limit) => MetadataError::TooLarge {
                file: self.file.clone(),
                url: self.url.clone(),
                what,
                limit: limit >> 20,
            },
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The whole file, refused before download when the index says it is too big, and checked
/// against the index's sha256 before anything reads it.
async fn download_verified(
    client: &IndexClient,
    file: &DistFile,
    ctx: &Ctx,
) -> Result<Vec<u8>, MetadataError> {
    let too_large = || MetadataError::TooLarge {
        file: ctx.file.clone(),
        url: ctx.url.clone(),
        what: "the file",
        limit: (MAX_DOWNLOAD_BYTES >> 20) as u64,
    };
    if file.size.is_some_and(|s| s > MAX_DOWNLOAD_BYTES as u64) {
        return Err(too_large());
    }
    let Some(expected) = file.sha256() else {
        return Err(MetadataError::Unverifiable {
            file: ctx.file.clone(),
            url: ctx.url.clone(),
        });
    };
    let body = client
        .fetch_file(&file.url, MAX_DOWNLOAD_BYTES)
        .await?
        .ok_or_else(|| MetadataError::NotFound {
            file: ctx.file.clone(),
            url: ctx.url.clone(),
        })?;
    let actual = sha256_hex(&body);
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(MetadataError::HashMismatch {
            file: ctx.file.clone(),
            what: "file",
            url: ctx.url.clone(),
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(body)
}

/// METADATA via range requests; `Ok(None)` when the server does not serve ranges.
async fn wheel_by_ranges(
    client: &IndexClient,
    file: &DistFile,
    ctx: &Ctx,
) -> Result<Option<Vec<u8>>, MetadataError> {
    let (start, total, body) = match client
        .fetch_file_range(
            &file.url,
            ByteRange::Suffix(TAIL_BYTES),
            TAIL_BYTES as usize,
        )
        .await?
    {
        RangeResponse::NotFound => {
            return Err(MetadataError::NotFound {
                file: ctx.file.clone(),
                url: ctx.url.clone(),
            });
        }
        RangeResponse::Unsupported => return Ok(None),
        RangeResponse::Partial { start, total, body } => (start, total, body),
    };
    // A suffix range ends at the end of the file.
    let size = start + body.len() as u64;
    if total.is_some_and(|t| t != size) {
        return Err(ctx.malformed("inconsistent Content-Range".to_owned()));
    }
    let mut zip = Sparse::new(size);
    zip.insert(start, body);
    let wanted = |name: &str| is_wheel_metadata(name, &file.filename);
    for _ in 0..MAX_RANGE_ROUNDS {
        match read_zip_member(&zip, &wanted).map_err(|e| ctx.zip_error(e))? {
            Step::Done(raw) => return Ok(Some(raw)),
            Step::Need { start, end } => {
                let len = (end - start) as usize;
                match client
                    .fetch_file_range(&file.url, ByteRange::Span { start, end }, len)
                    .await?
                {
                    RangeResponse::Partial {
                        start: got, body, ..
                    } => zip.insert(got, body),
                    RangeResponse::Unsupported => return Ok(None),
                    RangeResponse::NotFound => {
                        return Err(MetadataError::NotFound {
                            file: ctx.file.clone(),
                            url: ctx.url.clone(),
                        });
                    }
                }
            }
        }
    }
    Err(ctx.malformed("the zip needs too many range requests to read".to_owned()))
}

/// `{name}-{version}.dist-info/METADATA` at the top of the wheel, for the project the wheel's
/// file name names.
fn is_wheel_metadata(member: &str, wheel_filename: &str) -> bool {
    let Some(dir) = member.strip_suffix(".dist-info/METADATA") else {
        return false;
    };
    if dir.contains('/') {
        return false;
    }
    let project = wheel_filename.split('-').next().unwrap_or_default();
    let dist = dir.split('-').next().unwrap_or_default();
    normalize(dist) == normalize(project)
}

/// `{name}-{version}/PKG-INFO`: the sdist's own, not a vendored package's deeper down.
fn is_sdist_pkg_info(member: &str) -> bool {
    member
        .strip_suffix("/PKG-INFO")
        .is_some_and(|dir| !dir.is_empty() && !dir.contains('/'))
}

#[derive(Debug, PartialEq, Eq)]
enum ArchiveError {
    Malformed(String),
    /// What is too large, and the limit in bytes.
    TooLarge(&'static str, u64),
}

fn bad(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Malformed(message.into())
}

/// `PKG-INFO` at the top of a gzipped tar. Inflation is capped as a whole and for the member.
fn sdist_pkg_info_targz(bytes: &[u8]) -> Result<Vec<u8>, ArchiveError> {
    let inflated = flate2::read::GzDecoder::new(bytes).take(MAX_SDIST_INFLATED);
    let mut archive = tar::Archive::new(inflated);
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar.gz archive: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            bad(format!(
                "unreadable tar.gz (corrupt, or over {} MiB inflated): {e}",
                MAX_SDIST_INFLATED >> 20
            ))
        })?;
        let raw = entry.path_bytes().into_owned();
        let Ok(path) = std::str::from_utf8(raw.strip_prefix(b"./").unwrap_or(&raw)) else {
            continue;
        };
        if !is_sdist_pkg_info(path) {
            continue;
        }
        // A link could point anywhere in the archive (or outside it); a real PKG-INFO is a file.
        if !entry.header().entry_type().is_file() {
            return Err(bad(format!(
                "{} is not a regular file",
                path.escape_debug()
            )));
        }
        let path = path.to_owned();
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > MAX_METADATA_BYTES as u64 {
            return Err(ArchiveError::TooLarge(
                "PKG-INFO",
                MAX_METADATA_BYTES as u64,
            ));
        }
        let mut out = Vec::new();
        entry
            .take(MAX_METADATA_BYTES as u64)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        return Ok(out);
    }
    Err(bad("no PKG-INFO at the top of the sdist"))
}

/// Byte ranges of a remote file fetched so far.
struct Sparse {
    size: u64,
    chunks: Vec<(u64, Vec<u8>)>,
}

impl Sparse {
    fn new(size: u64) -> Sparse {
        Sparse {
            size,
            chunks: Vec::new(),
        }
    }

    fn insert(&mut self, start: u64, bytes: Vec<u8>) {
        self.chunks.push((start, bytes));
    }

    /// `start..end` if one fetched chunk holds all of it.
    fn get(&self, start: u64, end: u64) -> Option<&[u8]> {
        self.chunks.iter().find_map(|(at, bytes)| {
            let chunk_end = at + bytes.len() as u64;
            (*at <= start && end <= chunk_end && start <= end)
                .then(|| &bytes[(start - at) as usize..(end - at) as usize])
        })
    }

    /// The fetched bytes that end at the end of the file, with their offset.
    fn tail(&self) -> Option<(u64, &[u8])> {
        self.chunks
            .iter()
            .filter(|(at, bytes)| at + bytes.len() as u64 == self.size)
            .min_by_key(|(at, _)| *at)
            .map(|(at, bytes)| (*at, bytes.as_slice()))
    }
}

/// The next thing [`read_zip_member`] needs.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Bytes `start..end` of the file.
    Need { start: u64, end: u64 },
    /// The member's inflated content.
    Done(Vec<u8>),
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

/// One central-directory entry, sizes and offset already widened by its zip64 field.
struct Entry {
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
    name_and_extra: u64,
}

/// Reads the one member that `wanted` picks out of a zip of which `zip` holds some ranges:
/// either what is still missing or the inflated member. Pure, so the same code serves range
/// requests and whole downloads, and tests run it on crafted archives.
fn read_zip_member(zip: &Sparse, wanted: &dyn Fn(&str) -> bool) -> Result<Step, ArchiveError> {
    let size = zip.size;
    if size < 22 {
        return Err(bad("not a zip archive (too short)"));
    }
    let search_from = size.saturating_sub(MAX_EOCD_SEARCH);
    let Some((tail_at, tail)) = zip.tail() else {
        return Ok(Step::Need {
            start: search_from,
            end: size,
        });
    };
    // The end-of-central-directory record: the last signature whose comment runs exactly to
    // the end of the file.
    // (A tail shorter than the record, which a server can send, finds nothing.)
    let eocd = (0..(tail.len() + 1).saturating_sub(22)).rev().find(|&i| {
        u32_at(tail, i) == EOCD_SIG && i + 22 + usize::from(u16_at(tail, i + 20)) == tail.len()
    });
    let Some(eocd) = eocd else {
        if tail_at > search_from {
            return Ok(Step::Need {
                start: search_from,
                end: size,
            });
        }
        return Err(bad(
            "not a zip archive (no end of central directory record)",
        ));
    };
    let eocd_offset = tail_at + eocd as u64;
    let mut entries = u64::from(u16_at(tail, eocd + 10));
    let mut cd_size = u64::from(u32_at(tail, eocd + 12));
    let mut cd_offset = u64::from(u32_at(tail, eocd + 16));
    // Zip64: a locator right before the EOCD points at the zip64 EOCD record.
    if eocd_offset >= 20 {
        let locator = match zip.get(eocd_offset - 20, eocd_offset) {
            Some(l) => l,
            None => {
                return Ok(Step::Need {
                    start: eocd_offset - 20,
                    end: eocd_offset,
                });
            }
        };
        if u32_at(locator, 0) == ZIP64_LOCATOR_SIG {
            let record_at = u64_at(locator, 8);
            if record_at
                .checked_add(56)
                .is_none_or(|e| e > eocd_offset - 20)
            {
                return Err(bad("zip64 locator points outside the archive"));
            }
            let Some(record) = zip.get(record_at, record_at + 56) else {
                return Ok(Step::Need {
                    start: record_at,
                    end: record_at + 56,
                });
            };
            if u32_at(record, 0) != ZIP64_EOCD_SIG {
                return Err(bad("bad zip64 end of central directory record"));
            }
            entries = u64_at(record, 32);
            cd_size = u64_at(record, 40);
            cd_offset = u64_at(record, 48);
        }
    }
    if cd_size > MAX_CENTRAL_DIRECTORY {
        return Err(ArchiveError::TooLarge(
            "the zip's central directory",
            MAX_CENTRAL_DIRECTORY,
        ));
    }
    let cd_end = cd_offset
        .checked_add(cd_size)
        .filter(|&e| e <= eocd_offset)
        .ok_or_else(|| bad("the central directory lies outside the archive"))?;
    // Every entry takes at least 46 bytes: a count that cannot fit is a lie.
    if entries.saturating_mul(46) > cd_size {
        return Err(bad("the central directory is shorter than its entry count"));
    }
    let Some(dir) = zip.get(cd_offset, cd_end) else {
        return Ok(Step::Need {
            start: cd_offset,
            end: cd_end,
        });
    };
    let entry = find_entry(dir, entries, wanted)?;
    if entry.flags & 1 != 0 {
        return Err(bad("the metadata member is encrypted"));
    }
    if entry.uncompressed > MAX_METADATA_BYTES as u64 {
        return Err(ArchiveError::TooLarge(
            "the metadata member",
            MAX_METADATA_BYTES as u64,
        ));
    }
    // Deflate never grows data by more than a few bytes per 16 KiB block: a bigger compressed
    // size is a lie that would make us fetch the whole archive.
    if entry.compressed > entry.uncompressed + entry.uncompressed / 64 + 1024 {
        return Err(bad(format!(
            "the metadata member claims {} compressed bytes for {} inflated",
            entry.compressed, entry.uncompressed
        )));
    }
    if entry.local_offset.saturating_add(30) > cd_offset {
        return Err(bad("a member's local header lies outside the archive"));
    }
    // Ask for the header and data at once, guessing the local name and extra lengths from the
    // central ones (they almost always agree); a wrong guess costs one more round.
    let Some(local) = zip.get(entry.local_offset, entry.local_offset + 30) else {
        let guess = entry.local_offset + 30 + entry.name_and_extra + entry.compressed + 1024;
        return Ok(Step::Need {
            start: entry.local_offset,
            end: guess.min(cd_offset),
        });
    };
    if u32_at(local, 0) != LOCAL_SIG {
        return Err(bad("bad local file header"));
    }
    let data_start =
        entry.local_offset + 30 + u64::from(u16_at(local, 26)) + u64::from(u16_at(local, 28));
    let data_end = data_start
        .checked_add(entry.compressed)
        .filter(|&e| e <= cd_offset)
        .ok_or_else(|| bad("a member's data runs past the central directory"))?;
    let Some(data) = zip.get(data_start, data_end) else {
        return Ok(Step::Need {
            start: data_start,
            end: data_end,
        });
    };
    let content = match entry.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(entry.uncompressed + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("cannot inflate the metadata member: {e}")))?;
            out
        }
        m => return Err(bad(format!("unsupported compression method {m}"))),
    };
    // The declared size was capped above; content that overruns it is a bomb or a lie.
    if content.len() as u64 != entry.uncompressed {
        return Err(bad(format!(
            "the metadata member inflates to {}{} bytes, not the {} its directory entry says",
            content.len(),
            if content.len() as u64 > entry.uncompressed {
                " or more"
            } else {
                ""
            },
            entry.uncompressed
        )));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&content);
    if crc.sum() != entry.crc {
        return Err(bad("the metadata member fails its CRC-32 check"));
    }
    Ok(Step::Done(content))
}

/// The single central-directory entry that `wanted` accepts.
fn find_entry(
    dir: &[u8],
    entries: u64,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Entry, ArchiveError> {
    let mut at = 0usize;
    let mut found: Option<(String, Entry)> = None;
    for _ in 0..entries {
        if at + 46 > dir.len() || u32_at(dir, at) != CENTRAL_SIG {
            return Err(bad("corrupt central directory"));
        }
        let name_len = usize::from(u16_at(dir, at + 28));
        let extra_len = usize::from(u16_at(dir, at + 30));
        let comment_len = usize::from(u16_at(dir, at + 32));
        let next = at + 46 + name_len + extra_len + comment_len;
        if next > dir.len() {
            return Err(bad("corrupt central directory"));
        }
        let name = &dir[at + 46..at + 46 + name_len];
        if let Ok(name) = std::str::from_utf8(name)
            && wanted(name)
        {
            if let Some((first, _)) = &found {
                return Err(bad(format!("the archive holds both {first} and {name}")));
            }
            let mut entry = Entry {
                flags: u16_at(dir, at + 8),
                method: u16_at(dir, at + 10),
                crc: u32_at(dir, at + 16),
                compressed: u64::from(u32_at(dir, at + 20)),
                uncompressed: u64::from(u32_at(dir, at + 24)),
                local_offset: u64::from(u32_at(dir, at + 42)),
                name_and_extra: (name_len + extra_len) as u64,
            };
            widen_zip64(
                &mut entry,
                &dir[at + 46 + name_len..at + 46 + name_len + extra_len],
            )?;
            found = Some((name.to_owned(), entry));
        }
        at = next;
    }
    found
        .map(|(_, e)| e)
        .ok_or_else(|| bad("the archive has no metadata member where one must be"))
}

/// Applies the zip64 extra field (id 1): the 64-bit values of the fields set to 0xFFFFFFFF, in
/// the order uncompressed, compressed, offset.
fn widen_zip64(entry: &mut Entry, mut extra: &[u8]) -> Result<(), ArchiveError> {
    let needs = [
        entry.uncompressed == 0xFFFF_FFFF,
        entry.compressed == 0xFFFF_FFFF,
        entry.local_offset == 0xFFFF_FFFF,
    ];
    if !needs.contains(&true) {
        return Ok(());
    }
    while extra.len() >= 4 {
        let id = u16_at(extra, 0);
        let len = usize::from(u16_at(extra, 2));
        let body = extra
            .get(4..4 + len)
            .ok_or_else(|| bad("corrupt extra field"))?;
        if id == 1 {
            let mut at = 0;
            let mut take = |field: &mut u64| -> Result<(), ArchiveError> {
                let bytes = body
                    .get(at..at + 8)
                    .ok_or_else(|| bad("short zip64 field"))?;
                *field = u64_at(bytes, 0);
                at += 8;
                Ok(())
            };
            if needs[0] {
                take(&mut entry.uncompressed)?;
            }
            if needs[1] {
                take(&mut entry.compressed)?;
            }
            if needs[2] {
                take(&mut entry.local_offset)?;
            }
            return Ok(());
        }
        extra = &extra[4 + len..];
    }
    Err(bad("a member needs a zip64 field that is missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_continuations_and_repeats() {
        let text = "Metadata-Version: 2.1\r\nName: Demo_Pkg\r\nVersion: 1.0.post1\r\n\
            Requires-Dist: numpy>=1.22\r\nRequires-Dist: torch ; sys_platform == \"linux\"\r\n\
            Requires-Dist: rich\r\n  [jupyter] ; extra == \"nb\"\r\nProvides-Extra: nb\r\n\
            Requires-Python: >=3.9\r\n\r\nRequires-Dist: not-a-header\r\n";
        let meta = parse_core_metadata(text).unwrap();
        assert_eq!(meta.name, "Demo_Pkg");
        assert_eq!(meta.version, Version::from_str("1.0.post1").unwrap());
        let names: Vec<String> = meta
            .requires_dist
            .iter()
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(names, ["numpy", "torch", "rich"]);
        assert_eq!(meta.requires_dist[2].extras.len(), 1);
        assert!(meta.requires_dist[1].marker.try_to_string().is_some());
        assert_eq!(meta.provides_extra[0].as_ref(), "nb");
        assert_eq!(meta.requires_python.unwrap().to_string(), ">=3.9");
        assert!(meta.problems.is_empty(), "{:?}", meta.problems);
    }

    #[test]
    fn bad_values_are_problems_not_panics() {
        // `foo- x` makes pep508_rs 0.9.2 panic when parsed directly.
        let text = "Name: a\nVersion: 1\nRequires-Dist: foo- x\nRequires-Dist: ok\n\
            Requires-Python: >=>3\nProvides-Extra: -bad-\n";
        let meta = parse_core_metadata(text).unwrap();
        assert_eq!(meta.requires_dist.len(), 1);
        let fields: Vec<&str> = meta.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["Requires-Dist", "Requires-Python", "Provides-Extra"]
        );
    }

    #[test]
    fn name_and_version_are_required() {
        assert!(parse_core_metadata("Version: 1\n").is_err());
        assert!(parse_core_metadata("Name: a\n").is_err());
        assert!(parse_core_metadata("Name: a\nVersion: one\n").is_err());
    }

    fn file(filename: &str, pep658: bool, yanked: bool) -> DistFile {
        DistFile {
            filename: filename.to_owned(),
            url: Url::parse("https://files.example/x").unwrap(),
            hashes: Default::default(),
            requires_python: None,
            yanked,
            yanked_reason: None,
            core_metadata: if pep658 {
                CoreMetadata::Available {
                    hashes: Default::default(),
                }
            } else {
                CoreMetadata::Absent
            },
            size: None,
            upload_time: None,
        }
    }

    #[test]
    fn picks_the_cheapest_safe_file() {
        let sdist = file("demo-1.0.tar.gz", false, false);
        let linux = file(
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            false,
            false,
        );
        let pure = file("demo-1.0-py3-none-any.whl", false, false);
        let egg = file("demo-1.0-py2.7.egg", false, false);
        let pick = |files: &[&DistFile]| pick_metadata_file(files).map(|f| f.filename.clone());
        assert_eq!(pick(&[&sdist, &linux, &pure]), Some(pure.filename.clone()));
        assert_eq!(pick(&[&sdist, &linux]), Some(linux.filename.clone()));
        assert_eq!(pick(&[&egg, &sdist]), Some(sdist.filename.clone()));
        assert_eq!(pick(&[&egg]), None);
        let sdist_658 = file("demo-1.0.tar.gz", true, false);
        assert_eq!(pick(&[&pure, &sdist_658]), Some(pure.filename.clone()));
        let linux_658 = file("demo-1.0-cp312-cp312-win_amd64.whl", true, false);
        assert_eq!(pick(&[&pure, &linux_658]), Some(linux_658.filename.clone()));
        let yanked = file("demo-1.0-py3-none-any.whl", true, true);
        assert_eq!(pick(&[&yanked, &linux]), Some(linux.filename.clone()));
    }

    fn targz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (path, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, path, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn sdist_pkg_info_is_found_bounded_and_checked() {
        let ok = targz(&[
            ("./demo-1.0/setup.py", b"x"),
            ("./demo-1.0/PKG-INFO", b"Name: demo\nVersion: 1.0\n"),
        ]);
        assert_eq!(
            sdist_pkg_info_targz(&ok).unwrap(),
            b"Name: demo\nVersion: 1.0\n"
        );
        let huge = vec![b' '; MAX_METADATA_BYTES + 1];
        let bomb = targz(&[("demo-1.0/PKG-INFO", &huge)]);
        assert!(bomb.len() < 1024 * 1024);
        assert!(matches!(
            sdist_pkg_info_targz(&bomb),
            Err(ArchiveError::TooLarge(..))
        ));
        let missing = targz(&[("demo-1.0/src/demo.egg-info/PKG-INFO", b"Name: x\n")]);
        assert!(matches!(
            sdist_pkg_info_targz(&missing),
            Err(ArchiveError::Malformed(_))
        ));
        assert!(sdist_pkg_info_targz(b"not gzip at all").is_err());
    }

    proptest::proptest! {
        /// Whatever the bytes and however they arrived in pieces, the zip reader answers
        /// (an error, a range to fetch, or content) and never panics.
        #[test]
        fn zip_reader_never_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..4),
            eocd_at in 0usize..400,
        ) {
            let mut bytes = bytes;
            // Plant an EOCD signature so the deeper paths are reached too.
            if bytes.len() >= 22 {
                let at = eocd_at % (bytes.len() - 21);
                bytes[at..at + 4].copy_from_slice(&EOCD_SIG.to_le_bytes());
                let comment = (bytes.len() - at - 22) as u16;
                bytes[at + 20..at + 22].copy_from_slice(&comment.to_le_bytes());
            }
            let mut zip = Sparse::new(bytes.len() as u64);
            let mut start = 0;
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c < bytes.len()).collect();
            cuts.sort_unstable();
            for cut in cuts.into_iter().chain([bytes.len()]) {
                if cut > start {
                    zip.insert(start as u64, bytes[start..cut].to_vec());
                    start = cut;
                }
            }
            let _ = read_zip_member(&zip, &|_| true);
        }
    }

    fn real_zip() -> Vec<u8> {
        use std::io::Write;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("demo/__init__.py", options).unwrap();
        zip.write_all(b"X = 1\n").unwrap();
        zip.start_file("demo-1.0.dist-info/METADATA", options.large_file(true))
            .unwrap();
        zip.write_all(b"Name: demo\nVersion: 1.0\n").unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn real_zip_reads() {
        let bytes = real_zip();
        let mut zip = Sparse::new(bytes.len() as u64);
        zip.insert(0, bytes);
        let wanted = |n: &str| is_wheel_metadata(n, "demo-1.0-py3-none-any.whl");
        assert_eq!(
            read_zip_member(&zip, &wanted),
            Ok(Step::Done(b"Name: demo\nVersion: 1.0\n".to_vec()))
        );
    }

    proptest::proptest! {
        /// A real zip with bytes changed anywhere (headers, sizes, offsets, zip64 fields) gives
        /// an error, a range to fetch, or content, and never panics or reads out of bounds.
        #[test]
        fn damaged_zip_never_panics(
            changes in proptest::collection::vec((0usize..1000, proptest::num::u8::ANY), 1..6),
        ) {
            let mut bytes = real_zip();
            for (at, value) in changes {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            let mut zip = Sparse::new(bytes.len() as u64);
            zip.insert(0, bytes);
            let _ = read_zip_member(&zip, &|n| n.ends_with("METADATA"));
        }
    }

    #[test]
    fn short_tail_asks_for_more() {
        let mut zip = Sparse::new(1000);
        zip.insert(995, vec![0; 5]);
        assert!(matches!(
            read_zip_member(&zip, &|_| true),
            Ok(Step::Need { end: 1000, .. })
        ));
    }

    #[test]
    fn member_names() {
        let wheel = "Demo_Pkg-1.0-py3-none-any.whl";
        assert!(is_wheel_metadata("demo_pkg-1.0.dist-info/METADATA", wheel));
        assert!(!is_wheel_metadata("other-1.0.dist-info/METADATA", wheel));
        assert!(!is_wheel_metadata(
            "x/demo_pkg-1.0.dist-info/METADATA",
            wheel
        ));
        assert!(is_sdist_pkg_info("demo-1.0/PKG-INFO"));
        assert!(!is_sdist_pkg_info("demo-1.0/src/demo.egg-info/PKG-INFO"));
        assert!(!is_sdist_pkg_info("PKG-INFO"));
    }

    #[test]
    fn truncated_and_garbage_zips_are_errors() {
        let mut zip = Sparse::new(100);
        zip.insert(0, vec![0; 100]);
        assert!(matches!(
            read_zip_member(&zip, &|_| true),
            Err(ArchiveError::Malformed(_))
        ));
        // An EOCD claiming a directory past its own position.
        let mut bytes = vec![0u8; 22];
        bytes[..4].copy_from_slice(&EOCD_SIG.to_le_bytes());
        bytes[10..12].copy_from_slice(&1u16.to_le_bytes());
        bytes[12..16].copy_from_slice(&100u32.to_le_bytes());
        let mut zip = Sparse::new(22);
        zip.insert(0, bytes);
        assert!(matches!(
            read_zip_member(&zip, &|_| true),
            Err(ArchiveError::Malformed(_))
        ));
    }
}
