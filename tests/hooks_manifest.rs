//! `.pre-commit-hooks.yaml` against the binaries it runs: pre-commit validates the manifest, and
//! each hook's `files` pattern, evaluated by Python's `re` as pre-commit evaluates it, selects every
//! file its binary reads (the library's own `deps::classify` and `hub::wants` decide that) and no
//! unrelated file. Needs the pre-commit venv (PyPI once); no build.
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use mlsupply::deps::{self, DepSource};
use support::precommit::{PRE_COMMIT_VERSION, checkout, ok, scrub};
use support::python::{describe, tool_venv};

fn tools() -> PathBuf {
    tool_venv(
        &format!("pre-commit-{PRE_COMMIT_VERSION}"),
        &[&format!("pre-commit=={PRE_COMMIT_VERSION}")],
    )
}

/// Paths a repository may hold: every surface the binaries read, in upper and lower case and in
/// subdirectories, and files no binary reads.
const PATHS: &[&str] = &[
    "requirements.txt",
    "requirements-dev.txt",
    "dev-requirements.in",
    "docs/requirements.txt",
    "Requirements.TXT",
    "requirements/base.txt",
    "requirements/base.in",
    "reqs/test.txt",
    "requirements.d/extra.txt",
    "constraints.txt",
    "ci/constraints-py311.txt",
    "requirements.lock",
    "deps/prod.lock",
    "main.in",
    "tools/dev.in",
    "MANIFEST.in",
    "config.h.in",
    "Makefile.in",
    "pyproject.toml",
    "sub/pyproject.toml",
    "setup.cfg",
    "setup.py",
    "pkg/setup.py",
    "Pipfile",
    "Pipfile.lock",
    "environment.yml",
    "environment-gpu.yaml",
    "conda.yml",
    "env.yaml",
    "envs/environment.dev.yml",
    "config.yml",
    "config/train.yaml",
    "model.json",
    "package-lock.json",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yaml",
    ".github/dependabot.yml",
    "action.yml",
    "tools/action.yaml",
    "Dockerfile",
    "docker/Dockerfile.gpu",
    "Containerfile",
    "containerfile.cuda",
    "app.dockerfile",
    "Makefile",
    "GNUmakefile",
    "makefile",
    "build/rules.mk",
    "scripts/install.sh",
    "run.bash",
    "setup.zsh",
    "notebooks/train.ipynb",
    "train.py",
    "src/pkg/models.py",
    "README.md",
    "LICENSE",
    "src/lib.rs",
    "docs/index.rst",
    "data/train.csv",
    "model.safetensors",
    "requirements.md",
    ".pre-commit-config.yaml",
    "CHANGELOG.txt",
    "Cargo.toml",
    "setup.py.orig",
];

/// Matches of each hook's `files` for [`PATHS`], computed by Python's `re.search`, and each hook's
/// fields, as pre-commit reads the manifest.
fn evaluate() -> BTreeMap<String, (serde_json::Value, Vec<bool>)> {
    let script = r#"
import json, re, sys, yaml
manifest, paths = sys.argv[1], json.load(sys.stdin)
hooks = yaml.safe_load(open(manifest, encoding="utf-8"))
out = {}
for hook in hooks:
    pattern = re.compile(hook.get("files", ""))
    out[hook["id"]] = [hook, [bool(pattern.search(p)) for p in paths]]
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new(tools().join("python"))
        .arg("-c")
        .arg(script)
        .arg(checkout().join(".pre-commit-hooks.yaml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(PATHS).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let parsed: BTreeMap<String, (serde_json::Value, Vec<bool>)> =
        serde_json::from_slice(&out.stdout).expect("JSON from python");
    parsed
}

#[test]
fn pre_commit_accepts_the_manifest() {
    let mut command = Command::new(tools().join("pre-commit"));
    scrub(&mut command);
    ok(command
        .arg("validate-manifest")
        .arg(checkout().join(".pre-commit-hooks.yaml")));
}

fn is_requirements(path: &str) -> bool {
    deps::classify(path) == Some(DepSource::Requirements)
}

#[test]
fn each_hook_runs_what_its_binary_reads() {
    let hooks = evaluate();
    let ids: Vec<&str> = hooks.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "mlsupply-hub",
            "mlsupply-pin",
            "mlsupply-pin-offline",
            "mlsupply-typo"
        ]
    );

    // What each binary reads (pin: requirements files, and the root pyproject.toml whose
    // `requires-python` sets the target Python).
    let reads = |id: &str, path: &str| match id {
        "mlsupply-pin" | "mlsupply-pin-offline" => {
            is_requirements(path) || path == "pyproject.toml"
        }
        "mlsupply-typo" => deps::classify(path).is_some(),
        "mlsupply-hub" => mlsupply::hub::wants(path),
        other => panic!("unknown hook {other}"),
    };
    // Matched but not read: the patterns ignore case where a binary is case-sensitive, and the
    // hub's `.github/` YAML is read only under `workflows/`. Each costs a run that finds nothing.
    let extra: &[(&str, &str)] = &[
        ("mlsupply-hub", ".github/dependabot.yml"),
        ("mlsupply-hub", "containerfile.cuda"),
    ];
    for (id, path) in extra {
        let at = PATHS.iter().position(|p| p == path).unwrap();
        assert!(
            hooks[*id].1[at],
            "stale exception: {id} does not select {path}"
        );
    }

    for (id, (hook, matches)) in &hooks {
        for (path, matched) in PATHS.iter().zip(matches) {
            let read = reads(id, path);
            if read {
                assert!(
                    matched,
                    "{id}: `files` misses {path}, which the binary reads"
                );
            } else if *matched {
                assert!(
                    extra.contains(&(id.as_str(), *path)),
                    "{id}: `files` selects {path}, which the binary does not read"
                );
            }
        }
        for unrelated in ["README.md", "LICENSE", "src/lib.rs", "data/train.csv"] {
            let at = PATHS.iter().position(|p| *p == unrelated).unwrap();
            assert!(!matches[at], "{id} runs on {unrelated}");
        }

        assert_eq!(
            hook["language"], "python",
            "{id}: built by maturin, from Cargo.lock"
        );
        let entry = hook["entry"].as_str().unwrap();
        let binary = entry.split_whitespace().next().unwrap();
        assert!(
            checkout().join(format!("src/bin/{binary}.rs")).is_file(),
            "{id}: `{binary}` is not a binary of the crate"
        );
        assert!(hook["minimum_pre_commit_version"].is_string(), "{id}");
    }

    // pin reads the whole repository (`-r` includes resolve from the including file); the typo
    // hook sees every passed file in one process (a file reached twice is reported once).
    assert_eq!(hooks["mlsupply-pin"].0["pass_filenames"], false);
    assert_eq!(
        hooks["mlsupply-pin"].0["args"],
        serde_json::json!(["--fix"])
    );
    assert_eq!(hooks["mlsupply-pin-offline"].0["pass_filenames"], false);
    assert_eq!(
        hooks["mlsupply-pin-offline"].0["entry"],
        "mlsupply-pin --offline"
    );
    assert_eq!(hooks["mlsupply-typo"].0["require_serial"], true);
}
