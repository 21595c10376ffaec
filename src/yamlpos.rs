//! YAML read with positions: a small node tree built from `yaml-rust2`'s event parser, where
//! every scalar keeps the byte offset it starts at and can map its value back to the file.
//!
//! `yaml-rust2` reports where a scalar starts but not where each character of its value came
//! from; block scalars strip indentation, folded and plain scalars join lines, quoted ones
//! unescape. [`Scalar::mapped`] aligns the parsed value with the raw text after that start:
//! characters that appear verbatim map to themselves, indentation and quotes are skipped,
//! `\`-escapes of double-quoted scalars map to the whole escape, and a folded line break (a space
//! in the value) maps to the break it replaced. Names inside a value therefore get their exact
//! line and column in the YAML file, whatever the scalar style.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::deps::cmd_text::MappedText;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    /// Byte offset in the text where the scalar starts (its quote or block indicator included).
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    /// Items and the byte offset the sequence starts at.
    Seq(Vec<Node>, usize),
    /// Key/value pairs in file order and the byte offset the mapping starts at.
    Map(Vec<(Node, Node)>, usize),
    /// `*alias` (not resolved), at this byte offset.
    Alias(usize),
}

impl Node {
    /// The value of key `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.value.as_str())
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match self {
            Node::Seq(items, _) => Some(items),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match self {
            Node::Map(entries, _) => entries,
            _ => &[],
        }
    }

    /// Byte offset where the node starts.
    pub fn offset(&self) -> usize {
        match self {
            Node::Scalar(s) => s.offset,
            Node::Seq(_, at) | Node::Map(_, at) | Node::Alias(at) => *at,
        }
    }
}

/// Malformed YAML: the parser's message and the byte offset it stopped at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

enum Frame {
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize),
}

/// Deeper nesting is refused: no workflow or environment file needs it, and the tree's users
/// recurse over it.
const MAX_DEPTH: usize = 256;

struct Builder<'t> {
    too_deep: Option<usize>,
    bytes: CharBytes<'t>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
}

/// Byte offsets of char indices (yaml-rust2 markers count chars). Pure ASCII needs no table;
/// otherwise the byte offset of every [`CHARS_PER_MARK`]th char is kept and the rest counted
/// from there, so the table is a small fraction of the text instead of eight bytes per char.
struct CharBytes<'t> {
    text: &'t str,
    /// Byte offset of char `k * CHARS_PER_MARK`; empty for ASCII text.
    marks: Vec<usize>,
}

const CHARS_PER_MARK: usize = 64;

impl<'t> CharBytes<'t> {
    fn new(text: &'t str) -> CharBytes<'t> {
        let marks = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(CHARS_PER_MARK)
                .map(|(i, _)| i)
                .collect()
        };
        CharBytes { text, marks }
    }

    /// The byte offset of char `index`, or the text length past the end.
    fn byte(&self, index: usize) -> usize {
        if self.marks.is_empty() {
            return index.min(self.text.len());
        }
        let Some(&mark) = self.marks.get(index / CHARS_PER_MARK) else {
            return self.text.len();
        };
        self.text[mark..]
            .char_indices()
            .nth(index % CHARS_PER_MARK)
            .map_or(self.text.len(), |(i, _)| mark + i)
    }
}

impl Builder<'_> {
    fn byte(&self, mark: Marker) -> usize {
        self.bytes.byte(mark.index())
    }

    fn insert(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = self.byte(mark);
        match event {
            Event::Scalar(value, style, _, _) => {
                self.insert(Node::Scalar(Scalar {
                    value,
                    style: ScalarStyle::of(style),
                    offset: at,
                }));
            }
            Event::Alias(_) => self.insert(Node::Alias(at)),
            Event::SequenceStart(..) | Event::MappingStart(..)
                if self.stack.len() >= MAX_DEPTH || self.too_deep.is_some() =>
            {
                self.too_deep.get_or_insert(at);
            }
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new(), at)),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Vec::new(), None, at)),
            _ if self.too_deep.is_some() => {}
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq(items, at)) => Node::Seq(items, at),
                    Some(Frame::Map(entries, _, at)) => Node::Map(entries, at),
                    None => return,
                };
                self.insert(node);
            }
            _ => {}
        }
    }
}

impl ScalarStyle {
    fn of(style: TScalarStyle) -> ScalarStyle {
        match style {
            TScalarStyle::Plain => ScalarStyle::Plain,
            TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            TScalarStyle::Literal => ScalarStyle::Literal,
            TScalarStyle::Folded => ScalarStyle::Folded,
        }
    }
}

/// One parser event, with the byte offset it is at: for readers that want a few values of a
/// large file without building its tree (a tree takes several times the file).
#[derive(Debug)]
pub enum Step {
    Scalar(Scalar),
    Alias,
    MapStart,
    SeqStart,
    /// The end of the innermost mapping or sequence.
    End,
}

/// Every event of `text` handed to `on_step` in order; malformed YAML is an `Err` after the
/// events before the error were handed on.
pub fn parse_steps(text: &str, on_step: &mut dyn FnMut(Step)) -> Result<(), YamlError> {
    struct Receiver<'t, 'f> {
        bytes: CharBytes<'t>,
        on_step: &'f mut dyn FnMut(Step),
    }
    impl MarkedEventReceiver for Receiver<'_, '_> {
        fn on_event(&mut self, event: Event, mark: Marker) {
            let step = match event {
                Event::Scalar(value, style, _, _) => Step::Scalar(Scalar {
                    value,
                    style: ScalarStyle::of(style),
                    offset: self.bytes.byte(mark.index()),
                }),
                Event::Alias(_) => Step::Alias,
                Event::MappingStart(..) => Step::MapStart,
                Event::SequenceStart(..) => Step::SeqStart,
                Event::MappingEnd | Event::SequenceEnd => Step::End,
                _ => return,
            };
            (self.on_step)(step);
        }
    }
    let mut receiver = Receiver {
        bytes: CharBytes::new(text),
        on_step,
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut receiver, true).map_err(|error| YamlError {
        message: error.info().to_string(),
        offset: receiver.bytes.byte(error.marker().index()),
    })
}

/// Every document of `text`.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder {
        too_deep: None,
        bytes: CharBytes::new(text),
        stack: Vec::new(),
        docs: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    match parser.load(&mut builder, true) {
        Ok(()) => match builder.too_deep {
            Some(offset) => Err(YamlError {
                message: format!("nested deeper than {MAX_DEPTH} levels"),
                offset,
            }),
            None => Ok(builder.docs),
        },
        Err(error) => Err(YamlError {
            message: error.info().to_string(),
            offset: builder.byte(*error.marker()),
        }),
    }
}

impl Scalar {
    /// The value, each byte mapped to where it is written in `text` (see the module docs).
    pub fn mapped(&self, text: &str) -> MappedText {
        let raw_bytes = text.as_bytes();
        let mut p = self.offset.min(text.len());
        // yaml-rust2 marks a block scalar at its first content character; should a marker ever
        // sit on the `|`/`>` indicator, skip the header (`|-`, `>2`, a comment) instead.
        // Content lines start after indentation only; a header follows `key:` or `- `.
        let line_start = text[..p].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        if matches!(self.style, ScalarStyle::Literal | ScalarStyle::Folded)
            && text[p..].starts_with(['|', '>'])
            && !text[line_start..p].trim().is_empty()
        {
            p = text[p..].find('\n').map_or(text.len(), |n| p + n + 1);
        }
        // The opening quote is not part of the value (a value may start with an escaped quote).
        let quote = match self.style {
            ScalarStyle::SingleQuoted => Some('\''),
            ScalarStyle::DoubleQuoted => Some('"'),
            _ => None,
        };
        if let Some(quote) = quote
            && text[p..].starts_with(quote)
        {
            p += 1;
        }
        let mut out = MappedText::new();
        for c in self.value.chars() {
            // Skip indentation, quotes and line breaks that are not part of the value.
            let mut q = p;
            let mut found = None;
            while q < text.len() {
                let r = text[q..].chars().next().unwrap_or(' ');
                // In double quotes a backslash always starts an escape, even `\\` for `\`.
                if r == c && !(r == '\\' && self.style == ScalarStyle::DoubleQuoted) {
                    found = Some(q..q + r.len_utf8());
                    break;
                }
                if r == '\\' && self.style == ScalarStyle::DoubleQuoted {
                    if let Some((decoded, len)) = yaml_escape(&text[q..])
                        && decoded == Some(c)
                    {
                        found = Some(q..q + len);
                        break;
                    }
                    // An escaped line break folds away: skip it.
                    if raw_bytes
                        .get(q + 1)
                        .is_some_and(|b| *b == b'\n' || *b == b'\r')
                    {
                        q += 2;
                        continue;
                    }
                    break;
                }
                if matches!(r, ' ' | '\t' | '\n' | '\r' | '\'' | '"') {
                    // A folded break is a space in the value: let it map to the break itself.
                    if c == ' ' && (r == '\n' || r == '\r') {
                        found = Some(q..q + 1);
                        break;
                    }
                    q += r.len_utf8();
                    continue;
                }
                break;
            }
            match found {
                Some(range) => {
                    p = range.end;
                    out.push_char(c, range);
                }
                // Not found verbatim (a tab escape, say): keep it at the current place.
                None => out.push_char(c, p..p),
            }
        }
        out
    }
}

/// The character a YAML double-quoted escape at the start of `s` stands for and its length;
/// `Some((None, len))` for escapes that do not decode to one known char.
fn yaml_escape(s: &str) -> Option<(Option<char>, usize)> {
    let mut chars = s.chars();
    chars.next()?;
    let e = chars.next()?;
    let simple = match e {
        '0' => Some('\0'),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        't' | '\t' => Some('\t'),
        'n' => Some('\n'),
        'v' => Some('\u{b}'),
        'f' => Some('\u{c}'),
        'r' => Some('\r'),
        'e' => Some('\u{1b}'),
        ' ' => Some(' '),
        '"' => Some('"'),
        '/' => Some('/'),
        '\\' => Some('\\'),
        'N' => Some('\u{85}'),
        '_' => Some('\u{a0}'),
        'L' => Some('\u{2028}'),
        'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((Some(c), 1 + e.len_utf8()));
    }
    let digits = match e {
        'x' => 2,
        'u' => 4,
        'U' => 8,
        _ => return None,
    };
    let hex = s.get(2..2 + digits)?;
    let code = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(code), 2 + digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(text: &str) -> (Scalar, MappedText) {
        let docs = parse(text).unwrap();
        let scalar = docs[0].get("run").unwrap().as_scalar().unwrap().clone();
        let mapped = scalar.mapped(text);
        (scalar, mapped)
    }

    fn at(mapped: &MappedText, needle: &str) -> usize {
        let i = mapped.as_str().find(needle).unwrap();
        mapped.origin(i..i + needle.len()).unwrap().start
    }

    #[test]
    fn every_scalar_style_maps_back() {
        let cases = [
            ("run: pip install numpy\n", "numpy"),
            ("run: 'pip install ''numpy'''\n", "numpy"),
            ("run: \"pip install \\\"numpy\\\"\"\n", "numpy"),
            ("run: |\n  echo hi\n  pip install numpy\n", "numpy"),
            ("run: |-\n    pip install \\\n      numpy\n", "numpy"),
            ("run: >\n  pip install\n  numpy\n", "numpy"),
            ("run: pip install\n  numpy\n", "numpy"),
            ("run: \"pip install\\n\\tnumpy\"\n", "numpy"),
            ("run: |2 # comment\n    pip install numpy\n", "numpy"),
            ("run: |\n  | a && pip install numpy\n", "numpy"),
            ("run: >-\n  > a && pip install numpy\n", "numpy"),
        ];
        for (text, needle) in cases {
            let (scalar, mapped) = run_of(text);
            assert_eq!(mapped.as_str(), scalar.value, "{text:?}");
            let start = at(&mapped, needle);
            assert_eq!(&text[start..start + needle.len()], needle, "{text:?}");
        }
    }

    #[test]
    fn char_indices_become_byte_offsets() {
        let text: String = (0..200)
            .map(|i| if i % 7 == 0 { 'é' } else { 'a' })
            .collect();
        let bytes = CharBytes::new(&text);
        let expected: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        for (index, byte) in expected.iter().enumerate() {
            assert_eq!(bytes.byte(index), *byte, "char {index}");
        }
        assert_eq!(bytes.byte(expected.len()), text.len());
        assert_eq!(bytes.byte(10_000), text.len());
        assert_eq!(CharBytes::new("abc").byte(2), 2);
        assert_eq!(CharBytes::new("abc").byte(9), 3);
    }

    #[test]
    fn builds_the_tree_and_reports_errors() {
        let docs = parse("a:\n  - x\n  - {b: c}\n---\nd: *e\n").err();
        assert!(docs.is_some(), "an undefined alias is an error");
        let docs = parse("a:\n  - x\n  - {b: c}\n").unwrap();
        let items = docs[0].get("a").unwrap().as_seq().unwrap();
        assert_eq!(items[0].as_str(), Some("x"));
        assert_eq!(items[1].get("b").unwrap().as_str(), Some("c"));
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.offset > 0, "{error:?}");
        let deep: String = (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let error = parse(&deep).unwrap_err();
        assert!(error.message.contains("deeper"), "{error:?}");
    }
}
