//! `mlsupply`: runs every offline check of the suite over a repository in one go.

mod shared;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::rules::{self, Tool};
use mlsupply::scan;

#[derive(Parser, Debug)]
#[command(name = "mlsupply", version, about, long_about = None)]
/// Supply-chain checks for Python and machine-learning projects.
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every offline check over a repository (default: the current directory) and print one
    /// combined report.
    Check {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List every rule with its default severity and what it finds.
    Rules,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Check { common } => check(common),
        Command::Rules => {
            for rule in rules::ALL {
                println!(
                    "{:<24} {:<8} {}",
                    rule.id,
                    rule.default_severity.as_str(),
                    rule.summary
                );
            }
            Ok(Exit::Clean)
        }
    };
    shared::exit_code("mlsupply", result)
}

/// The checks that need no network: each later binary's offline check joins here.
const OFFLINE_TOOLS: &[Tool] = &[Tool::Typo, Tool::Pin, Tool::Hub];

fn check(common: &CommonArgs) -> anyhow::Result<Exit> {
    let Some((target, config)) = shared::setup(common)? else {
        return Ok(Exit::Clean);
    };
    let mut deps = scan::scan_dependencies(&target, &config);
    let mut findings = deps.findings.clone();
    let detector = scan::typo_detector(&config, None)?;
    findings.extend(scan::typo_findings(&deps, &detector));
    findings.extend(mlsupply::pin::offline_findings(&deps, &config));
    let hub = mlsupply::hub::scan(&target, &config);
    for finding in hub.findings {
        // Both walks read notebooks and may skip the same file: report an input problem once.
        let core = rules::find(&finding.rule).is_some_and(|r| r.tool == Tool::Core);
        let duplicate = core
            && findings.iter().any(|f| {
                f.rule == finding.rule && f.path == finding.path && f.span() == finding.span()
            });
        if !duplicate {
            findings.push(finding);
        }
    }
    for file in hub.sources.iter() {
        if deps.sources.get(&file.rel_path).is_none() {
            deps.sources.insert(file.clone());
        }
    }
    let findings = scan::finish(findings, &deps.sources, OFFLINE_TOOLS);
    let rules = rules::for_tools(OFFLINE_TOOLS);
    let mut stdout = std::io::stdout().lock();
    Ok(mlsupply::cli::report(
        &mut stdout,
        "mlsupply",
        common,
        &config,
        &findings,
        &rules,
        &deps.sources,
    ))
}
