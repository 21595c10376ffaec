//! Times the typosquat detector on a list of names (one per line, `#` comments).
//!
//! usage: cargo run --release --example typo_bench -- NAMES_FILE [--messages]
//!
//! Prints `key=value` lines: how many names, how many flagged (warnings and errors), the time
//! to build the index over the built-in list (parsing the list included), the time of the check
//! loop alone, and their sum: each process pays both, so `total_ms` is what a pre-commit run
//! costs. With `--messages`, then prints every finding (notes included).

use std::time::Instant;

use mlsupply::Severity;
use mlsupply::typo::Detector;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let messages = args.iter().any(|a| a == "--messages");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: typo_bench NAMES_FILE [--messages]");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("typo_bench: {path}: {err}");
            std::process::exit(2);
        }
    };
    let names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    let start = Instant::now();
    let detector = Detector::builtin();
    let build = start.elapsed();

    let start = Instant::now();
    let flagged = names
        .iter()
        .filter(|name| {
            detector
                .check(name)
                .is_some_and(|s| s.severity >= Severity::Warning)
        })
        .count();
    let check = start.elapsed();

    println!("names={}", names.len());
    println!("flagged={flagged}");
    println!("build_ms={:.1}", build.as_secs_f64() * 1e3);
    println!("check_ms={:.2}", check.as_secs_f64() * 1e3);
    println!("total_ms={:.1}", (build + check).as_secs_f64() * 1e3);
    println!(
        "per_name_us={:.2}",
        check.as_secs_f64() * 1e6 / names.len().max(1) as f64
    );
    if messages {
        for s in names.iter().filter_map(|name| detector.check(name)) {
            let suggestion = s.suggestion.unwrap_or_default();
            println!(
                "{} [{}] {} ({suggestion})",
                s.severity, s.rule.id, s.message
            );
        }
    }
}
