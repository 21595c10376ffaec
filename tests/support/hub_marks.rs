//! The `# expect: rule-a, rule-b` marks of the hub fixtures, and the comparison of a scan with them:
//! a marked line must give exactly those rules, an unmarked line none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlsupply::config::{Allow, Config};
use mlsupply::finding::Finding;

/// (relative path, line) -> sorted rule ids expected there.
pub type Marks = BTreeMap<(String, u32), Vec<String>>;

/// The project's own organisation, as `[hub] trusted-orgs` would add it.
pub fn config_trusting_acme() -> Config {
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

/// The marks of every file under `root` whose `/`-separated relative path `keep` accepts.
pub fn read_marks(root: &Path, keep: impl Fn(&str) -> bool) -> Marks {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if !keep(&rel) {
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
                "{rel}:{} has an empty expect mark",
                index + 1
            );
            out.insert((rel.clone(), index as u32 + 1), rules);
        }
    }
    out
}

/// Every place where `findings` and `expected` disagree: findings missed and findings not
/// expected (with their messages), one line each.
pub fn mismatches(findings: &[Finding], expected: &Marks) -> Vec<String> {
    let mut got: Marks = BTreeMap::new();
    for finding in findings {
        got.entry((finding.path.clone(), finding.line))
            .or_default()
            .push(finding.rule.clone());
    }
    for rules in got.values_mut() {
        rules.sort();
    }
    let mut problems = Vec::new();
    for (place, rules) in expected {
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
            let messages: Vec<&str> = findings
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
    problems
}
