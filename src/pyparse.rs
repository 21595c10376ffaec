//! A thin layer over tree-sitter's Python grammar, for reading Python source without running it
//! (`setup.py`, and model downloads in scripts).
//!
//! tree-sitter is error tolerant: a file with a syntax error still gives a tree, with `ERROR`
//! and missing nodes where the text did not fit, so callers read what is readable and report
//! the first error. Byte offsets are the source's UTF-8 offsets, ready for
//! [`SourceFile::span`](crate::source::SourceFile::span).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use tree_sitter::{Language, Node, Parser, Tree};

use crate::deps::manifest_text::DecodedStr;

#[derive(Debug, thiserror::Error)]
pub enum PyParseError {
    #[error("the Python grammar could not be loaded: {0}")]
    Language(String),
    #[error("the Python parser gave up on this file")]
    Cancelled,
}

/// A parsed Python module and its source.
pub struct PyModule<'s> {
    source: &'s str,
    tree: Tree,
}

thread_local! {
    /// One parser per thread, reused: setting one up allocates its stacks and lexer each time.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `source` as Python. Syntax errors do not fail: see [`PyModule::first_syntax_error`].
pub fn parse(source: &str) -> Result<PyModule<'_>, PyParseError> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = match &mut *slot {
            Some(parser) => parser,
            empty => {
                let mut parser = Parser::new();
                parser
                    .set_language(&LANGUAGE)
                    .map_err(|err| PyParseError::Language(err.to_string()))?;
                empty.insert(parser)
            }
        };
        let tree = parser.parse(source, None);
        // A cancelled parse can leave state behind; the next file starts clean.
        if tree.is_none() {
            parser.reset();
        }
        let tree = tree.ok_or(PyParseError::Cancelled)?;
        Ok(PyModule { source, tree })
    })
}

static LANGUAGE: LazyLock<Language> = LazyLock::new(|| tree_sitter_python::LANGUAGE.into());

/// The Python grammar's field ids by name, looked up once: `child_by_field_name` compares the
/// name with every field name of the grammar on each call, a hot spot of the hub scanner.
static FIELD_IDS: LazyLock<HashMap<&'static str, u16, foldhash::fast::FixedState>> =
    LazyLock::new(|| {
        (1..=u16::try_from(LANGUAGE.field_count()).unwrap_or(u16::MAX))
            .filter_map(|id| Some((LANGUAGE.field_name_for_id(id)?, id)))
            .collect()
    });

/// The grammar's node kind names by id: `Node::kind` measures and UTF-8-checks the C string on
/// every call, and the scanner asks it of every node.
static KIND_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    (0..u16::try_from(LANGUAGE.node_kind_count()).unwrap_or(u16::MAX))
        .map(|id| LANGUAGE.node_kind_for_id(id).unwrap_or(""))
        .collect()
});

/// Cheaper [`Node`] lookups: fields by cached id, kinds from a table.
pub trait Field<'t> {
    /// [`Node::child_by_field_name`] through [`FIELD_IDS`].
    fn field(&self, name: &str) -> Option<Node<'t>>;
    /// [`Node::kind`] through [`KIND_NAMES`].
    fn kind_name(&self) -> &'t str;
}

impl<'t> Field<'t> for Node<'t> {
    fn field(&self, name: &str) -> Option<Node<'t>> {
        self.child_by_field_id(*FIELD_IDS.get(name)?)
    }

    fn kind_name(&self) -> &'t str {
        match KIND_NAMES.get(usize::from(self.kind_id())) {
            Some(name) if !name.is_empty() => name,
            // `ERROR` (id 65535) and anything else outside the table.
            _ => self.kind(),
        }
    }
}

impl<'s> PyModule<'s> {
    pub fn source(&self) -> &'s str {
        self.source
    }

    pub fn root(&self) -> Node<'_> {
        self.tree.root_node()
    }

    /// The source text of `node`.
    pub fn text(&self, node: Node<'_>) -> &'s str {
        self.source.get(node.byte_range()).unwrap_or("")
    }

    /// Every node below `node` (itself included), in document order. Iterative, so that a
    /// hostile file nesting brackets thousands deep cannot overflow the stack.
    pub fn descendants<'t>(&self, node: Node<'t>) -> Vec<Node<'t>> {
        let mut nodes = Vec::new();
        let mut cursor = node.walk();
        loop {
            nodes.push(cursor.node());
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.node() == node {
                    return nodes;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return nodes;
                }
            }
        }
    }

    /// Byte range of the first syntax error (an unparsable region or a missing token).
    pub fn first_syntax_error(&self) -> Option<Range<usize>> {
        let root = self.root();
        if !root.has_error() {
            return None;
        }
        self.descendants(root)
            .into_iter()
            .find(|n| n.is_error() || n.is_missing())
            .map(|n| n.byte_range())
    }

    /// Every `call` node, in document order.
    pub fn calls(&self) -> Vec<Node<'_>> {
        self.descendants(self.root())
            .into_iter()
            .filter(|n| n.kind_name() == "call")
            .collect()
    }

    /// `a.b.c` for an identifier or a chain of attribute accesses on one; `None` otherwise.
    /// Iterative: a hostile chain of a million attributes must not overflow the stack.
    pub fn dotted_name(&self, node: Node<'_>) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = node;
        loop {
            match current.kind_name() {
                "identifier" => {
                    parts.push(self.text(current));
                    break;
                }
                "attribute" => {
                    parts.push(self.text(current.field("attribute")?));
                    current = current.field("object")?;
                }
                _ => return None,
            }
        }
        parts.reverse();
        Some(parts.join("."))
    }

    /// Local names bound by imports, mapped to what they stand for:
    /// `from setuptools import setup as s` gives `s -> setuptools.setup`,
    /// `import numpy.distutils.core as c` gives `c -> numpy.distutils.core`.
    /// Plain `import a.b` binds `a` to itself and needs no entry.
    pub fn import_aliases(&self) -> HashMap<String, String> {
        let mut aliases = HashMap::new();
        for node in self.descendants(self.root()) {
            match node.kind_name() {
                "import_from_statement" => {
                    let Some(module) = node.field("module_name") else {
                        continue;
                    };
                    let module = self.text(module);
                    let mut cursor = node.walk();
                    for name in node.children_by_field_name("name", &mut cursor) {
                        let (imported, local) = self.import_name(name);
                        if let (Some(imported), Some(local)) = (imported, local) {
                            aliases.insert(local, format!("{module}.{imported}"));
                        }
                    }
                }
                "import_statement" => {
                    let mut cursor = node.walk();
                    for name in node.children_by_field_name("name", &mut cursor) {
                        if name.kind_name() == "aliased_import"
                            && let (Some(imported), Some(local)) = self.import_name(name)
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

    /// (imported dotted name, local name) of an import's `name` child.
    fn import_name(&self, name: Node<'_>) -> (Option<String>, Option<String>) {
        match name.kind_name() {
            "aliased_import" => (
                name.field("name").map(|n| self.text(n).to_string()),
                name.field("alias").map(|n| self.text(n).to_string()),
            ),
            "dotted_name" => {
                let text = self.text(name).to_string();
                (Some(text.clone()), Some(text))
            }
            _ => (None, None),
        }
    }

    /// The dotted name of `node` with its first part resolved through `aliases`
    /// (see [`PyModule::import_aliases`]).
    pub fn qualified_name(
        &self,
        node: Node<'_>,
        aliases: &HashMap<String, String>,
    ) -> Option<String> {
        let name = self.dotted_name(node)?;
        let (head, rest) = match name.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (name.as_str(), None),
        };
        Some(match (aliases.get(head), rest) {
            (Some(full), Some(rest)) => format!("{full}.{rest}"),
            (Some(full), None) => full.clone(),
            (None, _) => name,
        })
    }

    /// The value node of keyword argument `name=` in `call`.
    pub fn keyword_argument<'t>(&self, call: Node<'t>, name: &str) -> Option<Node<'t>> {
        self.arguments(call).into_iter().find_map(|arg| {
            let key = arg.field("name")?;
            (arg.kind_name() == "keyword_argument" && self.text(key) == name)
                .then(|| arg.field("value"))
                .flatten()
        })
    }

    /// The argument nodes of `call` (positional, `keyword_argument`, `list_splat`,
    /// `dictionary_splat`), comments left out.
    pub fn arguments<'t>(&self, call: Node<'t>) -> Vec<Node<'t>> {
        let Some(args) = call.field("arguments") else {
            return Vec::new();
        };
        let mut cursor = args.walk();
        args.named_children(&mut cursor)
            .filter(|n| n.kind_name() != "comment")
            .collect()
    }

    /// The value of a string literal (or of adjacent literals, `"a" "b"`), each byte mapped to
    /// the source bytes that wrote it. `None` for anything else, for f-strings that
    /// interpolate, and for bytes literals.
    pub fn string_value(&self, node: Node<'_>) -> Option<DecodedStr> {
        match node.kind_name() {
            "string" => self.single_string(node),
            "concatenated_string" => {
                let mut value = DecodedStr::new();
                let mut cursor = node.walk();
                for part in node.named_children(&mut cursor) {
                    if part.kind_name() == "comment" {
                        continue;
                    }
                    value.append(self.single_string(part)?);
                }
                Some(value)
            }
            "parenthesized_expression" => {
                // `(("x"))`: unwrapped in a loop, not by recursion, for the same reason.
                let mut current = node;
                while current.kind_name() == "parenthesized_expression" {
                    let mut cursor = current.walk();
                    let inner: Vec<Node<'_>> = current
                        .named_children(&mut cursor)
                        .filter(|n| n.kind_name() != "comment")
                        .collect();
                    let [only] = inner.as_slice() else {
                        return None;
                    };
                    current = *only;
                }
                matches!(current.kind_name(), "string" | "concatenated_string")
                    .then(|| self.string_value(current))
                    .flatten()
            }
            _ => None,
        }
    }

    fn single_string(&self, node: Node<'_>) -> Option<DecodedStr> {
        if node.kind_name() != "string" {
            return None;
        }
        let mut start = None;
        let mut end = None;
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            match child.kind_name() {
                "string_start" => start = Some(child),
                "string_end" => end = Some(child),
                "interpolation" => return None,
                _ => {}
            }
        }
        let (start, end) = (start?, end?);
        let opener = self.text(start);
        let prefix = opener.trim_end_matches(['"', '\'']).to_ascii_lowercase();
        if prefix.contains('b') {
            return None;
        }
        let body_range = start.end_byte()..end.start_byte();
        let body = self.source.get(body_range.clone())?;
        Some(decode_python_string(
            body,
            body_range.start,
            prefix.contains('r'),
            prefix.contains('f') || prefix.contains('t'),
        ))
    }
}

/// Decodes the body of a Python string literal written at byte `offset`.
fn decode_python_string(body: &str, offset: usize, raw: bool, format: bool) -> DecodedStr {
    let mut out = DecodedStr::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < body.len() {
        let c = body[i..].chars().next().unwrap_or('\u{fffd}');
        let len = c.len_utf8();
        if format && (c == '{' || c == '}') && body[i + len..].starts_with(c) {
            // `{{` and `}}` in an f-string stand for one brace.
            out.push(c, offset + i..offset + i + 2);
            i += 2;
            continue;
        }
        if raw || c != '\\' || i + 1 >= body.len() {
            out.push(c, offset + i..offset + i + len);
            i += len;
            continue;
        }
        let e = bytes[i + 1];
        let simple = match e {
            b'\\' => Some('\\'),
            b'\'' => Some('\''),
            b'"' => Some('"'),
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(value) = simple {
            out.push(value, offset + i..offset + i + 2);
            i += 2;
            continue;
        }
        match e {
            // Backslash-newline continues the literal on the next line.
            b'\n' => i += 2,
            b'\r' if bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'\r' => i += 2,
            b'x' | b'u' | b'U' => {
                let digits = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let mut end = (i + 2 + digits).min(body.len());
                // A malformed escape (`\xé`) must not leave us inside a character.
                while !body.is_char_boundary(end) {
                    end += 1;
                }
                let value = body
                    .get(i + 2..end)
                    .filter(|hex| hex.len() == digits && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(value, offset + i..offset + end);
                i = end;
            }
            b'0'..=b'7' => {
                let mut end = i + 1;
                while end < body.len() && end < i + 4 && (b'0'..=b'7').contains(&bytes[end]) {
                    end += 1;
                }
                let value = u32::from_str_radix(&body[i + 1..end], 8)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(value, offset + i..offset + end);
                i = end;
            }
            b'N' if bytes.get(i + 2) == Some(&b'{') => {
                // Named characters are not resolved: no package name contains one.
                let end = body[i..].find('}').map_or(body.len(), |j| i + j + 1);
                out.push('\u{fffd}', offset + i..offset + end);
                i = end;
            }
            _ => {
                // Unknown escapes keep their backslash, as in Python.
                out.push('\\', offset + i..offset + i + 1);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_string(source: &str) -> Option<DecodedStr> {
        let module = parse(source).unwrap();
        let node = module
            .descendants(module.root())
            .into_iter()
            .find(|n| matches!(n.kind_name(), "string" | "concatenated_string"))?;
        module.string_value(node)
    }

    #[test]
    fn decodes_literals_and_maps_them_back() {
        let s = first_string("x = 'numpy'\n").unwrap();
        assert_eq!(s.value, "numpy");
        assert_eq!(s.raw_range(0..5), Some(5..10));

        let s = first_string("x = \"nump\\u0443>=1\"").unwrap();
        assert_eq!(s.value, "nump\u{443}>=1");
        assert_eq!(s.raw_range(0..6), Some(5..15));

        let s = first_string("x = r'a\\nb'").unwrap();
        assert_eq!(s.value, "a\\nb");

        let s = first_string("x = ('torch'\n     '>=2')").unwrap();
        assert_eq!(s.value, "torch>=2");
        assert_eq!(s.raw_range(5..8), Some(19..22));

        let s = first_string("x = '''\nnumpy\n'''").unwrap();
        assert_eq!(s.value, "\nnumpy\n");

        let s = first_string("x = '\\x41\\101\\N{DASH}\\q'").unwrap();
        assert_eq!(s.value, "AA\u{fffd}\\q");

        let s = first_string("x = f'a{{b}}'").unwrap();
        assert_eq!(s.value, "a{b}");

        // Malformed escapes (a syntax error in Python) decode to a replacement character.
        let s = first_string("x = '\\xé1'").unwrap();
        assert_eq!(s.value, "\u{fffd}1");
        let s = first_string("x = '\\x1é'").unwrap();
        assert_eq!(s.value, "\u{fffd}");
        let s = first_string("x = '\\u12'").unwrap();
        assert_eq!(s.value, "\u{fffd}");
    }

    #[test]
    fn refuses_non_literals() {
        assert_eq!(first_string("x = f'{name}>=1'"), None);
        assert_eq!(first_string("x = b'numpy'"), None);
    }

    #[test]
    fn resolves_dotted_names_through_imports() {
        let source = "from setuptools import setup as s\nimport numpy.distutils.core as core\n\
                      import os\ns()\ncore.setup()\nos.path.join()\n";
        let module = parse(source).unwrap();
        let aliases = module.import_aliases();
        let names: Vec<String> = module
            .calls()
            .into_iter()
            .filter_map(|call| module.qualified_name(call.field("function")?, &aliases))
            .collect();
        assert_eq!(
            names,
            [
                "setuptools.setup",
                "numpy.distutils.core.setup",
                "os.path.join"
            ]
        );
    }

    #[test]
    fn finds_keyword_arguments() {
        let module = parse("f(1, key='v', **extra)  # c\n").unwrap();
        let call = module.calls()[0];
        let value = module.keyword_argument(call, "key").unwrap();
        assert_eq!(module.text(value), "'v'");
        assert!(module.keyword_argument(call, "other").is_none());
        assert_eq!(module.arguments(call).len(), 3);
    }

    #[test]
    fn reports_the_first_syntax_error_and_keeps_the_rest() {
        let module = parse("x = [1, 2\ndef f(:\n    pass\ny = 'ok'\n").unwrap();
        let error = module.first_syntax_error().expect("a syntax error");
        assert!(error.start < 20, "{error:?}");
        assert!(
            module
                .descendants(module.root())
                .iter()
                .any(|n| module.text(*n) == "'ok'")
        );
        assert_eq!(parse("x = 1\n").unwrap().first_syntax_error(), None);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let source = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        let module = parse(&source).unwrap();
        assert!(module.descendants(module.root()).len() > 5000);

        let chain = format!("a{}()\n", ".b".repeat(100_000));
        let module = parse(&chain).unwrap();
        let call = module.calls()[0];
        let name = module.dotted_name(call.field("function").unwrap()).unwrap();
        assert_eq!(name.len(), 1 + 2 * 100_000);

        let parens = format!(
            "x = {}'numpy'{}\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let module = parse(&parens).unwrap();
        let outer = module
            .descendants(module.root())
            .into_iter()
            .find(|n| n.kind_name() == "parenthesized_expression")
            .unwrap();
        assert_eq!(module.string_value(outer).unwrap().value, "numpy");
    }
}
