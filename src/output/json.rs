//! The `json` format: the versioned pipeline format that `mlsupply-comment` reads back.

use std::io::{self, Write};

use serde_json::Value;

use super::{Fix, JSON_VERSION, JsonReport, ReadJsonError, Report, escape};

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_with_fixes(report, &[], out)
}

pub(super) fn render_with_fixes(
    report: &Report,
    fixes: &[Fix],
    out: &mut dyn Write,
) -> io::Result<()> {
    let json = JsonReport {
        version: JSON_VERSION,
        tool: report.tool.to_string(),
        findings: report.findings.to_vec(),
        fixes: fixes.to_vec(),
    };
    let text = serde_json::to_string_pretty(&json).map_err(io::Error::other)?;
    writeln!(out, "{}", escape::json_without_legacy_commands(text))
}

/// Checks what kind of document `text` is before reading it as a report: a report of another
/// version may have a shape this build cannot parse, and "unsupported version" is the error
/// worth showing then. The second parse keeps line and column in shape errors.
pub(super) fn read(text: &str) -> Result<JsonReport, ReadJsonError> {
    let document: Value = serde_json::from_str(text).map_err(ReadJsonError::Syntax)?;
    let Value::Object(fields) = document else {
        return Err(ReadJsonError::NotAnObject);
    };
    if fields.contains_key("runs") {
        return Err(ReadJsonError::Sarif);
    }
    match fields.get("version") {
        None | Some(Value::Null) => return Err(ReadJsonError::MissingVersion),
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(JSON_VERSION)) => {}
        Some(other) => {
            return Err(ReadJsonError::UnsupportedVersion {
                found: other.to_string(),
            });
        }
    }
    serde_json::from_str(text).map_err(ReadJsonError::Shape)
}
