//! Every fixture under `tests/fixtures/hub/` marks the findings each line must give with a
//! trailing `# expect: rule-a, rule-b`; a line without the mark must give none. The test fails on
//! any finding missed and on any finding not expected, listing them all.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mlsupply::config::{Allow, Config};
use mlsupply::hub;
use mlsupply::scan::Target;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hub")
}

/// The project's own organisation, as `[hub] trusted-orgs` would add it.
fn config() -> Config {
    let mut config = Config::default();
    config.hub.trusted_orgs.push(Allow {
        name: "acme-labs".to_string(),
        reason: "our own organisation".to_string(),
    });
    config
}

/// (path, line) -> sorted rule ids expected there.
fn expectations() -> BTreeMap<(String, u32), Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.ends_with(".py") || name.ends_with(".ipynb")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (index, line) in text.lines().enumerate() {
            let Some((_, rest)) = line.split_once("# expect:") else {
                continue;
            };
            // In a notebook the comment ends inside a JSON string: `...\n",`.
            let rest = rest.split('"').next().unwrap().trim_end_matches("\\n");
            let mut rules: Vec<String> = rest
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            rules.sort();
            assert!(
                !rules.is_empty(),
                "{name}:{} has an empty expect mark",
                index + 1
            );
            out.insert((name.clone(), index as u32 + 1), rules);
        }
    }
    out
}

#[test]
fn fixtures_give_exactly_the_marked_findings() {
    let target = Target {
        root: fixtures(),
        paths: Vec::new(),
    };
    let scanned = hub::scan(&target, &config());
    let mut got: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    for finding in &scanned.findings {
        got.entry((finding.path.clone(), finding.line))
            .or_default()
            .push(finding.rule.clone());
    }
    for rules in got.values_mut() {
        rules.sort();
    }
    let expected = expectations();
    assert!(expected.len() >= 55, "too few marks: {}", expected.len());
    let mut problems = Vec::new();
    for (place, rules) in &expected {
        let actual = got.get(place).cloned().unwrap_or_default();
        if &actual != rules {
            problems.push(format!(
                "{}:{}: expected {rules:?}, got {actual:?}",
                place.0, place.1
            ));
        }
    }
    for (place, rules) in &got {
        if !expected.contains_key(place) {
            let messages: Vec<&str> = scanned
                .findings
                .iter()
                .filter(|f| (&f.path, f.line) == (&place.0, place.1))
                .map(|f| f.message.as_str())
                .collect();
            problems.push(format!(
                "{}:{}: unexpected {rules:?}: {messages:?}",
                place.0, place.1
            ));
        }
    }
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
