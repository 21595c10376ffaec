//! Jupyter notebooks read with positions: each cell's source as a [`MappedText`] whose bytes map
//! back into the `.ipynb` file, through JSON escapes (`\"`, `\\`, `\n`, `\u00e9`, surrogate
//! pairs) and across the list of strings a source is usually split into.
//!
//! The JSON is parsed by `jsonc-parser` in strict mode (it keeps the byte range of every string
//! literal, which `serde_json` does not); literals are then decoded again here, byte by byte, to
//! keep the origin of every decoded character.

use std::ops::Range;

use jsonc_parser::ParseOptions;
use jsonc_parser::ast::{Object, Value};

use crate::deps::cmd_text::MappedText;
use crate::finding::Span;
use crate::source::SourceFile;

/// jsonc-parser options for plain JSON: no comments, trailing commas, single quotes, ...
pub fn strict_json() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Decodes the JSON string literal `raw` (quotes included), found at byte `base`; each decoded
/// character maps to the bytes of its escape or of itself. `None` if `raw` is not a literal.
pub fn decode_string_literal(raw: &str, base: usize) -> Option<MappedText> {
    let mut text = String::new();
    let mut origin = Vec::new();
    decode_into(raw, base, &mut text, &mut origin)?;
    Some(MappedText::from_parts(text, origin))
}

/// [`decode_string_literal`], appending to `text` and its per-byte `origin`. Runs without a
/// backslash are copied whole (most of a cell's source); on `None` the buffers hold a part.
fn decode_into(
    raw: &str,
    base: usize,
    text: &mut String,
    origin: &mut Vec<Range<usize>>,
) -> Option<()> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let base = base + 1;
    let bytes = inner.as_bytes();
    text.reserve(inner.len());
    origin.reserve(inner.len());
    let mut i = 0;
    while i < bytes.len() {
        let run_end = memchr::memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |at| i + at);
        if run_end > i {
            let run = &inner[i..run_end];
            text.push_str(run);
            // Every byte of a multi-byte character carries the whole character's range.
            for (at, c) in run.char_indices() {
                let start = base + i + at;
                let range = start..start + c.len_utf8();
                origin.extend(std::iter::repeat_n(range, c.len_utf8()));
            }
            i = run_end;
            continue;
        }
        let (c, len) = match *bytes.get(i + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let hex = |at: usize| {
                    inner
                        .get(at..at + 4)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let high = hex(i + 2)?;
                if (0xD800..0xDC00).contains(&high) && inner.get(i + 6..i + 8) == Some("\\u") {
                    let low = hex(i + 8)?;
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?);
                    (char::from_u32(code)?, 12)
                } else {
                    // A lone surrogate cannot be a char: keep a replacement so offsets still line up.
                    (char::from_u32(high).unwrap_or('\u{fffd}'), 6)
                }
            }
            _ => return None,
        };
        text.push(c);
        let range = base + i..base + i + len;
        origin.extend(std::iter::repeat_n(range, c.len_utf8()));
        i += len;
    }
    Some(())
}

/// One notebook cell.
#[derive(Clone, Debug)]
pub struct Cell {
    /// 0-based position among the notebook's cells.
    pub index: usize,
    /// `code`, `markdown`, `raw`, ...
    pub cell_type: String,
    /// The cell's source, mapped back into the `.ipynb` file.
    pub source: MappedText,
}

/// A problem with the notebook file itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotebookError {
    pub message: String,
    pub span: Span,
}

/// The cells of the notebook in `file` (nbformat 4 `cells`, or nbformat 3 `worksheets[].cells`
/// with `input`), plus problems with cells that had to be skipped. Malformed JSON is an `Err`.
pub fn parse_cells(file: &SourceFile) -> Result<(Vec<Cell>, Vec<NotebookError>), NotebookError> {
    let text = file.text.as_str();
    let parsed =
        jsonc_parser::parse_to_ast(text, &Default::default(), &strict_json()).map_err(|error| {
            NotebookError {
                message: format!("malformed notebook JSON: {}", error.kind()),
                span: file.span(error.range().start..error.range().end),
            }
        })?;
    let Some(Value::Object(root)) = parsed.value else {
        return Err(NotebookError {
            message: "not a Jupyter notebook: the top level is not a JSON object".into(),
            span: Span::line_start(1),
        });
    };
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    let mut read = |list: &Value, source_key: &str| {
        let Value::Array(array) = list else {
            problems.push(NotebookError {
                message: "`cells` is not a list".into(),
                span: file.span(list_range(list)),
            });
            return;
        };
        for element in &array.elements {
            let Value::Object(cell) = element else {
                continue;
            };
            let index = cells.len();
            let cell_type = match get(cell, "cell_type") {
                Some(Value::StringLit(s)) => s.value.to_string(),
                _ => String::new(),
            };
            let source = match get(cell, source_key) {
                Some(value) => match source_text(text, value) {
                    Some(source) => source,
                    None => {
                        problems.push(NotebookError {
                            message: format!(
                                "cell {} has a `{source_key}` that is neither a string nor a list of strings",
                                index + 1
                            ),
                            span: file.span(list_range(value)),
                        });
                        MappedText::new()
                    }
                },
                None => MappedText::new(),
            };
            cells.push(Cell {
                index,
                cell_type,
                source,
            });
        }
    };
    if let Some(list) = get(&root, "cells") {
        read(list, "source");
    } else if let Some(Value::Array(sheets)) = get(&root, "worksheets") {
        for sheet in &sheets.elements {
            if let Value::Object(sheet) = sheet
                && let Some(list) = get(sheet, "cells")
            {
                read(list, "input");
            }
        }
    } else {
        return Err(NotebookError {
            message: "not a Jupyter notebook: no `cells` list".into(),
            span: file.span(root.range.start..root.range.start + 1),
        });
    }
    Ok((cells, problems))
}

fn get<'a, 'b>(object: &'b Object<'a>, key: &str) -> Option<&'b Value<'a>> {
    object
        .properties
        .iter()
        .find(|p| p.name.as_str() == key)
        .map(|p| &p.value)
}

fn list_range(value: &Value) -> std::ops::Range<usize> {
    use jsonc_parser::common::Ranged;
    let range = value.range();
    range.start..range.end
}

/// A cell source: one string, or a list of strings to concatenate (decoded into one buffer).
fn source_text(text: &str, value: &Value) -> Option<MappedText> {
    let mut decoded = String::new();
    let mut origin = Vec::new();
    let mut literal = |value: &Value| match value {
        Value::StringLit(lit) => decode_into(
            &text[lit.range.start..lit.range.end],
            lit.range.start,
            &mut decoded,
            &mut origin,
        ),
        _ => None,
    };
    match value {
        Value::StringLit(_) => literal(value)?,
        Value::Array(array) => {
            for element in &array.elements {
                literal(element)?;
            }
        }
        _ => return None,
    }
    Some(MappedText::from_parts(decoded, origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_with_their_origins() {
        let raw = r#""a\"b\\c\u00e9\ud83d\ude00\n""#;
        let decoded = decode_string_literal(raw, 10).unwrap();
        assert_eq!(decoded.as_str(), "a\"b\\cé😀\n");
        assert_eq!(decoded.origin(0..1), Some(11..12));
        assert_eq!(decoded.origin(1..2), Some(12..14));
        let e = decoded.as_str().find('é').unwrap();
        assert_eq!(decoded.origin(e..e + 2), Some(18..24));
        let smile = decoded.as_str().find('😀').unwrap();
        assert_eq!(decoded.origin(smile..smile + 4), Some(24..36));
        assert!(decode_string_literal(r#""bad\q""#, 0).is_none());
        assert!(decode_string_literal("nope", 0).is_none());
    }

    #[test]
    fn malformed_json_names_the_line() {
        let file = SourceFile::new(
            "n.ipynb",
            "n.ipynb",
            "{\n \"cells\": [\n  {,}\n ]\n}\n".into(),
        );
        let error = parse_cells(&file).unwrap_err();
        assert_eq!(error.span.line, 3);
        assert!(error.message.contains("malformed"), "{}", error.message);
    }
}
