//! End-to-end runs of the binaries on fixture repositories: what a user sees and the exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/repos")
        .join(name)
}

/// Runs a binary with an environment scrubbed of anything that changes its behaviour.
fn run(bin: &str, args: &[&str], cwd: &Path) -> Output {
    let mut command = Command::new(bin);
    command.args(args).current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key == "CI"
            || key == "NO_COLOR"
            || key == "FORCE_COLOR"
            || key == "CLICOLOR_FORCE"
            || key.starts_with("GITHUB_")
            || key.starts_with("PIP_")
            || key.starts_with("MLSUPPLY_")
        {
            command.env_remove(key);
        }
    }
    command.output().expect("binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn findings(report: &Value) -> Vec<(String, String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

const TYPO: &str = env!("CARGO_BIN_EXE_mlsupply-typo");
const MLSUPPLY: &str = env!("CARGO_BIN_EXE_mlsupply");

#[test]
fn typo_finds_squats_on_every_surface_and_exits_1() {
    let repo = fixture("squatted");
    let output = run(TYPO, &["--format", "json", "."], &repo);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["version"], 1);
    assert_eq!(report["tool"], "mlsupply-typo");
    let found = findings(&report);
    let expected = [
        ("typosquat", "requirements.txt", "reqeusts", 3),
        ("typosquat", "requirements/dev.txt", "colourama", 2),
        ("typosquat", "pyproject.toml", "tensorfow", 6),
        ("typosquat", ".github/workflows/ci.yml", "beautifulsup4", 9),
        ("typosquat", "Dockerfile", "urlib3", 4),
    ];
    for (rule, path, subject, line) in expected {
        assert!(
            found.contains(&(rule.into(), path.into(), subject.into(), line)),
            "missing {rule} {path}:{line} {subject} in {found:#?}"
        );
    }
    assert_eq!(
        found.len(),
        expected.len(),
        "unexpected findings: {found:#?}"
    );
}

#[test]
fn clean_repository_exits_0_in_every_format() {
    let repo = fixture("clean");
    for format in ["text", "json", "sarif", "github"] {
        let output = run(TYPO, &["--format", format, "."], &repo);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = run(MLSUPPLY, &["check", "--format", "json"], &repo);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&output)["findings"], Value::Array(vec![]));
}

#[test]
fn check_combines_into_one_report() {
    let output = run(
        MLSUPPLY,
        &["check", "--format", "json", "."],
        &fixture("squatted"),
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["tool"], "mlsupply");
    assert!(
        findings(&report)
            .iter()
            .any(|(rule, _, subject, _)| rule == "typosquat" && subject == "reqeusts")
    );
}

#[test]
fn fail_on_error_ignores_warnings() {
    let output = run(TYPO, &["--fail-on", "error", "."], &fixture("squatted"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn text_output_points_at_the_source_line() {
    let output = run(TYPO, &["--color", "never", "."], &fixture("squatted"));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("requirements.txt:3:1"), "{text}");
    assert!(text.contains("reqeusts>=2.31"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when asked for none");
}

#[test]
fn explicit_files_limit_the_scan() {
    // pre-commit passes changed files, relative to the repository root.
    let output = run(
        TYPO,
        &["--format", "json", "Dockerfile"],
        &fixture("squatted"),
    );
    let found = findings(&json(&output));
    assert_eq!(
        found,
        vec![("typosquat".into(), "Dockerfile".into(), "urlib3".into(), 4)]
    );
}

#[test]
fn bad_configuration_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mlsupply.toml"),
        "[typo]\nallow = [{ name = \"x\" }]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "requests\n").unwrap();
    let output = run(TYPO, &["."], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("mlsupply.toml:2"), "{stderr}");
}

#[test]
fn inline_ignore_silences_and_stale_ignore_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "reqeusts==2.0  # mlsupply: ignore[typosquat] vetted internal fork\nnumpy  # mlsupply: ignore[typosquat] stale\n",
    )
    .unwrap();
    let output = run(TYPO, &["--format", "json", "--no-config", "."], dir.path());
    let found = findings(&json(&output));
    assert_eq!(
        found,
        vec![(
            "unused-ignore".into(),
            "requirements.txt".into(),
            "typosquat".into(),
            2
        )]
    );
    // A note alone does not fail the run at the default `--fail-on warning`.
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn include_cycle_and_missing_include_are_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "-r requirements-b.txt\nreqeusts\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements-b.txt"),
        "-r requirements.txt\n-r gone.txt\n",
    )
    .unwrap();
    let output = run(TYPO, &["--format", "json", "--no-config", "."], dir.path());
    let found = findings(&json(&output));
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert!(rules.contains(&"include-cycle"), "{found:#?}");
    assert!(rules.contains(&"missing-include"), "{found:#?}");
    assert!(rules.contains(&"typosquat"), "{found:#?}");
}

#[test]
fn malformed_manifest_is_a_finding_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project\ndependencies = [\"reqeusts\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "colourama\n").unwrap();
    let output = run(TYPO, &["--format", "json", "--no-config", "."], dir.path());
    let found = findings(&json(&output));
    assert!(
        found
            .iter()
            .any(|f| f.0 == "parse-error" && f.1 == "pyproject.toml" && f.3 == 1),
        "{found:#?}"
    );
    assert!(found.iter().any(|f| f.2 == "colourama"), "{found:#?}");
}

#[test]
fn dump_config_prints_the_effective_configuration() {
    let output = run(TYPO, &["--dump-config", "."], &fixture("squatted"));
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("internal-utils"), "{text}");
}
