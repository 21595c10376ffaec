//! `mlsupply-pin --fix` leaves files as it found them apart from their text: owner, group and
//! mode are kept, and a run that cannot write one file writes none (issue 19, defects 10 and 11).
//!
//! Owners can only be given away by root, so these tests need root (CI runs them as root) and
//! say so and pass when run as another user. The failing write is real, not injected: the
//! binary runs as an unprivileged user for whom one directory refuses the write.

#![cfg(unix)]

mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use support::index_server::{FileSpec, IndexServer, JsonPage, fake_sha256};

const BIN: &str = env!("CARGO_BIN_EXE_mlsupply-pin");
const USER: u32 = 1234;

fn is_root() -> bool {
    // The owner of a file this process creates is its effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    let root = probe.as_file().metadata().unwrap().uid() == 0;
    if !root {
        eprintln!("skipped: changing a file's owner needs root");
    }
    root
}

/// `mlsupply-pin --no-deps --no-cache --fix` in `dir`, as `user` when given.
fn fix(dir: &Path, index: &str, user: Option<u32>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(["--no-deps", "--no-cache", "--index-url", index, "--fix"])
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("NO_COLOR", "1");
    if let Some(user) = user {
        command.uid(user).gid(user);
    }
    command.output().expect("the binary runs")
}

async fn server() -> IndexServer {
    let server = IndexServer::start().await;
    for name in ["demo", "other"] {
        server
            .json_project(
                name,
                &JsonPage::new(name).file(FileSpec::wheel(name, "1.0")),
            )
            .await;
    }
    server
}

fn pinned(name: &str) -> String {
    let hash = fake_sha256(&format!("{name}-1.0-py3-none-any.whl"));
    format!("{name}==1.0 \\\n    --hash=sha256:{hash}\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_keeps_owner_group_and_mode_and_says_what_happens_to_hard_links() {
    if !is_root() {
        return;
    }
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements.txt");
    fs::write(&path, "demo==1.0\n").unwrap();
    chown(&path, Some(USER), Some(USER)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    fs::create_dir(dir.path().join(".keep")).unwrap();
    fs::hard_link(&path, dir.path().join(".keep/linked.txt")).unwrap();

    let out = fix(dir.path(), &server.index_url(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap(), pinned("demo"));
    let metadata = fs::metadata(&path).unwrap();
    assert_eq!((metadata.uid(), metadata.gid()), (USER, USER));
    assert_eq!(metadata.permissions().mode() & 0o7777, 0o640);
    // The rename gives the file a new inode: the other name keeps the old text, and is named.
    assert_eq!(
        fs::read_to_string(dir.path().join(".keep/linked.txt")).unwrap(),
        "demo==1.0\n"
    );
    assert!(
        stderr.contains("warning: requirements.txt had other hard links"),
        "{stderr}"
    );
}

/// `requirements.txt` is writable and its include `z/base.txt` is not: once because no
/// temporary file can be made in `z/` (the prepare step fails), once because `z/` is sticky and
/// the file belongs to another user (the rename fails after `requirements.txt` was renamed, and
/// it is put back).
#[tokio::test(flavor = "multi_thread")]
async fn a_fix_that_cannot_write_one_file_writes_none() {
    if !is_root() {
        return;
    }
    let server = server().await;
    for z_mode in [0o755, 0o1777] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        chown(root, Some(USER), Some(USER)).unwrap();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        let top = "-r z/base.txt\nother==1.0\n";
        fs::write(root.join("requirements.txt"), top).unwrap();
        chown(root.join("requirements.txt"), Some(USER), Some(USER)).unwrap();
        fs::create_dir(root.join("z")).unwrap();
        fs::write(root.join("z/base.txt"), "demo==1.0\n").unwrap();
        fs::set_permissions(root.join("z"), fs::Permissions::from_mode(z_mode)).unwrap();

        let out = fix(root, &server.index_url(), Some(USER));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{z_mode:o}: {stderr}");
        // EACCES from creating the temporary file; EPERM from the rename in a sticky directory.
        let why = if z_mode == 0o755 {
            "Permission denied"
        } else {
            "Operation not permitted"
        };
        assert!(
            stderr.contains(&format!("error: cannot write z/base.txt: {why}")),
            "{z_mode:o}: {stderr}"
        );
        assert!(
            stderr.contains("no file was changed"),
            "{z_mode:o}: {stderr}"
        );
        assert_eq!(
            fs::read_to_string(root.join("requirements.txt")).unwrap(),
            top
        );
        assert_eq!(
            fs::read_to_string(root.join("z/base.txt")).unwrap(),
            "demo==1.0\n"
        );
        let metadata = fs::metadata(root.join("requirements.txt")).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (USER, USER), "{z_mode:o}");
        // No temporary file is left behind.
        let mut left: Vec<String> = ["", "z"]
            .iter()
            .flat_map(|sub| fs::read_dir(root.join(sub)).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["base.txt", "requirements.txt", "z"], "{z_mode:o}");

        // The same tree, with the include writable, is fixed whole.
        fs::set_permissions(root.join("z"), fs::Permissions::from_mode(0o755)).unwrap();
        chown(root.join("z"), Some(USER), Some(USER)).unwrap();
        chown(root.join("z/base.txt"), Some(USER), Some(USER)).unwrap();
        let out = fix(root, &server.index_url(), Some(USER));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            fs::read_to_string(root.join("requirements.txt")).unwrap(),
            format!("-r z/base.txt\n{}", pinned("other"))
        );
        assert_eq!(
            fs::read_to_string(root.join("z/base.txt")).unwrap(),
            pinned("demo")
        );
    }
}
