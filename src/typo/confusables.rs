//! Non-ASCII look-alikes in package names.
//!
//! PyPI names are ASCII, so any other character is reported on its own. This module only names
//! the character and folds the name to the ASCII spelling it imitates, so that the finding can
//! say which popular package it points at. The table covers what matters for pip: characters
//! that Unicode case folding turns into ASCII (the Kelvin sign, the long s, the dotless i) and
//! the Cyrillic, Greek and full-width letters that look like Latin ones (UTS #39 confusables,
//! restricted to targets in `[a-z0-9]`).

/// The ASCII letter or digit that `c` imitates, if it is a known look-alike.
pub fn ascii_lookalike(c: char) -> Option<char> {
    let folded = match c {
        // Case folding turns these into plain ASCII: the reason they are dangerous.
        '\u{212A}' => 'k', // KELVIN SIGN
        '\u{017F}' => 's', // LATIN SMALL LETTER LONG S
        '\u{0131}' => 'i', // LATIN SMALL LETTER DOTLESS I
        '\u{0130}' => 'i', // LATIN CAPITAL LETTER I WITH DOT ABOVE
        '\u{2113}' | '\u{217C}' => 'l',
        '\u{2170}' => 'i',
        // Cyrillic.
        'а' | 'А' => 'a',
        'в' | 'В' => 'b',
        'е' | 'Е' | 'ё' => 'e',
        'һ' | 'Һ' | 'Н' => 'h',
        'і' | 'І' | 'ї' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' => 'k',
        'м' | 'М' => 'm',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'ԛ' => 'q',
        'с' | 'С' => 'c',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' => 't',
        'у' | 'У' => 'y',
        'ԝ' | 'Ԝ' => 'w',
        'х' | 'Х' => 'x',
        'ԁ' => 'd',
        // Greek.
        'α' | 'Α' => 'a',
        'β' | 'Β' => 'b',
        'ε' | 'Ε' => 'e',
        'η' | 'Η' => 'h',
        'ι' | 'Ι' => 'i',
        'κ' | 'Κ' => 'k',
        'μ' | 'Μ' => 'm',
        'ν' | 'Ν' => 'v',
        'ο' | 'Ο' => 'o',
        'ρ' | 'Ρ' => 'p',
        'τ' | 'Τ' => 't',
        'υ' | 'Υ' => 'u',
        'χ' | 'Χ' => 'x',
        'ζ' | 'Ζ' => 'z',
        // Full-width forms.
        '\u{FF21}'..='\u{FF3A}' => char::from(b'a' + (u32::from(c) - 0xFF21) as u8),
        '\u{FF41}'..='\u{FF5A}' => char::from(b'a' + (u32::from(c) - 0xFF41) as u8),
        '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (u32::from(c) - 0xFF10) as u8),
        '\u{FF0D}' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' => '-',
        '\u{FF3F}' => '_',
        '\u{FF0E}' => '.',
        _ => return None,
    };
    Some(folded)
}

/// A short name for a character, for messages: `U+212A KELVIN SIGN`, or just `U+1234`.
pub fn describe(c: char) -> String {
    let name = match c {
        '\u{212A}' => " KELVIN SIGN",
        '\u{017F}' => " LATIN SMALL LETTER LONG S",
        '\u{0131}' => " LATIN SMALL LETTER DOTLESS I",
        '\u{0130}' => " LATIN CAPITAL LETTER I WITH DOT ABOVE",
        '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}' => " (Cyrillic)",
        '\u{0370}'..='\u{03FF}' => " (Greek)",
        '\u{FF00}'..='\u{FFEF}' => " (full-width form)",
        _ => "",
    };
    format!("U+{:04X}{name}", u32::from(c))
}

/// `name` with every known look-alike replaced by the ASCII character it imitates, or `None`
/// when a non-ASCII character is not a known look-alike.
pub fn fold_to_ascii(name: &str) -> Option<String> {
    name.chars()
        .map(|c| {
            if c.is_ascii() {
                Some(c)
            } else {
                ascii_lookalike(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_the_case_folding_traps() {
        assert_eq!(fold_to_ascii("\u{212A}eras").as_deref(), Some("keras"));
        assert_eq!(
            fold_to_ascii("reque\u{017F}ts").as_deref(),
            Some("requests")
        );
        assert_eq!(fold_to_ascii("n\u{0443}mpy").as_deref(), Some("nympy"));
    }

    #[test]
    fn folds_cyrillic_and_fullwidth() {
        // Cyrillic а, о and р.
        assert_eq!(
            fold_to_ascii("\u{0440}\u{0430}nd\u{0430}s").as_deref(),
            Some("pandas")
        );
        assert_eq!(fold_to_ascii("t\u{043E}rch").as_deref(), Some("torch"));
        assert_eq!(
            fold_to_ascii("\u{FF54}\u{FF4F}rch").as_deref(),
            Some("torch")
        );
    }

    #[test]
    fn unknown_characters_do_not_fold() {
        assert_eq!(fold_to_ascii("torch\u{1F600}"), None);
        assert_eq!(describe('\u{212A}'), "U+212A KELVIN SIGN");
        assert_eq!(describe('\u{0430}'), "U+0430 (Cyrillic)");
        assert_eq!(describe('\u{1F600}'), "U+1F600");
    }
}
