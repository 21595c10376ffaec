//! `pep508_rs`, made safe for untrusted text: every PEP 508 parse of scanned files, index
//! metadata and command lines goes through here.
//!
//! `pep508_rs` 0.9 panics (an `expect`) on a name or extra that ends in `.`, `-` or `_` and is
//! followed by more text (`a_ ==1`, `x[a_]`). Such input is answered before the parser sees it —
//! a panic would also print its message on the user's terminal — and so does a non-ASCII
//! character outside the quoted values of a marker (`python_version >= "3.8"é`: the parser
//! measures the word after an expression in characters and slices it in bytes). Any other panic
//! of the parser is caught and becomes an error, so a hostile file cannot crash a scan.

use std::ops::Range;
use std::str::FromStr;

use pep508_rs::marker::MarkerTree;
use pep508_rs::{Pep508Error, Pep508Url, Requirement};

/// Why a requirement or marker is invalid: a message and the byte range of `text` it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub range: Range<usize>,
}

/// Parses one PEP 508 requirement. `U` decides what a `name @ url` target becomes; pass a type
/// that keeps the text as written (`pep508_rs`'s default URL type expands `${VAR}` from the
/// environment, which must never happen to a scanned file).
pub fn parse<U: Pep508Url>(text: &str) -> Result<Requirement<U>, Failure> {
    if let Some(failure) = panic_guard(text).or_else(|| {
        let marker = marker_start(text)?;
        marker_guard(&text[marker..], marker)
    }) {
        return Err(failure);
    }
    match std::panic::catch_unwind(|| Requirement::<U>::from_str(text)) {
        Ok(Ok(requirement)) => Ok(requirement),
        Ok(Err(err)) => Err(Failure {
            message: err.message.to_string(),
            range: error_range(&err, text),
        }),
        Err(_) => Err(Failure {
            message: "the PEP 508 parser failed on this requirement".to_string(),
            range: 0..text.len(),
        }),
    }
}

/// Parses one PEP 508 marker expression.
pub fn parse_marker(text: &str) -> Result<MarkerTree, Failure> {
    if let Some(failure) = marker_guard(text, 0) {
        return Err(failure);
    }
    match std::panic::catch_unwind(|| MarkerTree::from_str(text)) {
        Ok(Ok(tree)) => Ok(tree),
        Ok(Err(err)) => Err(Failure {
            message: err.message.to_string(),
            range: error_range(&err, text),
        }),
        Err(_) => Err(Failure {
            message: "the PEP 508 marker parser failed on this marker".to_string(),
            range: 0..text.len(),
        }),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// The inputs `pep508_rs` 0.9 would panic on: a leading name, or an extra, ending in `.`, `-`
/// or `_` and followed by more text.
fn panic_guard(text: &str) -> Option<Failure> {
    let bytes = text.as_bytes();
    let ends_badly = |run: &[u8]| {
        run.first().is_some_and(u8::is_ascii_alphanumeric)
            && run.last().is_some_and(|b| matches!(b, b'.' | b'-' | b'_'))
    };
    let start = text.len() - text.trim_start().len();
    let name_len = bytes[start..]
        .iter()
        .take_while(|b| is_name_byte(**b))
        .count();
    if ends_badly(&bytes[start..start + name_len]) {
        let end = start + name_len;
        return Some(Failure {
            message: format!(
                "package name `{}` must end with a letter or digit",
                &text[start..end]
            ),
            range: end - 1..end,
        });
    }
    let after = start + name_len;
    let open = after + (text[after..].len() - text[after..].trim_start().len());
    if bytes.get(open) != Some(&b'[') {
        return None;
    }
    let close = text[open..].find(']').map_or(text.len(), |i| open + i);
    let mut i = open + 1;
    while i < close {
        let run = bytes[i..close]
            .iter()
            .take_while(|b| is_name_byte(**b))
            .count();
        if run == 0 {
            i += 1;
            continue;
        }
        if ends_badly(&bytes[i..i + run]) {
            return Some(Failure {
                message: format!(
                    "extra name `{}` must end with a letter or digit",
                    &text[i..i + run]
                ),
                range: i + run - 1..i + run,
            });
        }
        i += run;
    }
    None
}

/// Where the marker of requirement `text` starts, as `pep508_rs` reads it: at the first `;`,
/// or for `name @ url`, at the first `;` after the whitespace that ends the URL.
fn marker_start(text: &str) -> Option<usize> {
    let Some(at) = text.find('@') else {
        return text.find(';');
    };
    let after = &text[at + 1..];
    let url_start = at + 1 + (after.len() - after.trim_start().len());
    let url_end = url_start + text[url_start..].find(char::is_whitespace)?;
    text[url_end..].find(';').map(|i| url_end + i)
}

/// Outside its quoted values a marker is ASCII: the first other character is an error (the
/// parser would panic on some of them). `base` is where `marker` starts in the text the
/// failure's range points into.
fn marker_guard(marker: &str, base: usize) -> Option<Failure> {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in marker.char_indices() {
        // A quote opens a value only where a value can start; inside a word (`and"x`) the
        // parser reads it as part of that word.
        let value_may_start = previous.is_whitespace() || "<=>!~(".contains(previous);
        previous = c;
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'') && value_may_start => quote = Some(c),
            None if !c.is_ascii() => {
                return Some(Failure {
                    message: format!(
                        "unexpected character {c:?} in a marker: outside its quoted values a marker is ASCII"
                    ),
                    range: base + i..base + i + c.len_utf8(),
                });
            }
            None => {}
        }
    }
    None
}

/// The byte range of `text` a `pep508_rs` error points at, on character boundaries.
fn error_range<T: Pep508Url>(err: &Pep508Error<T>, text: &str) -> Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(err.start);
    let mut end = floor(err.start.saturating_add(err.len)).max(start);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start == end {
        // An error at the end of the text: point at its last character.
        let last = text[..start].chars().next_back().map_or(0, char::len_utf8);
        return start - last..start;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps a `name @ url` target as written.
    #[derive(Debug)]
    struct Raw;

    impl std::fmt::Display for Raw {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("<url>")
        }
    }

    impl Pep508Url for Raw {
        type Err = std::convert::Infallible;
        fn parse_url(_: &str, _: Option<&std::path::Path>) -> Result<Self, Self::Err> {
            Ok(Raw)
        }
    }

    #[test]
    fn inputs_the_parser_would_panic_on_are_errors() {
        for (text, range) in [
            ("a_ ==1", 1..2),
            ("foo- x", 3..4),
            ("x[a_]", 3..4),
            ("x [ok, b.]", 8..9),
        ] {
            let failure = parse::<Raw>(text).unwrap_err();
            assert_eq!(failure.range, range, "{text}");
            assert!(
                failure.message.contains("must end with a letter or digit"),
                "{text}"
            );
        }
        assert!(parse::<Raw>("a_b[c_d] ==1").is_ok());
        // Found by the `requirements` fuzz target: pep508_rs slices inside the `é`.
        for (text, at) in [
            ("x; python_version >= \"3.8\"é", 26),
            ("x ; python_version>'1' an\u{fffd}d os_name == 'nt'", 25),
            ("x @ https://h/a;b.whl ; python_version>'1'é", 42),
        ] {
            let failure = parse::<Raw>(text).unwrap_err();
            assert_eq!(failure.range.start, at, "{text}: {failure:?}");
            assert!(failure.message.contains("unexpected character"), "{text}");
        }
        let failure = parse_marker("python_version >= '3' 7nd\"2é").unwrap_err();
        assert_eq!(failure.range, 27..29);
        let failure = parse_marker("python_version>\"\"é").unwrap_err();
        assert_eq!(failure.range, 17..19);
        assert!(parse_marker("platform_machine == 'é' and os_name == \"ü\"").is_ok());
        assert!(parse::<Raw>("x @ https://h/é.whl ; os_name == 'ü'").is_ok());
        assert!(parse::<Raw>("x @   https://h/é.whl ; os_name == 'ü'").is_ok());
        // The URL's start is measured past the spaces after `@` (found by the fuzz target).
        let failure = parse::<Raw>("x @   éé ; python_version>'1'é").unwrap_err();
        assert!(
            failure.message.contains("unexpected character"),
            "{failure:?}"
        );
        assert!(parse::<Raw>("name @ https://x/${TOKEN}/a.whl").is_ok());
    }

    #[test]
    fn parser_errors_point_at_their_text() {
        let failure = parse::<Raw>("numpy>>1").unwrap_err();
        assert!(failure.range.start >= 5, "{failure:?}");
        assert!(parse_marker("python_version >").is_err());
        assert!(parse_marker("sys_platform == 'win32'").is_ok());
    }
}
