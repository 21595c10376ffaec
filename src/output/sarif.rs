//! The `sarif` format: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! One run per report. Its `automationDetails.id` is `<tool>/`, so the uploads of the different
//! binaries for one commit stay apart. Rules come from the report (plus any rule a finding
//! names that the report left out); results point at them by id and index. GitHub rejects
//! zero lines and columns and empty required strings, so regions are clamped to 1 and empty
//! messages fall back to the rule's summary.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::io::{self, Write};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;

use super::{Report, escape};
use crate::finding::{Finding, Severity};
use crate::rules::{self, Rule};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const VERSION: &str = "2.1.0";
const SRCROOT: &str = "%SRCROOT%";
const TAGS: [&str; 2] = ["security", "supply-chain"];
/// Our own fingerprint key, next to GitHub's `primaryLocationLineHash`.
const FINGERPRINT_KEY: &str = "mlsupply/v1";

/// Bytes of a relative path that must be percent-encoded in a URI reference: those outside
/// RFC 3986's `pchar` and `/`. `:` too, lest a first segment such as `c:x` read as a scheme.
/// Non-ASCII bytes are always encoded.
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(&log(report)).map_err(io::Error::other)?;
    writeln!(out, "{}", escape::json_without_legacy_commands(text))
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    automation_details: AutomationDetails,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

/// A SARIF `reportingDescriptor`: one rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties<'a>>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    subject: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

fn log<'a>(report: &'a Report) -> Log<'a> {
    let mut rules = RuleTable::new(report.rules);
    let results = report
        .findings
        .iter()
        .map(|finding| result(finding, &mut rules))
        .collect();
    Log {
        schema: SCHEMA,
        version: VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool,
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules.descriptors,
                },
            },
            automation_details: AutomationDetails {
                id: format!("{}/", report.tool),
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

/// The run's rules, growing when a finding names a rule the report did not list.
struct RuleTable {
    descriptors: Vec<Descriptor>,
    index: HashMap<String, usize>,
}

impl RuleTable {
    fn new(rules: &[&'static Rule]) -> RuleTable {
        let mut table = RuleTable {
            descriptors: Vec::with_capacity(rules.len()),
            index: HashMap::new(),
        };
        for rule in rules {
            if !table.index.contains_key(rule.id) {
                table.push(Descriptor::from_rule(rule));
            }
        }
        table
    }

    fn push(&mut self, descriptor: Descriptor) -> usize {
        let index = self.descriptors.len();
        self.index.insert(descriptor.id.clone(), index);
        self.descriptors.push(descriptor);
        index
    }

    /// The index of `finding`'s rule, adding it first if needed.
    fn index_of(&mut self, finding: &Finding) -> usize {
        if let Some(&index) = self.index.get(&finding.rule) {
            return index;
        }
        let descriptor = match rules::find(&finding.rule) {
            Some(rule) => Descriptor::from_rule(rule),
            None => Descriptor::unknown(&finding.rule, finding.severity),
        };
        self.push(descriptor)
    }
}

impl Descriptor {
    fn from_rule(rule: &Rule) -> Descriptor {
        Descriptor {
            id: rule.id.to_string(),
            short_description: Text {
                text: rule.summary.to_string(),
            },
            full_description: Text {
                text: rule.help.to_string(),
            },
            help: Help {
                text: rule.help.to_string(),
                markdown: format!("**{}**\n\n{}", rule.summary, rule.help),
            },
            default_configuration: Configuration {
                level: level(rule.default_severity),
            },
            properties: RuleProperties {
                tags: TAGS,
                security_severity: Some(rule.security_severity),
            },
        }
    }

    /// A rule this build does not know (a report read back from a newer version, say): listed
    /// with what little is known, so that the result still points at a rule.
    fn unknown(id: &str, severity: Severity) -> Descriptor {
        let text = format!("Rule `{id}` is not known to this version of mlsupply.");
        Descriptor {
            id: id.to_string(),
            short_description: Text {
                text: format!("Rule {id}"),
            },
            full_description: Text { text: text.clone() },
            help: Help {
                markdown: text.clone(),
                text,
            },
            default_configuration: Configuration {
                level: level(severity),
            },
            properties: RuleProperties {
                tags: TAGS,
                security_severity: None,
            },
        }
    }
}

fn result<'a>(finding: &'a Finding, rules: &mut RuleTable) -> SarifResult<'a> {
    let rule_index = rules.index_of(finding);
    let mut text = finding.message.clone();
    if text.trim().is_empty() {
        text = rules.descriptors[rule_index].short_description.text.clone();
    }
    if let Some(suggestion) = finding.suggestion.as_deref().filter(|s| !s.is_empty()) {
        text = format!("{text}\nhelp: {suggestion}");
    }
    SarifResult {
        rule_id: &finding.rule,
        rule_index,
        level: level(finding.severity),
        message: Text { text },
        locations: location(finding).into_iter().collect(),
        partial_fingerprints: fingerprints(finding),
        properties: (!finding.subject.is_empty()).then_some(ResultProperties {
            subject: &finding.subject,
        }),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `None` for a finding without a path: an empty `uri` is what GitHub rejects.
fn location(finding: &Finding) -> Option<Location> {
    if finding.path.is_empty() {
        return None;
    }
    Some(Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri(&finding.path),
                uri_base_id: SRCROOT,
            },
            region: region(finding),
        },
    })
}

/// A relative path as a URI reference: `/` kept, everything else outside `pchar` encoded.
fn uri(path: &str) -> String {
    utf8_percent_encode(path, URI_PATH).to_string()
}

/// The finding's span with every number at least 1 and the end not before the start. An empty
/// span on one line covers one column, so that the alert has something to point at.
fn region(finding: &Finding) -> Region {
    let start_line = finding.line.max(1);
    let start_column = finding.column.max(1);
    let end_line = finding.end_line.max(start_line);
    let mut end_column = finding.end_column.max(1);
    if end_line == start_line && end_column <= start_column {
        end_column = start_column + 1;
    }
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// Left out while the finding has no fingerprint: `upload-sarif` then computes its own.
fn fingerprints(finding: &Finding) -> BTreeMap<&'static str, String> {
    let mut map = BTreeMap::new();
    if !finding.fingerprint.is_empty() {
        map.insert(
            "primaryLocationLineHash",
            format!("{}:1", finding.fingerprint),
        );
        map.insert(FINGERPRINT_KEY, finding.fingerprint.clone());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Span;

    fn finding_at(line: u32, column: u32, end_line: u32, end_column: u32) -> Finding {
        let span = Span {
            line,
            column,
            end_line,
            end_column,
        };
        Finding::new(&rules::TYPOSQUAT, "r.txt", span, "x", "m")
    }

    #[test]
    fn uris_encode_what_is_not_a_path_character() {
        assert_eq!(uri("requirements/train.txt"), "requirements/train.txt");
        assert_eq!(uri("my dir/a#b?.txt"), "my%20dir/a%23b%3F.txt");
        assert_eq!(uri("c:x/100%.txt"), "c%3Ax/100%25.txt");
        assert_eq!(uri("données/é.txt"), "donn%C3%A9es/%C3%A9.txt");
    }

    #[test]
    fn regions_are_clamped_to_one_and_never_inverted() {
        let region = |f: Finding| {
            let r = super::region(&f);
            (r.start_line, r.start_column, r.end_line, r.end_column)
        };
        assert_eq!(region(finding_at(4, 1, 4, 11)), (4, 1, 4, 11));
        assert_eq!(region(finding_at(0, 0, 0, 0)), (1, 1, 1, 2));
        assert_eq!(region(finding_at(3, 5, 3, 5)), (3, 5, 3, 6));
        assert_eq!(region(finding_at(3, 5, 2, 1)), (3, 5, 3, 6));
        assert_eq!(region(finding_at(3, 5, 6, 1)), (3, 5, 6, 1));
    }
}
