//! Real distribution files built at test time: wheels and sdists that real pip accepts and installs.
//!
//! A wheel is a zip with `{dist}-{ver}.dist-info/{METADATA,WHEEL,RECORD}` (RECORD with the true
//! sha256 and size of every member) and one module. An sdist is a `.tar.gz` with `PKG-INFO` and an
//! in-tree PEP 517 backend (`requires = []`), so pip can build it in an isolated environment without
//! fetching setuptools from anywhere.
//!
//! ```ignore
//! let catalogue = Catalogue::new()
//!     .project(Project::new("alpha").release(Release::new("1.0").wheel().sdist()))
//!     .build();
//! catalogue.serve(&server, PageFormat::Negotiate).await;
//! let hashes = catalogue.hashes("alpha", "1.0");
//! ```
//! Every build is deterministic (fixed timestamps, fixed order), so the same catalogue always has the
//! same hashes.

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::index_server::{FileSpec, IndexServer, JsonPage, html_page};

/// The tag of a pure-Python wheel.
pub const PURE: &str = "py3-none-any";

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The PEP 503 normalised name: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
}

/// The name as it appears in wheel and sdist file names and in `.dist-info` (PEP 427 / PEP 625).
pub fn escaped(name: &str) -> String {
    normalize(name).replace('-', "_")
}

pub fn wheel_filename(name: &str, version: &str, tag: &str) -> String {
    format!("{}-{version}-{tag}.whl", escaped(name))
}

pub fn sdist_filename(name: &str, version: &str) -> String {
    format!("{}-{version}.tar.gz", escaped(name))
}

/// What goes into the core metadata of one release.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub requires_python: Option<String>,
    pub extras: Vec<String>,
    /// `Requires-Dist` values, PEP 508 (with markers and `extra == "…"`).
    pub requires_dist: Vec<String>,
}

impl Meta {
    /// `METADATA` / `PKG-INFO` text.
    pub fn text(&self) -> String {
        let mut text = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: mlsupply test fixture\n",
            self.name, self.version
        );
        if let Some(rp) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {rp}\n"));
        }
        for extra in &self.extras {
            text.push_str(&format!("Provides-Extra: {extra}\n"));
        }
        for req in &self.requires_dist {
            text.push_str(&format!("Requires-Dist: {req}\n"));
        }
        text
    }

    fn module(&self) -> String {
        escaped(&self.name)
    }

    fn module_source(&self) -> String {
        format!(
            "\"\"\"mlsupply test fixture {} {}.\"\"\"\n__version__ = \"{}\"\n",
            self.name, self.version, self.version
        )
    }

    fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", escaped(&self.name), self.version)
    }
}

/// A RECORD line's hash: `sha256=` and urlsafe base64 without padding (PEP 376 / PEP 427).
fn record_hash(bytes: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)))
}

/// The bytes of a wheel for `meta` with the compatibility `tag` (e.g. `py3-none-any`,
/// `cp311-cp311-manylinux_2_17_x86_64`).
pub fn wheel_bytes(meta: &Meta, tag: &str) -> Vec<u8> {
    let dist_info = meta.dist_info();
    let pure = tag.ends_with("-none-any");
    let mut members: Vec<(String, Vec<u8>)> = vec![
        (
            format!("{}/__init__.py", meta.module()),
            meta.module_source().into_bytes(),
        ),
        (format!("{dist_info}/METADATA"), meta.text().into_bytes()),
    ];
    let mut wheel =
        format!("Wheel-Version: 1.0\nGenerator: mlsupply-tests\nRoot-Is-Purelib: {pure}\n");
    for expanded in expand_tag(tag) {
        wheel.push_str(&format!("Tag: {expanded}\n"));
    }
    members.push((format!("{dist_info}/WHEEL"), wheel.into_bytes()));
    let mut record = String::new();
    for (path, bytes) in &members {
        record.push_str(&format!("{path},{},{}\n", record_hash(bytes), bytes.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    members.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // The zip crate's default timestamp is fixed (1980-01-01), which keeps the bytes deterministic.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, bytes) in &members {
        zip.start_file(path.as_str(), options)
            .expect("zip member starts");
        zip.write_all(bytes).expect("zip member written");
    }
    zip.finish().expect("zip finishes").into_inner()
}

/// A compressed tag set (`py2.py3-none-any`) stands for every combination.
fn expand_tag(tag: &str) -> Vec<String> {
    let parts: Vec<&str> = tag.splitn(3, '-').collect();
    let [python, abi, platform] = parts[..] else {
        panic!("wheel tag {tag:?} is not python-abi-platform");
    };
    let mut out = Vec::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for pl in platform.split('.') {
                out.push(format!("{p}-{a}-{pl}"));
            }
        }
    }
    out
}

/// An in-tree PEP 517 backend: pip runs it with the unpacked sdist as working directory. It builds
/// the same wheel that [`wheel_bytes`] builds for a pure tag, from the files in the sdist.
const BACKEND: &str = r#""""In-tree build backend of an mlsupply test sdist (no build dependencies)."""
import base64
import hashlib
import os
import zipfile

MODULE = "@MODULE@"
DIST_INFO = "@DIST_INFO@"
WHEEL_NAME = "@WHEEL_NAME@"
WHEEL = "Wheel-Version: 1.0\nGenerator: mlsupply-tests-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    target = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "METADATA"), "wb") as f:
        f.write(_read("PKG-INFO"))
    with open(os.path.join(target, "WHEEL"), "w") as f:
        f.write(WHEEL)
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    members = [
        (MODULE + "/__init__.py", _read(os.path.join(MODULE, "__init__.py"))),
        (DIST_INFO + "/METADATA", _read("PKG-INFO")),
        (DIST_INFO + "/WHEEL", WHEEL.encode()),
    ]
    record = ""
    for path, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (path, digest, len(data))
    record += DIST_INFO + "/RECORD,,\n"
    members.append((DIST_INFO + "/RECORD", record.encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, WHEEL_NAME), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in members:
            z.writestr(path, data)
    return WHEEL_NAME
"#;

/// The bytes of an sdist (`.tar.gz`) for `meta`.
pub fn sdist_bytes(meta: &Meta) -> Vec<u8> {
    let base = format!("{}-{}", escaped(&meta.name), meta.version);
    let backend = BACKEND
        .replace("@MODULE@", &meta.module())
        .replace("@DIST_INFO@", &meta.dist_info())
        .replace(
            "@WHEEL_NAME@",
            &wheel_filename(&meta.name, &meta.version, PURE),
        );
    let pyproject = "[build-system]\nrequires = []\nbuild-backend = \"mlsupply_test_backend\"\nbackend-path = [\".\"]\n";
    let members: Vec<(String, Vec<u8>)> = vec![
        ("PKG-INFO".into(), meta.text().into_bytes()),
        ("pyproject.toml".into(), pyproject.as_bytes().to_vec()),
        ("mlsupply_test_backend.py".into(), backend.into_bytes()),
        (
            format!("{}/__init__.py", meta.module()),
            meta.module_source().into_bytes(),
        ),
    ];
    // mtime 0 in the gzip header and in every tar entry: deterministic bytes.
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(0);
    tar.append_data(&mut dir, format!("{base}/"), std::io::empty())
        .expect("tar directory");
    for (path, bytes) in &members {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        header.set_mtime(0);
        tar.append_data(&mut header, format!("{base}/{path}"), bytes.as_slice())
            .expect("tar member");
    }
    tar.into_inner()
        .expect("tar finishes")
        .finish()
        .expect("gzip finishes")
}

/// How a release is yanked (PEP 592).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Yank {
    No,
    /// Yanked without a reason (`"yanked": true`, bare `data-yanked`).
    Yes,
    Reason(String),
}

#[derive(Clone, Debug)]
pub enum Dist {
    Wheel(String),
    Sdist,
}

/// One version of a project and the files it publishes.
#[derive(Clone, Debug)]
pub struct Release {
    pub version: String,
    pub requires_python: Option<String>,
    pub requires_dist: Vec<String>,
    pub yank: Yank,
    pub dists: Vec<Dist>,
}

impl Release {
    pub fn new(version: &str) -> Release {
        Release {
            version: version.to_owned(),
            requires_python: None,
            requires_dist: Vec::new(),
            yank: Yank::No,
            dists: Vec::new(),
        }
    }

    /// A pure-Python wheel.
    pub fn wheel(self) -> Release {
        self.wheel_tag(PURE)
    }

    pub fn wheel_tag(mut self, tag: &str) -> Release {
        self.dists.push(Dist::Wheel(tag.to_owned()));
        self
    }

    pub fn sdist(mut self) -> Release {
        self.dists.push(Dist::Sdist);
        self
    }

    /// Written into the metadata and published on the index (`requires-python`).
    pub fn requires_python(mut self, spec: &str) -> Release {
        self.requires_python = Some(spec.to_owned());
        self
    }

    /// A `Requires-Dist` line of this release's metadata.
    pub fn requires(mut self, requirement: &str) -> Release {
        self.requires_dist.push(requirement.to_owned());
        self
    }

    pub fn yanked(mut self, reason: &str) -> Release {
        self.yank = if reason.is_empty() {
            Yank::Yes
        } else {
            Yank::Reason(reason.to_owned())
        };
        self
    }
}

/// A project: its name as published (not necessarily normalised) and its releases.
#[derive(Clone, Debug)]
pub struct Project {
    pub name: String,
    pub extras: Vec<String>,
    pub releases: Vec<Release>,
}

impl Project {
    pub fn new(name: &str) -> Project {
        Project {
            name: name.to_owned(),
            extras: Vec::new(),
            releases: Vec::new(),
        }
    }

    pub fn release(mut self, release: Release) -> Project {
        self.releases.push(release);
        self
    }

    /// Declared in every release's metadata (`Provides-Extra`), so pip does not warn about it.
    pub fn extra(mut self, extra: &str) -> Project {
        self.extras.push(extra.to_owned());
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub projects: Vec<Project>,
}

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue::default()
    }

    pub fn project(mut self, project: Project) -> Catalogue {
        self.projects.push(project);
        self
    }

    /// Builds every file of every release.
    pub fn build(&self) -> BuiltCatalogue {
        let mut files = Vec::new();
        for project in &self.projects {
            for release in &project.releases {
                let meta = Meta {
                    name: project.name.clone(),
                    version: release.version.clone(),
                    requires_python: release.requires_python.clone(),
                    extras: project.extras.clone(),
                    requires_dist: release.requires_dist.clone(),
                };
                for dist in &release.dists {
                    let (filename, bytes) = match dist {
                        Dist::Wheel(tag) => (
                            wheel_filename(&meta.name, &meta.version, tag),
                            wheel_bytes(&meta, tag),
                        ),
                        Dist::Sdist => (
                            sdist_filename(&meta.name, &meta.version),
                            sdist_bytes(&meta),
                        ),
                    };
                    files.push(BuiltFile {
                        project: normalize(&project.name),
                        version: release.version.clone(),
                        sha256: sha256_hex(&bytes),
                        filename,
                        bytes,
                        requires_python: release.requires_python.clone(),
                        yank: release.yank.clone(),
                    });
                }
            }
        }
        BuiltCatalogue { files }
    }
}

#[derive(Clone, Debug)]
pub struct BuiltFile {
    /// Normalised project name.
    pub project: String,
    pub version: String,
    pub filename: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub requires_python: Option<String>,
    pub yank: Yank,
}

impl BuiltFile {
    /// The index entry, linked relative to the project page (`../../files/<name>`).
    pub fn spec(&self) -> FileSpec {
        FileSpec {
            filename: self.filename.clone(),
            url: format!("../../files/{}", self.filename),
            sha256: Some(self.sha256.clone()),
            upload_time: None,
            requires_python: self.requires_python.clone(),
            yanked: match &self.yank {
                Yank::No => None,
                Yank::Yes => Some(json!(true)),
                Yank::Reason(reason) => Some(json!(reason)),
            },
            size: self.bytes.len() as u64,
        }
    }
}

/// How the project pages are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 JSON whatever the request asks for.
    Json,
    /// PEP 503 HTML only, like an index without the JSON API.
    Html,
    /// JSON when the `Accept` header asks for it, HTML otherwise (what PyPI does).
    Negotiate,
}

#[derive(Clone, Debug)]
pub struct BuiltCatalogue {
    pub files: Vec<BuiltFile>,
}

impl BuiltCatalogue {
    /// Normalised project names, sorted.
    pub fn projects(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.files.iter().map(|f| f.project.as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    }

    pub fn files_of(&self, project: &str) -> Vec<&BuiltFile> {
        let project = normalize(project);
        self.files.iter().filter(|f| f.project == project).collect()
    }

    pub fn file(&self, filename: &str) -> &BuiltFile {
        self.files
            .iter()
            .find(|f| f.filename == filename)
            .unwrap_or_else(|| panic!("no file {filename} in the catalogue"))
    }

    /// The sorted sha256 digests of every file of `project` `version`.
    pub fn hashes(&self, project: &str, version: &str) -> Vec<String> {
        let mut hashes: Vec<String> = self
            .files_of(project)
            .into_iter()
            .filter(|f| f.version == version)
            .map(|f| f.sha256.clone())
            .collect();
        assert!(
            !hashes.is_empty(),
            "no files for {project} {version} in the catalogue"
        );
        hashes.sort();
        hashes
    }

    /// The project's PEP 691 page. Files are listed newest version last but sdist before wheels
    /// and in reverse build order, so a client that trusts the listing order is caught out.
    pub fn json_page(&self, project: &str) -> JsonPage {
        let mut page = JsonPage::new(&normalize(project));
        let mut versions = Vec::new();
        for file in self.files_of(project).into_iter().rev() {
            page = page.file(file.spec());
            if !versions.contains(&file.version.as_str()) {
                versions.push(file.version.as_str());
            }
        }
        page.versions(&versions)
    }

    pub fn html_page(&self, project: &str) -> String {
        let specs: Vec<FileSpec> = self
            .files_of(project)
            .into_iter()
            .rev()
            .map(BuiltFile::spec)
            .collect();
        html_page(&specs)
    }

    /// Mounts every project page and every file on `server`.
    pub async fn serve(&self, server: &IndexServer, format: PageFormat) {
        for project in self.projects() {
            let json = self.json_page(&project).to_json().to_string();
            let html = self.html_page(&project);
            match format {
                PageFormat::Json => {
                    server
                        .json_project(&project, &self.json_page(&project))
                        .await
                }
                PageFormat::Html => server.html_project(&project, &html).await,
                PageFormat::Negotiate => server.negotiated_project(&project, json, html).await,
            }
        }
        for file in &self.files {
            server.serve_file(&file.filename, file.bytes.clone()).await;
        }
    }
}
