//! A lossless parser for pip requirements files.
//!
//! It follows pip's own algorithm (`pip/_internal/req/req_file.py` and `req/constructors.py`,
//! pip 26) rather than a grammar of its own, and keeps the byte range of everything it reads, so
//! that a fixer can rewrite one requirement and leave every other byte of the file alone.
//!
//! # What pip does, and what this parser records
//!
//! 1. **Lines** are split as Python's `str.splitlines` splits them: `\n`, `\r\n`, a lone `\r`,
//!    `\x0b`, `\x0c`, `\x1c`–`\x1e`, `\u{85}`, `\u{2028}` and `\u{2029}` ([`Line`]).
//! 2. **Continuations**: a line whose last character is `\` is joined to the next one, with no
//!    separator. pip strips *every* `\` from both ends of such a line (`str.strip("\\")`), and so
//!    does this parser. `\` followed by a space does not continue. A comment line (optional
//!    whitespace, then `#`) never continues, and inside a continuation it ends the logical line
//!    (so `--hash` lines after it are orphaned). Each logical line is one [`Entry`], which keeps
//!    the physical lines it spans and the range of each continuation marker.
//! 3. **Comments** start at the first `#` that begins the logical line or follows whitespace:
//!    `pkg.whl#sha256=…` keeps its fragment, `pkg # note` loses the note. A comment runs to the
//!    end of the *logical* line, so `pkg # note \` swallows the continued `--hash` lines.
//! 4. **Environment variables** `${NAME}` (uppercase letters, digits, `_`) are expanded by pip at
//!    install time. This parser never expands them (their values may be credentials): it records
//!    each one ([`EnvVar`]) and keeps the text verbatim.
//! 5. **Tokens**: the line is split on single spaces (not tabs). Tokens before the first one that
//!    starts with `-` form the requirement; the rest are options, split like a POSIX shell
//!    (`shlex.split`) and parsed as `optparse` does, including unique-prefix abbreviations of long
//!    options (`--extra-index` is `--extra-index-url`).
//! 6. **Options** ([`OptionKind`]): `-r/--requirement`, `-c/--constraint`, `-e/--editable`,
//!    `-i/--index-url` (alias `--pypi-url`), `--extra-index-url`, `--no-index`,
//!    `-f/--find-links`, `--trusted-host`, `--no-binary`, `--only-binary`, `--prefer-binary`,
//!    `--pre`, `--all-releases`, `--only-final`, `--require-hashes`, `--no-require-hashes`,
//!    `--use-feature`, and per requirement `--hash=<alg>:<hex>` and `-C/--config-settings`.
//!    Anything else is an error, as it is for pip. Options pip silently ignores (a global option
//!    on a requirement line, an orphan `--hash`, a second `-r` on one line) are kept and get a
//!    warning.
//! 7. **Requirements** ([`Requirement`], [`ReqForm`]), classified as pip's
//!    `parse_req_from_line` does, without touching the file system:
//!    - a URL (`http`, `https`, `ftp`, `file` or a VCS scheme such as `git+https`): its marker
//!      starts at the first `"; "`; its name comes from a wheel file name or an `#egg=` fragment;
//!    - otherwise the marker starts at the first `;`; an archive path (`.whl`, `.tar.gz`, `.zip`,
//!      ...) or a path-like text (`./x`, `a/b`) that is not valid PEP 508 is a local path;
//!    - everything else is PEP 508, `name [extras] specifiers` or `name [extras] @ url`,
//!      validated with `pep508_rs` (name, extras, specifiers and marker get normalised values)
//!      while every span is taken from the raw text. `===` takes arbitrary text, as in
//!      `packaging`.
//!    - `-e/--editable` takes a local path (with optional `[extras]`), a `file:` URL, or a VCS
//!      URL that must name its project with `#egg=`.
//!
//! Every problem is data: an [`Entry`] carries [`Diagnostic`]s with a byte range and a message,
//! and parsing goes on with the next line. No input makes the parser panic (`pep508_rs` 0.9
//! panics on names such as `a_ ==1`; those are caught before it sees them).
//!
//! # Limits
//!
//! - The parser never reads the file system, the network or the environment. Where pip asks
//!   the file system (is `./x` a directory? does `pkg.whl` exist?), it assumes what a
//!   well-formed file means: a path-like text that is not PEP 508 is a local path.
//! - `--use-feature` values, `--no-binary` names and `-r` targets are recorded, not checked.
//! - [`Entry::lines`] counts lines as pip does, so pip's line numbers in messages match; an
//!   editor does not break lines at `\x0c` or `\u{2028}`, so spans for display come from byte
//!   ranges ([`crate::source::SourceFile::span`]), not from these numbers.
//!
//! # Losslessness
//!
//! Ranges index the text given to [`parse`]. Entries and line endings tile that text exactly
//! ([`ReqFile::segments`]), so [`ReqFile::emit`] gives it back byte for byte, CRLF, lone CR and
//! a missing final newline included. A BOM and the file's encoding (UTF-8, UTF-16/32 with BOM,
//! or a PEP 263 `coding:` line) are handled one level up by [`Document`], which decodes bytes,
//! parses, and encodes an edited text back with the same BOM and encoding. [`apply_edits`]
//! splices replacement text into byte ranges.
//!
//! ```
//! use mlsupply::reqfile::{self, Edit, ReqForm};
//!
//! let text = "numpy==1.26.4  # pinned\r\n";
//! let file = reqfile::parse(text);
//! let (_, req) = file.requirements().next().unwrap();
//! let ReqForm::Named(named) = &req.form else { unreachable!() };
//! assert_eq!(&text[named.name.range.clone()], "numpy");
//! let version = named.version.as_ref().unwrap();
//! let edit = Edit { range: version.range.clone(), text: "==2.0.0".into() };
//! let fixed = reqfile::apply_edits(text, &[edit]).unwrap();
//! assert_eq!(fixed, "numpy==2.0.0  # pinned\r\n");
//! ```

mod decode;
mod lines;
mod options;
mod requirement;
// Crate-visible for the fuzzing oracles (`crate::fuzzing`).
pub(crate) mod shlex;

use std::fmt;
use std::ops::Range;

pub use decode::{DecodeError, Document, EncodeError, Encoding};
pub use options::OptionKind;

use pep508_rs::pep440_rs::VersionSpecifiers;
use pep508_rs::{MarkerTree, PackageName};

/// A value and the byte range of its text in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub range: Range<usize>,
}

/// A parsed requirements file: its physical lines and its logical entries, in order.
#[derive(Clone, Debug, Default)]
pub struct ReqFile {
    /// Physical lines as pip counts them (Python's `splitlines`); line `n` (1-based) is
    /// `lines[n - 1]`.
    pub lines: Vec<Line>,
    /// One entry per logical line (continuations joined); together they cover every line.
    pub entries: Vec<Entry>,
}

/// One physical line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's text, without its line ending.
    pub range: Range<usize>,
    /// Its line ending (`\n`, `\r\n`, `\r`, ...); empty for a last line without one.
    pub ending: Range<usize>,
}

/// One logical line: a blank or comment line, an option line, or a requirement.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// From the start of the first physical line to the end of the last one, without the last
    /// line's ending (continuation line endings are inside).
    pub range: Range<usize>,
    /// Indices into [`ReqFile::lines`] of the physical lines this entry spans.
    pub lines: Range<usize>,
    /// What pip sees once comments and surrounding whitespace are removed; `None` when nothing
    /// is left.
    pub content: Option<Range<usize>>,
    pub kind: EntryKind,
    /// The comment, from its `#` to the end of the logical line.
    pub comment: Option<Range<usize>>,
    /// Each continuation marker: the trailing `\` (and any `\` before it) through the end of
    /// that line's ending.
    pub continuations: Vec<Range<usize>>,
    /// `${NAME}` references pip would expand at install time (never expanded here).
    pub env_vars: Vec<EnvVar>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Entry {
    /// pip's 1-based line number for this entry (its first physical line).
    pub fn line_number(&self) -> usize {
        self.lines.start + 1
    }

    pub fn requirement(&self) -> Option<&Requirement> {
        match &self.kind {
            EntryKind::Requirement(req) => Some(req),
            _ => None,
        }
    }

    /// The file this entry makes pip read, as pip picks it: the first `-r` of an option line,
    /// else its first `-c`. Options on a requirement line are ignored by pip, includes too.
    pub fn include(&self) -> Option<IncludeRef<'_>> {
        let EntryKind::Options(options) = &self.kind else {
            return None;
        };
        let pick = |kind: OptionKind| {
            options
                .iter()
                .find(|option| option.kind == kind)
                .and_then(|option| option.value.as_ref())
        };
        if let Some(target) = pick(OptionKind::Requirement) {
            return Some(IncludeRef {
                target,
                constraint: false,
            });
        }
        pick(OptionKind::Constraint).map(|target| IncludeRef {
            target,
            constraint: true,
        })
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|diagnostic| diagnostic.severity == DiagnosticSeverity::Error)
    }
}

/// A `-r`/`-c` target as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncludeRef<'a> {
    pub target: &'a Spanned<String>,
    /// `true` for `-c`/`--constraint`.
    pub constraint: bool,
}

impl IncludeRef<'_> {
    /// pip fetches `http:`, `https:` and `file:` targets as URLs instead of joining paths.
    pub fn is_url(&self) -> bool {
        let lower = self.target.value.to_ascii_lowercase();
        ["http:", "https:", "file:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
    }

    /// The target contains `${NAME}`, which pip would expand.
    pub fn has_env_var(&self) -> bool {
        !lines::find_env_vars(&self.target.value).is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntryKind {
    /// Nothing for pip: an empty, whitespace-only or comment-only line.
    Blank,
    /// A line of options only (`-r other.txt`, `--index-url ...`, `--require-hashes`).
    Options(Vec<OptionItem>),
    Requirement(Box<Requirement>),
}

/// A requirement: a requirement line, or the target of `-e/--editable`.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    /// The requirement as pip reads it (for `-e`, the option's value, unquoted).
    pub text: String,
    /// Where that text is.
    pub range: Range<usize>,
    /// `true` for `-e/--editable`.
    pub editable: bool,
    pub form: ReqForm,
    /// Every option on the line, in order (the `-e` itself included).
    pub options: Vec<OptionItem>,
    /// The well-formed `--hash` options (pip drops them on an editable line).
    pub hashes: Vec<HashOption>,
    pub config_settings: Vec<ConfigSetting>,
    /// From the end of the requirement text to the end of the entry's content, comment
    /// excluded: the options and continuation layout a fixer rewrites (`" \\\n    --hash=…"`).
    pub layout: Range<usize>,
}

impl Requirement {
    /// The project name as written, if the line names one (PEP 508 name, wheel file name or
    /// `#egg=`), with the range of the name only.
    pub fn name(&self) -> Option<&Spanned<String>> {
        match &self.form {
            ReqForm::Named(named) => Some(&named.name),
            ReqForm::Url(url) => url.name.as_ref().map(|name| &name.name),
            ReqForm::Invalid { name_guess } => name_guess.as_ref(),
            ReqForm::Unexpanded => None,
        }
    }

    /// The project name, PEP 503 normalised (`Foo_Bar` → `foo-bar`), when the line names one
    /// that pip would accept.
    pub fn normalized_name(&self) -> Option<PackageName> {
        match &self.form {
            ReqForm::Named(named) => Some(named.normalized.clone()),
            ReqForm::Url(url) => url
                .name
                .as_ref()
                .and_then(|name| PackageName::new(name.name.value.clone()).ok()),
            ReqForm::Invalid { .. } | ReqForm::Unexpanded => None,
        }
    }

    pub fn marker(&self) -> Option<&MarkerPart> {
        match &self.form {
            ReqForm::Named(named) => named.marker.as_ref(),
            ReqForm::Url(url) => url.marker.as_ref(),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReqForm {
    /// PEP 508: `name [extras] specifiers ; marker` or `name [extras] @ url ; marker`.
    Named(NamedReq),
    /// A bare URL, VCS URL or local path (archive or directory).
    Url(UrlReq),
    /// `${NAME}` stands where the project name is: only the environment can tell what it is.
    Unexpanded,
    /// Not a requirement pip accepts; the entry has an error diagnostic. `name_guess` is the
    /// leading name-like word (letters, digits, `.`, `-`, `_`, any script), if any, so that
    /// checks on names still see `reqеusts=2.0`.
    Invalid { name_guess: Option<Spanned<String>> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct NamedReq {
    /// The name exactly as written.
    pub name: Spanned<String>,
    /// PEP 503 normalised (`Foo_Bar` → `foo-bar`).
    pub normalized: PackageName,
    /// Each extra as written.
    pub extras: Vec<Spanned<String>>,
    /// `[...]`, brackets included.
    pub extras_range: Option<Range<usize>>,
    pub version: Option<VersionPart>,
    /// `name @ url`: the URL as written.
    pub url: Option<Spanned<String>>,
    pub marker: Option<MarkerPart>,
}

/// A version specifier set as written, e.g. `>=1.2, <2` or `(==1.0)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionPart {
    pub text: String,
    pub range: Range<usize>,
    /// `None` when the text holds `${NAME}` or a `===` arbitrary string.
    pub specifiers: Option<VersionSpecifiers>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarkerPart {
    pub text: String,
    pub range: Range<usize>,
    /// `None` when the marker holds `${NAME}`.
    pub tree: Option<MarkerTree>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UrlReq {
    /// The URL or path as written (extras excluded).
    pub url: Spanned<String>,
    pub kind: UrlKind,
    /// The path or URL names an archive (`.whl`, `.tar.gz`, `.zip`, ...).
    pub archive: bool,
    /// Where pip gets the project name from, if anywhere.
    pub name: Option<DerivedName>,
    /// `path[extra,...]` for local paths.
    pub extras: Vec<Spanned<String>>,
    pub marker: Option<MarkerPart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlKind {
    /// `git+https://…`, `hg+ssh://…`, `svn://…` (`vcs` is `git`, `hg`, `svn` or `bzr`).
    Vcs { vcs: String },
    /// `http`, `https` or `ftp`.
    Remote,
    /// `file:` URL.
    File,
    /// A local path (directory or archive); pip resolves it against the working directory.
    LocalPath,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedName {
    pub name: Spanned<String>,
    pub source: NameSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameSource {
    /// `#egg=name` (or `&egg=name`).
    Egg,
    /// The name part of a wheel file name, `name-1.0-py3-none-any.whl`.
    Wheel,
}

/// One option as written: `--index-url=https://…`, `-r base.txt`, `--hash sha256:…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionItem {
    pub kind: OptionKind,
    /// The flag as written (`-i`, `--index`, `--index-url`).
    pub flag: Spanned<String>,
    /// The value, unquoted; its range covers its text as written (quotes included).
    pub value: Option<Spanned<String>>,
    /// Flag through value.
    pub range: Range<usize>,
}

/// A well-formed `--hash=<alg>:<digest>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashOption {
    /// The whole option.
    pub range: Range<usize>,
    /// `sha256`, `sha384` or `sha512`.
    pub algorithm: Spanned<String>,
    /// The digest as written (pip compares digests case-insensitively).
    pub digest: Spanned<String>,
}

/// `-C/--config-settings KEY=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSetting {
    pub range: Range<usize>,
    pub key: String,
    pub value: String,
}

/// A `${NAME}` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub range: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagnosticSeverity {
    /// pip refuses the file (or, for a requirement, the line).
    Error,
    /// pip accepts it but ignores or mistrusts part of it.
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: Range<usize>,
    pub severity: DiagnosticSeverity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        };
        write!(
            f,
            "{label} at bytes {}..{}: {}",
            self.range.start, self.range.end, self.message
        )
    }
}

/// A piece of the text: what [`ReqFile::segments`] tiles the text with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub range: Range<usize>,
    pub kind: SegmentKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// The entry at this index of [`ReqFile::entries`].
    Entry(usize),
    /// The line ending after an entry.
    LineEnding,
}

/// Parses `text` (already decoded, BOM removed). Never fails: problems are diagnostics.
pub fn parse(text: &str) -> ReqFile {
    let lines = lines::split_lines(text);
    let mut entries = Vec::new();
    lines::for_each_logical(text, &lines, |logical| {
        entries.push(build_entry(&lines, logical));
    });
    ReqFile { lines, entries }
}

impl ReqFile {
    /// Entries and line endings, in order, covering the whole text without gap or overlap.
    pub fn segments(&self) -> Vec<Segment> {
        let mut segments = Vec::with_capacity(self.entries.len() * 2);
        for (index, entry) in self.entries.iter().enumerate() {
            segments.push(Segment {
                range: entry.range.clone(),
                kind: SegmentKind::Entry(index),
            });
            if let Some(last) = entry
                .lines
                .end
                .checked_sub(1)
                .and_then(|i| self.lines.get(i))
                && !last.ending.is_empty()
            {
                segments.push(Segment {
                    range: last.ending.clone(),
                    kind: SegmentKind::LineEnding,
                });
            }
        }
        segments
    }

    /// The text again, rebuilt from [`segments`](Self::segments): equal to the parsed text.
    pub fn emit(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for segment in self.segments() {
            out.push_str(text.get(segment.range).unwrap_or_default());
        }
        out
    }

    /// Every requirement, in file order.
    pub fn requirements(&self) -> impl Iterator<Item = (&Entry, &Requirement)> {
        self.entries
            .iter()
            .filter_map(|entry| entry.requirement().map(|req| (entry, req)))
    }

    /// Every diagnostic, in file order.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.entries.iter().flat_map(|entry| &entry.diagnostics)
    }
}

/// A replacement of `range` by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// Why edits could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("edit range {start}..{end} is outside the text or not on a character boundary")]
    BadRange { start: usize, end: usize },
    #[error("edit ranges {first:?} and {second:?} overlap")]
    Overlap {
        first: Range<usize>,
        second: Range<usize>,
    },
}

/// `text` with each edit's range replaced by its text; every other byte is kept. Edits may come
/// in any order but must not overlap (two insertions at one offset apply in the given order).
pub fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    order.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    let mut previous: Option<&Range<usize>> = None;
    for edit in order {
        let range = &edit.range;
        if range.start > range.end
            || range.end > text.len()
            || !text.is_char_boundary(range.start)
            || !text.is_char_boundary(range.end)
        {
            return Err(EditError::BadRange {
                start: range.start,
                end: range.end,
            });
        }
        if let Some(previous) = previous
            && range.start < previous.end
        {
            return Err(EditError::Overlap {
                first: previous.clone(),
                second: range.clone(),
            });
        }
        out.push_str(&text[cursor..range.start]);
        out.push_str(&edit.text);
        cursor = range.end;
        previous = Some(range);
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// Turns one logical line into an entry: comment, content, tokens, options, requirement.
fn build_entry(lines: &[Line], logical: lines::Logical) -> Entry {
    let first = &lines[logical.lines.start];
    let last = &lines[logical.lines.end - 1];
    let mut entry = Entry {
        range: first.range.start..last.range.end,
        lines: logical.lines.clone(),
        content: None,
        kind: EntryKind::Blank,
        comment: logical
            .comment_start()
            .map(|start| logical.orig_range(start..logical.text.len())),
        continuations: logical.continuations.clone(),
        env_vars: Vec::new(),
        diagnostics: Vec::new(),
    };
    let content = logical.content();
    if content.is_empty() {
        return entry;
    }
    entry.content = Some(logical.orig_range(content.clone()));
    entry.env_vars = lines::find_env_vars(&logical.text[content.clone()])
        .into_iter()
        .map(|(name, range)| EnvVar {
            name,
            range: logical.orig_range(range.start + content.start..range.end + content.start),
        })
        .collect();

    let line = &logical.text[content.clone()];
    let (args, options_start) = options::break_args_options(line);
    let options_text = &line[options_start..];
    let mut parsed = options::parse_options(
        options_text,
        content.start + options_start,
        &logical,
        &mut entry.diagnostics,
    );
    let stray = std::mem::take(&mut parsed.stray);
    if !args.is_empty() || parsed.editable.is_some() {
        let mut requirement = if !args.is_empty() {
            let args_range = content.start..content.start + args.len();
            requirement::line_requirement(&logical, args_range, parsed, &mut entry.diagnostics)
        } else {
            requirement::editable_requirement(&logical, parsed, &mut entry.diagnostics)
        };
        let content_end = entry.content.as_ref().map_or(0, |content| content.end);
        requirement.layout = requirement.range.end..content_end.max(requirement.range.end);
        entry.kind = EntryKind::Requirement(Box::new(requirement));
    } else {
        options::check_option_line(&parsed.items, &mut entry.diagnostics);
        entry.kind = EntryKind::Options(parsed.items);
    }
    for token in stray {
        entry.diagnostics.push(Diagnostic {
            range: token.range,
            severity: DiagnosticSeverity::Warning,
            message: format!(
                "`{}` is neither an option nor an option's value; pip ignores it",
                token.value
            ),
        });
    }
    // Messages quote the file, and index URLs carry tokens: never repeat a password.
    for diagnostic in &mut entry.diagnostics {
        diagnostic.message = redact_credentials(&diagnostic.message);
    }
    entry
}

/// `text` with the user information of every `scheme://user:secret@host` URL replaced by
/// `****` (a lone `${VAR}` user name is kept: it names a variable, not a secret).
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '`')
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                let only_vars = lines::find_env_vars(userinfo)
                    .iter()
                    .map(|(_, range)| range.len())
                    .sum::<usize>()
                    + userinfo.matches(':').count()
                    == userinfo.len();
                if only_vars {
                    out.push_str(userinfo);
                } else {
                    out.push_str("****");
                }
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
