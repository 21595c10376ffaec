//! `pep508_rs`, made safe for untrusted text: every PEP 508 parse of scanned files, index
//! metadata and command lines goes through here.
//!
//! `pep508_rs` 0.9 panics (an `expect`) on a name or extra that ends in `.`, `-` or `_` and is
//! followed by more text (`a_ ==1`, `x[a_]`). Such input is answered before the parser sees it —
//! a panic would also print its message on the user's terminal — and so does a non-ASCII
//! character outside the quoted values of a marker (`python_version >= "3.8"é`: the parser
//! measures the word after an expression in characters and slices it in bytes). Any other panic
//! of the parser is caught and becomes an error, so a hostile file cannot crash a scan.
//!
//! Nor may its cost be the input's to choose. The parser looks past every whitespace character
//! of a `name @ url` to the end of the whitespace run (quadratic in the run), so runs inside a URL
//! are shortened to one character before it reads them and the URL is read from the text as
//! written. Its marker algebra grows with the product of a marker's comparisons (exponentially
//! with `extra` and `in` comparisons) and it recurses once per parenthesis, so a marker past
//! [`MAX_MARKER_COMPARISONS`], [`MAX_MARKER_VARIABLES`] or [`MAX_MARKER_NESTING`] is an error.

use std::ops::Range;
use std::str::FromStr;

use pep508_rs::marker::MarkerTree;
use pep508_rs::{Pep508Error, Pep508Url, Requirement, VersionOrUrl};

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
        marker_ascii_guard(&text[marker..], marker)
    }) {
        return Err(failure);
    }
    if let Some(marker_start) = text.find(';')
        && let Some(failure) = marker_guard(text, marker_start)
    {
        return Err(failure);
    }
    if let Some(url) = url_range(text)
        && has_whitespace_run(&text[url.clone()])
    {
        return parse_shortened_url(text, url);
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
    if let Some(failure) = marker_ascii_guard(text, 0).or_else(|| marker_guard(text, 0)) {
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

/// Most comparisons a marker may hold (counted by its `and`/`or` words).
pub const MAX_MARKER_COMPARISONS: usize = 64;
/// Most comparisons on `extra`, or with `in`/`not in`, a marker may hold: each is a variable of
/// its own in the parser's decision diagram.
pub const MAX_MARKER_VARIABLES: usize = 16;
/// Deepest nesting of parentheses in a marker.
pub const MAX_MARKER_NESTING: usize = 16;

/// A marker (the text from `start` on) beyond the bounds above. Words and parentheses are
/// counted everywhere, quoted values included: an over-count only refuses absurd markers.
fn marker_guard(text: &str, start: usize) -> Option<Failure> {
    let bytes = text.as_bytes();
    let (mut depth, mut operators, mut variables) = (0usize, 0usize, 0usize);
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'(' {
            depth += 1;
            if depth > MAX_MARKER_NESTING {
                return Some(Failure {
                    message: format!(
                        "a marker may nest parentheses at most {MAX_MARKER_NESTING} deep"
                    ),
                    range: i..i + 1,
                });
            }
        } else if b == b')' {
            depth = depth.saturating_sub(1);
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .map_or(bytes.len(), |n| i + n);
            match &text[i..end] {
                "and" | "or" => operators += 1,
                "extra" | "in" => variables += 1,
                _ => {}
            }
            if operators >= MAX_MARKER_COMPARISONS {
                return Some(Failure {
                    message: format!(
                        "a marker may hold at most {MAX_MARKER_COMPARISONS} comparisons"
                    ),
                    range: i..end,
                });
            }
            if variables > MAX_MARKER_VARIABLES {
                return Some(Failure {
                    message: format!(
                        "a marker may compare `extra`, or use `in`, at most \
                         {MAX_MARKER_VARIABLES} times"
                    ),
                    range: i..end,
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    None
}

/// The URL of a `name [extras] @ url` requirement, where `pep508_rs` reads it: from the first
/// non-space after `@` to a line break, to a whitespace run followed by the end, `;` or `#`, or
/// through a `;` or `#` followed by whitespace.
fn url_range(text: &str) -> Option<Range<usize>> {
    let skip_space = |i: usize| {
        text[i..]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(text.len(), |(n, _)| i + n)
    };
    let bytes = text.as_bytes();
    let mut i = skip_space(0);
    i += bytes[i..].iter().take_while(|b| is_name_byte(**b)).count();
    i = skip_space(i);
    if bytes.get(i) == Some(&b'[') {
        i += text[i..].find(']')? + 1;
        i = skip_space(i);
    }
    if bytes.get(i) != Some(&b'@') {
        return None;
    }
    let start = skip_space(i + 1);
    let mut end = start;
    let chars = text[start..].char_indices().map(|(n, c)| (start + n, c));
    // Where the whitespace run holding the current character ends, once looked up.
    let mut run_end = 0;
    for (at, c) in chars {
        if matches!(c, '\r' | '\n') {
            break;
        }
        if c.is_whitespace() {
            if at >= run_end {
                run_end = skip_space(at);
            }
            if matches!(text[run_end..].chars().next(), None | Some(';' | '#')) {
                break;
            }
        }
        end = at + c.len_utf8();
        if matches!(c, ';' | '#') && text[end..].chars().next().is_some_and(char::is_whitespace) {
            break;
        }
    }
    Some(start..end)
}

/// Whether `text` holds two whitespace characters in a row.
fn has_whitespace_run(text: &str) -> bool {
    let mut previous = false;
    text.chars().any(|c| {
        let run = previous && c.is_whitespace();
        previous = c.is_whitespace();
        run
    })
}

/// [`parse`] of a requirement whose URL (`url` of `text`) holds whitespace runs: the parser reads
/// the text with each run shortened to its first character, which ends the URL at the same place,
/// and the URL is then read from `text` as written.
fn parse_shortened_url<U: Pep508Url>(
    text: &str,
    url: Range<usize>,
) -> Result<Requirement<U>, Failure> {
    let mut shortened = String::with_capacity(text.len());
    shortened.push_str(&text[..url.start]);
    // The offset in `text` of each kept byte of the URL.
    let mut kept_at = Vec::new();
    let mut previous = false;
    for (at, c) in text[url.clone()].char_indices() {
        if !(previous && c.is_whitespace()) {
            shortened.push(c);
            kept_at.extend((0..c.len_utf8()).map(|n| url.start + at + n));
        }
        previous = c.is_whitespace();
    }
    let shortened_end = shortened.len();
    shortened.push_str(&text[url.end..]);
    let removed = url.end - shortened_end;
    let url_failure = |err: U::Err| Failure {
        message: err.to_string(),
        range: url.clone(),
    };
    let parsed = std::panic::catch_unwind(|| Requirement::<Verbatim>::from_str(&shortened));
    match parsed {
        Ok(Ok(requirement)) => {
            let version_or_url = match requirement.version_or_url {
                Some(VersionOrUrl::Url(_)) => Some(VersionOrUrl::Url(
                    U::parse_url(&text[url.clone()], None).map_err(url_failure)?,
                )),
                Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                    Some(VersionOrUrl::VersionSpecifier(specifiers))
                }
                None => None,
            };
            Ok(Requirement {
                name: requirement.name,
                extras: requirement.extras,
                version_or_url,
                marker: requirement.marker,
                origin: requirement.origin,
            })
        }
        Ok(Err(err)) => {
            // The parser reads the URL before what follows it: its error comes first.
            U::parse_url(&text[url.clone()], None).map_err(url_failure)?;
            let range = error_range(&err, &shortened);
            let back = |at: usize| match at {
                at if at <= url.start => at,
                at if at >= shortened_end => at + removed,
                at => kept_at[at - url.start],
            };
            Err(Failure {
                message: err.message.to_string(),
                range: back(range.start)..back(range.end).max(back(range.start)),
            })
        }
        Err(_) => Err(Failure {
            message: "the PEP 508 parser failed on this requirement".to_string(),
            range: 0..text.len(),
        }),
    }
}

/// A URL kept as written (the parser checks how it ends), for [`parse_shortened_url`]'s first
/// read.
#[derive(Debug)]
struct Verbatim(String);

impl std::fmt::Display for Verbatim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Pep508Url for Verbatim {
    type Err = std::convert::Infallible;
    fn parse_url(url: &str, _: Option<&std::path::Path>) -> Result<Self, Self::Err> {
        Ok(Verbatim(url.to_string()))
    }
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
fn marker_ascii_guard(marker: &str, base: usize) -> Option<Failure> {
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
    fn shortened_whitespace_runs_give_what_the_parser_gives() {
        for text in [
            "p @ x  y",
            "p @ x \t y ; python_version > '3'",
            "p @ x  y;",
            "p @ x  y; os_name == 'a'",
            "p @ x  y  #c",
            "p @ x  y\u{3000}\u{3000}z",
            "p @ x  \n  y",
            "p [a] @  x  y  z",
            "p @ x  y extra",
            "p @ x  y ; python_version >",
            "p @ x  y ; python_version > '3' z",
            "p@x  y  ",
        ] {
            let url = url_range(text).unwrap_or_else(|| panic!("{text:?}"));
            assert!(has_whitespace_run(&text[url.clone()]), "{text:?} {url:?}");
            let direct = Requirement::<Verbatim>::from_str(text).map_err(|err| Failure {
                message: err.message.to_string(),
                range: error_range(&err, text),
            });
            let shortened = parse_shortened_url::<Verbatim>(text, url);
            assert_eq!(format!("{direct:?}"), format!("{shortened:?}"), "{text:?}");
        }
        assert_eq!(url_range("p @ x   ; m"), Some(4..5));
        assert_eq!(url_range("p ==1"), None);
    }

    #[test]
    fn long_or_deep_markers_are_errors() {
        let or_chain = (0..65)
            .map(|i| format!("python_version > '3.{i}'"))
            .collect::<Vec<_>>()
            .join(" or ");
        let pairs = (0..9)
            .map(|i| format!("(extra == 'a{i}' and extra == 'b{i}')"))
            .collect::<Vec<_>>()
            .join(" or ");
        let deep = format!("{}os_name == 'a'{}", "(".repeat(17), ")".repeat(17));
        for (marker, message) in [
            (or_chain, "at most 64 comparisons"),
            (pairs, "at most 16 times"),
            (deep, "at most 16 deep"),
        ] {
            let failure = parse_marker(&marker).unwrap_err();
            assert!(failure.message.contains(message), "{failure:?}");
            let failure = parse::<Raw>(&format!("a ; {marker}")).unwrap_err();
            assert!(failure.message.contains(message), "{failure:?}");
        }
        let fine = (0..64)
            .map(|i| format!("python_version > '3.{i}'"))
            .collect::<Vec<_>>()
            .join(" or ");
        assert!(parse_marker(&fine).is_ok());
    }

    #[test]
    fn parser_errors_point_at_their_text() {
        let failure = parse::<Raw>("numpy>>1").unwrap_err();
        assert!(failure.range.start >= 5, "{failure:?}");
        assert!(parse_marker("python_version >").is_err());
        assert!(parse_marker("sys_platform == 'win32'").is_ok());
    }
}
