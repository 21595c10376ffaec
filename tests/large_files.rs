//! Files larger than the old 16 MiB limit are scanned, not skipped; a file over the limit, or
//! otherwise unreadable as text, is a `file-skipped` warning that fails the default `--fail-on`,
//! while binary files no surface wants (images, model weights) are never read at all.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const MLSUPPLY: &str = env!("CARGO_BIN_EXE_mlsupply");
const TYPO: &str = env!("CARGO_BIN_EXE_mlsupply-typo");
const PIN: &str = env!("CARGO_BIN_EXE_mlsupply-pin");

/// Just over the old limit of 16 MiB.
const PADDING_BYTES: usize = 17 * 1000 * 1000;

fn run(bin: &str, args: &[&str], cwd: &Path) -> Output {
    let mut command = Command::new(bin);
    command.args(args).current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key == "CI" || key.starts_with("GITHUB_") || key.starts_with("MLSUPPLY_") {
            command.env_remove(key);
        }
    }
    command.output().expect("binary runs")
}

/// `(rule, path, subject, line, severity)` of a finding.
type Row = (String, String, String, u64, String);

/// The findings of a JSON report, and the exit code.
fn report(bin: &str, args: &[&str], cwd: &Path) -> (Vec<Row>, i32) {
    let output = run(bin, args, cwd);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{bin}: stdout is not JSON ({err}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let findings = report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_string();
            (
                text("rule"),
                text("path"),
                text("subject"),
                f["line"].as_u64().unwrap(),
                text("severity"),
            )
        })
        .collect();
    (findings, output.status.code().expect("exit code"))
}

/// Binary files that no surface reads: never a finding, however many there are.
fn add_binaries(root: &Path) {
    fs::write(root.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    fs::create_dir_all(root.join("models")).unwrap();
    fs::write(root.join("models/weights.bin"), [0u8, 1, 2, 3, 0, 255]).unwrap();
}

#[test]
fn a_requirements_file_padded_past_16_mib_is_scanned_by_every_binary() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let comment = format!("# {}\n", "padding ".repeat(125));
    let lines = PADDING_BYTES / comment.len() + 1;
    let mut text = comment.repeat(lines);
    text.push_str("reqeusts==1.0\n");
    fs::write(root.join("requirements.txt"), text).unwrap();
    add_binaries(root);
    let line = lines as u64 + 1;
    // The typo check names the squat; the pin check (which has no typo rule) the same line.
    for (bin, args, rule) in [
        (
            MLSUPPLY,
            &["check", "--format", "json", "."][..],
            "typosquat",
        ),
        (TYPO, &["--format", "json", "."][..], "typosquat"),
        (
            PIN,
            &["--offline", "--format", "json", "."][..],
            "missing-hash",
        ),
    ] {
        let (findings, code) = report(bin, args, root);
        assert!(
            findings.iter().any(|f| f.0 == rule
                && f.1 == "requirements.txt"
                && f.2 == "reqeusts"
                && f.3 == line),
            "{bin}: {findings:#?}"
        );
        assert!(
            findings.iter().all(|f| f.0 != "file-skipped"),
            "{bin}: {findings:#?}"
        );
        assert_eq!(code, 1, "{bin}");
    }
}

#[test]
fn a_notebook_with_a_17_mb_output_is_scanned_to_its_last_cell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let output = "0123456789".repeat(PADDING_BYTES / 10);
    let notebook = format!(
        concat!(
            "{{\"cells\": [\n",
            "{{\"cell_type\": \"code\", \"source\": [\"print(1)\\n\"], \"outputs\": [{{\"output_type\": \"stream\", \"text\": [\"{}\"]}}]}},\n",
            "{{\"cell_type\": \"code\", \"source\": [\"!pip install reqeusts\\n\"], \"outputs\": []}}\n",
            "], \"metadata\": {{}}, \"nbformat\": 4, \"nbformat_minor\": 5}}\n"
        ),
        output
    );
    fs::write(root.join("train.ipynb"), notebook).unwrap();
    add_binaries(root);
    let (findings, code) = report(MLSUPPLY, &["check", "--format", "json", "."], root);
    assert_eq!(
        findings,
        [(
            "typosquat".to_string(),
            "train.ipynb".to_string(),
            "reqeusts".to_string(),
            3,
            "warning".to_string()
        )]
    );
    assert_eq!(code, 1);
}

#[test]
fn a_file_over_the_limit_is_a_warning_that_fails_the_default_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let big = fs::File::create(root.join("requirements.txt")).unwrap();
    // Sparse: no disk space used, and the scan refuses it before reading it.
    big.set_len(mlsupply::files::MAX_FILE_BYTES + 1).unwrap();
    add_binaries(root);
    for (bin, args) in [
        (MLSUPPLY, &["check", "--format", "json", "."][..]),
        (TYPO, &["--format", "json", "."][..]),
    ] {
        let (findings, code) = report(bin, args, root);
        assert_eq!(
            findings,
            [(
                "file-skipped".to_string(),
                "requirements.txt".to_string(),
                "requirements.txt".to_string(),
                1,
                "warning".to_string()
            )],
            "{bin}"
        );
        assert_eq!(code, 1, "{bin}");
    }
}
