//! Requirement lines and `-e` targets, classified as pip's `parse_req_from_line` and
//! `parse_editable` do (without looking at the file system), with PEP 508 validated by
//! `pep508_rs` and every span taken from the raw text.

use std::convert::Infallible;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use pep508_rs::marker::MarkerTree;
use pep508_rs::{Pep508Url, VersionOrUrl};

use super::lines::{Logical, find_env_vars, py_space};
use super::options::{self, ParsedOptions};
use super::{
    DerivedName, Diagnostic, DiagnosticSeverity, MarkerPart, NameSource, NamedReq, ReqForm,
    Requirement, Spanned, UrlKind, UrlReq, VersionPart,
};

/// A URL kept exactly as written: `pep508_rs`'s own URL type expands `${VAR}` from the process
/// environment, which a scanner must never do (the values are often credentials).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RawUrl(String);

impl fmt::Display for RawUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Pep508Url for RawUrl {
    type Err = Infallible;

    fn parse_url(url: &str, _working_dir: Option<&Path>) -> Result<Self, Self::Err> {
        Ok(RawUrl(url.to_string()))
    }
}

type Pep508Requirement = pep508_rs::Requirement<RawUrl>;

/// Why a PEP 508 requirement is invalid: a message and the byte range it points at.
type Pep508Failure = (String, Range<usize>);

/// `crate::pep508::parse`, with the failure as the `(message, range)` pair this module uses.
fn parse_pep508(text: &str) -> Result<Pep508Requirement, Pep508Failure> {
    crate::pep508::parse(text).map_err(|failure| (failure.message, failure.range))
}

fn parse_marker_tree(text: &str) -> Result<MarkerTree, Pep508Failure> {
    crate::pep508::parse_marker(text).map_err(|failure| (failure.message, failure.range))
}

const VCS_SCHEMES: &[&str] = &[
    "git+http",
    "git+https",
    "git+ssh",
    "git+git",
    "git+file",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+ssh",
    "svn+http",
    "svn+https",
    "svn+svn",
    "svn+file",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
    "bzr+file",
];

/// pip's `ARCHIVE_EXTENSIONS`.
const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
    ".tar.gz",
    ".tgz",
    ".tar",
];

/// packaging's specifier operators, for pip's "did you mean ==" hint.
const OPERATORS: &[&str] = &["~=", "==", "!=", "<=", ">=", "<", ">", "==="];

fn scheme(text: &str) -> Option<String> {
    text.split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
}

/// pip's `is_url`: a scheme pip knows how to fetch.
fn is_url(text: &str) -> bool {
    scheme(text).is_some_and(|scheme| {
        matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
            || VCS_SCHEMES.contains(&scheme.as_str())
    })
}

fn url_kind(text: &str) -> UrlKind {
    match scheme(text).as_deref() {
        Some("http" | "https" | "ftp") => UrlKind::Remote,
        Some("file") => UrlKind::File,
        Some(scheme) if VCS_SCHEMES.contains(&scheme) => UrlKind::Vcs {
            vcs: scheme.split('+').next().unwrap_or(scheme).to_string(),
        },
        _ => UrlKind::LocalPath,
    }
}

/// pip's `_looks_like_path` on POSIX, where CI runs: `/` is the only separator (`\\` is one
/// only for pip on Windows).
fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.')
}

/// pip's `is_archive_file` (its `splitext` treats `.tar.*` as one extension).
fn is_archive(path: &str) -> bool {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = file.to_ascii_lowercase();
    let Some(dot) = lower.rfind('.').filter(|&dot| dot > 0) else {
        return false;
    };
    let (base, ext) = lower.split_at(dot);
    let ext = if base.ends_with(".tar") {
        &lower[dot - 4..]
    } else {
        ext
    };
    ARCHIVE_EXTENSIONS.contains(&ext)
}

/// pip's `_strip_extras`: `^(.+)(\[[^\]]+\])$`. Returns the length of the part before `[`.
fn strip_extras(text: &str) -> Option<usize> {
    let inner = text.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    let extras = &inner[open + 1..];
    (open > 0 && !extras.is_empty() && !extras.contains(']')).then_some(open)
}

/// Trims Python whitespace off `range` of `text`.
fn trim(text: &str, range: Range<usize>) -> Range<usize> {
    let s = &text[range.clone()];
    let start = range.start + (s.len() - s.trim_start_matches(py_space).len());
    let end = range.start + s.trim_end_matches(py_space).len();
    if end < start {
        start..start
    } else {
        start..end
    }
}

fn error(range: Range<usize>, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        range,
        severity: DiagnosticSeverity::Error,
        message: message.into(),
    }
}

/// A requirement line (everything before the first option).
pub(crate) fn line_requirement(
    logical: &Logical,
    args: Range<usize>,
    parsed: ParsedOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Requirement {
    options::check_requirement_options(&parsed.items, false, diagnostics);
    let range = trim(&logical.text, args);
    let form = classify_line(logical, range.clone(), diagnostics);
    Requirement {
        text: logical.text[range.clone()].to_string(),
        range: logical.orig_range(range),
        editable: false,
        form,
        options: parsed.items,
        hashes: parsed.hashes,
        config_settings: parsed.config_settings,
        layout: 0..0,
    }
}

/// `-e/--editable <target>` (the first one of the line, as pip takes it).
pub(crate) fn editable_requirement(
    logical: &Logical,
    parsed: ParsedOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Requirement {
    options::check_requirement_options(&parsed.items, true, diagnostics);
    let (value, raw_range) = parsed.editable.clone().unwrap_or_default();
    // Sub-spans (extras, `#egg=`) are exact only when the value is written without quotes.
    let verbatim = logical.text.get(raw_range.clone()) == Some(value.as_str());
    let raw_text = logical.text.get(raw_range.clone()).unwrap_or_default();
    let at = |range: Range<usize>| {
        if verbatim {
            return logical.orig_range(raw_range.start + range.start..raw_range.start + range.end);
        }
        // Quoted or escaped: a part written as is, found once in the raw text, keeps its span.
        let part = value.get(range).unwrap_or_default();
        match raw_text.match_indices(part).collect::<Vec<_>>().as_slice() {
            [(found, _)] if !part.is_empty() => {
                let start = raw_range.start + found;
                logical.orig_range(start..start + part.len())
            }
            _ => logical.orig_range(raw_range.clone()),
        }
    };
    let whole = logical.orig_range(raw_range.clone());
    if value.is_empty() {
        diagnostics.push(error(
            whole.clone(),
            "`-e` needs a local project path or a VCS URL",
        ));
    }
    let lower = value.to_ascii_lowercase();
    let vcs_prefix = ["git", "hg", "svn", "bzr"]
        .iter()
        .find(|vcs| lower.starts_with(&format!("{vcs}:")));
    let kind = match (url_kind(&value), vcs_prefix) {
        (_, Some(vcs)) => UrlKind::Vcs {
            vcs: vcs.to_string(),
        },
        (kind, None) => kind,
    };
    let mut extras = Vec::new();
    let mut url_end = value.len();
    let mut name = None;
    match kind {
        UrlKind::LocalPath | UrlKind::File => {
            if let Some(open) = strip_extras(&value) {
                url_end = open;
                extras = split_extras(&value, open + 1, value.len() - 1, &at);
            }
            if kind == UrlKind::File {
                name = egg_name(&value[..url_end], &at, whole.clone(), diagnostics);
            }
        }
        UrlKind::Vcs { .. } => {
            name = egg_name(&value, &at, whole.clone(), diagnostics);
            if name.is_none() && !diagnostics.iter().any(|d| d.range == whole) {
                diagnostics.push(error(
                    whole.clone(),
                    format!(
                        "could not detect the project name of editable `{value}`; \
                         add #egg=<name> (pip refuses it without one)"
                    ),
                ));
            }
        }
        UrlKind::Remote => diagnostics.push(error(
            whole.clone(),
            format!(
                "`{value}` is not a valid editable requirement: give a path to a local project \
                 or a VCS URL (git+https://…, hg+…, svn+…, bzr+…)"
            ),
        )),
    }
    let archive = is_archive(&value[..url_end]);
    Requirement {
        text: value.clone(),
        range: whole,
        editable: true,
        form: ReqForm::Url(UrlReq {
            url: Spanned {
                value: value[..url_end].to_string(),
                range: at(0..url_end),
            },
            kind,
            archive,
            name,
            extras,
            marker: None,
        }),
        options: parsed.items,
        hashes: Vec::new(),
        config_settings: parsed.config_settings,
        layout: 0..0,
    }
}

/// `parse_req_from_line`: marker split, then URL, local path or PEP 508.
fn classify_line(
    logical: &Logical,
    range: Range<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) -> ReqForm {
    let text = &logical.text;
    let line = &text[range.clone()];
    let separator = if is_url(line) { "; " } else { ";" };
    let (left, marker) = match line.find(separator) {
        Some(i) => (
            trim(text, range.start..range.start + i),
            Some(trim(text, range.start + i + separator.len()..range.end)),
        ),
        None => (range.clone(), None),
    };
    let marker = marker
        .filter(|marker| !marker.is_empty())
        .and_then(|marker| parse_marker(logical, marker, diagnostics));
    let left_text = &text[left.clone()];
    if left_text.is_empty() {
        diagnostics.push(error(
            logical.orig_range(range),
            "expected a requirement before `;`",
        ));
        return ReqForm::Invalid { name_guess: None };
    }
    if is_url(left_text) {
        return ReqForm::Url(url_req(
            logical,
            left,
            url_kind(left_text),
            marker,
            diagnostics,
        ));
    }
    let path_end = strip_extras(left_text).unwrap_or(left_text.len());
    if is_archive(&left_text[..path_end]) {
        let named_url = left_text
            .split_once('@')
            .is_some_and(|(before, _)| !looks_like_path(before));
        if !named_url {
            return ReqForm::Url(url_req(
                logical,
                left,
                UrlKind::LocalPath,
                marker,
                diagnostics,
            ));
        }
    } else if looks_like_path(left_text) && parse_pep508(left_text).is_err() {
        return ReqForm::Url(url_req(
            logical,
            left,
            UrlKind::LocalPath,
            marker,
            diagnostics,
        ));
    }
    named(logical, left, marker, diagnostics)
}

fn parse_marker(
    logical: &Logical,
    range: Range<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<MarkerPart> {
    let text = &logical.text[range.clone()];
    let tree = if find_env_vars(text).is_empty() {
        match parse_marker_tree(text) {
            Ok(tree) => Some(tree),
            Err((message, local)) => {
                diagnostics.push(error(
                    logical.orig_range(range.start + local.start..range.start + local.end),
                    format!("invalid marker `{text}`: {message}"),
                ));
                None
            }
        }
    } else {
        None
    };
    Some(MarkerPart {
        text: text.to_string(),
        range: logical.orig_range(range),
        tree,
    })
}

/// The leading word of letters, digits, `.`, `-`, `_` (any script): what a broken requirement
/// was probably meant to name.
fn name_guess(logical: &Logical, range: Range<usize>) -> Option<Spanned<String>> {
    let text = &logical.text[range.clone()];
    let len: usize = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .map(char::len_utf8)
        .sum();
    let word = &text[..len];
    word.chars().any(char::is_alphanumeric).then(|| Spanned {
        value: word.to_string(),
        range: logical.orig_range(range.start..range.start + len),
    })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// A PEP 508 requirement (without its marker, which pip splits off first).
fn named(
    logical: &Logical,
    range: Range<usize>,
    marker: Option<MarkerPart>,
    diagnostics: &mut Vec<Diagnostic>,
) -> ReqForm {
    let raw = &logical.text[range.clone()];
    let bytes = raw.as_bytes();
    let at = |r: Range<usize>| logical.orig_range(range.start + r.start..range.start + r.end);

    // Where the parts are, from the raw text (pep508_rs validates but gives no spans).
    let name_end = bytes.iter().take_while(|b| is_name_byte(**b)).count();
    if raw[name_end..].starts_with("${") {
        return ReqForm::Unexpanded;
    }
    let skip_ws = |mut i: usize| {
        while let Some(c) = raw[i..].chars().next().filter(|c| c.is_whitespace()) {
            i += c.len_utf8();
        }
        i
    };
    let mut pos = skip_ws(name_end);
    let mut extras_range = None;
    if raw[pos..].starts_with('[') {
        let close = raw[pos..].find(']').map_or(raw.len(), |i| pos + i + 1);
        extras_range = Some(pos..close);
        pos = skip_ws(close);
    }
    let rest = trim(raw, pos..raw.len());
    let (url, version) = if raw[rest.clone()].starts_with('@') {
        (Some(trim(raw, rest.start + 1..rest.end)), None)
    } else if rest.is_empty() {
        (None, None)
    } else {
        (None, Some(rest))
    };

    // Validate with pep508_rs. `${VAR}` and `===arbitrary` (accepted by packaging, not by
    // pep440_rs) are replaced by a plain version so that the rest is still checked.
    let mut candidate = String::with_capacity(raw.len());
    let mut substituted_version = false;
    let mut last = 0;
    for (_, var) in find_env_vars(raw) {
        candidate.push_str(&raw[last..var.start]);
        candidate.push('0');
        if version
            .as_ref()
            .is_some_and(|v| v.start <= var.start && var.end <= v.end)
        {
            substituted_version = true;
        }
        last = var.end;
    }
    candidate.push_str(&raw[last..]);
    if let Some(version) = &version {
        let text = raw[version.clone()].trim_start_matches('(').trim_start();
        if let Some(arbitrary) = text.strip_prefix("===") {
            let arbitrary = arbitrary.trim_end_matches(')').trim();
            if !arbitrary.is_empty()
                && !arbitrary.contains(|c: char| c.is_whitespace() || c == ',' || c == ')')
                && !substituted_version
            {
                candidate = format!("{}===0", &raw[..version.start]);
                substituted_version = true;
            }
        }
    }
    let exact = candidate == raw;
    let parsed = match parse_pep508(&candidate) {
        Ok(parsed) => parsed,
        Err((err_message, err_range)) => {
            let err_range = if exact {
                at(err_range)
            } else {
                at(0..raw.len())
            };
            let mut message = format!("invalid requirement `{raw}`: {err_message}");
            let has_operator = OPERATORS.iter().any(|op| raw.contains(op));
            if raw.contains('=') && !has_operator {
                message.push_str(" (`=` is not a version operator; did you mean `==`?)");
            } else if raw.contains("\t-") {
                message.push_str(
                    " (pip separates options from the requirement with spaces only; \
                     a tab before `--` makes the option part of the requirement)",
                );
            }
            diagnostics.push(error(err_range, message));
            return ReqForm::Invalid {
                name_guess: name_guess(logical, range),
            };
        }
    };
    if let Some(url) = &url
        && let Some(ws) = raw[url.clone()].find(char::is_whitespace)
    {
        let after = trim(raw, url.start + ws..url.end);
        diagnostics.push(error(
            at(after),
            "a URL ends at whitespace: expected `;` and a marker after it",
        ));
        return ReqForm::Invalid {
            name_guess: name_guess(logical, range),
        };
    }

    let extras = extras_range
        .as_ref()
        .map(|r| {
            split_extras(
                raw,
                r.start + 1,
                r.end.saturating_sub(1).max(r.start + 1),
                &at,
            )
        })
        .unwrap_or_default();
    let specifiers = match &parsed.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) if !substituted_version => {
            Some(specifiers.clone())
        }
        None if !substituted_version => Some(pep508_rs::pep440_rs::VersionSpecifiers::empty()),
        _ => None,
    };
    ReqForm::Named(NamedReq {
        name: Spanned {
            value: raw[..name_end].to_string(),
            range: at(0..name_end),
        },
        normalized: parsed.name,
        extras,
        extras_range: extras_range.map(&at),
        version: version.map(|version| VersionPart {
            text: raw[version.clone()].to_string(),
            range: at(version),
            specifiers,
        }),
        url: url.map(|url| Spanned {
            value: raw[url.clone()].to_string(),
            range: at(url),
        }),
        marker,
    })
}

/// The extras between `start` and `end` of `text`, each as written.
fn split_extras(
    text: &str,
    start: usize,
    end: usize,
    at: &dyn Fn(Range<usize>) -> Range<usize>,
) -> Vec<Spanned<String>> {
    let mut extras = Vec::new();
    let mut pos = start;
    let end = end.min(text.len());
    if pos > end {
        return extras;
    }
    for part in text[start..end].split(',') {
        let range = trim(text, pos..pos + part.len());
        if !range.is_empty() {
            extras.push(Spanned {
                value: text[range.clone()].to_string(),
                range: at(range),
            });
        }
        pos += part.len() + 1;
    }
    extras
}

/// A bare URL or local path requirement at `range` of the logical line.
fn url_req(
    logical: &Logical,
    range: Range<usize>,
    kind: UrlKind,
    marker: Option<MarkerPart>,
    diagnostics: &mut Vec<Diagnostic>,
) -> UrlReq {
    let raw = &logical.text[range.clone()];
    let at = |r: Range<usize>| logical.orig_range(range.start + r.start..range.start + r.end);
    let mut url_end = raw.len();
    let mut extras = Vec::new();
    if kind == UrlKind::LocalPath
        && let Some(open) = strip_extras(raw)
    {
        url_end = open;
        extras = split_extras(raw, open + 1, raw.len() - 1, &at);
    }
    let url = &raw[..url_end];
    // The file name: the last path segment, without query or fragment.
    let path_end = if kind == UrlKind::LocalPath {
        url.len()
    } else {
        url.find(['#', '?']).unwrap_or(url.len())
    };
    let file_start = url[..path_end].rfind(['/', '\\']).map_or(0, |i| i + 1);
    let file = &url[file_start..path_end];
    let archive = is_archive(file);
    let name = if file.ends_with(".whl") {
        wheel_name(file, file_start, &at, diagnostics)
    } else if kind == UrlKind::LocalPath {
        None
    } else {
        egg_name(url, &at, at(0..url_end), diagnostics)
    };
    UrlReq {
        url: Spanned {
            value: url.to_string(),
            range: at(0..url_end),
        },
        kind,
        archive,
        name,
        extras,
        marker,
    }
}

/// The project name of a wheel file name (`name-version[-build]-python-abi-platform.whl`).
fn wheel_name(
    file: &str,
    file_start: usize,
    at: &dyn Fn(Range<usize>) -> Range<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<DerivedName> {
    let raw_stem = &file[..file.len() - ".whl".len()];
    // pip reads the file name unquoted (`%2B` is `+`); the name's span stays on the raw text.
    let stem = percent_encoding::percent_decode_str(raw_stem).decode_utf8_lossy();
    let parts: Vec<&str> = stem.split('-').collect();
    let well_formed = matches!(parts.len(), 5 | 6)
        && parts
            .iter()
            .all(|part| !part.is_empty() && !part.contains(char::is_whitespace));
    let valid = well_formed
        && find_env_vars(&stem).is_empty()
        && parse_pep508(&format!("{}=={}", parts[0], parts[1])).is_ok();
    if !valid {
        if find_env_vars(&stem).is_empty() {
            diagnostics.push(error(
                at(file_start..file_start + file.len()),
                format!(
                    "`{file}` is not a valid wheel file name \
                     (name-version[-build]-python-abi-platform.whl)"
                ),
            ));
        }
        return None;
    }
    let raw_name_len = raw_stem.find('-').unwrap_or(raw_stem.len());
    Some(DerivedName {
        name: Spanned {
            value: parts[0].to_string(),
            range: at(file_start..file_start + raw_name_len),
        },
        source: NameSource::Wheel,
    })
}

/// The `#egg=` (or `&egg=`) project name of a URL; pip 26 accepts only a bare project name.
fn egg_name(
    url: &str,
    at: &dyn Fn(Range<usize>) -> Range<usize>,
    whole: Range<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<DerivedName> {
    let start = ["#egg=", "&egg="]
        .iter()
        .filter_map(|key| url.find(key).map(|i| i + key.len()))
        .min()?;
    let end = url[start..].find('&').map_or(url.len(), |i| start + i);
    let name = &url[start..end];
    let bare = !name.is_empty()
        && name.bytes().all(is_name_byte)
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if !bare {
        if find_env_vars(name).is_empty() {
            diagnostics.push(error(
                whole,
                format!(
                    "`#egg={name}` is not a bare project name; pip 26 rejects it \
                     (write `name @ url` instead)"
                ),
            ));
        }
        return None;
    }
    Some(DerivedName {
        name: Spanned {
            value: name.to_string(),
            range: at(start..end),
        },
        source: NameSource::Egg,
    })
}

impl super::VersionPart {
    /// Exactly one `==` or `===` specifier (`==1.*` included): what pip's hash-checking mode
    /// calls pinned.
    pub fn is_pinned(&self) -> bool {
        use pep508_rs::pep440_rs::Operator;
        match &self.specifiers {
            Some(specifiers) => {
                specifiers.len() == 1
                    && matches!(
                        specifiers[0].operator(),
                        Operator::Equal | Operator::EqualStar | Operator::ExactEqual
                    )
            }
            None => {
                let text = self.text.trim().trim_start_matches('(').trim_start();
                text.starts_with("==") && !text.contains(',')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_urls_paths_and_archives_like_pip() {
        assert!(is_url("git+https://x/y"));
        assert!(is_url("HTTPS://x"));
        assert!(is_url("svn://x"));
        assert!(!is_url("git://x"));
        assert!(!is_url("name @ https://x"));
        assert!(is_archive("a/b/pkg-1.0.tar.gz"));
        assert!(is_archive("pkg-1.0-py3-none-any.whl"));
        assert!(is_archive("x.TGZ"));
        assert!(!is_archive("x.gz"));
        assert!(!is_archive(".whl"));
        assert!(looks_like_path("./a") && looks_like_path("a/b") && !looks_like_path("a"));
        assert_eq!(strip_extras(".[dev,test]"), Some(1));
        assert_eq!(strip_extras("[x]"), None);
        assert_eq!(strip_extras("a[]"), None);
    }

    #[test]
    fn inputs_that_make_pep508_rs_panic_are_errors() {
        for text in [
            "a_ ==1",
            "a-(1)",
            "a. ==1",
            "a_[x]",
            "x[a_]",
            "x[ok, b.]",
            "a_;",
        ] {
            let (message, range) = parse_pep508(text).unwrap_err();
            assert!(
                message.contains("must end with a letter or digit"),
                "{text}"
            );
            assert!(matches!(&text[range], "." | "-" | "_"), "{text}");
        }
        assert!(parse_pep508("a_b[c_d] ==1").is_ok());
    }

    #[test]
    fn error_ranges_fall_on_character_boundaries() {
        for text in ["é", "aé[", "a (é", "a==é", "a;é", "aé", "a[é"] {
            let (_, range) = parse_pep508(text).unwrap_err();
            assert!(text.get(range.clone()).is_some(), "{text:?} {range:?}");
            assert!(!range.is_empty(), "{text:?}");
        }
    }
}
