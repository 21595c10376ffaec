//! The plain git hooks (`hooks/pre-commit`, `hooks/pre-push`) in throwaway repositories whose
//! `core.hooksPath` is this checkout's `hooks/`, running the `mlsupply` binary cargo built for the
//! tests (`MLSUPPLY_BIN_DIR`). They must judge what is committed or pushed, never the working tree.
#![cfg(unix)] // POSIX sh hooks; Git for Windows runs them with its own sh, not covered here.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::precommit::{
    checkout, commit_all, copy_tree, fixture, git, init_repo, ok, output, text,
};

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mlsupply"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf()
}

/// A repository using this checkout's hooks, with `fixture`'s files in its working tree (not added).
fn repo(fixture_name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    init_repo(dir.path());
    let hooks = checkout().join("hooks");
    ok(git(dir.path())
        .arg("config")
        .arg("core.hooksPath")
        .arg(&hooks));
    copy_tree(&fixture(fixture_name), dir.path());
    dir
}

/// `git <args>` in `dir` as a user would run it: hooks enabled, the test binaries found.
fn user_git(dir: &Path, args: &[&str]) -> Output {
    output(git(dir).args(args).env("MLSUPPLY_BIN_DIR", bin_dir()))
}

fn head(dir: &Path) -> Option<String> {
    let out = output(git(dir).args(["rev-parse", "--verify", "--quiet", "HEAD"]));
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn typo_text() -> String {
    read(&fixture("typo").join("requirements.txt"))
}

fn clean_text() -> String {
    read(&fixture("clean").join("requirements.txt"))
}

#[test]
fn a_bad_staged_file_blocks_the_commit() {
    let dir = repo("clean");
    // A path with a space, in a directory: the staged file list must survive both.
    fs::create_dir_all(dir.path().join("requirements")).unwrap();
    fs::write(dir.path().join("requirements/dev extra.txt"), typo_text()).unwrap();
    ok(git(dir.path()).args(["add", "--all"]));

    let out = user_git(dir.path(), &["commit", "-m", "add requirements"]);
    let shown = text(&out);
    assert!(!out.status.success(), "the commit went through:\n{shown}");
    assert!(shown.contains("warning[typosquat]"), "{shown}");
    assert!(shown.contains("requirements/dev extra.txt:3:1"), "{shown}");
    assert!(shown.contains("did you mean `requests`?"), "{shown}");
    assert!(shown.contains("the commit is blocked"), "{shown}");
    assert_eq!(head(dir.path()), None, "no commit may exist");
}

#[test]
fn a_clean_staged_file_passes() {
    let dir = repo("clean");
    ok(git(dir.path()).args(["add", "--all"]));
    let out = user_git(dir.path(), &["commit", "-m", "clean"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(head(dir.path()).is_some());
}

#[test]
fn an_unstaged_bad_change_does_not_block() {
    let dir = repo("clean");
    let requirements = dir.path().join("requirements.txt");
    // Staged: the clean file with one more clean line. Working tree: a typosquat on top.
    fs::write(&requirements, format!("{}# reviewed\n", clean_text())).unwrap();
    ok(git(dir.path()).args(["add", "--all"]));
    fs::write(&requirements, typo_text()).unwrap();

    let out = user_git(dir.path(), &["commit", "-m", "clean staged content"]);
    assert!(out.status.success(), "{}", text(&out));
    let committed = ok(git(dir.path()).args(["show", "HEAD:requirements.txt"]));
    assert_eq!(
        String::from_utf8_lossy(&committed.stdout),
        format!("{}# reviewed\n", clean_text())
    );
    assert_eq!(
        read(&requirements),
        typo_text(),
        "the working tree is untouched"
    );
}

#[test]
fn a_bad_staged_file_blocks_even_when_the_working_tree_is_clean() {
    let dir = repo("clean");
    let requirements = dir.path().join("requirements.txt");
    fs::write(&requirements, typo_text()).unwrap();
    ok(git(dir.path()).args(["add", "--all"]));
    fs::write(&requirements, clean_text()).unwrap();

    let out = user_git(dir.path(), &["commit", "-m", "typosquat staged"]);
    let shown = text(&out);
    assert!(!out.status.success(), "the commit went through:\n{shown}");
    assert!(
        shown.contains("`reqeusts` looks like a typo of `requests`"),
        "{shown}"
    );
    assert_eq!(head(dir.path()), None);
}

#[test]
fn commit_all_checks_what_git_commit_a_stages() {
    let dir = repo("clean");
    commit_all(dir.path(), "clean");
    let before = head(dir.path());
    fs::write(dir.path().join("requirements.txt"), typo_text()).unwrap();

    // `git commit -a` stages into a temporary index (GIT_INDEX_FILE) before the hook runs.
    let out = user_git(dir.path(), &["commit", "-a", "-m", "typosquat"]);
    let shown = text(&out);
    assert!(!out.status.success(), "the commit went through:\n{shown}");
    assert!(shown.contains("warning[typosquat]"), "{shown}");
    assert_eq!(head(dir.path()), before);
}

#[test]
fn a_missing_binary_blocks_with_install_advice() {
    let dir = repo("clean");
    ok(git(dir.path()).args(["add", "--all"]));
    let empty = tempfile::tempdir().unwrap();
    let out = output(
        git(dir.path())
            .args(["commit", "-m", "clean"])
            .env("MLSUPPLY_BIN_DIR", empty.path()),
    );
    let shown = text(&out);
    assert!(!out.status.success(), "the commit went through:\n{shown}");
    assert!(
        shown.contains("the `mlsupply` binary was not found"),
        "{shown}"
    );
    assert!(shown.contains("cargo install --locked --path"), "{shown}");
    assert_eq!(head(dir.path()), None);
}

#[test]
fn a_commit_without_dependency_files_passes_without_a_scan() {
    let dir = repo("clean");
    commit_all(dir.path(), "clean");
    fs::write(dir.path().join("README.md"), "# changed\n").unwrap();
    ok(git(dir.path()).args(["add", "--all"]));
    let out = user_git(dir.path(), &["commit", "-m", "docs"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("warning"),
        "{}",
        text(&out)
    );
}

fn remote_head(remote: &Path, branch: &str) -> Option<String> {
    let out = output(git(remote).args(["rev-parse", "--verify", "--quiet", branch]));
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn pre_push_blocks_a_bad_commit() {
    let remote = tempfile::tempdir().unwrap();
    ok(Command::new("git")
        .args(["init", "--quiet", "--bare", "--initial-branch=main"])
        .arg(remote.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null"));
    let dir = repo("clean");
    ok(git(dir.path())
        .args(["remote", "add", "origin"])
        .arg(remote.path()));

    // A clean first push: a new branch on the remote.
    commit_all(dir.path(), "clean");
    let out = user_git(dir.path(), &["push", "--quiet", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    let clean = head(dir.path());
    assert_eq!(remote_head(remote.path(), "main"), clean);

    // A typosquat committed past the pre-commit hook is stopped at the push.
    fs::write(dir.path().join("requirements.txt"), typo_text()).unwrap();
    commit_all(dir.path(), "typosquat");
    let out = user_git(dir.path(), &["push", "--quiet", "origin", "main"]);
    let shown = text(&out);
    assert!(!out.status.success(), "the push went through:\n{shown}");
    assert!(shown.contains("requirements.txt:3:1"), "{shown}");
    assert!(shown.contains("warning[typosquat]"), "{shown}");
    assert!(shown.contains("the push is blocked"), "{shown}");
    assert_eq!(remote_head(remote.path(), "main"), clean);

    // The same commits to a branch the remote does not have yet.
    let out = user_git(dir.path(), &["push", "--quiet", "origin", "main:feature"]);
    assert!(
        !out.status.success(),
        "the push went through:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("warning[typosquat]"));
    assert_eq!(remote_head(remote.path(), "feature"), None);

    // Unrelated working-tree and index state does not matter: the pushed commits do.
    fs::write(dir.path().join("requirements.txt"), clean_text()).unwrap();
    ok(git(dir.path()).args(["add", "--all"]));
    let out = user_git(dir.path(), &["push", "--quiet", "origin", "main"]);
    assert!(
        !out.status.success(),
        "the push went through:\n{}",
        text(&out)
    );

    // Once a commit fixes the file, the tip that would land is clean and the push goes through.
    ok(git(dir.path()).args(["commit", "--quiet", "--no-verify", "-m", "fix"]));
    let out = user_git(dir.path(), &["push", "--quiet", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(remote_head(remote.path(), "main"), head(dir.path()));
}
