//! Every rule of the suite, in one registry.
//!
//! A rule id is a SARIF `ruleId`, an inline-ignore key and a config key at once, so once
//! published it is never renamed or reused. Each tool's rules carry the tool they belong to,
//! so that a binary can tell which ignores it is responsible for.

use crate::finding::Severity;

/// Which part of the suite owns a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Input problems every binary can report (unreadable files, malformed manifests, ignores).
    Core,
    Typo,
    Pin,
    Hub,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub tool: Tool,
    pub default_severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it matters and what to do; shown as SARIF help and in the text output's hint.
    pub help: &'static str,
    /// GitHub code scanning's `security-severity`, "0.1" to "10.0".
    pub security_severity: &'static str,
}

macro_rules! rules {
    ($( $konst:ident = $id:literal, $tool:ident, $sev:ident, $secsev:literal,
        $summary:literal, $help:literal; )*) => {
        $(
            pub static $konst: Rule = Rule {
                id: $id,
                tool: Tool::$tool,
                default_severity: Severity::$sev,
                summary: $summary,
                help: $help,
                security_severity: $secsev,
            };
        )*
        /// Every rule, in a stable order (SARIF `ruleIndex` follows it).
        pub static ALL: &[&Rule] = &[$(&$konst),*];
    };
}

rules! {
    // Core: problems with the input itself.
    FILE_SKIPPED = "file-skipped", Core, Note, "1.0",
        "A file could not be scanned",
        "The file is binary, not UTF-8, unreadable or larger than the scan limit, so it was skipped. Anything it declares went unchecked.";
    PARSE_ERROR = "parse-error", Core, Error, "5.0",
        "A dependency or configuration file could not be parsed",
        "The file is malformed (TOML, JSON, YAML, INI or requirements syntax), so the dependencies it declares could not be checked. Fix the syntax error at the given place.";
    INCLUDE_CYCLE = "include-cycle", Core, Error, "3.0",
        "A requirements file includes itself",
        "A chain of -r/-c includes leads back to a file already being read; pip fails with \"recursively references itself\". Remove the include that closes the cycle.";
    MISSING_INCLUDE = "missing-include", Core, Error, "3.0",
        "An included requirements file does not exist",
        "A -r/-c line names a file that is not there (paths are relative to the including file), so pip fails and the dependencies it should declare were not checked.";
    UNUSED_IGNORE = "unused-ignore", Core, Note, "0.1",
        "An inline ignore no longer matches any finding",
        "The `# mlsupply: ignore[rule]` comment suppresses nothing on its line. Remove it so that stale ignores do not pile up and hide future findings.";
    INVALID_IGNORE = "invalid-ignore", Core, Warning, "1.0",
        "An inline ignore is malformed",
        "Write `# mlsupply: ignore[rule-id] reason`: name known rule ids, separated by commas, and give a reason after the bracket.";

    // mlsupply-typo
    TYPOSQUAT = "typosquat", Typo, Warning, "7.5",
        "A dependency name looks like a typo of a popular package",
        "Typosquatters register names one slip away from popular packages and ship malware under them. Check that the name is the package you meant; if it is, allow it in [typo] allow with a reason.";
    NON_ASCII_NAME = "non-ascii-name", Typo, Error, "8.0",
        "A dependency name contains a non-ASCII character",
        "Package names on PyPI are ASCII. A look-alike character (a Kelvin sign, a long s, Cyrillic letters) can survive careless normalisation and resolve to a different package. Retype the name in plain ASCII.";
    UNKNOWN_PACKAGE = "unknown-package", Typo, Error, "8.0",
        "A dependency does not exist on the package index",
        "Anyone can register a missing name and publish code under it; code assistants invent such names. Fix the name, or publish or reserve it on your own index.";
}

/// The rule with id `id`, if there is one.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|rule| rule.id == id)
}

/// The rules a tool may report: its own plus the core ones.
pub fn for_tools(tools: &[Tool]) -> Vec<&'static Rule> {
    ALL.iter()
        .copied()
        .filter(|rule| rule.tool == Tool::Core || tools.contains(&rule.tool))
        .collect()
}
