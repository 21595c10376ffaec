//! `mlsupply.toml` / `.mlsupply.toml` / `[tool.mlsupply]` in `pyproject.toml`.
//!
//! STUB: interface fixed, body to be written (helper "infra").

use std::path::{Path, PathBuf};

use crate::finding::Severity;

/// An allow-list entry: every one carries the reason it is safe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allow {
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypoConfig {
    /// Names never flagged, each with a reason.
    pub allow: Vec<Allow>,
    /// The project's own or internal names, treated as popular (never flagged, and guarded).
    pub extra_popular: Vec<String>,
    /// Replaces the built-in popular list (a `rank<TAB>name` file), relative to the config file.
    pub popular: Option<PathBuf>,
    pub online: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubConfig {
    pub trusted_orgs: Vec<Allow>,
    pub allowed_hosts: Vec<Allow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PinConfig {
    pub allowed_hosts: Vec<Allow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The file this came from; `None` when no configuration was found or `--no-config` was given.
    pub path: Option<PathBuf>,
    pub fail_on: Option<Severity>,
    /// Glob patterns (relative to the scanned root) of paths never scanned.
    pub exclude: Vec<String>,
    pub typo: TypoConfig,
    pub hub: HubConfig,
    pub pin: PinConfig,
}

/// A configuration problem, always naming the file and (when known) the line and column.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    pub location: Option<(u32, u32)>,
    pub message: String,
}

/// The configuration for a scan of `root`: `explicit` if given, else the nearest file found by
/// walking up from `root`, else the defaults. `no_config` ignores every file.
pub fn resolve(
    root: &Path,
    explicit: Option<&Path>,
    no_config: bool,
) -> Result<Config, ConfigError> {
    let _ = (root, explicit, no_config);
    Ok(Config::default())
}

/// The effective configuration as TOML, for `--dump-config`.
pub fn dump(config: &Config) -> String {
    format!("{config:#?}\n")
}
