//! Jupyter notebooks read with positions: each cell's source as a [`MappedText`] whose bytes map
//! back into the `.ipynb` file, through JSON escapes (`\"`, `\\`, `\n`, `\u00e9`, surrogate
//! pairs) and across the list of strings a source is usually split into.
//!
//! The JSON is parsed by `jsonc-parser` in strict mode (it keeps the byte range of every string
//! literal, which `serde_json` does not); literals are then decoded again here, byte by byte, to
//! keep the origin of every decoded character.

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
    let mut text = MappedText::new();
    decode_into(raw, base, &mut text)?;
    Some(text)
}

/// [`decode_string_literal`], appending to `text`. Runs without a backslash are copied whole
/// (most of a cell's source); on `None` the text holds a part.
fn decode_into(raw: &str, base: usize, text: &mut MappedText) -> Option<()> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let base = base + 1;
    let bytes = inner.as_bytes();
    text.reserve(inner.len());
    let mut i = 0;
    while i < bytes.len() {
        let run_end = memchr::memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |at| i + at);
        if run_end > i {
            text.push_verbatim(&inner[i..run_end], base + i);
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
        text.push_char(c, base + i..base + i + len);
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
    match fast::cells(&file.text) {
        Some(cells) => Ok((cells, Vec::new())),
        None => parse_cells_tree(file),
    }
}

/// [`parse_cells`] through `jsonc-parser`'s syntax tree: every notebook the fast path declines.
pub(crate) fn parse_cells_tree(
    file: &SourceFile,
) -> Result<(Vec<Cell>, Vec<NotebookError>), NotebookError> {
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
    let mut decoded = MappedText::new();
    let mut literal = |value: &Value| match value {
        Value::StringLit(lit) => decode_into(
            &text[lit.range.start..lit.range.end],
            lit.range.start,
            &mut decoded,
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
    Some(decoded)
}

/// The common case read without building a syntax tree: a well-formed nbformat 4 notebook whose
/// cells have string or list-of-strings sources. Outputs (often most of the file) are only
/// validated, never decoded. Anything else (malformed or unusual JSON, escaped keys, other
/// shapes) gives `None` and goes to the `jsonc-parser` path, which reports it; so whenever this
/// answers, the answer is that path's (`crate::fuzzing` checks that).
pub(crate) mod fast {
    use std::ops::Range;

    use super::{Cell, decode_into};
    use crate::deps::cmd_text::MappedText;

    /// Deeper nesting is left to the other path (and keeps the recursion here bounded).
    const MAX_DEPTH: u32 = 64;

    pub(crate) fn cells(text: &str) -> Option<Vec<Cell>> {
        let mut r = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        r.ws();
        r.eat(b'{')?;
        let mut cells = None;
        r.members(|r, key| {
            if key == "cells" && cells.is_none() {
                cells = Some(r.cell_list()?);
                Some(())
            } else {
                r.value(1)
            }
        })?;
        r.ws();
        (r.at == r.bytes.len()).then_some(())?;
        cells
    }

    struct Reader<'t> {
        text: &'t str,
        bytes: &'t [u8],
        at: usize,
    }

    impl<'t> Reader<'t> {
        fn ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
                self.at += 1;
            }
        }

        fn eat(&mut self, b: u8) -> Option<()> {
            (self.bytes.get(self.at) == Some(&b)).then(|| self.at += 1)
        }

        /// The members of an object whose `{` was just read, through `member(reader, key)`,
        /// which reads the value. Keys with escapes are left to the other path.
        fn members(
            &mut self,
            mut member: impl FnMut(&mut Self, &'t str) -> Option<()>,
        ) -> Option<()> {
            self.ws();
            if self.eat(b'}').is_some() {
                return Some(());
            }
            loop {
                self.ws();
                let (key, escaped) = self.string()?;
                if escaped {
                    return None;
                }
                let key = &self.text[key.start + 1..key.end - 1];
                self.ws();
                self.eat(b':')?;
                self.ws();
                member(self, key)?;
                self.ws();
                if self.eat(b',').is_none() {
                    return self.eat(b'}');
                }
            }
        }

        /// The elements of an array whose `[` was just read.
        fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
            self.ws();
            if self.eat(b']').is_some() {
                return Some(());
            }
            loop {
                self.ws();
                element(self)?;
                self.ws();
                if self.eat(b',').is_none() {
                    return self.eat(b']');
                }
            }
        }

        /// A string literal: its range, quotes included, and whether it holds an escape.
        /// Raw control characters and surrogate escapes are left to the other path.
        fn string(&mut self) -> Option<(Range<usize>, bool)> {
            let start = self.at;
            self.eat(b'"')?;
            let mut escaped = false;
            loop {
                let run = memchr::memchr2(b'"', b'\\', &self.bytes[self.at..])?;
                if self.bytes[self.at..self.at + run].iter().any(|&b| b < 0x20) {
                    return None;
                }
                self.at += run;
                if self.bytes[self.at] == b'"' {
                    self.at += 1;
                    return Some((start..self.at, escaped));
                }
                escaped = true;
                match *self.bytes.get(self.at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                    b'u' => {
                        let hex = self.text.get(self.at + 2..self.at + 6)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        if (0xD800..0xE000).contains(&code) {
                            return None;
                        }
                        self.at += 6;
                    }
                    _ => return None,
                }
            }
        }

        /// Any JSON value, validated and skipped.
        fn value(&mut self, depth: u32) -> Option<()> {
            if depth > MAX_DEPTH {
                return None;
            }
            match *self.bytes.get(self.at)? {
                b'"' => self.string().map(|_| ()),
                b'{' => {
                    self.at += 1;
                    self.members(|r, _| r.value(depth + 1))
                }
                b'[' => {
                    self.at += 1;
                    self.elements(|r| r.value(depth + 1))
                }
                b't' => self.word("true"),
                b'f' => self.word("false"),
                b'n' => self.word("null"),
                _ => self.number(),
            }
        }

        fn word(&mut self, word: &str) -> Option<()> {
            let end = self.at + word.len();
            (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        fn number(&mut self) -> Option<()> {
            let digits = |r: &mut Self| {
                let start = r.at;
                while r.bytes.get(r.at).is_some_and(u8::is_ascii_digit) {
                    r.at += 1;
                }
                (r.at > start).then_some(())
            };
            let _ = self.eat(b'-');
            if self.eat(b'0').is_none() {
                digits(self)?;
            }
            if self.eat(b'.').is_some() {
                digits(self)?;
            }
            if let Some(b'e' | b'E') = self.bytes.get(self.at) {
                self.at += 1;
                if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                    self.at += 1;
                }
                digits(self)?;
            }
            // A name character right after a number (`01`, `1x`) is malformed.
            match self.bytes.get(self.at) {
                Some(b) if b.is_ascii_alphanumeric() || *b == b'.' => None,
                _ => Some(()),
            }
        }

        /// The `cells` list, after its key.
        fn cell_list(&mut self) -> Option<Vec<Cell>> {
            self.eat(b'[')?;
            let mut cells = Vec::new();
            self.elements(|r| {
                if r.bytes.get(r.at) != Some(&b'{') {
                    // Not a cell: skipped, as the other path does.
                    return r.value(2);
                }
                r.at += 1;
                let mut cell_type: Option<String> = None;
                let mut source: Option<MappedText> = None;
                r.members(|r, key| match key {
                    "cell_type" if cell_type.is_none() => {
                        if r.bytes.get(r.at) == Some(&b'"') {
                            let (range, escaped) = r.string()?;
                            if escaped {
                                return None;
                            }
                            cell_type = Some(r.text[range.start + 1..range.end - 1].to_string());
                            Some(())
                        } else {
                            cell_type = Some(String::new());
                            r.value(3)
                        }
                    }
                    "source" if source.is_none() => {
                        source = Some(r.source()?);
                        Some(())
                    }
                    _ => r.value(3),
                })?;
                cells.push(Cell {
                    index: cells.len(),
                    cell_type: cell_type.unwrap_or_default(),
                    source: source.unwrap_or_default(),
                });
                Some(())
            })?;
            Some(cells)
        }

        /// A cell's source: a string or a list of strings (anything else is a problem the
        /// other path reports).
        fn source(&mut self) -> Option<MappedText> {
            let mut decoded = MappedText::new();
            let mut literal = |r: &mut Self| {
                let (range, _) = r.string()?;
                decode_into(&r.text[range.clone()], range.start, &mut decoded)
            };
            if self.eat(b'[').is_some() {
                self.elements(|r| literal(r))?;
            } else {
                literal(self)?;
            }
            Some(decoded)
        }
    }
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

    /// The fast reader answers exactly as the syntax-tree path, or leaves the file to it.
    #[test]
    fn fast_reader_agrees_with_the_tree_path_or_declines() {
        let notebooks = [
            // Answered by the fast reader.
            (
                r##"{"cells": [{"cell_type": "code", "source": ["import torch\n", "x = \"\u00e9\\\"\"\n"], "outputs": [{"data": {"text/plain": ["\u001b[0m 1e5", 1.5e-3, -0, true, null, false, {}, []]}}]}, {"cell_type": "markdown", "source": "# T\tit\/le"}, 7, {"source": "no type"}, {"cell_type": 3, "source": [], "cell_type": "code"}], "metadata": {}, "nbformat": 4, "cells": 5}"##,
                true,
            ),
            (r##" { "cells" : [ ] } "##, true),
            (r##"{"cells": [{"source": "a", "source": 3}]}"##, true),
            // Left to the tree path.
            (
                r##"{"cells": [{"cell_type": "code", "source": 3}]}"##,
                false,
            ),
            (
                r##"{"cells": [{"cell_type": "code", "source": ["a", 1]}]}"##,
                false,
            ),
            (
                r##"{"cells": [{"cell_\u0074ype": "code", "source": "a"}]}"##,
                false,
            ),
            (
                r##"{"cells": [{"cell_type": "c\u006fde", "source": "a"}]}"##,
                false,
            ),
            (r##"{"cells": [{"source": "\ud83d\ude00 emoji"}]}"##, false),
            ("{\"cells\": [{\"source\": \"raw\nline\"}]}", false),
            (r##"{"cells": [{"source": "a"}], "n": 01}"##, false),
            (r##"{"cells": [{"source": "a"}]} x"##, false),
            (r##"{"cells": [{"source": "a"},]}"##, false),
            (r##"{"cells": {}}"##, false),
            (r##"{"worksheets": [{"cells": [{"input": "a"}]}]}"##, false),
            (r##"[1]"##, false),
            (r##"{"cells": [{"source": "a\q"}]}"##, false),
        ];
        for (text, answered) in notebooks {
            let fast = fast::cells(text);
            assert_eq!(fast.is_some(), answered, "{text}");
            let Some(fast) = fast else { continue };
            let file = SourceFile::new("n.ipynb", "n.ipynb", text.to_string());
            let (tree, problems) = parse_cells_tree(&file).unwrap();
            assert!(problems.is_empty(), "{text}: {problems:?}");
            assert_eq!(fast.len(), tree.len(), "{text}");
            for (f, t) in fast.iter().zip(&tree) {
                assert_eq!(f.index, t.index, "{text}");
                assert_eq!(f.cell_type, t.cell_type, "{text}");
                assert_eq!(f.source, t.source, "{text}");
            }
        }
    }
}
