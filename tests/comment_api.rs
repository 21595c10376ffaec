//! `mlsupply-comment` against a mock GitHub API on 127.0.0.1: the real binary, a temporary
//! event payload, job summary and output files, and `GITHUB_API_URL` pointed at wiremock.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_mlsupply-comment");
const TOKEN: &str = "ghs_Sup3rSecretTokenValue0123456789";
const REPO: &str = "octo-org/app";
const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
const MARKER: &str = "<!-- mlsupply:report v1 id=default -->";
const COMMENTS: &str = "/repos/octo-org/app/issues/7/comments";

struct Run {
    out: Output,
    summary: String,
    outputs: String,
}

impl Run {
    fn code(&self) -> i32 {
        self.out.status.code().expect("exited")
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
}

/// A temporary Actions environment: event payload, report, summary and output files.
struct Actions {
    dir: tempfile::TempDir,
    api: String,
    event_name: String,
    extra_env: Vec<(String, String)>,
}

impl Actions {
    fn new(api: String) -> Actions {
        let actions = Actions {
            dir: tempfile::tempdir().unwrap(),
            api,
            event_name: "pull_request".into(),
            extra_env: Vec::new(),
        };
        actions.event(&pr_event(json!({"full_name": REPO}), "alice"));
        actions.report(&typo_report());
        actions
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn event(&self, payload: &Value) {
        std::fs::write(self.path("event.json"), payload.to_string()).unwrap();
    }

    fn report(&self, report: &Value) {
        std::fs::write(self.path("report.json"), report.to_string()).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = scrubbed()
            .args(args)
            .arg(self.path("report.json"))
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_EVENT_PATH", self.path("event.json"))
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", &self.api)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("GITHUB_OUTPUT", self.path("output.txt"))
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("the binary runs");
        let read = |name: &str| std::fs::read_to_string(self.path(name)).unwrap_or_default();
        let run = Run {
            out,
            summary: read("summary.md"),
            outputs: read("output.txt"),
        };
        // The token appears nowhere, in any test.
        for (what, text) in [
            ("stdout", run.stdout()),
            ("stderr", run.stderr()),
            ("summary", run.summary.clone()),
            ("outputs", run.outputs.clone()),
        ] {
            assert!(!text.contains(TOKEN), "the token is in {what}:\n{text}");
        }
        let _ = std::fs::remove_file(self.path("summary.md"));
        let _ = std::fs::remove_file(self.path("output.txt"));
        run
    }
}

/// The binary, with nothing from the environment running the tests (which may itself be a
/// GitHub Actions job) leaking in.
fn scrubbed() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if ["GITHUB_", "RUNNER_", "ACTIONS_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            command.env_remove(name);
        }
    }
    command
}

fn pr_event(head_repo: Value, sender: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD, "ref": "feature", "repo": head_repo},
            "base": {"ref": "main", "repo": {"full_name": REPO}}
        },
        "sender": {"login": sender}
    })
}

fn typo_report() -> Value {
    json!({
        "version": 1,
        "tool": "mlsupply-typo",
        "findings": [{
            "rule": "typosquat", "severity": "error",
            "message": "`reqeusts` looks like a typo of `requests` (rank 6)",
            "path": "requirements.txt", "line": 3, "column": 1, "end_line": 3, "end_column": 9,
            "subject": "reqeusts", "suggestion": "did you mean `requests`?",
            "fingerprint": "679c8878fe7dcb99a0e326c0f7d73d38"
        }]
    })
}

fn empty_report() -> Value {
    json!({"version": 1, "tool": "mlsupply", "findings": []})
}

fn comment(id: u64, login: &str, kind: &str, body: &str) -> Value {
    json!({
        "id": id,
        "body": body,
        "user": {"login": login, "type": kind},
        "html_url": format!("https://github.com/{REPO}/pull/7#issuecomment-{id}")
    })
}

fn ours(id: u64, body: &str) -> Value {
    comment(
        id,
        "github-actions[bot]",
        "Bot",
        &format!("{MARKER}\n{body}"),
    )
}

/// `GET …/comments?per_page=100` answering `comments` (one page).
async fn list(server: &MockServer, prefix: &str, comments: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}{COMMENTS}")))
        .and(query_param("per_page", "100"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments))
        .expect(1)
        .mount(server)
        .await;
}

/// Exactly one `PATCH` of comment `id` (under the API `prefix`), answered with the edited comment.
async fn expect_edit(server: &MockServer, prefix: &str, id: u64) {
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{prefix}/repos/octo-org/app/issues/comments/{id}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(ours(id, "new")))
        .expect(1)
        .mount(server)
        .await;
}

/// No comment is created: a `POST` would fail the test when the server drops.
async fn expect_no_new_comment(server: &MockServer) {
    Mock::given(method("POST"))
        .respond_with(created(1))
        .expect(0)
        .mount(server)
        .await;
}

fn created(id: u64) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(comment(id, "github-actions[bot]", "Bot", "x"))
}

async fn requests(server: &MockServer, verb: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == verb)
        .collect()
}

fn body_of(request: &Request) -> String {
    let value: Value = serde_json::from_slice(&request.body).unwrap();
    value["body"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_the_comment_when_none_exists() {
    let server = MockServer::start().await;
    list(&server, "", vec![comment(1, "alice", "User", "LGTM")]).await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(created(100))
        .expect(1)
        .mount(&server)
        .await;
    let actions = Actions::new(server.uri());
    let dry = actions.run(&["--dry-run"]);
    let run = actions.run(&[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let posts = requests(&server, "POST").await;
    let body = body_of(&posts[0]);
    assert!(body.starts_with(MARKER));
    // The body posted is the one --dry-run prints.
    assert_eq!(body, dry.stdout());
    assert!(body.contains(&format!(
        "[line 3](https://github.com/{REPO}/blob/{HEAD}/requirements.txt#L3)"
    )));
    // Annotations on stdout, outputs and summary written.
    assert!(
        run.stdout()
            .starts_with("::error file=requirements.txt,line=3,")
    );
    let url = format!("https://github.com/{REPO}/pull/7#issuecomment-100");
    assert_eq!(
        run.outputs,
        format!("findings=1\nerrors=1\nwarnings=0\nnotes=0\ncomment-url={url}\n")
    );
    assert!(run.summary.contains("1 error in 1 file"));
    assert!(
        run.summary
            .contains(&format!("[on the pull request]({url})"))
    );
    assert!(run.stderr().contains("comment on pull request #7 created"));
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_the_comment_in_place_with_patch() {
    let server = MockServer::start().await;
    list(
        &server,
        "",
        vec![comment(1, "alice", "User", "hi"), ours(50, "old findings")],
    )
    .await;
    expect_edit(&server, "", 50).await;
    expect_no_new_comment(&server).await;
    let run = Actions::new(server.uri()).run(&["--fail-on", "never"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let patches = requests(&server, "PATCH").await;
    assert!(body_of(&patches[0]).contains("reqeusts"));
    assert!(
        run.outputs
            .contains("comment-url=https://github.com/octo-org/app/pull/7#issuecomment-50\n")
    );
    assert!(run.stderr().contains("updated"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_body_sends_no_patch() {
    let server = MockServer::start().await;
    let actions = Actions::new(server.uri());
    let body = actions.run(&["--dry-run"]).stdout();
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![comment(
            9,
            "github-actions[bot]",
            "Bot",
            &body,
        )]))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    expect_no_new_comment(&server).await;
    let run = actions.run(&[]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr().contains("already up to date"),
        "{}",
        run.stderr()
    );
    assert!(
        run.outputs
            .contains("comment-url=https://github.com/octo-org/app/pull/7#issuecomment-9\n")
    );
}

/// Three pages linked with `Link: rel="next"`; our comment is on the third.
async fn three_pages(server: &MockServer, prefix: &str) {
    let base = format!(
        "{}{prefix}/repositories/123/issues/7/comments",
        server.uri()
    );
    let others = |from: u64| -> Vec<Value> {
        (from..from + 100)
            .map(|id| comment(id, "someone", "User", "a comment"))
            .collect()
    };
    Mock::given(method("GET"))
        .and(path(format!("{prefix}{COMMENTS}")))
        .and(query_param("per_page", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(others(1))
                .insert_header(
                    "link",
                    format!("<{base}?per_page=100&page=2>; rel=\"next\", <{base}?per_page=100&page=3>; rel=\"last\""),
                ),
        )
        .expect(1)
        .mount(server)
        .await;
    // The later pages are reached only through the links, at the repository-id URL GitHub gives.
    let later = [
        (
            "2",
            others(101),
            format!(
                "<{base}?per_page=100&page=1>; rel=\"prev\", <{base}?per_page=100&page=3>; rel=\"next\""
            ),
        ),
        (
            "3",
            vec![ours(250, "old"), comment(251, "bob", "User", "x")],
            format!("<{base}?per_page=100&page=2>; rel=\"prev\""),
        ),
    ];
    for (page, comments, link) in later {
        Mock::given(method("GET"))
            .and(path(format!("{prefix}/repositories/123/issues/7/comments")))
            .and(query_param("page", page))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(comments)
                    .insert_header("link", link),
            )
            .expect(1)
            .mount(server)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_comment_on_the_third_page_is_found_not_duplicated() {
    let server = MockServer::start().await;
    three_pages(&server, "").await;
    expect_edit(&server, "", 250).await;
    expect_no_new_comment(&server).await;
    let run = Actions::new(server.uri()).run(&[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn ghes_keeps_the_api_v3_prefix_on_every_request() {
    let server = MockServer::start().await;
    three_pages(&server, "/api/v3").await;
    expect_edit(&server, "/api/v3", 250).await;
    let mut actions = Actions::new(format!("{}/api/v3", server.uri()));
    actions
        .extra_env
        .push(("GITHUB_SERVER_URL".into(), "https://ghe.example.com".into()));
    let run = actions.run(&[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    for request in server.received_requests().await.unwrap() {
        assert!(
            request.url.path().starts_with("/api/v3/"),
            "{}",
            request.url
        );
    }
    let patch = &requests(&server, "PATCH").await[0];
    assert!(body_of(patch).contains(&format!("https://ghe.example.com/{REPO}/blob/{HEAD}/")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_page_on_another_server_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(Vec::<Value>::new())
                .insert_header("link", "<https://evil.example/steal?page=2>; rel=\"next\""),
        )
        .mount(&server)
        .await;
    expect_no_new_comment(&server).await;
    let run = Actions::new(server.uri()).run(&[]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("on another server"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_from_races_are_deleted_and_the_oldest_kept() {
    let server = MockServer::start().await;
    list(
        &server,
        "",
        vec![
            ours(30, "b"),
            ours(20, "a"),
            comment(25, "mallory", "User", &format!("{MARKER}\nfake")),
            comment(
                26,
                "github-actions[bot]",
                "Bot",
                "<!-- mlsupply:report v1 id=other -->\n",
            ),
            ours(40, "c"),
        ],
    )
    .await;
    expect_edit(&server, "", 20).await;
    for id in [30, 40] {
        Mock::given(method("DELETE"))
            .and(path(format!("/repos/octo-org/app/issues/comments/{id}")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    let run = Actions::new(server.uri()).run(&[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(requests(&server, "DELETE").await.len(), 2);
    assert!(run.stderr().contains("deleted 2 duplicate comment(s)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_results_edit_the_comment_to_all_clear() {
    let server = MockServer::start().await;
    list(&server, "", vec![ours(50, "3 errors")]).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo-org/app/issues/comments/50"))
        .and(body_partial_json(json!({})))
        .respond_with(ResponseTemplate::new(200).set_body_json(ours(50, "all clear")))
        .expect(1)
        .mount(&server)
        .await;
    let actions = Actions::new(server.uri());
    actions.report(&empty_report());
    let run = actions.run(&[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let body = body_of(&requests(&server, "PATCH").await[0]);
    assert!(
        body.starts_with(MARKER) && body.contains("all clear"),
        "{body}"
    );
    assert!(body.chars().count() < 400, "a short all-clear: {body}");
    assert!(run.outputs.starts_with("findings=0\nerrors=0\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_results_without_a_comment_create_none() {
    let server = MockServer::start().await;
    list(&server, "", vec![]).await;
    expect_no_new_comment(&server).await;
    let actions = Actions::new(server.uri());
    actions.report(&empty_report());
    let run = actions.run(&[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(!run.outputs.contains("comment-url"));
    assert!(run.stderr().contains("all clear, and no earlier comment"));
}

/// An auto-fix that leaves nothing to report is still news: without a comment the PR would never
/// hear of the commit pushed to its branch.
#[tokio::test(flavor = "multi_thread")]
async fn an_autofix_commit_with_nothing_left_creates_the_comment() {
    let server = MockServer::start().await;
    list(&server, "", vec![]).await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(created(101))
        .expect(1)
        .mount(&server)
        .await;
    let actions = Actions::new(server.uri());
    actions.report(&empty_report());
    let fix = "0123456789abcdef0123456789abcdef01234567";
    let run = actions.run(&["--autofix-commit", fix]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let body = body_of(&requests(&server, "POST").await[0]);
    assert!(
        body.starts_with(MARKER) && body.contains("all clear"),
        "{body}"
    );
    assert!(
        body.contains(&format!("(https://github.com/{REPO}/commit/{fix})")),
        "the commit is linked: {body}"
    );
    assert!(run.outputs.contains("comment-url="));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_falls_back_to_the_summary_with_the_same_exit_code() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&server)
        .await;
    let actions = Actions::new(server.uri());
    for (fail_on, code) in [("error", 1), ("never", 0)] {
        let run = actions.run(&["--fail-on", fail_on]);
        assert_eq!(run.code(), code, "{}", run.stderr());
        assert!(
            run.stderr()
                .contains("Resource not accessible by integration")
        );
        assert!(
            run.summary
                .contains("No comment was posted on the pull request")
        );
        assert!(run.summary.contains("reqeusts"));
        assert!(run.stdout().contains("::error file=requirements.txt"));
        assert!(!run.outputs.contains("comment-url"));
    }
    // Not retried: a 403 without rate-limit headers is a refusal.
    assert_eq!(requests(&server, "POST").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn forks_and_dependabot_skip_the_api() {
    let server = MockServer::start().await;
    let actions = Actions::new(server.uri());
    for (event, why) in [
        (
            pr_event(json!({"full_name": "mallory/app"}), "mallory"),
            "comes from a fork",
        ),
        (pr_event(Value::Null, "mallory"), "comes from a fork"),
        (
            pr_event(json!({"full_name": REPO}), "dependabot[bot]"),
            "from Dependabot",
        ),
    ] {
        actions.event(&event);
        let run = actions.run(&[]);
        assert_eq!(run.code(), 1, "{}", run.stderr());
        assert!(run.stderr().contains(why), "{}", run.stderr());
        assert!(run.summary.contains(why));
        assert!(run.summary.contains("reqeusts"));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn other_events_and_no_comment_touch_nothing() {
    let server = MockServer::start().await;
    let mut actions = Actions::new(server.uri());
    let run = actions.run(&["--no-comment"]);
    assert_eq!(run.code(), 1);
    assert!(run.summary.contains("reqeusts") && run.outputs.contains("findings=1"));
    actions.event_name = "push".into();
    actions.event(&json!({"ref": "refs/heads/main"}));
    let run = actions.run(&[]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr()
            .contains("the push event is not about a pull request")
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn workflow_run_checks_the_pull_request_head_before_posting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/app/pulls/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "number": 7, "head": {"sha": HEAD, "repo": {"full_name": "mallory/app"}}
        })))
        .mount(&server)
        .await;
    list(&server, "", vec![]).await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(created(5))
        .expect(1)
        .mount(&server)
        .await;
    let mut actions = Actions::new(server.uri());
    actions.event_name = "workflow_run".into();
    actions.event(
        &json!({"workflow_run": {"head_sha": HEAD, "event": "pull_request", "pull_requests": []}}),
    );
    let run = actions.run(&["--pr", "7", "--head-sha", HEAD]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.outputs.contains("comment-url="));

    // A report about another commit is not posted on the pull request.
    let other = "f".repeat(40);
    actions.event(&json!({"workflow_run": {"head_sha": other, "pull_requests": []}}));
    let run = actions.run(&["--pr", "7", "--head-sha", &other]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("refusing to comment"),
        "{}",
        run.stderr()
    );
    assert_eq!(requests(&server, "POST").await.len(), 1);
    // Without --pr there is nothing to comment on.
    let run = actions.run(&[]);
    assert_eq!(run.code(), 1);
    assert!(run.stderr().contains("pass --pr and --head-sha"));
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_once() {
    let server = MockServer::start().await;
    list(&server, "", vec![]).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "secondary rate limit"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created(8))
        .with_priority(2)
        .mount(&server)
        .await;
    let run = Actions::new(server.uri()).run(&[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(requests(&server, "POST").await.len(), 2);
    assert!(run.outputs.contains("issuecomment-8"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_exit_2_without_leaking_the_token() {
    let server = MockServer::start().await;
    // A server that echoes the token back in its error message.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"message": format!("bad credentials {TOKEN}")})),
        )
        .mount(&server)
        .await;
    let run = Actions::new(server.uri()).run(&["--fail-on", "never"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("HTTP 500: bad credentials ***"),
        "{}",
        run.stderr()
    );
    // The summary and outputs are still written.
    assert!(run.summary.contains("could not be posted") && run.summary.contains("reqeusts"));
    assert!(run.outputs.contains("findings=1"));
    // Retried once (5xx), then given up.
    assert_eq!(requests(&server, "GET").await.len(), 2);
}

#[test]
fn unusable_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("bad.json", "{\"version\": 1,", "not valid JSON"),
        (
            "sarif.json",
            "{\"version\": \"2.1.0\", \"runs\": []}",
            "SARIF",
        ),
        (
            "v2.json",
            "{\"version\": 2, \"findings\": []}",
            "unsupported",
        ),
        ("missing.json", "", "cannot read report"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        if !text.is_empty() {
            std::fs::write(&path, text).unwrap();
        }
        let out = scrubbed().arg("--dry-run").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(expected),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn reports_merge_from_files_and_stdin_and_sarif_is_written() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.json");
    std::fs::write(&file, typo_report().to_string()).unwrap();
    let sarif = dir.path().join("out.sarif");
    let mut child = scrubbed()
        .args(["--dry-run", "--fail-on", "warning", "--sarif"])
        .arg(&sarif)
        .arg(&file)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The same finding again (same fingerprint) and a hub warning.
    let mut both = typo_report();
    both["tool"] = json!("mlsupply");
    let mut hub = both["findings"][0].clone();
    hub["rule"] = json!("untrusted-org");
    hub["severity"] = json!("warning");
    hub["path"] = json!("train.py");
    hub["fingerprint"] = json!("aaaa");
    both["findings"].as_array_mut().unwrap().push(hub);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(both.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(body.contains("1 error and 1 warning in 2 files"), "{body}");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_report_is_posted_under_the_limit_saying_what_was_cut() {
    let server = MockServer::start().await;
    list(&server, "", vec![]).await;
    Mock::given(method("POST"))
        .and(path(COMMENTS))
        .respond_with(created(77))
        .expect(1)
        .mount(&server)
        .await;
    let findings: Vec<Value> = (0..3_000)
        .map(|n| {
            json!({
                "rule": "unpinned", "severity": "warning",
                "message": format!("`package-{n}>=1.0` is not pinned to one version with `==`"),
                "path": format!("requirements/r{}.txt", n / 40), "line": n % 40 + 1,
                "column": 1, "end_line": n % 40 + 1, "end_column": 5,
                "subject": format!("package-{n}"), "suggestion": "pin it",
                "fingerprint": format!("{n:032x}")
            })
        })
        .collect();
    let actions = Actions::new(server.uri());
    actions.report(&json!({"version": 1, "tool": "mlsupply-pin", "findings": findings}));
    let sarif = actions.path("all.sarif");
    let run = actions.run(&["--sarif", sarif.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let body = body_of(&requests(&server, "POST").await[0]);
    let chars = body.chars().count();
    assert!(chars <= 60_000, "{chars} characters");
    assert!(
        body.contains("findings (") && body.contains("Not shown here: "),
        "{body}"
    );
    assert!(body.contains(
        "[the job summary of this run](https://github.com/octo-org/app/actions/runs/42) and in \
         the SARIF file it wrote."
    ));
    assert!(
        run.outputs
            .starts_with("findings=3000\nerrors=0\nwarnings=3000\n")
    );
    // The summary holds everything.
    assert_eq!(run.summary.matches("**warning**").count(), 3_000);
    // Annotations: 10 warnings, then one notice counting the rest.
    let stdout = run.stdout();
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("::warning "))
            .count(),
        10
    );
    assert!(stdout.contains("::notice title=mlsupply%3A more findings::2990 more findings"));
}

#[test]
fn an_unreachable_api_exits_2_after_writing_the_summary() {
    let actions = Actions::new("http://127.0.0.1:9".into());
    let run = actions.run(&[]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains("GET /repos/octo-org/app/issues/7/comments"),
        "{}",
        run.stderr()
    );
    assert!(run.summary.contains("reqeusts") && run.outputs.contains("findings=1"));
}

#[test]
fn links_point_at_the_autofix_commit_the_checks_ran_on() {
    let actions = Actions::new("http://127.0.0.1:9".into());
    let fix = "fedcba9876543210fedcba9876543210fedcba98";
    let run = actions.run(&["--dry-run", "--autofix-commit", fix]);
    let body = run.stdout();
    assert!(body.contains(&format!(
        "[line 3](https://github.com/{REPO}/blob/{fix}/requirements.txt#L3)"
    )));
    assert!(body.contains(&format!(
        "commit [`fedcba9`](https://github.com/{REPO}/commit/{fix}) was pushed to this branch"
    )));
    assert!(!body.contains(HEAD));
    let run = actions.run(&["--dry-run", "--autofix-commit", "fedcba9"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains("--autofix-commit must be a full commit sha")
    );
}

#[test]
fn a_broken_event_payload_exits_2_naming_it() {
    let actions = Actions::new("http://127.0.0.1:9".into());
    std::fs::write(actions.path("event.json"), "{\"pull_request\": ").unwrap();
    let run = actions.run(&["--dry-run"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("event.json is not valid JSON"),
        "{}",
        run.stderr()
    );
    actions.event(&json!({"pull_request": {"number": 7, "head": {"sha": "main"}}}));
    let run = actions.run(&["--dry-run"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains("pull_request.head.sha is missing or not a commit sha")
    );
}

#[test]
fn a_server_url_that_is_not_http_gives_no_links() {
    let mut actions = Actions::new("http://127.0.0.1:9".into());
    actions
        .extra_env
        .push(("GITHUB_SERVER_URL".into(), "javascript:alert(1)//".into()));
    let run = actions.run(&["--dry-run"]);
    let body = run.stdout();
    assert_eq!(run.code(), 1);
    assert!(
        !body.contains("](") && !body.contains("javascript"),
        "{body}"
    );
    assert!(body.contains("`typosquat` line 3: `reqeusts` looks like a typo"));
}
