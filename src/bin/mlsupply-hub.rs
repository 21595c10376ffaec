//! `mlsupply-hub`: finds every place a repository fetches a model or a dataset from a hub, and
//! says which fetches are unsafe and why (untrusted or look-alike organisations, unpinned
//! revisions, remote code, pickles, model confusion, unofficial endpoints).

use std::process::ExitCode;

use clap::Parser;
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::rules::{self, Tool};
use mlsupply::{hub, scan};

#[derive(Parser, Debug)]
#[command(name = "mlsupply-hub", version, about, long_about = None)]
/// Flags model and dataset downloads from untrusted or look-alike hub organisations, unpinned
/// revisions, remote code and pickle loads in Python files and notebooks.
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("mlsupply-hub: error: {err:#}");
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
    let scanned = hub::scan(&target, &config);
    let tools = [Tool::Hub];
    let findings = scan::finish(scanned.findings, &scanned.sources, &tools);
    let rules = rules::for_tools(&tools);
    let mut stdout = std::io::stdout().lock();
    Ok(mlsupply::cli::report(
        &mut stdout,
        "mlsupply-hub",
        &cli.common,
        &config,
        &findings,
        &rules,
        &scanned.sources,
    ))
}
