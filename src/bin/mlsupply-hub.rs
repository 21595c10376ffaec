//! `mlsupply-hub`: finds every place a repository fetches a model or a dataset from a hub, and
//! says which fetches are unsafe and why (untrusted or look-alike organisations, unpinned
//! revisions, remote code, pickles, model confusion, unofficial endpoints).

mod shared;

use std::process::ExitCode;

use clap::Parser;
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::output::sanitize_terminal;
use mlsupply::rules::{self, Tool};
use mlsupply::{hub, scan};

#[derive(Parser, Debug)]
#[command(name = "mlsupply-hub", version, about, long_about = None)]
/// Flags model and dataset downloads from untrusted or look-alike hub organisations, unpinned
/// revisions, remote code and pickle loads in Python files and notebooks.
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Ask the hub API (HF_ENDPOINT, default https://huggingface.co; HF_TOKEN as bearer) whether
    /// organisations are verified and whether namespaces and repositories exist.
    #[arg(long)]
    online: bool,
    /// With --online: pin unpinned calls to the commit the default branch is at, by adding or
    /// replacing `revision="<sha>"` in the source.
    #[arg(long, requires = "online")]
    fix: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::exit_code("mlsupply-hub", run(&cli))
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let Some((target, config)) = shared::setup(&cli.common)? else {
        return Ok(Exit::Clean);
    };
    let mut scanned = hub::scan(&target, &config);
    if cli.online {
        let api = hub::online::HubApi::from_env()?;
        if api.token_withheld() {
            eprintln!(
                "mlsupply-hub: warning: HF_TOKEN is not sent to {}: it is plain HTTP",
                api.endpoint()
            );
        }
        let mut fetches = hub::online::hub_fetches(&target, &config);
        let answers = hub::online::look_up(&api, &fetches);
        for error in &answers.errors {
            eprintln!("mlsupply-hub: warning: the hub could not be asked: {error}");
        }
        if cli.fix {
            let report = hub::fix::fix(&target.root, &fetches, &answers);
            for pinned in &report.pinned {
                eprintln!(
                    "mlsupply-hub: pinned {}:{} `{}` to {}",
                    pinned.path, pinned.line, pinned.id, pinned.sha
                );
            }
            for unfixed in &report.unfixed {
                eprintln!(
                    "mlsupply-hub: not fixed {}:{} `{}`: {}",
                    unfixed.path, unfixed.line, unfixed.id, unfixed.why
                );
            }
            for path in &report.split_links {
                eprintln!(
                    "mlsupply-hub: warning: {} had other hard links; they keep the old content",
                    sanitize_terminal(&path.to_string_lossy())
                );
            }
            for (_, error) in &report.failed {
                eprintln!("mlsupply-hub: error: {}", sanitize_terminal(error));
            }
            if !report.failed.is_empty() {
                return Ok(Exit::Error);
            }
            // Report what is left after the fix, as a re-run would.
            if !report.written.is_empty() {
                scanned = hub::scan(&target, &config);
                fetches = hub::online::hub_fetches(&target, &config);
            }
        }
        hub::online::refine(&mut scanned.findings, &fetches, &answers);
    }
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
