//! `mlsupply-hub`: model and dataset downloads from untrusted or look-alike sources.
//!
//! Surface scanners (Python and notebooks in [`python`]; shell commands in [`shell`]; YAML/JSON
//! configs in [`config_files`]) turn
//! source into [`Fetch`]es and [`Hazard`]s: plain data saying what is fetched, how, and with
//! which flags. [`judge`] turns them into findings, so every surface is held to the same rules.

pub mod config_files;
pub mod fix;
pub mod focus;
pub mod online;
pub mod orgs;
pub mod python;
pub mod shell;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::config::Config;
use crate::finding::{Finding, Severity, Span};
use crate::rules;
use crate::scan::Target;
use crate::source::{SourceFile, SourceMap};

pub use orgs::{OrgVerdict, TrustedOrgs};

/// Which hub a fetch goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hub {
    HuggingFace,
    ModelScope,
    /// `torch.hub.load`: a GitHub repository's `hubconf.py`.
    TorchHub,
}

/// What kind of hub repository is fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoKind {
    Model,
    Dataset,
    Space,
}

/// The repository id of a fetch, as far as it could be worked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoId {
    /// Fully known: `org/name` or a bare legacy `name`, prefixes such as `hf-hub:` removed.
    Known(String),
    /// Partly known (an f-string with an unresolved part): the literal namespace, if it is one.
    Partial {
        written: String,
        org: Option<String>,
    },
    /// Not resolvable statically (a function argument, a command-line option).
    Unknown { written: String },
}

/// The revision a fetch asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// Not given: the default branch.
    Absent,
    /// A literal (or a constant that resolved to one).
    Literal(String),
    /// Given, but not statically known.
    Dynamic,
    /// The API has no way to pin a revision.
    Unpinnable,
}

impl Revision {
    pub fn is_full_commit(&self) -> bool {
        matches!(self, Revision::Literal(r) if is_full_commit(r))
    }
}

/// `^[0-9a-f]{40}$`, the only form the Hub treats as immutable.
pub fn is_full_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One model or dataset download found in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    pub hub: Hub,
    pub kind: RepoKind,
    pub id: RepoId,
    pub revision: Revision,
    /// The call or command, as the finding names it: `AutoModel.from_pretrained`.
    pub api: String,
    /// Where the id is written (or the call, when the id is implicit).
    pub span: Span,
    /// The expression the id was resolved through, when it is not a literal (`MODEL_ID`).
    pub via: Option<String>,
    pub trust_remote_code: bool,
    /// `code_revision` given as a full commit.
    pub code_revision_pinned: bool,
    /// diffusers `custom_pipeline`, as written.
    pub custom_pipeline: Option<String>,
    /// `torch.hub.load(..., skip_validation=True)`.
    pub skip_validation: bool,
    /// `use_safetensors=False`.
    pub safetensors_disabled: bool,
    /// `local_files_only=True`: the hub is never asked, so nothing here is fetched.
    pub local_files_only: bool,
    /// Files named in the call (`filename=`, `allow_patterns=`).
    pub files: Vec<String>,
    /// `weights_only=True`: pickled files are read by torch's restricted unpickler.
    pub weights_only: bool,
    /// Set when the API resolves a missing local directory as a hub id (transformers and kin).
    pub path_fallback: bool,
}

impl Fetch {
    pub fn new(hub: Hub, api: impl Into<String>, id: RepoId, span: Span) -> Fetch {
        Fetch {
            hub,
            kind: RepoKind::Model,
            id,
            revision: Revision::Absent,
            api: api.into(),
            span,
            via: None,
            trust_remote_code: false,
            code_revision_pinned: false,
            custom_pipeline: None,
            skip_validation: false,
            safetensors_disabled: false,
            local_files_only: false,
            files: Vec::new(),
            weights_only: false,
            path_fallback: true,
        }
    }
}

/// Something unsafe found next to the fetches, not tied to one repository id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HazardKind {
    /// `torch.load` without `weights_only=True`, `pandas.read_pickle`, ... (the call).
    PickleLoad { call: String, why: String },
    /// `HF_ENDPOINT` or a download URL's host.
    Endpoint { host: String, what: String },
    /// `pipeline(task)` without a model.
    ImplicitDefault { task: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub kind: HazardKind,
    pub span: Span,
}

/// What one surface scanner found in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    pub fetches: Vec<Fetch>,
    pub hazards: Vec<Hazard>,
    /// Input problems (parse errors), already findings.
    pub findings: Vec<Finding>,
}

/// What the rules need to know beyond the fetch itself.
pub struct Context<'a> {
    pub orgs: &'a TrustedOrgs,
    /// Hosts allowed besides the official hubs (`[hub] allowed-hosts`).
    pub allowed_hosts: Vec<String>,
    /// The scanned root: model-confusion asks whether a path-shaped id exists there.
    pub root: &'a Path,
    /// Paths already asked about: the same ids come back in file after file.
    exists: Mutex<HashMap<PathBuf, bool>>,
    /// Namespaces already judged: comparing one with every trusted organisation is costly, and
    /// the same few namespaces come back in file after file.
    verdicts: Mutex<HashMap<String, OrgVerdict>>,
}

impl<'a> Context<'a> {
    pub fn new(config: &Config, orgs: &'a TrustedOrgs, root: &'a Path) -> Context<'a> {
        Context {
            orgs,
            allowed_hosts: config
                .hub
                .allowed_hosts
                .iter()
                .map(|a| a.name.to_ascii_lowercase())
                .collect(),
            root,
            exists: Mutex::default(),
            verdicts: Mutex::default(),
        }
    }

    /// [`TrustedOrgs::judge`], each namespace judged once per scan.
    pub fn judge_org(&self, org: &str) -> OrgVerdict {
        let cached = self
            .verdicts
            .lock()
            .ok()
            .and_then(|seen| seen.get(org).cloned());
        cached.unwrap_or_else(|| {
            let verdict = self.orgs.judge(org);
            if let Ok(mut seen) = self.verdicts.lock() {
                seen.insert(org.to_string(), verdict.clone());
            }
            verdict
        })
    }

    /// Whether `id` names a directory or file relative to the root or to the file's directory
    /// (as [`exists_locally`], each path asked once per scan).
    fn exists_locally(&self, file: &SourceFile, id: &str) -> bool {
        let dir = Path::new(&file.rel_path).parent().unwrap_or(Path::new(""));
        let exists = |path: PathBuf| {
            let cached = self
                .exists
                .lock()
                .ok()
                .and_then(|seen| seen.get(&path).copied());
            cached.unwrap_or_else(|| {
                let found = path.exists();
                if let Ok(mut seen) = self.exists.lock() {
                    seen.insert(path, found);
                }
                found
            })
        };
        exists(self.root.join(id)) || exists(self.root.join(dir).join(id))
    }

    /// The official hubs and the configured hosts.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        const OFFICIAL: &[&str] = &[
            "huggingface.co",
            "hf.co",
            "modelscope.cn",
            // PyTorch's own weights (torchvision, torch.hub checkpoints).
            "download.pytorch.org",
        ];
        OFFICIAL
            .iter()
            .copied()
            .chain(self.allowed_hosts.iter().map(String::as_str))
            .any(|allowed| {
                host == allowed
                    || host
                        .strip_suffix(allowed)
                        .is_some_and(|sub| sub.ends_with('.'))
            })
    }
}

/// Every hub finding in a repository: files collected as the other tools do, each Python file and
/// notebook scanned, every fetch judged.
pub fn scan(target: &Target, config: &Config) -> HubScan {
    let root = target
        .root
        .canonicalize()
        .unwrap_or_else(|_| target.root.clone());
    let orgs = TrustedOrgs::new(config.hub.trusted_orgs.iter().map(|a| a.name.as_str()));
    let context = Context::new(config, &orgs, &root);
    let context = &context;
    // Files are independent: each is scanned and judged on the thread that read it, and
    // `visit` hands them back in path order, so output does not depend on scheduling.
    let visited = crate::files::visit(
        &root,
        &target.paths,
        &config.exclude,
        &|rel| wants(rel),
        &|text| {
            // A Python file without a needle gives nothing; unless an ignore comment in it
            // needs checking, it is not even indexed.
            if text.rel_path.ends_with(".py")
                && !python::may_fetch(&text.text)
                && !may_hold_ignore(&text.text)
            {
                return None;
            }
            let file = text.into_source();
            let findings = judge(&file, &scan_file(&file), context);
            Some((file, findings))
        },
    );
    let mut out = HubScan {
        findings: visited.findings,
        sources: SourceMap::default(),
        root: root.clone(),
    };
    for (file, findings) in visited.items {
        out.findings.extend(findings);
        out.sources.insert(file);
    }
    config.add_findings_to(&mut out.findings);
    out
}

/// Whether `text` may hold a `# mlsupply: ignore[...]` comment, well formed or not (the
/// suppression pass reports those even in files without findings): a `#`, spaces or tabs, then
/// `mlsupply` in any case, the least the suppression pass takes for an ignore comment
/// (`suppress::parse_line`). Anchored on `#`, far rarer than any byte of `mlsupply`.
fn may_hold_ignore(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'#', bytes).any(|hash| {
        let rest = &bytes[hash + 1..];
        let start = rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(rest.len());
        rest.get(start..start + 8)
            .is_some_and(|word| word.eq_ignore_ascii_case(b"mlsupply"))
    })
}

/// Whether any surface scanner reads `rel_path`.
pub fn wants(rel_path: &str) -> bool {
    python::wants(rel_path) || shell::wants(rel_path) || config_files::wants(rel_path)
}

/// The fetches and hazards of one file, by its kind.
pub fn scan_file(file: &SourceFile) -> Scanned {
    scan_file_with(file, python::Parse::Focused)
}

/// [`scan_file`], parsing Python as `parse` says.
pub fn scan_file_with(file: &SourceFile, parse: python::Parse) -> Scanned {
    let rel = file.rel_path.as_str();
    if rel.ends_with(".ipynb") {
        let (mut out, cells) = python::scan_notebook(file, parse);
        // Shell escapes (`!hf download ...`) are invisible to the Python scanner.
        let mut env = shell::Env::default();
        for cell in cells.iter().filter(|c| c.cell_type == "code") {
            if shell::has_escape(cell.source.as_str()) {
                shell::scan_cell(file, &cell.source, &mut env, &mut out);
            }
        }
        return out;
    }
    if python::wants(rel) {
        return python::scan_file_with(file, parse);
    }
    if shell::wants(rel) {
        return shell::scan_file(file);
    }
    config_files::scan_file(file)
}

/// The findings of [`scan`], and the files they point into. (Python files without a needle and
/// without an ignore comment are left out: nothing can point into them.)
#[derive(Debug)]
pub struct HubScan {
    pub findings: Vec<Finding>,
    pub sources: SourceMap,
    pub root: PathBuf,
}

/// Local-looking first segments: a relative path under one of these is meant as a directory.
const LOCAL_DIRS: &[&str] = &[
    "models",
    "model",
    "checkpoints",
    "checkpoint",
    "ckpt",
    "ckpts",
    "outputs",
    "output",
    "saves",
    "saved",
    "saved_models",
    "runs",
    "results",
    "weights",
    "artifacts",
    "artefacts",
    "data",
    "exp",
    "experiments",
    "pretrained",
    "local",
    "tmp",
    "cache",
];

/// Namespaces that stand for "put yours here".
const PLACEHOLDER_ORGS: &[&str] = &[
    "your-org",
    "your_org",
    "yourorg",
    "your-username",
    "your_username",
    "yourusername",
    "username",
    "user",
    "your-name",
    "your-hf-username",
    "your-organization",
    "my-org",
    "myorg",
    "my-username",
    "org",
    "organization",
    "<org>",
    "<user>",
    "<username>",
    "xxx",
    "your-hf-org",
    "hf-user",
    "your-user",
];

/// The findings for one file's fetches and hazards.
pub fn judge(file: &SourceFile, scanned: &Scanned, cx: &Context<'_>) -> Vec<Finding> {
    let mut out = scanned.findings.clone();
    for fetch in &scanned.fetches {
        judge_fetch(file, fetch, cx, &mut out);
    }
    for hazard in &scanned.hazards {
        match &hazard.kind {
            HazardKind::PickleLoad { call, why } => out.push(Finding::at(
                &rules::PICKLE_LOAD,
                file,
                hazard.span,
                call.clone(),
                format!("`{call}` {why}"),
            )),
            HazardKind::Endpoint { host, what } => {
                if !cx.host_allowed(host) {
                    out.push(Finding::at(
                        &rules::UNOFFICIAL_ENDPOINT,
                        file,
                        hazard.span,
                        host.clone(),
                        format!("{what} points at `{host}`, which is not an official hub nor in [hub] allowed-hosts"),
                    ));
                }
            }
            HazardKind::ImplicitDefault { task } => out.push(
                Finding::at(
                    &rules::IMPLICIT_DEFAULT_MODEL,
                    file,
                    hazard.span,
                    task.clone(),
                    format!("`pipeline(\"{task}\")` has no model: it downloads the library's default for the task"),
                )
                .with_suggestion(format!(
                    "pipeline(\"{task}\", model=\"org/name\", revision=\"<40-hex commit>\")"
                )),
            ),
        }
    }
    out
}

fn judge_fetch(file: &SourceFile, fetch: &Fetch, cx: &Context<'_>, out: &mut Vec<Finding>) {
    if fetch.local_files_only {
        return;
    }
    let at = |rule: &'static rules::Rule, subject: &str, message: String| {
        let message = match &fetch.via {
            Some(via) if via != subject => format!("{message} (the id comes from `{via}`)"),
            _ => message,
        };
        Finding::at(rule, file, fetch.span, subject.to_string(), message)
    };
    let api = &fetch.api;
    let (subject, org) = match &fetch.id {
        RepoId::Known(id) => {
            if is_local_path(id) {
                return;
            }
            if id.matches('/').count() > 1 || cx.exists_locally(file, id) {
                // Not a hub id (two slashes), or the directory is there: loaded from disk, and
                // any code it runs is the project's own.
                return;
            }
            if !id.is_ascii() && id.split_once('/').is_none_or(|(org, _)| org.is_ascii()) {
                // Hub ids are ASCII; the client's regex lets look-alike letters through.
                out.push(at(
                    &rules::LOOKALIKE_ORG,
                    id,
                    format!("`{id}` contains non-ASCII characters; hub ids are ASCII, so this imitates another name"),
                ));
            }
            (
                id.clone(),
                id.split_once('/').map(|(org, _)| org.to_string()),
            )
        }
        RepoId::Partial { written, org } => (written.clone(), org.clone()),
        RepoId::Unknown { written } => {
            if !fetch.revision.is_full_commit() && fetch.revision != Revision::Dynamic {
                out.push(
                    at(
                        &rules::UNPINNED_REVISION,
                        written,
                        format!("`{api}` loads `{written}`, which could not be resolved statically, without a pinned revision"),
                    )
                    .with_severity(Severity::Note),
                );
            }
            remote_code(fetch, written, None, at, out);
            return;
        }
    };

    let mut confused = false;
    if let Some(org) = &org {
        let first = org.to_ascii_lowercase();
        if PLACEHOLDER_ORGS.contains(&first.as_str())
            || org.starts_with('<')
            || org.starts_with('{')
        {
            confused = true;
            out.push(at(
                &rules::MODEL_CONFUSION,
                &subject,
                format!("`{subject}` uses the placeholder namespace `{org}`, which anyone can register on the hub"),
            ).with_severity(Severity::Warning));
        } else if fetch.path_fallback && LOCAL_DIRS.contains(&first.as_str()) {
            confused = true;
            out.push(at(
                &rules::MODEL_CONFUSION,
                &subject,
                format!("`{subject}` looks like a local directory but does not exist in the repository, so `{api}` fetches it from the hub, where anyone can register `{org}`"),
            ).with_suggestion(format!("\"./{subject}\" with local_files_only=True")));
        }
    }
    let mut trusted = false;
    if !confused && let Some(org) = &org {
        match cx.judge_org(org) {
            OrgVerdict::Trusted => trusted = true,
            OrgVerdict::Lookalike { imitated, why } => out.push(at(
                &rules::LOOKALIKE_ORG,
                &subject,
                format!(
                    "the namespace `{org}` imitates the trusted organisation `{imitated}` ({why})"
                ),
            )),
            OrgVerdict::Untrusted if !org.is_ascii() => out.push(at(
                &rules::LOOKALIKE_ORG,
                &subject,
                format!(
                    "the namespace `{org}` contains non-ASCII characters; hub namespaces are ASCII"
                ),
            )),
            OrgVerdict::Untrusted => {
                let name = subject.split_once('/').map(|(_, n)| n).unwrap_or("");
                let family = match orgs::family_owner(name) {
                    Some(owner) => format!(
                        "; `{name}` carries the name of a `{owner}` model, so check that this is a faithful copy, or load it from `{owner}`"
                    ),
                    None => String::new(),
                };
                out.push(at(
                    &rules::UNTRUSTED_ORG,
                    &subject,
                    format!("`{subject}` comes from `{org}`, which is not a trusted organisation{family}"),
                ))
            }
        }
    } else if org.is_none() {
        // Bare legacy ids (`gpt2`) are canonical repositories kept by the hub itself.
        trusted = true;
    }

    if !confused {
        match &fetch.revision {
            Revision::Unpinnable => out.push(at(
                &rules::UNPINNED_REVISION,
                &subject,
                format!("`{api}` cannot pin a revision: it always fetches the default branch of `{subject}`"),
            ).with_suggestion("download the file with hf_hub_download(..., revision=\"<40-hex commit>\") and load the local path")),
            Revision::Absent => out.push(at(
                &rules::UNPINNED_REVISION,
                &subject,
                format!("`{api}` fetches `{subject}` without a revision, so whatever the default branch holds is loaded"),
            )),
            Revision::Literal(rev) if !is_full_commit(rev) => {
                let what = if rev.len() >= 7 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
                    "a short or non-canonical hash, which is a weak pin"
                } else {
                    "a branch or tag, which can move"
                };
                out.push(at(
                    &rules::UNPINNED_REVISION,
                    &subject,
                    format!("`{api}` fetches `{subject}` at `{rev}`, {what}"),
                ));
            }
            _ => {}
        }
    }
    remote_code(fetch, &subject, Some(trusted), at, out);
    if fetch.safetensors_disabled {
        out.push(at(
            &rules::PICKLE_LOAD,
            &subject,
            format!("`{api}` is told `use_safetensors=False`, so pickled weights of `{subject}` are loaded"),
        ));
    }
    for name in fetch.files.iter().filter(|_| !fetch.weights_only) {
        if is_pickle_file(name) {
            out.push(at(
                &rules::PICKLE_LOAD,
                &subject,
                format!("`{name}` from `{subject}` is a pickle-based format, which runs code when loaded"),
            ));
        }
    }
}

fn remote_code(
    fetch: &Fetch,
    subject: &str,
    trusted: Option<bool>,
    at: impl Fn(&'static rules::Rule, &str, String) -> Finding,
    out: &mut Vec<Finding>,
) {
    let severity = if trusted == Some(true) {
        Severity::Warning
    } else {
        Severity::Error
    };
    let api = &fetch.api;
    if fetch.hub == Hub::TorchHub {
        let extra = if fetch.skip_validation {
            "; skip_validation=True also skips the check that the ref belongs to that repository"
        } else {
            ""
        };
        out.push(at(
            &rules::REMOTE_CODE,
            subject,
            format!("`{api}` imports and runs `hubconf.py` from the GitHub repository `{subject}`{extra}"),
        ).with_severity(severity));
    }
    if fetch.trust_remote_code {
        let code = if fetch.code_revision_pinned {
            ""
        } else {
            " (`code_revision` is not pinned, so code from another repository named in `auto_map` follows its default branch)"
        };
        out.push(
            at(
                &rules::REMOTE_CODE,
                subject,
                format!(
                    "`{api}` runs Python code from `{subject}` (`trust_remote_code=True`){code}"
                ),
            )
            .with_severity(severity),
        );
    }
    if let Some(pipeline) = &fetch.custom_pipeline {
        out.push(
            at(
                &rules::REMOTE_CODE,
                subject,
                format!(
                    "`custom_pipeline=\"{pipeline}\"` loads and runs a pipeline file from the hub"
                ),
            )
            .with_severity(severity),
        );
    }
}

/// Paths that are never hub ids: `./x`, `../x`, `/x`, `~/x`, Windows drives.
pub fn is_local_path(id: &str) -> bool {
    id.starts_with("./")
        || id.starts_with("../")
        || id.starts_with('/')
        || id.starts_with('~')
        || id.starts_with('.')
        || id.contains('\\')
        || id.as_bytes().get(1) == Some(&b':')
}

/// Whether `id` names a directory or file relative to the root or to the file's directory.
pub(crate) fn exists_locally(root: &Path, file: &SourceFile, id: &str) -> bool {
    let dir = Path::new(&file.rel_path).parent().unwrap_or(Path::new(""));
    root.join(id).exists() || root.join(dir).join(id).exists()
}

/// Extensions of pickle-based model formats.
pub fn is_pickle_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill", ".mar", ".pt2",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}
