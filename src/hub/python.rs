//! Model downloads in Python source and notebooks, read with tree-sitter (never run).
//!
//! Ids are resolved through string literals, names assigned anywhere in the file (module
//! constants, default arguments), f-strings with constant parts, both branches of a conditional
//! expression, and `**kwargs` from a dict literal or `dict(...)`. Notebooks are read as the
//! kernel would run them: code cells joined in order, so a constant set in one cell reaches a
//! call in a later one; `!` and `%` lines are blanked out before parsing.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;

use tree_sitter::Node;

use super::{Fetch, Hazard, HazardKind, Hub, RepoId, RepoKind, Revision, Scanned};
use crate::deps::cmd_text::{MappedText, line_ranges};
use crate::finding::{Finding, Span};
use crate::notebookjson;
use crate::pyparse::{self, Field, PyModule};
use crate::rules;
use crate::source::SourceFile;

/// The files this scanner reads.
pub fn wants(rel_path: &str) -> bool {
    rel_path.ends_with(".py") || rel_path.ends_with(".ipynb")
}

/// Words without which a file cannot fetch a model: most files of a repository have none of
/// them and are not parsed at all. Deliberately broad (`load` covers `torch.load`,
/// `load_dataset`, `from torch import load`, ...).
pub(super) const NEEDLES: &[&str] = &[
    "load",
    "pretrained",
    "pipeline",
    "download",
    "hf_hub",
    "Encoder",
    "SentenceTransformer",
    "create_model",
    "get_tokenizer",
    "from_preset",
    "LLM",
    "HF_ENDPOINT",
    "hf://",
    "hf-hub:",
    "huggingface",
    "hf.co",
    "pickle",
    "urlretrieve",
    "cached_path",
    "from_single_file",
];

/// Whether `text` may contain a fetch at all.
pub fn may_fetch(text: &str) -> bool {
    super::focus::has_needle(text)
}

/// How much of a Python file is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    /// The whole file: the reference the focused parse is tested against.
    Whole,
    /// Only the statements that can matter ([`super::focus`]); the same findings, faster.
    Focused,
}

/// The fetches and hazards in one Python file or notebook.
pub fn scan_file(file: &SourceFile) -> Scanned {
    scan_file_with(file, Parse::Focused)
}

/// [`scan_file`], parsing as `parse` says.
pub fn scan_file_with(file: &SourceFile, parse: Parse) -> Scanned {
    if !file.rel_path.ends_with(".ipynb") {
        if !may_fetch(&file.text) {
            return Scanned::default();
        }
        return scan_source_with(&file.text, &|range| file.span(range), parse);
    }
    scan_notebook(file, parse).0
}

/// The Python in a notebook: its code cells joined in order, `!` and `%` lines blanked. Also
/// returns the cells, for the shell scanner (none if the JSON is malformed).
pub(super) fn scan_notebook(file: &SourceFile, parse: Parse) -> (Scanned, Vec<notebookjson::Cell>) {
    let (cells, problems) = match notebookjson::parse_cells(file) {
        Ok(parsed) => parsed,
        Err(error) => {
            let scanned = Scanned {
                findings: vec![Finding::at(
                    &rules::PARSE_ERROR,
                    file,
                    error.span,
                    file.rel_path.clone(),
                    error.message,
                )],
                ..Scanned::default()
            };
            return (scanned, Vec::new());
        }
    };
    let mut joined = MappedText::new();
    for cell in cells.iter().filter(|c| c.cell_type == "code") {
        push_cell_lines(&mut joined, &cell.source);
    }
    let mut scanned = if may_fetch(joined.as_str()) {
        scan_source_with(joined.as_str(), &|range| joined.span(file, range), parse)
    } else {
        Scanned::default()
    };
    for problem in problems {
        scanned.findings.push(Finding::at(
            &rules::PARSE_ERROR,
            file,
            problem.span,
            file.rel_path.clone(),
            problem.message,
        ));
    }
    (scanned, cells)
}

/// Appends each line of a cell to `joined`, ended by `\n`; shell escapes and magics are not
/// Python and are blanked, keeping positions. (Line by line over ranges of the cell: no copy
/// of each line and its byte origins.)
fn push_cell_lines(joined: &mut MappedText, source: &MappedText) {
    let text = source.as_str();
    let mut line = |start: usize, end: usize| {
        let line = &text[start..end];
        let body = line.trim_start();
        if body.starts_with('!') || body.starts_with('%') {
            for (i, c) in line.char_indices() {
                let origin = source.origin_of(start + i).unwrap_or(0..0);
                joined.push_char(if c.is_whitespace() { c } else { ' ' }, origin);
            }
        } else {
            joined.push_mapped(source, start..end);
        }
        // The line break points just after the line's last character (nowhere for an empty line).
        let after = (end > start)
            .then(|| source.origin_of(end - 1))
            .flatten()
            .map_or(0..0, |r| r.end..r.end);
        joined.push_char('\n', after);
    };
    for range in line_ranges(text) {
        line(range.start, range.end);
    }
}

/// The fetches and hazards in Python `source`; `span_of` turns byte ranges of `source` into
/// positions in the scanned file.
pub fn scan_source(source: &str, span_of: &dyn Fn(Range<usize>) -> Span) -> Scanned {
    scan_source_with(source, span_of, Parse::Whole)
}

/// [`scan_source`], parsing as `parse` says.
pub fn scan_source_with(
    source: &str,
    span_of: &dyn Fn(Range<usize>) -> Span,
    parse: Parse,
) -> Scanned {
    if parse == Parse::Focused
        && let Some(focused) = super::focus::focus(source)
        && let Ok(module) = pyparse::parse(&focused.text)
        // A syntax error in the kept statements: the whole file's error recovery decides.
        && !module.root().has_error()
    {
        return scan_module(&module, source, &|range| span_of(focused.original(range)));
    }
    match pyparse::parse(source) {
        Ok(module) => scan_module(&module, source, span_of),
        Err(_) => Scanned::default(),
    }
}

/// The scan of a parsed module; `source` is the whole text (`module` may hold part of it).
fn scan_module(
    module: &PyModule<'_>,
    source: &str,
    span_of: &dyn Fn(Range<usize>) -> Span,
) -> Scanned {
    let mut out = Scanned::default();
    let scanner = Scanner::new(module, source, span_of);
    for call in scanner.nodes.iter().filter(|n| n.kind_name() == "call") {
        scanner.call(*call, &mut out);
    }
    scanner.endpoint_assignments(&mut out);
    out
}

/// A resolved string value: complete, or with unresolved parts written `{…}`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Val {
    text: String,
    complete: bool,
}

/// Names of calls whose result is a downloaded file.
const DOWNLOADERS: &[&str] = &[
    "hf_hub_download",
    "snapshot_download",
    "cached_download",
    "cached_path",
    "load_state_dict_from_url",
    "download_url_to_file",
    "urlretrieve",
    "model_download",
    "dataset_download",
];

/// `load_dataset` builders that read local or URL files rather than a hub repository.
const DATASET_BUILDERS: &[&str] = &[
    "json",
    "csv",
    "parquet",
    "text",
    "arrow",
    "imagefolder",
    "audiofolder",
    "videofolder",
    "webdataset",
    "generator",
    "sql",
    "xml",
    "pdffolder",
    "pandas",
];

struct Scanner<'m, 's> {
    m: &'m PyModule<'s>,
    span_of: &'m dyn Fn(Range<usize>) -> Span,
    aliases: HashMap<String, String>,
    /// Every value assigned to a name (assignments and default arguments), in document order.
    bindings: HashMap<String, Vec<Node<'m>>>,
    /// Defaults of command-line options and dataclass fields, by attribute name.
    attributes: HashMap<String, Vec<Node<'m>>>,
    /// Names assigned the result of a download call.
    fetched: HashSet<String>,
    mentions_transformers: bool,
    mentions_vllm: bool,
    /// Steps left for the current resolution: names bound many times to each other would
    /// otherwise branch exponentially on a hostile file.
    budget: Cell<u32>,
    /// Every node of the module, in document order.
    nodes: Vec<Node<'m>>,
    /// The call whose arguments were listed last, and its arguments.
    last_arguments: RefCell<Option<(usize, Rc<[Node<'m>]>)>>,
}

/// Resolution steps allowed per argument.
const RESOLVE_BUDGET: u32 = 2_000;

impl<'m, 's> Scanner<'m, 's> {
    fn new(m: &'m PyModule<'s>, source: &str, span_of: &'m dyn Fn(Range<usize>) -> Span) -> Self {
        let mut bindings: HashMap<String, Vec<Node<'m>>> = HashMap::new();
        let mut fetched = HashSet::new();
        // One walk of the tree serves imports, calls, bindings and environment assignments.
        let nodes = m.descendants(m.root());
        let aliases = import_aliases(m, &nodes);
        // Attribute defaults: `parser.add_argument("--model-name", default="org/m")` and
        // dataclass fields `model_name: str = field(default="org/m")`, read by `args.model_name`.
        let mut attributes: HashMap<String, Vec<Node<'m>>> = HashMap::new();
        for &node in &nodes {
            if node.kind_name() == "call"
                && let Some(f) = node.field("function")
                && last_segment(m.text(f)) == "add_argument"
                && let Some(default) = m.keyword_argument(node, "default")
            {
                let dest = m
                    .keyword_argument(node, "dest")
                    .and_then(|d| m.string_value(d))
                    .map(|d| d.value)
                    .or_else(|| {
                        m.arguments(node)
                            .into_iter()
                            .filter_map(|a| m.string_value(a))
                            .map(|a| a.value)
                            .find(|a| a.starts_with("--"))
                            .map(|a| a.trim_start_matches('-').replace('-', "_"))
                    });
                if let Some(dest) = dest {
                    attributes.entry(dest).or_default().push(default);
                }
            }
        }
        for &node in &nodes {
            let (name, value) = match node.kind_name() {
                "assignment" => (node.field("left"), node.field("right")),
                "default_parameter" | "typed_default_parameter" => {
                    (node.field("name"), node.field("value"))
                }
                _ => continue,
            };
            let (Some(name), Some(value)) = (name, value) else {
                continue;
            };
            if name.kind_name() != "identifier" {
                continue;
            }
            let name = m.text(name).to_string();
            if value.kind_name() == "call"
                && let Some(f) = value.field("function")
                && last_segment(m.text(f)) == "field"
            {
                if let Some(default) = m.keyword_argument(value, "default") {
                    attributes.entry(name).or_default().push(default);
                }
                continue;
            }
            if value.kind_name() == "call"
                && let Some(f) = value.field("function")
                && DOWNLOADERS.contains(&last_segment(m.text(f)))
            {
                fetched.insert(name.clone());
            }
            bindings.entry(name).or_default().push(value);
        }
        Scanner {
            m,
            span_of,
            aliases,
            bindings,
            attributes,
            fetched,
            mentions_transformers: source.contains("transformers"),
            mentions_vllm: source.contains("vllm"),
            budget: Cell::new(RESOLVE_BUDGET),
            nodes,
            last_arguments: RefCell::new(None),
        }
    }

    /// The arguments of `call`, listed once for the many lookups made in a row on one call.
    fn arguments(&self, call: Node<'m>) -> Rc<[Node<'m>]> {
        if let Some((id, arguments)) = &*self.last_arguments.borrow()
            && *id == call.id()
        {
            return Rc::clone(arguments);
        }
        let arguments: Rc<[Node<'m>]> = self.m.arguments(call).into();
        *self.last_arguments.borrow_mut() = Some((call.id(), Rc::clone(&arguments)));
        arguments
    }

    fn span(&self, node: Node<'_>) -> Span {
        (self.span_of)(node.byte_range())
    }

    /// Every string `node` may evaluate to.
    fn resolve(&self, node: Node<'m>, depth: u32) -> Vec<Val> {
        if depth == 0 {
            self.budget.set(RESOLVE_BUDGET);
        }
        if depth > 8 || self.budget.get() == 0 {
            return Vec::new();
        }
        self.budget.set(self.budget.get() - 1);
        match node.kind_name() {
            "string" | "concatenated_string" | "parenthesized_expression" => {
                if let Some(value) = self.m.string_value(node) {
                    return vec![Val {
                        text: value.value,
                        complete: true,
                    }];
                }
                if node.kind_name() == "parenthesized_expression" {
                    let mut cursor = node.walk();
                    let inner: Vec<Node<'m>> = node
                        .named_children(&mut cursor)
                        .filter(|n| n.kind_name() != "comment")
                        .collect();
                    return match inner.as_slice() {
                        [only] => self.resolve(*only, depth + 1),
                        _ => Vec::new(),
                    };
                }
                if node.kind_name() == "string" {
                    return self.fstring(node, depth).into_iter().collect();
                }
                Vec::new()
            }
            "conditional_expression" => {
                let mut cursor = node.walk();
                let parts: Vec<Node<'m>> = node.named_children(&mut cursor).collect();
                let mut out = Vec::new();
                // `a if cond else b`: the first and last named children are the branches.
                if let (Some(a), Some(b)) = (parts.first(), parts.last())
                    && parts.len() >= 3
                {
                    out.extend(self.resolve(*a, depth + 1));
                    out.extend(self.resolve(*b, depth + 1));
                }
                out
            }
            "identifier" | "attribute" => {
                let (table, name) = if node.kind_name() == "identifier" {
                    (&self.bindings, self.m.text(node))
                } else {
                    match node.field("attribute") {
                        Some(attr) => (&self.attributes, self.m.text(attr)),
                        None => return Vec::new(),
                    }
                };
                let mut out: Vec<Val> = Vec::new();
                for value in table.get(name).into_iter().flatten() {
                    for val in self.resolve(*value, depth + 1) {
                        if !out.contains(&val) {
                            out.push(val);
                        }
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// An f-string with its literal parts kept and interpolations resolved when they can be.
    fn fstring(&self, node: Node<'m>, depth: u32) -> Option<Val> {
        let mut text = String::new();
        let mut complete = true;
        let mut cursor = node.walk();
        let mut saw_start = false;
        for child in node.children(&mut cursor) {
            match child.kind_name() {
                "string_start" => {
                    let prefix = self.m.text(child).to_ascii_lowercase();
                    if !prefix.contains('f') {
                        return None;
                    }
                    saw_start = true;
                }
                "string_content" | "escape_sequence" => text.push_str(self.m.text(child)),
                "interpolation" => {
                    let resolved = child
                        .named_child(0)
                        .map(|expr| self.resolve(expr, depth + 1))
                        .unwrap_or_default();
                    match resolved.as_slice() {
                        [only] if only.complete => text.push_str(&only.text),
                        _ => {
                            complete = false;
                            text.push_str("{…}");
                        }
                    }
                }
                _ => {}
            }
        }
        saw_start.then_some(Val { text, complete })
    }

    /// The one value `node` certainly has, if it has one.
    fn single(&self, node: Node<'m>) -> Option<String> {
        match self.resolve(node, 0).as_slice() {
            [only] if only.complete => Some(only.text.clone()),
            _ => None,
        }
    }

    /// Keyword argument `name`, also from a `**dict` splat.
    fn kwarg(&self, call: Node<'m>, name: &str) -> Option<Node<'m>> {
        // The arguments are listed once for both lookups (`PyModule::keyword_argument` lists
        // them again).
        let arguments = self.arguments(call);
        let keyword = arguments.iter().find_map(|arg| {
            let key = arg.field("name")?;
            (arg.kind_name() == "keyword_argument" && self.m.text(key) == name)
                .then(|| arg.field("value"))
                .flatten()
        });
        if keyword.is_some() {
            return keyword;
        }
        for &arg in arguments.iter() {
            if arg.kind_name() != "dictionary_splat" {
                continue;
            }
            let Some(expr) = arg.named_child(0) else {
                continue;
            };
            let dicts: Vec<Node<'m>> = if expr.kind_name() == "identifier" {
                self.bindings
                    .get(self.m.text(expr))
                    .cloned()
                    .unwrap_or_default()
            } else {
                vec![expr]
            };
            for dict in dicts {
                if let Some(value) = self.dict_entry(dict, name) {
                    return Some(value);
                }
            }
        }
        None
    }

    fn dict_entry(&self, dict: Node<'m>, key: &str) -> Option<Node<'m>> {
        match dict.kind_name() {
            "dictionary" => {
                let mut cursor = dict.walk();
                let pairs: Vec<Node<'m>> = dict.named_children(&mut cursor).collect();
                pairs.into_iter().find_map(|pair| {
                    let k = pair.field("key")?;
                    (pair.kind_name() == "pair"
                        && self.m.string_value(k).is_some_and(|v| v.value == key))
                    .then(|| pair.field("value"))
                    .flatten()
                })
            }
            "call" => {
                let f = dict.field("function")?;
                (self.m.text(f) == "dict")
                    .then(|| self.m.keyword_argument(dict, key))
                    .flatten()
            }
            _ => None,
        }
    }

    /// Whether the call has a `**splat` whose keys could not be read.
    fn opaque_splat(&self, call: Node<'m>) -> bool {
        self.arguments(call).iter().any(|&arg| {
            arg.kind_name() == "dictionary_splat"
                && arg.named_child(0).is_none_or(|expr| {
                    let dicts: Vec<Node<'m>> = if expr.kind_name() == "identifier" {
                        self.bindings
                            .get(self.m.text(expr))
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        vec![expr]
                    };
                    dicts.is_empty()
                        || dicts
                            .iter()
                            .any(|d| !matches!(d.kind_name(), "dictionary" | "call"))
                })
        })
    }

    fn is_true(&self, call: Node<'m>, name: &str) -> bool {
        self.kwarg(call, name).is_some_and(|v| {
            v.kind_name() == "true"
                || (v.kind_name() == "identifier"
                    && self
                        .bindings
                        .get(self.m.text(v))
                        .is_some_and(|vals| vals.iter().any(|n| n.kind_name() == "true")))
        })
    }

    fn is_false(&self, call: Node<'m>, name: &str) -> bool {
        self.kwarg(call, name)
            .is_some_and(|v| v.kind_name() == "false")
    }

    fn positional(&self, call: Node<'m>, index: usize) -> Option<Node<'m>> {
        self.arguments(call)
            .iter()
            .copied()
            .filter(|a| {
                !matches!(
                    a.kind_name(),
                    "keyword_argument" | "list_splat" | "dictionary_splat"
                )
            })
            .nth(index)
    }

    /// The id argument: keyword `names` first, else positional `index`.
    fn id_arg(&self, call: Node<'m>, index: usize, names: &[&str]) -> Option<Node<'m>> {
        names
            .iter()
            .find_map(|name| self.kwarg(call, name))
            .or_else(|| self.positional(call, index))
    }

    fn revision(&self, call: Node<'m>) -> Revision {
        match self.kwarg(call, "revision") {
            None if self.opaque_splat(call) => Revision::Dynamic,
            None => Revision::Absent,
            Some(node) => match self.single(node) {
                Some(rev) => Revision::Literal(rev),
                None => Revision::Dynamic,
            },
        }
    }

    fn call(&self, call: Node<'m>, out: &mut Scanned) {
        let Some(function) = call.field("function") else {
            return;
        };
        let written = self.m.text(function);
        let qualified = self
            .m
            .qualified_name(function, &self.aliases)
            .unwrap_or_else(|| written.to_string());
        let last = last_segment(&qualified);
        let receiver = qualified.rsplit_once('.').map(|(r, _)| r).unwrap_or("");
        let receiver_last = last_segment(receiver);
        let api = short_api(written);
        let hub = if qualified.starts_with("modelscope") || qualified.starts_with("openmind") {
            Hub::ModelScope
        } else {
            Hub::HuggingFace
        };

        match last {
            "from_pretrained"
            | "from_single_file"
            | "load_lora_weights"
            | "load_textual_inversion"
            | "load_ip_adapter" => {
                let (index, names, revision): (usize, &[&str], _) = if receiver_last == "Llama" {
                    (0, &["repo_id"], Some(Revision::Unpinnable))
                } else if receiver_last.starts_with("PeftModel") {
                    (1, &["model_id"], None)
                } else if matches!(
                    receiver_last,
                    "FastLanguageModel" | "FastModel" | "FastVisionModel"
                ) {
                    (0, &["model_name"], None)
                } else {
                    (
                        0,
                        &[
                            "pretrained_model_name_or_path",
                            "pretrained_model_link_or_path",
                            "pretrained_model_name_or_path_or_dict",
                            "repo_id",
                            "model_id",
                        ],
                        None,
                    )
                };
                let files = self
                    .kwarg(call, "filename")
                    .or_else(|| self.kwarg(call, "weight_name"))
                    .or_else(|| {
                        (receiver_last == "Llama")
                            .then(|| self.positional(call, 1))
                            .flatten()
                    })
                    .and_then(|n| self.single(n))
                    .into_iter()
                    .collect();
                self.fetches(
                    call,
                    hub,
                    &api,
                    index,
                    names,
                    revision,
                    files,
                    RepoKind::Model,
                    out,
                );
            }
            "pipeline"
                if qualified.starts_with("transformers")
                    || (qualified == "pipeline" && self.mentions_transformers) =>
            {
                if self.id_arg(call, 1, &["model"]).is_none() {
                    if self.opaque_splat(call) {
                        return;
                    }
                    let task = self
                        .id_arg(call, 0, &["task"])
                        .and_then(|n| self.single(n))
                        .unwrap_or_else(|| "?".to_string());
                    out.hazards.push(Hazard {
                        kind: HazardKind::ImplicitDefault { task },
                        span: self.span(call),
                    });
                    return;
                }
                self.fetches(
                    call,
                    hub,
                    &api,
                    1,
                    &["model"],
                    None,
                    Vec::new(),
                    RepoKind::Model,
                    out,
                );
            }
            "hf_hub_download" | "snapshot_download" | "hf_hub_url" | "model_file_download" => {
                let kind = match self
                    .kwarg(call, "repo_type")
                    .and_then(|n| self.single(n))
                    .as_deref()
                {
                    Some("dataset") => RepoKind::Dataset,
                    Some("space") => RepoKind::Space,
                    _ => RepoKind::Model,
                };
                let file_index = usize::from(last != "snapshot_download");
                let files = self
                    .kwarg(call, "filename")
                    .or_else(|| self.kwarg(call, "file_path"))
                    .or_else(|| {
                        (file_index == 1)
                            .then(|| self.positional(call, 1))
                            .flatten()
                    })
                    .and_then(|n| self.single(n))
                    .into_iter()
                    .collect();
                if let Some(endpoint) = self
                    .kwarg(call, "endpoint")
                    .and_then(|n| self.single(n).map(|s| (n, s)))
                {
                    self.endpoint(endpoint.0, &endpoint.1, "`endpoint=`", out);
                }
                self.fetches(
                    call,
                    hub,
                    &api,
                    0,
                    &["repo_id", "model_id"],
                    None,
                    files,
                    kind,
                    out,
                );
            }
            "SentenceTransformer" | "CrossEncoder" | "SparseEncoder" => {
                self.fetches(
                    call,
                    hub,
                    &api,
                    0,
                    &["model_name_or_path", "model_name"],
                    None,
                    Vec::new(),
                    RepoKind::Model,
                    out,
                );
            }
            "load_dataset" => {
                let path = self.id_arg(call, 0, &["path"]);
                if let Some(builder) = path.and_then(|n| self.single(n))
                    && DATASET_BUILDERS.contains(&builder.as_str())
                {
                    if builder == "pandas" {
                        out.hazards.push(Hazard {
                            kind: HazardKind::PickleLoad {
                                call: api.clone(),
                                why: "with the `pandas` builder unpickles its data files"
                                    .to_string(),
                            },
                            span: self.span(call),
                        });
                    }
                    return;
                }
                self.fetches(
                    call,
                    hub,
                    &api,
                    0,
                    &["path"],
                    None,
                    Vec::new(),
                    RepoKind::Dataset,
                    out,
                );
            }
            "create_model"
            | "create_model_and_transforms"
            | "create_model_from_pretrained"
            | "get_tokenizer"
            | "load_model"
            | "from_preset" => {
                // Only hub-prefixed names fetch: plain names resolve through a local registry.
                let Some(arg) = self.id_arg(call, 0, &["model_name", "filepath", "preset"]) else {
                    return;
                };
                let vals = self.resolve(arg, 0);
                if vals
                    .iter()
                    .any(|v| v.text.starts_with("hf-hub:") || v.text.starts_with("hf://"))
                {
                    let keras = matches!(last, "load_model" | "from_preset");
                    let revision = keras.then_some(Revision::Unpinnable);
                    self.fetches(
                        call,
                        hub,
                        &api,
                        0,
                        &["model_name", "filepath", "preset"],
                        revision,
                        Vec::new(),
                        RepoKind::Model,
                        out,
                    );
                }
            }
            "load" if qualified == "torch.hub.load" => self.torch_hub(call, &api, out),
            "load"
                if matches!(
                    qualified.as_str(),
                    "torch.load" | "torch.serialization.load"
                ) && !self.is_true(call, "weights_only") =>
            {
                out.hazards.push(Hazard {
                    kind: HazardKind::PickleLoad {
                        call: api.clone(),
                        why: "without `weights_only=True` unpickles the file, which runs any code it holds (torch < 2.6 defaults to False)".to_string(),
                    },
                    span: self.span(call),
                });
            }
            "LLM"
                if qualified.starts_with("vllm") || (qualified == "LLM" && self.mentions_vllm) =>
            {
                self.fetches(
                    call,
                    hub,
                    &api,
                    0,
                    &["model"],
                    None,
                    Vec::new(),
                    RepoKind::Model,
                    out,
                );
            }
            "read_pickle" | "load" | "loads" => {
                let pickler = matches!(
                    qualified.as_str(),
                    "pandas.read_pickle"
                        | "pickle.load"
                        | "pickle.loads"
                        | "joblib.load"
                        | "dill.load"
                ) || (qualified == "numpy.load"
                    && self.is_true(call, "allow_pickle"));
                if pickler
                    && let Some(arg) = self.positional(call, 0)
                    && self.is_fetched(arg)
                {
                    out.hazards.push(Hazard {
                        kind: HazardKind::PickleLoad {
                            call: api.clone(),
                            why: "unpickles a file downloaded from the hub, which runs any code it holds".to_string(),
                        },
                        span: self.span(call),
                    });
                }
            }
            "setdefault" | "putenv"
                if receiver.ends_with("environ") || qualified == "os.putenv" =>
            {
                if let (Some(key), Some(value)) =
                    (self.positional(call, 0), self.positional(call, 1))
                    && self.single(key).as_deref() == Some("HF_ENDPOINT")
                    && let Some(url) = self.single(value)
                {
                    self.endpoint(value, &url, "`HF_ENDPOINT`", out);
                }
            }
            _ => self.url_or_hf_path(call, &qualified, &api, out),
        }
    }

    /// Any other call given a hub location: an `hf://` path (pandas, fsspec, `HfFileSystem`),
    /// a `https://huggingface.co/.../resolve/...` URL, or a model file URL on another host
    /// passed to a downloader.
    fn url_or_hf_path(&self, call: Node<'m>, qualified: &str, api: &str, out: &mut Scanned) {
        let Some(arg) = self.positional(call, 0).or_else(|| self.kwarg(call, "url")) else {
            return;
        };
        let Some(value) = self.single(arg) else {
            return;
        };
        let lower = value.to_ascii_lowercase();
        let hub_url = [
            "https://huggingface.co/",
            "https://hf.co/",
            "http://huggingface.co/",
        ]
        .iter()
        .any(|p| lower.starts_with(p));
        if lower.starts_with("hf://") || hub_url {
            let norm = normalize(&value);
            let mut fetch = Fetch::new(
                Hub::HuggingFace,
                api,
                RepoId::Known(norm.id),
                self.span(arg),
            );
            fetch.kind = norm.kind.unwrap_or(if lower.starts_with("hf://datasets/") {
                RepoKind::Dataset
            } else {
                RepoKind::Model
            });
            fetch.revision = norm.revision.map_or(Revision::Absent, Revision::Literal);
            fetch.files = norm.file.into_iter().collect();
            fetch.weights_only = self.is_true(call, "weights_only");
            fetch.path_fallback = false;
            out.fetches.push(fetch);
            return;
        }
        if (lower.starts_with("https://") || lower.starts_with("http://"))
            && DOWNLOADERS.contains(&last_segment(qualified))
            && is_model_file(&lower)
        {
            self.endpoint(arg, &value, &format!("the download URL of `{api}`"), out);
            if super::is_pickle_file(lower.split(['?', '#']).next().unwrap_or("")) {
                out.hazards.push(Hazard {
                    kind: HazardKind::PickleLoad {
                        call: api.to_string(),
                        why: "downloads a pickle-based model file, which runs code when loaded"
                            .to_string(),
                    },
                    span: self.span(arg),
                });
            }
        }
    }

    /// Whether `arg` is an object loaded by another call (`pipeline("ner", model=model)` after
    /// `model = AutoModel.from_pretrained(...)`): that call is a fetch of its own.
    fn is_loaded_object(&self, arg: Node<'m>) -> bool {
        let loader = |node: Node<'m>| {
            node.kind_name() == "call"
                && node.field("function").is_some_and(|f| {
                    let name = last_segment(self.m.text(f));
                    name.starts_with("from_") || name.chars().next().is_some_and(char::is_uppercase)
                })
        };
        match arg.kind_name() {
            "call" => loader(arg),
            "identifier" => self
                .bindings
                .get(self.m.text(arg))
                .is_some_and(|values| values.iter().all(|v| loader(*v))),
            _ => false,
        }
    }

    /// Whether `arg` is a downloaded file: a download call, a name bound to one, or `open()` of one.
    fn is_fetched(&self, arg: Node<'m>) -> bool {
        // A loop, not recursion: `open(open(open(...)))` nested deeply must not overflow.
        let mut current = arg;
        loop {
            match current.kind_name() {
                "identifier" => return self.fetched.contains(self.m.text(current)),
                "call" => {
                    let Some(f) = current.field("function") else {
                        return false;
                    };
                    let name = last_segment(self.m.text(f));
                    if DOWNLOADERS.contains(&name) {
                        return true;
                    }
                    match self.positional(current, 0) {
                        Some(inner) if name == "open" => current = inner,
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
    }

    fn endpoint(&self, node: Node<'m>, url: &str, what: &str, out: &mut Scanned) {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| url.to_string());
        out.hazards.push(Hazard {
            kind: HazardKind::Endpoint {
                host,
                what: what.to_string(),
            },
            span: self.span(node),
        });
    }

    /// `os.environ["HF_ENDPOINT"] = "..."`.
    fn endpoint_assignments(&self, out: &mut Scanned) {
        for &node in &self.nodes {
            if node.kind_name() != "assignment" {
                continue;
            }
            let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
                continue;
            };
            if left.kind_name() == "subscript"
                && left
                    .field("subscript")
                    .and_then(|k| self.single(k))
                    .as_deref()
                    == Some("HF_ENDPOINT")
                && let Some(url) = self.single(right)
            {
                self.endpoint(right, &url, "`HF_ENDPOINT`", out);
            }
        }
    }

    fn torch_hub(&self, call: Node<'m>, api: &str, out: &mut Scanned) {
        let Some(arg) = self.id_arg(call, 0, &["repo_or_dir"]) else {
            return;
        };
        if self
            .kwarg(call, "source")
            .and_then(|n| self.single(n))
            .is_some_and(|s| s == "local")
        {
            return;
        }
        let span = self.span(arg);
        let vals = self.resolve(arg, 0);
        let ids: Vec<(RepoId, Revision)> = if vals.is_empty() {
            vec![(
                RepoId::Unknown {
                    written: self.m.text(arg).to_string(),
                },
                Revision::Dynamic,
            )]
        } else {
            vals.into_iter()
                .map(|v| {
                    let (id, rev) = match v.text.split_once(':') {
                        Some((id, rev)) => (id.to_string(), Revision::Literal(rev.to_string())),
                        None => (v.text.clone(), Revision::Absent),
                    };
                    (repo_id(&id, v.complete), rev)
                })
                .collect()
        };
        for (id, revision) in ids {
            let mut fetch = Fetch::new(Hub::TorchHub, api, id, span);
            fetch.revision = revision;
            fetch.skip_validation = self.is_true(call, "skip_validation");
            fetch.path_fallback = false;
            out.fetches.push(fetch);
        }
    }

    /// One [`Fetch`] per value the id argument may have.
    #[allow(clippy::too_many_arguments)]
    fn fetches(
        &self,
        call: Node<'m>,
        hub: Hub,
        api: &str,
        index: usize,
        names: &[&str],
        revision: Option<Revision>,
        files: Vec<String>,
        kind: RepoKind,
        out: &mut Scanned,
    ) {
        let Some(arg) = self.id_arg(call, index, names) else {
            return;
        };
        let base_revision = revision.unwrap_or_else(|| self.revision(call));
        let span = self.span(arg);
        let sentence = matches!(
            last_segment(api),
            "SentenceTransformer" | "CrossEncoder" | "SparseEncoder"
        );
        let vals = self.resolve(arg, 0);
        let mut ids: Vec<(RepoId, Revision, Vec<String>, RepoKind)> = Vec::new();
        if vals.is_empty() {
            if matches!(
                arg.kind_name(),
                "none" | "integer" | "float" | "true" | "false" | "dictionary"
            ) || self.is_loaded_object(arg)
            {
                return;
            }
            ids.push((
                RepoId::Unknown {
                    written: self.m.text(arg).to_string(),
                },
                base_revision.clone(),
                files.clone(),
                kind,
            ));
        }
        for val in vals {
            let mut norm = normalize(&val.text);
            if let Some(host) = &norm.foreign_host {
                out.hazards.push(Hazard {
                    kind: HazardKind::Endpoint {
                        host: host.clone(),
                        what: format!("the download URL of `{api}`"),
                    },
                    span,
                });
                continue;
            }
            if sentence && val.complete && !norm.id.contains('/') && !super::is_local_path(&norm.id)
            {
                norm.id = format!("sentence-transformers/{}", norm.id);
            }
            let revision = match (&norm.revision, &base_revision) {
                (_, Revision::Unpinnable) => Revision::Unpinnable,
                (Some(rev), _) => Revision::Literal(rev.clone()),
                (None, rev) => rev.clone(),
            };
            let mut all_files = files.clone();
            all_files.extend(norm.file.clone());
            ids.push((
                repo_id(&norm.id, val.complete),
                revision,
                all_files,
                norm.kind.unwrap_or(kind),
            ));
        }
        let code_revision_pinned = self
            .kwarg(call, "code_revision")
            .and_then(|n| self.single(n))
            .is_some_and(|r| super::is_full_commit(&r));
        let custom_pipeline = self
            .kwarg(call, "custom_pipeline")
            .map(|n| self.single(n).unwrap_or_else(|| self.m.text(n).to_string()));
        let via = (!matches!(arg.kind_name(), "string" | "concatenated_string")
            || self.m.string_value(arg).is_none())
        .then(|| compact(self.m.text(arg)));
        // Flags of the call, the same for every id it may load.
        let trust_remote_code = self.is_true(call, "trust_remote_code");
        let safetensors_disabled = self.is_false(call, "use_safetensors");
        let local_files_only = self.is_true(call, "local_files_only");
        let weights_only = self.is_true(call, "weights_only");
        for (id, revision, files, kind) in ids {
            let mut fetch = Fetch::new(hub, api, id, span);
            fetch.via = via.clone();
            fetch.kind = kind;
            fetch.revision = revision;
            fetch.files = files;
            fetch.trust_remote_code = trust_remote_code;
            fetch.code_revision_pinned = code_revision_pinned;
            fetch.custom_pipeline = custom_pipeline.clone();
            fetch.safetensors_disabled = safetensors_disabled;
            fetch.local_files_only = local_files_only;
            fetch.weights_only = weights_only;
            fetch.path_fallback = !matches!(
                last_segment(api),
                "hf_hub_download" | "snapshot_download" | "hf_hub_url"
            );
            out.fetches.push(fetch);
        }
    }
}

/// [`PyModule::import_aliases`] over nodes already listed: the same map, without walking the
/// tree again (`from m import a as b`: `b -> m.a`; `import a.b as c`: `c -> a.b`).
fn import_aliases(m: &PyModule<'_>, nodes: &[Node<'_>]) -> HashMap<String, String> {
    let import_name = |name: Node<'_>| match name.kind_name() {
        "aliased_import" => (
            name.field("name").map(|n| m.text(n).to_string()),
            name.field("alias").map(|n| m.text(n).to_string()),
        ),
        "dotted_name" => {
            let text = m.text(name).to_string();
            (Some(text.clone()), Some(text))
        }
        _ => (None, None),
    };
    let mut aliases = HashMap::new();
    for &node in nodes {
        match node.kind_name() {
            "import_from_statement" => {
                let Some(module) = node.field("module_name") else {
                    continue;
                };
                let module = m.text(module);
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    if let (Some(imported), Some(local)) = import_name(name) {
                        aliases.insert(local, format!("{module}.{imported}"));
                    }
                }
            }
            "import_statement" => {
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    if name.kind_name() == "aliased_import"
                        && let (Some(imported), Some(local)) = import_name(name)
                    {
                        aliases.insert(local, imported);
                    }
                }
            }
            _ => {}
        }
    }
    aliases
}

fn repo_id(id: &str, complete: bool) -> RepoId {
    if complete {
        return RepoId::Known(id.to_string());
    }
    let org = id
        .split_once('/')
        .map(|(org, _)| org)
        .filter(|org| !org.contains('{') && !org.is_empty())
        .map(str::to_string);
    RepoId::Partial {
        written: id.to_string(),
        org,
    }
}

/// An id with hub prefixes and URLs taken apart.
#[derive(Debug, Default, PartialEq, Eq)]
struct Normalized {
    id: String,
    revision: Option<String>,
    file: Option<String>,
    kind: Option<RepoKind>,
    /// A URL on a host that is not a hub.
    foreign_host: Option<String>,
}

fn normalize(raw: &str) -> Normalized {
    let mut out = Normalized::default();
    let mut rest = raw.trim();
    for prefix in ["hf-hub:", "hf://"] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
        }
    }
    if rest.starts_with("http://") || rest.starts_with("https://") {
        let Ok(url) = url::Url::parse(rest) else {
            out.id = rest.to_string();
            return out;
        };
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        if !matches!(
            host.as_str(),
            "huggingface.co" | "www.huggingface.co" | "hf.co"
        ) {
            out.foreign_host = Some(host);
            return out;
        }
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let mut segs = segments.as_slice();
        if let Some(first) = segs.first() {
            out.kind = match *first {
                "datasets" => Some(RepoKind::Dataset),
                "spaces" => Some(RepoKind::Space),
                _ => None,
            };
            if out.kind.is_some() {
                segs = &segs[1..];
            }
        }
        out.id = segs.iter().take(2).copied().collect::<Vec<_>>().join("/");
        if let [_, _, "resolve" | "blob" | "tree", rev, file @ ..] = segs {
            out.revision = Some((*rev).to_string());
            if !file.is_empty() {
                out.file = Some(file.join("/"));
            }
        }
        return out;
    }
    if let Some(r) = rest.strip_prefix("datasets/") {
        out.kind = Some(RepoKind::Dataset);
        rest = r;
    }
    // `hf://[datasets/]org/name[@rev]/path/in/repo`: the id is the first two segments.
    let (repo, file) = if raw.trim().starts_with("hf://") {
        let parts: Vec<&str> = rest.splitn(3, '/').collect();
        match parts.as_slice() {
            [org, name, file] => (format!("{org}/{name}"), Some((*file).to_string())),
            _ => (rest.to_string(), None),
        }
    } else {
        (rest.to_string(), None)
    };
    out.file = file;
    match repo.split_once('@') {
        Some((id, rev)) if !rev.is_empty() => {
            out.id = id.to_string();
            out.revision = Some(rev.to_string());
        }
        _ => out.id = repo,
    }
    out
}

/// Whether a URL or path names a model weights file.
fn is_model_file(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    super::is_pickle_file(path)
        || [".safetensors", ".gguf", ".onnx", ".h5", ".keras", ".tflite"]
            .iter()
            .any(|ext| path.ends_with(ext))
}

/// An expression on one line, shortened for a message.
fn compact(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn last_segment(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// `AutoModel.from_pretrained` for `transformers.AutoModel.from_pretrained`; the call as written,
/// without whitespace, shortened to its last two parts.
fn short_api(written: &str) -> String {
    let compact: String = written.chars().filter(|c| !c.is_whitespace()).collect();
    let parts: Vec<&str> = compact.rsplitn(3, '.').collect();
    match parts.as_slice() {
        [last, before, ..] => format!("{before}.{last}"),
        _ => compact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_takes_urls_and_prefixes_apart() {
        let n = normalize("https://huggingface.co/acme/m/resolve/main/model.bin");
        assert_eq!(n.id, "acme/m");
        assert_eq!(n.revision.as_deref(), Some("main"));
        assert_eq!(n.file.as_deref(), Some("model.bin"));
        let n = normalize("hf-hub:timm/vit@abc");
        assert_eq!(
            (n.id.as_str(), n.revision.as_deref()),
            ("timm/vit", Some("abc"))
        );
        let n = normalize("https://mirror.example/acme/m");
        assert_eq!(n.foreign_host.as_deref(), Some("mirror.example"));
        let n = normalize("https://hf.co/datasets/acme/d");
        assert_eq!((n.id.as_str(), n.kind), ("acme/d", Some(RepoKind::Dataset)));
    }

    #[test]
    fn names_bound_to_each_other_many_times_do_not_blow_up() {
        let mut source = String::from("from transformers import AutoModel\n");
        for _ in 0..200 {
            source.push_str("a = b if c else b\nb = a if c else a\n");
        }
        source.push_str("a = \"someone/m\"\nAutoModel.from_pretrained(a)\n");
        let started = std::time::Instant::now();
        let scanned = scan_source(&source, &|_| Span::default());
        assert!(started.elapsed().as_secs() < 5);
        assert_eq!(scanned.fetches.len(), 1);
    }

    #[test]
    fn deeply_nested_calls_do_not_overflow() {
        let depth = 20_000;
        let source = format!(
            "import pickle\npickle.load({}hf_hub_download(\"a/b\", \"x.pkl\"){})\n",
            "open(".repeat(depth),
            ")".repeat(depth)
        );
        let scanned = scan_source(&source, &|_| Span::default());
        assert_eq!(scanned.fetches.len(), 1);
        assert!(
            matches!(
                scanned.hazards.as_slice(),
                [Hazard {
                    kind: HazardKind::PickleLoad { .. },
                    ..
                }]
            ),
            "{:?}",
            scanned.hazards
        );
    }

    #[test]
    fn constants_resolve_across_forms() {
        let source = "from transformers import AutoModel\n\
            ORG = \"acme\"\n\
            NAME = f\"{ORG}/m\"\n\
            REV = \"main\"\n\
            kw = dict(revision=REV, trust_remote_code=True)\n\
            AutoModel.from_pretrained(NAME, **kw)\n";
        let scanned = scan_source(source, &|_| Span::default());
        let [fetch] = scanned.fetches.as_slice() else {
            panic!("{:?}", scanned.fetches);
        };
        assert_eq!(fetch.id, RepoId::Known("acme/m".to_string()));
        assert_eq!(fetch.revision, Revision::Literal("main".to_string()));
        assert!(fetch.trust_remote_code);
        assert_eq!(fetch.via.as_deref(), Some("NAME"));
    }

    #[test]
    fn import_aliases_over_listed_nodes_match_the_module_walk() {
        let source = "import torch.hub as th, os\nfrom transformers import AutoModel as AM, pipeline\n\
            from . import local as loc\nfrom a.b import (c as d,\n    e)\n\
            def f():\n    from torch import load as tl\n    import numpy as np\n\
            from transformers import pipeline as pipeline2\nimport x.y\n";
        let module = pyparse::parse(source).expect("parses");
        let nodes = module.descendants(module.root());
        let aliases = import_aliases(&module, &nodes);
        assert_eq!(aliases, module.import_aliases());
        assert_eq!(aliases.get("tl").map(String::as_str), Some("torch.load"));
        assert_eq!(aliases.get("th").map(String::as_str), Some("torch.hub"));
    }

    #[test]
    fn short_api_keeps_two_parts() {
        assert_eq!(
            short_api("transformers.AutoModel.from_pretrained"),
            "AutoModel.from_pretrained"
        );
        assert_eq!(short_api("pipeline"), "pipeline");
    }
}
