//! Rewriting a user's files (`mlsupply-pin --fix`, `mlsupply-hub --fix`): all of them or none,
//! each atomically, keeping its mode, owner and group.
//!
//! Every file is prepared first: its new content goes to a temporary file beside the target,
//! with the target's mode and (where the process may set them) owner and group, and is synced.
//! Only when every file is prepared are the temporary files renamed over their targets. If a
//! rename fails, the files already renamed get their old content back the same way, so a failed
//! run leaves the tree as it found it.
//!
//! A symlink is written through: its target is rewritten (it must lie inside the scanned root)
//! and the link stays. A file with more than one hard link comes back as a new file under the
//! name that was scanned; its other names keep the old content ([`Written::split_links`] lists
//! such files). Writing in place instead would lose atomicity and would change an inode that may
//! also be named outside the root.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// One file to rewrite: `path` as the scan found it, and its new bytes.
pub struct NewContent<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
}

/// What [`write_all`] did besides writing.
#[derive(Debug, Default)]
pub struct Written {
    /// Files that had other hard links: those names still hold the old content.
    pub split_links: Vec<PathBuf>,
}

/// The file that could not be written (as it was passed in), and why. Nothing was changed,
/// unless `restore_failed` names files whose old content could not be put back.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub error: io::Error,
    pub restore_failed: Vec<(PathBuf, io::Error)>,
}

impl WriteError {
    /// The error, with each file called by `name` (a path relative to the root, say).
    pub fn describe(&self, name: impl Fn(&Path) -> String) -> String {
        let mut text = format!("cannot write {}: {}", name(&self.path), self.error);
        for (path, error) in &self.restore_failed {
            text.push_str(&format!(
                "; {} was rewritten and its old content could not be put back: {error}",
                name(path)
            ));
        }
        text
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(|path| path.display().to_string()))
    }
}

impl std::error::Error for WriteError {}

/// A file ready to be committed: the temporary file holding its new content, the real file it
/// replaces, and that file's old content and metadata, to put back if a later rename fails.
struct Prepared {
    given: PathBuf,
    target: PathBuf,
    temp: NamedTempFile,
    old: Vec<u8>,
    metadata: fs::Metadata,
}

/// Writes every file in `files` (all under `root`), or none of them.
pub fn write_all(root: &Path, files: &[NewContent<'_>]) -> Result<Written, WriteError> {
    let failed = |path: &Path, error: io::Error| WriteError {
        path: path.to_path_buf(),
        error,
        restore_failed: Vec::new(),
    };
    let root = root.canonicalize().map_err(|e| failed(root, e))?;
    let mut prepared = Vec::with_capacity(files.len());
    for file in files {
        prepared.push(prepare(&root, file).map_err(|e| failed(file.path, e))?);
    }
    let mut written = Written::default();
    let mut committed: Vec<(PathBuf, PathBuf, Vec<u8>, fs::Metadata)> = Vec::new();
    for file in prepared {
        if link_count(&file.metadata) > 1 {
            written.split_links.push(file.given.clone());
        }
        match file.temp.persist(&file.target) {
            Ok(_) => committed.push((file.given, file.target, file.old, file.metadata)),
            Err(err) => {
                let mut error = failed(&file.given, err.error);
                for (given, target, old, metadata) in committed.into_iter().rev() {
                    let restored = temp_with(&target, &old, &metadata)
                        .and_then(|temp| temp.persist(&target).map_err(|e| e.error));
                    if let Err(e) = restored {
                        error.restore_failed.push((given, e));
                    }
                }
                return Err(error);
            }
        }
    }
    Ok(written)
}

/// Resolves `file.path` to the regular file inside `root` it names, and writes its new content
/// to a temporary file beside it.
fn prepare(root: &Path, file: &NewContent<'_>) -> io::Result<Prepared> {
    let target = file.path.canonicalize()?;
    if !target.starts_with(root) {
        return Err(io::Error::other(
            "it is a symlink to a file outside the scanned root",
        ));
    }
    let metadata = fs::metadata(&target)?;
    if !metadata.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    // Through the guarded reader, as every read is: a regular file, without blocking, capped.
    let old = crate::files::read_named(&target, crate::files::MAX_FILE_BYTES)?;
    let temp = temp_with(&target, file.bytes, &metadata)?;
    Ok(Prepared {
        given: file.path.to_path_buf(),
        target,
        temp,
        old,
        metadata,
    })
}

/// A synced temporary file beside `target` holding `bytes`, with `like`'s owner, group and mode.
fn temp_with(target: &Path, bytes: &[u8], like: &fs::Metadata) -> io::Result<NamedTempFile> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".mlsupply-")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    keep_owner(temp.as_file(), like)?;
    // After the owner: a change of owner clears the set-user-ID and set-group-ID bits.
    temp.as_file().set_permissions(like.permissions())?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// Gives `file` the owner and group of `like`, as far as the process may: root can set both;
/// another user keeps its own ownership, and the group where it belongs to that group.
#[cfg(unix)]
fn keep_owner(file: &fs::File, like: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, fchown};
    let not_permitted = |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied;
    match fchown(file, Some(like.uid()), Some(like.gid())) {
        Err(e) if not_permitted(&e) => match fchown(file, None, Some(like.gid())) {
            Err(e) if not_permitted(&e) => Ok(()),
            other => other,
        },
        other => other,
    }
}

/// Elsewhere a new file belongs to the user who writes it.
#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _like: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

/// How many names (hard links) the file has.
#[cfg(unix)]
fn link_count(metadata: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(metadata)
}

#[cfg(not(unix))]
fn link_count(_metadata: &fs::Metadata) -> u64 {
    1
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn content<'a>(path: &'a Path, text: &'a str) -> NewContent<'a> {
        NewContent {
            path,
            bytes: text.as_bytes(),
        }
    }

    #[test]
    fn a_symlink_is_written_through_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        fs::write(&real, "old\n").unwrap();
        symlink("real.txt", &link).unwrap();
        write_all(dir.path(), &[content(&link, "new\n")]).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let real = outside.path().join("real.txt");
        fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.txt");
        symlink(&real, &link).unwrap();
        let err = write_all(dir.path(), &[content(&link, "new\n")]).unwrap_err();
        assert_eq!(err.path, link);
        assert!(
            err.to_string().contains("outside the scanned root"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "old\n");
    }

    #[test]
    fn mode_is_kept_and_hard_links_are_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.txt");
        fs::write(&file, "old\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        fs::hard_link(&file, dir.path().join("other.txt")).unwrap();
        let written = write_all(dir.path(), &[content(&file, "new\n")]).unwrap();
        assert_eq!(written.split_links, std::slice::from_ref(&file));
        let metadata = fs::metadata(&file).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_to_string(&file).unwrap(), "new\n");
        let other = dir.path().join("other.txt");
        assert_eq!(fs::read_to_string(other).unwrap(), "old\n");
    }

    #[test]
    fn a_failed_prepare_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.txt");
        fs::write(&first, "old\n").unwrap();
        let missing = dir.path().join("gone/b.txt");
        let err = write_all(
            dir.path(),
            &[content(&first, "new\n"), content(&missing, "x")],
        )
        .unwrap_err();
        assert_eq!(err.path, missing);
        assert_eq!(fs::read_to_string(&first).unwrap(), "old\n");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
