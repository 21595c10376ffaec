//! `mlsupply-pin`: pins requirements files to exact versions with the index's sha256 hashes,
//! checks the hashes already listed, and flags sources pip's hash mode cannot protect.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::index::{BlockingIndexClient, ClientOptions, IndexArgs, IndexInputs, IndexSettings};
use mlsupply::output::Format;
use mlsupply::pin::{self, Filters, OnlyBinary, PinOptions, Target, python};

#[derive(Parser, Debug)]
#[command(name = "mlsupply-pin", version, about, long_about = None)]
#[command(group(ArgGroup::new("mode").args(["fix", "diff", "offline"]).multiple(false)))]
/// Pins pip requirements files (and every file they include with -r/-c) to exact versions with
/// sha256 hashes from the index, and checks the hashes they already list.
///
/// Exit codes: 0 nothing to change and no finding at --fail-on; 1 findings, or (check and
/// --diff modes) something --fix would change; 2 an error (bad flags, the index, unreadable
/// files); no file is written when any lookup failed.
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Rewrite the files in place (atomically); findings that remain decide the exit code.
    #[arg(long)]
    fix: bool,

    /// Print only the unified diff of what --fix would write.
    #[arg(long)]
    diff: bool,

    /// No network: check that every requirement is pinned with == and hashed, and its sources.
    #[arg(long)]
    offline: bool,

    /// The package index (pip's --index-url; wins over the files' -i lines, PIP_INDEX_URL and
    /// pip.conf).
    #[arg(long, value_name = "URL")]
    index_url: Option<String>,

    /// Another index to search (repeatable); flagged as a dependency-confusion risk when a file
    /// sets one.
    #[arg(long, value_name = "URL")]
    extra_index_url: Vec<String>,

    /// The Python version files must support [default: the lowest allowed by the root's
    /// pyproject.toml `requires-python`, else 3.11].
    #[arg(long, value_name = "X.Y")]
    python_version: Option<String>,

    /// Allow pre-releases for ranges.
    #[arg(long)]
    pre: bool,

    /// Wheels only: `:all:`, `:none:` or comma-separated project names (sdists are then not
    /// hashed or chosen).
    #[arg(long, value_name = "SPEC")]
    only_binary: Vec<String>,

    /// Keep only wheels for these platform tags (and `any`), e.g. manylinux_2_17_x86_64
    /// (repeatable).
    #[arg(long, value_name = "TAG")]
    platform: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("mlsupply-pin: error: {err:#}");
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
    let python = python::target_version(cli.python_version.as_deref(), &target.root)
        .map_err(anyhow::Error::msg)?;
    let filters = Filters {
        only_binary: OnlyBinary::parse(&cli.only_binary.join(",")),
        platforms: cli.platform.clone(),
    };
    let opts = PinOptions::new(
        Target {
            python,
            pre: cli.pre,
        },
        filters,
        &config,
    );
    let ws = pin::load(&target, &config);
    let rules = pin::rules();
    let mut stdout = std::io::stdout().lock();

    if cli.offline {
        let findings = pin::check_workspace_offline(&ws, &opts);
        return Ok(mlsupply::cli::report(
            &mut stdout,
            "mlsupply-pin",
            &cli.common,
            &config,
            &findings,
            &rules,
            &ws.sources,
        ));
    }

    let inputs = IndexInputs::from_process();
    let from_files = pin::file_indexes(&ws);
    let expand = |text: &String| pin::expand_env(text, |name| inputs.env.get(name).cloned());
    let mut extra: Vec<String> = from_files.extra_index_urls.iter().map(expand).collect();
    extra.extend(cli.extra_index_url.iter().cloned());
    let args = IndexArgs {
        index_url: cli
            .index_url
            .clone()
            .or_else(|| from_files.index_url.as_ref().map(expand)),
        extra_index_urls: extra,
        cert: None,
        trusted_hosts: from_files.trusted_hosts.clone(),
    };
    let settings = IndexSettings::resolve(&args, &inputs)?;
    let client = BlockingIndexClient::new(&settings, ClientOptions::default())?;
    let names = pin::lookups(&ws);
    let show_progress = std::io::stderr().is_terminal() && names.len() > 1;
    let mut progress = |done: usize, total: usize| {
        if show_progress {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2Kmlsupply-pin: {done}/{total} projects");
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = err.flush();
        }
    };
    let lookups = match pin::fetch(&client, &names, &mut progress) {
        Ok(lookups) => lookups,
        Err(errors) => {
            for err in errors {
                eprintln!("mlsupply-pin: error: {err}");
            }
            eprintln!("mlsupply-pin: no file was changed");
            return Ok(Exit::Error);
        }
    };
    let outcome = pin::check_online(&ws, &opts, &lookups);
    if !outcome.errors.is_empty() {
        for err in &outcome.errors {
            eprintln!("mlsupply-pin: error: {err}");
        }
        eprintln!("mlsupply-pin: no file was changed");
        return Ok(Exit::Error);
    }

    if cli.diff {
        for plan in &outcome.plans {
            write!(stdout, "{}", pin::unified_diff(plan))?;
        }
        stdout.flush()?;
        return Ok(if outcome.plans.is_empty() {
            Exit::Clean
        } else {
            Exit::Findings
        });
    }

    if cli.fix {
        for plan in &outcome.plans {
            if let Err(err) = pin::write_atomic(&plan.abs_path, &plan.new_bytes) {
                eprintln!("mlsupply-pin: error: cannot write {}: {err}", plan.rel_path);
                return Ok(Exit::Error);
            }
            for change in &plan.changes {
                eprintln!(
                    "mlsupply-pin: fixed {}:{}: {}: {}",
                    plan.rel_path, change.line, change.project, change.description
                );
            }
        }
        // What remains is read from the rewritten files, with the answers already fetched.
        let ws = pin::load(&target, &config);
        let after = pin::check_online(&ws, &opts, &lookups);
        return Ok(mlsupply::cli::report(
            &mut stdout,
            "mlsupply-pin",
            &cli.common,
            &config,
            &after.findings,
            &rules,
            &ws.sources,
        ));
    }

    let exit = mlsupply::cli::report(
        &mut stdout,
        "mlsupply-pin",
        &cli.common,
        &config,
        &outcome.findings,
        &rules,
        &ws.sources,
    );
    if cli.common.format == Format::Text && !outcome.plans.is_empty() {
        writeln!(stdout)?;
        writeln!(stdout, "mlsupply-pin --fix would write:")?;
        for plan in &outcome.plans {
            write!(stdout, "{}", pin::unified_diff(plan))?;
        }
        stdout.flush()?;
    }
    Ok(match (exit, outcome.plans.is_empty()) {
        (Exit::Error, _) => Exit::Error,
        (_, false) => Exit::Findings,
        (exit, true) => exit,
    })
}
