//! Making text from scanned repositories harmless before it reaches a terminal or a CI log.
//!
//! A dependency name, a path or a comment in a scanned file is attacker-controlled. Written raw,
//! an ESC sequence can recolour, hide or rewrite earlier output, a CR can overwrite the line it
//! is on, and a bidi override can make a line read differently from what it contains
//! ("Trojan Source", CVE-2021-42574). Such characters are shown as visible escapes instead.
//!
//! In a GitHub Actions log every output line is also scanned for workflow commands. A line that
//! starts with `::` is one (our lines never start with repository text), and so is any line
//! holding the legacy `##[command]data` form anywhere in it: `##[stop-commands]x` in a file
//! name would switch off every later annotation, `##[set-output name=n;]v` would set a step
//! output. So the `[` of `##[` is escaped too.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, the Unicode line and
/// paragraph separators and every bidi formatting character.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'                  // ARABIC LETTER MARK
            | '\u{200e}' | '\u{200f}'   // LRM, RLM
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
            | '\u{202a}'..='\u{202e}'   // LRE, RLE, PDF, LRO, RLO
            | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
        )
}

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
        assert!(!is_unsafe('\u{2065}'));
        assert!(!is_unsafe('é'));
    }
}
