//! `setup.py`: read with a Python parser, never run.
//!
//! Finds `setup(...)` calls (`setuptools.setup`, `distutils.core.setup`, aliases from imports)
//! and reads `install_requires=`, `setup_requires=`, `tests_require=` and `extras_require=`
//! when their values are literal: lists, tuples or sets of strings (a string with one
//! requirement per line too), a dict of those for extras, `+` of such, `*spread` inside them,
//! and names bound to such literals (`REQUIRES = [...]`, `REQUIRES += [...]`,
//! `REQUIRES.append("x")`, `EXTRAS["gpu"] = [...]`), `**kwargs` from a dict literal or
//! `dict(...)`. A value computed at run time (read from a file, built by a function) is
//! skipped without a finding: it cannot be known without running the file, and the
//! requirements files such code reads are scanned on their own.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::Extracted;
use super::manifest_pep508::{push_requirement_lines, shorten};
use crate::finding::Finding;
use crate::pyparse::{self, PyModule};
use crate::rules;
use crate::source::SourceFile;

/// The keyword arguments of `setup()` that hold lists of requirements.
const LIST_KEYWORDS: &[&str] = &["install_requires", "setup_requires", "tests_require"];

/// How many names deep a value may be followed (`A = B`, `B = [...]`); also stops cycles.
const MAX_DEPTH: u32 = 8;

/// How many value nodes one file may make us visit, all `setup()` calls together.
const MAX_VISITS: u32 = 20_000;

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let module = match pyparse::parse(&file.text) {
        Ok(module) => module,
        Err(err) => {
            out.findings.push(Finding::at(
                &rules::PARSE_ERROR,
                file,
                file.span(0..0),
                file.rel_path.clone(),
                format!("setup.py could not be parsed: {err}"),
            ));
            return out;
        }
    };
    if let Some(error) = module.first_syntax_error() {
        out.findings.push(Finding::at(
            &rules::PARSE_ERROR,
            file,
            file.span(error),
            file.rel_path.clone(),
            "Python syntax error: the dependencies of the statement it breaks may be missed; the \
             rest of setup.py was read",
        ));
    }
    let reader = Reader::new(&module);
    for call in module.calls() {
        if reader.is_setup_call(call) {
            reader.read_setup_call(call, &mut out, file);
        }
    }
    // A list passed twice (`install_requires=REQS, tests_require=REQS`) is one declaration.
    out.deps.sort_by_key(|dep| dep.span);
    out.deps.dedup();
    let mut seen = HashSet::new();
    out.findings.retain(|f| seen.insert(f.span()));
    out.findings.sort_by_key(|finding| finding.span());
    out
}

/// Reads the literal values of `setup()` arguments in one parsed module.
struct Reader<'m, 's> {
    module: &'m PyModule<'s>,
    aliases: HashMap<String, String>,
    /// Every statement that binds or extends a name, by name, in document order.
    bindings: HashMap<String, Vec<Binding<'m>>>,
    /// Value nodes still allowed to be visited. Names bound many times and used many times
    /// (`A = B + B`, `B = C + C`, ...) would otherwise cost exponential time.
    budget: Cell<u32>,
}

#[derive(Clone, Copy)]
enum BindingKind {
    /// `NAME = value`, `NAME += value`, `NAME.extend(value)`: the value holds items.
    Items,
    /// `NAME.append(value)`: the value is one item.
    Item,
    /// `NAME["key"] = value`: one entry of a dict.
    Entry,
}

/// Where a statement or call is: its bytes and its enclosing function (by node id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Site {
    start: usize,
    end: usize,
    scope: Option<usize>,
}

impl Site {
    fn of(node: Node<'_>) -> Site {
        Site {
            start: node.start_byte(),
            end: node.end_byte(),
            scope: enclosing_function(node).map(|f| f.id()),
        }
    }
}

#[derive(Clone, Copy)]
struct Binding<'t> {
    kind: BindingKind,
    /// Where the binding statement is.
    site: Site,
    /// The subscript key for `Entry`.
    key: Option<Node<'t>>,
    value: Node<'t>,
}

impl<'m, 's> Reader<'m, 's> {
    fn new(module: &'m PyModule<'s>) -> Self {
        let mut bindings: HashMap<String, Vec<Binding<'m>>> = HashMap::new();
        for node in module.descendants(module.root()) {
            let found = match node.kind() {
                "assignment" | "augmented_assignment" => assignment(module, node),
                "call" => method_binding(module, node),
                _ => None,
            };
            if let Some((name, binding)) = found {
                bindings.entry(name).or_default().push(binding);
            }
        }
        Reader {
            module,
            aliases: module.import_aliases(),
            bindings,
            budget: Cell::new(MAX_VISITS),
        }
    }

    fn is_setup_call(&self, call: Node<'_>) -> bool {
        let Some(function) = call.child_by_field_name("function") else {
            return false;
        };
        let Some(name) = self.module.qualified_name(function, &self.aliases) else {
            return false;
        };
        match name.rsplit_once('.') {
            None => name == "setup",
            Some((module, last)) => {
                last == "setup"
                    && ["setuptools", "distutils", "skbuild", "numpy"]
                        .iter()
                        .any(|root| module == *root || module.starts_with(&format!("{root}.")))
            }
        }
    }

    fn read_setup_call(&self, call: Node<'m>, out: &mut Extracted, file: &SourceFile) {
        let at = Site::of(call);
        for arg in self.module.arguments(call) {
            match arg.kind() {
                "keyword_argument" => {
                    let (Some(name), Some(value)) = (
                        arg.child_by_field_name("name"),
                        arg.child_by_field_name("value"),
                    ) else {
                        continue;
                    };
                    self.read_keyword(self.module.text(name), value, at, out, file);
                }
                "dictionary_splat" => {
                    let Some(inner) = arg.named_child(0) else {
                        continue;
                    };
                    for (key, value) in self.dict_entries(inner, at, 0) {
                        if let Some(key) = self.module.string_value(key) {
                            self.read_keyword(&key.value, value, at, out, file);
                        } else if key.kind() == "identifier" {
                            // `dict(install_requires=...)` keys are identifiers.
                            self.read_keyword(self.module.text(key), value, at, out, file);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn read_keyword(
        &self,
        keyword: &str,
        value: Node<'m>,
        at: Site,
        out: &mut Extracted,
        file: &SourceFile,
    ) {
        if LIST_KEYWORDS.contains(&keyword) {
            let place = format!("setup() {keyword}");
            self.read_strings(value, at, &place, out, file);
        } else if keyword == "extras_require" {
            for (key, value) in self.dict_entries(value, at, 0) {
                let extra = self
                    .module
                    .string_value(key)
                    .map_or_else(|| self.module.text(key).to_string(), |s| s.value);
                let place = format!("setup() extras_require[{}]", shorten(&extra, 40));
                self.read_strings(value, at, &place, out, file);
            }
        }
    }

    fn read_strings(
        &self,
        value: Node<'m>,
        at: Site,
        place: &str,
        out: &mut Extracted,
        file: &SourceFile,
    ) {
        let mut strings = self.strings(value, at, 0);
        // A literal reached along several paths (`A = B + B`) is one declaration.
        strings.sort_by_key(|node| node.start_byte());
        strings.dedup();
        for string in strings {
            if let Some(text) = self.module.string_value(string) {
                push_requirement_lines(out, file, &text, place);
            }
        }
    }

    /// The string literals a requirements value is made of, as far as it is literal.
    fn strings(&self, node: Node<'m>, at: Site, depth: u32) -> Vec<Node<'m>> {
        if depth > MAX_DEPTH || !self.spend() {
            return Vec::new();
        }
        match node.kind() {
            "string" | "concatenated_string" => vec![node],
            "list" | "tuple" | "set" | "expression_list" => named_children(node)
                .into_iter()
                .flat_map(|item| self.strings(item, at, depth + 1))
                .collect(),
            "list_splat" | "parenthesized_list_splat" | "parenthesized_expression" => {
                named_children(node)
                    .into_iter()
                    .flat_map(|inner| self.strings(inner, at, depth + 1))
                    .collect()
            }
            "binary_operator" if self.operator(node) == Some("+") => ["left", "right"]
                .iter()
                .filter_map(|field| node.child_by_field_name(field))
                .flat_map(|side| self.strings(side, at, depth + 1))
                .collect(),
            "identifier" => {
                let name = self.module.text(node);
                self.visible_bindings(name, at)
                    .into_iter()
                    .flat_map(|binding| match binding.kind {
                        BindingKind::Items | BindingKind::Item => {
                            self.strings(binding.value, binding.site, depth + 1)
                        }
                        BindingKind::Entry => Vec::new(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The (key, value) entries of a dict value: `{...}` literal, `dict(k=v, ...)`, `**`
    /// merges, and a name bound to such (with `NAME["k"] = v` entries added).
    fn dict_entries(&self, node: Node<'m>, at: Site, depth: u32) -> Vec<(Node<'m>, Node<'m>)> {
        if depth > MAX_DEPTH || !self.spend() {
            return Vec::new();
        }
        match node.kind() {
            "dictionary" => named_children(node)
                .into_iter()
                .flat_map(|item| match item.kind() {
                    "pair" => match (
                        item.child_by_field_name("key"),
                        item.child_by_field_name("value"),
                    ) {
                        (Some(key), Some(value)) => vec![(key, value)],
                        _ => Vec::new(),
                    },
                    "dictionary_splat" => item
                        .named_child(0)
                        .map(|inner| self.dict_entries(inner, at, depth + 1))
                        .unwrap_or_default(),
                    _ => Vec::new(),
                })
                .collect(),
            "call" => {
                let function = node.child_by_field_name("function");
                if function.map(|f| self.module.text(f)) != Some("dict") {
                    return Vec::new();
                }
                self.module
                    .arguments(node)
                    .into_iter()
                    .flat_map(|arg| match arg.kind() {
                        "keyword_argument" => match (
                            arg.child_by_field_name("name"),
                            arg.child_by_field_name("value"),
                        ) {
                            (Some(key), Some(value)) => vec![(key, value)],
                            _ => Vec::new(),
                        },
                        "dictionary" | "identifier" => self.dict_entries(arg, at, depth + 1),
                        "dictionary_splat" => arg
                            .named_child(0)
                            .map(|inner| self.dict_entries(inner, at, depth + 1))
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    })
                    .collect()
            }
            "parenthesized_expression" => named_children(node)
                .into_iter()
                .flat_map(|inner| self.dict_entries(inner, at, depth + 1))
                .collect(),
            "identifier" => {
                let name = self.module.text(node);
                self.visible_bindings(name, at)
                    .into_iter()
                    .flat_map(|binding| match (binding.kind, binding.key) {
                        (BindingKind::Entry, Some(key)) => vec![(key, binding.value)],
                        (BindingKind::Items, _) => {
                            self.dict_entries(binding.value, binding.site, depth + 1)
                        }
                        _ => Vec::new(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The bindings of `name` that can reach a use at `at`: every one before it in the same
    /// function (or at module level), and every module-level one when `at` is inside a
    /// function (which runs after the module body). All of them count, not only the last:
    /// branches (`if sys.platform == ...`) may each bind a list, and any may be installed.
    fn visible_bindings(&self, name: &str, at: Site) -> Vec<Binding<'m>> {
        let Some(all) = self.bindings.get(name) else {
            return Vec::new();
        };
        all.iter()
            .filter(|b| {
                if b.site.scope == at.scope {
                    b.site.end <= at.start
                } else {
                    b.site.scope.is_none() && at.scope.is_some()
                }
            })
            .copied()
            .collect()
    }

    /// Takes one visit from the budget; `false` once it is spent.
    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    fn operator(&self, node: Node<'_>) -> Option<&'s str> {
        node.child_by_field_name("operator")
            .map(|op| self.module.text(op))
    }
}

/// `NAME = value`, `NAME += value`, `NAME["key"] = value`.
fn assignment<'t>(module: &PyModule<'_>, node: Node<'t>) -> Option<(String, Binding<'t>)> {
    let left = node.child_by_field_name("left")?;
    let value = node.child_by_field_name("right")?;
    if node.kind() == "augmented_assignment" {
        let operator = node.child_by_field_name("operator")?;
        if module.text(operator) != "+=" || left.kind() != "identifier" {
            return None;
        }
    }
    let site = Site::of(node);
    match left.kind() {
        "identifier" => Some((
            module.text(left).to_string(),
            Binding {
                kind: BindingKind::Items,
                site,
                key: None,
                value,
            },
        )),
        "subscript" => {
            let target = left.child_by_field_name("value")?;
            let key = left.child_by_field_name("subscript")?;
            (target.kind() == "identifier").then(|| {
                (
                    module.text(target).to_string(),
                    Binding {
                        kind: BindingKind::Entry,
                        site,
                        key: Some(key),
                        value,
                    },
                )
            })
        }
        _ => None,
    }
}

/// `NAME.append(value)` and `NAME.extend(value)`.
fn method_binding<'t>(module: &PyModule<'_>, call: Node<'t>) -> Option<(String, Binding<'t>)> {
    let function = call.child_by_field_name("function")?;
    if function.kind() != "attribute" {
        return None;
    }
    let object = function.child_by_field_name("object")?;
    let method = module.text(function.child_by_field_name("attribute")?);
    let kind = match method {
        "append" => BindingKind::Item,
        "extend" => BindingKind::Items,
        _ => return None,
    };
    let args = module.arguments(call);
    let [value] = args.as_slice() else {
        return None;
    };
    (object.kind() == "identifier").then(|| {
        (
            module.text(object).to_string(),
            Binding {
                kind,
                site: Site::of(call),
                key: None,
                value: *value,
            },
        )
    })
}

fn enclosing_function(node: Node<'_>) -> Option<Node<'_>> {
    let mut current = node.parent();
    while let Some(n) = current {
        if matches!(n.kind(), "function_definition" | "lambda") {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}
