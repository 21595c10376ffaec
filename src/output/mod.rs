//! Rendering findings: `text`, `json`, `sarif` and `github`, shared by every binary.
//!
//! Every renderer writes to the writer it is handed and never to stdout itself. Text that came
//! from a scanned repository (messages, subjects, paths, source lines, suggestions) is untrusted:
//! the `text` and `github` formats escape it (see [`sanitize_terminal`]); `json` and `sarif` leave
//! it to JSON string escaping, and their consumers must treat it as untrusted too.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::rules::Rule;
use crate::source::SourceMap;

mod escape;
pub use escape::is_invisible;
mod github;
mod json;
mod sarif;
mod text;

pub use github::ANNOTATIONS_PER_LEVEL as GITHUB_ANNOTATIONS_PER_LEVEL;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
    Sarif,
    Github,
}

impl Format {
    /// The name `--format` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a binary hands to a renderer.
pub struct Report<'a> {
    /// The binary's name: `mlsupply-typo`, `mlsupply`, ...
    pub tool: &'a str,
    pub findings: &'a [Finding],
    /// The rules this run could report (SARIF lists them).
    pub rules: &'a [&'static Rule],
    /// The scanned files, for showing source lines.
    pub sources: &'a SourceMap,
}

/// The version of the `json` format this build writes and reads.
pub const JSON_VERSION: u32 = 1;

/// The `json` format, version 1: the pipeline format `mlsupply-comment` reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonReport {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Finding>,
    /// Proposed fixes, one per file (added in version 1; absent when empty, so older readers
    /// never see it). `mlsupply-pin` fills it with the diff `--fix` would write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

/// A proposed change to one file: the unified diff a fixer would apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// Relative to the scanned root, with `/` separators.
    pub path: String,
    /// A unified diff (`--- a/path`, `+++ b/path`) with credentials masked.
    pub diff: String,
}

/// Why a `json` report could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadJsonError {
    #[error("not valid JSON: {0}")]
    Syntax(#[source] serde_json::Error),
    #[error("not an mlsupply JSON report: the document is not a JSON object")]
    NotAnObject,
    #[error("not an mlsupply JSON report: it has no \"version\" field")]
    MissingVersion,
    #[error(
        "this is a SARIF log, not an mlsupply JSON report: write the report with --format json"
    )]
    Sarif,
    #[error(
        "unsupported mlsupply JSON report version {found}: this build reads version {JSON_VERSION}"
    )]
    UnsupportedVersion {
        /// The `version` value as found, in JSON notation.
        found: String,
    },
    #[error("malformed mlsupply JSON report (version {JSON_VERSION}): {0}")]
    Shape(#[source] serde_json::Error),
}

/// Writes `report` in `format`. `color` only affects `text`: ANSI styles are written when it
/// is true and never otherwise.
pub fn render(format: Format, report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, out, color),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, out),
    }
}

/// Writes `report` in the `json` format with `fixes` attached: what `mlsupply-pin` writes, since
/// its check and `--diff` modes know the diff `--fix` would write.
pub fn render_json_with_fixes(
    report: &Report,
    fixes: &[Fix],
    out: &mut dyn Write,
) -> io::Result<()> {
    json::render_with_fixes(report, fixes, out)
}

/// Reads a report written by the `json` format. Accepts version 1 only and says so otherwise.
pub fn read_json(text: &str) -> Result<JsonReport, ReadJsonError> {
    json::read(text)
}

/// `text` made safe for a terminal or a CI log: control characters (ESC, CR, BEL, C1 controls,
/// ...), Unicode line separators and bidi overrides are shown as visible escapes such as
/// `\u{1b}` and `\n`. Binaries use it for repository text they print outside a renderer,
/// such as a path in an error message.
pub fn sanitize_terminal(text: &str) -> Cow<'_, str> {
    escape::sanitize(text)
}

/// `1 error`, `2 errors`: the counts that summaries show.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
