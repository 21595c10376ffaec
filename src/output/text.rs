//! The `text` format: rustc-style diagnostics for people.
//!
//! ```text
//! warning[typosquat]: `reqeusts` looks like a typo of `requests`
//!  --> requirements.txt:3:1
//!   |
//! 3 | reqeusts==2.31.0
//!   | ^^^^^^^^
//!   = help: requests
//!
//! 0 errors, 1 warning, 0 notes in 1 file
//! ```
//!
//! Written by hand over `anstyle` rather than with annotate-snippets: the layout is four lines,
//! and every piece of repository text must pass through [`escape::sanitize`] on its way out,
//! which is easiest to guarantee when this module builds each line itself.

use std::collections::BTreeSet;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthChar;

use super::{Report, escape, plural};
use crate::finding::{Finding, Severity};
use crate::source::SourceMap;

/// Tabs in a source line are shown as this many spaces, on the line and under it alike.
const TAB_WIDTH: usize = 4;
/// Lines longer than this (in characters) are cut down to a window around the span.
const MAX_LINE_CHARS: usize = 200;
/// Characters kept on each side of the span in a cut-down line.
const CONTEXT_CHARS: usize = 40;
/// The longest part of a span shown in a cut-down line.
const MAX_SPAN_CHARS: usize = 120;
/// Marks where a cut-down line was cut.
const ELLIPSIS: &str = "...";

/// The styles in use: all plain when colour is off, so that nothing but text is written.
struct Palette {
    error: Style,
    warning: Style,
    note: Style,
    emphasis: Style,
    gutter: Style,
}

impl Palette {
    fn new(color: bool) -> Palette {
        if !color {
            let plain = Style::new();
            return Palette {
                error: plain,
                warning: plain,
                note: plain,
                emphasis: plain,
                gutter: plain,
            };
        }
        let colored = |color: AnsiColor| Style::new().fg_color(Some(color.into())).bold();
        Palette {
            error: colored(AnsiColor::BrightRed),
            warning: colored(AnsiColor::BrightYellow),
            note: colored(AnsiColor::BrightGreen),
            emphasis: Style::new().bold(),
            gutter: colored(AnsiColor::BrightBlue),
        }
    }

    fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Note => self.note,
        }
    }
}

pub(super) fn render(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let palette = Palette::new(color);
    for finding in report.findings {
        write_diagnostic(out, finding, report.sources, &palette)?;
        writeln!(out)?;
    }
    writeln!(out, "{}", summary(report.findings))
}

fn write_diagnostic(
    out: &mut dyn Write,
    finding: &Finding,
    sources: &SourceMap,
    palette: &Palette,
) -> io::Result<()> {
    let level = palette.severity(finding.severity);
    let emphasis = palette.emphasis;
    let gutter = palette.gutter;
    writeln!(
        out,
        "{level}{}[{}]{level:#}{emphasis}: {}{emphasis:#}",
        finding.severity,
        escape::sanitize(&finding.rule),
        escape::sanitize(&finding.message),
    )?;

    let snippet = source_snippet(finding, sources);
    // The gutter is as wide as the line number it shows, as in rustc.
    let width = match &snippet {
        Some(_) => finding.line.to_string().len(),
        None => 1,
    };
    writeln!(
        out,
        "{:width$}{gutter}-->{gutter:#} {}",
        "",
        location(finding)
    )?;
    if let Some(snippet) = snippet {
        writeln!(out, "{:width$} {gutter}|{gutter:#}", "")?;
        writeln!(
            out,
            "{gutter}{:>width$} |{gutter:#} {}",
            finding.line, snippet.text
        )?;
        writeln!(
            out,
            "{:width$} {gutter}|{gutter:#} {:pad$}{level}{}{level:#}",
            "",
            "",
            "^".repeat(snippet.caret_len),
            pad = snippet.caret_offset,
        )?;
    }
    if let Some(suggestion) = &finding.suggestion {
        writeln!(
            out,
            "{:width$} {emphasis}= help:{emphasis:#} {}",
            "",
            escape::sanitize(suggestion)
        )?;
    }
    Ok(())
}

/// `path:line:column`, leaving out what is unknown (0).
fn location(finding: &Finding) -> String {
    let path = escape::sanitize(&finding.path);
    match (finding.line, finding.column) {
        (0, _) => path.into_owned(),
        (line, 0) => format!("{path}:{line}"),
        (line, column) => format!("{path}:{line}:{column}"),
    }
}

fn source_snippet(finding: &Finding, sources: &SourceMap) -> Option<Snippet> {
    if finding.line == 0 {
        return None;
    }
    let line = mask_credentials(sources.line(&finding.path, finding.line)?);
    // A span running onto later lines is underlined to the end of its first line.
    let end_column = (finding.end_line <= finding.line).then_some(finding.end_column);
    Some(Snippet::new(&line, finding.column, end_column))
}

/// The line with the user information of every `scheme://user:secret@host` URL replaced by
/// as many `*` as it has characters: a token committed into a requirements file must not reach
/// a CI log through our output, and equal width keeps the caret under the right column.
fn mask_credentials(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '`' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.extend(authority[..userinfo_end].chars().map(|_| '*'));
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

/// One source line made printable, and where its caret goes, in terminal columns.
#[derive(Debug, PartialEq, Eq)]
struct Snippet {
    text: String,
    caret_offset: usize,
    caret_len: usize,
}

impl Snippet {
    /// `column` and `end_column` are 1-based character columns, `end_column` exclusive;
    /// `None` underlines to the end of the line. Out-of-range columns are clamped.
    fn new(line: &str, column: u32, end_column: Option<u32>) -> Snippet {
        let chars: Vec<char> = line.chars().collect();
        let len = chars.len();
        let to_index = |column: u32| (column.max(1) as usize - 1).min(len);
        let start = to_index(column);
        let end = end_column.map_or(len, to_index).max(start);
        let (lo, hi) = window(len, start, end);

        let mut snippet = Snippet {
            text: String::new(),
            caret_offset: 0,
            caret_len: 0,
        };
        let mut width = 0;
        if lo > 0 {
            snippet.text.push_str(ELLIPSIS);
            width += ELLIPSIS.len();
        }
        for (index, &c) in chars.iter().enumerate().take(hi).skip(lo) {
            if index == start {
                snippet.caret_offset = width;
            }
            let shown = push_display(&mut snippet.text, c);
            width += shown;
            if (start..end).contains(&index) {
                snippet.caret_len += shown;
            }
        }
        if start >= hi {
            snippet.caret_offset = width;
        }
        if hi < len {
            snippet.text.push_str(ELLIPSIS);
        }
        snippet.caret_len = snippet.caret_len.max(1);
        snippet
    }
}

/// The character range of a line to show: all of it, or a window around the span when the
/// line is very long (minified JSON, notebooks).
fn window(len: usize, start: usize, end: usize) -> (usize, usize) {
    if len <= MAX_LINE_CHARS {
        return (0, len);
    }
    let lo = start.saturating_sub(CONTEXT_CHARS);
    let span_end = end.max(start + 1).min(start + MAX_SPAN_CHARS);
    let hi = (span_end + CONTEXT_CHARS).min(len);
    (lo, hi)
}

/// Appends how `c` is shown on a terminal and returns how many columns that takes.
fn push_display(out: &mut String, c: char) -> usize {
    if c == '\t' {
        out.extend(std::iter::repeat_n(' ', TAB_WIDTH));
        TAB_WIDTH
    } else {
        let before = out.len();
        escape::push_safe(out, c);
        if out.len() - before == c.len_utf8() {
            c.width().unwrap_or(0)
        } else {
            out.len() - before // an escape, which is ASCII
        }
    }
}

/// `2 errors, 1 warning, 0 notes in 2 files`, or `no findings`.
fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".to_string();
    }
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let files = findings
        .iter()
        .map(|f| f.path.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    format!(
        "{}, {}, {} in {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Note), "note"),
        plural(files, "file"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(line: &str, column: u32, end: Option<u32>) -> (String, usize, usize) {
        let s = Snippet::new(line, column, end);
        (s.text, s.caret_offset, s.caret_len)
    }

    #[test]
    fn credentials_in_source_lines_are_masked_at_equal_width() {
        let line = "pkg==1.0 --index-url https://user:hunter2@host/simple x://tok@h";
        let masked = mask_credentials(line);
        assert_eq!(
            masked,
            "pkg==1.0 --index-url https://************@host/simple x://***@h"
        );
        assert_eq!(masked.chars().count(), line.chars().count());
        assert_eq!(
            mask_credentials("see https://host/a@b"),
            "see https://host/a@b"
        );
    }

    #[test]
    fn caret_covers_the_span() {
        assert_eq!(
            snippet("reqeusts==2.31", 1, Some(9)),
            ("reqeusts==2.31".into(), 0, 8)
        );
        assert_eq!(snippet("a b c", 3, Some(4)), ("a b c".into(), 2, 1));
    }

    #[test]
    fn empty_and_inverted_spans_get_one_caret() {
        assert_eq!(snippet("numpy", 1, Some(1)).2, 1);
        assert_eq!(snippet("numpy", 4, Some(2)), ("numpy".into(), 3, 1));
    }

    #[test]
    fn out_of_range_columns_are_clamped() {
        assert_eq!(snippet("abc", 0, Some(0)), ("abc".into(), 0, 1));
        assert_eq!(snippet("abc", 50, Some(60)), ("abc".into(), 3, 1));
        assert_eq!(snippet("abc", 2, Some(60)), ("abc".into(), 1, 2));
        assert_eq!(snippet("", 1, Some(1)), ("".into(), 0, 1));
    }

    #[test]
    fn multi_line_spans_run_to_the_end_of_the_first_line() {
        assert_eq!(snippet("torch = [", 9, None), ("torch = [".into(), 8, 1));
        assert_eq!(snippet("abcdef", 3, None).2, 4);
    }

    #[test]
    fn tabs_expand_and_keep_the_caret_aligned() {
        let (text, offset, len) = snippet("\tx\t==1", 2, Some(4));
        assert_eq!(text, "    x    ==1");
        assert_eq!(offset, 4);
        assert_eq!(len, 1 + TAB_WIDTH);
        assert_eq!(&text[offset..offset + 1], "x");
    }

    #[test]
    fn wide_and_escaped_characters_count_their_columns() {
        // 日本 are two columns each; ESC becomes the six-column `\u{1b}`.
        let (text, offset, len) = snippet("日本\u{1b}x", 4, Some(5));
        assert_eq!(text, "日本\\u{1b}x");
        assert_eq!(offset, 2 + 2 + 6);
        assert_eq!(len, 1);
        let (_, offset, len) = snippet("日本\u{1b}x", 2, Some(4));
        assert_eq!((offset, len), (2, 2 + 6));
    }

    #[test]
    fn long_lines_are_cut_around_the_span() {
        let line = format!("{}needle{}", "a".repeat(500), "b".repeat(500));
        let (text, offset, len) = snippet(&line, 501, Some(507));
        assert!(text.starts_with(ELLIPSIS) && text.ends_with(ELLIPSIS));
        assert_eq!(&text[offset..offset + len], "needle");
        assert_eq!(text.len(), 2 * ELLIPSIS.len() + 2 * CONTEXT_CHARS + 6);
    }

    #[test]
    fn summary_counts_severities_and_files() {
        use crate::finding::Span;
        use crate::rules::TYPOSQUAT;
        let at = |path: &str, severity| {
            Finding::new(&TYPOSQUAT, path, Span::line_start(1), "s", "m").with_severity(severity)
        };
        assert_eq!(summary(&[]), "no findings");
        assert_eq!(
            summary(&[at("a", Severity::Note)]),
            "0 errors, 0 warnings, 1 note in 1 file"
        );
        assert_eq!(
            summary(&[
                at("a", Severity::Error),
                at("b", Severity::Error),
                at("a", Severity::Warning),
            ]),
            "2 errors, 1 warning, 0 notes in 2 files"
        );
    }
}
