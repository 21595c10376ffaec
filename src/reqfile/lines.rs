//! Physical lines, continuation joining and comments, as pip's `preprocess` does them, keeping a
//! map from every byte of a logical line back to the file.

use std::ops::Range;

use super::Line;

/// Python's `str.isspace`: Unicode White_Space plus the separators `\x1c`–`\x1f`, which is what
/// `\s` in pip's regexes and `str.strip()` match.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.splitlines()`: each line with its ending; no empty line after a final ending.
pub(crate) fn split_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    // Over bytes, not chars: every line break is ASCII or one of three fixed UTF-8 sequences
    // (U+0085, U+2028, U+2029), and a large file is mostly bytes that are none of them.
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let next = |k: usize| bytes.get(i + k).copied();
        let end = match bytes[i] {
            b'\r' if next(1) == Some(b'\n') => i + 2,
            b'\r' | b'\n' | 0x0b | 0x0c | 0x1c | 0x1d | 0x1e => i + 1,
            0xC2 if next(1) == Some(0x85) => i + 2,
            0xE2 if next(1) == Some(0x80) && matches!(next(2), Some(0xA8 | 0xA9)) => i + 3,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(Line {
            range: start..i,
            ending: i..end,
        });
        start = end;
        i = end;
    }
    if start < text.len() {
        lines.push(Line {
            range: start..text.len(),
            ending: text.len()..text.len(),
        });
    }
    lines
}

/// A logical line: physical lines joined as pip joins them, with each byte's file offset.
#[derive(Debug)]
pub(crate) struct Logical {
    /// Indices of the physical lines joined.
    pub lines: Range<usize>,
    pub text: String,
    /// Where the bytes of `text` came from, one piece per physical line joined rather than an
    /// offset per byte: a piece starts at a logical offset and lasts until the next one.
    pieces: Vec<Piece>,
    /// File offset just after the last byte taken from the file.
    end: usize,
    /// Continuation markers (`\` run and the line ending).
    pub continuations: Vec<Range<usize>>,
}

#[derive(Debug)]
struct Piece {
    /// The logical offset the piece starts at.
    at: usize,
    /// The file offset of its first byte; `None` for bytes not in the file (the space pip puts
    /// before a comment line).
    file: Option<usize>,
}

impl Logical {
    fn new(first_line: usize, start: usize) -> Logical {
        Logical {
            lines: first_line..first_line,
            text: String::new(),
            pieces: Vec::new(),
            end: start,
            continuations: Vec::new(),
        }
    }

    fn push_file(&mut self, file: &str, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            at: self.text.len(),
            file: Some(range.start),
        });
        self.text.push_str(&file[range.clone()]);
        self.end = range.end;
    }

    fn push_synthetic(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            at: self.text.len(),
            file: None,
        });
        self.text.push_str(s);
    }

    /// The piece that holds logical offset `i`, if `i` is in the text.
    fn piece_of(&self, i: usize) -> Option<usize> {
        (i < self.text.len()).then(|| self.pieces.partition_point(|p| p.at <= i) - 1)
    }

    /// Logical offset where piece `index` ends.
    fn piece_end(&self, index: usize) -> usize {
        self.pieces
            .get(index + 1)
            .map_or(self.text.len(), |next| next.at)
    }

    /// File offset of logical offset `i` (the next byte from the file at or after `i`).
    pub fn orig_pos(&self, i: usize) -> usize {
        let Some(first) = self.piece_of(i) else {
            return self.end;
        };
        self.pieces[first..]
            .iter()
            .find_map(|p| p.file.map(|file| file + i.saturating_sub(p.at)))
            .unwrap_or(self.end)
    }

    /// The file range covering logical range `range` (from its first file byte to just after
    /// its last one; a range that crosses a continuation covers the marker too).
    pub fn orig_range(&self, range: Range<usize>) -> Range<usize> {
        let end = range.end.min(self.text.len());
        let start = range.start.min(end);
        let bounds = self
            .piece_of(start)
            .zip(end.checked_sub(1).and_then(|e| self.piece_of(e)));
        if let Some((first, last)) = bounds.filter(|_| start < end) {
            // The first and last file bytes of the range, skipping bytes not in the file.
            let from = (first..=last).find_map(|k| {
                let piece = &self.pieces[k];
                piece.file.map(|file| file + start.saturating_sub(piece.at))
            });
            let to = (first..=last).rev().find_map(|k| {
                let piece = &self.pieces[k];
                let last_byte = self.piece_end(k).min(end) - 1;
                piece.file.map(|file| file + (last_byte - piece.at))
            });
            if let (Some(from), Some(to)) = (from, to) {
                return from..to + 1;
            }
        }
        let at = self.orig_pos(start);
        at..at
    }

    /// Logical offset of the `#` that starts the comment: pip's `(^|\s+)#.*$`.
    pub fn comment_start(&self) -> Option<usize> {
        let mut previous: Option<char> = None;
        for (i, c) in self.text.char_indices() {
            if c == '#' && previous.is_none_or(py_space) {
                return Some(i);
            }
            previous = Some(c);
        }
        None
    }

    /// What pip keeps: the text before the comment, whitespace stripped.
    pub fn content(&self) -> Range<usize> {
        let before = &self.text[..self.comment_start().unwrap_or(self.text.len())];
        let trimmed_start = before.len() - before.trim_start_matches(py_space).len();
        let trimmed_end = before.trim_end_matches(py_space).len();
        if trimmed_end <= trimmed_start {
            return trimmed_start..trimmed_start;
        }
        trimmed_start..trimmed_end
    }
}

/// pip's `COMMENT_RE.match(line)`: optional whitespace, then `#`.
fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches(py_space).starts_with('#')
}

/// [`for_each_logical`], collected.
#[cfg(test)]
pub(crate) fn logical_lines(text: &str, lines: &[Line]) -> Vec<Logical> {
    let mut out = Vec::new();
    for_each_logical(text, lines, |logical| out.push(logical));
    out
}

/// pip's `join_lines`: every physical line lands in exactly one logical line, handed to `f` in
/// order, one at a time (a file of millions of comment lines never holds them all at once).
pub(crate) fn for_each_logical(text: &str, lines: &[Line], mut f: impl FnMut(Logical)) {
    let mut pending: Option<Logical> = None;
    for (index, line) in lines.iter().enumerate() {
        let content = &text[line.range.clone()];
        let comment = is_comment_line(content);
        if !content.ends_with('\\') || comment {
            let mut logical = pending
                .take()
                .unwrap_or_else(|| Logical::new(index, line.range.start));
            if comment {
                // pip prefixes comment lines with a space so the comment regex always matches.
                logical.push_synthetic(" ");
            }
            logical.push_file(text, line.range.clone());
            logical.lines.end = index + 1;
            f(logical);
        } else {
            let logical = pending.get_or_insert_with(|| Logical::new(index, line.range.start));
            // `str.strip("\\")`: every backslash at either end goes, not just the last one.
            let leading = content.len() - content.trim_start_matches('\\').len();
            let kept = content.trim_matches('\\');
            let kept_start = line.range.start + leading;
            logical.push_file(text, kept_start..kept_start + kept.len());
            let marker_start = if kept.is_empty() {
                line.range.start
            } else {
                kept_start + kept.len()
            };
            logical.continuations.push(marker_start..line.ending.end);
            logical.lines.end = index + 1;
        }
    }
    if let Some(mut logical) = pending {
        // The file ends inside a continuation: the last line's ending belongs after the entry
        // (as every entry's last ending does), so that marker is the backslashes alone.
        if let (Some(marker), Some(line)) = (
            logical.continuations.last_mut(),
            lines.get(logical.lines.end - 1),
        ) {
            marker.end = marker.end.min(line.range.end).max(marker.start);
        }
        f(logical);
    }
}

/// `${NAME}` references (uppercase letters, digits, `_`), with their ranges in `s`.
pub(crate) fn find_env_vars(s: &str) -> Vec<(String, Range<usize>)> {
    let bytes = s.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = s[i..].find("${") {
        let start = i + offset;
        let name_start = start + 2;
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        let close = name_start + name_len;
        if name_len > 0 && bytes.get(close) == Some(&b'}') {
            found.push((s[name_start..close].to_string(), start..close + 1));
            i = close + 1;
        } else {
            i = name_start;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(&str, &str)> {
        split_lines(text)
            .into_iter()
            .map(|line| (&text[line.range], &text[line.ending]))
            .collect()
    }

    #[test]
    fn splits_like_python_splitlines() {
        assert_eq!(
            texts("a\nb\r\nc\rd\x0ce\u{2028}f"),
            vec![
                ("a", "\n"),
                ("b", "\r\n"),
                ("c", "\r"),
                ("d", "\x0c"),
                ("e", "\u{2028}"),
                ("f", "")
            ]
        );
        assert_eq!(texts("a\n"), vec![("a", "\n")]);
        assert_eq!(texts("\n\n"), vec![("", "\n"), ("", "\n")]);
        assert!(texts("").is_empty());
        assert_eq!(texts("\r\r\n"), vec![("", "\r"), ("", "\r\n")]);
        // Every break Python knows, and characters that share a first byte with one.
        let all = "a\x0bb\x1cc\x1dd\x1ee\u{85}f\u{2029}g\u{a0}\u{2027}\u{2030}\u{c5}h";
        assert_eq!(
            texts(all),
            vec![
                ("a", "\x0b"),
                ("b", "\x1c"),
                ("c", "\x1d"),
                ("d", "\x1e"),
                ("e", "\u{85}"),
                ("f", "\u{2029}"),
                ("g\u{a0}\u{2027}\u{2030}\u{c5}h", "")
            ]
        );
    }

    fn joined(text: &str) -> Vec<String> {
        let lines = split_lines(text);
        logical_lines(text, &lines)
            .into_iter()
            .map(|logical| logical.text)
            .collect()
    }

    #[test]
    fn joins_continuations_as_pip_does() {
        assert_eq!(joined("a \\\n  b\nc"), vec!["a   b", "c"]);
        // Backslash then space does not continue.
        assert_eq!(joined("a \\ \nb"), vec!["a \\ ", "b"]);
        // A comment line ends the continuation; pip prefixes it with a space.
        assert_eq!(joined("a \\\n# c \\\nb"), vec!["a  # c \\", "b"]);
        // str.strip("\\") removes every backslash at both ends of a continued line.
        assert_eq!(joined("\\\\a\\\\\nb"), vec!["ab"]);
        // A continuation at the end of the file still yields its line.
        assert_eq!(joined("a\\"), vec!["a"]);
        let text = "a \\\n";
        let lines = split_lines(text);
        assert_eq!(logical_lines(text, &lines)[0].continuations, vec![2..3]);
        // A blank line ends a continuation.
        assert_eq!(joined("a\\\n\nb"), vec!["a", "b"]);
    }

    #[test]
    fn maps_logical_offsets_back_to_the_file() {
        let text = "ab \\\r\n  cd";
        let lines = split_lines(text);
        let logical = &logical_lines(text, &lines)[0];
        assert_eq!(logical.text, "ab   cd");
        assert_eq!(logical.orig_range(5..7), 8..10);
        assert_eq!(&text[logical.orig_range(5..7)], "cd");
        // A range across the join covers the continuation marker.
        assert_eq!(logical.orig_range(0..7), 0..10);
        assert_eq!(logical.continuations, vec![3..6]);
    }

    #[test]
    fn comments_need_whitespace_before_the_hash() {
        let text = "pkg.whl#sha256=abc # note";
        let lines = split_lines(text);
        let logical = &logical_lines(text, &lines)[0];
        assert_eq!(logical.comment_start(), Some(19));
        assert_eq!(&logical.text[logical.content()], "pkg.whl#sha256=abc");
    }

    #[test]
    fn finds_env_vars() {
        assert_eq!(
            find_env_vars("https://${USER}:${TOKEN_1}@x/${lower}/$NAME/${"),
            vec![("USER".to_string(), 8..15), ("TOKEN_1".to_string(), 16..26)]
        );
    }
}
