//! The exit codes, the same for every binary and every output format.

use crate::finding::{Finding, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above `--fail-on`.
    Clean = 0,
    /// At least one finding at or above `--fail-on`.
    Findings = 1,
    /// A usage error or a runtime error (bad flags, bad configuration, no network when asked for it).
    Error = 2,
}

impl Exit {
    pub fn for_findings(findings: &[Finding], fail_on: Severity) -> Exit {
        if findings.iter().any(|f| f.severity >= fail_on) {
            Exit::Findings
        } else {
            Exit::Clean
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
