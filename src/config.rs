//! `mlsupply.toml` / `.mlsupply.toml` / `[tool.mlsupply]` in `pyproject.toml`.
//!
//! # Discovery and precedence
//!
//! 1. `--no-config`: no file is read; every setting has its default.
//! 2. `--config PATH`: exactly that file. A `pyproject.toml` given this way is read for its
//!    `[tool.mlsupply]` table (and is an error without one).
//! 3. Otherwise the scanned root and then each of its parents, up to the filesystem root, is
//!    searched for `mlsupply.toml`, `.mlsupply.toml` and a `pyproject.toml` that has a
//!    `[tool.mlsupply]` table, in that order. The first file found is the configuration; files in
//!    further-up directories, and later candidates in the same directory, are not read (files are
//!    never merged). A `pyproject.toml` without the table is skipped, but one in a parent
//!    directory that is not valid TOML is an error: it may hold our table, and guessing would
//!    silently drop allow-lists.
//!
//! Files in the scanned root are repository input, read as scanned files are
//! ([`crate::files`]: inside the root, regular files, capped). A root `pyproject.toml` that is not
//! valid TOML, or any root candidate that cannot be read that way (a FIFO, a symlink out of the
//! root), is a finding (`parse-error`, `file-skipped`) saying its configuration was not applied,
//! and the scan goes on with the defaults, as a broken manifest anywhere else would. A root
//! `mlsupply.toml` that does not parse, or a wrong `[tool.mlsupply]` table, stays an error. Files
//! outside the root (parents, `--config`) are the user's: they may be anywhere, but are read
//! only if regular and at most [`crate::files::MAX_FILE_BYTES`] long.
//!
//! # Schema
//!
//! The public structs below *are* the schema: they deserialize with kebab-case keys and
//! `deny_unknown_fields` at every level, so adding a section is adding a field. Every error —
//! TOML syntax, unknown key, wrong type, missing or empty `reason`, bad glob — names the file,
//! line and column, via `toml_edit`'s byte spans.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::finding::{Finding, Severity};
use crate::source::SourceFile;
use crate::{files, rules};

/// The file names searched in each directory, in order of precedence.
pub const CANDIDATES: [&str; 3] = ["mlsupply.toml", ".mlsupply.toml", "pyproject.toml"];

/// An allow-list entry: every one carries the reason it is safe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    #[serde(deserialize_with = "non_empty")]
    pub name: String,
    #[serde(deserialize_with = "non_empty")]
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct TypoConfig {
    /// Names never flagged, each with a reason.
    pub allow: Vec<Allow>,
    /// The project's own or internal names, treated as popular (never flagged, and guarded).
    #[serde(deserialize_with = "non_empty_list")]
    pub extra_popular: Vec<String>,
    /// Replaces the built-in popular list (a `rank<TAB>name` file), relative to the config file.
    pub popular: Option<PathBuf>,
    pub online: Option<bool>,
    /// Seconds one index request may take with `--online` (see [`crate::index::ClientOptions`]).
    #[serde(deserialize_with = "seconds")]
    pub index_timeout: Option<std::time::Duration>,
    /// Seconds all index requests of one `--online` run may take together.
    #[serde(deserialize_with = "seconds")]
    pub index_budget: Option<std::time::Duration>,
}

impl PinConfig {
    /// `index-timeout` and `index-budget`, as [`crate::index::ClientOptions::with_time_limits`]
    /// takes them.
    pub fn time_limits(&self) -> (Option<std::time::Duration>, Option<std::time::Duration>) {
        (self.index_timeout, self.index_budget)
    }
}

impl TypoConfig {
    /// See [`PinConfig::time_limits`].
    pub fn time_limits(&self) -> (Option<std::time::Duration>, Option<std::time::Duration>) {
        (self.index_timeout, self.index_budget)
    }

    /// The allowed names alone, as [`crate::typo::Detector::new`] takes them.
    pub fn allow_names(&self) -> Vec<String> {
        self.allow.iter().map(|allow| allow.name.clone()).collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct HubConfig {
    pub trusted_orgs: Vec<Allow>,
    pub allowed_hosts: Vec<Allow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct PinConfig {
    pub allowed_hosts: Vec<Allow>,
    /// Seconds one index request may take (see [`crate::index::ClientOptions`]).
    #[serde(deserialize_with = "seconds")]
    pub index_timeout: Option<std::time::Duration>,
    /// Seconds all index requests of one run may take together.
    #[serde(deserialize_with = "seconds")]
    pub index_budget: Option<std::time::Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// The file this came from; `None` when no configuration was found or `--no-config` was given.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    #[serde(deserialize_with = "severity")]
    pub fail_on: Option<Severity>,
    /// Glob patterns (relative to the scanned root) of paths never scanned; see [`crate::files`]
    /// for how they match. Each is checked to compile when the file is read.
    #[serde(deserialize_with = "glob_list")]
    pub exclude: Vec<String>,
    pub typo: TypoConfig,
    pub hub: HubConfig,
    pub pin: PinConfig,
    /// Input problems met looking for the configuration in the scanned root (a root
    /// `pyproject.toml` that does not parse, a candidate that cannot be read): each scan reports
    /// them with its own findings ([`Config::add_findings_to`]).
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

impl Config {
    /// Adds [`Config::findings`] to a scan's `findings`, in place of the scan's own finding about
    /// the same place (the configuration's says that it was not applied): reported once.
    pub fn add_findings_to(&self, findings: &mut Vec<Finding>) {
        if self.findings.is_empty() {
            return;
        }
        let same =
            |a: &Finding, b: &Finding| a.rule == b.rule && a.path == b.path && a.span() == b.span();
        findings.retain(|f| !self.findings.iter().any(|c| same(c, f)));
        findings.extend(self.findings.iter().cloned());
    }
}

/// A configuration problem, always naming the file and (when known) the line and column.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    pub location: Option<(u32, u32)>,
    pub message: String,
}

impl ConfigError {
    fn new(path: &Path, location: Option<(u32, u32)>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            location,
            message: message.into(),
        }
    }
}

/// The configuration for a scan of `root`: `explicit` if given, else the nearest file found by
/// walking up from `root`, else the defaults. `no_config` ignores every file.
pub fn resolve(
    root: &Path,
    explicit: Option<&Path>,
    no_config: bool,
) -> Result<Config, ConfigError> {
    if no_config {
        return Ok(Config::default());
    }
    if let Some(path) = explicit {
        return load(path);
    }
    match discover(root)? {
        Some(config) => Ok(config),
        None => Ok(Config::default()),
    }
}

/// The nearest configuration above (or in) `root`, if any; see the module docs for the order.
pub fn discover(root: &Path) -> Result<Option<Config>, ConfigError> {
    // Canonical, so that `..` and symlinks walk up the real directory tree.
    let start = root
        .canonicalize()
        .or_else(|_| std::path::absolute(root))
        .unwrap_or_else(|_| root.to_path_buf());
    for dir in start.ancestors() {
        for name in CANDIDATES {
            if dir == start {
                if let Some(config) = discover_in_root(&start, name)? {
                    return Ok(Some(config));
                }
                continue;
            }
            let path = dir.join(name);
            if !path.is_file() {
                continue;
            }
            let text = read_text(&path)?;
            if let Some(config) = parse(&path, &text, name == "pyproject.toml")? {
                return Ok(Some(config));
            }
        }
    }
    Ok(None)
}

/// Reads exactly the file at `path` (`--config`).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read_text(path)?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    parse(path, &text, is_pyproject)?.ok_or_else(|| {
        ConfigError::new(
            path,
            None,
            "this pyproject.toml has no [tool.mlsupply] table",
        )
    })
}

/// The configuration candidate `name` in the (canonical) scanned root, read as a scanned file.
fn discover_in_root(root: &Path, name: &str) -> Result<Option<Config>, ConfigError> {
    let path = root.join(name);
    // Nothing there, or a directory: not a candidate.
    if std::fs::symlink_metadata(&path).is_err() || path.is_dir() {
        return Ok(None);
    }
    let not_applied = |mut finding: Finding, what: &str| {
        finding.message.push_str(&format!(
            "; {what} in it was not applied: this scan used the default configuration"
        ));
        Some(Config {
            findings: vec![finding],
            ..Config::default()
        })
    };
    let pyproject = name == "pyproject.toml";
    let what = if pyproject {
        "any [tool.mlsupply] configuration"
    } else {
        "the configuration"
    };
    let config = if pyproject {
        // Decoded as the scan decodes it, so that a problem is the scan's own finding.
        let file = match files::read(root, Path::new(name)) {
            Ok(file) => file,
            Err(skipped) => return Ok(not_applied(skipped, what)),
        };
        match parse(&path, &file.text, true) {
            Err(_) if toml_edit::Document::parse(file.text.as_str()).is_err() => {
                // The finding the manifest surface gives the file, so that it is reported once.
                let mut out = crate::deps::Extracted::default();
                crate::deps::manifest_toml::parse(&file, &mut out);
                let finding = out
                    .findings
                    .into_iter()
                    .find(|f| f.rule == rules::PARSE_ERROR.id);
                return Ok(finding.and_then(|finding| not_applied(finding, what)));
            }
            result => result?,
        }
    } else {
        let bytes = match files::read_bytes(root, Path::new(name)) {
            Ok(bytes) => bytes,
            Err(skipped) => return Ok(not_applied(skipped, what)),
        };
        parse(&path, &decode_text(&path, bytes)?, false)?
    };
    match config {
        Some(config) => confine_popular(config, root, &path, pyproject).map(Some),
        None => Ok(None),
    }
}

/// A `typo.popular` list named by a configuration in the repository must be in the repository.
fn confine_popular(
    config: Config,
    root: &Path,
    path: &Path,
    pyproject: bool,
) -> Result<Config, ConfigError> {
    let Some(popular) = &config.typo.popular else {
        return Ok(config);
    };
    if popular.canonicalize().is_ok_and(|p| p.starts_with(root)) {
        return Ok(config);
    }
    let keys: &[&str] = if pyproject {
        &["tool", "mlsupply", "typo", "popular"]
    } else {
        &["typo", "popular"]
    };
    let text = files::read(root, path).map(|f| f.text).unwrap_or_default();
    let source = SourceFile::new("", path, text);
    let location = span_of(&source.text, keys).map(|s| source.position(s.start));
    Err(ConfigError::new(
        path,
        location,
        "`typo.popular`: the file is outside the repository (a configuration in the scanned root may only name files inside it)",
    ))
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    let bytes = files::read_named(path, files::MAX_FILE_BYTES)
        .map_err(|e| ConfigError::new(path, None, format!("cannot read the file: {e}")))?;
    decode_text(path, bytes)
}

fn decode_text(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let location = SourceFile::new("", path, text).position(offset);
        ConfigError::new(path, Some(location), "the file is not valid UTF-8")
    })
}

/// Parses configuration text read from `path` (only used to name it in errors and to resolve
/// relative paths). With `pyproject`, only the `[tool.mlsupply]` table is read, and `Ok(None)`
/// means there is none.
pub fn parse(path: &Path, text: &str, pyproject: bool) -> Result<Option<Config>, ConfigError> {
    // Positions are computed on the same BOM-less text the parser sees.
    let source = SourceFile::new("", path, text.to_string());
    let located = |span: Option<std::ops::Range<usize>>| span.map(|s| source.position(s.start));
    let document = toml_edit::Document::parse(source.text.clone()).map_err(|e| {
        ConfigError::new(
            path,
            located(e.span()),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;

    let deserialized = if pyproject {
        let has_table = document
            .get("tool")
            .and_then(|tool| tool.get("mlsupply"))
            .is_some();
        if !has_table {
            return Ok(None);
        }
        toml_edit::de::from_document::<Pyproject>(document)
            .map(|p| p.tool.and_then(|t| t.mlsupply).unwrap_or_default())
    } else {
        toml_edit::de::from_document::<Config>(document)
    };
    let mut config = deserialized.map_err(|mut e| {
        let location = located(e.span());
        let mut message = e.message().trim_end().to_string();
        if message == "missing field `reason`" {
            message.push_str(": every allow-list entry needs a reason saying why it is safe");
        }
        // Without the input attached, the error's Display appends the key path.
        e.set_input(None);
        let rendered = e.to_string();
        let key_path = rendered
            .lines()
            .filter_map(|line| line.strip_prefix("in `"))
            .filter_map(|line| line.strip_suffix('`'))
            .next_back()
            .map(str::to_string);
        let message = match key_path {
            Some(keys) => format!("{message} (in `{keys}`)"),
            None => message,
        };
        ConfigError::new(path, location, message)
    })?;

    let dir = path.parent().unwrap_or(Path::new(""));
    if let Some(popular) = config.typo.popular.take() {
        let resolved = dir.join(&popular);
        if !resolved.is_file() {
            let keys: &[&str] = if pyproject {
                &["tool", "mlsupply", "typo", "popular"]
            } else {
                &["typo", "popular"]
            };
            let location = span_of(&source.text, keys).map(|s| source.position(s.start));
            return Err(ConfigError::new(
                path,
                location,
                format!(
                    "`typo.popular`: no file `{}` (paths are relative to the configuration file)",
                    popular.display()
                ),
            ));
        }
        config.typo.popular = Some(resolved);
    }
    config.path = Some(path.to_path_buf());
    Ok(Some(config))
}

/// The byte span of the value at `keys`, re-parsed on the (rare) error path.
fn span_of(text: &str, keys: &[&str]) -> Option<std::ops::Range<usize>> {
    let document = toml_edit::Document::parse(text).ok()?;
    let mut item = document.as_item();
    for key in keys {
        item = item.get(key)?;
    }
    item.span()
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Deserialize)]
struct PyprojectTool {
    mlsupply: Option<Config>,
}

/// A string checked while it is deserialized: an error raised inside the visitor gets the span
/// of the string itself (also as a list element), where a check made afterwards would only get
/// the span of the enclosing value.
struct CheckedStr {
    expecting: &'static str,
    check: fn(&str) -> Result<(), String>,
}

impl de::Visitor<'_> for CheckedStr {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        (self.check)(text).map_err(E::custom)?;
        Ok(text.to_string())
    }
}

fn check_non_empty(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    Ok(())
}

fn check_glob(text: &str) -> Result<(), String> {
    check_non_empty(text)?;
    glob::Pattern::new(text)
        .map(drop)
        .map_err(|e| format!("invalid glob pattern `{text}`: {e}"))
}

fn check_severity(text: &str) -> Result<(), String> {
    match text {
        "note" | "warning" | "error" => Ok(()),
        _ => Err(format!(
            "unknown severity `{text}`, expected one of `note`, `warning`, `error`"
        )),
    }
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_str(CheckedStr {
        expecting: "a non-empty string",
        check: check_non_empty,
    })
}

/// A time limit in seconds, checked as [`crate::index::seconds`] checks it.
fn seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<std::time::Duration>, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    crate::index::seconds(seconds)
        .map(Some)
        .map_err(de::Error::custom)
}

fn severity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Severity>, D::Error> {
    let text = deserializer.deserialize_str(CheckedStr {
        expecting: "one of \"note\", \"warning\", \"error\"",
        check: check_severity,
    })?;
    Ok(Some(match text.as_str() {
        "note" => Severity::Note,
        "warning" => Severity::Warning,
        _ => Severity::Error,
    }))
}

/// A list element that must be a non-empty string.
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        non_empty(deserializer).map(NonEmpty)
    }
}

fn non_empty_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items = Vec::<NonEmpty>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|item| item.0).collect())
}

/// A glob pattern checked when the configuration is read, so a typo in one is reported at its
/// line instead of silently excluding nothing.
struct Glob(String);

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(CheckedStr {
                expecting: "a glob pattern",
                check: check_glob,
            })
            .map(Glob)
    }
}

fn glob_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items = Vec::<Glob>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|item| item.0).collect())
}

/// The effective configuration as TOML (`--dump-config`). Reading the output back gives the same
/// configuration (with `typo.popular` already resolved to a full path).
pub fn dump(config: &Config) -> String {
    let mut doc = DocumentMut::new();
    if let Some(fail_on) = config.fail_on {
        doc["fail-on"] = value(fail_on.as_str());
    }
    doc["exclude"] = value(string_array(&config.exclude));

    let mut typo = Table::new();
    typo["extra-popular"] = value(string_array(&config.typo.extra_popular));
    if let Some(popular) = &config.typo.popular {
        typo["popular"] = value(popular.to_string_lossy().into_owned());
    }
    if let Some(online) = config.typo.online {
        typo["online"] = value(online);
    }
    set_seconds(
        &mut typo,
        config.typo.index_timeout,
        config.typo.index_budget,
    );
    set_allows(&mut typo, "allow", &config.typo.allow);
    doc["typo"] = Item::Table(typo);

    let mut hub = Table::new();
    set_allows(&mut hub, "trusted-orgs", &config.hub.trusted_orgs);
    set_allows(&mut hub, "allowed-hosts", &config.hub.allowed_hosts);
    doc["hub"] = Item::Table(hub);

    let mut pin = Table::new();
    set_allows(&mut pin, "allowed-hosts", &config.pin.allowed_hosts);
    set_seconds(&mut pin, config.pin.index_timeout, config.pin.index_budget);
    doc["pin"] = Item::Table(pin);

    let header = match &config.path {
        // `{:?}` quotes the path and escapes newlines, which would otherwise end the comment.
        Some(path) => format!("# Effective mlsupply configuration, read from {path:?}\n"),
        None => {
            "# Effective mlsupply configuration: defaults, no configuration file read\n".to_string()
        }
    };
    format!("{header}{doc}")
}

fn string_array(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

fn set_seconds(
    table: &mut Table,
    timeout: Option<std::time::Duration>,
    budget: Option<std::time::Duration>,
) {
    if let Some(timeout) = timeout {
        table["index-timeout"] = value(timeout.as_secs_f64());
    }
    if let Some(budget) = budget {
        table["index-budget"] = value(budget.as_secs_f64());
    }
}

fn set_allows(table: &mut Table, key: &str, allows: &[Allow]) {
    if allows.is_empty() {
        table[key] = value(Array::new());
        return;
    }
    let mut array = ArrayOfTables::new();
    for allow in allows {
        let mut entry = Table::new();
        entry["name"] = value(allow.name.as_str());
        entry["reason"] = value(allow.reason.as_str());
        array.push(entry);
    }
    table[key] = Item::ArrayOfTables(array);
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dump(self))
    }
}
