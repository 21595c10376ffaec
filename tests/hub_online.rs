//! `mlsupply-hub --online` and `--fix --online` against a local server answering like the Hub API.

use std::path::Path;
use std::process::{Command, Output};

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA_ENCODER: &str = "1111111111111111111111111111111111111111";
const SHA_USER: &str = "2222222222222222222222222222222222222222";
const SHA_DATA: &str = "3333333333333333333333333333333333333333";
const TOKEN: &str = "hf_secret_test_token_xyz";

const SOURCE: &str = r#"from transformers import AutoModel
from datasets import load_dataset

a = AutoModel.from_pretrained("verifiedco/encoder")
b = AutoModel.from_pretrained(
    "someuser/model",
    revision="main",
)
c = AutoModel.from_pretrained("smallorg/gone")
d = AutoModel.from_pretrained("ghost-org/x")
e = load_dataset("smallorg/data", split="train",)  # keep this comment
"#;

const FIXED: &str = r#"from transformers import AutoModel
from datasets import load_dataset

a = AutoModel.from_pretrained("verifiedco/encoder", revision="1111111111111111111111111111111111111111")
b = AutoModel.from_pretrained(
    "someuser/model",
    revision="2222222222222222222222222222222222222222",
)
c = AutoModel.from_pretrained("smallorg/gone")
d = AutoModel.from_pretrained("ghost-org/x")
e = load_dataset("smallorg/data", split="train", revision="3333333333333333333333333333333333333333",)  # keep this comment
"#;

async fn json_at(server: &MockServer, at: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

async fn status_at(server: &MockServer, at: &str, status: u16) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(
            ResponseTemplate::new(status).set_body_json(serde_json::json!({"error": "not found"})),
        )
        .mount(server)
        .await;
}

/// A hub that knows a verified organisation, an unverified one, a user, and nothing of `ghost-org`.
async fn hub() -> MockServer {
    let server = MockServer::start().await;
    json_at(
        &server,
        "/api/organizations/verifiedco/overview",
        serde_json::json!({"name": "verifiedco", "isVerified": true}),
    )
    .await;
    json_at(
        &server,
        "/api/organizations/smallorg/overview",
        serde_json::json!({"name": "smallorg", "isVerified": false}),
    )
    .await;
    status_at(&server, "/api/organizations/someuser/overview", 404).await;
    json_at(
        &server,
        "/api/users/someuser/overview",
        serde_json::json!({"user": "someuser"}),
    )
    .await;
    status_at(&server, "/api/organizations/ghost-org/overview", 404).await;
    status_at(&server, "/api/users/ghost-org/overview", 404).await;
    // The token must reach the API as a bearer token.
    Mock::given(method("GET"))
        .and(path("/api/models/verifiedco/encoder"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "verifiedco/encoder", "sha": SHA_ENCODER})),
        )
        .mount(&server)
        .await;
    json_at(
        &server,
        "/api/models/someuser/model",
        serde_json::json!({"id": "someuser/model", "sha": SHA_USER}),
    )
    .await;
    json_at(
        &server,
        "/api/datasets/smallorg/data",
        serde_json::json!({"id": "smallorg/data", "sha": SHA_DATA}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/models/smallorg/gone"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-error-code", "RepoNotFound")
                .set_body_json(serde_json::json!({"error": "Repository not found"})),
        )
        .mount(&server)
        .await;
    status_at(&server, "/api/models/ghost-org/x", 404).await;
    server
}

fn run(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlsupply-hub"))
        .args(args)
        .args(["--no-config", "--format", "json"])
        .arg(dir)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_TOKEN", TOKEN)
        .output()
        .unwrap()
}

fn findings(out: &Output) -> Vec<(String, String, String, u64)> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "{err}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut found: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

fn has(found: &[(String, String, String, u64)], rule: &str, severity: &str, subject: &str) -> bool {
    found
        .iter()
        .any(|(r, s, subj, _)| r == rule && s == severity && subj == subject)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), SOURCE).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_refines_orgs_and_reports_missing_names() {
    let server = hub().await;
    let dir = project();
    let out = run(dir.path(), &server.uri(), &["--online"]);
    let found = findings(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Verified organisation: the warning becomes a note; the unverified one and the user stay.
    assert!(
        has(&found, "untrusted-org", "note", "verifiedco/encoder"),
        "{found:?}"
    );
    assert!(
        !has(&found, "untrusted-org", "warning", "verifiedco/encoder"),
        "{found:?}"
    );
    assert!(
        has(&found, "untrusted-org", "warning", "someuser/model"),
        "{found:?}"
    );
    assert!(
        has(&found, "untrusted-org", "warning", "smallorg/gone"),
        "{found:?}"
    );
    // A namespace nobody holds is an error; a missing repository of a real one a warning.
    assert!(
        has(&found, "missing-hub-repo", "error", "ghost-org/x"),
        "{found:?}"
    );
    assert!(
        has(&found, "missing-hub-repo", "warning", "smallorg/gone"),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|f| f.0 == "missing-hub-repo" && f.2 != "ghost-org/x" && f.2 != "smallorg/gone"),
        "{found:?}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Nothing is written without --fix, and the token is never shown.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).unwrap(),
        SOURCE
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    assert!(!stderr.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_pins_revisions_and_a_second_run_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let server = hub().await;
    let dir = project();
    let file = dir.path().join("app.py");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();

    let out = run(dir.path(), &server.uri(), &["--online", "--fix"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), FIXED, "{stderr}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(
        stderr.contains("not fixed app.py:9 `smallorg/gone`: the repository does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not fixed app.py:10 `ghost-org/x`"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
    // The findings after the fix: the pinned calls are no longer unpinned.
    let found = findings(&out);
    for id in ["verifiedco/encoder", "someuser/model", "smallorg/data"] {
        assert!(
            !found
                .iter()
                .any(|f| f.0 == "unpinned-revision" && f.2 == id),
            "{id}: {found:?}"
        );
    }
    assert!(
        has(&found, "unpinned-revision", "warning", "ghost-org/x"),
        "{found:?}"
    );

    // Idempotent: a second run leaves every byte where it was.
    let again = run(dir.path(), &server.uri(), &["--online", "--fix"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), FIXED);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("pinned app.py"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_requires_online_and_a_dead_hub_is_reported_not_fatal() {
    let dir = project();
    let out = Command::new(env!("CARGO_BIN_EXE_mlsupply-hub"))
        .args(["--fix", "--no-config"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--online"));

    // A server that answers 500 to everything: offline findings still come out, with a warning.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let out = run(dir.path(), &server.uri(), &["--online", "--fix"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the hub could not be asked"), "{stderr}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    assert!(has(
        &findings(&out),
        "untrusted-org",
        "warning",
        "smallorg/gone"
    ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).unwrap(),
        SOURCE
    );
}

#[test]
fn edit_for_adds_or_replaces_the_revision_keyword() {
    use mlsupply::hub::fix::edit_for;
    let sha = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    let apply = |src: &str, needle: &str| {
        let edit = edit_for(src, src.find(needle).unwrap(), sha)?;
        let mut out = src.to_string();
        out.replace_range(edit.range, &edit.text);
        Ok::<_, &str>(out)
    };
    assert_eq!(
        apply("m = f(\"o/n\")\n", "\"o/n\"").unwrap(),
        format!("m = f(\"o/n\", revision=\"{sha}\")\n")
    );
    assert_eq!(
        apply("m = f(\"o/n\", revision='v1.0', x=1)\n", "\"o/n\"").unwrap(),
        format!("m = f(\"o/n\", revision=\"{sha}\", x=1)\n")
    );
    // The inner call is the one holding the id.
    assert_eq!(
        apply("g(f(\"o/n\"), 2)\n", "\"o/n\"").unwrap(),
        format!("g(f(\"o/n\", revision=\"{sha}\"), 2)\n")
    );
    assert!(apply("f(\"o/n\", **kw)\n", "\"o/n\"").is_err());
    assert!(edit_for("f(\"o/n\")", 2, "main").is_err());
    assert!(edit_for("x = \"o/n\"\n", 5, sha).is_err());
}

#[cfg(feature = "live-tests")]
#[test]
fn live_hub_answers() {
    use mlsupply::hub::RepoKind;
    use mlsupply::hub::online::{HubApi, NamespaceStatus, RepoStatus};
    let api = HubApi::new("https://huggingface.co", None).unwrap();
    assert_eq!(
        api.namespace("google").unwrap(),
        NamespaceStatus::VerifiedOrg
    );
    match api.repo(RepoKind::Model, "openai-community/gpt2").unwrap() {
        RepoStatus::Found { sha: Some(sha) } => assert!(mlsupply::hub::is_full_commit(&sha)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        api.repo(RepoKind::Model, "google/this-model-does-not-exist-mlsupply")
            .unwrap(),
        RepoStatus::Missing
    );
}

#[test]
fn two_ids_of_one_call_never_get_two_revisions() {
    use mlsupply::finding::Span;
    use mlsupply::hub::online::{Answers, Located, RepoStatus};
    use mlsupply::hub::{Fetch, Hub, RepoId};
    use mlsupply::source::SourceFile;

    let dir = tempfile::tempdir().unwrap();
    let text = "p = pipeline(\"fill-mask\", model=\"o/a\", tokenizer=\"o/b\")\n".to_string();
    let abs = dir.path().join("p.py");
    std::fs::write(&abs, &text).unwrap();
    let file = SourceFile::new("p.py", &abs, text.clone());
    let at = |needle: &str| -> Span {
        let start = text.find(needle).unwrap();
        file.span(start..start + needle.len())
    };
    let fetch = |id: &str| Located {
        file: file.clone(),
        fetch: Fetch::new(
            Hub::HuggingFace,
            "pipeline",
            RepoId::Known(id.to_string()),
            at(&format!("\"{id}\"")),
        ),
    };
    let mut answers = Answers::default();
    let sha_a = "a".repeat(40);
    answers.repos.insert(
        ("o/a".to_string(), "model"),
        RepoStatus::Found {
            sha: Some(sha_a.clone()),
        },
    );
    answers.repos.insert(
        ("o/b".to_string(), "model"),
        RepoStatus::Found {
            sha: Some("b".repeat(40)),
        },
    );
    let report = mlsupply::hub::fix::fix(dir.path(), &[fetch("o/a"), fetch("o/b")], &answers);
    assert_eq!(report.pinned.len(), 1, "{report:?}");
    assert_eq!(report.unfixed.len(), 1, "{report:?}");
    assert_eq!(report.unfixed[0].id, "o/b");
    assert_eq!(
        std::fs::read_to_string(&abs).unwrap(),
        format!(
            "p = pipeline(\"fill-mask\", model=\"o/a\", tokenizer=\"o/b\", revision=\"{sha_a}\")\n"
        )
    );
}

/// A call to pin: `o/a` without a revision.
const PINNABLE: &str = "m = AutoModel.from_pretrained(\"o/a\")\n";

/// The fetch in [`PINNABLE`], as read from `abs` (named `rel`).
fn pinnable(rel: &str, abs: &Path) -> mlsupply::hub::online::Located {
    use mlsupply::hub::{Fetch, Hub, RepoId};
    let file = mlsupply::source::SourceFile::new(rel, abs, PINNABLE.to_string());
    let start = PINNABLE.find("\"o/a\"").unwrap();
    mlsupply::hub::online::Located {
        fetch: Fetch::new(
            Hub::HuggingFace,
            "from_pretrained",
            RepoId::Known("o/a".to_string()),
            file.span(start..start + 5),
        ),
        file,
    }
}

/// The hub's answer: `o/a` is at commit `sha`.
fn o_a_at(sha: &str) -> mlsupply::hub::online::Answers {
    let mut answers = mlsupply::hub::online::Answers::default();
    answers.repos.insert(
        ("o/a".to_string(), "model"),
        mlsupply::hub::online::RepoStatus::Found {
            sha: Some(sha.to_string()),
        },
    );
    answers
}

/// Two files to pin, and the second cannot be written (its directory is gone): neither changes,
/// and the error names the second.
#[test]
fn a_hub_fix_that_cannot_write_one_file_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("z")).unwrap();
    let fetches = ["a.py", "z/b.py"].map(|rel| {
        let abs = dir.path().join(rel);
        std::fs::write(&abs, PINNABLE).unwrap();
        pinnable(rel, &abs)
    });
    std::fs::remove_dir_all(dir.path().join("z")).unwrap();
    let report = mlsupply::hub::fix::fix(dir.path(), &fetches, &o_a_at(&"a".repeat(40)));
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, dir.path().join("z/b.py"));
    assert!(report.failed[0].1.contains("z/b.py"), "{report:?}");
    assert!(
        report.written.is_empty() && report.pinned.is_empty(),
        "{report:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        PINNABLE
    );
}

/// A symlinked file is pinned through its link: the target (inside the root) gets the new
/// text and the link stays a link.
#[cfg(unix)]
#[test]
fn a_symlinked_file_is_written_through_its_link() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real/p.py");
    std::fs::write(&real, PINNABLE).unwrap();
    let link = dir.path().join("p.py");
    std::os::unix::fs::symlink("real/p.py", &link).unwrap();
    let sha = "a".repeat(40);
    let report = mlsupply::hub::fix::fix(dir.path(), &[pinnable("p.py", &link)], &o_a_at(&sha));
    assert_eq!(report.pinned.len(), 1, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    let link_type = std::fs::symlink_metadata(&link).unwrap().file_type();
    assert!(link_type.is_symlink());
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        format!("m = AutoModel.from_pretrained(\"o/a\", revision=\"{sha}\")\n")
    );
}

#[test]
fn tokens_stay_off_plain_http_and_out_of_debug_output() {
    use mlsupply::hub::online::HubApi;
    let remote = HubApi::new("http://mirror.example", Some(TOKEN.to_string())).unwrap();
    assert!(remote.token_withheld());
    let local = HubApi::new("http://127.0.0.1:9", Some(TOKEN.to_string())).unwrap();
    assert!(!local.token_withheld());
    let secure = HubApi::new("https://user:pw@hub.example/base", Some(TOKEN.to_string())).unwrap();
    assert!(!secure.token_withheld());
    assert_eq!(secure.endpoint(), "https://hub.example/base/");
    assert!(!format!("{secure:?}").contains(TOKEN));
    assert!(HubApi::new("ftp://hub.example", None).is_err());
    assert!(HubApi::new("not a url", None).is_err());
}

/// Copies the offline fixtures' Python files (not the expectation-marked notebook) to `to`.
fn copy_fixtures(to: &Path) -> Vec<String> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hub");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".py") {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
            names.push(name);
        }
    }
    names.sort();
    names
}

fn syntax_errors(source: &str) -> usize {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(source, None).unwrap();
    let mut count = 0;
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        stack.extend(node.children(&mut cursor));
    }
    count
}

/// Every id the fixtures fetch exists at one commit: the fix must leave every file valid Python,
/// touch only what it pins, and do nothing the second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixing_the_offline_fixtures_keeps_them_valid_python() {
    use wiremock::matchers::path_regex;
    const SHA: &str = "4444444444444444444444444444444444444444";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/organizations/[^/]+/overview$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"isVerified": false})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/(models|datasets|spaces)/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"sha": SHA})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let names = copy_fixtures(dir.path());
    let before: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.path().join(n)).unwrap())
        .collect();
    let out = run(dir.path(), &server.uri(), &["--online", "--fix"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let pinned = stderr.matches("mlsupply-hub: pinned ").count();
    assert!(pinned >= 10, "{stderr}");
    let mut inserted = 0;
    for (name, old) in names.iter().zip(&before) {
        let new = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(syntax_errors(&new), syntax_errors(old), "{name}:\n{new}");
        inserted += new.matches(SHA).count();
        // Line by line: a changed line is the old one with `, revision="<sha>"` inserted, or
        // with one value replaced by `"<sha>"`; every other byte is where it was.
        assert_eq!(new.lines().count(), old.lines().count(), "{name}");
        for (new_line, old_line) in new.lines().zip(old.lines()) {
            if new_line == old_line {
                continue;
            }
            let quoted = format!("\"{SHA}\"");
            let inserted_here =
                new_line.replacen(&format!(", revision={quoted}"), "", 1) == old_line;
            let replaced_here = new_line.split_once(&quoted).is_some_and(|(before, after)| {
                old_line.starts_with(before)
                    && old_line.ends_with(after)
                    && before.ends_with("revision=")
            });
            assert!(
                inserted_here || replaced_here,
                "{name}:\n{old_line}\n{new_line}"
            );
        }
    }
    assert_eq!(inserted, pinned, "{stderr}");
    let after: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.path().join(n)).unwrap())
        .collect();
    let again = run(dir.path(), &server.uri(), &["--online", "--fix"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("mlsupply-hub: pinned "));
    for (name, text) in names.iter().zip(&after) {
        assert_eq!(
            &std::fs::read_to_string(dir.path().join(name)).unwrap(),
            text
        );
    }
}

/// The hub client follows redirects as the index client does: never to another host (here the
/// same server under another name), so an answer cannot come from elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = server.uri().replace("127.0.0.1", "localhost");
    Mock::given(method("GET"))
        .and(path("/api/organizations/moved/overview"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{elsewhere}/elsewhere/overview")),
        )
        .mount(&server)
        .await;
    json_at(
        &server,
        "/elsewhere/overview",
        serde_json::json!({"isVerified": true}),
    )
    .await;
    let endpoint = server.uri();
    let err = tokio::task::spawn_blocking(move || {
        mlsupply::hub::online::HubApi::new(&endpoint, None)
            .unwrap()
            .namespace("moved")
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(err.to_string().contains("another host"), "{err}");
}
