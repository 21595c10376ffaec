//! What separates a name from a popular one, in words.
//!
//! Works on separator-free spellings (`requeststoolbelt`), so that a typo combined with a
//! separator change is still one typo; the caller notes separator changes on its own.

use super::Technique;

/// Look-alike single characters (after lower-casing): `l`/`1`/`i` and `o`/`0`.
fn lookalike(a: u8, b: u8) -> bool {
    let pair = if a < b { (a, b) } else { (b, a) };
    matches!(
        pair,
        (b'1', b'l') | (b'1', b'i') | (b'i', b'l') | (b'0', b'o')
    )
}

const QWERTY: [&[u8]; 4] = [b"1234567890", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];

/// Row and column of a key on a QWERTY keyboard.
fn key_position(c: u8) -> Option<(i32, i32)> {
    QWERTY.iter().enumerate().find_map(|(row, keys)| {
        keys.iter()
            .position(|&k| k == c)
            .map(|col| (row as i32, col as i32))
    })
}

/// Keys that touch on a QWERTY keyboard (same row side by side, or the row above/below, which
/// is shifted half a key to the right at each step down).
pub fn keyboard_neighbours(a: u8, b: u8) -> bool {
    let (Some((ra, ca)), Some((rb, cb))) = (key_position(a), key_position(b)) else {
        return false;
    };
    match rb - ra {
        0 => (ca - cb).abs() == 1,
        1 => cb == ca || cb == ca - 1,
        -1 => cb == ca || cb == ca + 1,
        _ => false,
    }
}

/// How a name differs from a popular one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub technique: Technique,
    /// The letters involved, for the message: "`r` for `t`".
    pub detail: String,
    /// Where the edit is, as a byte index into the popular name.
    pub at: usize,
}

/// One edit (or, failing that, two) turning `cand` into `target`, both separator-free.
pub fn classify(cand: &str, target: &str) -> Option<Edit> {
    classify_parts(cand, target).map(|(technique, detail, at)| Edit {
        technique,
        detail,
        at,
    })
}

fn classify_parts(cand: &str, target: &str) -> Option<(Technique, String, usize)> {
    let (c, t) = (cand.as_bytes(), target.as_bytes());
    if c == t {
        return Some((Technique::Separators, String::new(), 0));
    }
    let one = match c.len() as isize - t.len() as isize {
        0 => same_length(c, t),
        1 => extra_char(c, t),
        -1 => missing_char(c, t),
        _ => None,
    };
    one.or_else(|| {
        (strsim::osa_distance(cand, target) == 2).then(|| (Technique::TwoEdits, String::new(), 0))
    })
}

fn show(c: u8) -> char {
    char::from(c)
}

fn same_length(c: &[u8], t: &[u8]) -> Option<(Technique, String, usize)> {
    let first = c.iter().zip(t).position(|(a, b)| a != b)?;
    let last = c.iter().zip(t).rposition(|(a, b)| a != b)?;
    if first == last {
        let (a, b) = (c[first], t[first]);
        let detail = format!("`{}` for `{}`", show(a), show(b));
        let in_trailing_digits =
            c[first..].iter().all(u8::is_ascii_digit) && t[first..].iter().all(u8::is_ascii_digit);
        let technique = if in_trailing_digits {
            Technique::VersionDigit
        } else if lookalike(a, b) {
            Technique::Homoglyph
        } else if keyboard_neighbours(a, b) {
            Technique::KeyboardSubstitution
        } else {
            Technique::Substitution
        };
        return Some((technique, detail, first));
    }
    if last == first + 1 && c[first] == t[last] && c[last] == t[first] {
        return Some((
            Technique::Swapped,
            format!("`{}{}`", show(c[first]), show(c[last])),
            first,
        ));
    }
    None
}

/// `c` has one character more than `t`.
fn extra_char(c: &[u8], t: &[u8]) -> Option<(Technique, String, usize)> {
    let i = c.iter().zip(t).position(|(a, b)| a != b).unwrap_or(t.len());
    if c[i + 1..] != t[i..] {
        return None;
    }
    let x = c[i];
    let at_end = i == c.len() - 1;
    let (technique, detail) = if (i > 0 && c[i - 1] == x) || c.get(i + 1) == Some(&x) {
        (Technique::Repeated, format!("`{}`", show(x)))
    } else if at_end && x == b's' {
        (Technique::Plural, "`s` added".to_string())
    } else if at_end && x.is_ascii_digit() {
        (Technique::VersionDigit, format!("`{}` appended", show(x)))
    } else {
        (Technique::Inserted, format!("`{}`", show(x)))
    };
    Some((technique, detail, i))
}

/// `c` has one character fewer than `t`.
fn missing_char(c: &[u8], t: &[u8]) -> Option<(Technique, String, usize)> {
    let i = c.iter().zip(t).position(|(a, b)| a != b).unwrap_or(c.len());
    if c[i..] != t[i + 1..] {
        return None;
    }
    let x = t[i];
    let at_end = i == t.len() - 1;
    let (technique, detail) = if at_end && x == b's' {
        (Technique::Plural, "`s` removed".to_string())
    } else if t[i..].iter().all(u8::is_ascii_digit) {
        (Technique::VersionDigit, format!("`{}` removed", show(x)))
    } else {
        (Technique::Omitted, format!("`{}`", show(x)))
    };
    Some((technique, detail, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(cand: &str, target: &str) -> Option<Technique> {
        classify(cand, target).map(|e| e.technique)
    }

    #[test]
    fn keyboard() {
        assert!(keyboard_neighbours(b'q', b'w'));
        assert!(keyboard_neighbours(b'e', b'd'));
        assert!(keyboard_neighbours(b'd', b'e'));
        assert!(keyboard_neighbours(b'n', b'h'));
        assert!(!keyboard_neighbours(b'k', b'h'));
        assert!(!keyboard_neighbours(b'a', b'p'));
        assert!(!keyboard_neighbours(b'-', b'a'));
    }

    #[test]
    fn classifies_single_edits() {
        assert_eq!(kind("reqeusts", "requests"), Some(Technique::Swapped));
        assert_eq!(kind("requets", "requests"), Some(Technique::Omitted));
        assert_eq!(kind("requestts", "requests"), Some(Technique::Repeated));
        assert_eq!(kind("requexsts", "requests"), Some(Technique::Inserted));
        assert_eq!(
            kind("requesrs", "requests"),
            Some(Technique::KeyboardSubstitution)
        );
        assert_eq!(kind("requeqts", "requests"), Some(Technique::Substitution));
        assert_eq!(kind("request", "requests"), Some(Technique::Plural));
        assert_eq!(kind("requests2", "requests"), Some(Technique::VersionDigit));
        assert_eq!(kind("jeilyfish", "jellyfish"), Some(Technique::Homoglyph));
        assert_eq!(kind("urllib4", "urllib3"), Some(Technique::VersionDigit));
        assert_eq!(kind("b0to3", "boto3"), Some(Technique::Homoglyph));
        assert_eq!(kind("requests", "requests"), Some(Technique::Separators));
    }

    #[test]
    fn two_edits_and_beyond() {
        assert_eq!(kind("reqeustss", "requests"), Some(Technique::TwoEdits));
        assert_eq!(kind("torch", "tensorflow"), None);
    }

    #[test]
    fn details_name_the_letters() {
        assert_eq!(classify("reqeusts", "requests").unwrap().detail, "`eu`");
        assert_eq!(
            classify("requesrs", "requests").unwrap().detail,
            "`r` for `t`"
        );
        assert_eq!(classify("requets", "requests").unwrap().detail, "`s`");
        assert_eq!(classify("requets", "requests").unwrap().at, 5);
        assert_eq!(classify("xrequests", "requests").unwrap().at, 0);
        assert_eq!(kind("urllib", "urllib3"), Some(Technique::VersionDigit));
    }
}
