//! The transitive closure of a requirements file (issue 4): resolve it with [`crate::resolve`]
//! against the index and the distributions' metadata, and keep the packages the file lacks in a
//! managed section at its end.
//!
//! # Decisions
//!
//! - **Where the section goes**: a file that no other file of the target includes with `-r` is a
//!   *root*. Each root is resolved once, for the union of its own requirements and those of the
//!   files it includes (recursively); its `-c` files only add their `==` pins as constraints. The
//!   section goes at the end of the root, and a package already named in any file of that tree
//!   is never repeated there. Included files are never given a section of their own.
//! - **What is a constraint**: every `==` pin outside the section. The section's own lines are
//!   re-resolved each run (they are the tool's output, not the user's input), so a removed
//!   top-level requirement takes its transitive ones with it and a changed one updates them.
//! - **Layout**: the marker line, then per package `# via a, b` and the pinned block in the same
//!   canonical layout as fixed requirements ([`super::write::pinned_block`]), with the package's
//!   marker in universal mode. Everything before the marker line is never touched; an empty
//!   closure removes the section.
//! - **Metadata** comes from [`MetadataFetcher`] (PEP 658, zip range requests, sdist PKG-INFO),
//!   cached on disk by file URL and sha256; a dynamic sdist is passed over and reported.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::PackageName;

use super::{Change, FilePlan, Kind, Lookups, Outcome, PinError, PinOptions, Workspace, kind_of};
use crate::finding::Finding;
use crate::index::{BlockingIndexClient, DistFile, IndexError, MetadataFetcher, Project};
use crate::resolve::{
    self, Candidate, Constraint, Metadata, Mode, PackageSource, PythonTarget, Resolution,
    ResolveError, ResolveInput, SourceError,
};
use crate::rules;

/// The first line of the managed section.
pub const SECTION_MARKER: &str =
    "# --- mlsupply-pin: transitive dependencies (managed; do not edit by hand) ---";

/// [`PackageSource`] over the package index and the distributions' metadata. Project pages
/// already fetched for the top-level pins are reused; others are fetched on demand.
pub struct IndexSource<'a> {
    client: &'a BlockingIndexClient,
    fetcher: MetadataFetcher,
    projects: Mutex<HashMap<String, Option<Project>>>,
    /// Releases read as having no dependencies because their only metadata is a dynamic sdist.
    dynamic: Mutex<BTreeMap<(String, Version), String>>,
}

impl<'a> IndexSource<'a> {
    /// `lookups`: the answers [`super::fetch`] already has (normalised names).
    pub fn new(
        client: &'a BlockingIndexClient,
        fetcher: MetadataFetcher,
        lookups: &Lookups,
    ) -> IndexSource<'a> {
        IndexSource {
            client,
            fetcher,
            projects: Mutex::new(lookups.clone()),
            dynamic: Mutex::default(),
        }
    }

    /// The index's answer for `name` (normalised), fetched once.
    pub fn project(&self, name: &str) -> Result<Option<Project>, IndexError> {
        if let Some(found) = self.projects.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(found);
        }
        let found = self.client.project(name)?;
        if let Ok(mut memo) = self.projects.lock() {
            memo.insert(name.to_owned(), found.clone());
        }
        Ok(found)
    }
}

impl IndexSource<'_> {
    /// Speculative prefetch, as uv does: PubGrub asks for one package at a time, so the pages
    /// of a release's dependencies and the metadata of each one's newest stable, non-yanked
    /// release are fetched concurrently now (bounded by the client). A wrong guess costs one
    /// fetch; failures are left for the real request to report.
    pub fn prefetch(&self, requirements: &[resolve::Requirement], initial: bool) {
        // Requirements of extras are skipped: a package like transformers lists hundreds of
        // them, and few are ever asked for.
        let mut wanted: Vec<String> = requirements
            .iter()
            .filter(|r| {
                !r.marker
                    .try_to_string()
                    .is_some_and(|m| m.contains("extra"))
            })
            .map(|r| r.name.to_string())
            .collect();
        wanted.sort();
        wanted.dedup();
        let unknown: Vec<String> = match self.projects.lock() {
            Ok(known) => wanted
                .iter()
                .filter(|name| !known.contains_key(*name))
                .cloned()
                .collect(),
            Err(_) => return,
        };
        let fetched = if unknown.is_empty() {
            Vec::new()
        } else {
            self.client.projects(&unknown)
        };
        // Each project's metadata is guessed once: when its page is first fetched here (or, for
        // the file's own requirements, at the start).
        let guess: Vec<String> = if initial { wanted } else { unknown };
        let mut files: Vec<DistFile> = Vec::new();
        if let Ok(mut memo) = self.projects.lock() {
            for (name, result) in fetched {
                if let Ok(found) = result {
                    memo.insert(name, found);
                }
            }
            for name in &guess {
                let Some(Some(project)) = memo.get(name) else {
                    continue;
                };
                let newest = project
                    .versions_of()
                    .into_iter()
                    .rev()
                    .find(|(v, files)| !v.any_prerelease() && files.iter().any(|f| !f.yanked))
                    .and_then(|(_, files)| crate::index::pick_metadata_file(&files).cloned());
                files.extend(newest);
            }
        }
        if files.is_empty() {
            return;
        }
        let fetcher = self.fetcher.clone();
        self.client.block_on(async move {
            let mut set = tokio::task::JoinSet::new();
            for file in files {
                let fetcher = fetcher.clone();
                set.spawn(async move {
                    let _ = fetcher.get(&file).await;
                });
            }
            while set.join_next().await.is_some() {}
        });
    }
}

impl PackageSource for IndexSource<'_> {
    fn versions(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        let project = self
            .project(name.as_ref())
            .map_err(|e| SourceError::Unavailable(e.to_string()))?;
        let Some(project) = project else {
            return Ok(Vec::new());
        };
        Ok(project
            .versions_of()
            .into_iter()
            .map(|(version, files)| Candidate {
                version,
                // One release's files normally agree; the first one that says wins.
                requires_python: files
                    .iter()
                    .find_map(|f| f.requires_python.as_deref())
                    .and_then(|rp| VersionSpecifiers::from_str(rp).ok()),
                yanked: !files.is_empty() && files.iter().all(|f| f.yanked),
            })
            .collect())
    }

    fn dependencies(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        let invalid = |message: String| SourceError::InvalidMetadata {
            name: name.to_string(),
            version: version.to_string(),
            message,
        };
        let project = self
            .project(name.as_ref())
            .map_err(|e| SourceError::Unavailable(e.to_string()))?
            .ok_or_else(|| invalid("the index no longer lists the project".into()))?;
        let by_version = project.versions_of();
        let files: Vec<&DistFile> = by_version.get(version).cloned().unwrap_or_default();
        let file = crate::index::pick_metadata_file(&files)
            .ok_or_else(|| invalid("no wheel or sdist to read metadata from".into()))?;
        let meta = match self.fetcher.get_blocking(self.client, file) {
            Ok(meta) => meta,
            Err(err) if err.is_dynamic() => {
                // pip would build this sdist and install whatever it then asks for. The release
                // stays choosable (pip picks it too), its dependencies unknown, and the run
                // reports it by name; nothing is ever built here.
                if let Ok(mut dynamic) = self.dynamic.lock() {
                    dynamic.insert((name.to_string(), version.clone()), err.to_string());
                }
                return Ok(Metadata::default());
            }
            Err(crate::index::MetadataError::Index(err)) => {
                return Err(SourceError::Unavailable(err.to_string()));
            }
            Err(err) => return Err(invalid(err.to_string())),
        };
        let mut requires_dist = Vec::new();
        for req in &meta.requires_dist {
            requires_dist.push(resolve::parse_requirement(&req.to_string()).map_err(invalid)?);
        }
        self.prefetch(&requires_dist, false);
        Ok(Metadata {
            requires_dist,
            requires_python: meta.requires_python.clone(),
            provides_extra: meta.provides_extra.clone(),
        })
    }
}

/// One root file's resolved section.
#[derive(Debug, Clone)]
pub struct SectionPlan {
    /// Index into [`Workspace::files`].
    pub file: usize,
    /// The root's text with its section brought in step (`None`: unchanged).
    pub new_text: Option<String>,
    /// Packages added, updated or removed, one line each (for `--fix`'s report).
    pub changes: Vec<String>,
}

/// What the closure step found.
#[derive(Debug, Default)]
pub struct ClosureOutcome {
    pub findings: Vec<Finding>,
    pub sections: Vec<SectionPlan>,
}

/// Why the closure could not be computed; no file may be written.
#[derive(Debug, thiserror::Error)]
pub enum ClosureError {
    #[error("{path}: {error}")]
    Resolve { path: String, error: ResolveError },
    #[error("{path}: {message}")]
    Input { path: String, message: String },
}

/// Resolves each root of `ws` and plans its section. `base_text(i)` is the text file `i` will
/// have after the top-level fixes (its current text when there are none), so the two edits
/// compose.
pub fn plan(
    ws: &Workspace,
    opts: &PinOptions,
    mode: &Mode,
    source: &IndexSource<'_>,
    base_text: &dyn Fn(usize) -> String,
) -> Result<ClosureOutcome, ClosureError> {
    let python =
        PythonTarget::new(opts.target.python.clone()).map_err(|message| ClosureError::Input {
            path: String::new(),
            message,
        })?;
    let graph = includes(ws);
    let mut outcome = ClosureOutcome::default();
    let mut findings = Vec::new();
    for root in roots(ws, &graph) {
        let file = &ws.files[root];
        let path = file.source.rel_path.clone();
        let (tree, constraint_files) = tree_of(root, &graph);
        let mut requirements = Vec::new();
        let mut constraints = Vec::new();
        // name -> (file index, line) of its first requirement, for findings.
        let mut named: BTreeMap<String, (usize, u32)> = BTreeMap::new();
        let in_tree: HashSet<usize> = tree.iter().copied().collect();
        for &index in tree.iter().chain(&constraint_files) {
            let doc = &ws.files[index];
            let section_start = section_start(&doc.source.text).unwrap_or(usize::MAX);
            let is_constraint_file = !in_tree.contains(&index);
            for (entry, req) in doc.doc.file.requirements() {
                if entry.range.start >= section_start {
                    continue;
                }
                let Kind::Index(ireq) = kind_of(req) else {
                    continue;
                };
                let line = entry.line_number() as u32;
                let parsed = resolve::parse_requirement(&req.text).map_err(|message| {
                    ClosureError::Input {
                        path: format!("{}:{line}", doc.source.rel_path),
                        message,
                    }
                })?;
                if let Some(pinned) = exact_version(&parsed) {
                    constraints.push(Constraint {
                        name: parsed.name.clone(),
                        version: pinned,
                        origin: format!("{}:{line}", doc.source.rel_path),
                    });
                }
                if !is_constraint_file {
                    named
                        .entry(ireq.normalized.clone())
                        .or_insert((index, line));
                    requirements.push(parsed);
                }
            }
        }
        source.prefetch(&requirements, true);
        let input = ResolveInput {
            requirements,
            constraints,
            python: python.clone(),
            mode: mode.clone(),
            root_name: path.clone(),
        };
        let resolution =
            resolve::resolve(source, &input).map_err(|error| ClosureError::Resolve {
                path: path.clone(),
                error,
            })?;
        findings_of(ws, source, root, &resolution, &named, &mut findings);
        let missing: Vec<&resolve::Resolved> = resolution
            .packages
            .iter()
            .filter(|p| !p.top_level && !named.contains_key(p.name.as_ref()))
            .collect();
        let text = base_text(root);
        let mut blocks = Vec::new();
        for package in &missing {
            let hashes =
                hashes_of(source, opts, package).map_err(|message| ClosureError::Input {
                    path: path.clone(),
                    message,
                })?;
            blocks.push((package, hashes));
        }
        let new_text = with_section(&text, &blocks);
        if new_text != text {
            let changes = section_changes(&text, &new_text);
            outcome.sections.push(SectionPlan {
                file: root,
                new_text: Some(new_text),
                changes,
            });
        }
    }
    outcome.findings = crate::scan::finish(findings, &ws.sources, &[rules::Tool::Pin]);
    Ok(outcome)
}

/// The text file `index` has once `outcome`'s fixes are applied.
pub fn planned_text(ws: &Workspace, outcome: &Outcome, index: usize) -> String {
    let source = &ws.files[index].source;
    outcome
        .plans
        .iter()
        .find(|plan| plan.abs_path == source.abs_path)
        .map_or_else(|| source.text.clone(), |plan| plan.new_text.clone())
}

/// Adds the closure's findings and sections to `outcome`: a root that already has a plan gets
/// the section on top of it, another gets a plan of its own.
pub fn merge(ws: &Workspace, outcome: &mut Outcome, closure: ClosureOutcome) {
    outcome.findings.extend(closure.findings);
    for section in closure.sections {
        let Some(new_text) = section.new_text else {
            continue;
        };
        let file = &ws.files[section.file];
        let source = &file.source;
        let line = section_start(&new_text).map_or(1, |start| {
            new_text[..start].matches('\n').count() as u32 + 1
        });
        let changes = section.changes.into_iter().map(|description| Change {
            line,
            project: description
                .split_once(':')
                .map_or_else(String::new, |(name, _)| name.to_owned()),
            description: description
                .split_once(": ")
                .map_or(description.clone(), |(_, rest)| rest.to_owned()),
        });
        let new_bytes = match file.doc.encode(&new_text) {
            Ok(bytes) => bytes,
            Err(err) => {
                outcome.errors.push(PinError {
                    path: source.rel_path.clone(),
                    line,
                    project: String::new(),
                    message: format!(
                        "the transitive section cannot be written in the file's encoding: {err}"
                    ),
                });
                continue;
            }
        };
        match outcome
            .plans
            .iter_mut()
            .find(|plan| plan.abs_path == source.abs_path)
        {
            Some(plan) => {
                plan.new_text = new_text;
                plan.new_bytes = new_bytes;
                plan.changes.extend(changes);
            }
            None => outcome.plans.push(FilePlan {
                rel_path: source.rel_path.clone(),
                abs_path: source.abs_path.clone(),
                old_text: source.text.clone(),
                new_text,
                new_bytes,
                changes: changes.collect(),
            }),
        }
    }
}

/// The version of a requirement that pins exactly one (`==1.2`, no wildcard, no local part
/// ambiguity beyond what PEP 440 equality allows).
fn exact_version(req: &resolve::Requirement) -> Option<Version> {
    let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) = &req.version_or_url else {
        return None;
    };
    let pin = super::select::exact_pin(specifiers)?;
    (*pin.operator() == Operator::Equal).then(|| pin.version().clone())
}

/// `missing-dependency` for each package the tree lacks, and `dynamic-metadata` for each
/// release passed over because its dependencies cannot be read.
fn findings_of(
    ws: &Workspace,
    source: &IndexSource<'_>,
    root: usize,
    resolution: &Resolution,
    named: &BTreeMap<String, (usize, u32)>,
    out: &mut Vec<Finding>,
) {
    let root_file = &ws.files[root].source;
    let section_lines: BTreeSet<String> = section_start(&root_file.text)
        .map(|start| section_pins(&root_file.text[start..]))
        .unwrap_or_default();
    for package in &resolution.packages {
        let name = package.name.to_string();
        if package.top_level || named.contains_key(&name) {
            continue;
        }
        let pin = format!("{name}=={}", package.version);
        if section_lines.contains(&pin) {
            continue;
        }
        // The finding points at the first top-level requirement that needs the package.
        let (file, line) = package
            .required_by
            .iter()
            .find_map(|by| named.get(by).copied())
            .unwrap_or((root, 1));
        let source = &ws.files[file].source;
        let via = if package.required_by.is_empty() {
            "the file's requirements".to_owned()
        } else {
            package.required_by.join(", ")
        };
        let marker = package
            .marker
            .as_ref()
            .map(|m| format!(" (when {m})"))
            .unwrap_or_default();
        out.push(
            Finding::new(
                &rules::MISSING_DEPENDENCY,
                source.rel_path.clone(),
                crate::Span::line_start(line),
                name.clone(),
                format!(
                    "{pin} is needed by {via}{marker} but {} does not pin it: pip --require-hashes would stop there",
                    root_file.rel_path
                ),
            )
            .with_suggestion("run `mlsupply-pin --fix` to add it to the managed section"),
        );
    }
    for package in &resolution.packages {
        let key = (package.name.to_string(), package.version.clone());
        let Some(reason) = source
            .dynamic
            .lock()
            .ok()
            .and_then(|d| d.get(&key).cloned())
        else {
            continue;
        };
        let (file, line) = named.get(&key.0).copied().unwrap_or((root, 1));
        out.push(Finding::new(
            &rules::DYNAMIC_METADATA,
            ws.files[file].source.rel_path.clone(),
            crate::Span::line_start(line),
            key.0.clone(),
            format!(
                "the dependencies of {} {} are unknown, so the closure may lack them: {reason}",
                key.0, key.1
            ),
        ));
    }
    for unusable in &resolution.unusable {
        out.push(Finding::new(
            &rules::DYNAMIC_METADATA,
            root_file.rel_path.clone(),
            crate::Span::line_start(1),
            unusable.name.to_string(),
            format!(
                "{} {} was passed over: {}",
                unusable.name, unusable.version, unusable.reason
            ),
        ));
    }
}

/// `name==version` of each requirement line of a section, normalised names.
fn section_pins(section: &str) -> BTreeSet<String> {
    crate::reqfile::parse(section)
        .requirements()
        .filter_map(|(_, req)| {
            let name = req.normalized_name()?;
            let ReqFormVersion(version) = version_text(req)?;
            Some(format!("{name}=={version}"))
        })
        .collect()
}

struct ReqFormVersion(String);

fn version_text(req: &crate::reqfile::Requirement) -> Option<ReqFormVersion> {
    let crate::reqfile::ReqForm::Named(named) = &req.form else {
        return None;
    };
    let specifiers = named.version.as_ref()?.specifiers.as_ref()?;
    let pin = super::select::exact_pin(specifiers)?;
    Some(ReqFormVersion(pin.version().to_string()))
}

/// The sha256 of every file of the chosen version that the filters admit.
fn hashes_of(
    source: &IndexSource<'_>,
    opts: &PinOptions,
    package: &resolve::Resolved,
) -> Result<Vec<String>, String> {
    let name = package.name.to_string();
    let project = source
        .project(&name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{name}: the index no longer lists it"))?;
    let by_version = project.versions_of();
    let files = by_version
        .get(&package.version)
        .cloned()
        .unwrap_or_default();
    let mut hashes = Vec::new();
    for file in files {
        if !opts.filters.admits(&name, file) {
            continue;
        }
        let sha = file.sha256().ok_or_else(|| {
            format!(
                "{name} {}: the index gives no sha256 for {}",
                package.version, file.filename
            )
        })?;
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{name} {}: the index gives a malformed sha256 for {}",
                package.version, file.filename
            ));
        }
        hashes.push(sha.to_ascii_lowercase());
    }
    if hashes.is_empty() {
        return Err(format!(
            "{name} {}: no file of this version passes the --only-binary/--platform filters",
            package.version
        ));
    }
    Ok(hashes)
}

/// The byte offset of the section's marker line, if the text has one.
pub fn section_start(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == SECTION_MARKER {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// `text` with its section replaced by one for `blocks` (removed when there are none).
fn with_section(text: &str, blocks: &[(&&resolve::Resolved, Vec<String>)]) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (head, had_section) = match section_start(text) {
        Some(start) => (&text[..start], true),
        None => (text, false),
    };
    if blocks.is_empty() {
        if !had_section {
            return text.to_owned();
        }
        // Undo the blank line the section was appended after.
        let double = format!("{newline}{newline}");
        return if head.ends_with(&double) {
            head[..head.len() - newline.len()].to_owned()
        } else {
            head.to_owned()
        };
    }
    let mut out = head.to_owned();
    if !had_section {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(newline);
        }
        if !out.is_empty() {
            out.push_str(newline);
        }
    }
    out.push_str(SECTION_MARKER);
    out.push_str(newline);
    for (package, hashes) in blocks {
        let via = if package.required_by.is_empty() {
            String::new()
        } else {
            format!(" {}", package.required_by.join(", "))
        };
        out.push_str(&format!("# via{via}{newline}"));
        out.push_str(&super::write::pinned_block(
            package.name.as_ref(),
            &format!("=={}", package.version),
            package.marker.as_deref(),
            hashes,
            newline,
        ));
        out.push_str(newline);
    }
    out
}

/// One line per package whose pin appears, changes or goes, old section against new.
fn section_changes(old: &str, new: &str) -> Vec<String> {
    let pins = |text: &str| -> BTreeMap<String, String> {
        section_start(text)
            .map(|start| section_pins(&text[start..]))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|pin| {
                pin.split_once("==")
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
            })
            .collect()
    };
    let (before, after) = (pins(old), pins(new));
    let mut changes = Vec::new();
    for (name, version) in &after {
        match before.get(name) {
            None => changes.push(format!("{name}: added {name}=={version}")),
            Some(old) if old != version => {
                changes.push(format!("{name}: {old} -> {version}"));
            }
            Some(_) => {}
        }
    }
    for (name, version) in &before {
        if !after.contains_key(name) {
            changes.push(format!(
                "{name}: removed {name}=={version} (no longer needed)"
            ));
        }
    }
    if changes.is_empty() {
        changes.push("transitive dependencies: hashes or markers brought in step".into());
    }
    changes
}

/// The marker environment of CPython `python` on the platform of a wheel tag (`win_amd64`,
/// `manylinux_2_17_x86_64`, `macosx_11_0_arm64`, `linux_aarch64`), for `--platform` mode.
pub fn platform_environment(
    tag: &str,
    python: &Version,
) -> Result<pep508_rs::MarkerEnvironment, String> {
    let lower = tag.to_ascii_lowercase();
    let machine_of = |rest: &str| -> String {
        // manylinux_2_17_x86_64 / macosx_11_0_arm64 / linux_aarch64: the machine follows the
        // version numbers.
        let parts: Vec<&str> = rest.split('_').collect();
        let start = parts
            .iter()
            .position(|p| !p.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or(parts.len());
        parts[start..].join("_")
    };
    let (os_name, sys_platform, system, machine) = if let Some(rest) = lower.strip_prefix("win") {
        let machine = match rest.trim_start_matches('_') {
            "amd64" => "AMD64",
            "arm64" => "ARM64",
            "32" | "" => "x86",
            other => return Err(format!("unknown Windows platform tag `{tag}` ({other})")),
        };
        ("nt", "win32", "Windows", machine.to_owned())
    } else if let Some(rest) = lower.strip_prefix("macosx_") {
        let machine = machine_of(rest);
        let machine = if machine == "universal2" {
            "arm64".to_owned()
        } else {
            machine
        };
        ("posix", "darwin", "Darwin", machine)
    } else if let Some(rest) = [
        "manylinux_",
        "manylinux1_",
        "manylinux2010_",
        "manylinux2014_",
        "musllinux_",
        "linux_",
    ]
    .iter()
    .find_map(|p| lower.strip_prefix(p))
    {
        ("posix", "linux", "Linux", machine_of(rest))
    } else {
        return Err(format!(
            "cannot tell the platform of `{tag}`: use a wheel platform tag such as manylinux_2_17_x86_64, win_amd64 or macosx_11_0_arm64"
        ));
    };
    if machine.is_empty() {
        return Err(format!("`{tag}` names no machine"));
    }
    let release = python.release();
    let short = format!(
        "{}.{}",
        release.first().copied().unwrap_or(3),
        release.get(1).copied().unwrap_or(0)
    );
    let full = if release.len() >= 3 {
        python.to_string()
    } else {
        format!("{short}.0")
    };
    pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &full,
        os_name,
        platform_machine: &machine,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: system,
        platform_version: "",
        python_full_version: &full,
        python_version: &short,
        sys_platform,
    })
    .map_err(|e| format!("`{tag}`: {e}"))
}

/// For each file: the files it includes with `-r` and with `-c` (indices into `ws.files`).
struct Includes {
    requirements: Vec<Vec<usize>>,
    constraints: Vec<Vec<usize>>,
}

fn includes(ws: &Workspace) -> Includes {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let by_path: HashMap<PathBuf, usize> = ws
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (canonical(&f.source.abs_path), i))
        .collect();
    let mut graph = Includes {
        requirements: vec![Vec::new(); ws.files.len()],
        constraints: vec![Vec::new(); ws.files.len()],
    };
    for (index, file) in ws.files.iter().enumerate() {
        let dir = file.source.abs_path.parent().unwrap_or(Path::new("."));
        for entry in &file.doc.file.entries {
            let Some(include) = entry.include() else {
                continue;
            };
            if include.is_url() || include.has_env_var() {
                continue;
            }
            let target = canonical(&dir.join(&include.target.value));
            if let Some(&to) = by_path.get(&target) {
                if include.constraint {
                    graph.constraints[index].push(to);
                } else {
                    graph.requirements[index].push(to);
                }
            }
        }
    }
    graph
}

/// Files no other file includes (`-r` or `-c`): each gets its own resolution.
fn roots(ws: &Workspace, graph: &Includes) -> Vec<usize> {
    let included: BTreeSet<usize> = graph
        .requirements
        .iter()
        .chain(&graph.constraints)
        .flatten()
        .copied()
        .collect();
    (0..ws.files.len())
        .filter(|i| !included.contains(i))
        .collect()
}

/// The files a root reads as requirements (itself first) and its constraint files.
fn tree_of(root: usize, graph: &Includes) -> (Vec<usize>, Vec<usize>) {
    let mut tree = Vec::new();
    // Membership of `tree`: a chain of thousands of files must not cost a scan per file.
    let mut in_tree = HashSet::new();
    let mut constraints = BTreeSet::new();
    let mut queue = vec![root];
    while let Some(index) = queue.pop() {
        if !in_tree.insert(index) {
            continue;
        }
        tree.push(index);
        queue.extend(graph.requirements[index].iter().rev());
        constraints.extend(graph.constraints[index].iter().copied());
    }
    let constraints = constraints
        .into_iter()
        .filter(|c| !in_tree.contains(c))
        .collect();
    (tree, constraints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tags_give_their_marker_environment() {
        let py = Version::from_str("3.11").unwrap();
        let win = platform_environment("win_amd64", &py).unwrap();
        assert_eq!(win.sys_platform(), "win32");
        assert_eq!(win.platform_machine(), "AMD64");
        assert_eq!(win.python_full_version().to_string(), "3.11.0");
        let linux = platform_environment("manylinux_2_17_x86_64", &py).unwrap();
        assert_eq!(linux.sys_platform(), "linux");
        assert_eq!(linux.platform_machine(), "x86_64");
        let mac = platform_environment("macosx_11_0_arm64", &py).unwrap();
        assert_eq!(mac.platform_system(), "Darwin");
        assert_eq!(mac.platform_machine(), "arm64");
        assert!(platform_environment("any", &py).is_err());
    }

    #[test]
    fn the_section_is_found_only_on_its_own_line() {
        let text = format!("a==1\n# {SECTION_MARKER}\n{SECTION_MARKER}\r\nb==2\n");
        let start = section_start(&text).unwrap();
        assert!(text[start..].starts_with(SECTION_MARKER));
        assert_eq!(&text[..start], format!("a==1\n# {SECTION_MARKER}\n"));
        assert_eq!(section_start("a==1\n"), None);
    }

    #[test]
    fn an_empty_closure_removes_the_section_and_restores_the_file() {
        let original = "a==1 \\\n    --hash=sha256:00\n";
        let package = resolve::Resolved {
            name: PackageName::from_str("b").unwrap(),
            version: Version::from_str("2.0").unwrap(),
            marker: Some("sys_platform == 'win32'".into()),
            required_by: vec!["a".into()],
            top_level: false,
            yanked: false,
        };
        let package_ref = &package;
        let blocks = vec![(&package_ref, vec!["ff".repeat(32)])];
        let with = with_section(original, &blocks);
        assert_eq!(
            with,
            format!(
                "{original}\n{SECTION_MARKER}\n# via a\nb==2.0 ; sys_platform == 'win32' \\\n    --hash=sha256:{}\n",
                "ff".repeat(32)
            )
        );
        assert_eq!(with_section(&with, &blocks), with, "idempotent");
        assert_eq!(with_section(&with, &[]), original);
        assert_eq!(
            section_changes(&with, original),
            ["b: removed b==2.0 (no longer needed)"]
        );
    }
}
