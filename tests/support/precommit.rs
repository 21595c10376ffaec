//! Git repositories and the pre-commit framework for the hook tests (`tests/hooks_*.rs`).
//!
//! Every git command runs without the user's or the system's configuration (no global hooks, no
//! signing, no `core.autocrlf`) and without `GIT_*` variables inherited from an outer git (a test
//! run from inside a hook would otherwise act on the outer repository).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::python::describe;

/// The pre-commit release the tests drive.
pub const PRE_COMMIT_VERSION: &str = "4.7.0";

/// This checkout (the hook repository under test).
pub fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/hooks/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    checkout().join("tests/fixtures/hooks").join(name)
}

/// Removes every variable that could point git, pip or pre-commit somewhere else.
pub fn scrub(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy().to_ascii_uppercase();
        if key_text.starts_with("GIT_")
            || key_text.starts_with("PRE_COMMIT")
            || key_text.starts_with("MLSUPPLY_")
            || key_text == "SKIP"
        {
            command.env_remove(&key);
        }
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", null_device())
        .env("GIT_AUTHOR_NAME", "Hook Test")
        .env("GIT_AUTHOR_EMAIL", "hooks@example.invalid")
        .env("GIT_COMMITTER_NAME", "Hook Test")
        .env("GIT_COMMITTER_EMAIL", "hooks@example.invalid")
        .env("NO_COLOR", "1")
}

fn null_device() -> &'static str {
    if cfg!(windows) { "NUL" } else { "/dev/null" }
}

/// `git -C dir <args>`, scrubbed.
pub fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    scrub(&mut command);
    command.arg("-C").arg(dir);
    command
}

/// Runs `command` and returns its output, whatever the exit status.
pub fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"))
}

/// Runs `command`, panicking with its output unless it succeeds.
pub fn ok(command: &mut Command) -> Output {
    let out = output(command);
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        describe(&out)
    );
    out
}

/// Standard output and standard error together, for assertions on what a user sees.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Copies the files under `from` into `to` (created), keeping permissions.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|err| panic!("cannot create {}: {err}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|err| panic!("{}: {err}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap_or_else(|err| {
                panic!(
                    "cannot copy {} to {}: {err}",
                    entry.path().display(),
                    target.display()
                )
            });
        }
    }
}

/// A new repository at `dir` (created) on branch `main`.
pub fn init_repo(dir: &Path) {
    fs::create_dir_all(dir).unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    ok(git(dir).args(["init", "--quiet", "--initial-branch=main"]));
}

/// `git add --all` then a commit that runs no hook.
pub fn commit_all(dir: &Path, message: &str) {
    ok(git(dir).args(["add", "--all"]));
    ok(git(dir).args(["commit", "--quiet", "--no-verify", "-m", message]));
}

/// A git repository holding this checkout's files as they are on disk (tracked and untracked ones,
/// `.gitignore` honoured, so uncommitted work is tested too), committed with fixed names and dates:
/// the same content gives the same commit id, so pre-commit reuses the hook environment it built
/// for it. `dir` is replaced.
pub fn snapshot_checkout(dir: &Path) -> String {
    if dir.exists() {
        fs::remove_dir_all(dir)
            .unwrap_or_else(|err| panic!("cannot remove {}: {err}", dir.display()));
    }
    let listed = ok(git(checkout()).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]));
    init_repo(dir);
    for rel in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = std::str::from_utf8(rel).expect("UTF-8 path in the checkout");
        let source = checkout().join(rel);
        if !source.is_file() {
            continue; // deleted in the working tree
        }
        let target = dir.join(rel);
        fs::create_dir_all(target.parent().expect("a parent")).expect("parent directory");
        fs::copy(&source, &target)
            .unwrap_or_else(|err| panic!("cannot copy {}: {err}", source.display()));
    }
    ok(git(dir).args(["add", "--all"]));
    ok(git(dir)
        .args(["commit", "--quiet", "--no-verify", "-m", "snapshot"])
        .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z"));
    let head = ok(git(dir).args(["rev-parse", "HEAD"]));
    String::from_utf8(head.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}
