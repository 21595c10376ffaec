//! Distribution files for the metadata tests: real wheels (zip) and sdists (tar.gz) built at
//! test time, served by the local index with HTTP range support (or without, on request).

use std::io::{Cursor, Write};
use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::index_server::{IndexServer, JSON_TYPE};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Core metadata text for `name` `version` with these `Requires-Dist` lines.
pub fn metadata_text(name: &str, version: &str, requires: &[&str]) -> String {
    let mut text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        text.push_str(&format!("Requires-Dist: {r}\n"));
    }
    text.push_str("Requires-Python: >=3.8\n\nA description that is not a header: yes.\n");
    text
}

/// Bytes that deflate cannot shrink (a fixed xorshift stream), to make archives big.
pub fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Where the dist-info files sit in a built wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataAt {
    /// Written last, as build backends do: near the central directory.
    End,
    /// Written first, before `filler` bytes of module data.
    Start,
}

/// A wheel `{name}-{version}-py3-none-any.whl` holding `metadata` as its METADATA (deflated),
/// with `filler` incompressible bytes of module data before or after the dist-info files.
pub fn build_wheel(
    name: &str,
    version: &str,
    metadata: &str,
    at: MetadataAt,
    filler: usize,
) -> Vec<u8> {
    let dist = name.replace('-', "_");
    let info = format!("{dist}-{version}.dist-info");
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let module = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>| {
        zip.start_file(format!("{dist}/__init__.py"), deflated)
            .unwrap();
        zip.write_all(b"VALUE = 1\n").unwrap();
        zip.start_file(format!("{dist}/blob.bin"), stored).unwrap();
        zip.write_all(&incompressible(filler)).unwrap();
    };
    if at == MetadataAt::End {
        module(&mut zip);
    }
    zip.start_file(format!("{info}/METADATA"), deflated)
        .unwrap();
    zip.write_all(metadata.as_bytes()).unwrap();
    zip.start_file(format!("{info}/WHEEL"), deflated).unwrap();
    zip.write_all(
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    )
    .unwrap();
    if at == MetadataAt::Start {
        module(&mut zip);
    }
    zip.start_file(format!("{info}/RECORD"), deflated).unwrap();
    zip.write_all(b"").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A zip whose only member is `member` with `content`, written with the given options.
pub fn build_zip(member: &str, content: &[u8], options: SimpleFileOptions) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(member, options).unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap().into_inner()
}

/// A `.tar.gz` sdist `{name}-{version}/` with `PKG-INFO` = `pkg_info` (after some other files)
/// and a nested `*.egg-info/PKG-INFO` decoy that must not be read.
pub fn build_sdist(name: &str, version: &str, pkg_info: &str) -> Vec<u8> {
    let top = format!("{name}-{version}");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut add = |path: String, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, path, data).unwrap();
    };
    add(
        format!("{top}/setup.py"),
        b"raise SystemExit('never run')\n",
    );
    add(
        format!("{top}/src/{name}.egg-info/PKG-INFO"),
        b"Metadata-Version: 2.2\nName: decoy\nVersion: 9\n",
    );
    add(format!("{top}/PKG-INFO"), pkg_info.as_bytes());
    tar.into_inner().unwrap().finish().unwrap()
}

/// Serves a file's bytes, honouring `Range` (`bytes=-n`, `bytes=a-b`, `bytes=a-`) unless told
/// to ignore it (then every answer is 200 with the whole body, as some servers do).
pub struct RangeFile {
    pub bytes: Arc<Vec<u8>>,
    pub ranges: bool,
}

impl Respond for RangeFile {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let len = self.bytes.len() as u64;
        let whole = || ResponseTemplate::new(200).set_body_bytes(self.bytes.as_slice());
        let Some(range) = request
            .headers
            .get("range")
            .and_then(|v| v.to_str().ok())
            .filter(|_| self.ranges)
        else {
            return whole();
        };
        let Some(spec) = range.strip_prefix("bytes=") else {
            return whole();
        };
        let (a, b) = spec.split_once('-').unwrap_or((spec, ""));
        let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
            (Err(_), Ok(n)) => (len.saturating_sub(n), len - 1),
            (Ok(s), Ok(e)) => (s, e.min(len - 1)),
            (Ok(s), Err(_)) => (s, len - 1),
            _ => return ResponseTemplate::new(416),
        };
        if start > end || start >= len {
            return ResponseTemplate::new(416)
                .insert_header("Content-Range", format!("bytes */{len}").as_str());
        }
        ResponseTemplate::new(206)
            .insert_header(
                "Content-Range",
                format!("bytes {start}-{end}/{len}").as_str(),
            )
            .set_body_bytes(&self.bytes[start as usize..=end as usize])
    }
}

/// The path of file `filename` on the test index (`FileSpec`'s relative links land here).
pub fn file_path(filename: &str) -> String {
    format!("/files/{filename}")
}

/// Mounts `bytes` at `/files/<filename>`.
pub async fn serve_file(server: &IndexServer, filename: &str, bytes: Vec<u8>, ranges: bool) {
    Mock::given(method("GET"))
        .and(path(file_path(filename)))
        .respond_with(RangeFile {
            bytes: Arc::new(bytes),
            ranges,
        })
        .with_priority(10)
        .mount(&server.server)
        .await;
}

/// Mounts a PEP 658 metadata file at `/files/<filename>.metadata`.
pub async fn serve_metadata_file(server: &IndexServer, filename: &str, text: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{}.metadata", file_path(filename))))
        .respond_with(ResponseTemplate::new(200).set_body_string(text.to_owned()))
        .with_priority(10)
        .mount(&server.server)
        .await;
}

/// One file of a project page: its name, bytes' sha256 and size, and the PEP 658/714
/// `core-metadata` value (`true`, a hash map, or absent).
pub struct PageFile {
    pub filename: String,
    pub sha256: Option<String>,
    pub size: u64,
    pub core_metadata: Option<Value>,
}

impl PageFile {
    pub fn new(filename: &str, bytes: &[u8]) -> PageFile {
        PageFile {
            filename: filename.to_owned(),
            sha256: Some(sha256_hex(bytes)),
            size: bytes.len() as u64,
            core_metadata: None,
        }
    }

    /// Advertises `<url>.metadata` with the sha256 of `text`.
    pub fn with_metadata(mut self, text: &str) -> PageFile {
        self.core_metadata = Some(json!({ "sha256": sha256_hex(text.as_bytes()) }));
        self
    }
}

/// Serves a PEP 691 page for `name` listing `files` (relative links into `/files/`).
pub async fn serve_page(server: &IndexServer, name: &str, files: &[PageFile]) {
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let mut file = json!({
                "filename": f.filename,
                "url": format!("../..{}", file_path(&f.filename)),
                "hashes": f.sha256.as_ref().map(|h| json!({"sha256": h})).unwrap_or(json!({})),
                "size": f.size,
            });
            if let Some(core) = &f.core_metadata {
                file["core-metadata"] = core.clone();
            }
            file
        })
        .collect();
    let page = json!({"meta": {"api-version": "1.1"}, "name": name, "files": files});
    server
        .respond(
            name,
            ResponseTemplate::new(200)
                .insert_header("Content-Type", JSON_TYPE)
                .insert_header("ETag", "\"page-v1\"")
                .set_body_string(page.to_string()),
        )
        .await;
}

/// Requests received for `path_`, with their `Range` headers.
pub async fn requests_for(server: &IndexServer, path_: &str) -> Vec<Option<String>> {
    server
        .requests()
        .await
        .iter()
        .filter(|r| r.url.path() == path_)
        .map(|r| {
            r.headers
                .get("range")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect()
}
