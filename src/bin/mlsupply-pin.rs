//! `mlsupply-pin`: pins requirements files to exact versions with the index's sha256 hashes,
//! checks the hashes already listed, and flags sources pip's hash mode cannot protect.

mod shared;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use mlsupply::cli::CommonArgs;
use mlsupply::exit::Exit;
use mlsupply::index::{
    BlockingIndexClient, Cache, ClientOptions, IndexArgs, IndexInputs, IndexSettings, IndexUrl,
    MetadataFetcher,
};
use mlsupply::output::{Fix, Format, Report, sanitize_terminal};
use mlsupply::pin::FilePlan;
use mlsupply::pin::{self, Filters, OnlyBinary, PinOptions, Target, closure, python};
use mlsupply::resolve::Mode;
use mlsupply::rewrite::{self, NewContent};

#[derive(Parser, Debug)]
#[command(name = "mlsupply-pin", version)]
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
    ///
    /// Also resolves the transitive dependencies for the platform of the first tag only (its
    /// markers evaluated), instead of universally.
    #[arg(long, value_name = "TAG", conflicts_with = "universal")]
    platform: Vec<String>,

    /// Resolve the transitive dependencies for every platform at once (the default): one
    /// version per package, each added line with the marker under which it is needed.
    #[arg(long)]
    universal: bool,

    /// Pin only the requirements the files list, as pip's --no-deps installs them: no
    /// transitive closure, no `missing-dependency` check.
    #[arg(long, conflicts_with = "universal")]
    no_deps: bool,

    /// Do not read or write the on-disk cache of index pages and metadata.
    #[arg(long)]
    no_cache: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::exit_code("mlsupply-pin", run(&cli))
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let Some((target, config)) = shared::setup(&cli.common)? else {
        return Ok(Exit::Clean);
    };
    let python = python::target_version(cli.python_version.as_deref(), &target.root)
        .map_err(anyhow::Error::msg)?;
    let ws = pin::load(&target, &config);
    // `--pre` and `--only-binary` lines in the files count as pip counts them: for the whole run.
    let from_files = pin::file_options(&ws);
    let mut only_binary = from_files.only_binary.clone();
    only_binary.extend(cli.only_binary.iter().cloned());
    let filters = Filters {
        only_binary: OnlyBinary::parse(&only_binary.join(",")),
        platforms: cli.platform.clone(),
    };
    let opts = PinOptions::new(
        Target {
            python,
            pre: cli.pre || from_files.pre,
        },
        filters,
        &config,
    );
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

    if from_files.no_index && cli.index_url.is_none() {
        // pip installs such files from --find-links only: hashes read from PyPI would describe
        // other files than the ones pip installs.
        anyhow::bail!(
            "a file sets --no-index, so pip reads no index for it; pass --index-url with the index its files come from (or use --offline)"
        );
    }
    let inputs = IndexInputs::from_process();
    let expand = |text: &String| pin::expand_env(text, |name| inputs.env.get(name).cloned());
    let written: Vec<String> = from_files
        .index_url
        .iter()
        .chain(&from_files.extra_index_urls)
        .cloned()
        .collect();
    let secrets = pin::expanded_values(&written, |name| inputs.env.get(name).cloned());
    let mask = |message: String| pin::mask_values(&message, &secrets);
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
    let settings = IndexSettings::resolve(&args, &inputs)
        .map_err(|e| anyhow::Error::msg(mask(e.to_string())))?;
    // Extra indexes in the files are findings; those from the command line, PIP_EXTRA_INDEX_URL
    // or pip.conf have no line to point at, so they are warned about here.
    let in_files: Vec<String> = from_files
        .extra_index_urls
        .iter()
        .map(expand)
        .filter_map(|text| IndexUrl::parse(&text).ok())
        .map(|url| url.redacted().to_string())
        .collect();
    for extra in &settings.extra_index_urls {
        let shown = extra.redacted().to_string();
        if !in_files.contains(&shown) {
            eprintln!(
                "{}",
                mask(format!(
                    "mlsupply-pin: warning: extra index {shown} is searched next to {} (dependency confusion: a public package named like an internal one wins)",
                    settings.index_url.redacted()
                ))
            );
        }
    }
    let cache = Cache::from_env(cli.no_cache);
    let client_options = match &cache {
        Some(cache) => cache.client_options(ClientOptions::default()),
        None => ClientOptions::default(),
    }
    .with_time_limits(config.pin.time_limits(), |name| {
        inputs.env.get(name).cloned()
    })?;
    let client = BlockingIndexClient::new(&settings, client_options)
        .map_err(|e| anyhow::Error::msg(mask(e.to_string())))?;
    let mut opts = opts;
    opts.indexes = client
        .client()
        .indexes()
        .iter()
        .map(ToString::to_string)
        .collect();
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
                eprintln!("mlsupply-pin: error: {}", mask(err.to_string()));
            }
            eprintln!("mlsupply-pin: no file was changed");
            return Ok(Exit::Error);
        }
    };
    let mode = match cli
        .platform
        .iter()
        .find(|tag| !tag.eq_ignore_ascii_case("any"))
    {
        Some(tag) => Mode::Platform(
            closure::platform_environment(tag, &opts.target.python).map_err(anyhow::Error::msg)?,
        ),
        None => Mode::Universal,
    };
    let fetcher =
        MetadataFetcher::new(client.client().clone(), cache.as_ref().map(Cache::metadata));
    let source = closure::IndexSource::new(&client, fetcher, &lookups);
    let mut outcome = pin::check_online(&ws, &opts, &lookups);
    if outcome.errors.is_empty() && !cli.no_deps {
        // The closure is resolved from the text the top-level fixes will leave, so that both
        // edits land in one write.
        let planned = |index: usize| closure::planned_text(&ws, &outcome, index);
        match closure::plan(&ws, &opts, &mode, &source, &planned) {
            Ok(found) => closure::merge(&ws, &mut outcome, found),
            Err(err) => {
                eprintln!("mlsupply-pin: error: {}", mask(err.to_string()));
                eprintln!("mlsupply-pin: no file was changed");
                return Ok(Exit::Error);
            }
        }
    }
    if !outcome.errors.is_empty() {
        for err in &outcome.errors {
            eprintln!("mlsupply-pin: error: {}", mask(err.to_string()));
        }
        eprintln!("mlsupply-pin: no file was changed");
        return Ok(Exit::Error);
    }

    if cli.diff && cli.common.format == Format::Json {
        // The diff only, as JSON: no findings, each file's diff in `fixes`.
        let report = Report {
            tool: "mlsupply-pin",
            findings: &[],
            rules: &rules,
            sources: &ws.sources,
        };
        write_json(&report, &outcome.plans, &mut stdout)?;
        return Ok(if outcome.plans.is_empty() {
            Exit::Clean
        } else {
            Exit::Findings
        });
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

    if cli.fix && !outcome.plans.is_empty() {
        // Every file or none: a run that fails leaves the tree as it was.
        let files: Vec<NewContent<'_>> = outcome
            .plans
            .iter()
            .map(|plan| NewContent {
                path: &plan.abs_path,
                bytes: &plan.new_bytes,
            })
            .collect();
        let written = match rewrite::write_all(&target.root, &files) {
            Ok(written) => written,
            Err(err) => {
                let message = err.describe(|path| rel_path_of(&outcome.plans, path));
                eprintln!("mlsupply-pin: error: {}", sanitize_terminal(&message));
                if err.restore_failed.is_empty() {
                    eprintln!("mlsupply-pin: no file was changed");
                }
                return Ok(Exit::Error);
            }
        };
        for path in &written.split_links {
            eprintln!(
                "mlsupply-pin: warning: {} had other hard links; they keep the old content",
                sanitize_terminal(&rel_path_of(&outcome.plans, path))
            );
        }
        for plan in &outcome.plans {
            for change in &plan.changes {
                eprintln!(
                    "mlsupply-pin: fixed {}:{}: {}: {}",
                    plan.rel_path, change.line, change.project, change.description
                );
            }
        }
        // What remains is read from the rewritten files, with the answers already fetched.
        let ws = pin::load(&target, &config);
        let mut after = pin::check_online(&ws, &opts, &lookups);
        let planned = |index: usize| closure::planned_text(&ws, &after, index);
        if !cli.no_deps
            && let Ok(found) = closure::plan(&ws, &opts, &mode, &source, &planned)
        {
            after.findings.extend(found.findings);
        }
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

    let exit = if cli.common.format == Format::Json {
        // JSON carries the diff --fix would write in `fixes`, for mlsupply-comment to show.
        let report = Report {
            tool: "mlsupply-pin",
            findings: &outcome.findings,
            rules: &rules,
            sources: &ws.sources,
        };
        write_json(&report, &outcome.plans, &mut stdout)?;
        Exit::for_findings(&outcome.findings, cli.common.fail_on(&config))
    } else {
        mlsupply::cli::report(
            &mut stdout,
            "mlsupply-pin",
            &cli.common,
            &config,
            &outcome.findings,
            &rules,
            &ws.sources,
        )
    };
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

/// The JSON report with each planned rewrite's diff in `fixes`. A closed pipe (`| head`) is
/// the reader's choice, as in `cli::report`.
fn write_json(
    report: &Report,
    plans: &[pin::FilePlan],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match mlsupply::output::render_json_with_fixes(report, &fixes(plans), out)
        .and_then(|()| out.flush())
    {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Each planned rewrite as the JSON report's `fixes` entry.
fn fixes(plans: &[pin::FilePlan]) -> Vec<Fix> {
    plans
        .iter()
        .map(|plan| Fix {
            path: plan.rel_path.clone(),
            diff: pin::unified_diff(plan),
        })
        .collect()
}

/// How the error messages name the file at `abs_path`: its path relative to the root.
fn rel_path_of(plans: &[FilePlan], abs_path: &std::path::Path) -> String {
    plans
        .iter()
        .find(|plan| plan.abs_path == abs_path)
        .map_or_else(
            || abs_path.display().to_string(),
            |plan| plan.rel_path.clone(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "mlsupply-pin",
            "--only-binary",
            ":all:",
            "--platform",
            "win_amd64",
            "--platform",
            "any",
            "--extra-index-url",
            "https://a.example/simple",
            "--extra-index-url",
            "https://b.example/simple",
            "requirements.txt",
        ])
        .unwrap();
        assert_eq!(cli.platform, ["win_amd64", "any"]);
        assert_eq!(cli.extra_index_url.len(), 2);
        assert_eq!(cli.common.paths.len(), 1);
        assert!(Cli::try_parse_from(["mlsupply-pin", "--diff", "--offline"]).is_err());
    }
}
