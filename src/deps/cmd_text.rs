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
    /// Where the bytes of `text` came from, as runs in text order: a run starts at a text byte
    /// and lasts until the next one. A run per piece rather than a range per byte keeps a long
    /// text (a notebook cell, a file's worth of lines) near the size of the text itself.
    runs: Vec<Run>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    /// The text byte the run starts at.
    at: usize,
    from: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// Copied from the file starting at this byte: text byte `at + k` is file byte `start + k`,
    /// and every byte of a multi-byte character carries the whole character's range.
    Verbatim(usize),
    /// Every byte of the run carries this file range (an unescaped character such as `\u00e9` in
    /// JSON carries the range of its whole escape).
    Decoded(Range<usize>),
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

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Room for `additional` more bytes of text.
    pub fn reserve(&mut self, additional: usize) {
        self.text.reserve(additional);
    }

    /// Appends `s`, which is found in the file at `file_start`.
    pub fn push_verbatim(&mut self, s: &str, file_start: usize) {
        let at = self.text.len();
        self.text.push_str(s);
        if !s.is_empty() {
            self.push_run(at, Origin::Verbatim(file_start));
        }
    }

    /// Appends `c`, read from file bytes `origin`.
    pub fn push_char(&mut self, c: char, origin: Range<usize>) {
        let at = self.text.len();
        self.text.push(c);
        // A character read as itself is verbatim, so that it joins the run before it.
        let from = if origin.len() == c.len_utf8() {
            Origin::Verbatim(origin.start)
        } else {
            Origin::Decoded(origin)
        };
        self.push_run(at, from);
    }

    /// Starts a run at text byte `at`, or extends the last one when it continues it.
    fn push_run(&mut self, at: usize, from: Origin) {
        if let (Some(last), Origin::Verbatim(start)) = (self.runs.last(), &from)
            && let Origin::Verbatim(last_start) = last.from
            && last_start + (at - last.at) == *start
        {
            return;
        }
        self.runs.push(Run { at, from });
    }

    /// Appends bytes `range` of `other`, keeping their origins.
    pub fn push_mapped(&mut self, other: &MappedText, range: Range<usize>) {
        let base = self.text.len();
        self.text.push_str(&other.text[range.clone()]);
        if range.is_empty() {
            return;
        }
        let first = other.run_index(range.start);
        for run in other.runs[first..].iter().take_while(|r| r.at < range.end) {
            let start = run.at.max(range.start);
            let from = match &run.from {
                Origin::Verbatim(file) => Origin::Verbatim(file + (start - run.at)),
                Origin::Decoded(origin) => Origin::Decoded(origin.clone()),
            };
            self.push_run(base + (start - range.start), from);
        }
    }

    /// Bytes `range` of this text, as a text of its own.
    pub fn slice(&self, range: Range<usize>) -> MappedText {
        let mut out = MappedText::new();
        out.push_mapped(self, range);
        out
    }

    /// The index of the run that holds text byte `index` (which must be in the text).
    fn run_index(&self, index: usize) -> usize {
        self.runs
            .partition_point(|r| r.at <= index)
            .saturating_sub(1)
    }

    /// The file bytes that text bytes `range` came from (`None` for an empty or bad range).
    pub fn origin(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.start >= range.end || range.end > self.text.len() {
            return None;
        }
        let first = self.origin_of(range.start)?;
        let last = self.origin_of(range.end - 1)?;
        Some(first.start.min(last.start)..first.end.max(last.end))
    }

    /// The file origin of one text byte.
    pub fn origin_of(&self, index: usize) -> Option<Range<usize>> {
        if index >= self.text.len() {
            return None;
        }
        let run = &self.runs[self.run_index(index)];
        match &run.from {
            Origin::Decoded(origin) => Some(origin.clone()),
            Origin::Verbatim(file) => {
                // The whole character that holds the byte (runs start at character boundaries).
                let mut start = index;
                while !self.text.is_char_boundary(start) {
                    start -= 1;
                }
                let len = self.text[start..].chars().next().map_or(1, char::len_utf8);
                let start = file + (start - run.at);
                Some(start..start + len)
            }
        }
    }

    /// Where text bytes `range` are in `file`; an empty range points just after the byte before it.
    pub fn span(&self, file: &SourceFile, range: Range<usize>) -> Span {
        match self.origin(range.clone()) {
            Some(origin) => file.span(origin),
            None => {
                let at = range
                    .start
                    .checked_sub(1)
                    .and_then(|i| self.origin_of(i))
                    .map(|r| r.end)
                    .or_else(|| self.origin_of(0).map(|r| r.start))
                    .unwrap_or(0);
                file.span(at..at)
            }
        }
    }

    /// Maps this text through `outer`: treats this text's origins as byte offsets into `outer`'s
    /// text and replaces them by `outer`'s file origins (used for strings decoded from a
    /// [`MappedText`] rather than from the file directly).
    pub fn through(self, outer: &MappedText) -> MappedText {
        let mut out = MappedText::new();
        out.reserve(self.text.len());
        for (i, c) in self.text.char_indices() {
            let Some(inner) = self.origin_of(i) else {
                continue;
            };
            let origin = outer.origin(inner.clone()).unwrap_or(inner);
            out.push_char(c, origin);
        }
        out
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
