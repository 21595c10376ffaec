//! A company CA: the index's certificate is trusted only when its CA file is configured.

mod support;

use std::time::Duration;

use mlsupply::index::{
    ClientOptions, IndexArgs, IndexClient, IndexError, IndexInputs, IndexSettings,
};
use support::index_server::JsonPage;
use support::tls_server::{TestPki, TlsServer};

fn options() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(5),
        attempts: 2,
        ..ClientOptions::default()
    }
}

fn inputs(env: &[(&str, String)]) -> IndexInputs {
    IndexInputs {
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .chain([("PIP_CONFIG_FILE".to_owned(), "/dev/null".to_owned())])
            .collect(),
        ..Default::default()
    }
}

async fn start() -> (TestPki, TlsServer, tempfile::TempDir, String) {
    let pki = TestPki::generate();
    let body = JsonPage::new("corp-lib")
        .versions(&["1.0"])
        .to_json()
        .to_string();
    let server = TlsServer::start(&pki, "application/vnd.pypi.simple.v1+json", body).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("corp-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let ca = ca.display().to_string();
    (pki, server, dir, ca)
}

#[tokio::test]
async fn unknown_ca_fails_and_ssl_cert_file_fixes_it() {
    let (_pki, server, _dir, ca) = start().await;
    let url = server.index_url();

    let settings = IndexSettings::resolve(
        &IndexArgs::default(),
        &inputs(&[("PIP_INDEX_URL", url.clone())]),
    )
    .unwrap();
    let err = IndexClient::new(&settings, options())
        .unwrap()
        .project("corp-lib")
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Network { .. }), "{err:?}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    let env = [("PIP_INDEX_URL", url.clone()), ("SSL_CERT_FILE", ca)];
    let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs(&env)).unwrap();
    let project = IndexClient::new(&settings, options())
        .unwrap()
        .project("corp-lib")
        .await
        .unwrap()
        .expect("served over TLS with the company CA");
    assert_eq!(
        project.pages[0].page.versions.as_deref(),
        Some(&["1.0".to_owned()][..])
    );
}

#[tokio::test]
async fn pip_cert_and_command_line_cert_work_too() {
    let (_pki, server, _dir, ca) = start().await;
    let env = [
        ("PIP_INDEX_URL", server.index_url()),
        ("PIP_CERT", ca.clone()),
    ];
    let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs(&env)).unwrap();
    let client = IndexClient::new(&settings, options()).unwrap();
    assert!(client.project("corp-lib").await.unwrap().is_some());

    let args = IndexArgs {
        index_url: Some(server.index_url()),
        cert: Some(ca.into()),
        ..Default::default()
    };
    let settings = IndexSettings::resolve(&args, &inputs(&[])).unwrap();
    let client = IndexClient::new(&settings, options()).unwrap();
    assert!(client.project("corp-lib").await.unwrap().is_some());
}

#[tokio::test]
async fn trusted_host_skips_verification_like_pip() {
    let (_pki, server, _dir, _ca) = start().await;
    let env = [
        ("PIP_INDEX_URL", server.index_url()),
        ("PIP_TRUSTED_HOST", "localhost".to_owned()),
    ];
    let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs(&env)).unwrap();
    let client = IndexClient::new(&settings, options()).unwrap();
    assert!(client.project("corp-lib").await.unwrap().is_some());
}

#[test]
fn unreadable_or_empty_ca_file_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for path in [empty, dir.path().join("missing.pem")] {
        let env = [("SSL_CERT_FILE", path.display().to_string())];
        let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs(&env)).unwrap();
        let err = IndexClient::new(&settings, options()).unwrap_err();
        assert!(matches!(err, IndexError::Config { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}

/// An https index whose answers come from `answer(path, own port)`; trusted by its CA file.
async fn start_with(
    answer: impl Fn(&str, u16) -> Vec<u8> + Send + Sync + 'static,
) -> (TlsServer, IndexClient, tempfile::TempDir) {
    let (server, dir, ca) = TlsServer::answering(answer).await;
    let index = server
        .index_url()
        .replacen("https://", "https://alice:pw@", 1);
    let env = [("PIP_INDEX_URL", index), ("SSL_CERT_FILE", ca)];
    let settings = IndexSettings::resolve(&IndexArgs::default(), &inputs(&env)).unwrap();
    let client = IndexClient::new(&settings, options()).unwrap();
    (server, client, dir)
}

#[tokio::test]
async fn an_https_page_linking_files_over_plain_http_is_refused() {
    use support::index_server::FileSpec;
    use support::tls_server::ok_response;
    let (_server, client, _dir) = start_with(|_, _| {
        let mut file = FileSpec::wheel("corp-lib", "1.0");
        file.url = "http://127.0.0.1:9/files/corp_lib-1.0-py3-none-any.whl".to_owned();
        let body = JsonPage::new("corp-lib").file(file).to_json().to_string();
        ok_response("application/vnd.pypi.simple.v1+json", &body)
    })
    .await;
    let err = client.project("corp-lib").await.unwrap_err();
    assert!(matches!(err, IndexError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("over plain http"), "{err}");
}

#[tokio::test]
async fn file_redirects_may_change_host_but_never_drop_to_http_or_carry_credentials() {
    use support::tls_server::{ok_response, redirect_response};
    let (server, client, _dir) = start_with(|path, port| match path {
        "/files/a.whl.metadata" => {
            redirect_response(&format!("https://127.0.0.1:{port}/cdn/a.whl.metadata"))
        }
        "/files/b.whl.metadata" => redirect_response("http://127.0.0.1:9/cdn/b.whl.metadata"),
        _ => ok_response("text/plain", "Metadata-Version: 2.1\nName: a\n"),
    })
    .await;
    let base = format!("https://localhost:{}", server.addr.port());
    let moved = client
        .fetch_file(
            &format!("{base}/files/a.whl.metadata").parse().unwrap(),
            1 << 20,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(moved.starts_with(b"Metadata-Version"));
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("authorization: basic")
    );
    assert!(
        requests[1].starts_with("GET /cdn/a.whl.metadata"),
        "{requests:?}"
    );
    assert!(
        !requests[1].to_ascii_lowercase().contains("authorization"),
        "credentials followed the redirect: {}",
        requests[1]
    );

    let err = client
        .fetch_file(
            &format!("{base}/files/b.whl.metadata").parse().unwrap(),
            1 << 20,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Redirect { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("lowers https to plain http"), "{text}");
    assert!(
        text.contains("http://127.0.0.1:9/cdn/b.whl.metadata"),
        "{text}"
    );
}
