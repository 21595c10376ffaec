//! The `json` format: the versioned pipeline format that `mlsupply-comment` reads back.

use std::io::{self, Write};

use serde::Deserialize;

use super::{JSON_VERSION, JsonReport, ReadJsonError, Report};

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let json = JsonReport {
        version: JSON_VERSION,
        tool: report.tool.to_string(),
        findings: report.findings.to_vec(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}

/// Only the version, read first: a report of another version may have a shape this build
/// cannot parse, and "unsupported version" is the error worth showing then.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

pub(super) fn read(text: &str) -> Result<JsonReport, ReadJsonError> {
    let probe: VersionProbe = serde_json::from_str(text).map_err(ReadJsonError::Syntax)?;
    match probe.version {
        None | Some(serde_json::Value::Null) => return Err(ReadJsonError::MissingVersion),
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(JSON_VERSION)) => {}
        Some(other) => {
            return Err(ReadJsonError::UnsupportedVersion {
                found: other.to_string(),
            });
        }
    }
    serde_json::from_str(text).map_err(ReadJsonError::Shape)
}
