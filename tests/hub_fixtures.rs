//! Every fixture under `tests/fixtures/hub/` marks the findings each line must give with a
//! trailing `# expect: rule-a, rule-b`; a line without the mark must give none. The test fails on
//! any finding missed and on any finding not expected, listing them all.

mod support;

use std::path::PathBuf;

use mlsupply::config::Config;
use mlsupply::hub;
use mlsupply::scan::Target;
use support::hub_marks::{Marks, config_trusting_acme as config, mismatches, read_marks};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hub")
}

/// The marks of the Python files and notebooks at the top of the fixture folder.
fn expectations() -> Marks {
    read_marks(&fixtures(), |rel| {
        !rel.contains('/') && (rel.ends_with(".py") || rel.ends_with(".ipynb"))
    })
}

#[test]
fn fixtures_give_exactly_the_marked_findings() {
    let target = Target {
        root: fixtures(),
        paths: Vec::new(),
    };
    let scanned = hub::scan(&target, &config());
    let expected = expectations();
    assert!(expected.len() >= 55, "too few marks: {}", expected.len());
    let problems = mismatches(&scanned.findings, &expected);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn clean_file_gives_no_finding_even_without_project_orgs() {
    let target = Target {
        root: fixtures(),
        paths: vec![fixtures().join("clean.py")],
    };
    let scanned = hub::scan(&target, &Config::default());
    assert!(scanned.findings.is_empty(), "{:#?}", scanned.findings);
    assert_eq!(scanned.sources.iter().count(), 1);
}

#[test]
fn severities_follow_trust() {
    let target = Target {
        root: fixtures(),
        paths: vec![
            fixtures().join("libraries.py"),
            fixtures().join("orgs_and_paths.py"),
        ],
    };
    let scanned = hub::scan(&target, &config());
    let severity = |rule: &str, subject: &str| {
        scanned
            .findings
            .iter()
            .find(|f| f.rule == rule && f.subject == subject)
            .map(|f| f.severity.as_str())
            .unwrap_or_else(|| panic!("no {rule} on {subject}"))
    };
    assert_eq!(severity("lookalike-org", "EleuterAI/gpt-j-6B"), "error");
    assert_eq!(severity("untrusted-org", "someone/qa"), "warning");
    // Remote code from a trusted organisation is a warning, from anyone else an error.
    assert_eq!(severity("remote-code", "acme-labs/sd"), "warning");
    assert_eq!(severity("remote-code", "someone/yolo"), "error");
    assert_eq!(
        severity("model-confusion", "checkpoints/sentiment-v2"),
        "error"
    );
    assert_eq!(severity("model-confusion", "your-org/my-model"), "warning");
    let llama = scanned
        .findings
        .iter()
        .find(|f| f.subject == "acme-labs/chat-GGUF")
        .unwrap();
    assert!(llama.message.contains("cannot pin"), "{}", llama.message);
    assert!(
        llama
            .suggestion
            .as_deref()
            .unwrap()
            .contains("hf_hub_download")
    );
}

#[test]
fn well_known_model_names_under_unknown_namespaces_say_whose_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("load.py"),
        "AutoModel.from_pretrained(\"TheCopier/Llama-3.1-8B-Instruct\", revision=\"0123456789abcdef0123456789abcdef01234567\")\n",
    )
    .unwrap();
    let target = Target {
        root: dir.path().to_path_buf(),
        paths: Vec::new(),
    };
    let scanned = hub::scan(&target, &Config::default());
    let [finding] = scanned.findings.as_slice() else {
        panic!("{:#?}", scanned.findings);
    };
    assert_eq!(finding.rule, "untrusted-org");
    assert!(
        finding.message.contains("`meta-llama` model"),
        "{}",
        finding.message
    );
}
