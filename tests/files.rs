//! File collection and reading, on real temporary directory trees.

use std::fs;
use std::path::{Path, PathBuf};

use mlsupply::files::{self, Collected, MAX_FILE_BYTES};
use mlsupply::{Finding, Severity};

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
    path
}

fn everything(_: &str) -> bool {
    true
}

fn paths(collected: &Collected) -> Vec<&str> {
    collected
        .files
        .iter()
        .map(|f| f.rel_path.as_str())
        .collect()
}

/// The single note about `path`, checked to be a well-formed `file-skipped` note.
fn note<'a>(collected: &'a Collected, path: &str) -> &'a Finding {
    let notes: Vec<_> = collected
        .findings
        .iter()
        .filter(|f| f.path == path)
        .collect();
    assert_eq!(notes.len(), 1, "notes for {path}: {:?}", collected.findings);
    let finding = notes[0];
    assert_eq!(finding.rule, "file-skipped");
    assert_eq!(finding.severity, Severity::Note);
    assert_eq!((finding.line, finding.column), (1, 1));
    assert_eq!(finding.subject, path);
    assert!(finding.message.contains(path), "{}", finding.message);
    finding
}

#[test]
fn walk_honours_ignore_files_and_hidden_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "build/\n*.lock.txt\n");
    write(root, "requirements.txt", "numpy\n");
    write(root, "deps.lock.txt", "x\n");
    write(root, "build/requirements.txt", "x\n");
    write(root, "sub/.gitignore", "local.txt\n");
    write(root, "sub/local.txt", "x\n");
    write(root, "sub/kept.txt", "x\n");
    write(root, "sub/.ignore", "also-ignored.txt\n");
    write(root, "sub/also-ignored.txt", "x\n");
    write(root, ".github/workflows/ci.yml", "on: push\n");
    write(root, ".github/dependabot.yml", "version: 2\n");
    write(root, ".venv/lib/requirements.txt", "x\n");
    write(root, "src/.cache/requirements.txt", "x\n");
    write(root, ".git/info/exclude", "secret-notes.txt\n");
    write(root, ".git/config", "[core]\n");
    write(root, "secret-notes.txt", "x\n");
    // Hidden files (not directories) are walked.
    write(root, ".pre-commit-config.yaml", "repos: []\n");

    let collected = files::collect(root, &[], &[], &everything);
    assert_eq!(
        paths(&collected),
        [
            ".github/dependabot.yml",
            ".github/workflows/ci.yml",
            ".gitignore",
            ".pre-commit-config.yaml",
            "requirements.txt",
            "sub/.gitignore",
            "sub/.ignore",
            "sub/kept.txt",
        ]
    );
    assert!(collected.findings.is_empty(), "{:?}", collected.findings);
    let first = &collected.files[4];
    assert_eq!(first.text, "numpy\n");
    assert_eq!(
        first.abs_path,
        root.canonicalize().unwrap().join("requirements.txt")
    );
}

#[test]
fn only_wanted_paths_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "numpy\n");
    write(dir.path(), "docs/requirements.txt", "sphinx\n");
    write(dir.path(), "README.md", "hi\n");
    // Not even read: a binary non-wanted file gets no note.
    write(dir.path(), "model.bin", b"\0\0\0");
    let wanted = |rel: &str| rel.ends_with("requirements.txt");
    let collected = files::collect(dir.path(), &[], &[], &wanted);
    assert_eq!(
        paths(&collected),
        ["docs/requirements.txt", "requirements.txt"]
    );
    assert!(collected.findings.is_empty());
}

#[test]
fn exclude_globs_drop_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for rel in [
        "requirements.txt",
        "vendor/requirements.txt",
        "vendor/deep/er/requirements.txt",
        "third_party/x/requirements.txt",
        "docs/requirements.txt",
        "docs/api/requirements.txt",
        "nb/a.ipynb",
        "deep/nb/b.ipynb",
        "node_modules/pkg/requirements.txt",
        "src/node_modules/requirements.txt",
    ] {
        write(root, rel, "x\n");
    }
    let exclude = [
        "vendor/**".to_string(),
        "third_party".to_string(),
        // `*` does not cross `/`: only files directly in docs/.
        "docs/*.txt".to_string(),
        // No `/`: a name at any depth.
        "*.ipynb".to_string(),
        "node_modules".to_string(),
    ];
    let collected = files::collect(root, &[], &exclude, &everything);
    assert_eq!(
        paths(&collected),
        ["docs/api/requirements.txt", "requirements.txt"]
    );
}

#[test]
fn unreadable_files_become_notes_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a-binary.txt", b"numpy\n\0\x01\x02");
    write(root, "b-latin1.txt", b"numpy\ncaf\xe9\n");
    let big = fs::File::create(root.join("c-huge.txt")).unwrap();
    // Sparse: no disk space used.
    big.set_len(MAX_FILE_BYTES + 1).unwrap();
    write(root, "d-fine.txt", "requests\n");
    // NUL past the 8 KiB probe: text, as git and ripgrep decide.
    let mut late_nul = "x".repeat(9000).into_bytes();
    late_nul.push(0);
    write(root, "e-late-nul.txt", &late_nul);

    let collected = files::collect(root, &[], &[], &everything);
    assert_eq!(paths(&collected), ["d-fine.txt", "e-late-nul.txt"]);
    assert_eq!(collected.findings.len(), 3, "{:?}", collected.findings);
    assert!(note(&collected, "a-binary.txt").message.contains("binary"));
    let latin1 = note(&collected, "b-latin1.txt");
    assert!(
        latin1.message.contains("not valid UTF-8"),
        "{}",
        latin1.message
    );
    assert!(latin1.message.contains("line 2"), "{}", latin1.message);
    let huge = note(&collected, "c-huge.txt");
    assert!(
        huge.message.contains("larger than the 16 MiB limit"),
        "{}",
        huge.message
    );
}

#[test]
fn boms_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let text = "numpy==1.26\r\npändas\n";
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    write(root, "le.txt", &utf16le);
    write(root, "be.txt", &utf16be);
    write(root, "utf8.txt", format!("\u{feff}{text}"));
    let mut odd = utf16le.clone();
    odd.push(b'x');
    write(root, "odd.txt", &odd);
    write(root, "utf32.txt", [0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]);

    let collected = files::collect(root, &[], &[], &everything);
    assert_eq!(paths(&collected), ["be.txt", "le.txt", "utf8.txt"]);
    for file in &collected.files {
        assert_eq!(file.text, text, "{}", file.rel_path);
        assert_eq!(file.line(2), Some("pändas"));
    }
    assert!(note(&collected, "odd.txt").message.contains("UTF-16"));
    assert!(note(&collected, "utf32.txt").message.contains("UTF-32"));
}

#[cfg(unix)]
#[test]
fn symlinks_never_lead_out_of_the_root() {
    use std::os::unix::fs::symlink;

    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", "token=hunter2\n");
    write(outside.path(), "dir/requirements.txt", "evil\n");

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "real/requirements.txt", "numpy\n");
    symlink(outside.path().join("secret.txt"), root.join("escape.txt")).unwrap();
    symlink(outside.path().join("dir"), root.join("escape-dir")).unwrap();
    symlink(root.join("real"), root.join("inner-dir")).unwrap();
    symlink("real/requirements.txt", root.join("inner.txt")).unwrap();
    symlink("missing.txt", root.join("dangling.txt")).unwrap();

    let collected = files::collect(root, &[], &[], &everything);
    // The in-root file symlink is read under its own name; directory symlinks are not followed.
    assert_eq!(paths(&collected), ["inner.txt", "real/requirements.txt"]);
    assert_eq!(collected.files[0].text, "numpy\n");
    assert!(
        note(&collected, "escape.txt")
            .message
            .contains("outside the scanned root")
    );
    assert!(
        note(&collected, "dangling.txt")
            .message
            .contains("broken symlink")
    );
    assert_eq!(collected.findings.len(), 2, "{:?}", collected.findings);
    assert!(collected.files.iter().all(|f| !f.text.contains("hunter2")));

    // Given explicitly, a directory symlink is reported rather than followed.
    let collected = files::collect(root, &[root.join("escape-dir")], &[], &everything);
    assert!(collected.files.is_empty());
    assert!(
        note(&collected, "escape-dir")
            .message
            .contains("not followed")
    );
    let collected = files::collect(root, &[root.join("escape.txt")], &[], &everything);
    assert!(collected.files.is_empty());
    assert!(
        note(&collected, "escape.txt")
            .message
            .contains("outside the scanned root")
    );

    // `read` applies the same rule.
    let error = files::read(root, Path::new("escape.txt")).unwrap_err();
    assert!(error.message.contains("outside the scanned root"));
    let error = files::read(root, Path::new("escape-dir/requirements.txt")).unwrap_err();
    assert!(
        error.message.contains("outside the scanned root"),
        "{}",
        error.message
    );
}

#[cfg(unix)]
#[test]
fn special_files_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    // A socket is not a regular file; reading a FIFO or device could block or never end.
    let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("sock.txt")).unwrap();
    let collected = files::collect(dir.path(), &[], &[], &everything);
    assert!(collected.files.is_empty());
    assert!(
        note(&collected, "sock.txt")
            .message
            .contains("not a regular file")
    );
}

#[test]
fn read_resolves_relative_paths_against_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "reqs/base.txt", "numpy\n");
    let file = files::read(root, Path::new("reqs/base.txt")).unwrap();
    assert_eq!(file.rel_path, "reqs/base.txt");
    let file = files::read(root, &root.join("reqs/../reqs/base.txt")).unwrap();
    assert_eq!(file.rel_path, "reqs/base.txt");

    let error = files::read(root, Path::new("reqs/none.txt")).unwrap_err();
    assert_eq!(error.path, "reqs/none.txt");
    assert!(error.message.contains("no such file"));

    write(root, "other.txt", "x\n");
    let error = files::read(&root.join("reqs"), Path::new("../other.txt")).unwrap_err();
    assert!(
        error.message.contains("outside the scanned root"),
        "{}",
        error.message
    );
}

#[test]
fn explicit_paths_are_read_even_if_ignored_but_still_excluded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "ignored/\n");
    write(root, "ignored/requirements.txt", "numpy\n");
    write(root, "vendor/requirements.txt", "x\n");
    write(root, "sub/requirements.txt", "a\n");
    write(root, "sub/ignored/requirements.txt", "b\n");
    write(root, "sub/.hidden/requirements.txt", "c\n");
    write(root, "README.md", "hi\n");
    let outside = tempfile::tempdir().unwrap();
    let stray = write(outside.path(), "requirements.txt", "x\n");

    let explicit = [
        root.join("ignored/requirements.txt"),
        root.join("vendor/requirements.txt"),
        // A directory is walked, with ignore files and hidden-directory rules.
        root.join("sub"),
        root.join("sub/requirements.txt"),
        root.join("missing.txt"),
        root.join("README.md"),
        stray.clone(),
    ];
    let wanted = |rel: &str| rel.ends_with(".txt");
    let collected = files::collect(root, &explicit, &["vendor".to_string()], &wanted);
    assert_eq!(
        paths(&collected),
        ["ignored/requirements.txt", "sub/requirements.txt"]
    );
    assert!(
        note(&collected, "missing.txt")
            .message
            .contains("no such file")
    );
    let stray = stray.to_string_lossy();
    assert!(
        note(&collected, &stray)
            .message
            .contains("outside the scanned root")
    );
    assert_eq!(collected.findings.len(), 2, "{:?}", collected.findings);
}

#[test]
fn relative_explicit_paths_are_relative_to_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "requirements.txt", "numpy\n");
    write(&root, "sub/requirements.txt", "pandas\n");
    // The only test that changes the current directory; the others use absolute paths.
    std::env::set_current_dir(root.join("sub")).unwrap();
    let collected = files::collect(
        &root,
        &[
            PathBuf::from("requirements.txt"),
            PathBuf::from("../requirements.txt"),
        ],
        &[],
        &everything,
    );
    assert_eq!(
        paths(&collected),
        ["requirements.txt", "sub/requirements.txt"]
    );
    assert_eq!(collected.files[1].text, "pandas\n");

    // The root itself, given relatively, is walked.
    write(&root, "sub/.venv/requirements.txt", "x\n");
    let collected = files::collect(
        &root,
        &[PathBuf::from("..")],
        &["*.in".to_string()],
        &everything,
    );
    assert_eq!(
        paths(&collected),
        ["requirements.txt", "sub/requirements.txt"]
    );
}

#[test]
fn a_missing_root_is_a_note_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let collected = files::collect(&missing, &[], &[], &everything);
    assert!(collected.files.is_empty());
    assert_eq!(collected.findings.len(), 1);
    assert!(collected.findings[0].message.contains("scanned root"));
}

/// Files the user names (pip.conf, ~/.netrc, a CA bundle, `--config`, a report) may be anywhere,
/// but are read only if regular, without blocking and within the cap.
#[cfg(unix)]
#[test]
fn named_files_are_regular_capped_and_never_block() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pip.conf");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let error = files::read_named(&fifo, files::MAX_FILE_BYTES).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");
    let error = files::read_named(Path::new("/dev/zero"), files::MAX_FILE_BYTES).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");
    let error = files::read_named(dir.path(), files::MAX_FILE_BYTES).unwrap_err();
    assert!(error.to_string().contains("directory"), "{error}");
    let missing = files::read_named(&dir.path().join("none"), 10).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    let big = dir.path().join("big");
    std::fs::write(&big, "x".repeat(11)).unwrap();
    let error = files::read_named(&big, 10).unwrap_err();
    assert!(error.to_string().contains("larger than"), "{error}");
    assert_eq!(files::read_named(&big, 11).unwrap().len(), 11);
    // The usual way to name no file at all.
    assert!(
        files::read_named(Path::new("/dev/null"), 10)
            .unwrap()
            .is_empty()
    );
}
