//! The async index client: retries, per-project memoisation, bounded fan-out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use super::IndexError;
use super::config::IndexSettings;
use super::simple::{self, DistFile, PageError, ProjectPage};
use super::tls;
use super::url::{CredentialSource, IndexUrl, RedactedUrl};
use crate::typo::normalize;

/// Pages bigger than this are refused (the torch closure's biggest page is about 28 MB).
const MAX_PAGE_BYTES: usize = 256 * 1024 * 1024;
/// A `Retry-After` longer than this is not waited for; the attempt fails instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Tuning knobs; the defaults suit PyPI and most mirrors.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Longest wait between two reads of one response (pip's `--timeout` is 15 s).
    pub read_timeout: Duration,
    pub connect_timeout: Duration,
    /// Tries per page, counting the first. Connection errors, timeouts, 5xx and 429 are retried.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Pages fetched at once by [`IndexClient::projects`].
    pub concurrency: usize,
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            attempts: 4,
            backoff: Duration::from_millis(500),
            concurrency: 16,
            user_agent: concat!("mlsupply/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// A project's page found on one index.
#[derive(Clone, Debug)]
pub struct FoundPage {
    pub index: RedactedUrl,
    pub page: Arc<ProjectPage>,
}

/// A project as seen across every configured index (pip merges their files the same way).
#[derive(Clone, Debug)]
pub struct Project {
    /// The normalised name that was asked for.
    pub name: String,
    /// One entry per index that has the project, in configuration order; never empty.
    pub pages: Vec<FoundPage>,
}

impl Project {
    /// Every file from every index.
    pub fn files(&self) -> impl Iterator<Item = &DistFile> {
        self.pages.iter().flat_map(|p| p.page.files.iter())
    }

    /// Files of every index grouped by version, in PEP 440 order.
    pub fn versions_of(&self) -> std::collections::BTreeMap<pep440_rs::Version, Vec<&DistFile>> {
        let mut out: std::collections::BTreeMap<_, Vec<&DistFile>> = Default::default();
        for file in self.files() {
            if let Some(version) = file.version(&self.name) {
                out.entry(version).or_default().push(file);
            }
        }
        out
    }
}

struct Index {
    url: IndexUrl,
    http: reqwest::Client,
}

type PageCell = Arc<OnceCell<Option<Arc<ProjectPage>>>>;

struct Inner {
    indexes: Vec<Index>,
    options: ClientOptions,
    /// (index position, normalised name) → the page, fetched once even when asked concurrently.
    cache: Mutex<HashMap<(usize, String), PageCell>>,
}

/// A cheap-to-clone handle on the configured indexes.
#[derive(Clone)]
pub struct IndexClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for IndexClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexClient")
            .field("indexes", &self.indexes())
            .finish_non_exhaustive()
    }
}

impl IndexClient {
    /// Builds the HTTP clients. Fails on an unreadable CA file or a plain-http index that is
    /// neither local nor trusted.
    pub fn new(
        settings: &IndexSettings,
        options: ClientOptions,
    ) -> Result<IndexClient, IndexError> {
        tls::install_crypto_provider();
        let mut extra_roots = Vec::new();
        for path in &settings.ca_files {
            extra_roots.extend(tls::load_ca_file(path)?);
        }
        let builder = |lenient: bool| {
            let mut b = reqwest::Client::builder()
                .user_agent(options.user_agent.clone())
                .read_timeout(options.read_timeout)
                .connect_timeout(options.connect_timeout)
                .tls_certs_merge(extra_roots.iter().cloned());
            if lenient {
                b = b.tls_danger_accept_invalid_certs(true);
            }
            b.build().map_err(|e| IndexError::Client(error_chain(&e)))
        };
        let strict = builder(false)?;
        let mut lenient = None;
        let mut indexes = Vec::new();
        for url in settings.indexes() {
            let trusted = settings.is_trusted(url);
            if !url.is_secure_origin() && !trusted {
                return Err(IndexError::Insecure {
                    index: url.redacted(),
                });
            }
            let http = if trusted && url.url().scheme() == "https" {
                // pip's trusted-host also skips certificate checks for that host.
                match &lenient {
                    Some(client) => Clone::clone(client),
                    None => {
                        let client = builder(true)?;
                        lenient = Some(client.clone());
                        client
                    }
                }
            } else {
                strict.clone()
            };
            indexes.push(Index {
                url: url.clone(),
                http,
            });
        }
        Ok(IndexClient {
            inner: Arc::new(Inner {
                indexes,
                options,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configured indexes (credentials masked), primary first.
    pub fn indexes(&self) -> Vec<RedactedUrl> {
        self.inner
            .indexes
            .iter()
            .map(|i| i.url.redacted())
            .collect()
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The project on every configured index; `Ok(None)` when no index has it. An index error
    /// (network down, 500 after retries, garbage) is an error, never "missing".
    pub async fn project(&self, name: &str) -> Result<Option<Project>, IndexError> {
        let normalized = checked_name(name)?;
        let mut pages = Vec::new();
        for position in 0..self.inner.indexes.len() {
            if let Some(page) = self.page_at(position, &normalized).await? {
                pages.push(FoundPage {
                    index: self.inner.indexes[position].url.redacted(),
                    page,
                });
            }
        }
        Ok((!pages.is_empty()).then_some(Project {
            name: normalized,
            pages,
        }))
    }

    /// The project page on the primary index only.
    pub async fn page(&self, name: &str) -> Result<Option<Arc<ProjectPage>>, IndexError> {
        let normalized = checked_name(name)?;
        self.page_at(0, &normalized).await
    }

    /// [`project`](Self::project) for many names, at most `options.concurrency` requests at once.
    /// Names are de-duplicated after normalisation; the result keeps the first-seen order and
    /// pairs each normalised name with its own outcome, so one failure does not hide the rest.
    pub async fn projects(
        &self,
        names: &[String],
    ) -> Vec<(String, Result<Option<Project>, IndexError>)> {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<(String, String)> = names
            .iter()
            .filter(|n| seen.insert(normalize(n.trim())))
            .map(|n| (normalize(n.trim()), n.clone()))
            .collect();
        let permits = Arc::new(Semaphore::new(self.inner.options.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (position, (_, original)) in unique.iter().enumerate() {
            let client = self.clone();
            let permits = Arc::clone(&permits);
            let original = original.clone();
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring cannot fail.
                let _permit = permits.acquire_owned().await.ok();
                (position, client.project(&original).await)
            });
        }
        let mut results: Vec<Option<Result<Option<Project>, IndexError>>> =
            (0..unique.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((position, result)) => results[position] = Some(result),
                // A panicking task is a bug; re-raise it rather than report a fake network error.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
        unique
            .into_iter()
            .zip(results)
            .map(|((normalized, _), result)| {
                let result = result.unwrap_or_else(|| {
                    Err(IndexError::Client(
                        "the lookup task was cancelled".to_owned(),
                    ))
                });
                (normalized, result)
            })
            .collect()
    }

    async fn page_at(
        &self,
        position: usize,
        normalized: &str,
    ) -> Result<Option<Arc<ProjectPage>>, IndexError> {
        let cell = {
            // A poisoned lock only means another lookup panicked; the map itself is intact.
            let mut cache = self
                .inner
                .cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cache.entry((position, normalized.to_owned())).or_default())
        };
        // Errors are not cached: the next call tries again.
        cell.get_or_try_init(|| self.fetch(position, normalized))
            .await
            .cloned()
    }

    async fn fetch(
        &self,
        position: usize,
        normalized: &str,
    ) -> Result<Option<Arc<ProjectPage>>, IndexError> {
        let index = &self.inner.indexes[position];
        let options = &self.inner.options;
        let url = index.url.project_url(normalized);
        let shown = index.url.redacted();
        let attempts = options.attempts.max(1);
        let mut last_failure = Failure::Timeout;
        for attempt in 1..=attempts {
            let mut request = index
                .http
                .get(url.clone())
                .header(reqwest::header::ACCEPT, simple::ACCEPT);
            if let Some(creds) = index.url.credentials() {
                request = request.basic_auth(&creds.username, creds.password.as_ref());
            }
            let mut retry_after = None;
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status == reqwest::StatusCode::NOT_FOUND
                        || status == reqwest::StatusCode::GONE
                    {
                        return Ok(None);
                    }
                    if status.is_success() {
                        match read_page(response, normalized).await {
                            Ok(Ok(page)) => return Ok(Some(Arc::new(page))),
                            Ok(Err(PageError::Malformed(message))) => {
                                return Err(IndexError::Malformed {
                                    project: normalized.to_owned(),
                                    index: shown,
                                    message,
                                });
                            }
                            Ok(Err(PageError::UnsupportedApiVersion(version))) => {
                                return Err(IndexError::UnsupportedApiVersion {
                                    project: normalized.to_owned(),
                                    index: shown,
                                    version,
                                });
                            }
                            // The body broke off mid-way: worth another try.
                            Err(failure) => last_failure = failure,
                        }
                    } else if status.is_server_error()
                        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        retry_after = parse_retry_after(response.headers());
                        last_failure = Failure::Status(status.as_u16());
                    } else {
                        return Err(IndexError::Status {
                            project: normalized.to_owned(),
                            index: shown,
                            status: status.as_u16(),
                            hint: status_hint(status.as_u16(), index.url.credential_source()),
                        });
                    }
                }
                Err(e) => last_failure = classify(&e),
            }
            if attempt < attempts {
                let backoff = options.backoff.saturating_mul(1 << (attempt - 1).min(16));
                tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
            }
        }
        let project = normalized.to_owned();
        Err(match last_failure {
            Failure::Timeout => IndexError::Timeout {
                project,
                index: shown,
                attempts,
            },
            Failure::Network(message) => IndexError::Network {
                project,
                index: shown,
                attempts,
                message,
            },
            Failure::Status(status) => IndexError::Status {
                project,
                index: shown,
                status,
                hint: " (server error, retries exhausted)",
            },
        })
    }
}

enum Failure {
    Timeout,
    Network(String),
    Status(u16),
}

fn classify(error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Network(error_chain(error))
    }
}

/// An error and its causes, `a: b: c`, without the URL reqwest attaches.
fn error_chain(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = error.source();
    // reqwest's own text ("error sending request for url (...)") names the URL: skip it, the
    // caller names the (redacted) index instead.
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts.dedup();
    if parts.is_empty() {
        parts.push(if error.is_connect() {
            "connection failed".to_owned()
        } else {
            "request failed".to_owned()
        });
    }
    parts.join(": ")
}

fn status_hint(status: u16, credentials: Option<CredentialSource>) -> &'static str {
    match (status, credentials) {
        (401 | 403, None) => {
            " (the index needs credentials: put them in ~/.netrc or in the index URL)"
        }
        (401 | 403, Some(CredentialSource::Url)) => {
            " (the credentials in the index URL were refused)"
        }
        (401 | 403, Some(CredentialSource::Netrc)) => " (the credentials from netrc were refused)",
        _ => "",
    }
}

fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds)).filter(|d| *d <= MAX_RETRY_AFTER)
}

/// Reads and parses a successful response. The outer error is a transport failure (retryable),
/// the inner one a bad page (final).
async fn read_page(
    mut response: reqwest::Response,
    normalized: &str,
) -> Result<Result<ProjectPage, PageError>, Failure> {
    let page_url = response.url().clone();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_PAGE_BYTES as u64)
    {
        return Ok(Err(PageError::Malformed(format!(
            "page larger than {} MiB",
            MAX_PAGE_BYTES >> 20
        ))));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    return Ok(Err(PageError::Malformed(format!(
                        "page larger than {} MiB",
                        MAX_PAGE_BYTES >> 20
                    ))));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(classify(&e)),
        }
    }
    let looks_json = if content_type.contains("json") {
        true
    } else if content_type.contains("html") {
        false
    } else {
        // No or odd content type: sniff.
        body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    Ok(if looks_json {
        simple::parse_json(&body, &page_url)
    } else {
        simple::parse_html(&body, &page_url, normalized)
    })
}

/// The normalised name, refusing anything that is not a PEP 508 name (and could otherwise walk
/// out of the index path).
fn checked_name(name: &str) -> Result<String, IndexError> {
    let trimmed = name.trim();
    let valid = !trimmed.is_empty()
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && trimmed
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && trimmed
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid {
        Ok(normalize(trimmed))
    } else {
        Err(IndexError::InvalidName {
            project: trimmed
                .chars()
                .take(100)
                .collect::<String>()
                .escape_debug()
                .to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_normalised() {
        assert_eq!(checked_name("Foo_Bar.baz").unwrap(), "foo-bar-baz");
        assert!(matches!(
            checked_name("../etc/passwd"),
            Err(IndexError::InvalidName { .. })
        ));
        assert!(checked_name("").is_err());
        assert!(checked_name("-x").is_err());
    }

    #[test]
    fn retry_after_is_bounded() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(reqwest::header::RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), None);
    }
}
