//! `mlsupply-hub --online`: asks the hub API whether organisations and repositories exist, whether
//! organisations are verified, and which commit `main` is at (for `--fix`).
//!
//! Base URL: `HF_ENDPOINT`, default `https://huggingface.co`. `HF_TOKEN`, when set, is sent as a
//! bearer token and never appears in errors or findings.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::Config;
use crate::finding::{Finding, Severity};
use crate::rules;
use crate::scan::Target;
use crate::source::SourceFile;

use super::{Fetch, Hub, RepoId, RepoKind, python};

/// Failed look-ups after which the hub is no longer asked.
const MAX_ERRORS: usize = 3;

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error("hub endpoint `{0}` is not a valid http(s) URL")]
    Endpoint(String),
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// The URL is printed without the token (the token never travels in URLs).
    #[error("{url}: {message}")]
    Request { url: String, message: String },
}

/// What the hub says about a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceStatus {
    /// An organisation with the verified badge.
    VerifiedOrg,
    /// An organisation without it.
    Org,
    /// A user account.
    User,
    /// Neither an organisation nor a user: anyone can register the name.
    Missing,
}

/// What the hub says about a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoStatus {
    /// It exists; `sha` is the commit of its default branch, when the answer gave a valid one.
    Found {
        sha: Option<String>,
    },
    /// Gated or private: it exists, but its commit is not shown to us.
    Restricted,
    Missing,
}

/// The longest one API request may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// API answers bigger than this are refused (real ones are a few KB).
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Redirects as the package-index client follows them (see `index::client`): never from https
/// to http, never to another host or port (the hub's answers decide the commits `--fix` pins),
/// at most 10.
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        let host_port = |url: &url::Url| {
            (
                url.host_str().map(str::to_ascii_lowercase),
                url.port_or_known_default(),
            )
        };
        let previous = attempt.previous().last().unwrap_or(first);
        if previous.scheme() == "https" && attempt.url().scheme() != "https" {
            attempt.error("refused a redirect that lowers https to plain http")
        } else if host_port(attempt.url()) != host_port(first) {
            attempt.error("refused a redirect to another host")
        } else if attempt.previous().len() > 10 {
            attempt.error("more than 10 redirects")
        } else {
            attempt.follow()
        }
    })
}

/// A blocking client of the hub API (it runs its own small tokio runtime).
pub struct HubApi {
    base: url::Url,
    token: Option<String>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    attempts: u32,
    token_withheld: bool,
}

impl std::fmt::Debug for HubApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApi")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HubApi {
    /// A client of the hub at `endpoint`, sending `token` as a bearer token when given.
    pub fn new(endpoint: &str, token: Option<String>) -> Result<HubApi, OnlineError> {
        let mut base = url::Url::parse(endpoint.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| OnlineError::Endpoint(endpoint.to_string()))?;
        // Credentials written into the endpoint would be echoed by errors: refuse to keep them.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        crate::index::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("mlsupply/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(20))
            // The read timeout alone lets a hub that trickles bytes hold the run forever.
            .timeout(REQUEST_TIMEOUT)
            .redirect(same_host_redirects())
            .build()
            .map_err(|e| OnlineError::Client(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OnlineError::Client(e.to_string()))?;
        let token = token.filter(|t| !t.trim().is_empty());
        // A token is never sent in clear text, except to this machine (a local mirror, tests).
        let loopback = match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        let token_withheld = token.is_some() && base.scheme() != "https" && !loopback;
        Ok(HubApi {
            base,
            token: token.filter(|_| !token_withheld),
            client,
            runtime,
            attempts: 3,
            token_withheld,
        })
    }

    /// `HF_ENDPOINT` (default `https://huggingface.co`) and `HF_TOKEN`.
    pub fn from_env() -> Result<HubApi, OnlineError> {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        HubApi::new(&endpoint, std::env::var("HF_TOKEN").ok())
    }

    /// Whether a token was given but is not sent, because the endpoint is plain HTTP.
    pub fn token_withheld(&self) -> bool {
        self.token_withheld
    }

    pub fn endpoint(&self) -> &str {
        self.base.as_str()
    }

    /// GET the base joined with `segments`: the status, `X-Error-Code`, and the JSON body of a 2xx
    /// answer. Retries connection errors, 429 and 5xx.
    fn get_json(
        &self,
        segments: &[&str],
    ) -> Result<(u16, Option<String>, Option<serde_json::Value>), OnlineError> {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| OnlineError::Endpoint(self.base.to_string()))?;
            path.pop_if_empty();
            // Each segment is percent-encoded: ids from scanned files cannot add path parts.
            path.extend(segments);
        }
        let shown = url.to_string();
        let fail = |message: String| OnlineError::Request {
            url: shown.clone(),
            message,
        };
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
            let mut request = self.client.get(url.clone());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            let result = self.runtime.block_on(async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let code = response
                    .headers()
                    .get("x-error-code")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let mut response = response;
                let body = crate::http::read_capped_body(&mut response, MAX_ANSWER_BYTES).await?;
                Ok::<_, reqwest::Error>((status, code, body))
            });
            match result {
                Ok((_, _, None)) => {
                    return Err(fail(format!(
                        "the answer is larger than {} MiB",
                        MAX_ANSWER_BYTES >> 20
                    )));
                }
                Ok((status, code, Some(body))) => {
                    if status == 429 || status >= 500 {
                        last = format!("HTTP {status}");
                        continue;
                    }
                    if !(200..300).contains(&status) {
                        return Ok((status, code, None));
                    }
                    let json = serde_json::from_slice(&body)
                        .map_err(|e| fail(format!("the answer is not JSON: {e}")))?;
                    return Ok((status, code, Some(json)));
                }
                // reqwest's messages name the URL, never the Authorization header.
                Err(err) => {
                    // The causes say what went wrong (refused, timed out, TLS).
                    let err = err.without_url();
                    last = err.to_string();
                    let mut source = std::error::Error::source(&err);
                    while let Some(cause) = source {
                        last = format!("{last}: {cause}");
                        source = cause.source();
                    }
                }
            }
        }
        Err(fail(format!(
            "no answer after {} tries: {last}",
            self.attempts
        )))
    }

    /// Whether `name` is a verified organisation, an organisation, a user, or nothing.
    pub fn namespace(&self, name: &str) -> Result<NamespaceStatus, OnlineError> {
        let (status, _, json) = self.get_json(&["api", "organizations", name, "overview"])?;
        match (status, json) {
            (200..=299, Some(json)) => {
                return Ok(
                    if json.get("isVerified") == Some(&serde_json::Value::Bool(true)) {
                        NamespaceStatus::VerifiedOrg
                    } else {
                        NamespaceStatus::Org
                    },
                );
            }
            (404, _) => {}
            (status, _) => {
                return Err(OnlineError::Request {
                    url: format!("{}api/organizations/{name}/overview", self.base),
                    message: format!("HTTP {status}"),
                });
            }
        }
        // Models are published under user accounts too; those are not organisations.
        let (status, _, _) = self.get_json(&["api", "users", name, "overview"])?;
        match status {
            200..=299 => Ok(NamespaceStatus::User),
            404 => Ok(NamespaceStatus::Missing),
            status => Err(OnlineError::Request {
                url: format!("{}api/users/{name}/overview", self.base),
                message: format!("HTTP {status}"),
            }),
        }
    }

    /// Whether the repository `id` exists, and the commit of its default branch.
    pub fn repo(&self, kind: RepoKind, id: &str) -> Result<RepoStatus, OnlineError> {
        let collection = match kind {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
            RepoKind::Space => "spaces",
        };
        let mut segments = vec!["api", collection];
        segments.extend(id.split('/'));
        let (status, code, json) = self.get_json(&segments)?;
        match status {
            200..=299 => {
                let sha = json
                    .as_ref()
                    .and_then(|j| j.get("sha"))
                    .and_then(|s| s.as_str())
                    // Text from the network goes into source files only if it is a commit.
                    .filter(|s| super::is_full_commit(s))
                    .map(str::to_string);
                Ok(RepoStatus::Found { sha })
            }
            404 => Ok(RepoStatus::Missing),
            // The hub answers 401 both for private repositories and, without a token, for ones
            // that do not exist; `X-Error-Code` tells them apart.
            401 | 403 if code.as_deref() == Some("RepoNotFound") => Ok(RepoStatus::Missing),
            401 | 403 => Ok(RepoStatus::Restricted),
            status => Err(OnlineError::Request {
                url: format!("{}api/{collection}/{id}", self.base),
                message: format!("HTTP {status}"),
            }),
        }
    }
}

/// One fetch, with the file it is in.
#[derive(Clone, Debug)]
pub struct Located {
    pub file: SourceFile,
    pub fetch: Fetch,
}

/// The Hugging Face fetches of a target with a fully known `org/name` (or bare) id, as
/// [`super::scan`] finds them.
pub fn hub_fetches(target: &Target, config: &Config) -> Vec<Located> {
    let root = target
        .root
        .canonicalize()
        .unwrap_or_else(|_| target.root.clone());
    let collected = crate::files::collect(&root, &target.paths, &config.exclude, &|rel| {
        python::wants(rel)
    });
    let mut out = Vec::new();
    for file in collected.files {
        let scanned = python::scan_file(&file);
        for fetch in scanned.fetches {
            if let Some(id) = online_id(&fetch)
                && !super::exists_locally(&root, &file, id)
            {
                out.push(Located {
                    file: file.clone(),
                    fetch,
                });
            }
        }
    }
    out
}

/// The id to look up, for Hugging Face fetches with a known, hub-shaped id.
pub fn online_id(fetch: &Fetch) -> Option<&str> {
    let RepoId::Known(id) = &fetch.id else {
        return None;
    };
    let hub_shaped = !super::is_local_path(id)
        && id.matches('/').count() <= 1
        && id.is_ascii()
        && !id.is_empty()
        && !id.split('/').any(|part| part.is_empty() || part == "..");
    (fetch.hub == Hub::HuggingFace && !fetch.local_files_only && hub_shaped).then_some(id.as_str())
}

/// What the hub said about every namespace and repository of a scan.
#[derive(Debug, Default)]
pub struct Answers {
    pub namespaces: BTreeMap<String, NamespaceStatus>,
    pub repos: BTreeMap<(String, &'static str), RepoStatus>,
    /// Failed look-ups, already worded for a finding.
    pub errors: Vec<String>,
}

fn kind_key(kind: RepoKind) -> &'static str {
    match kind {
        RepoKind::Model => "model",
        RepoKind::Dataset => "dataset",
        RepoKind::Space => "space",
    }
}

impl Answers {
    pub fn repo(&self, kind: RepoKind, id: &str) -> Option<&RepoStatus> {
        self.repos.get(&(id.to_string(), kind_key(kind)))
    }
}

/// Asks the hub once about each distinct namespace and repository.
pub fn look_up(api: &HubApi, fetches: &[Located]) -> Answers {
    let mut answers = Answers::default();
    for located in fetches {
        let Some(id) = online_id(&located.fetch) else {
            continue;
        };
        if let Some((org, _)) = id.split_once('/')
            && !answers.namespaces.contains_key(org)
        {
            match api.namespace(org) {
                Ok(status) => {
                    answers.namespaces.insert(org.to_string(), status);
                }
                Err(err) => answers.errors.push(err.to_string()),
            }
        }
        let key = (id.to_string(), kind_key(located.fetch.kind));
        if let std::collections::btree_map::Entry::Vacant(slot) = answers.repos.entry(key) {
            match api.repo(located.fetch.kind, id) {
                Ok(status) => {
                    slot.insert(status);
                }
                Err(err) => answers.errors.push(err.to_string()),
            }
        }
        if answers.errors.len() >= MAX_ERRORS {
            // The hub is down or refuses us: each further look-up would wait out its retries.
            answers
                .errors
                .push("further look-ups skipped after repeated failures".to_string());
            break;
        }
    }
    answers.errors.dedup();
    answers
}

/// Refines offline findings with the hub's answers and adds findings for what does not exist.
///
/// A verified organisation turns its `untrusted-org` warnings into notes, not silence: the badge
/// proves the organisation is the company it names, not that it is the one the project meant, so
/// the finding stays visible but no longer fails the run. Unverified organisations and users stay
/// warnings.
pub fn refine(findings: &mut Vec<Finding>, fetches: &[Located], answers: &Answers) {
    for finding in findings.iter_mut() {
        if finding.rule != rules::UNTRUSTED_ORG.id {
            continue;
        }
        let org = finding.subject.split_once('/').map(|(o, _)| o);
        if let Some(org) = org
            && answers.namespaces.get(org) == Some(&NamespaceStatus::VerifiedOrg)
        {
            finding.severity = Severity::Note;
            finding.message = format!(
                "{} (the hub shows `{org}` as a verified organisation)",
                finding.message
            );
        }
    }
    for located in fetches {
        let Some(id) = online_id(&located.fetch) else {
            continue;
        };
        let file = &located.file;
        let span = located.fetch.span;
        let org = id.split_once('/').map(|(o, _)| o);
        let missing_namespace =
            org.is_some_and(|o| answers.namespaces.get(o) == Some(&NamespaceStatus::Missing));
        if let Some(org) = org
            && missing_namespace
        {
            findings.push(Finding::at(
                &rules::MISSING_HUB_REPO,
                file,
                span,
                id.to_string(),
                format!("`{id}`: no organisation or user `{org}` exists on the hub, so anyone can register it and publish `{id}`"),
            ));
            continue;
        }
        if answers.repo(located.fetch.kind, id) == Some(&RepoStatus::Missing) {
            let what = kind_key(located.fetch.kind);
            findings.push(
                Finding::at(
                    &rules::MISSING_HUB_REPO,
                    file,
                    span,
                    id.to_string(),
                    format!("the {what} `{id}` does not exist on the hub (deleted, renamed or mistyped): whoever creates it next is loaded"),
                )
                .with_severity(if org.is_none() { Severity::Error } else { Severity::Warning }),
            );
        }
    }
}
