//! The four output formats on a fixed set of findings, on hostile text from a scanned
//! repository, and SARIF validated against the official SARIF 2.1.0 schema.

use std::sync::OnceLock;

use mlsupply::finding::{Finding, Severity, Span};
use mlsupply::output::{self, Format, JsonReport, ReadJsonError, Report};
use mlsupply::rules::{self, Rule};
use mlsupply::source::{SourceFile, SourceMap};
use serde_json::{Value, json};

const TOOL: &str = "mlsupply-typo";

const REQUIREMENTS: &str = "numpy==1.26.4\nreqeusts==2.31.0\n\ttorhc>=2.2  # tab-indented\n";
const PYPROJECT: &str =
    "[project]\nname = \"demo\"\ndependencies = [\n  \"pandas\",\n  \"scikit-learn\"\n";

fn span(line: u32, column: u32, end_line: u32, end_column: u32) -> Span {
    Span {
        line,
        column,
        end_line,
        end_column,
    }
}

fn sources() -> SourceMap {
    let mut map = SourceMap::default();
    for (path, text) in [
        ("requirements.txt", REQUIREMENTS),
        ("pyproject.toml", PYPROJECT),
    ] {
        map.insert(SourceFile::new(path, path, text.to_string()));
    }
    map
}

/// Findings of every severity: one-line spans, a span after a tab, a multi-line span, and a
/// file-level finding whose file is not in the source map. Fingerprints are fixed strings so
/// that the expected outputs do not depend on the hash.
fn findings() -> Vec<Finding> {
    let mut findings = vec![
        Finding::new(
            &rules::TYPOSQUAT,
            "requirements.txt",
            span(2, 1, 2, 9),
            "reqeusts",
            "`reqeusts` is one letter swap away from the popular package `requests`",
        )
        .with_suggestion("requests"),
        Finding::new(
            &rules::UNKNOWN_PACKAGE,
            "requirements.txt",
            span(3, 2, 3, 7),
            "torhc",
            "`torhc` does not exist on PyPI",
        )
        .with_suggestion("torch"),
        Finding::new(
            &rules::PARSE_ERROR,
            "pyproject.toml",
            span(3, 16, 6, 1),
            "pyproject.toml",
            "unclosed array",
        ),
        // A note (a path passed over by policy), so that every severity is rendered.
        Finding::new(
            &rules::FILE_SKIPPED,
            "models/weights.bin",
            span(0, 0, 0, 0),
            "models/weights.bin",
            "binary file skipped",
        )
        .with_severity(Severity::Note),
    ];
    for (i, finding) in findings.iter_mut().enumerate() {
        finding.fingerprint = format!("{i}{}", "f".repeat(31));
    }
    findings
}

fn typo_rules() -> Vec<&'static Rule> {
    rules::for_tools(&[rules::Tool::Typo])
}

fn render(format: Format, findings: &[Finding], rules: &[&'static Rule], color: bool) -> String {
    let sources = sources();
    let report = Report {
        tool: TOOL,
        findings,
        rules,
        sources: &sources,
    };
    let mut out = Vec::new();
    output::render(format, &report, &mut out, color).expect("rendering to a Vec cannot fail");
    String::from_utf8(out).expect("renderers write UTF-8")
}

/// A finding whose every field a hostile repository controls: terminal escapes (CSI, OSC 8
/// hyperlinks, C1 CSI), CR and LF, BEL, bidi overrides, `%`, `::`, and workflow commands in
/// both the `::command::` and the legacy `##[command]` forms.
fn hostile() -> Finding {
    Finding::new(
        &rules::TYPOSQUAT,
        "##[stop-commands]tok/evil\u{1b}]8;;http://x\u{7}dir/a:b,c%0A.txt",
        span(1, 1, 1, 5),
        "\u{202e}txt.exe ##[error]x",
        "bad\u{1b}[2J\r::add-mask::secret\n::stop-commands::tok 100%\u{9b}1m \u{2066}x\u{2069} \
         ##[set-output name=verdict;]clean",
    )
    .with_suggestion("line1\n::error::forged\r\n%0A")
}

fn hostile_sources() -> SourceMap {
    let mut map = SourceMap::default();
    let path = hostile().path;
    map.insert(SourceFile::new(
        path.clone(),
        path,
        "req\u{1b}[31m\u{202e}==1 # ##[add-mask]req\n".to_string(),
    ));
    map
}

fn render_hostile(format: Format, color: bool) -> String {
    let sources = hostile_sources();
    let findings = [hostile()];
    let report = Report {
        tool: TOOL,
        findings: &findings,
        rules: &[],
        sources: &sources,
    };
    let mut out = Vec::new();
    output::render(format, &report, &mut out, color).unwrap();
    String::from_utf8(out).unwrap()
}

/// Characters that must never reach a terminal raw (LF aside, which ends our own lines).
fn raw_dangerous(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c != '\n' && output::sanitize_terminal(&c.to_string()) != c.to_string())
        .collect()
}

/// The workflow commands the GitHub Actions runner could find in `log`, by the rules of
/// actions/runner's `ActionCommand.TryParseV2` (a line starting with `::`, after leading
/// whitespace, naming a command up to the next `::`) and `TryParse` (the legacy
/// `##[command ...]` anywhere in the line). The runner splits lines on CR as well as LF.
fn runner_commands(log: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for line in log.split(['\n', '\r']) {
        let v2 = line
            .trim_start()
            .strip_prefix("::")
            .and_then(|rest| rest.find("::").map(|end| &rest[..end]));
        let legacy = line.find("##[").and_then(|start| {
            line[start..]
                .find(']')
                .map(|len| &line[start + 3..start + len])
        });
        // Both forms are looked for on every line: stricter than the runner, which tries the
        // legacy form only when a line is not a command of the `::` form.
        for info in [v2, legacy].into_iter().flatten() {
            commands.push(info.split(' ').next().unwrap().to_string());
        }
    }
    commands
}

#[test]
fn hostile_text_starts_no_workflow_command_in_any_format() {
    assert_eq!(
        runner_commands("  ::add-mask::x\nok ##[set-output name=a;]b\r::notice::n"),
        ["add-mask", "set-output", "notice"]
    );
    for color in [false, true] {
        let text = render_hostile(Format::Text, color);
        assert_eq!(runner_commands(&text), Vec::<String>::new(), "{text}");
    }
    for format in [Format::Json, Format::Sarif] {
        let text = render_hostile(format, false);
        assert_eq!(runner_commands(&text), Vec::<String>::new(), "{text}");
    }
    let text = render_hostile(Format::Github, false);
    assert_eq!(runner_commands(&text), ["warning"], "{text}");
}

// ---------------------------------------------------------------------------------------
// text

const EXPECTED_TEXT: &str = "\
warning[typosquat]: `reqeusts` is one letter swap away from the popular package `requests`
 --> requirements.txt:2:1
  |
2 | reqeusts==2.31.0
  | ^^^^^^^^
  = help: requests

error[unknown-package]: `torhc` does not exist on PyPI
 --> requirements.txt:3:2
  |
3 |     torhc>=2.2  # tab-indented
  |     ^^^^^
  = help: torch

error[parse-error]: unclosed array
 --> pyproject.toml:3:16
  |
3 | dependencies = [
  |                ^

note[file-skipped]: binary file skipped
 --> models/weights.bin

2 errors, 1 warning, 1 note in 3 files
";

#[test]
fn text_without_colour_is_exact() {
    assert_eq!(
        render(Format::Text, &findings(), &typo_rules(), false),
        EXPECTED_TEXT
    );
}

#[test]
fn text_with_colour_is_the_same_text_plus_ansi_styles() {
    let colored = render(Format::Text, &findings(), &typo_rules(), true);
    assert!(colored.contains("\u{1b}["), "no ANSI styles in {colored:?}");
    assert_eq!(
        anstream::adapter::strip_str(&colored).to_string(),
        EXPECTED_TEXT
    );
}

#[test]
fn text_without_colour_has_no_escape_character() {
    let plain = render(Format::Text, &findings(), &typo_rules(), false);
    assert!(!plain.contains('\u{1b}'));
}

#[test]
fn text_without_findings_says_so() {
    assert_eq!(
        render(Format::Text, &[], &typo_rules(), false),
        "no findings\n"
    );
    assert_eq!(
        render(Format::Text, &[], &typo_rules(), true),
        "no findings\n"
    );
}

#[test]
fn text_line_numbers_widen_the_gutter() {
    let text: String = (1..=120).map(|i| format!("pkg{i}\n")).collect();
    let mut sources = SourceMap::default();
    sources.insert(SourceFile::new("r.txt", "r.txt", text));
    let findings = [Finding::new(
        &rules::TYPOSQUAT,
        "r.txt",
        span(117, 1, 117, 7),
        "pkg117",
        "m",
    )];
    let report = Report {
        tool: TOOL,
        findings: &findings,
        rules: &[],
        sources: &sources,
    };
    let mut out = Vec::new();
    output::render(Format::Text, &report, &mut out, false).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with(
            "warning[typosquat]: m\n   --> r.txt:117:1\n    |\n117 | pkg117\n    | ^^^^^^\n\n"
        ),
        "{out}"
    );
}

#[test]
fn text_escapes_hostile_repository_text() {
    let plain = render_hostile(Format::Text, false);
    assert_eq!(raw_dangerous(&plain), Vec::<char>::new(), "{plain:?}");
    // Each piece is still there, made visible.
    for shown in [
        "bad\\u{1b}[2J\\r::add-mask::secret\\n::stop-commands::tok 100%\\u{9b}1m \\u{2066}x\\u{2069} ##\\u{5b}set-output name=verdict;]clean",
        " --> ##\\u{5b}stop-commands]tok/evil\\u{1b}]8;;http://x\\u{7}dir/a:b,c%0A.txt:1:1",
        "1 | req\\u{1b}[31m\\u{202e}==1 # ##\\u{5b}add-mask]req",
        "= help: line1\\n::error::forged\\r\\n%0A",
    ] {
        assert!(plain.contains(shown), "missing {shown:?} in\n{plain}");
    }
    // The caret sits under the escaped text it points at: `req` plus the 6-column `\u{1b}`.
    assert!(plain.contains("\n  | ^^^^^^^^^\n"), "{plain}");
    // Every output line is ours: hostile newlines did not start new ones.
    assert_eq!(plain.lines().count(), 8, "{plain}");
}

#[test]
fn text_with_colour_emits_only_its_own_styles() {
    let colored = render_hostile(Format::Text, true);
    assert!(!colored.contains("\u{1b}[2J") && !colored.contains("\u{1b}[31m"));
    assert!(!colored.contains('\r') && !colored.contains('\u{202e}'));
    // Every raw ESC starts an SGR sequence (`ESC [ digits/; m`): a style of ours.
    for (i, _) in colored.match_indices('\u{1b}') {
        let rest = &colored[i + 1..];
        let body: String = rest
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_digit() || *c == ';')
            .collect();
        assert!(
            rest.starts_with('[') && rest[1 + body.len()..].starts_with('m'),
            "foreign escape sequence at {i} in {colored:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// json

const EXPECTED_JSON: &str = r#"{
  "version": 1,
  "tool": "mlsupply-typo",
  "findings": [
    {
      "rule": "typosquat",
      "severity": "warning",
      "message": "`reqeusts` is one letter swap away from the popular package `requests`",
      "path": "requirements.txt",
      "line": 2,
      "column": 1,
      "end_line": 2,
      "end_column": 9,
      "subject": "reqeusts",
      "suggestion": "requests",
      "fingerprint": "0fffffffffffffffffffffffffffffff"
    },
    {
      "rule": "unknown-package",
      "severity": "error",
      "message": "`torhc` does not exist on PyPI",
      "path": "requirements.txt",
      "line": 3,
      "column": 2,
      "end_line": 3,
      "end_column": 7,
      "subject": "torhc",
      "suggestion": "torch",
      "fingerprint": "1fffffffffffffffffffffffffffffff"
    },
    {
      "rule": "parse-error",
      "severity": "error",
      "message": "unclosed array",
      "path": "pyproject.toml",
      "line": 3,
      "column": 16,
      "end_line": 6,
      "end_column": 1,
      "subject": "pyproject.toml",
      "suggestion": null,
      "fingerprint": "2fffffffffffffffffffffffffffffff"
    },
    {
      "rule": "file-skipped",
      "severity": "note",
      "message": "binary file skipped",
      "path": "models/weights.bin",
      "line": 0,
      "column": 0,
      "end_line": 0,
      "end_column": 0,
      "subject": "models/weights.bin",
      "suggestion": null,
      "fingerprint": "3fffffffffffffffffffffffffffffff"
    }
  ]
}
"#;

#[test]
fn json_is_exact() {
    assert_eq!(
        render(Format::Json, &findings(), &typo_rules(), false),
        EXPECTED_JSON
    );
}

#[test]
fn formats_are_named_as_on_the_command_line() {
    use clap::ValueEnum;
    for format in Format::value_variants() {
        let name = format.to_possible_value().unwrap().get_name().to_string();
        assert_eq!(format.to_string(), name);
    }
    assert_eq!(Format::default(), Format::Text);
}

#[test]
fn json_without_findings() {
    assert_eq!(
        render(Format::Json, &[], &typo_rules(), false),
        "{\n  \"version\": 1,\n  \"tool\": \"mlsupply-typo\",\n  \"findings\": []\n}\n"
    );
}

#[test]
fn json_round_trips_through_read_json() {
    let text = render(Format::Json, &findings(), &typo_rules(), false);
    let report = output::read_json(&text).expect("our own output reads back");
    assert_eq!(
        report,
        JsonReport {
            version: 1,
            tool: TOOL.to_string(),
            findings: findings(),
            fixes: Vec::new(),
        }
    );
}

#[test]
fn json_keeps_hostile_text_exactly_and_escapes_controls() {
    let text = render_hostile(Format::Json, false);
    // JSON string escaping: no raw C0 control inside the document.
    assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'));
    let report = output::read_json(&text).unwrap();
    assert_eq!(report.findings, vec![hostile()]);
}

#[test]
fn read_json_accepts_a_report_without_fingerprints() {
    let text = r#"{"version": 1, "tool": "mlsupply-pin", "findings": [{"rule": "typosquat",
        "severity": "error", "message": "m", "path": "p", "line": 1, "column": 1,
        "end_line": 1, "end_column": 2, "subject": "s", "suggestion": null}]}"#;
    let report = output::read_json(text).unwrap();
    assert_eq!(report.tool, "mlsupply-pin");
    assert_eq!(report.findings[0].severity, Severity::Error);
    assert_eq!(report.findings[0].fingerprint, "");
}

#[test]
fn read_json_rejects_other_versions_clearly() {
    let err = output::read_json(r#"{"version": 2, "tool": "x", "findings": {"new": "shape"}}"#)
        .unwrap_err();
    assert!(matches!(err, ReadJsonError::UnsupportedVersion { ref found } if found == "2"));
    assert_eq!(
        err.to_string(),
        "unsupported mlsupply JSON report version 2: this build reads version 1"
    );

    let err = output::read_json(r#"{"version": "1", "tool": "x", "findings": []}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported mlsupply JSON report version \"1\": this build reads version 1"
    );
}

#[test]
fn read_json_rejects_documents_that_are_not_reports() {
    let err = output::read_json(r#"{"tool": "x", "findings": []}"#).unwrap_err();
    assert!(matches!(err, ReadJsonError::MissingVersion), "{err}");

    let err = output::read_json("{\"version\": 1,\n \"tool\": ").unwrap_err();
    assert!(matches!(err, ReadJsonError::Syntax(_)), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");

    let err =
        output::read_json(r#"{"version": 1, "tool": "x", "findings": [{"rule": 3}]}"#).unwrap_err();
    assert!(matches!(err, ReadJsonError::Shape(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("malformed mlsupply JSON report (version 1): ")
    );

    assert!(matches!(
        output::read_json("[1, 2]").unwrap_err(),
        ReadJsonError::NotAnObject
    ));

    // The SARIF output is the likeliest wrong file to be handed.
    let sarif = render(Format::Sarif, &findings(), &typo_rules(), false);
    let err = output::read_json(&sarif).unwrap_err();
    assert!(matches!(err, ReadJsonError::Sarif), "{err}");
    assert!(err.to_string().contains("--format json"));
}

// ---------------------------------------------------------------------------------------
// sarif

fn sarif(findings: &[Finding], rules: &[&'static Rule]) -> Value {
    let text = render(Format::Sarif, findings, rules, false);
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).expect("SARIF output is JSON")
}

/// `tests/data/sarif-schema-2.1.0.json` is the official OASIS SARIF 2.1.0 schema (errata 01,
/// `Schemata/sarif-schema-2.1.0.json` of oasis-tcs/sarif-spec), unmodified: a JSON Schema
/// draft-04 document. Its digest is pinned so that an edit to it cannot go unnoticed.
const SARIF_SCHEMA: &str = include_str!("data/sarif-schema-2.1.0.json");
const SARIF_SCHEMA_SHA256: &str =
    "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e";

#[test]
fn sarif_schema_is_the_unmodified_official_copy() {
    use sha2::{Digest, Sha256};
    let digest: String = Sha256::digest(SARIF_SCHEMA.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, SARIF_SCHEMA_SHA256);
    let schema: Value = serde_json::from_str(SARIF_SCHEMA).unwrap();
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
}

fn sarif_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    })
}

fn schema_errors(log: &Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid_sarif(log: &Value) {
    let errors = schema_errors(log);
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");
    for result in log["runs"][0]["results"].as_array().unwrap() {
        for location in result["locations"].as_array().into_iter().flatten() {
            let uri = &location["physicalLocation"]["artifactLocation"]["uri"];
            assert_uri_reference(uri.as_str().unwrap());
        }
    }
}

/// The schema's `uri-reference` format is a draft-06 keyword that a draft-04 validator does not
/// check, so check it here: a relative reference made of RFC 3986 `pchar`s, `/` and `%XX`,
/// without a `:` that would make its first segment a scheme.
fn assert_uri_reference(uri: &str) {
    assert!(!uri.is_empty());
    let bytes = uri.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            assert!(
                bytes.len() > i + 2 && bytes[i + 1..i + 3].iter().all(u8::is_ascii_hexdigit),
                "bad escape in {uri:?}"
            );
            i += 3;
            continue;
        }
        assert!(
            b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b),
            "{:?} in {uri:?}",
            b as char
        );
        i += 1;
    }
}

#[test]
fn sarif_run_describes_the_tool_and_its_rules() {
    let log = sarif(&findings(), &typo_rules());
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], TOOL);
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(run["automationDetails"]["id"], "mlsupply-typo/");
    assert_eq!(run["columnKind"], "unicodeCodePoints");

    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = typo_rules().iter().map(|r| r.id).collect();
    assert_eq!(ids, expected);

    let typosquat = &driver["rules"][ids.iter().position(|&id| id == "typosquat").unwrap()];
    assert_eq!(
        typosquat,
        &json!({
            "id": "typosquat",
            "shortDescription": {"text": rules::TYPOSQUAT.summary},
            "fullDescription": {"text": rules::TYPOSQUAT.help},
            "help": {
                "text": rules::TYPOSQUAT.help,
                "markdown": format!("**{}**\n\n{}", rules::TYPOSQUAT.summary, rules::TYPOSQUAT.help),
            },
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["security", "supply-chain"], "security-severity": "7.5"},
        })
    );
}

#[test]
fn sarif_results_point_at_rules_places_and_fingerprints() {
    let rules = typo_rules();
    let log = sarif(&findings(), &rules);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let index_of = |id: &str| rules.iter().position(|r| r.id == id).unwrap();

    assert_eq!(
        results[0],
        json!({
            "ruleId": "typosquat",
            "ruleIndex": index_of("typosquat"),
            "level": "warning",
            "message": {"text": "`reqeusts` is one letter swap away from the popular package `requests`\nhelp: requests"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 9},
            }}],
            "partialFingerprints": {
                "mlsupply/v1": "0fffffffffffffffffffffffffffffff",
                "primaryLocationLineHash": "0fffffffffffffffffffffffffffffff:1",
            },
            "properties": {"subject": "reqeusts"},
        })
    );
    assert_eq!(results[1]["level"], "error");
    assert_eq!(results[1]["ruleIndex"], index_of("unknown-package"));
    let region = |i: usize| &results[i]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        region(2),
        &json!({"startLine": 3, "startColumn": 16, "endLine": 6, "endColumn": 1})
    );
    // Unknown positions become 1: GitHub rejects zeros.
    assert_eq!(
        region(3),
        &json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2})
    );
    assert_eq!(results[3]["level"], "note");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"][index]["id"],
            result["ruleId"]
        );
    }
}

#[test]
fn sarif_appends_rules_missing_from_the_report() {
    // The report lists only `typosquat`; `parse-error` is in the registry, `from-the-future` is
    // in no registry (a report read back from a newer version, say).
    let mut findings = findings();
    findings.push(Finding {
        rule: "from-the-future".to_string(),
        ..findings[0].clone()
    });
    findings.push(findings[2].clone());
    let log = sarif(&findings, &[&rules::TYPOSQUAT]);
    assert_valid_sarif(&log);

    let run = &log["runs"][0];
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "typosquat",
            "unknown-package",
            "parse-error",
            "file-skipped",
            "from-the-future"
        ]
    );
    let indices: Vec<u64> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleIndex"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3, 4, 2]);
    let parse_error = &run["tool"]["driver"]["rules"][2];
    assert_eq!(
        parse_error["shortDescription"]["text"],
        rules::PARSE_ERROR.summary
    );
    assert_eq!(parse_error["properties"]["security-severity"], "5.0");
    let future = &run["tool"]["driver"]["rules"][4];
    assert_eq!(future["defaultConfiguration"]["level"], "warning");
    assert!(
        !future["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn sarif_validates_against_the_official_schema() {
    assert_valid_sarif(&sarif(&findings(), &typo_rules()));
    assert_valid_sarif(&sarif(&findings(), rules::ALL));
}

#[test]
fn sarif_without_findings_validates() {
    let log = sarif(&[], &typo_rules());
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"], json!([]));
    let log = sarif(&[], &[]);
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], json!([]));
}

#[test]
fn sarif_with_unicode_and_hostile_text_validates() {
    let unicode = Finding::new(
        &rules::NON_ASCII_NAME,
        "données/requirements 日本.txt",
        span(1, 3, 1, 8),
        "numpy\u{212a}",
        "`nump\u{212a}` contains KELVIN SIGN (U+212A) — 日本語",
    )
    .with_suggestion("numpyk");
    let findings = [unicode, hostile()];
    let log = sarif(&findings, &typo_rules());
    assert_valid_sarif(&log);
    let results = &log["runs"][0]["results"];
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "donn%C3%A9es/requirements%20%E6%97%A5%E6%9C%AC.txt"
    );
    assert_eq!(
        results[0]["message"]["text"],
        "`nump\u{212a}` contains KELVIN SIGN (U+212A) — 日本語\nhelp: numpyk"
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "%23%23%5Bstop-commands%5Dtok/evil%1B%5D8;;http%3A//x%07dir/a%3Ab,c%250A.txt"
    );
    // Without a fingerprint, the keys are left for upload-sarif to compute.
    assert!(results[1].get("partialFingerprints").is_none());
}

#[test]
fn sarif_never_has_empty_messages() {
    let mut finding = findings()[0].clone();
    finding.message = String::new();
    finding.suggestion = None;
    let log = sarif(&[finding], &typo_rules());
    assert_eq!(
        log["runs"][0]["results"][0]["message"]["text"],
        rules::TYPOSQUAT.summary
    );
}

#[test]
fn schema_validation_catches_broken_sarif() {
    // The validator is only worth something if it fails on what GitHub would reject.
    let mut log = sarif(&findings(), &typo_rules());
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    log["runs"][0]["results"][1]["level"] = json!("fatal");
    log["runs"][0]["results"][2]
        .as_object_mut()
        .unwrap()
        .remove("message");
    log["version"] = json!("2.0.0");
    let errors = schema_errors(&log);
    assert!(errors.len() >= 4, "{errors:#?}");
    for pointer in [
        "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
        "/runs/0/results/1/level",
        "/runs/0/results/2",
        "/version",
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e.ends_with(&format!(" at {pointer}"))),
            "no error at {pointer}: {errors:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// github

#[test]
fn github_lines_are_exact_with_errors_first() {
    let text = render(Format::Github, &findings(), &typo_rules(), false);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "::error file=requirements.txt,line=3,col=2,endLine=3,endColumn=7,title=mlsupply-typo%3A unknown-package::`torhc` does not exist on PyPI%0Ahelp: torch",
            "::error file=pyproject.toml,line=3,endLine=6,title=mlsupply-typo%3A parse-error::unclosed array",
            "::warning file=requirements.txt,line=2,col=1,endLine=2,endColumn=9,title=mlsupply-typo%3A typosquat::`reqeusts` is one letter swap away from the popular package `requests`%0Ahelp: requests",
            "::notice file=models/weights.bin,title=mlsupply-typo%3A file-skipped::binary file skipped",
        ]
    );
    assert!(text.ends_with('\n'));
    assert_eq!(render(Format::Github, &[], &typo_rules(), false), "");
}

#[test]
fn github_hostile_text_cannot_start_or_bend_a_command() {
    let text = render_hostile(Format::Github, false);
    assert_eq!(
        text,
        "::warning file=##\\u{5b}stop-commands]tok/evil\\u{1b}]8;;http%3A//x\\u{7}dir/a%3Ab%2Cc%250A.txt,line=1,col=1,endLine=1,endColumn=5,\
         title=mlsupply-typo%3A typosquat::bad\\u{1b}[2J%0D::add-mask::secret%0A::stop-commands::tok 100%25\\u{9b}1m \
         \\u{2066}x\\u{2069} ##\\u{5b}set-output name=verdict;]clean%0Ahelp: line1%0A::error::forged%0D%0A%250A\n"
    );
    // One command on one line; the runner splits lines on CR as well as LF.
    assert_eq!(text.matches(['\n', '\r']).count(), 1);
    assert_eq!(raw_dangerous(&text), Vec::<char>::new());
    // The property list ends at the first `::` after the command name, where we put it.
    let after_name = text.strip_prefix("::warning ").unwrap();
    let (properties, _) = after_name.split_once("::").unwrap();
    assert!(properties.ends_with("title=mlsupply-typo%3A typosquat"));
    for property in properties.split(',') {
        let (key, _) = property.split_once('=').unwrap();
        assert!(
            ["file", "line", "col", "endLine", "endColumn", "title"].contains(&key),
            "{key}"
        );
    }
}

fn many(severity: Severity, n: usize) -> Vec<Finding> {
    (1..=n as u32)
        .map(|line| {
            Finding::new(
                &rules::TYPOSQUAT,
                "r.txt",
                span(line, 1, line, 2),
                "x",
                format!("{severity} {line}"),
            )
            .with_severity(severity)
        })
        .collect()
}

fn level_counts(text: &str) -> [usize; 3] {
    ["::error ", "::warning ", "::notice "]
        .map(|p| text.lines().filter(|l| l.starts_with(p)).count())
}

#[test]
fn github_caps_annotations_per_level_and_counts_the_rest() {
    let mut findings = many(Severity::Note, 12);
    findings.extend(many(Severity::Warning, 25));
    findings.extend(many(Severity::Error, 3));
    let text = render(Format::Github, &findings, &typo_rules(), false);
    assert_eq!(level_counts(&text), [3, 10, 10]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("::error 1") && lines[3].ends_with("::warning 1"));
    assert!(lines[12].ends_with("::warning 10") && lines[21].ends_with("::note 9"));
    assert_eq!(
        lines[22],
        "::notice title=mlsupply-typo%3A more findings::18 more findings not shown as annotations \
         (15 warnings, 3 notes): GitHub shows at most 10 per level in a step. Run mlsupply-typo \
         with --format text, json or sarif to see every finding."
    );
    assert_eq!(output::GITHUB_ANNOTATIONS_PER_LEVEL, 10);
}

#[test]
fn github_shows_everything_that_fits() {
    let mut findings = many(Severity::Note, 10);
    findings.extend(many(Severity::Error, 10));
    let text = render(Format::Github, &findings, &typo_rules(), false);
    assert_eq!(level_counts(&text), [10, 0, 10]);
    assert!(!text.contains("more findings"));

    // One note too many: nine notes and the notice that counts the other two.
    let text = render(
        Format::Github,
        &many(Severity::Note, 11),
        &typo_rules(),
        false,
    );
    assert_eq!(level_counts(&text), [0, 0, 10]);
    assert!(text.ends_with("::2 more findings not shown as annotations (2 notes): GitHub shows at most 10 per level in a step. Run mlsupply-typo with --format text, json or sarif to see every finding.\n"), "{text}");
}
