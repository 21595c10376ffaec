//! Evaluation of the typosquat detector against real data, with the acceptance bars.
//!
//! - `historic-typosquats.tsv`: malicious PyPI typosquats reported in public collections,
//!   with the package each imitates. Recall and the correct-target rate are measured on it.
//! - `benign-long-tail.txt`: real PyPI projects outside the popular list; the share flagged is
//!   the alarm rate.
//! - `real-project-deps.txt`: dependencies of well-known projects; none may be flagged.
//!
//! Run with `cargo test --test typo_eval -- --nocapture` to see the numbers and the misses.

use std::path::PathBuf;

use mlsupply::Severity;
use mlsupply::typo::{Detector, normalize};

const RECALL_BAR: f64 = 0.85;
const ALARM_BAR: f64 = 0.01;
const CORRECT_TARGET_BAR: f64 = 0.95;

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/typo")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// A warning or an error: what the bars count (a defensive-alias note is not an alarm).
fn alarm(detector: &Detector, name: &str) -> Option<mlsupply::typo::Suspicion> {
    detector
        .check(name)
        .filter(|s| s.severity >= Severity::Warning)
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[test]
fn historic_typosquats_recall() {
    let detector = Detector::builtin();
    let text = data("historic-typosquats.tsv");
    let (mut total, mut caught, mut right_target) = (0, 0, 0);
    let mut misses = Vec::new();
    let mut wrong = Vec::new();
    for line in lines(&text) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "malformed line: {line:?}");
        let (name, target) = (cols[0], normalize(cols[1]));
        assert!(
            detector.corpus().rank(&target).is_some(),
            "target `{target}` of `{name}` is not on the popular list"
        );
        assert!(
            detector.corpus().rank(name).is_none(),
            "`{name}` is itself on the popular list"
        );
        total += 1;
        match alarm(detector, name) {
            Some(s) => {
                caught += 1;
                match &s.target {
                    Some((t, _)) if *t == target => right_target += 1,
                    _ => wrong.push(format!("{name} -> {:?} (expected {target})", s.target)),
                }
            }
            None => misses.push(format!("{name} ({target})")),
        }
    }
    let recall = pct(caught, total);
    let correct = pct(right_target, caught);
    println!(
        "historic typosquats: {caught}/{total} flagged, recall {:.1} %",
        recall * 100.0
    );
    println!(
        "correct target: {right_target}/{caught} = {:.1} %",
        correct * 100.0
    );
    println!("missed ({}): {}", misses.len(), misses.join(", "));
    println!("wrong target ({}): {}", wrong.len(), wrong.join(", "));
    assert!(total >= 150, "positive set too small: {total}");
    assert!(
        recall >= RECALL_BAR,
        "recall {recall:.3} below {RECALL_BAR}"
    );
    assert!(
        correct >= CORRECT_TARGET_BAR,
        "correct-target rate {correct:.3} below {CORRECT_TARGET_BAR}"
    );
}

#[test]
fn benign_long_tail_alarm_rate() {
    let detector = Detector::builtin();
    let text = data("benign-long-tail.txt");
    let names: Vec<&str> = lines(&text).collect();
    let mut alarms = Vec::new();
    let mut notes = 0;
    for name in &names {
        match detector.check(name) {
            Some(s) if s.severity >= Severity::Warning => alarms.push(s.message),
            Some(_) => notes += 1,
            None => {}
        }
    }
    let rate = pct(alarms.len(), names.len());
    println!(
        "benign long tail: {}/{} flagged, alarm rate {:.2} % ({notes} notes)",
        alarms.len(),
        names.len(),
        rate * 100.0
    );
    for message in &alarms {
        println!("  alarm: {message}");
    }
    assert!(
        names.len() >= 1000,
        "negative set too small: {}",
        names.len()
    );
    assert!(rate <= ALARM_BAR, "alarm rate {rate:.4} above {ALARM_BAR}");
}

#[test]
fn real_project_dependencies_are_clean() {
    let detector = Detector::builtin();
    let text = data("real-project-deps.txt");
    let names: Vec<&str> = lines(&text).collect();
    let findings: Vec<String> = names
        .iter()
        .filter_map(|name| alarm(detector, name).map(|s| s.message))
        .collect();
    let off_list = names
        .iter()
        .filter(|n| detector.corpus().rank(n).is_none())
        .count();
    println!(
        "real-project dependencies: {} names ({off_list} not on the popular list), {} findings",
        names.len(),
        findings.len()
    );
    for message in &findings {
        println!("  finding: {message}");
    }
    assert!(names.len() >= 200);
    assert!(findings.is_empty(), "{findings:#?}");
}
