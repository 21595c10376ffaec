//! A blocking facade for the binaries: one small tokio runtime owned by the client.

use std::sync::Arc;

use super::IndexError;
use super::client::{ClientOptions, IndexClient, Project};
use super::config::IndexSettings;
use super::simple::ProjectPage;

/// [`IndexClient`] behind blocking calls. Must not be used from inside an async runtime (tokio
/// forbids nested `block_on`); async code uses [`IndexClient`] directly.
pub struct BlockingIndexClient {
    /// Always `Some` until dropped (see the `Drop` impl).
    runtime: Option<tokio::runtime::Runtime>,
    client: IndexClient,
}

impl Drop for BlockingIndexClient {
    /// Shuts the runtime down without waiting: a lost DNS answer leaves a resolver thread
    /// blocked for the system's 5 s retry, and a plain drop would make the process wait for it
    /// after all the work is done.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for BlockingIndexClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingIndexClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl BlockingIndexClient {
    pub fn new(settings: &IndexSettings, options: ClientOptions) -> Result<Self, IndexError> {
        // Two workers: parsing a big page on one does not stall the other's I/O.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| IndexError::Client(format!("cannot start the async runtime: {e}")))?;
        let client = IndexClient::new(settings, options)?;
        Ok(BlockingIndexClient {
            runtime: Some(runtime),
            client,
        })
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives until the client is dropped")
    }

    pub fn client(&self) -> &IndexClient {
        &self.client
    }

    /// Runs any future of the async client (or the caller's own) on this client's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime().block_on(future)
    }

    /// See [`IndexClient::project`].
    pub fn project(&self, name: &str) -> Result<Option<Project>, IndexError> {
        self.runtime().block_on(self.client.project(name))
    }

    /// See [`IndexClient::page`].
    pub fn page(&self, name: &str) -> Result<Option<Arc<ProjectPage>>, IndexError> {
        self.runtime().block_on(self.client.page(name))
    }

    /// See [`IndexClient::projects`].
    pub fn projects(&self, names: &[String]) -> Vec<(String, Result<Option<Project>, IndexError>)> {
        self.runtime().block_on(self.client.projects(names))
    }

    /// See [`IndexClient::fetch_file`].
    pub fn fetch_file(
        &self,
        url: &url::Url,
        max_bytes: usize,
    ) -> Result<Option<Vec<u8>>, IndexError> {
        self.runtime()
            .block_on(self.client.fetch_file(url, max_bytes))
    }
}
