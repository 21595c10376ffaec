//! The on-disk cache against a local index on 127.0.0.1: pages revalidated (304) or reused
//! within a max-age, metadata reused by file hash, corruption treated as a miss, no secrets on
//! disk.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mlsupply::index::metadata::MetadataFetcher;
use mlsupply::index::{
    Cache, ClientOptions, DistFile, IndexClient, IndexSettings, MetadataError, MetadataSource,
};
use support::dist_files::{
    MetadataAt, PageFile, build_sdist, build_wheel, file_path, metadata_text, requests_for,
    serve_file, serve_metadata_file, serve_page,
};
use support::index_server::IndexServer;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

const WHEEL: &str = "demo_pkg-1.0-py3-none-any.whl";
const PAGE: &str = "/simple/demo-pkg/";

fn options() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(10),
        attempts: 2,
        ..ClientOptions::default()
    }
}

/// A new client (so nothing is memoised in memory) over `cache`.
fn client(url: &str, cache: &Cache) -> IndexClient {
    IndexClient::new(
        &IndexSettings::single(url).unwrap(),
        cache.client_options(options()),
    )
    .unwrap()
}

async fn demo_index() -> (IndexServer, String) {
    let server = IndexServer::start().await;
    let text = metadata_text("demo-pkg", "1.0", &["numpy>=1.22"]);
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 1000);
    serve_page(
        &server,
        "demo-pkg",
        &[PageFile::new(WHEEL, &wheel).with_metadata(&text)],
    )
    .await;
    // The page's ETag is "page-v1": a request that quotes it gets 304.
    Mock::given(method("GET"))
        .and(path(PAGE))
        .and(header("if-none-match", "\"page-v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server.server)
        .await;
    serve_metadata_file(&server, WHEEL, &text).await;
    serve_file(&server, WHEEL, wheel, true).await;
    (server, text)
}

async fn demo_file(client: &IndexClient) -> DistFile {
    let project = client.project("demo-pkg").await.unwrap().unwrap();
    project.files().next().unwrap().clone()
}

/// (status-200 page requests, conditional page requests).
async fn page_requests(server: &IndexServer) -> (usize, usize) {
    let requests = server.requests().await;
    let pages: Vec<_> = requests.iter().filter(|r| r.url.path() == PAGE).collect();
    let conditional = pages
        .iter()
        .filter(|r| r.headers.get("if-none-match").is_some())
        .count();
    (pages.len() - conditional, conditional)
}

#[tokio::test]
async fn pages_are_revalidated_and_reused_on_304() {
    let (server, _) = demo_index().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());

    let first = demo_file(&client(&server.index_url(), &cache)).await;
    assert_eq!(page_requests(&server).await, (1, 0));
    let second = demo_file(&client(&server.index_url(), &cache)).await;
    assert_eq!(second, first, "the stored page, after a 304");
    assert_eq!(page_requests(&server).await, (1, 1));
}

#[tokio::test]
async fn young_pages_skip_the_request_within_max_age() {
    let (server, _) = demo_index().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let young = |cache: &Cache| {
        let mut options = options();
        options.page_store = Some(Arc::new(
            cache.pages().with_max_age(Duration::from_secs(300)),
        ));
        IndexClient::new(
            &IndexSettings::single(&server.index_url()).unwrap(),
            options,
        )
        .unwrap()
    };
    demo_file(&young(&cache)).await;
    demo_file(&young(&cache)).await;
    assert_eq!(
        page_requests(&server).await,
        (1, 0),
        "no second request at all"
    );
    // The default store always asks.
    demo_file(&client(&server.index_url(), &cache)).await;
    assert_eq!(page_requests(&server).await, (1, 1));
}

#[tokio::test]
async fn metadata_is_reused_without_requests_and_corruption_is_a_miss() {
    let (server, _) = demo_index().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let metadata_path = format!("{}.metadata", file_path(WHEEL));

    let fetch = |cache: &Cache| {
        let client = client(&server.index_url(), cache);
        let cache = cache.metadata();
        async move {
            let file = demo_file(&client).await;
            MetadataFetcher::new(client, Some(cache)).get(&file).await
        }
    };
    let cold = fetch(&cache).await.unwrap();
    assert_eq!(cold.source, MetadataSource::MetadataFile);
    assert_eq!(requests_for(&server, &metadata_path).await.len(), 1);

    let warm = fetch(&cache).await.unwrap();
    assert_eq!(warm.source, MetadataSource::Cache);
    assert_eq!(warm.requires_dist.len(), 1);
    assert_eq!(
        requests_for(&server, &metadata_path).await.len(),
        1,
        "no new request"
    );
    assert!(requests_for(&server, &file_path(WHEEL)).await.is_empty());

    // Damage the stored blob: its digest fails, so it is fetched again and rewritten.
    let client = client(&server.index_url(), &cache);
    let file = demo_file(&client).await;
    let blob = cache.metadata().path_of(&file).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 0x20;
    std::fs::write(&blob, &bytes).unwrap();
    let refetched = fetch(&cache).await.unwrap();
    assert_eq!(refetched.source, MetadataSource::MetadataFile);
    assert_eq!(requests_for(&server, &metadata_path).await.len(), 2);
    assert_eq!(fetch(&cache).await.unwrap().source, MetadataSource::Cache);

    // Truncated to nothing and to garbage: also misses, never errors.
    for junk in [&b""[..], &b"mlsupply-cache-1\n{not json\n"[..]] {
        std::fs::write(&blob, junk).unwrap();
        assert_eq!(fetch(&cache).await.unwrap().requires_dist.len(), 1);
    }

    // Keyed by the file's hash: the same URL with another sha256 is a miss.
    let mut other = file.clone();
    other.hashes.insert("sha256".to_owned(), "1".repeat(64));
    assert!(cache.metadata().get(&other).is_none());
    assert!(cache.metadata().get(&file).is_some());
}

#[tokio::test]
async fn without_a_disk_cache_one_fetcher_still_asks_once() {
    let (server, _) = demo_index().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server.index_url(), &Cache::new(dir.path()));
    let file = demo_file(&client).await;
    let fetcher = MetadataFetcher::new(client, None);
    let first = fetcher.get(&file).await.unwrap();
    let again = fetcher.clone().get(&file).await.unwrap();
    assert_eq!(first.requires_dist, again.requires_dist);
    let metadata_path = format!("{}.metadata", file_path(WHEEL));
    assert_eq!(requests_for(&server, &metadata_path).await.len(), 1);
    // `None` really is no disk cache: only the page store wrote anything.
    assert!(!dir.path().join("metadata-v1").exists());
}

#[tokio::test]
async fn dynamic_sdist_outcome_comes_from_the_cache_too() {
    let server = IndexServer::start().await;
    let sdist_name = "demo-pkg-2.0.tar.gz";
    let sdist = build_sdist(
        "demo-pkg",
        "2.0",
        "Metadata-Version: 2.2\nName: demo-pkg\nVersion: 2.0\nDynamic: Requires-Dist\n",
    );
    serve_page(&server, "demo-pkg", &[PageFile::new(sdist_name, &sdist)]).await;
    serve_file(&server, sdist_name, sdist, true).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());

    for _ in 0..2 {
        let client = client(&server.index_url(), &cache);
        let file = demo_file(&client).await;
        let err = MetadataFetcher::new(client, Some(cache.metadata()))
            .get(&file)
            .await
            .unwrap_err();
        assert!(matches!(err, MetadataError::DynamicSdist { .. }), "{err:?}");
    }
    assert_eq!(requests_for(&server, &file_path(sdist_name)).await.len(), 1);
}

#[tokio::test]
async fn no_credentials_reach_the_cache() {
    let (server, _) = demo_index().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let client = client(&server.index_url_with("alice", "s3cret-token"), &cache);
    let file = demo_file(&client).await;
    MetadataFetcher::new(client, Some(cache.metadata()))
        .get(&file)
        .await
        .unwrap();
    let mut seen = 0;
    visit(dir.path(), &mut |path| {
        seen += 1;
        let name = path.to_string_lossy();
        assert!(
            !name.contains("s3cret") && !name.contains("alice"),
            "{name}"
        );
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        assert!(
            !text.contains("s3cret") && !text.contains("alice"),
            "{name}"
        );
    });
    assert_eq!(seen, 2, "one page and one metadata blob");
}

#[test]
fn no_cache_flag_gives_no_cache() {
    assert!(Cache::from_env(true).is_none());
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, f);
        } else {
            f(&path);
        }
    }
}
