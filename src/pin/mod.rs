//! `mlsupply-pin`: exact pins with the index's sha256 hashes, checked every run, written back
//! into requirements files without touching any other byte.
//!
//! The work is split so that each step is testable on its own and the binary stays thin:
//! 1. [`load`] reads every requirements file of a target (and every file reached by `-r`/`-c`,
//!    each kept as its own file) with its encoding ([`crate::reqfile::Document`]);
//! 2. [`check_offline`] needs no network: pins, hashes and sources;
//! 3. [`lookups`] lists the projects to ask the index about, [`fetch`] asks (bounded
//!    concurrency, retries and redaction are the index client's);
//! 4. [`check_online`] chooses versions ([`select`]), compares the listed hashes with the
//!    index's, and plans the edits ([`mod@write`]) of each file;
//! 5. [`crate::rewrite::write_all`] and [`unified_diff`] apply or show them.
//!
//! # Decisions
//!
//! - **Versions**: `==`/`===` keep their version (a yanked one too, with `yanked-version`);
//!   a range or a bare name gets the newest version with a non-yanked file whose
//!   `Requires-Python` admits the target ([`python`]; a `python_version` marker moves the target
//!   to the Pythons it admits), stable unless `--pre`, a `--pre` line, a pre-release in the
//!   specifier, or nothing else matches (pip's rule).
//! - **Hashes**: the sha256 of every file of the chosen version (every version an exact pin
//!   matches: `==2.1` also matches `2.1+cpu`), narrowed only by `--only-binary`/`--platform`,
//!   never by `Requires-Python` (one file serves several Pythons). A missing or malformed
//!   sha256 on the index is an error, never an invented or downloaded hash.
//! - **Existing hashes** are compared with the index every run: one that matches no file of
//!   the pinned version is `hash-mismatch`; a set that misses files is `incomplete-hashes`.
//! - **Idempotence**: an exact pin whose hash set equals the index's is never rewritten,
//!   whatever its layout (order, spacing, `--hash x` or `--hash=x`); everything else a fix
//!   writes in one canonical layout, which a second run leaves alone.
//! - **Ignores**: a requirement is rewritten only when a finding calling for it survives the
//!   inline ignores, so `# mlsupply: ignore[unpinned] reason` keeps a range under `--fix`.
//! - **Indexes**: `--index-url` wins over the files' `-i`, which wins over `PIP_INDEX_URL` and
//!   pip.conf; extra indexes from all of them are searched. `${VAR}` in a file's index URL is
//!   expanded for the lookup only, and its value is masked in messages by the binary.
//!
//! The transitive closure (issue 4) plugs in after step 4: a resolver reads the same
//! [`Lookups`], and appends its own section at the end of a file as one more edit, so the
//! top-level pins and their byte-exact rewriting stay as they are: see [`closure`] (where the
//! section goes, what counts as a constraint, `--no-deps` to skip it).

pub mod closure;
pub mod python;
pub mod select;
pub mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::config::Config;
use crate::deps::{self, DepSource};
use crate::finding::Finding;
use crate::index::{BlockingIndexClient, DistFile, IndexError, Project};
use crate::reqfile::{
    self, Document, Edit, Entry, EntryKind, OptionKind, ReqFile, ReqForm, Requirement, UrlKind,
};
use crate::rules::{self, Rule};
use crate::scan::{self, DependencyScan, Target as ScanTarget};
use crate::source::{SourceFile, SourceMap};

pub use select::{Filters, OnlyBinary, Target};

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct PinOptions {
    pub target: Target,
    pub filters: Filters,
    /// `[pin] allowed-hosts`: hosts direct URLs may point at (lower case, exact match).
    pub allowed_hosts: Vec<String>,
    /// The indexes asked, credentials masked, for messages (a project none of them has).
    pub indexes: Vec<String>,
}

impl PinOptions {
    /// Options with the allowed hosts of `config`.
    pub fn new(target: Target, filters: Filters, config: &Config) -> PinOptions {
        PinOptions {
            target,
            filters,
            allowed_hosts: config
                .pin
                .allowed_hosts
                .iter()
                .map(|allow| allow.name.to_ascii_lowercase())
                .collect(),
            indexes: Vec::new(),
        }
    }
}

/// A requirements file as read from disk: its bytes' encoding and its text for spans.
#[derive(Clone, Debug)]
pub struct ReqDoc {
    pub source: SourceFile,
    pub doc: Document,
}

/// Every requirements file of a target, with the input problems met reading them.
#[derive(Debug, Default)]
pub struct Workspace {
    pub files: Vec<ReqDoc>,
    /// Parse errors, include cycles, missing includes, skipped files: only those of
    /// requirements files.
    pub findings: Vec<Finding>,
    pub sources: SourceMap,
}

/// Reads the requirements files under `target` (those [`deps::classify`] names, and every file
/// reached by `-r`/`-c`), each decoded with its own encoding so that it can be written back.
/// A file named explicitly is read as a requirements file whatever its name
/// (`mlsupply-pin deps/prod.lock`), with its includes.
pub fn load(target: &ScanTarget, config: &Config) -> Workspace {
    let scan = scan::scan_dependencies(target, config);
    let mut req_files: BTreeMap<String, PathBuf> = scan
        .files
        .iter()
        .filter(|f| f.kind == DepSource::Requirements)
        .filter_map(|f| {
            let source = scan.sources.get(&f.rel_path)?;
            Some((f.rel_path.clone(), source.abs_path.clone()))
        })
        .collect();
    let mut findings: Vec<Finding> = scan
        .findings
        .iter()
        .filter(|f| {
            // The configuration's own problems (a root pyproject.toml that does not parse).
            config.findings.contains(f)
                || req_files.contains_key(&f.path)
                || (f.rule == rules::FILE_SKIPPED.id
                    && deps::classify(&f.path) == Some(DepSource::Requirements))
        })
        .cloned()
        .collect();
    read_explicit(target, &scan, &mut req_files, &mut findings);

    let mut ws = Workspace {
        findings,
        ..Workspace::default()
    };
    for (rel, abs) in req_files {
        // Read again for the bytes (their encoding is written back), as guarded as the scan.
        let bytes = match crate::files::read_bytes(&target.root, &abs) {
            Ok(bytes) => bytes,
            Err(skipped) => {
                ws.findings.push(skipped);
                continue;
            }
        };
        match Document::from_bytes(&bytes) {
            Ok(doc) => {
                let source = SourceFile::new(rel, abs, doc.text.clone());
                ws.sources.insert(source.clone());
                ws.files.push(ReqDoc { source, doc });
            }
            Err(message) => ws.findings.push(Finding::new(
                &rules::FILE_SKIPPED,
                rel.clone(),
                crate::Span::line_start(1),
                rel,
                format!("cannot read the file: {message}"),
            )),
        }
    }
    ws
}

/// Explicit files the scan did not take as requirements files (their names do not say so), and
/// the files they include.
fn read_explicit(
    target: &ScanTarget,
    scan: &DependencyScan,
    req_files: &mut BTreeMap<String, PathBuf>,
    findings: &mut Vec<Finding>,
) {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let root = canonical(&target.root);
    let mut seen: BTreeSet<PathBuf> = scan
        .sources
        .iter()
        .map(|f| canonical(&f.abs_path))
        .collect();
    let mut queue: Vec<PathBuf> = target
        .paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| canonical(p))
        .filter(|p| !seen.contains(p))
        .collect();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let file = match crate::files::read(&root, &path) {
            Ok(file) => file,
            Err(skipped) => {
                findings.push(skipped);
                continue;
            }
        };
        let extracted = deps::requirements::extract(&file);
        findings.extend(extracted.findings);
        for include in extracted.includes {
            // A FIFO or a device is refused by the guarded read when its turn comes.
            if include.path.exists() {
                queue.push(canonical(&include.path));
            } else {
                findings.push(Finding::at(
                    &rules::MISSING_INCLUDE,
                    &file,
                    include.span,
                    include.written.clone(),
                    format!(
                        "`{}` does not exist (paths in -r/-c are relative to the including file)",
                        include.written
                    ),
                ));
            }
        }
        req_files.insert(file.rel_path.clone(), file.abs_path.clone());
    }
}

/// An error that stops the run (exit 2) and keeps every file as it is: a project or version the
/// index does not have, a file without a sha256, an unreadable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: `{project}`: {message}")]
pub struct PinError {
    pub path: String,
    pub line: u32,
    pub project: String,
    pub message: String,
}

/// One requirement rewritten by a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub line: u32,
    pub project: String,
    /// What changed, e.g. "pinned to ==2.1.3 with 12 hashes".
    pub description: String,
}

/// The planned new content of one file.
#[derive(Clone, Debug)]
pub struct FilePlan {
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub old_text: String,
    pub new_text: String,
    /// `new_text` in the file's own encoding, BOM included.
    pub new_bytes: Vec<u8>,
    pub changes: Vec<Change>,
}

/// The outcome of an online check.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Files that `--fix` would rewrite (only those that change).
    pub plans: Vec<FilePlan>,
    pub errors: Vec<PinError>,
}

/// Projects on the index by normalised name; `None`: no configured index has it.
pub type Lookups = HashMap<String, Option<Project>>;

// ---------------------------------------------------------------------------------------------
// What a requirement is, for hash-checking purposes.

/// A requirement that names a project on the index and may be pinned.
struct IndexReq<'a> {
    name: String,
    normalized: String,
    /// Name and extras as written.
    head: std::ops::Range<usize>,
    version: Option<&'a reqfile::VersionPart>,
}

enum Kind<'a> {
    Index(IndexReq<'a>),
    /// A direct reference: URL (`name @ url` or bare), VCS, local path.
    Direct {
        url: &'a reqfile::Spanned<String>,
        vcs: bool,
        local: bool,
        archive: bool,
    },
    Editable,
    /// `${NAME}` as the name, or an invalid line (already a `parse-error`).
    Skip,
}

fn kind_of(req: &Requirement) -> Kind<'_> {
    if req.editable {
        return Kind::Editable;
    }
    match &req.form {
        ReqForm::Named(named) => match &named.url {
            Some(url) => {
                let lower = url.value.to_ascii_lowercase();
                let vcs = ["git+", "hg+", "svn+", "bzr+"]
                    .iter()
                    .any(|p| lower.starts_with(p));
                let local = lower.starts_with("file:");
                Kind::Direct {
                    url,
                    vcs,
                    local,
                    archive: is_archive(&lower),
                }
            }
            None => Kind::Index(IndexReq {
                name: named.name.value.clone(),
                normalized: named.normalized.to_string(),
                head: named.name.range.start
                    ..named
                        .extras_range
                        .as_ref()
                        .map_or(named.name.range.end, |r| r.end),
                version: named.version.as_ref(),
            }),
        },
        ReqForm::Url(url) => Kind::Direct {
            url: &url.url,
            vcs: matches!(url.kind, UrlKind::Vcs { .. }),
            local: matches!(url.kind, UrlKind::File | UrlKind::LocalPath),
            archive: url.archive,
        },
        ReqForm::Unexpanded | ReqForm::Invalid { .. } => Kind::Skip,
    }
}

fn is_archive(lower_url: &str) -> bool {
    let path = lower_url.split(['#', '?']).next().unwrap_or_default();
    [
        ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".txz", ".tar",
    ]
    .iter()
    .any(|ext| path.ends_with(ext))
}

fn url_has_hash_fragment(url: &str) -> bool {
    url.split_once('#').is_some_and(|(_, fragment)| {
        fragment.split('&').any(|part| {
            let lower = part.to_ascii_lowercase();
            ["sha256=", "sha384=", "sha512=", "md5=", "sha1=", "sha224="]
                .iter()
                .any(|p| lower.starts_with(p))
        })
    })
}

/// What a finding about `req` is about: its project name, else the URL or path as written
/// (credentials masked).
fn display_name(req: &Requirement) -> String {
    req.name().map(|n| n.value.clone()).unwrap_or_else(|| {
        let written = match &req.form {
            ReqForm::Url(url) => url.url.value.as_str(),
            _ => req.text.trim(),
        };
        reqfile::redact_credentials(written)
    })
}

// ---------------------------------------------------------------------------------------------
// Checks that need no network.

/// Source findings (unhashable requirements, extra and insecure indexes, direct URLs to hosts
/// outside the allowed list) for `file`.
fn source_findings(file: &SourceFile, parsed: &ReqFile, opts: &PinOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    for entry in &parsed.entries {
        match &entry.kind {
            EntryKind::Options(options) => {
                for option in options {
                    index_option_findings(file, option, &mut out);
                }
            }
            EntryKind::Requirement(req) => direct_findings(file, req, opts, &mut out),
            EntryKind::Blank => {}
        }
    }
    out
}

fn index_option_findings(file: &SourceFile, option: &reqfile::OptionItem, out: &mut Vec<Finding>) {
    if !matches!(
        option.kind,
        OptionKind::IndexUrl | OptionKind::ExtraIndexUrl
    ) {
        return;
    }
    let Some(value) = &option.value else {
        return;
    };
    let shown = reqfile::redact_credentials(&value.value);
    let span = file.span(option.range.clone());
    if option.kind == OptionKind::ExtraIndexUrl {
        out.push(
            Finding::at(
                &rules::EXTRA_INDEX_URL,
                file,
                span,
                shown.clone(),
                format!(
                    "`--extra-index-url {shown}`: pip picks the highest version from every index, so a public package named like one of yours on the other index wins (dependency confusion)"
                ),
            )
            .with_suggestion(format!(
                "serve everything from one index (`--index-url {shown}` on a proxy that also mirrors the public index), and keep every requirement pinned with hashes"
            )),
        );
    }
    if let Ok(url) = url::Url::parse(&value.value)
        && url.scheme() == "http"
        && !is_loopback(&url)
    {
        let https = shown.replacen("http://", "https://", 1);
        out.push(
            Finding::at(
                &rules::INSECURE_INDEX,
                file,
                span,
                shown.clone(),
                format!(
                    "{shown} is plain http: anyone on the network path can change what it serves"
                ),
            )
            .with_suggestion(format!("{} {https}", option.kind.long_name())),
        );
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn direct_findings(
    file: &SourceFile,
    req: &Requirement,
    opts: &PinOptions,
    out: &mut Vec<Finding>,
) {
    let subject = display_name(req);
    let span = file.span(req.range.clone());
    let unhashable = |why: &str, instead: &str| {
        Finding::at(
            &rules::UNHASHABLE_REQUIREMENT,
            file,
            span,
            subject.clone(),
            format!("{why}; pip's hash-checking mode (--require-hashes, or any --hash in the file) refuses it"),
        )
        .with_suggestion(instead.to_owned())
    };
    match kind_of(req) {
        Kind::Editable => out.push(unhashable(
            "an editable requirement has no single file to hash",
            "install the project itself with `pip install --no-deps .` outside the hashed file, or depend on a released version with `==` and hashes",
        )),
        Kind::Direct {
            url,
            vcs,
            local,
            archive,
        } => {
            let hashed = !req.hashes.is_empty() || url_has_hash_fragment(&url.value);
            if vcs {
                out.push(unhashable(
                    "a version-control checkout cannot be hashed",
                    "depend on a released version from the index (`name==version` with hashes), or on a built wheel URL with `--hash=sha256:…`",
                ));
            } else if !archive && (local || !url.value.contains("://")) {
                out.push(unhashable(
                    "a local directory cannot be hashed",
                    "build a wheel (`pip wheel --no-deps DIR`) and require that file with its `--hash=sha256:…`, or install the directory outside the hashed file",
                ));
            } else if !hashed {
                out.push(unhashable(
                    "a URL or file without a hash cannot be checked",
                    "add `--hash=sha256:<digest of the file>` (or a `#sha256=` fragment) after checking the file, or depend on the project from the index",
                ));
            }
            if !local && let Some(host) = url_host(&url.value) {
                let allowed = opts.allowed_hosts.contains(&host);
                if !allowed {
                    out.push(
                        Finding::at(
                            &rules::UNTRUSTED_URL_HOST,
                            file,
                            file.span(url.range.clone()),
                            subject.clone(),
                            format!(
                                "`{subject}` is downloaded straight from {host}, which is not in [pin] allowed-hosts"
                            ),
                        )
                        .with_suggestion(format!(
                            "install `{subject}` from the index, or add {{ name = \"{host}\", reason = \"…\" }} to [pin] allowed-hosts"
                        )),
                    );
                }
            }
        }
        Kind::Index(_) | Kind::Skip => {}
    }
}

/// The host of a remote URL (`git+https://…` included), lower case.
fn url_host(text: &str) -> Option<String> {
    let without_vcs = text
        .split_once('+')
        .filter(|(scheme, _)| {
            ["git", "hg", "svn", "bzr"].contains(&scheme.to_ascii_lowercase().as_str())
        })
        .map_or(text, |(_, rest)| rest);
    let url = url::Url::parse(without_vcs).ok()?;
    if url.scheme() == "file" {
        return None;
    }
    url.host_str().map(str::to_ascii_lowercase)
}

/// `unpinned`, `missing-hash` and the source findings of one file, without the network.
pub fn check_offline(file: &SourceFile, opts: &PinOptions) -> Vec<Finding> {
    let parsed = reqfile::parse(&file.text);
    let mut out = source_findings(file, &parsed, opts);
    for (_, req) in parsed.requirements() {
        if let Kind::Index(ireq) = kind_of(req) {
            out.extend(offline_requirement(file, req, &ireq));
        }
    }
    out
}

/// The offline check over the requirements files of a finished dependency scan (what
/// `mlsupply check` runs).
pub fn offline_findings(scan: &DependencyScan, config: &Config) -> Vec<Finding> {
    let opts = PinOptions::new(
        Target {
            python: python::fallback(),
            pre: false,
        },
        Filters::default(),
        config,
    );
    scan.files
        .iter()
        .filter(|f| f.kind == DepSource::Requirements)
        .filter_map(|f| scan.sources.get(&f.rel_path))
        .flat_map(|file| check_offline(file, &opts))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The index.

/// Normalised names of every project the files ask the index about, in first-seen order.
pub fn lookups(ws: &Workspace) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for file in &ws.files {
        for (_, req) in file.doc.file.requirements() {
            if let Kind::Index(ireq) = kind_of(req)
                && seen.insert(ireq.normalized.clone())
            {
                out.push(ireq.normalized);
            }
        }
    }
    out
}

/// Global options the files set. pip applies them to the whole run, whichever file sets them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// The last `-i`/`--index-url`.
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub trusted_hosts: Vec<String>,
    /// `--pre` in some file.
    pub pre: bool,
    /// `--only-binary` values, in order.
    pub only_binary: Vec<String>,
    /// `--no-index` in some file: pip reads no index at all (only `--find-links`).
    pub no_index: bool,
}

/// The global options of every file of `ws`, as written (`${VAR}` not expanded).
pub fn file_options(ws: &Workspace) -> FileOptions {
    let mut out = FileOptions::default();
    for file in &ws.files {
        for entry in &file.doc.file.entries {
            let EntryKind::Options(options) = &entry.kind else {
                continue;
            };
            for option in options {
                match option.kind {
                    OptionKind::Pre => out.pre = true,
                    OptionKind::NoIndex => out.no_index = true,
                    _ => {}
                }
                let Some(value) = &option.value else { continue };
                match option.kind {
                    OptionKind::IndexUrl => out.index_url = Some(value.value.clone()),
                    OptionKind::ExtraIndexUrl => out.extra_index_urls.push(value.value.clone()),
                    OptionKind::TrustedHost => out.trusted_hosts.push(value.value.clone()),
                    OptionKind::OnlyBinary => out.only_binary.push(value.value.clone()),
                    _ => {}
                }
            }
        }
    }
    out
}

/// `text` with each `${NAME}` (upper-case letters, digits, `_`) replaced by `lookup(NAME)` when
/// set and non-empty, as pip expands requirements-file lines. Used for index URLs only, which
/// are looked up, never written.
pub fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            match lookup(name).filter(|v| !v.is_empty()) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 3 + name_len]),
            }
            rest = &after[name_len + 1..];
        } else {
            out.push_str("${");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The `${NAME}` references of `texts` that `lookup` expands to a non-empty value, as
/// `(NAME, value)`: once an index URL is expanded for a lookup, these values (tokens, often in
/// the URL's path where URL redaction does not reach) must be masked in every message.
pub fn expanded_values(
    texts: &[String],
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let used = std::cell::RefCell::new(Vec::new());
    for text in texts {
        expand_env(text, |name| {
            let value = lookup(name).filter(|v| !v.is_empty());
            if let Some(value) = &value {
                used.borrow_mut().push((name.to_owned(), value.clone()));
            }
            value
        });
    }
    let mut used = used.into_inner();
    // Longest first, so that a value containing another is masked whole.
    used.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    used.dedup();
    used
}

/// `text` with every value of `values` replaced by its `${NAME}`.
pub fn mask_values(text: &str, values: &[(String, String)]) -> String {
    values.iter().fold(text.to_owned(), |text, (name, value)| {
        text.replace(value.as_str(), &format!("${{{name}}}"))
    })
}

/// Fetches every project of `names` (bounded concurrency, retries: the client's), calling
/// `progress(done, total)` after each answer. Any failure fails the whole lookup, with every
/// error kept, so that no file is written from a partial view of the index.
pub fn fetch(
    client: &BlockingIndexClient,
    names: &[String],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Lookups, Vec<IndexError>> {
    let async_client = client.client().clone();
    let total = names.len();
    let concurrency = async_client.options().concurrency.max(1);
    let names = names.to_vec();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The fan-out runs on the client's runtime; answers come back one by one so that the
    // caller can show progress while the rest are in flight.
    client.block_on(async move {
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
        for name in names {
            let client = async_client.clone();
            let permits = permits.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = client.project(&name).await;
                let _ = tx.send((name, result));
            });
        }
    });
    let mut found = Lookups::new();
    let mut errors = Vec::new();
    let mut done = 0;
    while done < total {
        let Some((name, result)) = client.block_on(rx.recv()) else {
            break;
        };
        done += 1;
        progress(done, total);
        match result {
            Ok(project) => {
                found.insert(name, project);
            }
            Err(err) => errors.push(err),
        }
    }
    if done < total {
        errors.push(IndexError::Client(format!(
            "{} of {total} lookups ended without an answer",
            total - done
        )));
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// The online check.

fn sha256_ok(hex: &str) -> bool {
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A finding's identity for matching a fix with the findings that call for it.
type FindingKey = (String, String, u32, u32, String);

fn key_of(f: &Finding) -> FindingKey {
    (
        f.path.clone(),
        f.rule.clone(),
        f.line,
        f.column,
        f.message.clone(),
    )
}

/// Findings (input problems of `ws` included, inline ignores applied, fingerprints assigned),
/// planned rewrites and errors for every file of `ws`, given the index's answers.
///
/// A rewrite is planned only for requirements with a finding that survived the inline ignores:
/// `# mlsupply: ignore[unpinned] reason` on a line keeps that line as it is under `--fix` too.
pub fn check_online(ws: &Workspace, opts: &PinOptions, lookups: &Lookups) -> Outcome {
    let mut outcome = Outcome::default();
    let mut findings = ws.findings.clone();
    // (file index, edit, change, keys of the findings that call for it)
    let mut pending: Vec<(usize, Edit, Change, Vec<FindingKey>)> = Vec::new();
    for (index, file) in ws.files.iter().enumerate() {
        let source = &file.source;
        let parsed = &file.doc.file;
        findings.extend(source_findings(source, parsed, opts));
        for (entry, req) in parsed.requirements() {
            let Kind::Index(ireq) = kind_of(req) else {
                continue;
            };
            match check_requirement(source, parsed, entry, req, &ireq, opts, lookups) {
                Ok(Some(result)) => {
                    if let Some((edit, change)) = result.fix {
                        let keys = result.findings.iter().map(key_of).collect();
                        pending.push((index, edit, change, keys));
                    }
                    findings.extend(result.findings);
                }
                Ok(None) => {}
                Err(message) => outcome.errors.push(PinError {
                    path: source.rel_path.clone(),
                    line: entry.line_number() as u32,
                    project: ireq.normalized.clone(),
                    message,
                }),
            }
        }
    }
    outcome.findings = scan::finish(findings, &ws.sources, &[rules::Tool::Pin]);
    let kept: BTreeSet<FindingKey> = outcome.findings.iter().map(key_of).collect();
    let mut by_file: BTreeMap<usize, (Vec<Edit>, Vec<Change>)> = BTreeMap::new();
    for (index, edit, change, keys) in pending {
        if keys.iter().any(|k| kept.contains(k)) {
            let slot = by_file.entry(index).or_default();
            slot.0.push(edit);
            slot.1.push(change);
        }
    }
    for (index, (edits, changes)) in by_file {
        let file = &ws.files[index];
        let source = &file.source;
        let new_text = match reqfile::apply_edits(&source.text, &edits) {
            Ok(text) => text,
            Err(err) => {
                outcome.errors.push(PinError {
                    path: source.rel_path.clone(),
                    line: 1,
                    project: String::new(),
                    message: format!("internal error planning the edits: {err}"),
                });
                continue;
            }
        };
        if new_text == source.text {
            continue;
        }
        match file.doc.encode(&new_text) {
            Ok(new_bytes) => outcome.plans.push(FilePlan {
                rel_path: source.rel_path.clone(),
                abs_path: source.abs_path.clone(),
                old_text: source.text.clone(),
                new_text,
                new_bytes,
                changes,
            }),
            Err(err) => outcome.errors.push(PinError {
                path: source.rel_path.clone(),
                line: 1,
                project: String::new(),
                message: format!("the fixed text cannot be written in the file's encoding: {err}"),
            }),
        }
    }
    outcome
}

/// The offline check of every file of `ws`, input problems included, inline ignores applied.
pub fn check_workspace_offline(ws: &Workspace, opts: &PinOptions) -> Vec<Finding> {
    let mut findings = ws.findings.clone();
    for file in &ws.files {
        findings.extend(check_offline(&file.source, opts));
    }
    scan::finish(findings, &ws.sources, &[rules::Tool::Pin])
}

struct ReqResult {
    findings: Vec<Finding>,
    fix: Option<(Edit, Change)>,
}

fn check_requirement(
    file: &SourceFile,
    parsed: &ReqFile,
    entry: &Entry,
    req: &Requirement,
    ireq: &IndexReq<'_>,
    opts: &PinOptions,
    lookups: &Lookups,
) -> Result<Option<ReqResult>, String> {
    let arbitrary;
    let specifiers = match ireq.version {
        None => None,
        Some(version) => match &version.specifiers {
            Some(s) => Some(s),
            None => match arbitrary_equal(version) {
                Some(spec) => {
                    arbitrary = spec;
                    Some(&arbitrary)
                }
                // `${VAR}` in the version, or `===` with text that is not PEP 440: only the
                // environment or a human can say which files are meant. The offline check
                // covers whether it is written with `==` and hashes.
                None => return Ok(Some(offline_only(file, req, ireq))),
            },
        },
    };
    let project = match lookups.get(&ireq.normalized) {
        Some(Some(project)) => project,
        Some(None) => {
            let asked = if opts.indexes.is_empty() {
                "any configured index".to_owned()
            } else {
                opts.indexes.join(", ")
            };
            return Err(format!(
                "not found on {asked} (HTTP 404): check the name, or the index it is published on"
            ));
        }
        None => return Ok(None),
    };
    let files: Vec<&DistFile> = project.files().collect();
    let target = Target {
        python: req.marker().and_then(|m| m.tree.as_ref()).map_or_else(
            || opts.target.python.clone(),
            |tree| python::for_marker(tree, &opts.target.python),
        ),
        pre: opts.target.pre,
    };
    let choice = select::choose(&ireq.normalized, &files, specifiers, &target, &opts.filters)
        .map_err(|e| format!("{e} (index: {})", indexes_of(project)))?;
    let exact = specifiers.and_then(select::exact_pin);

    let mut expected = BTreeSet::new();
    for dist in &choice.files {
        match dist.sha256() {
            Some(hex) if sha256_ok(hex) => {
                expected.insert(hex.to_ascii_lowercase());
            }
            Some(_) => {
                return Err(format!(
                    "{} lists a malformed sha256 for {} (not 64 hex digits)",
                    indexes_of(project),
                    dist.filename
                ));
            }
            None => {
                return Err(format!(
                    "{} publishes no sha256 for {}; a hash is never invented, so this file cannot be pinned from that index",
                    indexes_of(project),
                    dist.filename
                ));
            }
        }
    }

    // Which files a listed hash may legitimately match: those of the pinned version(s) for an
    // exact pin, any file of the project for a range (its hashes were for some version).
    let pinned_files: Vec<&DistFile> = match exact {
        Some(pin) => files
            .iter()
            .copied()
            .filter(|f| {
                f.version(&ireq.normalized)
                    .is_some_and(|v| pin.contains(&v))
            })
            .collect(),
        None => files.clone(),
    };
    let span = file.span(req.range.clone());
    let version_text = match exact {
        Some(pin) => pin.version().to_string(),
        None => choice.version.to_string(),
    };
    // `===` (arbitrary equality) is kept as written; everything else is written `==`.
    let operator = match exact.map(|pin| pin.operator()) {
        Some(pep440_rs::Operator::ExactEqual) => "===",
        _ => "==",
    };
    let expected_list: Vec<String> = expected.iter().cloned().collect();
    let edit = write::fix_edit(
        &file.text,
        parsed,
        entry,
        req,
        ireq.head.clone(),
        &format!("{operator}{version_text}"),
        &expected_list,
    );
    // The findings a fix resolves cover exactly what the suggestion replaces (the requirement
    // through its last hash line and comment), so that a review tool can offer it as-is.
    let fix_span = file.span(edit.range.clone());
    let mut findings = Vec::new();
    let subject = ireq.normalized.clone();

    if let Some(reason) = &choice.yanked {
        let why = reason.as_deref().map_or_else(
            || "no reason given".to_owned(),
            |r| format!("reason: \"{r}\""),
        );
        findings.push(
            Finding::at(
                &rules::YANKED_VERSION,
                file,
                span,
                subject.clone(),
                format!(
                    "{}=={} is yanked on the index ({why}); the pin is kept",
                    ireq.name, version_text
                ),
            )
            .with_suggestion(format!(
                "move `{}` to a version that is not yanked",
                ireq.name
            )),
        );
    }

    if exact.is_some()
        && !choice.files.is_empty()
        && !choice
            .files
            .iter()
            .any(|f| select::python_ok(f, &target.python))
    {
        let declared: BTreeSet<&str> = choice
            .files
            .iter()
            .filter_map(|f| f.requires_python.as_deref())
            .collect();
        let declared: Vec<&str> = declared.into_iter().collect();
        findings.push(
            Finding::at(
                &rules::UNSUPPORTED_PYTHON,
                file,
                span,
                subject.clone(),
                format!(
                    "no file of {}=={version_text} supports Python {} (Requires-Python: {})",
                    ireq.name,
                    target.python,
                    declared.join(" | ")
                ),
            )
            .with_suggestion(format!(
                "pin a version of `{}` that supports Python {}, or add `; python_version >= \"…\"` to the line",
                ireq.name, target.python
            )),
        );
    }

    let mut listed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut mismatched = 0;
    let mut unverifiable = Vec::new();
    for hash in &req.hashes {
        let algorithm = hash.algorithm.value.to_ascii_lowercase();
        let digest = hash.digest.value.to_ascii_lowercase();
        listed.insert((algorithm.clone(), digest.clone()));
        let index_has_algorithm = files.iter().any(|f| f.hashes.contains_key(&algorithm));
        if !index_has_algorithm {
            unverifiable.push(algorithm);
            continue;
        }
        let matched = pinned_files
            .iter()
            .find(|f| f.hashes.get(&algorithm) == Some(&digest));
        if matched.is_none() {
            mismatched += 1;
            let of = match exact {
                Some(_) => format!("of {}=={version_text}", ireq.name),
                None => format!("of any version of {}", ireq.name),
            };
            findings.push(
                Finding::at(
                    &rules::HASH_MISMATCH,
                    file,
                    file.span(hash.range.clone()),
                    subject.clone(),
                    format!(
                        "--hash={algorithm}:{digest} matches no file {of} on {}: the file may have been tampered with, or the index now serves different files",
                        indexes_of(project)
                    ),
                )
                .with_suggestion(edit.text.clone()),
            );
        }
    }

    let wanted: BTreeSet<(String, String)> = expected
        .iter()
        .map(|h| ("sha256".to_owned(), h.clone()))
        .collect();
    // An exact pin whose hashes are exactly the index's set is left alone, whatever its layout
    // (spacing, order of the hash lines, tabs): rewriting it would churn diffs for nothing.
    let correct = exact.is_some() && listed == wanted;
    if correct {
        return Ok(Some(ReqResult {
            findings,
            fix: None,
        }));
    }

    let count = expected.len();
    let files_word = if count == 1 { "file" } else { "files" };
    let description;
    if exact.is_none() {
        let written = req.text.trim();
        findings.push(
            Finding::at(
                &rules::UNPINNED,
                file,
                fix_span,
                subject.clone(),
                format!(
                    "`{written}` is not pinned; the newest allowed version for Python {} is {version_text}",
                    target.python
                ),
            )
            .with_suggestion(edit.text.clone()),
        );
        description = format!("pinned to =={version_text} with {count} {files_word} hashed");
    } else if req.hashes.is_empty() {
        findings.push(
            Finding::at(
                &rules::MISSING_HASH,
                file,
                fix_span,
                subject.clone(),
                format!(
                    "`{}` lists no --hash; the index has {count} {files_word} for it",
                    req.text.trim()
                ),
            )
            .with_suggestion(edit.text.clone()),
        );
        description = format!("added the hashes of {count} {files_word}");
    } else if mismatched > 0 {
        description = format!(
            "replaced the hash set ({mismatched} listed hash(es) matched no file on the index) with {count} {files_word}"
        );
    } else {
        let listed_sha: BTreeSet<&String> = listed
            .iter()
            .filter(|(a, _)| a == "sha256")
            .map(|(_, d)| d)
            .collect();
        let missing: Vec<&str> = choice
            .files
            .iter()
            .filter(|f| {
                f.sha256()
                    .is_some_and(|h| !listed_sha.contains(&h.to_ascii_lowercase()))
            })
            .map(|f| f.filename.as_str())
            .collect();
        let extra = listed_sha
            .iter()
            .filter(|h| !expected.contains(**h))
            .count();
        let mut message = format!("`{}=={version_text}` ", ireq.name);
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "lists {} of the {count} {files_word} on the index; missing: {}",
                listed_sha.len().min(count),
                missing.join(", ")
            ));
        }
        if extra > 0 {
            parts.push(format!(
                "lists {extra} file(s) left out by --only-binary/--platform"
            ));
        }
        if !unverifiable.is_empty() {
            unverifiable.sort();
            unverifiable.dedup();
            parts.push(format!(
                "lists {} hashes the index does not publish, so they cannot be checked",
                unverifiable.join("/")
            ));
        }
        message.push_str(&parts.join("; "));
        findings.push(
            Finding::at(
                &rules::INCOMPLETE_HASHES,
                file,
                fix_span,
                subject.clone(),
                message,
            )
            .with_suggestion(edit.text.clone()),
        );
        description = format!("hash set updated to the index's {count} {files_word}");
    }
    let change = Change {
        line: entry.line_number() as u32,
        project: subject,
        description,
    };
    Ok(Some(ReqResult {
        findings,
        fix: Some((edit, change)),
    }))
}

/// `===1.0` (which the parser keeps as text, since `===` takes any string) as a specifier, when
/// the text is a PEP 440 version and no `${VAR}`.
fn arbitrary_equal(version: &reqfile::VersionPart) -> Option<pep440_rs::VersionSpecifiers> {
    let text = version.text.trim();
    let text = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    let value = text.strip_prefix("===")?.trim();
    if value.contains("${") {
        return None;
    }
    let version = pep440_rs::Version::from_str(value).ok()?;
    let spec =
        pep440_rs::VersionSpecifier::from_version(pep440_rs::Operator::ExactEqual, version).ok()?;
    Some(pep440_rs::VersionSpecifiers::from_iter([spec]))
}

fn offline_only(file: &SourceFile, req: &Requirement, ireq: &IndexReq<'_>) -> ReqResult {
    ReqResult {
        findings: offline_requirement(file, req, ireq).into_iter().collect(),
        fix: None,
    }
}

/// `unpinned` or `missing-hash` from the text alone.
fn offline_requirement(
    file: &SourceFile,
    req: &Requirement,
    ireq: &IndexReq<'_>,
) -> Option<Finding> {
    let span = file.span(req.range.clone());
    let written = req.text.trim();
    let from_env = ireq.version.is_some_and(|v| v.text.contains("${"));
    let pinned = match ireq.version {
        Some(version) => match &version.specifiers {
            Some(specifiers) => select::exact_pin(specifiers).is_some(),
            // `${VAR}` or `===arbitrary`: pinned when written with `==`.
            None => version.is_pinned(),
        },
        None => false,
    };
    if !pinned {
        let why = if from_env {
            " (its version comes from the environment, so it cannot be fixed automatically)"
        } else {
            ""
        };
        Some(
            Finding::at(
                &rules::UNPINNED,
                file,
                span,
                ireq.normalized.clone(),
                format!("`{written}` is not pinned to one version with `==`{why}"),
            )
            .with_suggestion(format!(
                "pin `{}` with `==<version>` and one `--hash=sha256:` per file (`mlsupply-pin --fix` picks the newest allowed version)",
                ireq.name
            )),
        )
    } else if req.hashes.is_empty() {
        Some(
            Finding::at(
                &rules::MISSING_HASH,
                file,
                span,
                ireq.normalized.clone(),
                format!("`{written}` is pinned but lists no --hash"),
            )
            .with_suggestion(
                "add one `--hash=sha256:` line per file of the version (`mlsupply-pin --fix`)",
            ),
        )
    } else {
        None
    }
}

fn indexes_of(project: &Project) -> String {
    let names: Vec<String> = project.pages.iter().map(|p| p.index.to_string()).collect();
    names.join(", ")
}

// ---------------------------------------------------------------------------------------------
// Output helpers.

/// A unified diff (`--- a/path`, `+++ b/path`) of one planned rewrite. Credentials in URLs
/// (an index line with a token, in the context lines) are masked: a diff goes to CI logs.
pub fn unified_diff(plan: &FilePlan) -> String {
    let diff = similar::TextDiff::from_lines(&plan.old_text, &plan.new_text)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", plan.rel_path),
            &format!("b/{}", plan.rel_path),
        )
        .to_string();
    reqfile::redact_credentials(&diff)
}

/// The rules this tool reports, as the output formats take them.
pub fn rules() -> Vec<&'static Rule> {
    rules::for_tools(&[rules::Tool::Pin])
}
