//! A scanned file's text, with byte offsets turned into the 1-based lines and columns that
//! findings carry.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use crate::finding::Span;

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Relative to the scanned root, `/`-separated: what findings carry as `path`.
    pub rel_path: String,
    /// Where the file is on disk (for resolving includes and writing fixes).
    pub abs_path: PathBuf,
    /// The decoded text, a leading BOM removed (editors do not count it as a column).
    pub text: String,
    /// Byte offset of the start of each line; lines end at `\n`, `\r\n` or a lone `\r`.
    line_starts: Vec<usize>,
    /// Whether each line is pure ASCII, where a column is a byte offset: keeps positions O(1)
    /// on long one-line files (minified notebooks) instead of counting characters every time.
    ascii_lines: Vec<bool>,
}

impl SourceFile {
    pub fn new(rel_path: impl Into<String>, abs_path: impl Into<PathBuf>, text: String) -> Self {
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    line_starts.push(i + 2);
                    i += 1;
                }
                b'\r' => line_starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        let ascii_lines = line_starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = line_starts.get(i + 1).copied().unwrap_or(text.len());
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        SourceFile {
            rel_path: rel_path.into(),
            abs_path: abs_path.into(),
            text,
            line_starts,
            ascii_lines,
        }
    }

    /// Number of lines (a final newline does not start a new, empty line).
    pub fn line_count(&self) -> u32 {
        let n = self.line_starts.len();
        if n > 1 && self.line_starts[n - 1] == self.text.len() {
            (n - 1) as u32
        } else {
            n as u32
        }
    }

    /// 1-based line and column of byte `offset` (clamped to the text and to a char boundary).
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line_index];
        let chars = if self.ascii_lines[line_index] {
            offset - start
        } else {
            self.text[start..offset].chars().count()
        };
        let column = chars as u32 + 1;
        (line_index as u32 + 1, column)
    }

    /// The span covering byte range `range`.
    pub fn span(&self, range: Range<usize>) -> Span {
        let (line, column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end.max(range.start));
        Span {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// Byte range of line `line` (1-based), without its line ending.
    pub fn line_range(&self, line: u32) -> Option<Range<usize>> {
        if line == 0 || line > self.line_count() {
            return None;
        }
        let index = line as usize - 1;
        let start = self.line_starts[index];
        let mut end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        let bytes = self.text.as_bytes();
        if end > start && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        Some(start..end)
    }

    /// The text of line `line` (1-based), without its line ending.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.line_range(line).map(|range| &self.text[range])
    }

    /// Byte offset of 1-based `line` and `column`, if inside the text.
    pub fn offset(&self, line: u32, column: u32) -> Option<usize> {
        let range = self.line_range(line)?;
        let text = &self.text[range.clone()];
        let skip = (column as usize).checked_sub(1)?;
        match text.char_indices().nth(skip) {
            Some((i, _)) => Some(range.start + i),
            None if skip == text.chars().count() => Some(range.end),
            None => None,
        }
    }
}

/// The scanned files by relative path: what renderers and inline ignores look lines up in.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: BTreeMap<String, SourceFile>,
}

impl SourceMap {
    pub fn insert(&mut self, file: SourceFile) {
        self.files.insert(file.rel_path.clone(), file);
    }

    pub fn get(&self, rel_path: &str) -> Option<&SourceFile> {
        self.files.get(rel_path)
    }

    pub fn line(&self, rel_path: &str, line: u32) -> Option<&str> {
        self.get(rel_path)?.line(line)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_every_line_ending_and_count_chars() {
        let file = SourceFile::new("a", "a", "ab\r\ncé\rx\ny".to_string());
        assert_eq!(file.position(0), (1, 1));
        assert_eq!(file.position(4), (2, 1));
        assert_eq!(file.position(6), (2, 2)); // 'é' is 2 bytes, 1 column
        assert_eq!(file.line(2), Some("cé"));
        assert_eq!(file.line(3), Some("x"));
        assert_eq!(file.line(4), Some("y"));
        assert_eq!(file.line(5), None);
        assert_eq!(file.offset(2, 2), Some(5));
    }

    #[test]
    fn bom_is_not_a_column() {
        let file = SourceFile::new("a", "a", "\u{feff}numpy\n".to_string());
        assert_eq!(file.text, "numpy\n");
        assert_eq!(file.line_count(), 1);
        assert_eq!(file.span(0..5).end_column, 6);
    }
}
