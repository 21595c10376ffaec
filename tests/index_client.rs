//! The index client against a local index on 127.0.0.1: formats, errors, retries, credentials.

mod support;

use std::time::{Duration, Instant};

use mlsupply::index::{
    BlockingIndexClient, ClientOptions, IndexArgs, IndexClient, IndexError, IndexInputs,
    IndexSettings,
};
use support::index_server::{FileSpec, IndexServer, JsonPage, html_page};
use wiremock::ResponseTemplate;

/// Fast retries so that failure paths finish quickly.
fn options() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(10),
        attempts: 3,
        ..ClientOptions::default()
    }
}

fn client(url: &str) -> IndexClient {
    IndexClient::new(&IndexSettings::single(url).unwrap(), options()).unwrap()
}

#[tokio::test]
async fn json_page_with_relative_urls_and_accept_header() {
    let server = IndexServer::start().await;
    let page = JsonPage::new("Demo-Pkg")
        .file(FileSpec::sdist("demo-pkg", "1.10.0").uploaded("2024-03-01T10:00:00Z"))
        .file(FileSpec::wheel("demo-pkg", "1.9.0").uploaded("2023-01-01T10:00:00Z"))
        .versions(&["1.10.0", "1.9.0"]);
    server.json_project("demo-pkg", &page).await;

    let project = client(&server.index_url())
        .project("Demo_Pkg")
        .await
        .unwrap()
        .expect("the project exists");
    assert_eq!(project.name, "demo-pkg");
    let found = &project.pages[0].page;
    assert_eq!(found.name, "Demo-Pkg");
    let sdist = &found.files[0];
    assert_eq!(
        sdist.url.as_str(),
        format!("{}/files/demo-pkg-1.10.0.tar.gz", server.server.uri())
    );
    assert_eq!(sdist.sha256().unwrap().len(), 64);
    // PEP 440 order, not listing order.
    let versions: Vec<String> = project
        .versions_of()
        .keys()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(versions, ["1.9.0", "1.10.0"]);

    let requests = server.requests().await;
    let accept = requests[0].headers.get("accept").unwrap().to_str().unwrap();
    assert!(
        accept.starts_with("application/vnd.pypi.simple.v1+json"),
        "{accept}"
    );
}

#[tokio::test]
async fn html_fallback_when_the_server_answers_html() {
    let server = IndexServer::start().await;
    let mut file = FileSpec::wheel("legacy", "2.0");
    file.requires_python = Some(">=3.8,<4".into());
    server
        .html_project("legacy", &html_page(&[file.clone()]))
        .await;

    let page = client(&server.index_url())
        .page("legacy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.files.len(), 1);
    let got = &page.files[0];
    assert_eq!(got.filename, file.filename);
    assert_eq!(got.sha256(), file.sha256.as_deref());
    assert_eq!(got.requires_python.as_deref(), Some(">=3.8,<4"));
    assert!(got.url.as_str().starts_with(&server.server.uri()));
    assert!(page.versions.is_none());
}

#[tokio::test]
async fn missing_project_is_none_not_an_error() {
    let server = IndexServer::start().await;
    let c = client(&server.index_url());
    assert!(c.project("does-not-exist").await.unwrap().is_none());
    assert_eq!(server.hits("does-not-exist").await, 1, "404 is not retried");
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = IndexServer::start().await;
    server
        .json_project(
            "flaky",
            &JsonPage::new("flaky").file(FileSpec::wheel("flaky", "1.0")),
        )
        .await;
    server.fail_first("flaky", 2, 503).await;
    let project = client(&server.index_url()).project("flaky").await.unwrap();
    assert!(project.is_some());
    assert_eq!(server.hits("flaky").await, 3);
}

#[tokio::test]
async fn server_errors_exhaust_bounded_attempts() {
    let server = IndexServer::start().await;
    server.respond("down", ResponseTemplate::new(500)).await;
    let err = client(&server.index_url())
        .project("down")
        .await
        .unwrap_err();
    assert!(
        matches!(err, IndexError::Status { status: 500, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`down`") && text.contains(&server.index_url()),
        "{text}"
    );
    assert_eq!(server.hits("down").await, 3, "exactly `attempts` tries");
}

#[tokio::test]
async fn garbage_and_wrong_api_version_are_clear_errors() {
    let server = IndexServer::start().await;
    server
        .respond(
            "garbage",
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                .set_body_string("{\"meta\": oops"),
        )
        .await;
    server
        .json_project("future", &JsonPage::new("future").api_version("2.0"))
        .await;
    let c = client(&server.index_url());

    let err = c.project("garbage").await.unwrap_err();
    assert!(matches!(err, IndexError::Malformed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("`garbage`") && text.contains("127.0.0.1"),
        "{text}"
    );

    let err = c.project("future").await.unwrap_err();
    assert!(
        matches!(&err, IndexError::UnsupportedApiVersion { version, .. } if version == "2.0"),
        "{err:?}"
    );
}

#[tokio::test]
async fn timeouts_are_reported_as_such() {
    let server = IndexServer::start().await;
    server
        .respond(
            "slow",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
        )
        .await;
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let c = IndexClient::new(
        &settings,
        ClientOptions {
            read_timeout: Duration::from_millis(200),
            attempts: 2,
            ..options()
        },
    )
    .unwrap();
    let err = c.project("slow").await.unwrap_err();
    assert!(
        matches!(err, IndexError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn userinfo_credentials_are_sent_and_never_shown() {
    let server = IndexServer::with_basic_auth("alice", "s3cr3t-t0ken").await;
    server
        .json_project(
            "private",
            &JsonPage::new("private").file(FileSpec::wheel("private", "0.1")),
        )
        .await;

    let good = client(&server.index_url_with("alice", "s3cr3t-t0ken"));
    assert!(good.project("private").await.unwrap().is_some());
    assert!(!format!("{good:?}").contains("s3cr3t"));

    let anonymous = client(&server.index_url())
        .project("private")
        .await
        .unwrap_err();
    assert!(matches!(anonymous, IndexError::Status { status: 401, .. }));
    assert!(anonymous.to_string().contains("netrc"), "{anonymous}");

    let wrong = client(&server.index_url_with("alice", "wr0ng-pw"));
    let err = wrong.project("private").await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wr0ng-pw"), "{text}");
    assert!(text.contains("alice:****@"), "{text}");
}

#[tokio::test]
async fn netrc_credentials_from_injected_environment() {
    let server = IndexServer::with_basic_auth("ci-bot", "n3trc-pass").await;
    server
        .json_project(
            "internal",
            &JsonPage::new("internal").file(FileSpec::wheel("internal", "3.0")),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let netrc = dir.path().join("netrc");
    std::fs::write(
        &netrc,
        "machine 127.0.0.1\n  login ci-bot\n  password n3trc-pass\n",
    )
    .unwrap();
    let inputs = IndexInputs {
        env: [
            ("NETRC".to_owned(), netrc.display().to_string()),
            ("PIP_INDEX_URL".to_owned(), server.index_url()),
            ("PIP_CONFIG_FILE".to_owned(), "/dev/null".to_owned()),
        ]
        .into(),
        home: Some(dir.path().to_owned()),
        etc_dir: None,
    };
    let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs).unwrap();
    let c = IndexClient::new(&settings, options()).unwrap();
    assert!(c.project("internal").await.unwrap().is_some());
}

#[tokio::test]
async fn connection_errors_keep_the_password_out() {
    // Bind then drop a listener: the port is closed, so connecting is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://bob:hunter2@127.0.0.1:{port}/simple/");
    let err = client(&url).project("anything").await.unwrap_err();
    assert!(
        matches!(err, IndexError::Network { attempts: 3, .. }),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("bob:****@127.0.0.1"), "{text}");
}

#[tokio::test]
async fn extra_index_is_consulted_and_merged() {
    let primary = IndexServer::start().await;
    let extra = IndexServer::start().await;
    primary
        .json_project(
            "both",
            &JsonPage::new("both").file(FileSpec::wheel("both", "1.0")),
        )
        .await;
    extra
        .json_project(
            "both",
            &JsonPage::new("both").file(FileSpec::wheel("both", "2.0")),
        )
        .await;
    extra
        .json_project(
            "only-extra",
            &JsonPage::new("only-extra").file(FileSpec::sdist("only-extra", "0.1")),
        )
        .await;
    let args = IndexArgs {
        index_url: Some(primary.index_url()),
        extra_index_urls: vec![extra.index_url()],
        ..Default::default()
    };
    let inputs = IndexInputs {
        env: [("PIP_CONFIG_FILE".to_owned(), "/dev/null".to_owned())].into(),
        ..Default::default()
    };
    let settings = IndexSettings::resolve(&args, &inputs).unwrap();
    let c = IndexClient::new(&settings, options()).unwrap();

    let both = c.project("both").await.unwrap().unwrap();
    assert_eq!(both.pages.len(), 2);
    let versions: Vec<String> = both.versions_of().keys().map(|v| v.to_string()).collect();
    assert_eq!(versions, ["1.0", "2.0"]);
    let only = c.project("only-extra").await.unwrap().unwrap();
    assert_eq!(only.pages.len(), 1);
    assert_eq!(only.pages[0].index.to_string(), extra.index_url());
}

#[tokio::test]
async fn repeated_lookups_are_served_from_memory() {
    let server = IndexServer::start().await;
    server
        .json_project(
            "cached",
            &JsonPage::new("cached").file(FileSpec::wheel("cached", "1.0")),
        )
        .await;
    let c = client(&server.index_url());
    let (a, b) = tokio::join!(c.project("cached"), c.project("Cached"));
    assert!(a.unwrap().is_some() && b.unwrap().is_some());
    assert!(c.project("CACHED").await.unwrap().is_some());
    assert_eq!(server.hits("cached").await, 1);
}

#[tokio::test]
async fn many_projects_with_bounded_concurrency() {
    let server = IndexServer::start().await;
    let delay = Duration::from_millis(200);
    let mut names = Vec::new();
    for i in 0..8 {
        let name = format!("pkg{i}");
        server
            .respond(
                &name,
                ResponseTemplate::new(200)
                    .insert_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                    .set_body_string(JsonPage::new(&name).to_json().to_string())
                    .set_delay(delay),
            )
            .await;
        names.push(name);
    }
    names.push("missing-one".to_owned());
    names.push("PKG0".to_owned()); // a duplicate after normalisation
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let c = IndexClient::new(
        &settings,
        ClientOptions {
            concurrency: 4,
            ..options()
        },
    )
    .unwrap();

    let started = Instant::now();
    let results = c.projects(&names).await;
    let elapsed = started.elapsed();

    let order: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        order,
        [
            "pkg0",
            "pkg1",
            "pkg2",
            "pkg3",
            "pkg4",
            "pkg5",
            "pkg6",
            "pkg7",
            "missing-one"
        ]
    );
    assert!(results[..8].iter().all(|(_, r)| matches!(r, Ok(Some(_)))));
    assert!(matches!(results[8].1, Ok(None)));
    // 8 delayed pages, 4 at a time: at least two rounds, far less than one by one.
    assert!(elapsed >= delay * 2, "{elapsed:?}: concurrency not bounded");
    assert!(elapsed < delay * 8, "{elapsed:?}: requests not concurrent");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let settings = IndexSettings::single("http://mirror.example.invalid/simple").unwrap();
    let err = IndexClient::new(&settings, options()).unwrap_err();
    assert!(matches!(err, IndexError::Insecure { .. }), "{err:?}");
    let mut trusted = settings.clone();
    trusted.trusted_hosts = vec!["mirror.example.invalid".into()];
    assert!(IndexClient::new(&trusted, options()).is_ok());
}

#[test]
fn blocking_facade_works_outside_any_runtime() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = IndexServer::start().await;
        server
            .json_project(
                "sync",
                &JsonPage::new("sync").file(FileSpec::wheel("sync", "1.0")),
            )
            .await;
        server
    });
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let client = BlockingIndexClient::new(&settings, options()).unwrap();
    assert!(client.project("sync").unwrap().is_some());
    assert!(client.page("nope").unwrap().is_none());
    let many = client.projects(&["sync".to_owned(), "nope".to_owned()]);
    assert_eq!(many.len(), 2);
}

#[tokio::test]
async fn stored_pages_are_revalidated_and_reused_on_304() {
    use std::sync::Arc;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate as Template};

    let server = IndexServer::start().await;
    let body = JsonPage::new("etagged")
        .file(FileSpec::wheel("etagged", "1.0"))
        .to_json()
        .to_string();
    Mock::given(method("GET"))
        .and(path("/simple/etagged/"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(Template::new(304))
        .with_priority(1)
        .mount(&server.server)
        .await;
    server
        .respond(
            "etagged",
            Template::new(200)
                .insert_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                .insert_header("ETag", "\"v1\"")
                .set_body_string(body),
        )
        .await;

    let store = Arc::new(mlsupply::index::MemoryPageStore::default());
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let with_store = || ClientOptions {
        page_store: Some(store.clone()),
        ..options()
    };
    let first = IndexClient::new(&settings, with_store()).unwrap();
    let fresh = first.page("etagged").await.unwrap().unwrap();
    assert_eq!(store.len(), 1);

    // A new client (no in-memory memo) revalidates and parses the stored body.
    let second = IndexClient::new(&settings, with_store()).unwrap();
    let revalidated = second.page("etagged").await.unwrap().unwrap();
    assert_eq!(revalidated, fresh);
    let requests = server.requests().await;
    assert_eq!(requests.len(), 2);
    assert!(requests[0].headers.get("if-none-match").is_none());
    assert_eq!(requests[1].headers.get("if-none-match").unwrap(), "\"v1\"");
}

#[tokio::test]
async fn files_get_the_credentials_of_their_own_index_only() {
    use wiremock::matchers::{basic_auth, method, path};
    use wiremock::{Mock, ResponseTemplate as Template};

    let index = IndexServer::with_basic_auth("alice", "pw-for-index").await;
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl.metadata"))
        .and(basic_auth("alice", "pw-for-index"))
        .respond_with(Template::new(200).set_body_string("Metadata-Version: 2.1\nName: demo\n"))
        .mount(&index.server)
        .await;
    let elsewhere = IndexServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cdn/demo.metadata"))
        .respond_with(Template::new(200).set_body_string("Name: demo\n"))
        .mount(&elsewhere.server)
        .await;

    let c = client(&index.index_url_with("alice", "pw-for-index"));
    let url = format!(
        "{}/files/demo-1.0-py3-none-any.whl.metadata",
        index.server.uri()
    );
    let body = c
        .fetch_file(&url.parse().unwrap(), 1 << 20)
        .await
        .unwrap()
        .unwrap();
    assert!(body.starts_with(b"Metadata-Version: 2.1"));

    let other = format!("{}/cdn/demo.metadata", elsewhere.server.uri());
    assert!(
        c.fetch_file(&other.parse().unwrap(), 1 << 20)
            .await
            .unwrap()
            .is_some()
    );
    let sent = elsewhere.requests().await;
    assert!(
        sent[0].headers.get("authorization").is_none(),
        "no credentials to another host"
    );

    let missing = format!("{}/files/nothing.metadata", elsewhere.server.uri());
    assert!(
        c.fetch_file(&missing.parse().unwrap(), 1 << 20)
            .await
            .unwrap()
            .is_none()
    );

    let err = c.fetch_file(&other.parse().unwrap(), 4).await.unwrap_err();
    assert!(
        matches!(err, IndexError::Malformed { .. }),
        "{err:?}: size limit"
    );
}

#[tokio::test]
async fn plain_http_downloads_from_remote_hosts_are_refused() {
    let server = IndexServer::start().await;
    let c = client(&server.index_url());
    let url = "http://cdn.example.invalid/demo-1.0.tar.gz"
        .parse()
        .unwrap();
    let err = c.fetch_file(&url, 1 << 20).await.unwrap_err();
    assert!(matches!(err, IndexError::Insecure { .. }), "{err:?}");
}

#[tokio::test]
async fn a_broken_extra_index_fails_the_lookup() {
    let primary = IndexServer::start().await;
    let broken = IndexServer::start().await;
    primary
        .json_project(
            "pkg",
            &JsonPage::new("pkg").file(FileSpec::wheel("pkg", "1.0")),
        )
        .await;
    broken.respond("pkg", ResponseTemplate::new(503)).await;
    let mut settings = IndexSettings::single(&primary.index_url()).unwrap();
    settings.extra_index_urls =
        vec![mlsupply::index::IndexUrl::parse(&broken.index_url()).unwrap()];
    let err = IndexClient::new(&settings, options())
        .unwrap()
        .project("pkg")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IndexError::Status { status: 503, index, .. } if index.to_string() == broken.index_url()),
        "{err:?}"
    );
}
