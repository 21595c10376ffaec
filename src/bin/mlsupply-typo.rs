//! `mlsupply-typo`: flags typosquatted, look-alike and non-existent package names wherever
//! dependencies are declared or installed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::rules::{self, Tool};
use mlsupply::scan;

#[derive(Parser, Debug)]
#[command(name = "mlsupply-typo", version, about, long_about = None)]
/// Flags typosquatted and non-existent package names in requirements files, pyproject.toml,
/// setup.cfg/setup.py, Pipfiles, conda environments, notebooks, Dockerfiles, scripts and workflows.
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Replace the built-in list of popular PyPI projects (`rank<TAB>name` lines).
    #[arg(long, value_name = "FILE")]
    popular: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("mlsupply-typo: error: {err:#}");
            Exit::Error.into()
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let target = cli.common.target();
    let config = cli.common.load_config(&target.root)?;
    if cli.common.dump_config {
        print!("{}", mlsupply::config::dump(&config));
        return Ok(Exit::Clean);
    }
    let detector = scan::typo_detector(&config, cli.popular.as_deref())?;
    let deps = scan::scan_dependencies(&target, &config);
    let mut findings = deps.findings.clone();
    findings.extend(scan::typo_findings(&deps, &detector));
    let tools = [Tool::Typo];
    let findings = scan::finish(findings, &deps.sources, &tools);
    let rules = rules::for_tools(&tools);
    let mut stdout = std::io::stdout().lock();
    Ok(mlsupply::cli::report(
        &mut stdout,
        "mlsupply-typo",
        &cli.common,
        &config,
        &findings,
        &rules,
        &deps.sources,
    ))
}
