//! What `pyproject.toml` and `Pipfile` share: parsing TOML with spans (`toml_edit`), going on
//! past syntax errors, and finding names inside the raw text of string literals and keys.

use std::ops::Range;

use toml_edit::{Document, Item, Key, TableLike, Value};

use super::manifest_pep508::{is_valid_name, push_requirement, shorten};
use super::manifest_text::DecodedStr;
use super::{DeclaredDep, Extracted};
use crate::finding::{Finding, Span};
use crate::rules;
use crate::source::SourceFile;

/// How many lines may be blanked to get past syntax errors before the file is given up.
const MAX_SYNTAX_ERRORS: usize = 10;

/// Parses `file` as TOML. On a syntax error the line holding it is blanked (same byte length,
/// so every span stays true) and the parse retried, so that one typo does not hide every
/// other declaration in the file. The first error becomes one `parse-error` naming its place
/// (later ones may be echoes of the blanking). `None` when no parse succeeded.
pub fn parse(file: &SourceFile, out: &mut Extracted) -> Option<Document<String>> {
    let mut text = file.text.clone();
    let mut blanked: Vec<u32> = Vec::new();
    // Only the first error is the author's for sure: later ones may come from the blanking.
    let mut first_error: Option<(Range<usize>, String)> = None;
    let mut doc = None;
    for _ in 0..MAX_SYNTAX_ERRORS {
        let err = match Document::parse(text.clone()) {
            Ok(parsed) => {
                doc = Some(parsed);
                break;
            }
            Err(err) => err,
        };
        let mut range = err.span().unwrap_or(0..0);
        // An error at the end of a CRLF line points between `\r` and `\n`: report it where
        // the same error in the LF file is, after the line's last character.
        let bytes = text.as_bytes();
        if range.start > 0
            && bytes.get(range.start) == Some(&b'\n')
            && bytes[range.start - 1] == b'\r'
        {
            range = range.start - 1..range.end.max(range.start) - 1;
        }
        let (line, _) = file.position(range.start);
        first_error.get_or_insert_with(|| (range, err.message().trim().replace('\n', " ")));
        let Some(line_range) = file.line_range(line).filter(|_| !blanked.contains(&line)) else {
            break;
        };
        // Every byte becomes a space: ASCII, so the text stays valid UTF-8.
        let blank = " ".repeat(line_range.len());
        text.replace_range(line_range, &blank);
        blanked.push(line);
    }
    if let Some((range, message)) = first_error {
        let rest = if doc.is_some() {
            "declarations near this error were not read; the rest of the file was"
        } else {
            "nothing in the file could be read"
        };
        out.findings.push(Finding::at(
            &rules::PARSE_ERROR,
            file,
            file.span(range),
            file.rel_path.clone(),
            format!("invalid TOML: {message}; {rest}"),
        ));
    }
    doc
}

/// The table-like item `key` of `table`, if present and a table.
pub fn table<'a>(table: &'a dyn TableLike, key: &str) -> Option<&'a dyn TableLike> {
    table.get(key)?.as_table_like()
}

/// Follows a dotted path of tables (`["tool", "poetry", "group"]`).
pub fn table_path<'a>(root: &'a dyn TableLike, path: &[&str]) -> Option<&'a dyn TableLike> {
    path.iter().try_fold(root, |t, key| table(t, key))
}

/// Reads `item` as an array of PEP 508 requirement strings and records each one's name.
/// Entries `skip` returns true for are passed over silently.
pub fn requirement_array(
    out: &mut Extracted,
    file: &SourceFile,
    item: &Item,
    place: &str,
    skip: &dyn Fn(&Value) -> bool,
) {
    let Some(array) = item.as_array() else {
        out.findings.push(wrong_type(
            file,
            item_span(file, item),
            place,
            "an array of requirement strings",
        ));
        return;
    };
    for value in array.iter() {
        if skip(value) {
            continue;
        }
        let Some(raw) = value.span() else { continue };
        match value {
            Value::String(_) => {
                if let Some(decoded) = decode_string(&file.text[raw.clone()], raw.start) {
                    push_requirement(out, file, &decoded, raw, place);
                }
            }
            _ => out.findings.push(wrong_type(
                file,
                file.span(raw),
                place,
                "a requirement string",
            )),
        }
    }
}

/// Records every key of `deps` as a package name (Poetry and Pipfile tables), except those
/// `skip` returns true for.
pub fn key_names(
    out: &mut Extracted,
    file: &SourceFile,
    deps: &dyn TableLike,
    place: &str,
    skip: &dyn Fn(&str) -> bool,
) {
    for (name, _) in deps.iter() {
        if skip(name) {
            continue;
        }
        let Some((key, _)) = deps.get_key_value(name) else {
            continue;
        };
        let Some((decoded, raw)) = decode_key(file, key) else {
            continue;
        };
        if name.is_ascii() && !is_valid_name(name) {
            let shown = shorten(name, 80);
            out.findings.push(Finding::at(
                &rules::PARSE_ERROR,
                file,
                file.span(raw),
                shown.clone(),
                format!("{place}: \"{shown}\" is not a valid package name"),
            ));
            continue;
        }
        if let Some(name_raw) = decoded.raw_range(0..decoded.value.len()) {
            out.deps.push(DeclaredDep {
                name: decoded.value,
                span: file.span(name_raw),
            });
        }
    }
}

/// A `parse-error`: `place` holds something other than `expected`.
pub fn wrong_type(file: &SourceFile, span: Span, place: &str, expected: &str) -> Finding {
    Finding::at(
        &rules::PARSE_ERROR,
        file,
        span,
        file.rel_path.clone(),
        format!("{place}: expected {expected}; this entry was not read"),
    )
}

/// Where `item` is written (its first line when toml_edit kept no span).
pub fn item_span(file: &SourceFile, item: &Item) -> Span {
    item.span()
        .map_or_else(|| Span::line_start(1), |range| file.span(range))
}

/// A key's value and where each byte of it is written. Quoted keys are decoded like strings.
fn decode_key(file: &SourceFile, key: &Key) -> Option<(DecodedStr, Range<usize>)> {
    let raw = key.span()?;
    let text = file.text.get(raw.clone())?;
    let decoded = if text.starts_with(['"', '\'']) {
        decode_string(text, raw.start)?
    } else {
        let mut decoded = DecodedStr::new();
        decoded.push_verbatim(text, raw.start);
        decoded
    };
    Some((decoded, raw))
}

/// Decodes the TOML string literal `raw` (quotes included) written at byte `offset`:
/// basic `"..."`, literal `'...'` and their multi-line `"""`/`'''` forms. The text was already
/// accepted by toml_edit, so this is lenient; `None` if `raw` is not a string literal at all.
pub fn decode_string(raw: &str, offset: usize) -> Option<DecodedStr> {
    let (quote, basic) = if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with("'''") {
        ("'''", false)
    } else if raw.starts_with('"') {
        ("\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else {
        return None;
    };
    if raw.len() < 2 * quote.len() || !raw.ends_with(quote) {
        return None;
    }
    let mut start = quote.len();
    let end = raw.len() - quote.len();
    if quote.len() == 3 {
        // A newline right after the opening delimiter is trimmed.
        if raw[start..end].starts_with("\r\n") {
            start += 2;
        } else if raw[start..end].starts_with('\n') {
            start += 1;
        }
    }
    let body = &raw[start..end];
    let base = offset + start;
    let mut out = DecodedStr::new();
    if !basic {
        out.push_verbatim(body, base);
        return Some(out);
    }
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c, base + i..base + i + c.len_utf8());
            continue;
        }
        let Some(&(_, e)) = chars.peek() else { break };
        let simple = match e {
            'b' => Some('\u{8}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(value) = simple {
            chars.next();
            out.push(value, base + i..base + i + 2);
            continue;
        }
        let digits = match e {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if digits > 0 {
            chars.next();
            let hex_start = i + 2;
            let hex_end = (hex_start + digits).min(body.len());
            let value = body
                .get(hex_start..hex_end)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            while chars.peek().is_some_and(|&(j, _)| j < hex_end) {
                chars.next();
            }
            out.push(value, base + i..base + hex_end);
            continue;
        }
        // Line-ending backslash (multi-line strings): drop whitespace and newlines up to the
        // next other character.
        if e.is_whitespace() {
            while chars.peek().is_some_and(|&(_, w)| w.is_whitespace()) {
                chars.next();
            }
            continue;
        }
        // Not a TOML escape (toml_edit would have refused it): keep the backslash.
        out.push('\\', base + i..base + i + 1);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> (String, Option<Range<usize>>) {
        let d = decode_string(raw, 100).expect("a string literal");
        let all = d.raw_range(0..d.value.len());
        (d.value, all)
    }

    #[test]
    fn decodes_every_string_form_with_origins() {
        assert_eq!(decode(r#""numpy""#), ("numpy".into(), Some(101..106)));
        assert_eq!(decode("'numpy'"), ("numpy".into(), Some(101..106)));
        assert_eq!(decode(r#""\u006eumpy""#), ("numpy".into(), Some(101..111)));
        assert_eq!(decode(r#""a\"b""#), ("a\"b".into(), Some(101..105)));
        assert_eq!(
            decode("\"\"\"\nnumpy\"\"\""),
            ("numpy".into(), Some(104..109))
        );
        assert_eq!(decode("'''\r\nnumpy'''"), ("numpy".into(), Some(105..110)));
        assert_eq!(
            decode("\"\"\"num\\\n   py\"\"\""),
            ("numpy".into(), Some(103..113))
        );
        assert_eq!(decode(r"'C:\path'"), (r"C:\path".into(), Some(101..108)));
        assert_eq!(decode(r#""""#), (String::new(), None));
        assert!(decode_string("numpy", 0).is_none());
    }

    #[test]
    fn escaped_chars_map_to_their_escape() {
        let d = decode_string(r#""nump\u0443>=1""#, 0).unwrap();
        assert_eq!(d.value, "nump\u{443}>=1");
        // The Cyrillic letter (2 bytes in the value) came from the 6-byte escape.
        assert_eq!(d.raw_range(0..6), Some(1..11));
    }

    #[test]
    fn recovers_after_a_syntax_error_and_reports_its_line() {
        let text = "[project]\nname = \"x\"\nbroken line\ndependencies = [\"numpy\"]\n";
        let file = SourceFile::new("pyproject.toml", "pyproject.toml", text.to_string());
        let mut out = Extracted::default();
        let doc = parse(&file, &mut out).expect("recovered");
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].rule, "parse-error");
        assert_eq!(out.findings[0].line, 3);
        let project = doc.as_table().get("project").unwrap();
        assert!(project.get("dependencies").is_some());
    }
}
