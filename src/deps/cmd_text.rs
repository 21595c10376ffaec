//! Text assembled from pieces of a file (joined continuation lines, unescaped JSON strings,
//! expanded make variables) in which every byte still knows where in the file it came from.
//!
//! Extractors build a [`MappedText`] for each logical command line, parse it, and turn the byte
//! range of a package name back into the exact line and column of the scanned file.

use std::ops::Range;

use crate::finding::Span;
use crate::source::SourceFile;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappedText {
    text: String,
    /// One entry per byte of `text`: the file byte range that byte was read from. Every byte of a
    /// multi-byte character carries the whole character's range, and an unescaped character
    /// (`\u00e9` in JSON) carries the range of its whole escape.
    origin: Vec<Range<usize>>,
}

impl MappedText {
    pub fn new() -> MappedText {
        MappedText::default()
    }

    /// `range` of `file_text`, each byte mapped to itself.
    pub fn verbatim(file_text: &str, range: Range<usize>) -> MappedText {
        let mut out = MappedText::new();
        out.push_verbatim(&file_text[range.clone()], range.start);
        out
    }

    /// Builds from decoded text and its per-byte origins (which must have one entry per byte).
    pub fn from_parts(text: String, origin: Vec<Range<usize>>) -> MappedText {
        debug_assert_eq!(text.len(), origin.len());
        MappedText { text, origin }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends `s`, which is found in the file at `file_start`.
    pub fn push_verbatim(&mut self, s: &str, file_start: usize) {
        for (i, c) in s.char_indices() {
            let start = file_start + i;
            self.push_char(c, start..start + c.len_utf8());
        }
    }

    /// Appends `c`, read from file bytes `origin`.
    pub fn push_char(&mut self, c: char, origin: Range<usize>) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.origin.push(origin.clone());
        }
    }

    /// Appends bytes `range` of `other`, keeping their origins.
    pub fn push_mapped(&mut self, other: &MappedText, range: Range<usize>) {
        self.text.push_str(&other.text[range.clone()]);
        self.origin.extend_from_slice(&other.origin[range]);
    }

    /// Bytes `range` of this text, as a text of its own.
    pub fn slice(&self, range: Range<usize>) -> MappedText {
        MappedText {
            text: self.text[range.clone()].to_string(),
            origin: self.origin[range].to_vec(),
        }
    }

    /// The file bytes that text bytes `range` came from (`None` for an empty or bad range).
    pub fn origin(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.start >= range.end || range.end > self.origin.len() {
            return None;
        }
        let first = &self.origin[range.start];
        let last = &self.origin[range.end - 1];
        Some(first.start.min(last.start)..first.end.max(last.end))
    }

    /// The file origin of one text byte.
    pub fn origin_of(&self, index: usize) -> Option<Range<usize>> {
        self.origin.get(index).cloned()
    }

    /// Where text bytes `range` are in `file`; an empty range points just after the byte before it.
    pub fn span(&self, file: &SourceFile, range: Range<usize>) -> Span {
        match self.origin(range.clone()) {
            Some(origin) => file.span(origin),
            None => {
                let at = range
                    .start
                    .checked_sub(1)
                    .and_then(|i| self.origin.get(i))
                    .map(|r| r.end)
                    .or_else(|| self.origin.first().map(|r| r.start))
                    .unwrap_or(0);
                file.span(at..at)
            }
        }
    }

    /// Maps this text through `outer`: treats this text's origins as byte offsets into `outer`'s
    /// text and replaces them by `outer`'s file origins (used for strings decoded from a
    /// [`MappedText`] rather than from the file directly).
    pub fn through(mut self, outer: &MappedText) -> MappedText {
        for range in &mut self.origin {
            if let Some(mapped) = outer.origin(range.clone()) {
                *range = mapped;
            }
        }
        self
    }

    /// The lines of this text (split at `\n`, `\r\n` and a lone `\r`), without their endings.
    pub fn lines(&self) -> Vec<MappedText> {
        line_ranges(&self.text).map(|r| self.slice(r)).collect()
    }

    /// Without leading and trailing ASCII whitespace.
    pub fn trim(&self) -> MappedText {
        let start = self.text.len() - self.text.trim_start().len();
        let end = self.text.trim_end().len().max(start);
        self.slice(start..end)
    }
}

/// The byte ranges of `text`'s lines, without their endings: lines end at `\n`, `\r\n` or a
/// lone `\r`, and a last line without an ending counts when it is not empty.
pub fn line_ranges(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            i += 1;
            match bytes[at] {
                b'\n' => {}
                b'\r' => {
                    if bytes.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                _ => continue,
            }
            let line = start..at;
            start = i;
            return Some(line);
        }
        if start < bytes.len() {
            let line = start..bytes.len();
            start = bytes.len();
            return Some(line);
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_pieces_map_back_to_their_lines() {
        let text = "pip install \\\n    numpy\n";
        let file = SourceFile::new("a.sh", "a.sh", text.to_string());
        let mut joined = MappedText::verbatim(text, 0..12);
        joined.push_verbatim(&text[14..23], 14);
        assert_eq!(joined.as_str(), "pip install     numpy");
        let at = joined.as_str().find("numpy").unwrap();
        let span = joined.span(&file, at..at + 5);
        assert_eq!((span.line, span.column, span.end_column), (2, 5, 10));
    }

    #[test]
    fn an_escaped_char_covers_its_whole_escape() {
        let file = SourceFile::new("a", "a", "x\\u00e9y".to_string());
        let mut t = MappedText::new();
        t.push_char('x', 0..1);
        t.push_char('é', 1..7);
        t.push_char('y', 7..8);
        assert_eq!(t.origin(1..3), Some(1..7));
        assert_eq!(t.span(&file, 0..4).end_column, 9);
        assert_eq!(t.lines().len(), 1);
    }

    #[test]
    fn lines_split_on_every_ending() {
        let text = "a\r\nb\rc\nd";
        let t = MappedText::verbatim(text, 0..text.len());
        let lines: Vec<String> = t.lines().iter().map(|l| l.as_str().to_string()).collect();
        assert_eq!(lines, ["a", "b", "c", "d"]);
        assert_eq!(t.lines()[3].origin(0..1), Some(7..8));
    }

    #[test]
    fn line_ranges_keep_empty_lines_and_no_phantom_last_line() {
        let ranges: Vec<_> = line_ranges("\n\r\nx\r\r").collect();
        assert_eq!(ranges, [0..0, 1..1, 3..4, 5..5]);
        assert_eq!(line_ranges("").count(), 0);
        assert_eq!(line_ranges("a\nbc").collect::<Vec<_>>(), [0..1, 2..4]);
    }
}
