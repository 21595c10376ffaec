//! Every file a binary reads from the scanned repository goes through the walk's guarded reader
//! (inside the root, a regular file, capped, never blocking): a root `pyproject.toml`,
//! `mlsupply.toml` or `-r` include that is a symlink to a device or out of the root, or a FIFO,
//! is a finding naming the file, and the rest of the scan goes on. A root `pyproject.toml` that
//! does not parse is a `parse-error` finding, not a configuration error.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const MLSUPPLY: &str = env!("CARGO_BIN_EXE_mlsupply");
const PIN: &str = env!("CARGO_BIN_EXE_mlsupply-pin");
const TYPO: &str = env!("CARGO_BIN_EXE_mlsupply-typo");
const HUB: &str = env!("CARGO_BIN_EXE_mlsupply-hub");

/// The binaries that read requirements files, with the arguments that make them do it offline.
const REQUIREMENT_READERS: &[(&str, &[&str])] =
    &[(MLSUPPLY, &["check"]), (PIN, &["--offline"]), (TYPO, &[])];

/// Every binary that scans a repository.
fn every_binary() -> Vec<(&'static str, &'static [&'static str])> {
    let mut all = REQUIREMENT_READERS.to_vec();
    all.push((HUB, &[]));
    all
}

/// Runs a binary on `dir` (JSON output, an environment without user configuration). A run still
/// going after a minute is a hang: it is killed and the test fails, instead of hanging the suite.
fn run(bin: &str, args: &[&str], dir: &Path) -> Output {
    let mut command = Command::new(bin);
    command
        .args(args)
        .args(["--format", "json", "."])
        .current_dir(dir)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("PIP_") || key.starts_with("MLSUPPLY_") {
            command.env_remove(key);
        }
    }
    let mut child = command.spawn().expect("binary runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{bin} {args:?} hangs on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn findings(output: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}):\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    report["findings"].as_array().expect("findings").clone()
}

/// `reqeusts==1.0` on line 2 of requirements.txt is still reported.
fn assert_requirement_reported(bin: &str, found: &[Value]) {
    assert!(
        found
            .iter()
            .any(|f| f["path"] == "requirements.txt" && f["line"] == 2),
        "{bin}: nothing about requirements.txt:2: {found:#?}"
    );
    if bin != PIN {
        assert!(
            found
                .iter()
                .any(|f| f["rule"] == "typosquat" && f["subject"] == "reqeusts"),
            "{bin}: the typosquat is not reported: {found:#?}"
        );
    }
}

/// What a hostile file in the repository is.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    DevZero,
    DevUrandom,
    Fifo,
    /// A symlink to a file outside the root whose content, if read, would allow `reqeusts`.
    Outside,
}

const ALL: [Hostile; 4] = [
    Hostile::DevZero,
    Hostile::DevUrandom,
    Hostile::Fifo,
    Hostile::Outside,
];

/// A repository whose `name` is `hostile`, with `requirements.txt` (`first_line`, then
/// `reqeusts==1.0`) beside it. Returns the tempdir holding the root (`repo/`) and the outside
/// file.
fn repo(name: &str, hostile: Hostile, first_line: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("requirements.txt"),
        format!("{first_line}\nreqeusts==1.0\n"),
    )
    .unwrap();
    let path = root.join(name);
    match hostile {
        Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
        Hostile::DevUrandom => std::os::unix::fs::symlink("/dev/urandom", &path).unwrap(),
        Hostile::Fifo => {
            let status = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
            assert!(status.success());
        }
        Hostile::Outside => {
            let outside = dir.path().join("outside.toml");
            // Read, it would allow the typosquat.
            let allow = "allow = [{ name = \"reqeusts\", reason = \"x\" }]\n";
            let table = if name == "pyproject.toml" {
                "[tool.mlsupply.typo]"
            } else {
                "[typo]"
            };
            let text = format!("{table}\n{allow}");
            std::fs::write(&outside, text).unwrap();
            std::os::unix::fs::symlink(&outside, &path).unwrap();
        }
    }
    dir
}

/// One `file-skipped` finding about `name`, whose message names it.
fn assert_skipped_once(bin: &str, found: &[Value], name: &str, hostile: Hostile) {
    let about: Vec<&Value> = found
        .iter()
        .filter(|f| f["rule"] == "file-skipped" && f["message"].as_str().unwrap().contains(name))
        .collect();
    assert_eq!(
        about.len(),
        1,
        "{bin} {hostile:?}: not one file-skipped finding about {name}: {found:#?}"
    );
}

#[test]
fn hostile_root_pyproject_and_mlsupply_toml_are_skipped_and_the_scan_goes_on() {
    for name in ["pyproject.toml", "mlsupply.toml"] {
        for hostile in ALL {
            let dir = repo(name, hostile, "# requirements");
            let root = dir.path().join("repo");
            for (bin, args) in REQUIREMENT_READERS {
                let output = run(bin, args, &root);
                let found = findings(&output);
                assert_eq!(
                    output.status.code(),
                    Some(1),
                    "{bin} {name} {hostile:?}: {found:#?}"
                );
                assert_skipped_once(bin, &found, name, hostile);
                let skipped = found.iter().find(|f| f["rule"] == "file-skipped").unwrap();
                assert_eq!(skipped["path"], name, "{bin} {hostile:?}: {skipped:#?}");
                let message = skipped["message"].as_str().unwrap();
                assert!(message.contains("not applied"), "{bin}: {message}");
                assert_requirement_reported(bin, &found);
            }
            let output = run(HUB, &[], &root);
            let found = findings(&output);
            assert_skipped_once(HUB, &found, name, hostile);
        }
    }
}

#[test]
fn hostile_requirements_includes_are_skipped_and_the_scan_goes_on() {
    for hostile in ALL {
        let dir = repo("inc.txt", hostile, "-r inc.txt");
        let root = dir.path().join("repo");
        for (bin, args) in REQUIREMENT_READERS {
            let output = run(bin, args, &root);
            let found = findings(&output);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{bin} {hostile:?}: {found:#?}"
            );
            assert_skipped_once(bin, &found, "inc.txt", hostile);
            assert!(
                !found.iter().any(|f| f["rule"] == "missing-include"),
                "{bin} {hostile:?}: the file exists: {found:#?}"
            );
            assert_requirement_reported(bin, &found);
        }
    }
}

#[test]
fn a_root_pyproject_that_does_not_parse_is_a_parse_error_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // The table that would allow the typosquat is not applied: the defaults are.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.mlsupply.typo]\nallow = [{ name = \"reqeusts\", reason = \"x\" }]\n[project\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "# requirements\nreqeusts==1.0\n",
    )
    .unwrap();
    for (bin, args) in every_binary() {
        let output = run(bin, args, dir.path());
        let found = findings(&output);
        assert_eq!(output.status.code(), Some(1), "{bin}: {found:#?}");
        let errors: Vec<&Value> = found
            .iter()
            .filter(|f| f["rule"] == "parse-error")
            .collect();
        assert_eq!(errors.len(), 1, "{bin}: reported once: {found:#?}");
        assert_eq!(errors[0]["path"], "pyproject.toml");
        assert_eq!(errors[0]["line"], 3, "{bin}: {found:#?}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains("invalid TOML"), "{bin}: {message}");
        assert!(message.contains("not applied"), "{bin}: {message}");
        if bin != HUB {
            assert_requirement_reported(bin, &found);
        }
    }
}

#[test]
fn a_broken_mlsupply_toml_or_a_wrong_tool_table_stays_a_configuration_error() {
    for (name, text) in [
        ("mlsupply.toml", "[typo\n"),
        ("pyproject.toml", "[tool.mlsupply]\nfail-on = 3\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "reqeusts==1.0\n").unwrap();
        for (bin, args) in every_binary() {
            let output = run(bin, args, dir.path());
            assert_eq!(output.status.code(), Some(2), "{bin} {name}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(&format!("{name}:")), "{bin}: {stderr}");
        }
    }
}

/// `--config FILE` may be anywhere (the user named it), but a FIFO there is an error naming it,
/// not a run that never ends.
#[test]
fn an_explicit_config_that_is_a_fifo_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("requirements.txt"), "reqeusts==1.0\n").unwrap();
    let fifo = dir.path().join("ci.toml");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let config = fifo.to_str().unwrap();
    for (bin, args) in every_binary() {
        let mut args = args.to_vec();
        args.extend(["--config", config]);
        let output = run(bin, &args, &root);
        assert_eq!(output.status.code(), Some(2), "{bin}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("ci.toml") && stderr.contains("not a regular file"),
            "{bin}: {stderr}"
        );
    }
}
