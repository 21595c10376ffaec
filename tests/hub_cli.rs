//! `mlsupply-hub` end to end: configuration, inline ignores, JSON output and exit codes.

use std::path::Path;
use std::process::Command;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn run(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlsupply-hub"))
        .args(args)
        .arg("--format")
        .arg("json")
        .arg(dir)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "{err}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

fn rules(json: &serde_json::Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn config_trusts_orgs_and_ignores_silence_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("train.py"),
        format!(
            "from transformers import AutoModel\n\
             AutoModel.from_pretrained(\"acme-labs/enc\", revision=\"{SHA}\")\n\
             AutoModel.from_pretrained(\"other/enc\", revision=\"{SHA}\")\n\
             AutoModel.from_pretrained(\"other/enc2\", revision=\"{SHA}\")  # mlsupply: ignore[untrusted-org] reviewed\n"
        ),
    )
    .unwrap();
    let (code, json) = run(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rules(&json),
        vec![
            ("untrusted-org".to_string(), 2),
            ("untrusted-org".to_string(), 3)
        ]
    );

    std::fs::write(
        dir.path().join("mlsupply.toml"),
        "[hub]\ntrusted-orgs = [{ name = \"acme-labs\", reason = \"ours\" }]\n",
    )
    .unwrap();
    let (code, json) = run(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rules(&json), vec![("untrusted-org".to_string(), 3)]);

    // A note alone does not fail the default threshold (warning).
    std::fs::write(
        dir.path().join("train.py"),
        "from transformers import pipeline\npipeline(\"ner\")\n",
    )
    .unwrap();
    let (code, json) = run(dir.path(), &[]);
    assert_eq!(
        rules(&json),
        vec![("implicit-default-model".to_string(), 2)]
    );
    assert_eq!(code, 0);
    let (code, _) = run(dir.path(), &["--fail-on", "note"]);
    assert_eq!(code, 1);
}

#[test]
fn broken_notebook_is_reported_and_python_with_syntax_errors_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.ipynb"), "{\"cells\": [").unwrap();
    std::fs::write(
        dir.path().join("broken.py"),
        "def f(:\n    pass\nAutoModel.from_pretrained(\"EleuterAI/gpt-j-6B\")\n",
    )
    .unwrap();
    let (code, json) = run(dir.path(), &[]);
    assert_eq!(code, 1);
    let found = rules(&json);
    assert!(found.contains(&("parse-error".to_string(), 1)), "{found:?}");
    assert!(
        found.contains(&("lookalike-org".to_string(), 3)),
        "{found:?}"
    );
    assert!(
        found.contains(&("unpinned-revision".to_string(), 3)),
        "{found:?}"
    );
}

#[test]
fn mlsupply_check_runs_the_hub_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("train.py"),
        "from transformers import AutoModel\nAutoModel.from_pretrained(\"0penai/whisper\")\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mlsupply"))
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        rules(&json),
        vec![
            ("lookalike-org".to_string(), 2),
            ("unpinned-revision".to_string(), 2)
        ]
    );
}
