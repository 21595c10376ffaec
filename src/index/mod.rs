//! The package-index client: pip's index configuration, the Simple Repository API (PEP 691 JSON
//! with PEP 503 HTML fallback), credentials that never reach a message, retries and bounded
//! concurrency.
//!
//! ```no_run
//! use mlsupply::index::{BlockingIndexClient, ClientOptions, IndexArgs, IndexInputs, IndexSettings};
//! let settings = IndexSettings::resolve(&IndexArgs::default(), &IndexInputs::from_process())?;
//! let client = BlockingIndexClient::new(&settings, ClientOptions::default())?;
//! if let Some(project) = client.project("requests")? {
//!     println!("{} files", project.files().count());
//! }
//! # Ok::<(), mlsupply::index::IndexError>(())
//! ```

mod blocking;
pub mod cache;
mod client;
pub mod config;
pub mod metadata;
pub mod simple;
pub mod tls;
pub mod url;

use std::path::PathBuf;

pub use blocking::BlockingIndexClient;
pub use cache::{Cache, DiskPageStore, MetadataCache};
pub use client::{
    BUDGET_ENV, ByteRange, CachedPage, ClientOptions, DEFAULT_REQUEST_TIMEOUT, DEFAULT_RUN_BUDGET,
    FoundPage, IndexClient, MAX_PAGE_BYTES, MemoryPageStore, PageStore, Project, RangeResponse,
    TIMEOUT_ENV, seconds,
};
pub use config::{IndexArgs, IndexInputs, IndexSettings, Origin};
pub use metadata::{
    DistMetadata, MetadataError, MetadataFetcher, MetadataSource, blocking_dist_metadata,
    dist_metadata, parse_core_metadata, pick_metadata_file,
};
pub use simple::{CoreMetadata, DistFile, DistKind, ProjectPage, versions_of};
pub use url::{CredentialSource, Credentials, IndexUrl, RedactedUrl};

/// Everything that can go wrong talking to an index. Every variant that concerns a project names
/// it and the index (credentials masked).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Bad index configuration: a pip.conf, netrc or certificate file, or a bad URL.
    #[error("{}{message}", config_place(path, line))]
    Config {
        path: Option<PathBuf>,
        line: Option<u32>,
        message: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// Not a valid project name, so not something to ask an index about.
    #[error("`{project}` is not a valid package name")]
    InvalidName { project: String },
    /// A plain-http index that is neither local nor a `trusted-host`.
    #[error(
        "{index} uses plain http: anyone on the network can change what it serves. Use https, or add the host to pip's trusted-host if you accept that"
    )]
    Insecure { index: RedactedUrl },
    /// An HTTP status that is neither success nor "not found", after retries for 5xx/429.
    #[error("`{project}`: {index} answered HTTP {status}{hint}")]
    Status {
        project: String,
        index: RedactedUrl,
        status: u16,
        hint: &'static str,
    },
    /// Connection failures, after all attempts.
    #[error("`{project}`: no answer from {index} after {attempts} attempts: {message}")]
    Network {
        project: String,
        index: RedactedUrl,
        attempts: u32,
        message: String,
    },
    /// A redirect that lowers the scheme or leaves the hosts trusted as the index is.
    #[error("`{project}`: {index}: {from} redirects to {to}, which {reason}; not followed")]
    Redirect {
        project: String,
        index: RedactedUrl,
        from: RedactedUrl,
        to: RedactedUrl,
        reason: &'static str,
    },
    /// One request (all its attempts) outlived [`ClientOptions::request_timeout`].
    #[error(
        "`{project}`: {index} did not finish answering within {seconds} s (the `index-timeout` limit)"
    )]
    Deadline {
        project: String,
        index: RedactedUrl,
        seconds: f64,
    },
    /// The run's requests together outlived [`ClientOptions::run_budget`].
    #[error(
        "`{project}`: the run's {seconds} s for index requests (the `index-budget` limit) ran out before {index} answered"
    )]
    Budget {
        project: String,
        index: RedactedUrl,
        seconds: f64,
    },
    #[error("`{project}`: {index} timed out ({attempts} attempts)")]
    Timeout {
        project: String,
        index: RedactedUrl,
        attempts: u32,
    },
    /// The page could not be read as PEP 691 JSON or PEP 503 HTML.
    #[error("`{project}`: malformed project page from {index}: {message}")]
    Malformed {
        project: String,
        index: RedactedUrl,
        message: String,
    },
    #[error("`{project}`: {index} serves simple API version {version}; only 1.x is supported")]
    UnsupportedApiVersion {
        project: String,
        index: RedactedUrl,
        version: String,
    },
}

fn config_place(path: &Option<PathBuf>, line: &Option<u32>) -> String {
    match (path, line) {
        (Some(path), Some(line)) => format!("{}:{line}: ", path.display()),
        (Some(path), None) => format!("{}: ", path.display()),
        _ => String::new(),
    }
}
