//! Which files a scan reads, and reading them safely.
//!
//! A walk of the root uses the `ignore` crate (ripgrep's walker), so `.gitignore`, `.ignore` and
//! `.git/info/exclude` are honoured exactly as git and ripgrep do, also outside a git repository.
//! The user's global git excludes are not read: a scan gives the same result on a laptop and in
//! CI. Hidden directories are skipped, except `.github` (workflows live there).
//!
//! Symlinks never lead out of the root: directory symlinks are not followed at all, and a file
//! symlink is read only if its target is inside the root. Files that cannot be scanned become a
//! `file-skipped` finding instead of an error, so one bad file never stops a scan: a warning when
//! the file's content went unread (binary, not UTF-8, too large, unreadable), since that is where
//! an attacker would hide a dependency; a note when the path is passed over by policy (outside the
//! root, a directory symlink, not a regular file). Only files some surface wants are read at all,
//! so images and model weights never get that far.
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

use crate::finding::{Finding, Severity, Span};
use crate::rules;
use crate::source::SourceFile;

/// Files larger than this are skipped with a warning. Above GitHub's 100 MB hard limit, so no
/// file a GitHub repository can hold outside LFS is skipped for its size; the files read are text
/// that surfaces want (requirements files are kilobytes, a large notebook with its outputs tens
/// of megabytes), and a scan holds a small multiple of each (see the README's caps).
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// How much of a file is searched for a NUL byte to call it binary (as git and ripgrep do).
const BINARY_PROBE_BYTES: usize = 8 * 1024;

#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<SourceFile>,
    /// `file-skipped` findings (binary, not UTF-8, unreadable, too large, outside the root).
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
    let visited = visit(root, explicit, exclude, wanted, &|text| {
        Some(text.into_source())
    });
    Collected {
        files: visited.items,
        findings: visited.findings,
    }
}

/// A file's relative path and decoded text, before its line index is built.
#[derive(Clone, Debug)]
pub struct FileText {
    pub rel_path: String,
    pub abs_path: PathBuf,
    /// UTF-8 (a BOM dropped), or decoded from UTF-16.
    pub text: String,
}

impl FileText {
    pub fn into_source(self) -> SourceFile {
        SourceFile::new(self.rel_path, self.abs_path, self.text)
    }
}

/// What [`visit`] kept, in relative-path order, and the `file-skipped` findings.
#[derive(Debug)]
pub struct Visited<T> {
    pub items: Vec<T>,
    pub findings: Vec<Finding>,
}

/// [`collect`]'s files, each handed to `each` on one of several threads as soon as it is read:
/// reading and whatever `each` does with a file (parse it, scan it) run on every core, and a
/// file `each` has no use for is dropped without building its line index. `each` returns what
/// to keep (`None`: nothing). The result does not depend on scheduling: items come back in
/// relative-path order, as from [`collect`].
pub fn visit<T: Send>(
    root: &Path,
    explicit: &[PathBuf],
    exclude: &[String],
    wanted: &dyn Fn(&str) -> bool,
    each: &(dyn Fn(FileText) -> Option<T> + Sync),
) -> Visited<T> {
    let root = match Root::new(root) {
        Ok(root) => root,
        Err(finding) => {
            return Visited {
                items: Vec::new(),
                findings: vec![*finding],
            };
        }
    };
    let excludes = Excludes::new(exclude);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS);
    let read = |job: &Job| -> ReadResult<T> {
        let text = match &job.walked_rel {
            Some(rel) => root.read_walked(&job.path, rel.clone())?,
            None => root.read(&job.path)?,
        };
        Ok((text.rel_path.clone(), each(text)))
    };
    // Readers start at once and take jobs as the walk (on this thread) finds them.
    let (send, receive) = std::sync::mpsc::channel::<(usize, Job)>();
    let receive = std::sync::Mutex::new(receive);
    let (mut results, findings) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // A poisoned lock means another reader panicked; the scope re-raises it.
                        let next = match receive.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return done,
                        };
                        let Ok((i, job)) = next else {
                            return done;
                        };
                        done.push((i, read(&job)));
                    }
                })
            })
            .collect();
        let mut out = Output {
            send,
            sent: 0,
            findings: Vec::new(),
        };
        if explicit.is_empty() {
            walk(&root, &root.canon, &excludes, wanted, &mut out);
        } else {
            for path in explicit {
                collect_explicit(&root, path, &excludes, wanted, &mut out);
            }
        }
        // The walk is over: dropping the sender lets the readers finish the queue and stop.
        let Output { send, findings, .. } = out;
        drop(send);
        let results: Vec<(usize, ReadResult<T>)> = readers
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        (results, findings)
    });
    results.sort_by_key(|(i, _)| *i);
    let mut findings = findings;
    let mut items: BTreeMap<String, T> = BTreeMap::new();
    for (_, result) in results {
        match result {
            Ok((rel, Some(item))) => {
                items.insert(rel, item);
            }
            Ok((rel, None)) => {
                items.remove(&rel);
            }
            Err(finding) => findings.push(*finding),
        }
    }
    findings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    findings.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    Visited {
        items: items.into_values().collect(),
        findings,
    }
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
    root.read(&path)
        .map(FileText::into_source)
        .map_err(|finding| *finding)
}

/// The bytes of one file under `root`, checked as [`read`] checks it (inside the root, a regular
/// file, at most [`MAX_FILE_BYTES`]), for callers that decode it themselves.
pub fn read_bytes(root: &Path, path: &Path) -> Result<Vec<u8>, Finding> {
    let root = Root::new(root).map_err(|finding| *finding)?;
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.canon.join(path)
    };
    root.read_bytes(&path)
        .map(|(_, bytes)| bytes)
        .map_err(|finding| *finding)
}

/// Reads a file the user named, which may be anywhere (`--config FILE`, pip.conf, `~/.netrc`, a
/// CA bundle, a report): a regular file only, opened without blocking, at most `limit` bytes.
/// A missing file is an error of kind `NotFound`, as from [`fs::read`]. `/dev/null` reads as
/// empty: naming it (`NETRC=/dev/null`) is the usual way to say "no file".
pub fn read_named(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    if cfg!(unix) && path == Path::new("/dev/null") {
        return Ok(Vec::new());
    }
    let (opened, metadata) = open_regular(path)?;
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the {} limit", bytes_shown(limit)),
        )
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    read_capped_into(opened, metadata.len(), Vec::new(), limit)?.ok_or_else(too_large)
}

/// Why a file was not opened for reading.
#[derive(Debug)]
pub enum OpenError {
    Directory,
    /// A FIFO, socket or device: reading one could block forever or never end.
    NotRegular,
    Io(std::io::Error),
}

impl OpenError {
    /// The reason, as a `file-skipped` note gives it.
    fn reason(&self) -> String {
        match self {
            OpenError::Directory => "a directory, not a file".to_string(),
            OpenError::NotRegular => "not a regular file".to_string(),
            OpenError::Io(e) => io_reason(e),
        }
    }
}

impl From<std::io::Error> for OpenError {
    fn from(error: std::io::Error) -> OpenError {
        OpenError::Io(error)
    }
}

impl From<OpenError> for std::io::Error {
    fn from(error: OpenError) -> std::io::Error {
        match error {
            OpenError::Io(e) => e,
            OpenError::Directory => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "a directory, not a file")
            }
            OpenError::NotRegular => std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, socket or device)",
            ),
        }
    }
}

/// Opens `path` (symlinks followed) for reading if it is a regular file, with its metadata.
///
/// Its type is checked before the open, so no device is ever opened; the open does not block
/// (`O_NONBLOCK`: a FIFO swapped in since cannot hang it); and the opened handle is checked again
/// (`fstat`), so what is read is a regular file whatever happened to the path meanwhile.
pub fn open_regular(path: &Path) -> Result<(fs::File, fs::Metadata), OpenError> {
    check_regular(&fs::metadata(path)?)?;
    open_checked(path)
}

/// The open and the check on the handle of [`open_regular`], for a path already seen to be a
/// regular file (the walk's directory entries).
fn open_checked(path: &Path) -> Result<(fs::File, fs::Metadata), OpenError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK changes nothing for a regular file; O_NOCTTY keeps a terminal from becoming
        // ours.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let opened = options.open(path)?;
    let metadata = opened.metadata()?;
    check_regular(&metadata)?;
    Ok((opened, metadata))
}

fn check_regular(metadata: &fs::Metadata) -> Result<(), OpenError> {
    if metadata.is_dir() {
        Err(OpenError::Directory)
    } else if !metadata.is_file() {
        Err(OpenError::NotRegular)
    } else {
        Ok(())
    }
}

/// A byte count as limits are documented: `16 MiB`.
fn bytes_shown(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// A file to read.
struct Job {
    path: PathBuf,
    /// Set for a regular file found by the walk (not a symlink): its path is already canonical
    /// and inside the root, so it is read without resolving it again.
    walked_rel: Option<String>,
}

/// Where the walk puts what it finds: files to read go to the readers, in walk order.
struct Output {
    send: std::sync::mpsc::Sender<(usize, Job)>,
    sent: usize,
    findings: Vec<Finding>,
}

impl Output {
    fn push(&mut self, job: Job) {
        // The readers only stop once every sender is gone, so sending cannot fail.
        let _ = self.send.send((self.sent, job));
        self.sent += 1;
    }
}

/// What reading one job gave: the file's relative path and what `each` kept, or why it was
/// skipped.
type ReadResult<T> = Result<(String, Option<T>), Box<Finding>>;

/// Most files read at once; reading is cheap next to what callers do with the text.
const MAX_THREADS: usize = 8;

/// The scanned root, canonical so that symlink targets can be checked against it.
struct Root {
    canon: PathBuf,
}

impl Root {
    fn new(root: &Path) -> Result<Root, Box<Finding>> {
        match root.canonicalize() {
            Ok(canon) if canon.is_dir() => Ok(Root { canon }),
            Ok(_) => Err(passed_over(
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
    fn read(&self, path: &Path) -> Result<FileText, Box<Finding>> {
        let (rel, bytes) = self.read_bytes(path)?;
        into_text(bytes, rel, path)
    }

    /// The relative path and bytes of `path` (absolute, or relative to the current directory),
    /// checked as [`Root::read`] says.
    fn read_bytes(&self, path: &Path) -> Result<(String, Vec<u8>), Box<Finding>> {
        let Some(rel) = self.relative(path) else {
            if fs::symlink_metadata(path).is_err() {
                return Err(passed_over(&display(path), "no such file"));
            }
            return Err(passed_over(&display(path), "outside the scanned root"));
        };
        let target = match path.canonicalize() {
            Ok(target) => target,
            Err(e) if fs::symlink_metadata(path).is_ok() => {
                return Err(passed_over(&rel, &format!("broken symlink ({e})")));
            }
            Err(_) => return Err(passed_over(&rel, "no such file")),
        };
        if !target.starts_with(&self.canon) {
            return Err(passed_over(
                &rel,
                "symlink to a file outside the scanned root",
            ));
        }
        let (opened, metadata) = open_regular(&target).map_err(|e| open_refused(&rel, &e))?;
        if metadata.len() > MAX_FILE_BYTES {
            return Err(too_large(&rel, metadata.len()));
        }
        // The size may have changed since `metadata`.
        match read_capped(opened, metadata.len()) {
            Ok(Some(bytes)) => Ok((rel, bytes)),
            Ok(None) => Err(too_large(&rel, MAX_FILE_BYTES + 1)),
            Err(e) => Err(skipped(&rel, &io_reason(&e))),
        }
    }

    /// Reads a regular file the walk found at `path`, under the canonical root and reached
    /// without a symlink: the checks of [`Root::read`] that resolve paths are already true.
    /// The walk saw a regular file, so its size is the only check left: a small file is read
    /// whole with no `stat`; one that fills the first buffer is measured on its open handle, so
    /// an oversized file is refused before it is read.
    fn read_walked(&self, path: &Path, rel: String) -> Result<FileText, Box<Finding>> {
        // Opened without blocking and checked again: the file may have been swapped since.
        let (mut opened, _) = open_checked(path).map_err(|e| open_refused(&rel, &e))?;
        let mut bytes = Vec::with_capacity(WALKED_READ_HINT as usize + 1);
        let first = (&mut opened)
            .take(WALKED_READ_HINT + 1)
            .read_to_end(&mut bytes);
        let read = first.and_then(|_| {
            if bytes.len() as u64 <= WALKED_READ_HINT {
                return Ok(Some(bytes));
            }
            let len = opened.metadata()?.len();
            if len > MAX_FILE_BYTES {
                return Ok(None);
            }
            read_capped_into(opened, len, bytes, MAX_FILE_BYTES)
        });
        match read {
            Ok(Some(bytes)) => into_text(bytes, rel, path),
            Ok(None) => {
                // Name the size on disk, as `Root::read` does.
                let len = fs::metadata(path).map_or(MAX_FILE_BYTES + 1, |m| m.len());
                Err(too_large(&rel, len))
            }
            Err(e) => Err(skipped(&rel, &io_reason(&e))),
        }
    }
}

/// The first buffer for a walked file, whose size is not asked: most source files fit.
const WALKED_READ_HINT: u64 = 16 * 1024;

/// The bytes of an opened file of `len` bytes (or a guess), or `None` if it holds more than
/// [`MAX_FILE_BYTES`]: never more than one byte past the limit is read.
fn read_capped(opened: fs::File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    read_capped_into(opened, len, Vec::new(), MAX_FILE_BYTES)
}

/// [`read_capped`] with any `limit`, appending to `bytes`, which hold what was already read from
/// `opened`.
fn read_capped_into(
    opened: fs::File,
    len: u64,
    mut bytes: Vec<u8>,
    limit: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    // Sized up front: one read fills it, with no reallocation as the buffer grows.
    let want = usize::try_from(len.min(limit)).unwrap_or(0) + 1;
    bytes.reserve(want.saturating_sub(bytes.len()));
    let left = (limit + 1).saturating_sub(bytes.len() as u64);
    opened.take(left).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// A file's decoded text, or why it cannot be read as text.
fn into_text(bytes: Vec<u8>, rel: String, path: &Path) -> Result<FileText, Box<Finding>> {
    let text = decode(bytes).map_err(|reason| skipped(&rel, &reason))?;
    Ok(FileText {
        rel_path: rel,
        abs_path: path.to_path_buf(),
        text,
    })
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
        out.findings.push(*passed_over(&display(path), reason));
        return;
    };
    let Ok(link) = fs::symlink_metadata(path) else {
        out.findings.push(*passed_over(&rel, "no such file"));
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
        out.findings.push(*passed_over(
            &rel,
            "symlink to a directory (directory symlinks are not followed)",
        ));
        return;
    }
    if wanted(&rel) {
        out.push(Job {
            path: path.to_path_buf(),
            walked_rel: None,
        });
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
        out.push(Job {
            path: entry.path().to_path_buf(),
            walked_rel: file_type.is_file().then_some(rel),
        });
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
/// UTF-8 takes the bytes over without copying them.
fn decode(mut owned: Vec<u8>) -> Result<String, String> {
    let bytes = owned.as_slice();
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

    if bytes.starts_with(b"\xEF\xBB\xBF") {
        owned.drain(..3);
    }
    let body = owned.as_slice();
    if memchr::memchr(0, &body[..body.len().min(BINARY_PROBE_BYTES)]).is_some() {
        return Err("binary file (NUL byte in the first 8 KiB)".to_string());
    }
    // The bytes become the text without a copy: a second copy of a file of up to
    // `MAX_FILE_BYTES` would double the peak memory of reading it.
    String::from_utf8(owned).map_err(|e| {
        let valid_up_to = e.utf8_error().valid_up_to();
        let line = memchr::memchr_iter(b'\n', &e.as_bytes()[..valid_up_to]).count() + 1;
        format!("not valid UTF-8 (first bad byte on line {line}, byte offset {valid_up_to})")
    })
}

/// A file whose content went unread: the rule's default severity, a warning.
fn skipped(rel: &str, reason: &str) -> Box<Finding> {
    Box::new(Finding::new(
        &rules::FILE_SKIPPED,
        rel,
        Span::line_start(1),
        rel,
        format!("skipped `{rel}`: {reason}"),
    ))
}

/// A path not read by policy (outside the root, not a regular file): nothing in the repository
/// went unread, so a note.
fn passed_over(rel: &str, reason: &str) -> Box<Finding> {
    Box::new((*skipped(rel, reason)).with_severity(Severity::Note))
}

/// A file the guarded open refused: a directory or a special file is passed over by policy (it
/// holds nothing a scan could read), an I/O error is a skip.
fn open_refused(rel: &str, error: &OpenError) -> Box<Finding> {
    match error {
        OpenError::Io(_) => skipped(rel, &error.reason()),
        OpenError::Directory | OpenError::NotRegular => passed_over(rel, &error.reason()),
    }
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
