//! `mlsupply-hub` on shell scripts, Dockerfiles, Makefiles, workflows, notebook shell escapes and
//! YAML/JSON configs. Every fixture under `tests/fixtures/hub_surfaces/` marks the findings each
//! line must give with a trailing `# expect: rule-a, rule-b`; a line without the mark must give
//! none. (The fixtures live beside `hub/`, not in it: `hub_fixtures` scans all of `hub/` and
//! checks only its Python files' marks.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlsupply::config::{Allow, Config};
use mlsupply::hub;
use mlsupply::scan::Target;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hub_surfaces")
}

fn config() -> Config {
    let mut config = Config::default();
    config.hub.trusted_orgs.push(Allow {
        name: "acme-labs".to_string(),
        reason: "our own organisation".to_string(),
    });
    config
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// (relative path, line) -> sorted rule ids expected there.
fn expectations() -> BTreeMap<(String, u32), Vec<String>> {
    let mut files = Vec::new();
    walk(&fixtures(), &mut files);
    let mut out = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(fixtures())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap();
        for (index, line) in text.lines().enumerate() {
            let Some((_, rest)) = line.split_once("# expect:") else {
                continue;
            };
            let rest = rest.split('"').next().unwrap().trim_end_matches("\\n");
            let mut rules: Vec<String> = rest
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            rules.sort();
            assert!(!rules.is_empty(), "{rel}:{} has an empty mark", index + 1);
            out.insert((rel.clone(), index as u32 + 1), rules);
        }
    }
    out
}

fn scan(root: &Path, config: &Config) -> hub::HubScan {
    hub::scan(
        &Target {
            root: root.to_path_buf(),
            paths: Vec::new(),
        },
        config,
    )
}

#[test]
fn surfaces_give_exactly_the_marked_findings() {
    let scanned = scan(&fixtures(), &config());
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
    assert!(expected.len() >= 20, "too few marks: {}", expected.len());
    // Every surface is represented.
    for surface in [
        "scripts/download.sh",
        "docker/Dockerfile",
        "Makefile",
        ".github/workflows/models.yml",
        "conf/train.yaml",
        "notebooks/fetch.ipynb",
    ] {
        assert!(
            expected.keys().any(|(path, _)| path == surface),
            "no marks in {surface}"
        );
    }
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
fn variable_resolution_is_named_in_the_message() {
    let scanned = scan(&fixtures(), &config());
    let finding = scanned
        .findings
        .iter()
        .find(|f| f.path == "scripts/download.sh" && f.line == 7)
        .expect("finding on line 7");
    assert!(
        finding.message.contains("acme-labs/widget") && finding.message.contains("`MODEL`"),
        "{}",
        finding.message
    );
    // The column points at the word `${MODEL}`.
    assert_eq!(finding.column, 13);
}

#[test]
fn allowed_host_silences_the_endpoint() {
    let mut config = config();
    for host in ["hf-mirror.com", "mirror.example.net"] {
        config.hub.allowed_hosts.push(Allow {
            name: host.to_string(),
            reason: "internal mirror".to_string(),
        });
    }
    let scanned = scan(&fixtures(), &config);
    assert!(
        scanned
            .findings
            .iter()
            .all(|f| f.rule != "unofficial-endpoint"),
        "{:#?}",
        scanned.findings
    );
}

#[test]
fn json_configs_and_bad_files_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("adapter_config.json"),
        "{\n  \"base_model_name_or_path\": \"randomuser/base\",\n  \"revision\": null\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "model_name_or_path: [unclosed\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("package.json"), "{\"name\": \"x\"}\n").unwrap();
    let scanned = scan(dir.path(), &Config::default());
    let mut got: Vec<(String, u32, String)> = scanned
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line, f.rule.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("adapter_config.json".into(), 2, "unpinned-revision".into()),
            ("adapter_config.json".into(), 2, "untrusted-org".into()),
            ("broken.yaml".into(), 2, "parse-error".into()),
        ]
    );
}
