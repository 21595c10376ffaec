//! Real pip for the tests: a venv created once under the cargo target directory, shared by every
//! test binary (a file lock keeps parallel binaries from building it twice).
//!
//! Creating the venv is the only step that reaches PyPI (to install the pinned pip). Every pip run
//! made through [`Python::pip`] is confined to the given local index: `--index-url`, no config files,
//! no cache, no version check, no proxy for 127.0.0.1.
//!
//! `MLSUPPLY_TEST_PYTHON=/path/to/python` uses that interpreter (with its own pip) instead.
//! `python3` (or `python` on Windows) must be on the PATH otherwise.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// A recent pip; `--report`, `--dry-run` and the current hash-mode messages all need pip ≥ 22.2.
pub const PIP_VERSION: &str = "26.3";

pub struct Python {
    pub interpreter: PathBuf,
    /// `pip --version` as printed.
    pub pip_version: String,
}

/// The shared interpreter, set up on first use.
pub fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| match std::env::var_os("MLSUPPLY_TEST_PYTHON") {
        Some(path) if !path.is_empty() => Python::existing(PathBuf::from(path)),
        _ => Python::venv(),
    })
}

/// A process's exit status and output, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run_checked(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot start {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        describe(&output)
    );
    output
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

impl Python {
    fn existing(interpreter: PathBuf) -> Python {
        let pip_version = Python::pip_version_of(&interpreter).unwrap_or_else(|err| {
            panic!(
                "MLSUPPLY_TEST_PYTHON={} cannot run pip: {err}",
                interpreter.display()
            )
        });
        Python {
            interpreter,
            pip_version,
        }
    }

    fn pip_version_of(interpreter: &Path) -> Result<String, String> {
        let output = Command::new(interpreter)
            .args(["-m", "pip", "--version"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .map_err(|err| err.to_string())?;
        if !output.status.success() {
            return Err(describe(&output));
        }
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        // "pip 26.3 from ... (python 3.11)"
        let version = text.split_whitespace().nth(1).unwrap_or_default();
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if (major, minor) < (22, 2) {
            return Err(format!(
                "{text}: pip 22.2 or newer is needed (--dry-run --report)"
            ));
        }
        Ok(text)
    }

    fn base_interpreter() -> &'static str {
        let candidates: &[&str] = if cfg!(windows) {
            &["python", "python3"]
        } else {
            &["python3", "python"]
        };
        for candidate in candidates {
            let works = Command::new(candidate)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if works {
                return candidate;
            }
        }
        panic!(
            "python3 is not on the PATH: the pip tests need CPython 3.9+ with the venv module \
             (or set MLSUPPLY_TEST_PYTHON to an interpreter that has pip)"
        );
    }

    fn venv() -> Python {
        let bin = tool_venv(&format!("pip-{PIP_VERSION}"), &[]);
        let interpreter = venv_python(bin.parent().expect("a venv's bin directory has a parent"));
        let pip_version = Python::pip_version_of(&interpreter)
            .unwrap_or_else(|err| panic!("the test venv's pip does not run: {err}"));
        Python {
            interpreter,
            pip_version,
        }
    }

    /// `python -m pip <args>` confined to `index_url`, with nothing from the user's environment or
    /// configuration that could send it elsewhere.
    pub fn pip<I, S>(&self, index_url: &str, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.interpreter);
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy().to_ascii_uppercase();
            if key_text.starts_with("PIP_") || key_text == "PYTHONPATH" {
                command.env_remove(&key);
            }
        }
        command
            .args(["-m", "pip"])
            .args(args)
            .args(["--index-url", index_url, "--no-cache-dir"])
            .env(
                "PIP_CONFIG_FILE",
                if cfg!(windows) { "NUL" } else { "/dev/null" },
            )
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .env("PIP_KEYRING_PROVIDER", "disabled")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// `pip install --dry-run --no-deps --ignore-installed --report` of `requirements`, with
    /// `extra` arguments (`--require-hashes`, `--python-version`, `--pre`, ...).
    pub fn dry_run(&self, index_url: &str, requirements: &Path, extra: &[&str]) -> PipRun {
        self.dry_run_deps(index_url, requirements, extra, false)
    }

    /// [`Python::dry_run`] WITH dependencies: pip resolves the file itself, so in hash mode every
    /// package it would install must be pinned and hashed in the file.
    pub fn dry_run_with_deps(
        &self,
        index_url: &str,
        requirements: &Path,
        extra: &[&str],
    ) -> PipRun {
        self.dry_run_deps(index_url, requirements, extra, true)
    }

    fn dry_run_deps(
        &self,
        index_url: &str,
        requirements: &Path,
        extra: &[&str],
        deps: bool,
    ) -> PipRun {
        let report_dir = tempfile::tempdir().expect("temp dir");
        let report_path = report_dir.path().join("report.json");
        let output = self
            .pip(
                index_url,
                ["install", "--dry-run", "--ignore-installed", "--quiet"],
            )
            .args((!deps).then_some("--no-deps"))
            .args(extra)
            .arg("--report")
            .arg(&report_path)
            .arg("-r")
            .arg(requirements)
            .output()
            .expect("pip runs");
        let report = if output.status.success() {
            let text = fs::read_to_string(&report_path).unwrap_or_else(|err| {
                panic!("pip wrote no report ({err}):\n{}", describe(&output))
            });
            Some(serde_json::from_str(&text).expect("pip's report is JSON"))
        } else {
            None
        };
        PipRun { output, report }
    }
}

/// One `pip install --dry-run --report` run.
pub struct PipRun {
    pub output: Output,
    /// Only when pip succeeded.
    pub report: Option<Value>,
}

/// One distribution that pip would install.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selected {
    /// Normalised name.
    pub name: String,
    pub version: String,
    /// The file's name (last URL segment).
    pub filename: String,
    /// The sha256 that pip checked, as it reports it.
    pub sha256: Option<String>,
}

impl PipRun {
    pub fn success(&self) -> bool {
        self.output.status.success()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn describe(&self) -> String {
        describe(&self.output)
    }

    /// What pip selected, sorted by name; panics with pip's output if it failed.
    pub fn selected(&self) -> Vec<Selected> {
        let report = self
            .report
            .as_ref()
            .unwrap_or_else(|| panic!("pip failed:\n{}", self.describe()));
        let mut out: Vec<Selected> = report["install"]
            .as_array()
            .expect("report.install")
            .iter()
            .map(|item| {
                let url = item["download_info"]["url"].as_str().unwrap_or_default();
                Selected {
                    name: super::dists::normalize(
                        item["metadata"]["name"].as_str().expect("metadata.name"),
                    ),
                    version: item["metadata"]["version"]
                        .as_str()
                        .expect("metadata.version")
                        .to_owned(),
                    filename: url.rsplit('/').next().unwrap_or_default().to_owned(),
                    sha256: item["download_info"]["archive_info"]["hashes"]["sha256"]
                        .as_str()
                        .map(str::to_owned),
                }
            })
            .collect();
        out.sort();
        out
    }

    /// `(name, version)` pairs pip selected, sorted.
    pub fn versions(&self) -> Vec<(String, String)> {
        self.selected()
            .into_iter()
            .map(|s| (s.name, s.version))
            .collect()
    }
}

/// A virtual environment of its own for a Python tool the tests drive (pre-commit, say): `packages`
/// (exact pins) installed from PyPI, with the pinned pip, once; later calls reuse it while the pins
/// stay the same. Lives under the cargo target directory, like the pip venv, and a file lock keeps
/// parallel test binaries from building it twice. Returns the venv's directory of executables.
///
/// Creating it is the only step that reaches PyPI; it honours the user's pip configuration (proxy,
/// certificates), as creating the pip venv does.
pub fn tool_venv(name: &str, packages: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-python");
    fs::create_dir_all(&root)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", root.display()));
    let venv = root.join(format!("venv-{name}"));
    let wanted = format!("pip=={PIP_VERSION}\n{}\n", packages.join("\n"));
    let ready = venv.join("mlsupply-ready");
    let interpreter = venv_python(&venv);

    let lock_path = root.join(format!("venv-{name}.lock"));
    let lock = File::create(&lock_path)
        .unwrap_or_else(|err| panic!("cannot open {}: {err}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|err| panic!("cannot lock {}: {err}", lock_path.display()));
    let up_to_date = fs::read_to_string(&ready).is_ok_and(|text| text == wanted);
    if !up_to_date {
        if venv.exists() {
            fs::remove_dir_all(&venv)
                .unwrap_or_else(|err| panic!("cannot remove {}: {err}", venv.display()));
        }
        run_checked(
            Command::new(Python::base_interpreter())
                .args(["-m", "venv"])
                .arg(&venv),
            &format!("creating the {name} venv (python3 -m venv)"),
        );
        run_checked(
            Command::new(&interpreter)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                ])
                .arg(format!("pip=={PIP_VERSION}"))
                .args(packages),
            &format!("installing {packages:?} into the {name} venv (needs PyPI once)"),
        );
        fs::write(&ready, &wanted)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", ready.display()));
    }
    drop(lock);
    interpreter
        .parent()
        .expect("the venv's interpreter is in a directory")
        .to_path_buf()
}
