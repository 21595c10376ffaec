//! Scans of a repository: which files are read, which checks run over them, and the findings
//! that come out, inline ignores applied and fingerprints assigned.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::deps::{self, DeclaredDep, DepSource, Extracted};
use crate::finding::{self, Finding};
use crate::rules::{self, Tool};
use crate::source::{SourceFile, SourceMap};
use crate::typo::online::{self, EscalationPolicy, OnlineVerdict};
use crate::typo::{Corpus, Detector, normalize};

use crate::{files, suppress};
use anyhow::{Context, anyhow};

/// What to scan.
#[derive(Clone, Debug)]
pub struct Target {
    /// The repository root: findings' paths are relative to it, configuration is found from it.
    pub root: PathBuf,
    /// Files or directories named on the command line (pre-commit passes changed files); empty
    /// means the whole root.
    pub paths: Vec<PathBuf>,
}

/// The dependency names of one file.
#[derive(Clone, Debug)]
pub struct FileDeps {
    pub rel_path: String,
    pub kind: DepSource,
    pub deps: Vec<DeclaredDep>,
}

/// Every dependency declared or installed under a target, and the problems met reading them.
#[derive(Debug, Default)]
pub struct DependencyScan {
    pub files: Vec<FileDeps>,
    /// Input problems: skipped files, parse errors, include cycles, missing includes.
    pub findings: Vec<Finding>,
    pub sources: SourceMap,
}

impl DependencyScan {
    /// Every declared name with the file it is in.
    pub fn names(&self) -> impl Iterator<Item = (&str, &DeclaredDep)> {
        self.files.iter().flat_map(|file| {
            file.deps
                .iter()
                .map(move |dep| (file.rel_path.as_str(), dep))
        })
    }
}

/// Reads every dependency file under `target`, following `-r`/`-c` includes of requirements files
/// (also into files whose names would not be picked up on their own).
pub fn scan_dependencies(target: &Target, config: &Config) -> DependencyScan {
    let root = canonical(&target.root);
    let collected = files::collect(&root, &target.paths, &config.exclude, &|rel| {
        deps::classify(rel).is_some()
    });
    let mut scan = DependencyScan {
        findings: collected.findings,
        ..DependencyScan::default()
    };
    let mut walker = IncludeWalker {
        root,
        visited: HashSet::new(),
    };
    for file in collected.files {
        let Some(kind) = deps::classify(&file.rel_path) else {
            continue;
        };
        walker.visit(file, kind, &mut Vec::new(), &mut scan);
    }
    config.add_findings_to(&mut scan.findings);
    scan
}

/// Depth-first walk over requirements includes, with pip's cycle rule: only a file that includes
/// one of the files currently being read is an error; the same file reached twice is read once.
struct IncludeWalker {
    root: PathBuf,
    visited: HashSet<PathBuf>,
}

impl IncludeWalker {
    fn visit(
        &mut self,
        file: SourceFile,
        kind: DepSource,
        stack: &mut Vec<PathBuf>,
        scan: &mut DependencyScan,
    ) {
        let key = canonical(&file.abs_path);
        if !self.visited.insert(key.clone()) {
            return;
        }
        let Extracted {
            deps,
            includes,
            findings,
        } = deps::extract(&file, kind);
        scan.findings.extend(findings);
        scan.files.push(FileDeps {
            rel_path: file.rel_path.clone(),
            kind,
            deps,
        });
        stack.push(key);
        for include in &includes {
            let resolved = canonical(&include.path);
            let finding = |rule, message: String| {
                Finding::at(rule, &file, include.span, include.written.clone(), message)
            };
            if stack.contains(&resolved) {
                scan.findings.push(finding(
                    &rules::INCLUDE_CYCLE,
                    format!(
                        "`{}` includes a file that is already being read (an include cycle)",
                        include.written
                    ),
                ));
            } else if !resolved.exists() {
                // Only a missing file: a FIFO, a device or a directory is read below, and the
                // guarded reader says what it is.
                scan.findings.push(finding(
                    &rules::MISSING_INCLUDE,
                    format!(
                        "`{}` does not exist (paths in -r/-c are relative to the including file)",
                        include.written
                    ),
                ));
            } else if !resolved.starts_with(&self.root) {
                scan.findings.push(finding(
                    &rules::FILE_SKIPPED,
                    format!(
                        "`{}` is outside the scanned root and was not read",
                        include.written
                    ),
                ));
            } else if !self.visited.contains(&resolved) {
                match files::read(&self.root, &resolved) {
                    Ok(included) => self.visit(included, DepSource::Requirements, stack, scan),
                    // At the include line: a FIFO or device there is a problem of this file.
                    Err(skipped) => scan
                        .findings
                        .push(finding(&rules::FILE_SKIPPED, skipped.message)),
                }
            }
        }
        stack.pop();
        scan.sources.insert(file);
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The typosquat detector a configuration asks for: the built-in popular list or `popular`
/// (a command-line `--popular` wins over `[typo] popular`), plus `extra-popular`, minus `allow`.
pub fn typo_detector(config: &Config, popular: Option<&Path>) -> anyhow::Result<Detector> {
    let mut corpus = match popular.or(config.typo.popular.as_deref()) {
        Some(path) => {
            let bytes = files::read_named(path, crate::typo::MAX_LIST_BYTES as u64)
                .and_then(|bytes| String::from_utf8(bytes).map_err(std::io::Error::other));
            let text = bytes.with_context(|| {
                format!("cannot read the popular-package list {}", path.display())
            })?;
            Corpus::from_tsv(&text).map_err(|err| anyhow!("{}: {err}", path.display()))?
        }
        None => Corpus::builtin(),
    };
    for name in &config.typo.extra_popular {
        corpus.add(name);
    }
    let allow: Vec<String> = config
        .typo
        .allow
        .iter()
        .map(|entry| entry.name.clone())
        .collect();
    Ok(Detector::new(corpus, &allow))
}

/// `typosquat` and `non-ascii-name` findings for every declared name.
pub fn typo_findings(scan: &DependencyScan, detector: &Detector) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (path, dep) in scan.names() {
        if let Some(suspicion) = detector.check(&dep.name) {
            let mut finding = Finding::new(
                suspicion.rule,
                path,
                dep.span,
                dep.name.clone(),
                suspicion.message,
            )
            .with_severity(suspicion.severity);
            if let Some((target, _rank)) = &suspicion.target {
                finding = finding.with_suggestion(format!("did you mean `{target}`?"));
            }
            findings.push(finding);
        }
    }
    findings
}

/// The last step of every scan: inline ignores applied for `tools`, findings sorted and
/// fingerprinted.
pub fn finish(findings: Vec<Finding>, sources: &SourceMap, tools: &[Tool]) -> Vec<Finding> {
    let mut findings = suppress::apply(findings, sources, tools);
    finding::assign_fingerprints(&mut findings);
    findings
}

/// What `--online` adds to the typosquat check: `unknown-package` for every name no index has,
/// and typosquat suspicions about young projects with few releases raised to errors.
pub fn apply_online_verdicts(
    findings: &mut Vec<Finding>,
    scan: &DependencyScan,
    verdicts: &[OnlineVerdict],
    allowed: &[String],
    now: jiff::Timestamp,
) {
    let by_name: HashMap<&str, &OnlineVerdict> = verdicts
        .iter()
        .map(|verdict| (verdict.name.as_str(), verdict))
        .collect();
    let allowed: HashSet<String> = allowed.iter().map(|name| normalize(name)).collect();
    let policy = EscalationPolicy::default();
    for finding in findings
        .iter_mut()
        .filter(|f| f.rule == rules::TYPOSQUAT.id)
    {
        let Some(verdict) = by_name.get(normalize(&finding.subject).as_str()) else {
            continue;
        };
        let escalated = online::escalate(finding.severity, verdict, now, &policy);
        if escalated > finding.severity {
            finding.severity = escalated;
            if let Some(reason) = verdict
                .facts()
                .and_then(|facts| online::escalation_reason(facts, now))
            {
                finding
                    .message
                    .push_str(&format!("; the project is new ({reason})"));
            }
        }
    }
    for (path, dep) in scan.names() {
        let name = normalize(&dep.name);
        if allowed.contains(&name) {
            continue;
        }
        if let Some(message) = by_name
            .get(name.as_str())
            .and_then(|verdict| verdict.missing_message())
        {
            findings.push(
                Finding::new(
                    &rules::UNKNOWN_PACKAGE,
                    path,
                    dep.span,
                    dep.name.clone(),
                    message,
                )
                .with_suggestion(
                    "check the spelling, or install it from the index that publishes it",
                ),
            );
        }
    }
}

/// The distinct dependency names worth asking an index about (ASCII ones: no index can hold
/// anything else, and `non-ascii-name` already reports those).
pub fn online_names(scan: &DependencyScan) -> Vec<String> {
    let mut names: Vec<String> = scan
        .names()
        .map(|(_, dep)| normalize(&dep.name))
        .filter(|name| name.is_ascii())
        .collect();
    names.sort();
    names.dedup();
    names
}
