//! `mlsupply-typo --online` verdicts against a local index.

mod support;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mlsupply::finding::Severity;
use mlsupply::index::{BlockingIndexClient, ClientOptions, IndexClient, IndexError, IndexSettings};
use mlsupply::typo::online::{
    EscalationPolicy, Presence, check_online, check_online_async, escalate, escalation_reason,
};
use support::index_server::{FileSpec, IndexServer, JsonPage, html_page};
use wiremock::ResponseTemplate;

fn options() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(5),
        attempts: 2,
        ..ClientOptions::default()
    }
}

fn days_ago(now: Timestamp, days: i64) -> String {
    (now - SignedDuration::from_hours(24 * days)).to_string()
}

/// `reqeusts`: young, one release. `requests`: old, many releases. `htmlonly`: no PEP 700 data.
async fn populated_server(now: Timestamp) -> IndexServer {
    let server = IndexServer::start().await;
    server
        .json_project(
            "reqeusts",
            &JsonPage::new("reqeusts")
                .file(FileSpec::sdist("reqeusts", "0.0.1").uploaded(&days_ago(now, 12)))
                .file(FileSpec::wheel("reqeusts", "0.0.1").uploaded(&days_ago(now, 12)))
                .versions(&["0.0.1"]),
        )
        .await;
    let mut old = JsonPage::new("requests");
    for (i, v) in ["2.31.0", "2.9.1", "2.32.3", "2.0.0"].iter().enumerate() {
        old = old.file(FileSpec::wheel("requests", v).uploaded(&days_ago(now, 3000 - i as i64)));
    }
    server
        .json_project(
            "requests",
            &old.versions(&["2.31.0", "2.9.1", "2.32.3", "2.0.0"]),
        )
        .await;
    server
        .html_project(
            "htmlonly",
            &html_page(&[FileSpec::wheel("htmlonly", "1.0")]),
        )
        .await;
    server
}

#[tokio::test]
async fn missing_young_old_and_unknown() {
    let now = Timestamp::now();
    let server = populated_server(now).await;
    let client = IndexClient::new(
        &IndexSettings::single(&server.index_url()).unwrap(),
        options(),
    )
    .unwrap();
    // `requеsts` has a Cyrillic `е`: not a valid name, so no verdict (and no request).
    let names: Vec<String> = [
        "Reqeusts",
        "requests",
        "reqeusts",
        "htmlonly",
        "requеsts",
        "ghost-pkg",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let verdicts = check_online_async(&client, &names).await.unwrap();
    let order: Vec<&str> = verdicts.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        order,
        ["reqeusts", "requests", "htmlonly", "ghost-pkg"],
        "distinct names"
    );
    let policy = EscalationPolicy::default();

    let young = &verdicts[0];
    let facts = young.facts().unwrap();
    assert_eq!(facts.releases, Some(1));
    assert_eq!(facts.first_upload.unwrap().to_string(), days_ago(now, 12));
    assert_eq!(
        escalate(Severity::Warning, young, now, &policy),
        Severity::Error
    );
    assert_eq!(
        escalation_reason(facts, now).as_deref(),
        Some("first uploaded 12 days ago, 1 release")
    );

    let old = &verdicts[1];
    assert_eq!(old.facts().unwrap().releases, Some(4));
    assert_eq!(
        escalate(Severity::Warning, old, now, &policy),
        Severity::Warning
    );

    let unknown = verdicts[2].facts().unwrap();
    assert_eq!((unknown.first_upload, unknown.releases), (None, None));
    assert_eq!(
        escalate(Severity::Warning, &verdicts[2], now, &policy),
        Severity::Warning
    );

    let ghost = &verdicts[3];
    assert!(matches!(ghost.presence, Presence::Missing { .. }));
    assert_eq!(
        ghost.missing_message().unwrap(),
        format!(
            "`ghost-pkg` does not exist on {}: anyone can register it",
            server.index_url()
        )
    );
}

#[tokio::test]
async fn an_index_failure_is_an_error_not_a_missing_package() {
    let server = IndexServer::start().await;
    server.respond("numpy", ResponseTemplate::new(502)).await;
    let client = IndexClient::new(
        &IndexSettings::single(&server.index_url()).unwrap(),
        options(),
    )
    .unwrap();
    let err = check_online_async(&client, &["numpy".to_owned(), "other".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, IndexError::Status { status: 502, .. }),
        "{err:?}"
    );
}

#[test]
fn blocking_check_for_the_binaries() {
    let now = Timestamp::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(populated_server(now));
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let client = BlockingIndexClient::new(&settings, options()).unwrap();
    let verdicts = check_online(&client, &["requests".to_owned(), "nope".to_owned()]).unwrap();
    assert!(verdicts[0].facts().is_some());
    assert!(verdicts[1].missing_message().is_some());
}

/// The whole `mlsupply-typo --online` run: the binary asks the local index and reports a missing
/// name as `unknown-package` and a young look-alike as an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_reports_unknown_and_escalates_young_lookalikes() {
    let server = populated_server(Timestamp::now()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "requests==2.32.3\nreqeusts==0.0.1\nnot-on-any-index-zz==1.0\n",
    )
    .unwrap();
    let index = server.index_url();
    let cwd = dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mlsupply-typo"))
            .args([
                "--no-config",
                "--format",
                "json",
                "--online",
                "--index-url",
                &index,
                ".",
            ])
            .current_dir(cwd)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings: Vec<(String, String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            ("typosquat".into(), "error".into(), "reqeusts".into(), 2),
            (
                "unknown-package".into(),
                "error".into(),
                "not-on-any-index-zz".into(),
                3
            ),
        ],
        "{stderr}"
    );
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("first uploaded 12 days ago, 1 release"),
        "{message}"
    );
}

/// An index that cannot be reached is a run error (exit 2), never "the package is missing".
#[test]
fn binary_fails_cleanly_when_the_index_is_down() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "requests\n").unwrap();
    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mlsupply-typo"))
        .args(["--no-config", "--online", "--index-url"])
        .arg(format!("http://user:s3cret@127.0.0.1:{port}/simple/"))
        .arg(".")
        .current_dir(dir.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the password leaked: {stderr}");
}

/// `--online` gets the same total deadline as the pin binary (`[typo] index-timeout`).
#[test]
fn binary_stops_an_index_that_trickles() {
    let server = support::trickle_server::TrickleServer::start(Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "requests\n").unwrap();
    std::fs::write(
        dir.path().join("mlsupply.toml"),
        "[typo]\nindex-timeout = 0.3\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mlsupply-typo"))
        .args(["--online", "--index-url", &server.index_url(), "."])
        .current_dir(dir.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("MLSUPPLY_INDEX_TIMEOUT")
        .env_remove("MLSUPPLY_INDEX_BUDGET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} did not finish answering within 0.3 s",
            server.index_url()
        )),
        "{stderr}"
    );
}
