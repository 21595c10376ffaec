//! `mlsupply-pin` against the real PyPI, checked with real pip. Off by default
//! (`cargo test --features live-tests --test pin_live`): CI has no such network.
#![cfg(feature = "live-tests")]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::python::{describe, python};

const PYPI: &str = "https://pypi.org/simple/";

/// Small pure-Python projects with few files, so pip's hash check downloads little.
const LOOSE: &str = "\
# live pin test
six>=1.16
idna>=3.4,<4  # inline comment kept
packaging
";

fn pin(dir: &Path, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mlsupply-pin"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PIP_INDEX")
            || key.starts_with("PIP_EXTRA")
            || key.starts_with("MLSUPPLY_")
        {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .expect("mlsupply-pin runs")
}

/// pip against PyPI, keeping the user's own CA bundle if one is configured (a company proxy).
fn pip_accepts(requirements: &Path) -> Output {
    let mut command = python().pip(
        PYPI,
        [
            "install",
            "--dry-run",
            "--no-deps",
            "--ignore-installed",
            "--require-hashes",
            "--python-version",
            "3.11",
        ],
    );
    command.arg("-r").arg(requirements);
    for key in ["PIP_CERT", "SSL_CERT_FILE"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.output().expect("pip runs")
}

#[test]
fn pins_a_small_file_against_pypi_and_pip_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements.txt");
    std::fs::write(&path, LOOSE).unwrap();
    let args = [
        "requirements.txt",
        "--fix",
        "--no-config",
        "--python-version",
        "3.11",
        "--index-url",
        PYPI,
    ];
    let fixed = pin(dir.path(), &args);
    assert!(
        matches!(fixed.status.code(), Some(0 | 1)),
        "{}",
        describe(&fixed)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    for name in ["six==", "idna==", "packaging==", "# inline comment kept"] {
        assert!(text.contains(name), "{name} in:\n{text}");
    }
    assert!(text.matches("--hash=sha256:").count() >= 6, "{text}");

    let pip = pip_accepts(&path);
    assert!(pip.status.success(), "pip: {}", describe(&pip));

    // A second run changes nothing.
    let again = pin(dir.path(), &args);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // One changed digit in every hash of one requirement: mlsupply-pin and pip both refuse. (With
    // one hash changed of several, pip still accepts when it picks another file; mlsupply-pin does
    // not, which the local test shows.)
    let mut tampered = String::new();
    let mut in_first = false;
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let is_hash = line.trim_start().starts_with("--hash=sha256:");
        if !is_hash && in_first {
            done = true;
        }
        if is_hash && !done {
            in_first = true;
            let start = line.find("--hash=sha256:").unwrap() + "--hash=sha256:".len();
            let flipped = if &line[start..=start] == "0" {
                "1"
            } else {
                "0"
            };
            let mut changed = line.to_owned();
            changed.replace_range(start..=start, flipped);
            tampered.push_str(&changed);
        } else {
            tampered.push_str(line);
        }
    }
    assert_ne!(tampered, text);
    std::fs::write(&path, &tampered).unwrap();
    let check = pin(
        dir.path(),
        &[
            "requirements.txt",
            "--no-config",
            "--python-version",
            "3.11",
            "--index-url",
            PYPI,
        ],
    );
    assert_eq!(check.status.code(), Some(1), "{}", describe(&check));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("hash-mismatch"),
        "{}",
        describe(&check)
    );
    let pip = pip_accepts(&path);
    assert!(!pip.status.success(), "pip must reject the tampered file");
    assert!(
        String::from_utf8_lossy(&pip.stderr).contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{}",
        describe(&pip)
    );
}
