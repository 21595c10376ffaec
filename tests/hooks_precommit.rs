//! The pre-commit framework hooks (`.pre-commit-hooks.yaml`), proved with real pre-commit and pip
//! from PyPI (in a venv the tests create under the target directory) and real cargo:
//!
//! - the packaging mechanism (root `pyproject.toml`, maturin) compiles the dependency versions of
//!   `Cargo.lock`, where pre-commit's `language: rust` would compile the newest ones;
//! - every hook, installed by pre-commit from a snapshot of this checkout, in throwaway repositories
//!   made from `tests/fixtures/hooks/`, the pin hook against a local index on 127.0.0.1.
//!
//! Network: PyPI (pre-commit, maturin) and crates.io (the builds). The release build of mlsupply
//! happens once per content of the checkout: pre-commit's store (`PRE_COMMIT_HOME`) and the cargo
//! target directory live under the cargo target directory and are reused by later runs. The
//! tests are `#[ignore]`d so that the README's `cargo test` stays short; `.ci/run` runs them as a
//! step of their own (`cargo test --locked --test hooks_precommit -- --include-ignored`).
#![cfg(unix)] // The e2e drives pre-commit's POSIX virtualenv layout.

mod support;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::dists::{BuiltCatalogue, Catalogue, PageFormat, Project, Release};
use support::index_server::IndexServer;
use support::precommit::{
    PRE_COMMIT_VERSION, checkout, commit_all, copy_tree, fixture, git, init_repo, ok, output,
    scrub, snapshot_checkout, text,
};
use support::python::{describe, tool_venv};

/// The pre-commit venv: its Python builds the packaging fixtures.
fn tools() -> PathBuf {
    tool_venv(
        &format!("pre-commit-{PRE_COMMIT_VERSION}"),
        &[&format!("pre-commit=={PRE_COMMIT_VERSION}")],
    )
}

fn tmp_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("hooks")
}

fn toml(path: &Path) -> toml_edit::DocumentMut {
    fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .parse()
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `(major, minor, patch)` of a plain `x.y.z` version.
fn semver(version: &str) -> (u64, u64, u64) {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("not x.y.z: {version}")))
        .collect();
    assert_eq!(parts.len(), 3, "not x.y.z: {version}");
    (parts[0], parts[1], parts[2])
}

/// The versions of `krate` that a cargo log says it compiled.
fn compiled(log: &str, krate: &str) -> Vec<String> {
    let needle = format!("Compiling {krate} v");
    log.lines()
        .filter_map(|line| line.split_once(&needle))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

/// The version of `krate` that `lock` (a Cargo.lock) records.
fn locked_version(lock: &Path, krate: &str) -> String {
    let doc = toml(lock);
    doc["package"]
        .as_array_of_tables()
        .expect("[[package]] tables")
        .iter()
        .find(|p| p["name"].as_str() == Some(krate))
        .and_then(|p| p["version"].as_str())
        .unwrap_or_else(|| panic!("{} locks no {krate}", lock.display()))
        .to_owned()
}

/// The fixture crate in a fresh directory, with `pyproject` as its `pyproject.toml`.
fn probe_crate(dir: &Path, pyproject: &str) -> PathBuf {
    let path = dir.join("lockprobe");
    copy_tree(&fixture("locked-crate"), &path);
    fs::write(path.join("pyproject.toml"), pyproject).unwrap();
    path
}

/// What pre-commit's `language: python` does to install a hook repository: a new virtual
/// environment, then `python -m pip install .` in the repository (verbose, so that cargo's log
/// shows). Returns the venv and pip's output.
fn pip_install(source: &Path, work: &Path) -> (PathBuf, Output) {
    let venv = work.join("env");
    ok(Command::new(tools().join("python"))
        .args(["-m", "venv"])
        .arg(&venv));
    let out = output(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "-v", "--no-cache-dir", "."])
            .current_dir(source)
            .env("CARGO_TARGET_DIR", work.join("target"))
            .env_remove("MATURIN_PEP517_ARGS")
            .env_remove("CARGO_NET_OFFLINE")
            // The assertions read cargo's `Compiling` lines: plain, and not silenced.
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_TERM_QUIET"),
    );
    (venv, out)
}

/// The packaging proof. The fixture crate `lockprobe` locks `itoa` at an older version than the
/// newest `itoa = "1"`; it is built with this repository's very `[build-system]` and
/// `[tool.maturin]` (the root `pyproject.toml` copied as it is).
#[test]
#[ignore = "a release build (about 10 minutes): `.ci/run` runs these as their own step"]
fn the_hook_package_builds_the_locked_dependency_versions() {
    let root_pyproject = checkout().join("pyproject.toml");
    let pyproject_text = fs::read_to_string(&root_pyproject).unwrap();
    let doc = toml(&root_pyproject);
    let maturin = &doc["tool"]["maturin"];
    assert_eq!(
        maturin["bindings"].as_str(),
        Some("bin"),
        "{pyproject_text}"
    );
    assert_eq!(maturin["locked"].as_bool(), Some(true), "{pyproject_text}");
    assert_eq!(maturin["profile"].as_str(), Some("release"));
    assert_eq!(
        doc["build-system"]["build-backend"].as_str(),
        Some("maturin")
    );
    let requires: Vec<&str> = doc["build-system"]["requires"]
        .as_array()
        .expect("build-system.requires")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        matches!(requires.as_slice(), [only] if only.starts_with("maturin==")),
        "the build backend must be pinned exactly: {requires:?}"
    );

    let locked = locked_version(&fixture("locked-crate/Cargo.lock"), "itoa");
    fs::create_dir_all(tmp_root()).unwrap();
    let work = tempfile::tempdir_in(tmp_root()).unwrap();

    // 1. pre-commit's `language: rust` command, `cargo install --bins --root <env> --path .`:
    //    cargo ignores the lock file and compiles the newest compatible itoa. This is the problem
    //    the packaging solves, and it shows that a newer itoa exists (the test proves something).
    let rust = probe_crate(&work.path().join("rust"), &pyproject_text);
    let out = output(
        Command::new("cargo")
            .args(["install", "--bins", "--root"])
            .arg(work.path().join("rust-env"))
            .arg("--path")
            .arg(&rust)
            .env("CARGO_TARGET_DIR", work.path().join("rust-target"))
            .env_remove("CARGO_NET_OFFLINE")
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_TERM_QUIET"),
    );
    assert!(out.status.success(), "cargo install:\n{}", describe(&out));
    let newest = compiled(&text(&out), "itoa");
    assert_eq!(newest.len(), 1, "{}", text(&out));
    assert!(
        semver(&newest[0]) > semver(&locked),
        "cargo install compiled itoa {} although {locked} is locked: the fixture must lock an \
         older version than the newest on crates.io",
        newest[0]
    );

    // 2. The hook package, installed as pre-commit installs a `language: python` hook: the locked
    //    version, and a working binary.
    let python = probe_crate(&work.path().join("python"), &pyproject_text);
    let (venv, out) = pip_install(&python, &work.path().join("python-work"));
    assert!(out.status.success(), "pip install:\n{}", describe(&out));
    assert_eq!(
        compiled(&text(&out), "itoa"),
        vec![locked.clone()],
        "{}",
        text(&out)
    );
    let run = ok(&mut Command::new(venv.join("bin/lockprobe")));
    assert_eq!(String::from_utf8_lossy(&run.stdout), "lockprobe 42\n");

    // 3. `locked = true` is what keeps a stale lock file from being re-resolved silently: with a
    //    manifest that the lock no longer satisfies, the build fails...
    let (major, minor, patch) = semver(&locked);
    let bumped = format!("{major}.{minor}.{}", patch + 1);
    let stale = |dir: &Path, pyproject: &str| {
        let path = probe_crate(dir, pyproject);
        let manifest = path.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        assert!(text.contains("itoa = \"1\""), "{text}");
        fs::write(
            &manifest,
            text.replace("itoa = \"1\"", &format!("itoa = \"{bumped}\"")),
        )
        .unwrap();
        path
    };
    let strict = stale(&work.path().join("stale-locked"), &pyproject_text);
    let (_, out) = pip_install(&strict, &work.path().join("stale-locked-work"));
    assert!(
        !out.status.success(),
        "a stale Cargo.lock was accepted:\n{}",
        describe(&out)
    );
    assert!(
        text(&out).contains("--locked"),
        "cargo must refuse to update the lock file:\n{}",
        describe(&out)
    );
    assert!(compiled(&text(&out), "itoa").is_empty(), "{}", text(&out));

    //    ...while the same settings without `locked` would quietly compile the newest version.
    let mut unlocked = doc.clone();
    unlocked["tool"]["maturin"]
        .as_table_like_mut()
        .expect("[tool.maturin]")
        .remove("locked");
    let loose = stale(&work.path().join("stale-unlocked"), &unlocked.to_string());
    let (_, out) = pip_install(&loose, &work.path().join("stale-unlocked-work"));
    assert!(out.status.success(), "pip install:\n{}", describe(&out));
    let picked = compiled(&text(&out), "itoa");
    assert_eq!(picked.len(), 1, "{}", text(&out));
    assert_eq!(
        picked, newest,
        "without `locked`, a stale lock is re-resolved to the newest itoa"
    );
}

/// The packages the test index serves: `acme-hooks-demo` 1.0 and 1.1, one wheel each.
fn catalogue() -> BuiltCatalogue {
    Catalogue::new()
        .project(
            Project::new("acme-hooks-demo")
                .release(Release::new("1.0").wheel())
                .release(Release::new("1.1").wheel()),
        )
        .build()
}

/// A port on 127.0.0.1 where nothing listens: an index that cannot be reached.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A hook manager reading `.pre-commit-config.yaml`: pre-commit, or prek (a second implementation
/// of the same file formats, in Rust), with a fixed store under the target directory.
struct Manager {
    /// For messages and directory names.
    name: &'static str,
    bin: PathBuf,
    /// The variable that moves the manager's store (`PRE_COMMIT_HOME`, `PREK_HOME`).
    home_var: &'static str,
    home: PathBuf,
    /// The command that builds every hook environment of the configuration.
    install: &'static str,
    cargo_target: PathBuf,
    cache: PathBuf,
}

impl Manager {
    fn pre_commit(root: &Path) -> Manager {
        Manager {
            name: "pre-commit",
            bin: tool_venv(
                &format!("pre-commit-{PRE_COMMIT_VERSION}"),
                &[&format!("pre-commit=={PRE_COMMIT_VERSION}")],
            )
            .join("pre-commit"),
            home_var: "PRE_COMMIT_HOME",
            home: root.join("pre-commit-home"),
            install: "install-hooks",
            cargo_target: root.join("cargo-target"),
            cache: root.join("mlsupply-cache"),
        }
    }

    fn prek(root: &Path) -> Manager {
        Manager {
            name: "prek",
            bin: tool_venv(
                &format!("prek-{PREK_VERSION}"),
                &[&format!("prek=={PREK_VERSION}")],
            )
            .join("prek"),
            home_var: "PREK_HOME",
            home: root.join("prek-home"),
            install: "prepare-hooks",
            cargo_target: root.join("cargo-target"),
            cache: root.join("mlsupply-cache-prek"),
        }
    }

    fn command(&self, repo: &Path) -> Command {
        let mut command = Command::new(&self.bin);
        scrub(&mut command);
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy().to_ascii_uppercase();
            if key_text.starts_with("PIP_") || key_text.starts_with("PREK_") {
                command.env_remove(&key);
            }
        }
        command
            .current_dir(repo)
            .env(self.home_var, &self.home)
            .env("CARGO_TARGET_DIR", &self.cargo_target)
            .env("MLSUPPLY_CACHE_DIR", &self.cache)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        command
    }

    /// Builds the hook environments (the release build, unless the store has it): PyPI and
    /// crates.io are reachable here, as on pre-commit.ci's install step.
    fn install(&self, repo: &Path) {
        let mut command = self.command(repo);
        // pip's own configuration (a proxy, a company CA) reaches PyPI for maturin.
        for (key, value) in std::env::vars_os() {
            if key
                .to_string_lossy()
                .to_ascii_uppercase()
                .starts_with("PIP_")
            {
                command.env(key, value);
            }
        }
        // maturin moves each binary out of the shared cargo target directory: two builds there at
        // once (the pre-commit and prek tests run in parallel) would take each other's files.
        let lock_path = self.cargo_target.with_extension("lock");
        let lock = fs::File::create(&lock_path).unwrap();
        lock.lock()
            .unwrap_or_else(|err| panic!("cannot lock {}: {err}", lock_path.display()));
        let out = output(command.arg(self.install));
        drop(lock);
        let log = ["pre-commit.log", "prek.log"]
            .iter()
            .filter_map(|name| fs::read_to_string(self.home.join(name)).ok())
            .collect::<String>();
        assert!(
            out.status.success(),
            "{} {}:\n{}\n--- log\n{log}",
            self.name,
            self.install,
            describe(&out)
        );
    }

    /// `run --color never <args>` with the package index at `index_url`, no pip configuration, and
    /// no cargo network (the hooks are installed: nothing may be built now).
    fn run(&self, repo: &Path, index_url: &str, args: &[&str]) -> Output {
        output(
            self.command(repo)
                .args(["run", "--color", "never"])
                .args(args)
                .env("PIP_INDEX_URL", index_url)
                .env("PIP_CONFIG_FILE", "/dev/null")
                .env("CARGO_NET_OFFLINE", "true"),
        )
    }
}

/// A throwaway repository with `fixture`'s files staged, configured to use `hooks` from the
/// snapshot of this checkout at `rev`.
fn consumer(
    parent: &Path,
    fixture_name: &str,
    hook_repo: &Path,
    rev: &str,
    hooks: &[&str],
) -> PathBuf {
    let dir = parent.join(fixture_name);
    init_repo(&dir);
    copy_tree(&fixture(fixture_name), &dir);
    let mut config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n",
        hook_repo.display()
    );
    for hook in hooks {
        config.push_str(&format!("      - id: {hook}\n"));
    }
    fs::write(dir.join(".pre-commit-config.yaml"), config).unwrap();
    ok(git(&dir).args(["add", "--all"]));
    dir
}

fn assert_hook(manager: &Manager, out: &Output, name: &str, status: &str) {
    let shown = text(out);
    let found = shown
        .lines()
        .any(|line| line.starts_with(name) && line.trim_end().ends_with(status));
    assert!(
        found,
        "{}: expected `{name}...{status}`:\n{shown}",
        manager.name
    );
}

const PREK_VERSION: &str = "0.5.11";
const PIN: &str = "mlsupply-pin (pin requirements with hashes)";
const PIN_OFFLINE: &str = "mlsupply-pin --offline (requirements pinned and hashed)";
const TYPO: &str = "mlsupply-typo (typosquatted dependencies)";
const HUB: &str = "mlsupply-hub (unsafe model downloads)";
const ALL: [&str; 4] = [
    "mlsupply-pin",
    "mlsupply-pin-offline",
    "mlsupply-typo",
    "mlsupply-hub",
];

/// Every hook, through pre-commit, on this checkout: one test function, so that the release build
/// is shared by every case.
#[test]
#[ignore = "a release build (about 10 minutes): `.ci/run` runs these as their own step"]
fn pre_commit_runs_every_hook_end_to_end() {
    end_to_end(Manager::pre_commit);
}

/// The same cases through prek, which builds its own environment from the same manifest.
#[test]
#[ignore = "a release build (about 10 minutes): `.ci/run` runs these as their own step"]
fn prek_runs_every_hook_end_to_end() {
    end_to_end(Manager::prek);
}

fn end_to_end(manager: fn(&Path) -> Manager) {
    let built = catalogue();
    // The clean fixture pins acme-hooks-demo 1.0 with the hash of the file the index serves.
    let clean_requirements = fs::read_to_string(fixture("clean/requirements.txt")).unwrap();
    let hash_10 = &built.hashes("acme-hooks-demo", "1.0")[0];
    assert!(
        clean_requirements.contains(&format!("--hash=sha256:{hash_10}")),
        "tests/fixtures/hooks/clean/requirements.txt must list --hash=sha256:{hash_10}"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let server = IndexServer::start().await;
        built.serve(&server, PageFormat::Json).await;
        server
    });
    let index = server.index_url();
    let unreachable = format!("http://127.0.0.1:{}/simple/", closed_port());

    let root = tmp_root();
    fs::create_dir_all(&root).unwrap();
    let manager = manager(&root);
    // One snapshot repository per manager: two test threads may snapshot at once.
    let hook_repo = root.join(format!("hook-repo-{}", manager.name));
    let rev = snapshot_checkout(&hook_repo);
    let repos = tempfile::tempdir_in(&root).unwrap();
    let repos = repos.path();
    let m = &manager;

    // A clean repository: every hook passes on every file. Installing here builds the hooks.
    let clean = consumer(repos, "clean", &hook_repo, &rev, &ALL);
    m.install(&clean);
    let out = m.run(&clean, &index, &["--all-files"]);
    assert!(out.status.success(), "{}", describe(&out));
    for name in [PIN, PIN_OFFLINE, TYPO, HUB] {
        assert_hook(m, &out, name, "Passed");
    }
    // A change to an unrelated file runs no hook.
    commit_all(&clean, "clean");
    fs::write(clean.join("README.md"), "# clean\n\nEdited.\n").unwrap();
    ok(git(&clean).args(["add", "--all"]));
    let out = m.run(&clean, &index, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    for name in [PIN, PIN_OFFLINE, TYPO, HUB] {
        assert_hook(m, &out, name, "(no files to check)Skipped");
    }

    // A typosquatted requirement fails the typo hook, on the staged files.
    let typo = consumer(repos, "typo", &hook_repo, &rev, &["mlsupply-typo"]);
    let out = m.run(&typo, &unreachable, &[]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, TYPO, "Failed");
    let shown = text(&out);
    assert!(
        shown.contains("warning[typosquat]: `reqeusts` looks like a typo of `requests`"),
        "{shown}"
    );
    assert!(shown.contains("requirements.txt:3:1"), "{shown}");

    // A model from a look-alike organisation fails the hub hook.
    let model = consumer(repos, "bad-model", &hook_repo, &rev, &["mlsupply-hub"]);
    let out = m.run(&model, &unreachable, &[]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, HUB, "Failed");
    assert!(
        text(&out).contains("error[lookalike-org]"),
        "{}",
        text(&out)
    );

    // An unpinned requirement: the offline check fails without any network...
    let loose = consumer(repos, "unpinned", &hook_repo, &rev, &ALL);
    let requirements = loose.join("requirements.txt");
    let before = fs::read_to_string(&requirements).unwrap();
    let out = m.run(&loose, &unreachable, &["mlsupply-pin-offline"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, PIN_OFFLINE, "Failed");
    assert!(text(&out).contains("warning[unpinned]"), "{}", text(&out));
    assert_eq!(fs::read_to_string(&requirements).unwrap(), before);

    // ...the pin hook fixes it against the index and fails, as a fixer does...
    let out = m.run(&loose, &index, &["mlsupply-pin"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, PIN, "Failed");
    assert!(
        text(&out).contains("files were modified by this hook"),
        "{}",
        text(&out)
    );
    let fixed = fs::read_to_string(&requirements).unwrap();
    let hash_11 = &built.hashes("acme-hooks-demo", "1.1")[0];
    assert!(
        fixed.contains(&format!(
            "acme-hooks-demo==1.1 \\\n    --hash=sha256:{hash_11}"
        )),
        "{fixed}"
    );

    // ...and the next run, with the fix staged, passes, online and offline.
    ok(git(&loose).args(["add", "--all"]));
    let out = m.run(&loose, &index, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, PIN, "Passed");
    assert_hook(m, &out, TYPO, "Passed");
    assert_eq!(fs::read_to_string(&requirements).unwrap(), fixed);
    let out = m.run(&loose, &unreachable, &["mlsupply-pin-offline"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_hook(m, &out, PIN_OFFLINE, "Passed");

    drop(server);
}
