//! Rendering findings: `text`, `json`, `sarif` and `github`, shared by every binary.
//!
//! STUB: interface fixed, body to be written (helper "output").

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::rules::Rule;
use crate::source::SourceMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
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

/// The `json` format, version 1: the pipeline format `mlsupply-comment` reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonReport {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Finding>,
}

pub fn render(format: Format, report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let _ = (format, color);
    let json = JsonReport {
        version: 1,
        tool: report.tool.to_string(),
        findings: report.findings.to_vec(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}
