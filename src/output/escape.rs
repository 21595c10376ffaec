//! Making text from scanned repositories harmless before it reaches a terminal or a CI log.
//!
//! A dependency name, a path or a comment in a scanned file is attacker-controlled. Written raw,
//! an ESC sequence can recolour, hide or rewrite earlier output, a CR can overwrite the line it
//! is on, and a bidi override can make a line read differently from what it contains
//! ("Trojan Source", CVE-2021-42574); an invisible character such as a zero-width space makes
//! `req\u{200b}uests` look like `requests`. Such characters are shown as visible escapes instead.
//!
//! In a GitHub Actions log every output line is also scanned for workflow commands. A line that
//! starts with `::` is one (our lines never start with repository text), and so is any line
//! holding the legacy `##[command]data` form anywhere in it: `##[stop-commands]x` in a file
//! name would switch off every later annotation, `##[set-output name=n;]v` would set a step
//! output. So the `[` of `##[` is escaped too.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, the Unicode line and
/// paragraph separators, and every invisible character (see [`is_invisible`]; the bidi
/// formatting characters are among them).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible(c)
}

/// Whether `c` is a default-ignorable code point or a format character (General_Category Cf):
/// characters a renderer draws as nothing, such as zero-width spaces and joiners, the soft
/// hyphen, the Hangul fillers, variation selectors, tag characters and bidi controls. Shown
/// raw, `req\u{200b}uests` would look exactly like `requests`.
pub fn is_invisible(c: char) -> bool {
    INVISIBLE
        .binary_search_by(|&(start, end)| {
            if c < start {
                std::cmp::Ordering::Greater
            } else if c > end {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The union of Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and General_Category
/// Cf (DerivedGeneralCategory.txt), Unicode 16.0.0, as sorted inclusive ranges. A unit test
/// checks it against the regex crate's Unicode tables.
const INVISIBLE: &[(char, char)] = &[
    ('\u{ad}', '\u{ad}'),       // SOFT HYPHEN
    ('\u{34f}', '\u{34f}'),     // COMBINING GRAPHEME JOINER
    ('\u{600}', '\u{605}'),     // Arabic number signs
    ('\u{61c}', '\u{61c}'),     // ARABIC LETTER MARK
    ('\u{6dd}', '\u{6dd}'),     // ARABIC END OF AYAH
    ('\u{70f}', '\u{70f}'),     // SYRIAC ABBREVIATION MARK
    ('\u{890}', '\u{891}'),     // Arabic pound and piastre marks above
    ('\u{8e2}', '\u{8e2}'),     // ARABIC DISPUTED END OF AYAH
    ('\u{115f}', '\u{1160}'),   // Hangul choseong and jungseong fillers
    ('\u{17b4}', '\u{17b5}'),   // Khmer inherent vowels
    ('\u{180b}', '\u{180f}'),   // Mongolian variation selectors, vowel separator
    ('\u{200b}', '\u{200f}'),   // ZWSP, ZWNJ, ZWJ, LRM, RLM
    ('\u{202a}', '\u{202e}'),   // LRE, RLE, PDF, LRO, RLO
    ('\u{2060}', '\u{206f}'),   // WORD JOINER, invisible operators, LRI..PDI, deprecated
    ('\u{3164}', '\u{3164}'),   // HANGUL FILLER
    ('\u{fe00}', '\u{fe0f}'),   // variation selectors
    ('\u{feff}', '\u{feff}'),   // ZERO WIDTH NO-BREAK SPACE (BOM)
    ('\u{ffa0}', '\u{ffa0}'),   // HALFWIDTH HANGUL FILLER
    ('\u{fff0}', '\u{fffb}'),   // unassigned, interlinear annotation controls
    ('\u{110bd}', '\u{110bd}'), // KAITHI NUMBER SIGN
    ('\u{110cd}', '\u{110cd}'), // KAITHI NUMBER SIGN ABOVE
    ('\u{13430}', '\u{1343f}'), // Egyptian hieroglyph format controls
    ('\u{1bca0}', '\u{1bca3}'), // shorthand format controls
    ('\u{1d173}', '\u{1d17a}'), // musical symbol format controls
    ('\u{e0000}', '\u{e0fff}'), // tags, variation selectors supplement, reserved
];

/// The visible stand-in for an unsafe character: `\t`, `\n`, `\r`, or `\u{1b}` style.
pub fn escape_char(c: char, out: &mut String) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        _ => {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// The legacy workflow-command opener, which the Actions runner finds anywhere in a line.
const LEGACY_COMMAND: &str = "##[";

/// Appends `c` to `out`, which holds the line so far: an unsafe character as its escape, and
/// a `[` that would complete `##[` as `\u{5b}`.
pub fn push_safe(out: &mut String, c: char) {
    if is_unsafe(c) {
        escape_char(c, out);
    } else if c == '[' && out.ends_with("##") {
        out.push_str("\\u{5b}");
    } else {
        out.push(c);
    }
}

/// `text` with every unsafe character replaced by its visible escape and every `##[` broken;
/// borrowed when clean.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) && !text.contains(LEGACY_COMMAND) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_safe(&mut out, c);
    }
    Cow::Owned(out)
}

/// Serialised JSON with `##[` written as `##\u005b`: the same JSON value (`#` only occurs inside
/// strings, where `\u005b` is `[`), but no legacy workflow command if the JSON is printed to an
/// Actions log.
pub fn json_without_legacy_commands(json: String) -> String {
    if json.contains(LEGACY_COMMAND) {
        json.replace(LEGACY_COMMAND, "##\\u005b")
    } else {
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        let text = "numpy==1.26 — ünïcode 日本";
        assert!(matches!(sanitize(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn controls_and_bidi_become_visible() {
        assert_eq!(
            sanitize("a\u{1b}[31mb\rc\nd\te\u{7}f\u{7f}"),
            "a\\u{1b}[31mb\\rc\\nd\\te\\u{7}f\\u{7f}"
        );
        assert_eq!(sanitize("\u{9b}2J"), "\\u{9b}2J"); // C1 CSI
        assert_eq!(sanitize("x\u{202e}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        assert_eq!(sanitize("\u{2028}"), "\\u{2028}");
    }

    #[test]
    fn legacy_workflow_commands_are_broken() {
        assert_eq!(
            sanitize("a ##[stop-commands]x ###[y #[z"),
            "a ##\\u{5b}stop-commands]x ###\\u{5b}y #[z"
        );
        let json = serde_json::to_string("##[set-output name=a;]b").unwrap();
        let safe = json_without_legacy_commands(json);
        assert_eq!(safe, "\"##\\u005bset-output name=a;]b\"");
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "##[set-output name=a;]b"
        );
    }

    #[test]
    fn every_bidi_control_is_unsafe() {
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            assert!(is_unsafe(c), "{:x}", c as u32);
        }
        assert!(!is_unsafe('\u{2010}'));
        assert!(!is_unsafe('é'));
    }

    #[test]
    fn invisible_characters_become_visible() {
        assert_eq!(sanitize("req\u{200b}uests"), "req\\u{200b}uests");
        assert_eq!(
            sanitize("a\u{ad}b\u{3164}c\u{e0041}d\u{fe0f}e\u{feff}"),
            "a\\u{ad}b\\u{3164}c\\u{e0041}d\\u{fe0f}e\\u{feff}"
        );
    }

    /// The table is exactly Default_Ignorable_Code_Point plus Cf, by the regex crate's Unicode
    /// tables (generated from the UCD), over every scalar value.
    #[test]
    fn the_invisible_table_is_the_unicode_property() {
        let every: String = (0..=0x10ffff).filter_map(char::from_u32).collect();
        let property = regex::Regex::new(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]+").unwrap();
        let ranges: Vec<(char, char)> = property
            .find_iter(&every)
            .map(|m| {
                let run = m.as_str();
                (
                    run.chars().next().unwrap(),
                    run.chars().next_back().unwrap(),
                )
            })
            .collect();
        assert_eq!(ranges, INVISIBLE);
    }
}
