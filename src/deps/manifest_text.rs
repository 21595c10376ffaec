//! A decoded string literal that remembers where each of its bytes came from in the file.
//!
//! Manifests write package names inside string literals (TOML, Python). Escapes make the value
//! differ from the raw text (`"\u006eumpy"` is `numpy`), so a name found in the value is mapped
//! back through this table to the raw bytes it was written as.

use std::ops::Range;

/// A string literal's value, with the file byte range that produced each byte of the value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodedStr {
    pub value: String,
    /// One entry per byte of `value`: the absolute byte range of the source text (one char or
    /// one escape sequence) that produced it.
    origins: Vec<Range<usize>>,
}

impl DecodedStr {
    pub fn new() -> DecodedStr {
        DecodedStr::default()
    }

    /// Appends `c`, produced by the file bytes `raw`.
    pub fn push(&mut self, c: char, raw: Range<usize>) {
        self.value.push(c);
        for _ in 0..c.len_utf8() {
            self.origins.push(raw.clone());
        }
    }

    /// Appends `text`, written verbatim in the file starting at byte `start`.
    pub fn push_verbatim(&mut self, text: &str, start: usize) {
        for (i, c) in text.char_indices() {
            self.push(c, start + i..start + i + c.len_utf8());
        }
    }

    /// Appends `other` (adjacent literals, `"a" "b"`).
    pub fn append(&mut self, other: DecodedStr) {
        self.value.push_str(&other.value);
        self.origins.extend(other.origins);
    }

    /// The part of the value at byte range `range` (which must lie on char boundaries).
    pub fn slice(&self, range: Range<usize>) -> DecodedStr {
        DecodedStr {
            value: self.value[range.clone()].to_string(),
            origins: self.origins[range].to_vec(),
        }
    }

    /// The file byte range that produced `range` of the value (`None` if out of bounds or empty).
    pub fn raw_range(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.start >= range.end || range.end > self.origins.len() {
            return None;
        }
        let start = self.origins[range.start].start;
        let end = self.origins[range.end - 1].end;
        Some(start..end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_value_bytes_back_to_raw_text() {
        // Value "né" written as `n\u00e9` at offset 10.
        let mut s = DecodedStr::new();
        s.push('n', 10..11);
        s.push('é', 11..17);
        assert_eq!(s.value, "né");
        assert_eq!(s.raw_range(0..1), Some(10..11));
        assert_eq!(s.raw_range(0..3), Some(10..17));
        assert_eq!(s.raw_range(1..3), Some(11..17));
        assert_eq!(s.raw_range(0..4), None);
        assert_eq!(s.raw_range(1..1), None);
    }

    #[test]
    fn verbatim_text_maps_char_by_char() {
        let mut s = DecodedStr::new();
        s.push_verbatim("aé b", 100);
        assert_eq!(s.raw_range(0..3), Some(100..103));
        assert_eq!(s.raw_range(4..5), Some(104..105));
    }
}
