//! Command-line arguments shared by every binary, and the steps every binary ends with:
//! load the configuration, render the findings, pick the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::config::{self, Config, ConfigError};
use crate::exit::Exit;
use crate::finding::{Finding, Severity};
use crate::output::{self, Format, Report};
use crate::rules::Rule;
use crate::scan::Target;
use crate::source::SourceMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Flags every checking binary takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Files or directories to check (pre-commit passes the changed files). A single directory
    /// without --root is the root itself. Default: the whole root.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The repository root: findings' paths are relative to it and configuration is found from it.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Lowest severity that makes the exit code 1 [default: warning, or `fail-on` in the config].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Use this configuration file instead of looking for one.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub dump_config: bool,

    /// When to colour the text output. `auto` honours NO_COLOR, FORCE_COLOR and whether
    /// standard output is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

impl CommonArgs {
    /// The root and the explicit paths to scan.
    pub fn target(&self) -> Target {
        match (&self.root, self.paths.as_slice()) {
            (None, [only]) if only.is_dir() => Target {
                root: only.clone(),
                paths: Vec::new(),
            },
            (root, paths) => Target {
                root: root.clone().unwrap_or_else(|| PathBuf::from(".")),
                paths: paths.to_vec(),
            },
        }
    }

    pub fn load_config(&self, root: &Path) -> Result<Config, ConfigError> {
        config::resolve(root, self.config.as_deref(), self.no_config)
    }

    pub fn fail_on(&self, config: &Config) -> Severity {
        self.fail_on.or(config.fail_on).unwrap_or(Severity::Warning)
    }

    pub fn use_color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
                if set("NO_COLOR") {
                    false
                } else if set("FORCE_COLOR") || set("CLICOLOR_FORCE") {
                    true
                } else {
                    std::io::stdout().is_terminal()
                }
            }
        }
    }
}

/// Renders `findings` to `out` (a binary's standard output) and returns the exit code they call for.
pub fn report(
    out: &mut dyn Write,
    tool: &str,
    args: &CommonArgs,
    config: &Config,
    findings: &[Finding],
    rules: &[&'static Rule],
    sources: &SourceMap,
) -> Exit {
    let report = Report {
        tool,
        findings,
        rules,
        sources,
    };
    let written =
        output::render(args.format, &report, out, args.use_color()).and_then(|()| out.flush());
    match written {
        Ok(()) => Exit::for_findings(findings, args.fail_on(config)),
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            Exit::for_findings(findings, args.fail_on(config))
        }
        Err(_) => Exit::Error,
    }
}
