//! Which files a scan reads, and reading them safely.
//!
//! A walk of the root uses the `ignore` crate (ripgrep's walker), so `.gitignore`, `.ignore` and
//! `.git/info/exclude` are honoured exactly as git and ripgrep do, also outside a git repository.
//! The user's global git excludes are not read: a scan gives the same result on a laptop and in
//! CI. Hidden directories are skipped, except `.github` (workflows live there).
//!
//! Symlinks never lead out of the root: directory symlinks are not followed at all, and a file
//! symlink is read only if its target is inside the root. Files that cannot be scanned become a
//! `file-skipped` note instead of an error, so one bad file never stops a scan.
//!
//! `exclude` patterns use the `glob` crate's syntax, matched against the `/`-separated path
//! relative to the root: `*` stays within one directory and `**` crosses them. A pattern with no
//! `/` matches a file or directory name at any depth (`*.ipynb`, `node_modules`), as in
//! `.gitignore`; a pattern that matches a directory excludes everything below it, so `vendor`
//! and `vendor/**` are the same.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use ignore::WalkBuilder;

use crate::finding::{Finding, Span};
use crate::rules;
use crate::source::SourceFile;

/// Files larger than this are skipped with a note.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How much of a file is searched for a NUL byte to call it binary (as git and ripgrep do).
const BINARY_PROBE_BYTES: usize = 8 * 1024;

#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<SourceFile>,
    /// `file-skipped` notes (binary, not UTF-8, unreadable, too large, outside the root).
    pub findings: Vec<Finding>,
}

/// The files to scan: the `explicit` paths (files, or directories to walk) when any are given,
/// else a walk of `root` that honours `.gitignore`. Only paths for which `wanted(rel_path)` holds
/// are read; `exclude` globs drop paths. Symlinks are never followed out of `root`.
///
/// Relative `explicit` paths are relative to the current directory (what pre-commit passes); an
/// explicit file is read even when it is git-ignored, but `exclude` and `wanted` still apply.
/// Files come back sorted by relative path, each at most once.
pub fn collect(
    root: &Path,
    explicit: &[PathBuf],
    exclude: &[String],
    wanted: &dyn Fn(&str) -> bool,
) -> Collected {
    let mut out = Output::default();
    let root = match Root::new(root) {
        Ok(root) => root,
        Err(finding) => {
            out.findings.push(*finding);
            return out.finish();
        }
    };
    let excludes = Excludes::new(exclude);

    if explicit.is_empty() {
        walk(&root, &root.canon, &excludes, wanted, &mut out);
        return out.finish();
    }
    for path in explicit {
        collect_explicit(&root, path, &excludes, wanted, &mut out);
    }
    out.finish()
}

/// Reads one file under `root` as text, or says why it was skipped.
///
/// A relative `path` is taken relative to `root`. The file must be inside `root`, also after
/// following symlinks.
// The signature is the shared interface; one Finding per file read costs nothing worth boxing.
#[allow(clippy::result_large_err)]
pub fn read(root: &Path, path: &Path) -> Result<SourceFile, Finding> {
    let root = Root::new(root).map_err(|finding| *finding)?;
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.canon.join(path)
    };
    root.read(&path).map_err(|finding| *finding)
}

#[derive(Default)]
struct Output {
    files: BTreeMap<String, SourceFile>,
    findings: Vec<Finding>,
}

impl Output {
    fn push(&mut self, result: Result<SourceFile, Box<Finding>>) {
        match result {
            Ok(file) => {
                self.files.insert(file.rel_path.clone(), file);
            }
            Err(finding) => self.findings.push(*finding),
        }
    }

    fn finish(mut self) -> Collected {
        self.findings
            .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        self.findings
            .dedup_by(|a, b| a.path == b.path && a.message == b.message);
        Collected {
            files: self.files.into_values().collect(),
            findings: self.findings,
        }
    }
}

/// The scanned root, canonical so that symlink targets can be checked against it.
struct Root {
    canon: PathBuf,
}

impl Root {
    fn new(root: &Path) -> Result<Root, Box<Finding>> {
        match root.canonicalize() {
            Ok(canon) if canon.is_dir() => Ok(Root { canon }),
            Ok(_) => Err(skipped(
                &display(root),
                "the scanned root is not a directory",
            )),
            Err(e) => Err(skipped(
                &display(root),
                &format!("cannot open the scanned root: {e}"),
            )),
        }
    }

    /// The `/`-separated path of `path` relative to the root, where `path` is the name of the
    /// entry itself (a symlink keeps its own name), or `None` if it is outside the root.
    fn relative(&self, path: &Path) -> Option<String> {
        // Canonicalise the parent only, so a symlink is named by where it is, not where it points.
        let located = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                parent.canonicalize().ok()?.join(name)
            }
            (None, _) | (Some(_), None) => path.canonicalize().ok()?,
            (Some(_), Some(name)) => std::env::current_dir()
                .ok()?
                .canonicalize()
                .ok()?
                .join(name),
        };
        let rel = located.strip_prefix(&self.canon).ok()?;
        Some(slash_path(rel))
    }

    /// Reads `path` (absolute, or relative to the current directory).
    fn read(&self, path: &Path) -> Result<SourceFile, Box<Finding>> {
        let Some(rel) = self.relative(path) else {
            if fs::symlink_metadata(path).is_err() {
                return Err(skipped(&display(path), "no such file"));
            }
            return Err(skipped(&display(path), "outside the scanned root"));
        };
        let target = match path.canonicalize() {
            Ok(target) => target,
            Err(e) if fs::symlink_metadata(path).is_ok() => {
                return Err(skipped(&rel, &format!("broken symlink ({e})")));
            }
            Err(_) => return Err(skipped(&rel, "no such file")),
        };
        if !target.starts_with(&self.canon) {
            return Err(skipped(&rel, "symlink to a file outside the scanned root"));
        }
        let metadata = fs::metadata(&target).map_err(|e| skipped(&rel, &io_reason(&e)))?;
        if metadata.is_dir() {
            return Err(skipped(&rel, "a directory, not a file"));
        }
        if !metadata.is_file() {
            // FIFOs and devices: reading one could block forever or never end.
            return Err(skipped(&rel, "not a regular file"));
        }
        if metadata.len() > MAX_FILE_BYTES {
            return Err(too_large(&rel, metadata.len()));
        }
        let mut bytes = Vec::new();
        let opened = fs::File::open(&target).map_err(|e| skipped(&rel, &io_reason(&e)))?;
        // The size may have changed since `metadata`: never read more than the limit.
        opened
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| skipped(&rel, &io_reason(&e)))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(&rel, bytes.len() as u64));
        }
        let text = decode(&bytes).map_err(|reason| skipped(&rel, &reason))?;
        Ok(SourceFile::new(rel, path, text))
    }
}

fn collect_explicit(
    root: &Root,
    path: &Path,
    excludes: &Excludes,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Output,
) {
    let Some(rel) = root.relative(path) else {
        let reason = match fs::symlink_metadata(path) {
            Ok(_) => "outside the scanned root",
            Err(_) => "no such file",
        };
        out.findings.push(*skipped(&display(path), reason));
        return;
    };
    let Ok(link) = fs::symlink_metadata(path) else {
        out.findings.push(*skipped(&rel, "no such file"));
        return;
    };
    // `rel` is empty for the root itself, which no pattern excludes.
    if !rel.is_empty() && excludes.matches(&rel) {
        return;
    }
    if link.is_dir() {
        // Canonical, so that relative paths below it come out relative to the root.
        if let Ok(dir) = path.canonicalize() {
            walk(root, &dir, excludes, wanted, out);
        }
        return;
    }
    if link.file_type().is_symlink() && fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        out.findings.push(*skipped(
            &rel,
            "symlink to a directory (directory symlinks are not followed)",
        ));
        return;
    }
    if wanted(&rel) {
        out.push(root.read(path));
    }
}

/// Walks `dir` (canonical, inside the root) honouring ignore files.
fn walk(
    root: &Root,
    dir: &Path,
    excludes: &Excludes,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Output,
) {
    let filter_root = root.canon.clone();
    let filter_excludes = excludes.clone();
    let walker = WalkBuilder::new(dir)
        .standard_filters(false)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |entry| {
            if entry.depth() == 0 || !entry.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            if name.starts_with('.') && name != ".github" {
                return false;
            }
            // Prune excluded directories instead of walking them.
            match entry.path().strip_prefix(&filter_root) {
                Ok(rel) => !filter_excludes.matches(&slash_path(rel)),
                Err(_) => true,
            }
        })
        .build();

    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                if let Some(finding) = walk_error(root, &error) {
                    out.findings.push(finding);
                }
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&root.canon) else {
            continue;
        };
        let rel = slash_path(rel);
        if excludes.matches(&rel) || !wanted(&rel) {
            continue;
        }
        // A symlink to a directory is not followed, and says nothing worth a note.
        if file_type.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        out.push(root.read(entry.path()));
    }
}

/// A directory that could not be listed is worth a note; malformed lines in ignore files are not
/// (git itself skips them).
fn walk_error(root: &Root, error: &ignore::Error) -> Option<Finding> {
    let mut error = error;
    let mut path = None;
    loop {
        match error {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(p);
                error = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                error = err;
            }
            ignore::Error::Io(io) => {
                let path = path?;
                let rel = path
                    .strip_prefix(&root.canon)
                    .map(slash_path)
                    .unwrap_or_else(|_| display(path));
                return Some(*skipped(&rel, &io_reason(io)));
            }
            _ => return None,
        }
    }
}

/// The compiled `exclude` patterns.
#[derive(Clone, Debug, Default)]
struct Excludes {
    /// Matched against the whole relative path and each of its ancestors.
    anchored: Vec<glob::Pattern>,
    /// Patterns without `/`, matched against each path component.
    names: Vec<glob::Pattern>,
}

impl Excludes {
    fn new(patterns: &[String]) -> Excludes {
        let mut excludes = Excludes::default();
        for pattern in patterns {
            let trimmed = pattern.trim_start_matches("./").trim_start_matches('/');
            let trimmed = trimmed.trim_end_matches('/');
            // The configuration checks every pattern when it is read; one that still does not
            // compile (from another caller) excludes nothing rather than everything.
            let Ok(compiled) = glob::Pattern::new(trimmed) else {
                continue;
            };
            if trimmed.contains('/') {
                excludes.anchored.push(compiled);
            } else {
                excludes.names.push(compiled);
            }
        }
        excludes
    }

    fn matches(&self, rel: &str) -> bool {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        if self
            .names
            .iter()
            .any(|p| rel.split('/').any(|name| p.matches_with(name, options)))
        {
            return true;
        }
        let mut prefix_ends = rel.match_indices('/').map(|(i, _)| i).collect::<Vec<_>>();
        prefix_ends.push(rel.len());
        self.anchored.iter().any(|p| {
            prefix_ends
                .iter()
                .any(|&end| p.matches_with(&rel[..end], options))
        })
    }
}

/// Decodes a file's bytes as pip does: UTF-8 (a BOM dropped), or UTF-16 after a UTF-16 BOM.
fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err("UTF-32 text is not supported".to_string());
    }
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((rest, u16::from_le_bytes as fn([u8; 2]) -> u16)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, u16::from_be_bytes as fn([u8; 2]) -> u16)),
        _ => None,
    };
    if let Some((rest, unit)) = utf16 {
        if rest.len() % 2 != 0 {
            return Err("not valid UTF-16 (odd number of bytes)".to_string());
        }
        let units = rest.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
        let text = char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| {
                format!(
                    "not valid UTF-16 (unpaired surrogate {:#06x})",
                    e.unpaired_surrogate()
                )
            })?;
        if text.chars().take(BINARY_PROBE_BYTES / 2).any(|c| c == '\0') {
            return Err("binary file (NUL character near the start)".to_string());
        }
        return Ok(text);
    }

    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body[..body.len().min(BINARY_PROBE_BYTES)].contains(&0) {
        return Err("binary file (NUL byte in the first 8 KiB)".to_string());
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let valid = &body[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(format!(
                "not valid UTF-8 (first bad byte on line {line}, byte offset {})",
                e.valid_up_to()
            ))
        }
    }
}

fn skipped(rel: &str, reason: &str) -> Box<Finding> {
    Box::new(Finding::new(
        &rules::FILE_SKIPPED,
        rel,
        Span::line_start(1),
        rel,
        format!("skipped `{rel}`: {reason}"),
    ))
}

fn too_large(rel: &str, len: u64) -> Box<Finding> {
    skipped(
        rel,
        &format!(
            "{len} bytes, larger than the {} MiB limit",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot be read ({error})"),
    }
}

/// `path`'s components joined with `/`, whatever the platform's separator.
fn slash_path(path: &Path) -> String {
    let parts: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// A path as given on the command line, for notes about paths outside the root.
fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    if cfg!(windows) {
        text.replace('\\', "/")
    } else {
        text.into_owned()
    }
}
