//! The whole pipeline on one fixture repository: the real `mlsupply-pin` (offline, and online
//! against a local index for its proposed fixes), `mlsupply-typo` and `mlsupply-hub` write JSON
//! reports, and `mlsupply-comment` turns them into the comment, printed with `--dry-run` and
//! posted to a mock GitHub API.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::index_server::{FileSpec, IndexServer, JsonPage, fake_sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";
const REPO: &str = "octo-org/ml-app";

/// Runs one of the suite's binaries in `dir` with a clean environment.
fn tool(bin: &str, dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let devnull = if cfg!(windows) { "nul" } else { "/dev/null" };
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("PIP_CONFIG_FILE", devnull)
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("the binary runs")
}

/// Writes a binary's `--format json` report to `reports/<name>.json` and returns its path.
fn report(bin: &str, repo: &Path, name: &str, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let out = tool(bin, repo, &all, &[]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{bin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dest = repo.join("reports").join(format!("{name}.json"));
    std::fs::write(&dest, &out.stdout).unwrap();
    dest.display().to_string()
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("requirements.txt"),
        "# serving\nreqeusts==2.31.0\ndemo>=1.0\n",
    )
    .unwrap();
    std::fs::write(
        root.join("train.py"),
        "from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained(\"EleuterAI/gpt-j-6b\")\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("reports")).unwrap();
    // Keep the reports out of the scans.
    std::fs::write(root.join(".ignore"), "reports/\n").unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn pin_typo_and_hub_reports_feed_the_comment() {
    let index = IndexServer::start().await;
    index
        .json_project(
            "demo",
            &JsonPage::new("demo")
                .file(FileSpec::wheel("demo", "1.2"))
                .file(FileSpec::sdist("demo", "1.2")),
        )
        .await;
    index
        .json_project(
            "reqeusts",
            &JsonPage::new("reqeusts").file(FileSpec::wheel("reqeusts", "2.31.0")),
        )
        .await;
    let dir = fixture();
    let repo = dir.path();
    let index_url = index.index_url();
    let reports = [
        report(
            env!("CARGO_BIN_EXE_mlsupply-pin"),
            repo,
            "pin-offline",
            &["--offline"],
        ),
        report(
            env!("CARGO_BIN_EXE_mlsupply-pin"),
            repo,
            "pin",
            &["--no-deps", "--no-cache", "--index-url", &index_url],
        ),
        report(env!("CARGO_BIN_EXE_mlsupply-typo"), repo, "typo", &[]),
        report(env!("CARGO_BIN_EXE_mlsupply-hub"), repo, "hub", &[]),
        // `mlsupply check` repeats the offline findings of all three.
        report(env!("CARGO_BIN_EXE_mlsupply"), repo, "check", &["check"]),
    ];

    // The online pin report carries the diff --fix would write.
    let pin: Value = serde_json::from_str(&std::fs::read_to_string(&reports[1]).unwrap()).unwrap();
    let fixes = pin["fixes"].as_array().expect("fixes in the pin report");
    assert_eq!(fixes.len(), 1);
    assert_eq!(fixes[0]["path"], "requirements.txt");
    let diff = fixes[0]["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- a/requirements.txt\n+++ b/requirements.txt\n"));
    assert!(diff.contains(&format!(
        "--hash=sha256:{}",
        fake_sha256("demo-1.2-py3-none-any.whl")
    )));
    // --diff in JSON: the same fixes, no findings.
    let only_diff = report(
        env!("CARGO_BIN_EXE_mlsupply-pin"),
        repo,
        "pin-diff",
        &[
            "--diff",
            "--no-deps",
            "--no-cache",
            "--index-url",
            &index_url,
        ],
    );
    let only_diff: Value =
        serde_json::from_str(&std::fs::read_to_string(&only_diff).unwrap()).unwrap();
    assert_eq!(only_diff["findings"], json!([]));
    assert_eq!(&only_diff["fixes"], &pin["fixes"]);
    std::fs::remove_file(repo.join("reports/pin-diff.json")).unwrap();
    // `mlsupply check` finds what the three found, with the same fingerprints.
    let fingerprints = |path: &str| -> Vec<String> {
        let report: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let check = fingerprints(&reports[4]);
    let others: Vec<String> = reports[..4].iter().flat_map(|r| fingerprints(r)).collect();
    assert!(check.len() >= 4, "{check:?}");
    assert!(
        check.iter().all(|f| others.contains(f)),
        "{check:?} {others:?}"
    );
    // The offline report has no fixes, so the field is absent.
    let offline: Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[0]).unwrap()).unwrap();
    assert!(offline.get("fixes").is_none());

    // The event of a same-repository pull request.
    let event = repo.join("event.json");
    std::fs::write(
        &event,
        json!({
            "number": 12,
            "pull_request": {
                "number": 12,
                "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": REPO}},
                "base": {"ref": "main", "repo": {"full_name": REPO}}
            },
            "sender": {"login": "alice"}
        })
        .to_string(),
    )
    .unwrap();
    let github = MockServer::start().await;
    let env = vec![
        ("GITHUB_EVENT_NAME", "pull_request".to_string()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_REPOSITORY", REPO.to_string()),
        ("GITHUB_API_URL", github.uri()),
        ("GITHUB_TOKEN", "ghs_pipelinetoken".to_string()),
        ("GITHUB_RUN_ID", "7".to_string()),
    ];
    let mut args: Vec<&str> = vec!["--dry-run", "--sarif", "merged.sarif"];
    args.extend(reports.iter().map(String::as_str));
    let comment = env!("CARGO_BIN_EXE_mlsupply-comment");
    let dry = tool(comment, repo, &args, &env);
    let body = String::from_utf8(dry.stdout).unwrap();
    assert_eq!(
        dry.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );

    // Every tool's findings, grouped by file and linked to the head commit.
    assert!(body.starts_with("<!-- mlsupply:report v1 id=default -->\n### 🔴 mlsupply: "));
    for tool in ["mlsupply-pin", "mlsupply-typo", "mlsupply-hub"] {
        assert!(
            body.contains(&format!("| {} |", tool.replace('-', "\\-"))),
            "{tool}\n{body}"
        );
    }
    for rule in ["typosquat", "unpinned", "missing-hash", "lookalike-org"] {
        assert!(body.contains(&format!("`{rule}`")), "{rule}\n{body}");
    }
    let blob = format!("https://github.com/{REPO}/blob/{HEAD}");
    assert!(body.contains(&format!(
        "#### [`requirements.txt`]({blob}/requirements.txt)"
    )));
    assert!(body.contains(&format!("[line 3]({blob}/train.py#L3)")));
    // The proposed fix, in a diff fence, under its file's findings.
    let fix_at = body
        .find("Proposed fix for `requirements.txt`")
        .expect("the fix");
    assert!(body[fix_at..].contains("```diff\n--- a/requirements.txt\n"));
    // The file with an error (the look-alike organisation) comes first.
    let train_at = body.find(&format!("{blob}/train.py")).unwrap();
    let requirements_at = body.find(&format!("{blob}/requirements.txt")).unwrap();
    assert!(train_at < requirements_at && requirements_at < fix_at);
    // The pin checks (offline, online, and in `mlsupply check`) report the same unpinned line
    // once; `mlsupply check`'s typosquat and look-alike are those of mlsupply-typo and -hub.
    for rule in ["unpinned", "typosquat", "lookalike-org"] {
        assert_eq!(
            body.matches(&format!("`{rule}`")).count(),
            1,
            "{rule}\n{body}"
        );
    }
    assert!(
        !body.contains("| mlsupply |"),
        "every finding is attributed to its own tool"
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("merged.sarif")).unwrap()).unwrap();
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());

    // The same body is posted to the pull request.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 3, "body": "", "user": {"login": "github-actions[bot]", "type": "Bot"},
            "html_url": format!("https://github.com/{REPO}/pull/12#issuecomment-3")
        })))
        .expect(1)
        .mount(&github)
        .await;
    args.remove(0);
    let posted = tool(comment, repo, &args, &env);
    assert_eq!(posted.status.code(), Some(1));
    for output in [&posted.stdout, &posted.stderr] {
        assert!(!String::from_utf8_lossy(output).contains("ghs_pipelinetoken"));
    }
    let request = &github.received_requests().await.unwrap()[1];
    let sent: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent["body"].as_str().unwrap(), body);
}
