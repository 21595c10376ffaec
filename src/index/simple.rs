//! The Simple Repository API: PEP 691 JSON and PEP 503 HTML pages, read into one model.
//!
//! Both parsers are pure (bytes and the page URL in, model out) so that they are tested without a
//! server. Unknown keys are ignored, as PEP 691 asks; only the major API version is enforced.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use jiff::Timestamp;
use pep440_rs::Version;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use url::Url;

use crate::typo::normalize;

/// The media type of PEP 691 JSON pages.
pub const JSON_MEDIA_TYPE: &str = "application/vnd.pypi.simple.v1+json";
/// What pip sends: JSON preferred, HTML accepted.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// A `major.minor` API version (`meta.api-version`, or PEP 629's `pypi:repository-version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    /// The newest version this client knows: PEP 700's 1.1 (newer 1.x minors still parse).
    pub const SUPPORTED: ApiVersion = ApiVersion { major: 1, minor: 1 };

    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Whether the core metadata of a file is served at `<file-url>.metadata` (PEP 658/714).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CoreMetadata {
    #[default]
    Absent,
    /// Served; `hashes` (algorithm → lower-case hex) may be empty.
    Available { hashes: BTreeMap<String, String> },
}

/// The kind of a distribution file, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistKind {
    Wheel,
    Sdist,
    /// Eggs, `.exe` installers and anything else pip no longer installs.
    Other,
}

/// One file of a project page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistFile {
    pub filename: String,
    /// Absolute (relative links are resolved against the page URL), without credentials and
    /// without the hash fragment.
    pub url: Url,
    /// Algorithm (lower case) → hex digest (lower case). May be empty: never invent a hash.
    pub hashes: BTreeMap<String, String>,
    /// The `Requires-Python` specifier, HTML-unescaped, as written by the index.
    pub requires_python: Option<String>,
    pub yanked: bool,
    /// The reason given for the yank, if any.
    pub yanked_reason: Option<String>,
    pub core_metadata: CoreMetadata,
    /// Bytes (PEP 700; JSON pages only).
    pub size: Option<u64>,
    /// PEP 700 upload time (JSON pages only).
    pub upload_time: Option<Timestamp>,
}

impl DistFile {
    /// The sha256 digest, when the index gives one.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes.get("sha256").map(String::as_str)
    }

    pub fn kind(&self) -> DistKind {
        let lower = self.filename.to_ascii_lowercase();
        if lower.ends_with(".whl") {
            DistKind::Wheel
        } else if SDIST_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
            DistKind::Sdist
        } else {
            DistKind::Other
        }
    }

    /// The version in the file name of project `project` (any spelling), or `None` when the name
    /// is not a wheel or sdist of that project or the version is not PEP 440.
    pub fn version(&self, project: &str) -> Option<Version> {
        filename_version(&self.filename, project)
    }
}

const SDIST_SUFFIXES: &[&str] = &[".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"];

/// Parses the version out of a wheel (`{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`) or sdist
/// (`{name}-{ver}.tar.gz`) file name. Old sdists keep `-` in the name (`python-dateutil-2.8.2`),
/// so the split point is where the prefix normalises to the project name.
pub fn filename_version(filename: &str, project: &str) -> Option<Version> {
    let wanted = normalize(project);
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        let stem = &filename[..filename.len() - 4];
        let parts: Vec<&str> = stem.split('-').collect();
        if !(parts.len() == 5 || parts.len() == 6) || normalize(parts[0]) != wanted {
            return None;
        }
        return Version::from_str(parts[1]).ok();
    }
    let suffix = SDIST_SUFFIXES.iter().find(|s| lower.ends_with(*s))?;
    let stem = &filename[..filename.len() - suffix.len()];
    stem.match_indices('-')
        .filter(|(at, _)| normalize(&stem[..*at]) == wanted)
        .find_map(|(at, _)| Version::from_str(&stem[at + 1..]).ok())
}

/// The project page of one index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectPage {
    /// The name as the index spells it (JSON `name`), else the normalised requested name.
    pub name: String,
    /// The URL the page was read from (after redirects), without credentials.
    pub url: Url,
    /// `None` for HTML pages that do not declare one (PEP 629 made it optional).
    pub api_version: Option<ApiVersion>,
    pub files: Vec<DistFile>,
    /// PEP 700 `versions`, as given: unordered, possibly with versions that have no files or
    /// that are not PEP 440. `None` when the index does not give the key.
    pub versions: Option<Vec<String>>,
}

impl ProjectPage {
    /// The files grouped by the version in their names, in PEP 440 order.
    pub fn versions_of(&self) -> BTreeMap<Version, Vec<&DistFile>> {
        versions_of(&self.name, &self.files)
    }

    /// PEP 700 `versions` that parse as PEP 440, de-duplicated (`1.0` and `1.0.0` are one).
    pub fn declared_versions(&self) -> Option<BTreeSet<Version>> {
        self.versions.as_ref().map(|all| {
            all.iter()
                .filter_map(|v| Version::from_str(v).ok())
                .collect()
        })
    }
}

/// Groups `files` of project `project` by the version parsed from each file name, sorted by
/// PEP 440 (never by listing order, which indexes do not guarantee). Files whose name carries no
/// PEP 440 version of this project are left out.
pub fn versions_of<'a>(
    project: &str,
    files: &'a [DistFile],
) -> BTreeMap<Version, Vec<&'a DistFile>> {
    let mut out: BTreeMap<Version, Vec<&DistFile>> = BTreeMap::new();
    for file in files {
        if let Some(version) = file.version(project) {
            out.entry(version).or_default().push(file);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PEP 691 JSON

/// A page's `name`, `versions` and `files`, each file turned into a [`DistFile`] as soon as
/// it is read: a page of a hundred thousand files is never held twice (as JSON structs, then
/// as the model).
struct JsonPage {
    name: String,
    files: Vec<DistFile>,
    versions: Option<Vec<String>>,
}

/// Reads a [`JsonPage`] served at `page_url` (relative file links resolve against it).
struct PageSeed<'a> {
    page_url: &'a Url,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = JsonPage;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<JsonPage, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = JsonPage;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a PEP 691 project page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonPage, A::Error> {
        let (mut name, mut files, mut versions) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = Some(map.next_value()?),
                "files" => {
                    files = Some(map.next_value_seed(FilesSeed {
                        page_url: self.page_url,
                    })?)
                }
                "versions" => versions = map.next_value()?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(JsonPage {
            name: name.ok_or_else(|| de::Error::missing_field("name"))?,
            files: files.ok_or_else(|| de::Error::missing_field("files"))?,
            versions,
        })
    }
}

/// The `files` list, each element converted as it is read.
struct FilesSeed<'a> {
    page_url: &'a Url,
}

impl<'de> DeserializeSeed<'de> for FilesSeed<'_> {
    type Value = Vec<DistFile>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<DistFile>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_> {
    type Value = Vec<DistFile>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of files")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<DistFile>, A::Error> {
        let mut files = Vec::new();
        while let Some(file) = seq.next_element::<JsonFile>()? {
            let file = dist_file(file, self.page_url).map_err(|e| match e {
                PageError::Malformed(message) | PageError::UnsupportedApiVersion(message) => {
                    de::Error::custom(message)
                }
            })?;
            files.push(file);
        }
        Ok(files)
    }
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: String,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<BoolOrHashes>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<BoolOrHashes>,
    #[serde(default)]
    yanked: Option<BoolOrString>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrHashes {
    Bool(bool),
    Hashes(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrString {
    Bool(bool),
    Reason(String),
}

/// Why a page could not be read; the caller adds the project and index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageError {
    Malformed(String),
    UnsupportedApiVersion(String),
}

fn check_api_version(text: &str) -> Result<ApiVersion, PageError> {
    let version =
        ApiVersion::parse(text).ok_or_else(|| PageError::UnsupportedApiVersion(text.to_owned()))?;
    if version.major != ApiVersion::SUPPORTED.major {
        return Err(PageError::UnsupportedApiVersion(text.to_owned()));
    }
    Ok(version)
}

fn lower_hashes(hashes: BTreeMap<String, String>) -> BTreeMap<String, String> {
    hashes
        .into_iter()
        .map(|(alg, hex)| (alg.to_ascii_lowercase(), hex.trim().to_ascii_lowercase()))
        .collect()
}

/// Resolves a file link against the page URL and moves a `#alg=hex` fragment into `hashes`.
/// Credentials are dropped: the client adds them per host, so they never sit in a model URL.
fn resolve_file_url(
    page: &Url,
    href: &str,
    hashes: &mut BTreeMap<String, String>,
) -> Result<Url, PageError> {
    let mut url = page
        .join(href.trim())
        .map_err(|e| PageError::Malformed(format!("bad file link `{}`: {e}", clip(href))))?;
    if let Some((alg, hex)) = url.fragment().and_then(|f| f.split_once('=')) {
        let alg = alg.to_ascii_lowercase();
        if !alg.is_empty() && !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            // A hash the page states in `hashes` wins over the link's fragment.
            hashes
                .entry(alg)
                .or_insert_with(|| hex.to_ascii_lowercase());
        }
    }
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// Shortens untrusted text quoted in an error.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(120).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// Parses a PEP 691 JSON page served at `page_url`.
pub fn parse_json(body: &[u8], page_url: &Url) -> Result<ProjectPage, PageError> {
    // Read `meta` first so that a future major version is reported as such, not as a shape error.
    #[derive(Deserialize)]
    struct MetaOnly {
        meta: JsonMeta,
    }
    let meta: MetaOnly = serde_json::from_slice(body)
        .map_err(|e| PageError::Malformed(format!("not a PEP 691 JSON page: {e}")))?;
    let api_version = check_api_version(&meta.meta.api_version)?;
    let mut reader = serde_json::Deserializer::from_slice(body);
    let page = PageSeed { page_url }
        .deserialize(&mut reader)
        .and_then(|page| reader.end().map(|()| page))
        .map_err(|e| PageError::Malformed(format!("not a PEP 691 JSON page: {e}")))?;
    Ok(ProjectPage {
        name: page.name,
        url: page_url.clone(),
        api_version: Some(api_version),
        files: page.files,
        versions: page.versions,
    })
}

/// One file of a JSON page as the model has it.
fn dist_file(file: JsonFile, page_url: &Url) -> Result<DistFile, PageError> {
    let mut hashes = lower_hashes(file.hashes);
    let url = resolve_file_url(page_url, &file.url, &mut hashes)?;
    let core_metadata = match file.core_metadata.or(file.dist_info_metadata) {
        None | Some(BoolOrHashes::Bool(false)) => CoreMetadata::Absent,
        Some(BoolOrHashes::Bool(true)) => CoreMetadata::Available {
            hashes: BTreeMap::new(),
        },
        Some(BoolOrHashes::Hashes(h)) => CoreMetadata::Available {
            hashes: lower_hashes(h),
        },
    };
    let (yanked, yanked_reason) = match file.yanked {
        None | Some(BoolOrString::Bool(false)) => (false, None),
        Some(BoolOrString::Bool(true)) => (true, None),
        Some(BoolOrString::Reason(r)) => (true, Some(r).filter(|r| !r.is_empty())),
    };
    Ok(DistFile {
        filename: file.filename,
        url,
        hashes,
        requires_python: file.requires_python.filter(|s| !s.trim().is_empty()),
        yanked,
        yanked_reason,
        core_metadata,
        size: file.size,
        // An unreadable optional timestamp is dropped rather than failing the whole page.
        upload_time: file.upload_time.and_then(|t| t.parse::<Timestamp>().ok()),
    })
}

// ---------------------------------------------------------------------------------------------
// PEP 503 HTML

/// Parses a PEP 503 HTML page for project `name` served at `page_url`.
pub fn parse_html(body: &[u8], page_url: &Url, name: &str) -> Result<ProjectPage, PageError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| PageError::Malformed(format!("HTML page is not UTF-8: {e}")))?;
    let dom = tl::parse(text, tl::ParserOptions::default())
        .map_err(|e| PageError::Malformed(format!("unreadable HTML: {e}")))?;
    let parser = dom.parser();
    let attr = |tag: &tl::HTMLTag, key: &str| -> Option<Option<String>> {
        tag.attributes().get(key).map(|value| {
            value.map(|v| html_escape::decode_html_entities(&v.as_utf8_str()).into_owned())
        })
    };

    let mut api_version = None;
    let mut base = page_url.clone();
    let mut anchors = Vec::new();
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        let tag_name = tag.name().as_utf8_str();
        if tag_name.eq_ignore_ascii_case("meta") {
            if attr(tag, "name").flatten().as_deref() == Some("pypi:repository-version") {
                let content = attr(tag, "content").flatten().unwrap_or_default();
                api_version = Some(check_api_version(&content)?);
            }
        } else if tag_name.eq_ignore_ascii_case("base") {
            // pip honours <base href>: relative links resolve against it.
            if let Some(Some(href)) = attr(tag, "href") {
                base = page_url.join(href.trim()).map_err(|e| {
                    PageError::Malformed(format!("bad <base href> `{}`: {e}", clip(&href)))
                })?;
            }
        } else if tag_name.eq_ignore_ascii_case("a") {
            anchors.push(tag);
        }
    }

    let mut files = Vec::with_capacity(anchors.len());
    for tag in anchors {
        let Some(Some(href)) = attr(tag, "href") else {
            continue;
        };
        let mut hashes = BTreeMap::new();
        let url = resolve_file_url(&base, &href, &mut hashes)?;
        let filename = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                html_escape::decode_html_entities(tag.inner_text(parser).trim()).into_owned()
            });
        let (yanked, yanked_reason) = match attr(tag, "data-yanked") {
            None => (false, None),
            Some(reason) => (true, reason.filter(|r| !r.trim().is_empty())),
        };
        let metadata =
            attr(tag, "data-core-metadata").or_else(|| attr(tag, "data-dist-info-metadata"));
        let core_metadata = match metadata {
            None => CoreMetadata::Absent,
            Some(value) => {
                let value = value.unwrap_or_default();
                let value = value.trim();
                if value.eq_ignore_ascii_case("false") {
                    CoreMetadata::Absent
                } else {
                    let mut hashes = BTreeMap::new();
                    if let Some((alg, hex)) = value.split_once('=') {
                        hashes.insert(alg.to_ascii_lowercase(), hex.to_ascii_lowercase());
                    }
                    CoreMetadata::Available { hashes }
                }
            }
        };
        files.push(DistFile {
            filename,
            url,
            hashes,
            requires_python: attr(tag, "data-requires-python")
                .flatten()
                .filter(|s| !s.trim().is_empty()),
            yanked,
            yanked_reason,
            core_metadata,
            size: None,
            upload_time: None,
        });
    }
    Ok(ProjectPage {
        name: normalize(name),
        url: page_url.clone(),
        api_version,
        files,
        versions: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_url() -> Url {
        Url::parse("https://index.example/simple/demo/").unwrap()
    }

    #[test]
    fn json_page_with_pep700_fields_and_relative_urls() {
        let body = br#"{
          "meta": {"api-version": "1.1", "_future": 1},
          "name": "Demo",
          "versions": ["2.9.1", "2.15.0", "not-pep440"],
          "files": [
            {"filename": "demo-2.15.0-py3-none-any.whl", "url": "../../files/demo-2.15.0-py3-none-any.whl",
             "hashes": {"SHA256": "ABCDEF01"}, "requires-python": ">=3.9", "core-metadata": {"sha256": "beef"},
             "yanked": false, "size": 1234, "upload-time": "2024-01-02T03:04:05.123456Z"},
            {"filename": "demo-2.9.1.tar.gz", "url": "https://cdn.example/demo-2.9.1.tar.gz#sha256=00ff",
             "hashes": {}, "yanked": "broken build", "dist-info-metadata": true, "size": 99}
          ]
        }"#;
        let page = parse_json(body, &page_url()).unwrap();
        assert_eq!(page.name, "Demo");
        assert_eq!(page.api_version, Some(ApiVersion { major: 1, minor: 1 }));
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url.as_str(),
            "https://index.example/files/demo-2.15.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256(), Some("abcdef01"));
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.9"));
        assert_eq!(
            wheel.core_metadata,
            CoreMetadata::Available {
                hashes: BTreeMap::from([("sha256".into(), "beef".into())])
            }
        );
        assert_eq!(wheel.size, Some(1234));
        assert_eq!(
            wheel.upload_time.unwrap().to_string(),
            "2024-01-02T03:04:05.123456Z"
        );
        let sdist = &page.files[1];
        assert_eq!(sdist.sha256(), Some("00ff"), "fragment hash kept");
        assert_eq!(sdist.url.fragment(), None);
        assert!(sdist.yanked);
        assert_eq!(sdist.yanked_reason.as_deref(), Some("broken build"));
        assert!(matches!(
            sdist.core_metadata,
            CoreMetadata::Available { .. }
        ));
        let declared: Vec<String> = page
            .declared_versions()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(declared, ["2.9.1", "2.15.0"], "PEP 440 order, junk dropped");
        let by_version: Vec<String> = page.versions_of().keys().map(ToString::to_string).collect();
        assert_eq!(by_version, ["2.9.1", "2.15.0"]);
    }

    #[test]
    fn json_wrong_major_version_and_garbage() {
        let body = br#"{"meta": {"api-version": "2.0"}, "name": "x", "files": []}"#;
        assert_eq!(
            parse_json(body, &page_url()),
            Err(PageError::UnsupportedApiVersion("2.0".into()))
        );
        assert!(matches!(
            parse_json(b"<html>oops", &page_url()),
            Err(PageError::Malformed(_))
        ));
        let missing_files = br#"{"meta": {"api-version": "1.0"}, "name": "x"}"#;
        let Err(PageError::Malformed(message)) = parse_json(missing_files, &page_url()) else {
            panic!("expected a malformed page");
        };
        assert!(message.contains("files"), "{message}");
    }

    #[test]
    fn html_page_attributes_are_unescaped() {
        let body = br#"<!DOCTYPE html><html><head>
            <meta name="pypi:repository-version" content="1.0"></head><body>
            <a href="/files/demo-1.0.tar.gz#sha256=AA11" data-requires-python="&gt;=3.8,&lt;4">demo-1.0.tar.gz</a>
            <a href="demo-1.1-py3-none-any.whl#sha256=bb22" data-yanked="" data-core-metadata="sha256=cc33">demo-1.1-py3-none-any.whl</a>
            <a href="demo-1.2-py3-none-any.whl" data-yanked="bad &amp; broken" data-dist-info-metadata="true">x</a>
            <a>no link</a>
            </body></html>"#;
        let page = parse_html(body, &page_url(), "Demo").unwrap();
        assert_eq!(page.name, "demo");
        assert_eq!(page.api_version, Some(ApiVersion { major: 1, minor: 0 }));
        assert_eq!(page.files.len(), 3);
        let sdist = &page.files[0];
        assert_eq!(
            sdist.url.as_str(),
            "https://index.example/files/demo-1.0.tar.gz"
        );
        assert_eq!(sdist.sha256(), Some("aa11"));
        assert_eq!(sdist.requires_python.as_deref(), Some(">=3.8,<4"));
        assert!(!sdist.yanked);
        let wheel = &page.files[1];
        assert_eq!(
            wheel.url.as_str(),
            "https://index.example/simple/demo/demo-1.1-py3-none-any.whl"
        );
        assert!(wheel.yanked);
        assert_eq!(wheel.yanked_reason, None);
        assert_eq!(
            wheel.core_metadata,
            CoreMetadata::Available {
                hashes: BTreeMap::from([("sha256".into(), "cc33".into())])
            }
        );
        let third = &page.files[2];
        assert_eq!(
            third.filename, "demo-1.2-py3-none-any.whl",
            "name from the URL"
        );
        assert_eq!(third.yanked_reason.as_deref(), Some("bad & broken"));
        assert!(third.hashes.is_empty());
    }

    #[test]
    fn html_base_href_and_wrong_repository_version() {
        let body = br#"<html><head><base href="https://mirror.example/pkgs/"></head>
            <body><a href="demo-1.0.zip">demo-1.0.zip</a></body></html>"#;
        let page = parse_html(body, &page_url(), "demo").unwrap();
        assert_eq!(
            page.files[0].url.as_str(),
            "https://mirror.example/pkgs/demo-1.0.zip"
        );
        let v2 =
            br#"<html><head><meta name="pypi:repository-version" content="2.0"></head></html>"#;
        assert_eq!(
            parse_html(v2, &page_url(), "demo"),
            Err(PageError::UnsupportedApiVersion("2.0".into()))
        );
    }

    #[test]
    fn versions_from_file_names() {
        let v = |f: &str, p: &str| filename_version(f, p).map(|v| v.to_string());
        assert_eq!(
            v(
                "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl",
                "numpy"
            )
            .as_deref(),
            Some("1.26.4")
        );
        assert_eq!(
            v("Foo_Bar-2.0-1-py3-none-any.whl", "foo-bar").as_deref(),
            Some("2.0")
        );
        assert_eq!(
            v("python-dateutil-2.8.2.tar.gz", "python_dateutil").as_deref(),
            Some("2.8.2")
        );
        assert_eq!(
            v("torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl", "torch").as_deref(),
            Some("2.1.0+cpu")
        );
        assert_eq!(v("demo-1.0rc1.zip", "demo").as_deref(), Some("1.0rc1"));
        assert_eq!(v("other-1.0.tar.gz", "demo"), None, "another project");
        assert_eq!(v("demo-1.0-py2.7.egg", "demo"), None, "eggs are not parsed");
        assert_eq!(v("demo-latest.tar.gz", "demo"), None, "not PEP 440");
    }
}
