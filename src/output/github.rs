//! The `github` format: one GitHub Actions workflow command per finding, which the runner turns
//! into an annotation on the file and line:
//!
//! ```text
//! ::warning file=requirements.txt,line=3,col=1,endLine=3,endColumn=9,title=mlsupply-typo%3A typosquat::message
//! ```
//!
//! Escaping follows `actions/toolkit`'s `command.ts` (`escapeData`, `escapeProperty`): after it,
//! no data can end the line, so a crafted message or path cannot start a command of its own
//! (`::stop-commands::`, `::add-mask::`, ...), and no property value can close the property list.
//! Other control characters are shown as visible escapes, as in the `text` format, since the
//! Actions log viewer interprets ANSI sequences. Every line written is such a command, so no
//! plain line is left for the runner's older `##[command]` syntax to be looked for in.
//!
//! GitHub keeps only [`ANNOTATIONS_PER_LEVEL`] annotations of each level per step and drops the
//! rest silently. So errors come first, then warnings, then notices, each level capped, and when
//! anything is left out a last notice says how much and where to see it.

use std::io::{self, Write};

use super::{Report, escape, plural};
use crate::finding::{Finding, Severity};

/// How many annotations of one level GitHub shows for a step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let budget = Budget::plan(report.findings);
    for finding in &budget.shown {
        writeln!(out, "{}", command(report.tool, finding))?;
    }
    if let Some(notice) = budget.left_out_notice(report.tool) {
        writeln!(out, "{notice}")?;
    }
    Ok(())
}

/// Which findings become annotations, and how many of each severity are left out.
struct Budget<'a> {
    shown: Vec<&'a Finding>,
    left_out: [(Severity, usize); 3],
}

impl<'a> Budget<'a> {
    fn plan(findings: &'a [Finding]) -> Budget<'a> {
        let of = |severity| findings.iter().filter(move |f| f.severity == severity);
        let count = |severity| of(severity).count();
        let over = |severity| count(severity).saturating_sub(ANNOTATIONS_PER_LEVEL);
        // The closing notice takes one of the notice slots when anything is left out.
        let overflow = over(Severity::Error) + over(Severity::Warning) + over(Severity::Note) > 0;
        let note_cap = ANNOTATIONS_PER_LEVEL - usize::from(overflow);

        let mut shown = Vec::new();
        let mut left_out = [
            (Severity::Error, 0),
            (Severity::Warning, 0),
            (Severity::Note, 0),
        ];
        for (severity, dropped) in &mut left_out {
            let cap = match severity {
                Severity::Note => note_cap,
                _ => ANNOTATIONS_PER_LEVEL,
            };
            shown.extend(of(*severity).take(cap));
            *dropped = count(*severity).saturating_sub(cap);
        }
        Budget { shown, left_out }
    }

    fn left_out_notice(&self, tool: &str) -> Option<String> {
        let total: usize = self.left_out.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let breakdown = self
            .left_out
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(severity, n)| plural(*n, severity.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let noun = if total == 1 { "finding" } else { "findings" };
        let message = format!(
            "{total} more {noun} not shown as annotations ({breakdown}): GitHub shows at most \
             {ANNOTATIONS_PER_LEVEL} per level in a step. Run {tool} with --format text, json \
             or sarif to see every finding."
        );
        let title = format!("{tool}: more findings");
        Some(format!(
            "::notice title={}::{}",
            escape_property(&title),
            escape_data(&message)
        ))
    }
}

fn command(tool: &str, finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let properties = properties(tool, finding)
        .into_iter()
        .map(|(key, value)| format!("{key}={}", escape_property(&value)))
        .collect::<Vec<_>>()
        .join(",");
    format!("::{level} {properties}::{}", escape_data(&message(finding)))
}

/// The annotation's properties. Columns are only given for a span on one line: GitHub ignores
/// them otherwise. Positions of 0 (unknown) are left out rather than sent as invalid values.
fn properties(tool: &str, finding: &Finding) -> Vec<(&'static str, String)> {
    let mut properties = vec![("file", finding.path.clone())];
    if finding.line > 0 {
        let end_line = finding.end_line.max(finding.line);
        properties.push(("line", finding.line.to_string()));
        if finding.column > 0 && end_line == finding.line {
            let end_column = finding.end_column.max(finding.column);
            properties.push(("col", finding.column.to_string()));
            properties.push(("endLine", end_line.to_string()));
            properties.push(("endColumn", end_column.to_string()));
        } else {
            properties.push(("endLine", end_line.to_string()));
        }
    }
    properties.push(("title", format!("{tool}: {}", finding.rule)));
    properties
}

fn message(finding: &Finding) -> String {
    match &finding.suggestion {
        Some(suggestion) => format!("{}\nhelp: {suggestion}", finding.message),
        None => finding.message.clone(),
    }
}

/// `escapeData` of actions/toolkit, plus visible escapes for other control characters and `##[`.
fn escape_data(text: &str) -> String {
    escape_with(text, |c| match c {
        '%' => Some("%25"),
        '\r' => Some("%0D"),
        '\n' => Some("%0A"),
        _ => None,
    })
}

/// `escapeProperty` of actions/toolkit, plus visible escapes for other control characters and
/// `##[`.
fn escape_property(text: &str) -> String {
    escape_with(text, |c| match c {
        '%' => Some("%25"),
        '\r' => Some("%0D"),
        '\n' => Some("%0A"),
        ':' => Some("%3A"),
        ',' => Some("%2C"),
        _ => None,
    })
}

fn escape_with(text: &str, percent: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match percent(c) {
            Some(encoded) => out.push_str(encoded),
            None => escape::push_safe(&mut out, c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escaping_matches_the_toolkit() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn property_escaping_matches_the_toolkit() {
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    }

    #[test]
    fn other_controls_become_visible() {
        assert_eq!(escape_data("\u{1b}[2J\u{202e}"), "\\u{1b}[2J\\u{202e}");
        assert_eq!(escape_property("\t"), "\\t");
    }
}
