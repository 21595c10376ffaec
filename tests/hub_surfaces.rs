//! `mlsupply-hub` on shell scripts, Dockerfiles, Makefiles, workflows, notebook shell escapes and
//! YAML/JSON configs. Every fixture under `tests/fixtures/hub_surfaces/` marks the findings each
//! line must give with a trailing `# expect: rule-a, rule-b`; a line without the mark must give
//! none. (The fixtures live beside `hub/`, not in it: `hub_fixtures` scans all of `hub/` and
//! checks only its Python files' marks.)

mod support;

use std::path::{Path, PathBuf};

use mlsupply::config::{Allow, Config};
use mlsupply::hub;
use mlsupply::scan::Target;
use support::hub_marks::{Marks, config_trusting_acme as config, mismatches, read_marks};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hub_surfaces")
}

fn expectations() -> Marks {
    read_marks(&fixtures(), |_| true)
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
    let problems = mismatches(&scanned.findings, &expected);
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
