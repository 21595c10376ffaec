//! Package names inside PEP 508 requirement strings, as manifests write them
//! (`"torch[cuda]>=2.1; sys_platform == 'linux'"`).
//!
//! The name is taken as written, up to the first of ` [<>=!~;@(` or whitespace, so that a name
//! with a non-ASCII look-alike letter is still reported (the typo check flags it) rather than
//! dropped as invalid. The whole string is validated with `pep508_rs`, the parser uv uses.

use std::convert::Infallible;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use super::manifest_text::DecodedStr;
use super::{DeclaredDep, Extracted};
use crate::finding::Finding;
use crate::rules;
use crate::source::SourceFile;

/// What a requirement string says about its package name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementCheck {
    /// Byte range of the package name inside the string, when one could be taken.
    pub name: Option<Range<usize>>,
    /// Why the string is not a valid PEP 508 requirement, when it is not.
    pub error: Option<String>,
}

/// Finds the package name in `text` and validates the requirement.
///
/// The name is kept even when a later part (version, marker) is invalid: the author still
/// named that package. A name token that is not a package name (`./src`, `git+https://...`),
/// or that is followed by words rather than a version or marker, gives no name.
pub fn check_requirement(text: &str) -> RequirementCheck {
    let start = text.len() - text.trim_start().len();
    let end = text[start..]
        .find(|c: char| c.is_whitespace() || " [<>=!~;@(".contains(c))
        .map_or(text.len(), |i| start + i);
    let token = &text[start..end];
    // A name followed by something that cannot follow a name (`not a requirement`) is prose,
    // not a package: only a bad version or marker part keeps the name.
    let follows_name = text[end..]
        .trim_start()
        .chars()
        .next()
        .is_none_or(|c| "[<>=!~;@(".contains(c));
    if token.is_empty() || !follows_name {
        let error = if text.trim().is_empty() {
            "empty requirement".to_string()
        } else {
            validate(text).unwrap_or_else(|| "missing package name".to_string())
        };
        return RequirementCheck {
            name: None,
            error: Some(error),
        };
    }
    if !token.is_ascii() {
        // pep508_rs rejects non-ASCII names; validate the rest with a stand-in name.
        let stand_in = format!("{}x{}", &text[..start], &text[end..]);
        return RequirementCheck {
            name: Some(start..end),
            error: validate(&stand_in),
        };
    }
    if is_valid_name(token) {
        return RequirementCheck {
            name: Some(start..end),
            error: validate(text),
        };
    }
    RequirementCheck {
        name: None,
        error: Some(
            validate(text).unwrap_or_else(|| format!("`{token}` is not a valid package name")),
        ),
    }
}

/// PEP 508 names: ASCII letters and digits, with `.`, `_`, `-` inside.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        _ => false,
    }
}

/// `None` if `text` is a valid PEP 508 requirement, else the parser's message.
fn validate(text: &str) -> Option<String> {
    crate::pep508::parse::<AnyUrl>(text)
        .err()
        .map(|failure| failure.message)
}

/// Accepts any `name @ url` target as written: validating URLs is not our job, and
/// `pep508_rs`'s default URL type expands environment variables, which a scanner must not do.
#[derive(Debug)]
struct AnyUrl;

impl fmt::Display for AnyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<url>")
    }
}

impl pep508_rs::Pep508Url for AnyUrl {
    type Err = Infallible;

    fn parse_url(_url: &str, _working_dir: Option<&Path>) -> Result<Self, Self::Err> {
        Ok(AnyUrl)
    }
}

/// Records the name of requirement `req` (a string literal whose whole raw text is `literal`),
/// or a `parse-error` at the literal when it is not a valid requirement. `place` says where
/// the string sits, for the message (`[project] dependencies`).
pub fn push_requirement(
    out: &mut Extracted,
    file: &SourceFile,
    req: &DecodedStr,
    literal: Range<usize>,
    place: &str,
) {
    let check = check_requirement(&req.value);
    if let Some(name) = check.name.clone()
        && let Some(raw) = req.raw_range(name.clone())
    {
        out.deps.push(DeclaredDep {
            name: req.value[name].to_string(),
            span: file.span(raw),
        });
    }
    if let Some(error) = check.error {
        out.findings.push(invalid_requirement(
            file, literal, &req.value, place, &error,
        ));
    }
}

/// Records the requirements in `text` the way setuptools reads a requirement string
/// (`setuptools._reqs.parse`): one per line, blank lines and lines starting with `#` skipped,
/// and an inline comment from ` #` on dropped.
pub fn push_requirement_lines(
    out: &mut Extracted,
    file: &SourceFile,
    text: &DecodedStr,
    place: &str,
) {
    let mut start = 0;
    for line in text.value.split_inclusive('\n') {
        let line_start = start;
        start += line.len();
        let line = line.find(" #").map_or(line, |cut| &line[..cut]);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let piece = line_start + lead..line_start + lead + trimmed.len();
        let Some(literal) = text.raw_range(piece.clone()) else {
            continue;
        };
        push_requirement(out, file, &text.slice(piece), literal, place);
    }
}

/// A `parse-error` for requirement `value` written at `raw` in `file`.
pub fn invalid_requirement(
    file: &SourceFile,
    raw: Range<usize>,
    value: &str,
    place: &str,
    error: &str,
) -> Finding {
    let shown = shorten(value.trim(), 80);
    let subject = if shown.is_empty() {
        file.rel_path.clone()
    } else {
        shown.clone()
    };
    Finding::at(
        &rules::PARSE_ERROR,
        file,
        file.span(raw),
        subject,
        format!("{place}: \"{shown}\" is not a valid PEP 508 requirement ({error})"),
    )
}

/// `text` cut to at most `max` chars, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Option<&str> {
        check_requirement(text).name.map(|r| &text[r])
    }

    #[test]
    fn takes_the_name_of_valid_requirements() {
        let cases = [
            ("numpy", "numpy"),
            ("torch[cuda]>=2.1", "torch"),
            (
                "  scikit-learn >= 1.3 ; python_version >= '3.9'",
                "scikit-learn",
            ),
            ("zope.interface~=6.0", "zope.interface"),
            ("pkg @ https://example.com/pkg-1.0.tar.gz", "pkg"),
            ("black==23.1.0; extra == 'dev'", "black"),
            ("typing_extensions (>=4.0)", "typing_extensions"),
            ("pip!=1.0", "pip"),
        ];
        for (text, expected) in cases {
            let check = check_requirement(text);
            assert_eq!(check.error, None, "{text}");
            assert_eq!(name(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn keeps_non_ascii_names_and_still_validates_the_rest() {
        let check = check_requirement("nump\u{0443}>=1.0");
        assert_eq!(check.error, None);
        assert_eq!(name("nump\u{0443}>=1.0"), Some("nump\u{0443}"));
        let bad = check_requirement("nump\u{0443}>>1.0");
        assert_eq!(bad.name, Some(0..6));
        assert!(bad.error.is_some());
    }

    #[test]
    fn reports_invalid_requirements() {
        // The name is still taken when only the version part is wrong.
        let check = check_requirement("requests>>2");
        assert_eq!(check.name, Some(0..8));
        assert!(check.error.unwrap().contains('>'));
        let cases = [
            "",
            "   ",
            "./local/pkg",
            "git+https://example.com/x.git",
            "-e .",
            ">=1.0",
            "not a requirement",
        ];
        for text in cases {
            let check = check_requirement(text);
            assert_eq!(check.name, None, "{text:?}");
            assert!(check.error.is_some(), "{text:?}");
        }
    }

    #[test]
    fn names_ending_in_punctuation_are_errors_not_panics() {
        for text in ["foo- >=1", "foo-\"", "foo_[x]", "foo.;x"] {
            let check = check_requirement(text);
            assert_eq!(check.name, None, "{text}");
            assert!(check.error.is_some(), "{text}");
        }
        assert_eq!(
            check_requirement("foo-").error.as_deref(),
            Some("package name `foo-` must end with a letter or digit")
        );
    }

    #[test]
    fn url_targets_are_not_expanded_or_fetched() {
        let check = check_requirement("pkg @ file:///${HOME}/pkg");
        assert_eq!(check.error, None);
        assert_eq!(check.name, Some(0..3));
    }

    #[test]
    fn valid_names() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("Flask-SQLAlchemy"));
        assert!(!is_valid_name("-a"));
        assert!(!is_valid_name("a."));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn shortens_long_text() {
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
