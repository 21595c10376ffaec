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

/// Pages bigger than this are refused: the biggest real pages are a few tens of MB (the torch
/// closure's biggest is about 28 MB of JSON), and a page costs several times its size in memory
/// once parsed, so anything much bigger is an index attacking us.
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;
/// [`ClientOptions::request_timeout`] unless configured: room for a few retries of a big page.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// [`ClientOptions::run_budget`] unless configured.
pub const DEFAULT_RUN_BUDGET: Duration = Duration::from_secs(600);
/// Overrides `index-timeout` ([`ClientOptions::request_timeout`]), in seconds.
pub const TIMEOUT_ENV: &str = "MLSUPPLY_INDEX_TIMEOUT";
/// Overrides `index-budget` ([`ClientOptions::run_budget`]), in seconds.
pub const BUDGET_ENV: &str = "MLSUPPLY_INDEX_BUDGET";
/// The longest time limit accepted: a day.
const MAX_LIMIT_SECONDS: f64 = 86_400.0;

/// A time limit given in seconds (fractions allowed): more than 0, at most a day.
pub fn seconds(value: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= MAX_LIMIT_SECONDS {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "`{value}` is not a time limit: give seconds, more than 0 and at most {MAX_LIMIT_SECONDS}"
        ))
    }
}

/// Redirects followed per request (pip's requests allows 30; real indexes need one or two).
const MAX_REDIRECTS: usize = 10;
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
    /// Where project pages are kept between runs, if anywhere; stored pages are revalidated
    /// with `If-None-Match` / `If-Modified-Since` and reused on 304.
    pub page_store: Option<Arc<dyn PageStore>>,
    /// The longest one request may take, all its attempts, redirects and body included: the
    /// read timeout alone lets an index that trickles a byte at a time hold a run forever.
    pub request_timeout: Duration,
    /// The longest all requests of one client may take together, counted from its creation.
    pub run_budget: Duration,
}

/// A project page as received, kept for revalidation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedPage {
    /// The URL the body came from, after redirects (relative links resolve against it).
    pub url: url::Url,
    pub content_type: String,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The caching hook: a place to keep pages between runs (a directory, a database). Keys are page
/// URLs without credentials. Only pages with an `ETag` or `Last-Modified` are stored.
pub trait PageStore: Send + Sync + std::fmt::Debug {
    fn load(&self, page_url: &url::Url) -> Option<CachedPage>;
    fn store(&self, page_url: &url::Url, page: &CachedPage);
    /// A stored page young enough to use without asking the index at all (a max-age the
    /// caller chose). `None`, the default, means every use is revalidated first.
    fn load_fresh(&self, _page_url: &url::Url) -> Option<CachedPage> {
        None
    }
}

/// Which bytes of a file to ask for with an HTTP `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// The last `n` bytes (`bytes=-n`): the end of a zip, where its directory is.
    Suffix(u64),
    /// `start..end` (end exclusive; sent as `bytes=start-(end-1)`).
    Span { start: u64, end: u64 },
}

impl ByteRange {
    fn header(&self) -> String {
        match *self {
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
            ByteRange::Span { start, end } => format!("bytes={start}-{}", end.saturating_sub(1)),
        }
    }
}

/// The answer to a range request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeResponse {
    NotFound,
    /// `206 Partial Content`: `body` holds the bytes from offset `start`; `total` is the file's
    /// size when the server gave it (`Content-Range: bytes a-b/total`).
    Partial {
        start: u64,
        total: Option<u64>,
        body: Vec<u8>,
    },
    /// The server does not serve ranges (it answered 200 with the whole file, or 416); the
    /// body was not read.
    Unsupported,
}

/// A [`PageStore`] in memory: for tests, and for long-lived processes.
#[derive(Debug, Default)]
pub struct MemoryPageStore {
    pages: Mutex<HashMap<url::Url, CachedPage>>,
}

impl MemoryPageStore {
    pub fn len(&self) -> usize {
        self.pages.lock().map(|p| p.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PageStore for MemoryPageStore {
    fn load(&self, page_url: &url::Url) -> Option<CachedPage> {
        self.pages.lock().ok()?.get(page_url).cloned()
    }

    fn store(&self, page_url: &url::Url, page: &CachedPage) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.insert(page_url.clone(), page.clone());
        }
    }
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
            page_store: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            run_budget: DEFAULT_RUN_BUDGET,
        }
    }
}

impl ClientOptions {
    /// `self` with the request timeout and the run budget from the environment
    /// ([`TIMEOUT_ENV`], [`BUDGET_ENV`]), else from the configuration's `index-timeout` and
    /// `index-budget` (`configured`, in seconds), else as they were.
    pub fn with_time_limits(
        mut self,
        configured: (Option<Duration>, Option<Duration>),
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientOptions, IndexError> {
        let pick =
            |var: &str, configured: Option<Duration>| -> Result<Option<Duration>, IndexError> {
                let bad = |message: String| IndexError::Config {
                    path: None,
                    line: None,
                    message: format!("${var}: {message}"),
                };
                match env(var).filter(|v| !v.trim().is_empty()) {
                    Some(text) => {
                        let value = text.trim().parse::<f64>().map_err(|_| {
                            bad(format!(
                                "`{}` is not a number of seconds",
                                text.escape_debug()
                            ))
                        })?;
                        seconds(value).map(Some).map_err(bad)
                    }
                    None => Ok(configured),
                }
            };
        if let Some(timeout) = pick(TIMEOUT_ENV, configured.0)? {
            self.request_timeout = timeout;
        }
        if let Some(budget) = pick(BUDGET_ENV, configured.1)? {
            self.run_budget = budget;
        }
        Ok(self)
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
    /// The verifying client, for hosts that are not configured indexes.
    strict: reqwest::Client,
    /// The client without certificate checks, for pip's trusted hosts (built only when some
    /// are configured).
    lenient: Option<reqwest::Client>,
    /// pip's `trusted-host` entries (`host` or `host:port`).
    trusted_hosts: Vec<String>,
    /// When the run's budget ([`ClientOptions::run_budget`]) is spent.
    budget_ends: tokio::time::Instant,
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
                // Redirects are followed by hand, each checked (see `redirect_refusal`).
                .redirect(reqwest::redirect::Policy::none())
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
        // pip's trusted-host also skips certificate checks for that host.
        let lenient = if settings.trusted_hosts.is_empty() {
            None
        } else {
            Some(builder(true)?)
        };
        let mut indexes = Vec::new();
        for url in settings.indexes() {
            let trusted = settings.is_trusted(url);
            if !url.is_secure_origin() && !trusted {
                return Err(IndexError::Insecure {
                    index: url.redacted(),
                });
            }
            let http = match &lenient {
                Some(lenient) if trusted && url.url().scheme() == "https" => lenient.clone(),
                _ => strict.clone(),
            };
            indexes.push(Index {
                url: url.clone(),
                http,
            });
        }
        Ok(IndexClient {
            inner: Arc::new(Inner {
                indexes,
                strict,
                lenient,
                trusted_hosts: settings.trusted_hosts.clone(),
                budget_ends: tokio::time::Instant::now() + options.run_budget,
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
        // Every index at once: with an extra index (PyTorch's, a company mirror) a lookup costs
        // one round trip, not one per index.
        let mut tasks = tokio::task::JoinSet::new();
        for position in 0..self.inner.indexes.len() {
            let client = self.clone();
            let name = normalized.clone();
            tasks.spawn(async move { (position, client.page_at(position, &name).await) });
        }
        let mut by_index: Vec<Option<Result<Option<Arc<ProjectPage>>, IndexError>>> =
            (0..self.inner.indexes.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((position, result)) => by_index[position] = Some(result),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
        let mut pages = Vec::new();
        for (position, result) in by_index.into_iter().enumerate() {
            let result = result.unwrap_or_else(|| {
                Err(IndexError::Client(
                    "the lookup task was cancelled".to_owned(),
                ))
            });
            // The first failing index (in configuration order) fails the lookup: a project
            // missing from a broken index is unknown, not absent.
            if let Some(page) = result? {
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
        let url = index.url.project_url(normalized);
        let store = self.inner.options.page_store.as_ref();
        let fresh = store.and_then(|s| s.load_fresh(&url));
        let cached = match fresh {
            Some(_) => None,
            None => store.and_then(|s| s.load(&url)),
        };
        let request = Request {
            url: &url,
            index: &index.url,
            accept: simple::ACCEPT,
            subject: normalized,
            max_bytes: MAX_PAGE_BYTES,
            validators: cached.as_ref(),
            range: None,
            page: true,
        };
        let from_store = fresh.is_some();
        let outcome = match fresh {
            Some(page) => Outcome::Body(page),
            None => self.get_with_retries(request).await?,
        };
        let fetched = match outcome {
            Outcome::Partial { .. } | Outcome::RangeUnsupported => {
                return Err(IndexError::Malformed {
                    project: normalized.to_owned(),
                    index: index.url.redacted(),
                    message: "answered a request without a Range header with partial content"
                        .to_owned(),
                });
            }
            Outcome::NotFound => return Ok(None),
            Outcome::NotModified => match cached {
                Some(page) => page,
                // A 304 to a request without validators is a broken server.
                None => {
                    return Err(IndexError::Malformed {
                        project: normalized.to_owned(),
                        index: index.url.redacted(),
                        message: "answered 304 Not Modified to an unconditional request".to_owned(),
                    });
                }
            },
            Outcome::Body(page) => {
                let revalidatable = page.etag.is_some() || page.last_modified.is_some();
                // A page that came from the store's fresh copy is not written back.
                if let Some(store) = store.filter(|_| revalidatable && !from_store) {
                    store.store(&url, &page);
                }
                page
            }
        };
        let shown = || index.url.redacted();
        match parse_page(&fetched, normalized) {
            Ok(page) => match plain_http_link(&page) {
                Some(file) => Err(IndexError::Malformed {
                    project: normalized.to_owned(),
                    index: shown(),
                    message: format!(
                        "the page, served over https, links `{}` over plain http ({}); files of an https page are fetched over https only",
                        file.filename.escape_debug(),
                        file.url
                    ),
                }),
                None => Ok(Some(Arc::new(page))),
            },
            Err(PageError::Malformed(message)) => Err(IndexError::Malformed {
                project: normalized.to_owned(),
                index: shown(),
                message,
            }),
            Err(PageError::UnsupportedApiVersion(version)) => {
                Err(IndexError::UnsupportedApiVersion {
                    project: normalized.to_owned(),
                    index: shown(),
                    version,
                })
            }
        }
    }

    /// Downloads a file that an index page links to (a PEP 658 `.metadata` file, a wheel), at
    /// most `max_bytes`, with the same retries as pages. The credentials of the configured index
    /// on the same origin (scheme, host, port) are sent, as pip does; other hosts get none.
    /// `Ok(None)` on 404.
    pub async fn fetch_file(
        &self,
        url: &url::Url,
        max_bytes: usize,
    ) -> Result<Option<Vec<u8>>, IndexError> {
        let target = self.file_target(url)?;
        let request = target.request(max_bytes, None);
        match self.get_with_retries(request).await? {
            Outcome::Body(fetched) => Ok(Some(fetched.body)),
            Outcome::NotFound => Ok(None),
            Outcome::NotModified => {
                Err(target.malformed("answered 304 Not Modified to an unconditional request"))
            }
            Outcome::Partial { .. } | Outcome::RangeUnsupported => {
                Err(target
                    .malformed("answered a request without a Range header with partial content"))
            }
        }
    }

    /// Downloads part of a file, as [`IndexClient::fetch_file`] does the whole (same
    /// credentials, retries and redaction). A `206` whose `Content-Range` does not match the
    /// request or the body is an error; a server that ignores ranges gives
    /// [`RangeResponse::Unsupported`] and its body is not read. At most `max_bytes` are read.
    pub async fn fetch_file_range(
        &self,
        url: &url::Url,
        range: ByteRange,
        max_bytes: usize,
    ) -> Result<RangeResponse, IndexError> {
        let target = self.file_target(url)?;
        let header = range.header();
        let request = target.request(max_bytes, Some(&header));
        let (page, content_range) = match self.get_with_retries(request).await? {
            Outcome::NotFound => return Ok(RangeResponse::NotFound),
            Outcome::RangeUnsupported => return Ok(RangeResponse::Unsupported),
            Outcome::Partial {
                page,
                content_range,
            } => (page, content_range),
            Outcome::Body(_) | Outcome::NotModified => {
                return Ok(RangeResponse::Unsupported);
            }
        };
        let Some((start, end, total)) = content_range.as_deref().and_then(parse_content_range)
        else {
            return Err(target.malformed("answered 206 without a valid Content-Range header"));
        };
        let consistent = end >= start
            && page.body.len() as u64 == end - start + 1
            && total.is_none_or(|t| end < t)
            && match range {
                ByteRange::Suffix(n) => total.is_none_or(|t| end + 1 == t && t - start <= n),
                ByteRange::Span { start: s, end: e } => start == s && end < e,
            };
        if !consistent {
            return Err(target.malformed(&format!(
                "answered range {} with bytes {start}-{end} ({} bytes)",
                header,
                page.body.len()
            )));
        }
        Ok(RangeResponse::Partial {
            start,
            total,
            body: page.body,
        })
    }

    /// What a file download names in errors: the configured index on the same origin (scheme,
    /// host, port), else the file's own origin, which must then be https (or local). Which
    /// client and credentials each request uses is [`IndexClient::client_for`]'s choice.
    fn file_target(&self, url: &url::Url) -> Result<FileTarget, IndexError> {
        let mut clean = url.clone();
        let _ = clean.set_username("");
        let _ = clean.set_password(None);
        let index = match self.index_on_origin(url) {
            Some(index) => index.url.clone(),
            None => {
                let anonymous = IndexUrl::parse(clean.origin().ascii_serialization().as_str())
                    .map_err(|message| IndexError::Config {
                        path: None,
                        line: None,
                        message: format!("cannot download {clean}: {message}"),
                    })?;
                if !anonymous.is_secure_origin() && !self.is_trusted_host(&clean) {
                    return Err(IndexError::Insecure {
                        index: anonymous.redacted(),
                    });
                }
                anonymous
            }
        };
        let subject = clean
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .unwrap_or("file")
            .to_owned();
        Ok(FileTarget {
            url: clean,
            index,
            subject,
        })
    }

    /// The configured index on `url`'s origin (scheme, host, port), if any.
    fn index_on_origin(&self, url: &url::Url) -> Option<&Index> {
        let origin = url.origin();
        self.inner
            .indexes
            .iter()
            .find(|i| i.url.url().origin() == origin)
    }

    fn is_trusted_host(&self, url: &url::Url) -> bool {
        super::config::is_trusted_host(&self.inner.trusted_hosts, url)
    }

    /// The client and credentials for one request to `url`: those of the configured index on
    /// its origin, as pip does; for any other host no credentials, and certificate checks
    /// unless it is a trusted host. So credentials never follow a redirect to another origin.
    fn client_for(&self, url: &url::Url) -> (&reqwest::Client, Option<&super::url::Credentials>) {
        if let Some(index) = self.index_on_origin(url) {
            return (&index.http, index.url.credentials());
        }
        match &self.inner.lenient {
            Some(lenient) if self.is_trusted_host(url) => (lenient, None),
            _ => (&self.inner.strict, None),
        }
    }

    /// Why the redirect from `from` to `to` is not followed, or `None` when it is. A redirect
    /// never lowers https to http, and plain http goes only to local hosts and trusted hosts
    /// (as for indexes). A project page is followed only to a host trusted as the index is: a
    /// configured index's host and port, or a trusted host. A file may move to any host, as
    /// its link could have pointed anywhere (its bytes are checked against the page's sha256
    /// where one is given).
    fn redirect_refusal(&self, page: bool, from: &url::Url, to: &url::Url) -> Option<&'static str> {
        if !matches!(to.scheme(), "http" | "https") || to.host_str().is_none() {
            return Some("is not an http(s) URL");
        }
        if from.scheme() == "https" && to.scheme() == "http" {
            return Some("lowers https to plain http");
        }
        let secure = IndexUrl::parse(to.origin().ascii_serialization().as_str())
            .is_ok_and(|origin| origin.is_secure_origin());
        if !secure && !self.is_trusted_host(to) {
            return Some("is plain http to a host that is neither local nor a trusted-host");
        }
        let host_port = |url: &url::Url| {
            (
                url.host_str().map(str::to_ascii_lowercase),
                url.port_or_known_default(),
            )
        };
        let an_index_host = self
            .inner
            .indexes
            .iter()
            .any(|i| host_port(i.url.url()) == host_port(to));
        if page && !an_index_host && !self.is_trusted_host(to) {
            return Some(
                "is another host than the index's (neither a configured index nor a trusted-host)",
            );
        }
        None
    }

    /// One GET with bounded retries, within the request's deadline and the run's budget (see
    /// [`ClientOptions`]).
    async fn get_with_retries(&self, req: Request<'_>) -> Result<Outcome, IndexError> {
        let options = &self.inner.options;
        let request_ends = tokio::time::Instant::now() + options.request_timeout;
        let budget_first = self.inner.budget_ends <= request_ends;
        let ends = request_ends.min(self.inner.budget_ends);
        match tokio::time::timeout_at(ends, self.attempts(&req)).await {
            Ok(outcome) => outcome,
            Err(_) if budget_first => Err(IndexError::Budget {
                project: req.subject.to_owned(),
                index: req.index.redacted(),
                seconds: options.run_budget.as_secs_f64(),
            }),
            Err(_) => Err(IndexError::Deadline {
                project: req.subject.to_owned(),
                index: req.index.redacted(),
                seconds: options.request_timeout.as_secs_f64(),
            }),
        }
    }

    /// One GET and its redirects, each checked by [`IndexClient::redirect_refusal`]. The
    /// answer that is not a redirect comes back with the URL it came from.
    async fn send_following(
        &self,
        req: &Request<'_>,
    ) -> Result<reqwest::Response, Result<IndexError, Failure>> {
        let mut url = req.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let (http, credentials) = self.client_for(&url);
            let mut request = http
                .get(url.clone())
                .header(reqwest::header::ACCEPT, req.accept);
            if let Some(creds) = credentials {
                request = request.basic_auth(&creds.username, creds.password.as_ref());
            }
            if let Some(range) = req.range {
                // With a Range header reqwest asks for no compression: offsets stay raw bytes.
                request = request.header(reqwest::header::RANGE, range);
            }
            if let Some(cached) = req.validators {
                if let Some(etag) = &cached.etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(date) = &cached.last_modified {
                    request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
                }
            }
            let response = request.send().await.map_err(|e| Err(classify(&e)))?;
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let redirect = matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308);
            let Some(location) = location.filter(|_| redirect) else {
                return Ok(response);
            };
            let next = url.join(location.trim()).map_err(|e| {
                Ok(IndexError::Malformed {
                    project: req.subject.to_owned(),
                    index: req.index.redacted(),
                    message: format!("{url} redirects to an invalid URL: {e}"),
                })
            })?;
            if let Some(reason) = self.redirect_refusal(req.page, &url, &next) {
                return Err(Ok(self.refused(req, &url, next, reason)));
            }
            url = next;
        }
        Err(Ok(self.refused(
            req,
            req.url,
            url,
            "is one too many (more than 10 redirects)",
        )))
    }

    fn refused(
        &self,
        req: &Request<'_>,
        from: &url::Url,
        to: url::Url,
        reason: &'static str,
    ) -> IndexError {
        IndexError::Redirect {
            project: req.subject.to_owned(),
            index: req.index.redacted(),
            from: RedactedUrl::new(from.clone()),
            to: RedactedUrl::new(to),
            reason,
        }
    }

    /// The attempts of one GET: connection errors, timeouts, broken-off bodies, 5xx and 429
    /// are retried with exponential backoff (or a short `Retry-After`); 404/410 mean "not
    /// found"; other statuses, and refused redirects, fail at once.
    async fn attempts(&self, req: &Request<'_>) -> Result<Outcome, IndexError> {
        let options = &self.inner.options;
        let shown = req.index.redacted();
        let attempts = options.attempts.max(1);
        let mut last_failure = Failure::Timeout;
        for attempt in 1..=attempts {
            let mut retry_after = None;
            match self.send_following(req).await {
                Err(Ok(final_error)) => return Err(final_error),
                Ok(response) => {
                    let status = response.status();
                    if status == reqwest::StatusCode::NOT_FOUND
                        || status == reqwest::StatusCode::GONE
                    {
                        return Ok(Outcome::NotFound);
                    }
                    if status == reqwest::StatusCode::NOT_MODIFIED {
                        return Ok(Outcome::NotModified);
                    }
                    let partial = status == reqwest::StatusCode::PARTIAL_CONTENT;
                    if req.range.is_some()
                        && (status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE
                            || (status.is_success() && !partial))
                    {
                        return Ok(Outcome::RangeUnsupported);
                    }
                    if status.is_success() {
                        let content_range = response
                            .headers()
                            .get(reqwest::header::CONTENT_RANGE)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        match read_body(response, req.max_bytes).await {
                            Ok(Ok(page)) if partial && req.range.is_some() => {
                                return Ok(Outcome::Partial {
                                    page,
                                    content_range,
                                });
                            }
                            Ok(Ok(fetched)) => return Ok(Outcome::Body(fetched)),
                            Ok(Err(message)) => {
                                return Err(IndexError::Malformed {
                                    project: req.subject.to_owned(),
                                    index: shown,
                                    message,
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
                            project: req.subject.to_owned(),
                            index: shown,
                            status: status.as_u16(),
                            hint: status_hint(status.as_u16(), req.index.credential_source()),
                        });
                    }
                }
                Err(Err(failure)) => last_failure = failure,
            }
            if attempt < attempts {
                let backoff = options.backoff.saturating_mul(1 << (attempt - 1).min(16));
                tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
            }
        }
        let project = req.subject.to_owned();
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

struct FileTarget {
    url: url::Url,
    index: IndexUrl,
    subject: String,
}

impl FileTarget {
    fn request<'a>(&'a self, max_bytes: usize, range: Option<&'a str>) -> Request<'a> {
        Request {
            url: &self.url,
            index: &self.index,
            accept: "*/*",
            subject: &self.subject,
            max_bytes,
            validators: None,
            range,
            page: false,
        }
    }

    fn malformed(&self, message: &str) -> IndexError {
        IndexError::Malformed {
            project: self.subject.clone(),
            index: self.index.redacted(),
            message: message.to_owned(),
        }
    }
}

/// `bytes a-b/total` or `bytes a-b/*` → (a, b, total).
fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?, total))
}

struct Request<'a> {
    /// Without credentials: they go in a header, never in a URL an error could print.
    url: &'a url::Url,
    /// The index whose redacted URL errors name.
    index: &'a IndexUrl,
    accept: &'a str,
    /// What errors name: the project, or the file name.
    subject: &'a str,
    max_bytes: usize,
    /// A stored copy to revalidate (`If-None-Match` / `If-Modified-Since`).
    validators: Option<&'a CachedPage>,
    /// A `Range` header value: a 206 answer becomes [`Outcome::Partial`], a 200 or 416
    /// [`Outcome::RangeUnsupported`] (body unread).
    range: Option<&'a str>,
    /// A project page (redirects only to hosts trusted as the index is), not a file.
    page: bool,
}

enum Outcome {
    NotFound,
    NotModified,
    Body(CachedPage),
    Partial {
        page: CachedPage,
        content_range: Option<String>,
    },
    RangeUnsupported,
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

/// Reads a successful response, at most `max_bytes`. The outer error is a transport failure
/// (retryable), the inner one an oversized body (final).
async fn read_body(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Result<CachedPage, String>, Failure> {
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let url = response.url().clone();
    let body = match crate::http::read_capped_body(&mut response, max_bytes).await {
        Ok(Some(body)) => body,
        Ok(None) => return Ok(Err(format!("response larger than {} MiB", max_bytes >> 20))),
        Err(e) => return Err(classify(&e)),
    };
    Ok(Ok(CachedPage {
        url,
        content_type,
        body,
        etag,
        last_modified,
    }))
}

/// The first file of an https page that links over plain http: a page must not send us to
/// plain http any more than a redirect may.
fn plain_http_link(page: &ProjectPage) -> Option<&DistFile> {
    if page.url.scheme() != "https" {
        return None;
    }
    page.files.iter().find(|f| f.url.scheme() != "https")
}

/// Parses a fetched page as JSON or HTML according to its content type (sniffed when absent).
fn parse_page(fetched: &CachedPage, normalized: &str) -> Result<ProjectPage, PageError> {
    let content_type = fetched
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let looks_json = if content_type.contains("json") {
        true
    } else if content_type.contains("html") {
        false
    } else {
        fetched.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    if looks_json {
        simple::parse_json(&fetched.body, &fetched.url)
    } else {
        simple::parse_html(&fetched.body, &fetched.url, normalized)
    }
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
    fn content_range_parses_and_rejects_garbage() {
        assert_eq!(
            parse_content_range("bytes 10-19/100"),
            Some((10, 19, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, 0, None)));
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes -5/10"), None);
        assert_eq!(ByteRange::Suffix(64).header(), "bytes=-64");
        assert_eq!(ByteRange::Span { start: 5, end: 10 }.header(), "bytes=5-9");
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
