//! A local package index on 127.0.0.1 (wiremock), serving PEP 691 JSON and PEP 503 HTML pages.
//!
//! ```ignore
//! let server = IndexServer::start().await;
//! server.json_project("demo", &JsonPage::new("demo").file(FileSpec::wheel("demo", "1.0"))).await;
//! let settings = IndexSettings::single(&server.index_url())?;
//! ```
//! Unregistered projects answer 404, like a real index.

use serde_json::{Value, json};
use wiremock::matchers::{basic_auth, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
pub const HTML_TYPE: &str = "text/html; charset=utf-8";

/// One file of a JSON page.
#[derive(Clone, Debug)]
pub struct FileSpec {
    pub filename: String,
    /// As served: relative URLs are kept relative on purpose.
    pub url: String,
    pub sha256: Option<String>,
    pub upload_time: Option<String>,
    pub requires_python: Option<String>,
    pub yanked: Option<Value>,
    pub size: u64,
}

impl FileSpec {
    /// `{name}-{version}-py3-none-any.whl`, linked relative to the page (`../../files/...`).
    pub fn wheel(name: &str, version: &str) -> FileSpec {
        let filename = format!("{}-{version}-py3-none-any.whl", name.replace('-', "_"));
        FileSpec::new(&filename)
    }

    /// `{name}-{version}.tar.gz`, linked relative to the page.
    pub fn sdist(name: &str, version: &str) -> FileSpec {
        FileSpec::new(&format!("{name}-{version}.tar.gz"))
    }

    fn new(filename: &str) -> FileSpec {
        FileSpec {
            filename: filename.to_owned(),
            url: format!("../../files/{filename}"),
            sha256: Some(fake_sha256(filename)),
            upload_time: None,
            requires_python: None,
            yanked: None,
            size: 1000,
        }
    }

    pub fn uploaded(mut self, rfc3339: &str) -> FileSpec {
        self.upload_time = Some(rfc3339.to_owned());
        self
    }

    pub fn json(&self) -> Value {
        let mut file = json!({
            "filename": self.filename,
            "url": self.url,
            "hashes": self.sha256.as_ref().map(|h| json!({"sha256": h})).unwrap_or(json!({})),
            "size": self.size,
        });
        if let Some(t) = &self.upload_time {
            file["upload-time"] = json!(t);
        }
        if let Some(r) = &self.requires_python {
            file["requires-python"] = json!(r);
        }
        if let Some(y) = &self.yanked {
            file["yanked"] = y.clone();
        }
        file
    }
}

/// A deterministic, well-formed sha256 hex string for a file name (not a real digest).
pub fn fake_sha256(filename: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(filename.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PEP 691 page under construction.
#[derive(Clone, Debug)]
pub struct JsonPage {
    pub name: String,
    pub api_version: String,
    pub files: Vec<FileSpec>,
    /// PEP 700 `versions`; `None` leaves the key out (an API 1.0 index).
    pub versions: Option<Vec<String>>,
}

impl JsonPage {
    pub fn new(name: &str) -> JsonPage {
        JsonPage {
            name: name.to_owned(),
            api_version: "1.1".to_owned(),
            files: Vec::new(),
            versions: None,
        }
    }

    pub fn file(mut self, file: FileSpec) -> JsonPage {
        self.files.push(file);
        self
    }

    pub fn versions(mut self, versions: &[&str]) -> JsonPage {
        self.versions = Some(versions.iter().map(|v| (*v).to_owned()).collect());
        self
    }

    pub fn api_version(mut self, version: &str) -> JsonPage {
        self.api_version = version.to_owned();
        self
    }

    pub fn to_json(&self) -> Value {
        let mut page = json!({
            "meta": {"api-version": self.api_version},
            "name": self.name,
            "files": self.files.iter().map(FileSpec::json).collect::<Vec<_>>(),
        });
        if let Some(v) = &self.versions {
            page["versions"] = json!(v);
        }
        page
    }
}

/// A PEP 503 page for `files` (relative links with `#sha256=` fragments).
pub fn html_page(files: &[FileSpec]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"></head><body>\n",
    );
    for f in files {
        let mut attrs = String::new();
        if let Some(r) = &f.requires_python {
            attrs.push_str(&format!(
                " data-requires-python=\"{}\"",
                r.replace('<', "&lt;").replace('>', "&gt;")
            ));
        }
        match &f.yanked {
            Some(Value::String(reason)) => attrs.push_str(&format!(
                " data-yanked=\"{}\"",
                html_escape::encode_double_quoted_attribute(reason)
            )),
            Some(Value::Bool(true)) => attrs.push_str(" data-yanked"),
            _ => {}
        }
        let fragment = f
            .sha256
            .as_ref()
            .map(|h| format!("#sha256={h}"))
            .unwrap_or_default();
        html.push_str(&format!(
            "<a href=\"{}{fragment}\"{attrs}>{}</a><br>\n",
            f.url, f.filename
        ));
    }
    html.push_str("</body></html>\n");
    html
}

pub struct IndexServer {
    pub server: MockServer,
    /// When set, every page requires these basic-auth credentials (others get 401).
    auth: Option<(String, String)>,
}

impl IndexServer {
    pub async fn start() -> IndexServer {
        IndexServer {
            server: MockServer::start().await,
            auth: None,
        }
    }

    /// A server whose pages answer only to `user`/`password`; anything else gets 401.
    pub async fn with_basic_auth(user: &str, password: &str) -> IndexServer {
        let server = IndexServer {
            server: MockServer::start().await,
            auth: Some((user.to_owned(), password.to_owned())),
        };
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(401).insert_header("WWW-Authenticate", "Basic realm=\"idx\""),
            )
            .with_priority(u8::MAX)
            .mount(&server.server)
            .await;
        server
    }

    /// `http://127.0.0.1:<port>/simple/`
    pub fn index_url(&self) -> String {
        format!("{}/simple/", self.server.uri())
    }

    /// The index URL with `user:password@` in it.
    pub fn index_url_with(&self, user: &str, password: &str) -> String {
        self.index_url()
            .replacen("http://", &format!("http://{user}:{password}@"), 1)
    }

    pub fn project_path(name: &str) -> String {
        format!("/simple/{name}/")
    }

    fn page_mock(&self, name: &str) -> wiremock::MockBuilder {
        let builder = Mock::given(method("GET")).and(path(Self::project_path(name)));
        match &self.auth {
            Some((user, password)) => builder.and(basic_auth(user.as_str(), password.as_str())),
            None => builder,
        }
    }

    /// Serves `page` as PEP 691 JSON at `/simple/<name>/`.
    pub async fn json_project(&self, name: &str, page: &JsonPage) {
        self.respond(
            name,
            // set_body_string would replace the Content-Type with text/plain, which pip rejects.
            ResponseTemplate::new(200).set_body_raw(page.to_json().to_string(), JSON_TYPE),
        )
        .await;
    }

    /// Serves `html` as a PEP 503 page at `/simple/<name>/`.
    pub async fn html_project(&self, name: &str, html: &str) {
        self.respond(
            name,
            ResponseTemplate::new(200).set_body_raw(html.to_owned(), HTML_TYPE),
        )
        .await;
    }

    /// Serves `json` (PEP 691) when the request's `Accept` header asks for it, else `html` (PEP 503),
    /// as PyPI does.
    pub async fn negotiated_project(&self, name: &str, json: String, html: String) {
        self.page_mock(name)
            .respond_with(Negotiated { json, html })
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// `/files/<filename>` answers with `bytes` (what relative links `../../files/<filename>` reach).
    pub async fn serve_file(&self, filename: &str, bytes: Vec<u8>) {
        let builder = Mock::given(method("GET")).and(path(format!("/files/{filename}")));
        let builder = match &self.auth {
            Some((user, password)) => builder.and(basic_auth(user.as_str(), password.as_str())),
            None => builder,
        };
        builder
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(bytes, "application/octet-stream"),
            )
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// Any response at `/simple/<name>/`.
    pub async fn respond(&self, name: &str, response: ResponseTemplate) {
        self.page_mock(name)
            .respond_with(response)
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// The first `times` requests for `name` get `status` (then whatever else is mounted).
    pub async fn fail_first(&self, name: &str, times: u64, status: u16) {
        self.page_mock(name)
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// How many requests reached `/simple/<name>/`.
    pub async fn hits(&self, name: &str) -> usize {
        let wanted = Self::project_path(name);
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == wanted)
            .count()
    }

    /// Every request received (for header checks).
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// Content negotiation between the two page formats, on the request's `Accept` header.
struct Negotiated {
    json: String,
    html: String,
}

impl wiremock::Respond for Negotiated {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let wants_json = request
            .headers
            .get_all("accept")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("application/vnd.pypi.simple.v1+json"));
        if wants_json {
            ResponseTemplate::new(200).set_body_raw(self.json.clone(), JSON_TYPE)
        } else {
            ResponseTemplate::new(200).set_body_raw(self.html.clone(), HTML_TYPE)
        }
    }
}
