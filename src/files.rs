//! Which files a scan reads, and reading them safely.
//!
//! STUB: interface fixed, body to be written (helper "infra").

use std::path::{Path, PathBuf};

use crate::finding::Finding;
use crate::source::SourceFile;

/// Files larger than this are skipped with a note.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<SourceFile>,
    /// `file-skipped` notes (binary, not UTF-8, unreadable, too large, outside the root).
    pub findings: Vec<Finding>,
}

/// The files to scan: the `explicit` paths (files, or directories to walk) when any are given,
/// else a walk of `root` that honours `.gitignore`. Only paths for which `wanted(rel_path)` holds
/// are read; `exclude` globs drop paths. Symlinks are never followed out of `root`.
pub fn collect(
    root: &Path,
    explicit: &[PathBuf],
    exclude: &[String],
    wanted: &dyn Fn(&str) -> bool,
) -> Collected {
    let _ = (root, explicit, exclude, wanted);
    Collected::default()
}

/// Reads one file under `root` as text, or says why it was skipped.
pub fn read(root: &Path, path: &Path) -> Result<SourceFile, Finding> {
    let _ = (root, path);
    unimplemented!()
}
