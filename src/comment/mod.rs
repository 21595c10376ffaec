//! `mlsupply-comment`: the pipeline's JSON reports, merged and shown on the pull request.
//!
//! [`merge`] reads the reports of `mlsupply-pin`, `mlsupply-typo`, `mlsupply-hub` and
//! `mlsupply check`; [`render`] turns the result into the sticky comment and the job summary
//! (pure functions, escaped with [`markdown`]); [`context`] reads the Actions environment and
//! event payload; [`github`] is the thin client over octocrab that finds, edits, creates and
//! de-duplicates the sticky comment. The binary `src/bin/mlsupply-comment.rs` wires them.

pub mod context;
pub mod github;
pub mod markdown;
pub mod render;

use std::collections::HashSet;

use crate::finding::{Finding, Severity};
use crate::output::{Fix, JsonReport};

/// One finding and the tool whose report it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub tool: String,
    pub finding: Finding,
}

/// Every report of a run, merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Sorted by path, line, column and rule; each finding once.
    pub items: Vec<Item>,
    /// One per file (the first report's, when two propose a fix for the same file).
    pub fixes: Vec<Fix>,
}

/// Findings and fixes of several reports, findings de-duplicated by fingerprint (`mlsupply
/// check` and `mlsupply-typo` report the same typosquat with the same fingerprint). A finding
/// without a fingerprint (a hand-written report) is compared by its place and text instead.
pub fn merge(reports: &[JsonReport]) -> Merged {
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    let mut fixes: Vec<Fix> = Vec::new();
    for report in reports {
        for finding in &report.findings {
            let key = if finding.fingerprint.is_empty() {
                format!(
                    "{}\0{}\0{}\0{}\0{}\0{}",
                    finding.rule,
                    finding.path,
                    finding.line,
                    finding.column,
                    finding.subject,
                    finding.message
                )
            } else {
                finding.fingerprint.clone()
            };
            if seen.insert(key) {
                items.push(Item {
                    tool: report.tool.clone(),
                    finding: finding.clone(),
                });
            }
        }
        for fix in &report.fixes {
            if !fixes.iter().any(|f| f.path == fix.path) {
                fixes.push(fix.clone());
            }
        }
    }
    items.sort_by(|a, b| {
        let (a, b) = (&a.finding, &b.finding);
        (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    fixes.sort_by(|a, b| a.path.cmp(&b.path));
    Merged { items, fixes }
}

/// How many findings of each severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Counts {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            counts.add(finding.severity);
        }
        counts
    }

    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Note => self.notes += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.notes
    }

    /// `3 errors, 1 warning and 2 notes`, leaving out zeros; `no findings` when all are.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.errors, "error"),
            (self.warnings, "warning"),
            (self.notes, "note"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, noun)| plural(n, noun))
        .collect();
        match parts.as_slice() {
            [] => "no findings".to_string(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
}

/// `1 error`, `2 errors`; thousands separated (`1,234 findings`).
pub fn plural(n: usize, noun: &str) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{grouped} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, line: u32, fingerprint: &str) -> Finding {
        Finding {
            rule: "typosquat".into(),
            severity: Severity::Warning,
            message: "m".into(),
            path: path.into(),
            line,
            column: 1,
            end_line: line,
            end_column: 2,
            subject: "s".into(),
            suggestion: None,
            fingerprint: fingerprint.into(),
        }
    }

    fn report(tool: &str, findings: Vec<Finding>, fixes: Vec<Fix>) -> JsonReport {
        JsonReport {
            version: 1,
            tool: tool.into(),
            findings,
            fixes,
        }
    }

    #[test]
    fn merging_deduplicates_by_fingerprint_and_sorts() {
        let fix = |path: &str, diff: &str| Fix {
            path: path.into(),
            diff: diff.into(),
        };
        let merged = merge(&[
            report(
                "mlsupply",
                vec![finding("b.txt", 1, "f1"), finding("a.txt", 9, "f2")],
                vec![],
            ),
            report(
                "mlsupply-typo",
                vec![finding("b.txt", 1, "f1"), finding("a.txt", 2, "")],
                vec![fix("z", "1"), fix("a", "2")],
            ),
            report(
                "mlsupply-pin",
                vec![finding("a.txt", 2, "")],
                vec![fix("z", "3")],
            ),
        ]);
        let places: Vec<(&str, u32, &str)> = merged
            .items
            .iter()
            .map(|i| (i.finding.path.as_str(), i.finding.line, i.tool.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                ("a.txt", 2, "mlsupply-typo"),
                ("a.txt", 9, "mlsupply"),
                ("b.txt", 1, "mlsupply")
            ]
        );
        assert_eq!(merged.fixes, [fix("a", "2"), fix("z", "1")]);
    }

    #[test]
    fn counts_read_as_prose() {
        let counts = Counts {
            errors: 2,
            warnings: 1,
            notes: 1234,
        };
        assert_eq!(counts.describe(), "2 errors, 1 warning and 1,234 notes");
        assert_eq!(Counts::default().describe(), "no findings");
    }
}
