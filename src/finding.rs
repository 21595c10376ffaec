//! The one currency of the suite: a finding about a place in a scanned file.
//!
//! Every binary produces `Finding`s, every output format renders them, and `mlsupply-comment`
//! reads them back from the JSON format, so the serialised shape is a public contract
//! (`version: 1` in the JSON report): add fields, never rename or remove them.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::Rule;
use crate::source::SourceFile;

/// How bad a finding is. Ordered: `Note < Warning < Error`, so `>=` compares against `--fail-on`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region of a file. Lines and columns are 1-based; columns count Unicode scalar values
/// (SARIF `columnKind: unicodeCodePoints`); `end_column` is exclusive, as in SARIF.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Span {
    /// The whole of line `line` is not known: point at its first column.
    pub fn line_start(line: u32) -> Span {
        Span {
            line,
            column: 1,
            end_line: line,
            end_column: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case rule id (see [`crate::rules`]); never renamed once published.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Relative to the scanned root, with `/` separators.
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// What the finding is about: a package name, a model id, a file.
    pub subject: String,
    pub suggestion: Option<String>,
    /// Stays the same across runs while the finding does (line moves do not change it).
    /// Filled in by [`assign_fingerprints`] once a scan is complete.
    #[serde(default)]
    pub fingerprint: String,
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(
        rule: &Rule,
        path: impl Into<String>,
        span: Span,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule: rule.id.to_string(),
            severity: rule.default_severity,
            message: message.into(),
            path: path.into(),
            line: span.line,
            column: span.column,
            end_line: span.end_line,
            end_column: span.end_column,
            subject: subject.into(),
            suggestion: None,
            fingerprint: String::new(),
        }
    }

    /// A finding about `file` at `span`.
    pub fn at(
        rule: &Rule,
        file: &SourceFile,
        span: Span,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(rule, file.rel_path.clone(), span, subject, message)
    }

    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Finding {
        self.suggestion = Some(suggestion.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub fn span(&self) -> Span {
        Span {
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
        }
    }
}

/// Sorts findings by place and gives each a fingerprint: a hash of rule, path, subject and the
/// finding's rank among findings sharing those three. The line number is left out on purpose,
/// so inserting a line above a finding keeps its fingerprint (and its GitHub alert).
pub fn assign_fingerprints(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule, &a.subject)
            .cmp(&(&b.path, b.line, b.column, &b.rule, &b.subject))
    });
    // Each finding's rank among those with its rule, path and subject (keys borrowed, not copied).
    let mut seen: HashMap<(&str, &str, &str), u32> = HashMap::new();
    let ranks: Vec<u32> = findings
        .iter()
        .map(|f| {
            let rank = seen
                .entry((f.rule.as_str(), f.path.as_str(), f.subject.as_str()))
                .or_insert(0);
            *rank += 1;
            *rank - 1
        })
        .collect();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (finding, rank) in findings.iter_mut().zip(ranks) {
        let mut hasher = Sha256::new();
        for part in [&finding.rule, &finding.path, &finding.subject] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(rank.to_le_bytes());
        let digest = hasher.finalize();
        // The first 16 bytes in lower-case hex, without a `format!` per byte.
        let mut fingerprint = String::with_capacity(32);
        for b in &digest[..16] {
            fingerprint.push(char::from(HEX[usize::from(b >> 4)]));
            fingerprint.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        finding.fingerprint = fingerprint;
    }
}

/// The highest severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
