//! pip requirements and constraints files: every project name, every `-r`/`-c` include, and
//! every line pip would refuse, read with the lossless parser in [`crate::reqfile`].

use super::{DeclaredDep, Extracted, Include};
use crate::finding::{Finding, Severity};
use crate::reqfile::{self, DiagnosticSeverity, EntryKind};
use crate::rules;
use crate::source::SourceFile;

/// Names (as written, span of the name only) from PEP 508 requirements, `name @ url`, wheel
/// file names and `#egg=` fragments, including the leading word of a line pip refuses (so a
/// look-alike name is still checked); includes resolved against the including file's directory
/// (URL targets and targets with `${VAR}` are not followed); each parser diagnostic as a
/// `parse-error` finding, at warning severity for what pip only warns about or ignores.
pub fn extract(file: &SourceFile) -> Extracted {
    let parsed = reqfile::parse(&file.text);
    let mut out = Extracted::default();
    let base = file.abs_path.parent().map(|dir| dir.to_path_buf());
    for entry in &parsed.entries {
        for diagnostic in &entry.diagnostics {
            // The subject is shown and fingerprinted: a name, never raw line text (which may
            // hold credentials).
            let subject = entry
                .requirement()
                .and_then(|requirement| requirement.name())
                .map_or_else(|| file.rel_path.clone(), |name| name.value.clone());
            let mut finding = Finding::at(
                &rules::PARSE_ERROR,
                file,
                file.span(diagnostic.range.clone()),
                subject,
                diagnostic.message.clone(),
            );
            if diagnostic.severity == DiagnosticSeverity::Warning {
                finding = finding.with_severity(Severity::Warning);
            }
            out.findings.push(finding);
        }
        match &entry.kind {
            EntryKind::Requirement(requirement) => {
                if let Some(name) = requirement.name() {
                    out.deps.push(DeclaredDep {
                        name: name.value.clone(),
                        span: file.span(name.range.clone()),
                    });
                }
            }
            EntryKind::Options(_) => {
                let Some(include) = entry.include() else {
                    continue;
                };
                if include.is_url() || include.has_env_var() || include.target.value.is_empty() {
                    continue;
                }
                let written = include.target.value.clone();
                let path = match &base {
                    Some(dir) => dir.join(&written),
                    None => written.clone().into(),
                };
                out.includes.push(Include {
                    path,
                    written,
                    constraint: include.constraint,
                    span: file.span(entry.content.clone().unwrap_or(entry.range.clone())),
                });
            }
            EntryKind::Blank => {}
        }
    }
    out
}
