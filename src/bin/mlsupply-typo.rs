//! `mlsupply-typo`: flags typosquatted, look-alike and non-existent package names wherever
//! dependencies are declared or installed.

mod shared;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::index::{BlockingIndexClient, ClientOptions, IndexArgs, IndexInputs, IndexSettings};
use mlsupply::rules::{self, Tool};
use mlsupply::scan;
use mlsupply::typo::online;

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

    /// Ask the package index whether each name exists (and how old it is). Off by default:
    /// pre-commit.ci gives hooks no network. The index comes from the same places as pip's.
    #[arg(long)]
    online: bool,

    /// With --online: the index to ask instead of pip's configured one.
    #[arg(long, value_name = "URL", requires = "online")]
    index_url: Option<String>,

    /// With --online: further indexes to ask (repeatable).
    #[arg(long, value_name = "URL", requires = "online")]
    extra_index_url: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::exit_code("mlsupply-typo", run(&cli))
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let Some((target, config)) = shared::setup(&cli.common)? else {
        return Ok(Exit::Clean);
    };
    let detector = scan::typo_detector(&config, cli.popular.as_deref())?;
    let deps = scan::scan_dependencies(&target, &config);
    let mut findings = deps.findings.clone();
    findings.extend(scan::typo_findings(&deps, &detector));
    if cli.online || config.typo.online == Some(true) {
        let args = IndexArgs {
            index_url: cli.index_url.clone(),
            extra_index_urls: cli.extra_index_url.clone(),
            ..IndexArgs::default()
        };
        let inputs = IndexInputs::from_process();
        let settings = IndexSettings::resolve(&args, &inputs)?;
        let options = ClientOptions::default()
            .with_time_limits(config.typo.time_limits(), |name| {
                inputs.env.get(name).cloned()
            })?;
        let client = BlockingIndexClient::new(&settings, options)?;
        let verdicts = online::check_online(&client, &scan::online_names(&deps))?;
        let allowed: Vec<String> = config.typo.allow.iter().map(|a| a.name.clone()).collect();
        scan::apply_online_verdicts(
            &mut findings,
            &deps,
            &verdicts,
            &allowed,
            jiff::Timestamp::now(),
        );
    }
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
