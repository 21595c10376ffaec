//! Which parts of a Python file the hub scanner needs to parse.
//!
//! Most of a file that names a loader is code that cannot fetch anything, and parsing it is most
//! of the scanner's cost. A cheap lexical pass splits the file into top-level statements
//! (tracking brackets, strings, f-string fields and line continuations) and keeps:
//!
//! - the statements that contain a needle (the words without which nothing is fetched);
//! - every statement that uses a name bound by a kept statement of that kind, transitively
//!   (`URL = "hf://..."` far from `pd.read_parquet(URL)`; `from torch import load as L`);
//! - every statement that binds a name a kept statement uses, transitively: assignments,
//!   default arguments, imports, `add_argument("--model-name")` and `dest=`, because the resolver
//!   follows those bindings wherever they are in the file.
//!
//! Bindings are found lexically and over-approximated (`name =`, `name:`, every name after
//! `import`), so a statement is never left out because it binds in an unusual way. The rest of the
//! file is blanked to spaces (line breaks kept), so byte offsets, and with them every span, stay
//! those of the original file. Whenever the lexer is unsure (an unterminated string, unbalanced
//! brackets, an indented first statement) or keeps most of the file anyway, the caller parses
//! the whole file; it also does when the focused parse has a syntax error.
//!
//! The assumption is the prefilter's, applied per statement: a fetch needs a needle in its own
//! statement or in one it is connected to through names.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use foldhash::fast::RandomState;

use super::python::NEEDLES;

/// One automaton for every needle: a single pass over the text instead of one per needle.
/// Leftmost-first, because only that match kind uses the SIMD prefilter (three times faster
/// here than the standard kind); overlapping needles share a line, so none is missed that matters.
// The needles are a fixed list of short literals, and the unit tests build the automaton.
static NEEDLE_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(NEEDLES)
        .unwrap_or_else(|err| panic!("hub needle automaton: {err}"))
});

/// Whether `text` contains any needle.
pub fn has_needle(text: &str) -> bool {
    NEEDLE_FINDER.is_match(text)
}

/// Above this share of the file kept, the whole file is parsed: blanking would save little.
const MAX_KEPT_SHARE: f64 = 0.6;

/// The statements of a file the scanner needs, one after the other, and where each came from.
#[derive(Debug)]
pub struct Focused {
    /// The kept statements, concatenated: whole lines, in file order.
    pub text: String,
    /// `(offset in text, offset in the file)` of each run of kept statements.
    pieces: Vec<(usize, usize)>,
}

impl Focused {
    /// The file range of `range` in [`Focused::text`]. A range never crosses two statements,
    /// except the whole module's, which is mapped by its ends.
    pub fn original(&self, range: Range<usize>) -> Range<usize> {
        let map = |at: usize, last_byte: bool| {
            let probe = if last_byte { at.saturating_sub(1) } else { at };
            let i = self.pieces.partition_point(|&(start, _)| start <= probe);
            let (text_start, file_start) = self.pieces[i.saturating_sub(1)];
            file_start + (at - text_start)
        };
        let start = map(range.start, false);
        let end = if range.end > range.start {
            map(range.end, true)
        } else {
            start
        };
        start..end
    }
}

/// The top-level statements of `source` the scanner needs, or `None` when the whole file
/// should be parsed (nothing to gain, or the lexer is unsure). Parsing only those statements,
/// rather than blanking the others, spares the parser from lexing what was left out.
pub fn focus(source: &str) -> Option<Focused> {
    let hits: Vec<usize> = NEEDLE_FINDER.find_iter(source).map(|m| m.start()).collect();
    if hits.is_empty() {
        // No needle: the caller's prefilter already skips such text; parse it whole if asked.
        return None;
    }
    // Python rejects control characters outside strings, and tree-sitter's recovery from them
    // differs from what the splitter assumes: such text is parsed whole (found by fuzzing).
    if source
        .bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | b'\x0c'))
    {
        return None;
    }
    let split = split(source)?;
    let kept = select(&split, &hits)?;
    let chunks = &split.chunks;
    let kept_bytes: usize = chunks
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c.end - c.start)
        .sum();
    // Nothing kept (the needles only in text the splitter set aside) leaves no statement to map
    // positions through: the whole file decides.
    if kept_bytes == 0 || kept_bytes as f64 > MAX_KEPT_SHARE * source.len() as f64 {
        return None;
    }
    let mut out = Focused {
        text: String::with_capacity(kept_bytes),
        pieces: Vec::new(),
    };
    let mut previous_end = usize::MAX;
    for (chunk, _) in chunks.iter().zip(&kept).filter(|(_, k)| **k) {
        if chunk.start != previous_end {
            out.pieces.push((out.text.len(), chunk.start));
        }
        // Chunks start and end at line starts, so they are whole characters.
        out.text.push_str(source.get(chunk.start..chunk.end)?);
        previous_end = chunk.end;
    }
    Some(out)
}

/// A top-level statement (with the blank and comment lines after it).
#[derive(Debug, Default)]
struct Chunk {
    start: usize,
    end: usize,
    /// Where its names and binds start in [`Split`]'s lists (they end where the next
    /// chunk's start).
    names_at: usize,
    binds_at: usize,
}

/// A file's top-level statements, with the names each holds in flat lists.
#[derive(Debug, Default)]
struct Split<'s> {
    chunks: Vec<Chunk>,
    /// Every identifier, bound or used.
    names: Vec<&'s str>,
    /// Names that may be bound (a superset); `--model-name` becomes `model_name`.
    binds: Vec<Cow<'s, str>>,
}

impl<'s> Split<'s> {
    fn names(&self, i: usize) -> &[&'s str] {
        let end = self
            .chunks
            .get(i + 1)
            .map_or(self.names.len(), |c| c.names_at);
        &self.names[self.chunks[i].names_at..end]
    }

    fn binds(&self, i: usize) -> &[Cow<'s, str>] {
        let end = self
            .chunks
            .get(i + 1)
            .map_or(self.binds.len(), |c| c.binds_at);
        &self.binds[self.chunks[i].binds_at..end]
    }
}

/// Passes over the file for taint to settle; a longer chain of names is parsed whole.
const MAX_TAINT_PASSES: usize = 6;

/// Which chunks to keep: needle chunks and what uses their names (tainted), then everything the
/// kept chunks' names may be bound by. `None` when taint did not settle.
fn select(split: &Split<'_>, hits: &[usize]) -> Option<Vec<bool>> {
    let chunks = &split.chunks;
    let mut tainted = vec![false; chunks.len()];
    // foldhash: short names, many lookups; randomly seeded, so a hostile file cannot aim
    // collisions at it.
    let mut bound: HashSet<&str, RandomState> = HashSet::default();
    let mut hit = hits.iter().peekable();
    for (i, chunk) in chunks.iter().enumerate() {
        while hit.next_if(|&&h| h < chunk.start).is_some() {}
        if hit.peek().is_some_and(|&&h| h < chunk.end) {
            tainted[i] = true;
            bound.extend(split.binds(i).iter().map(|b| b.as_ref()));
        }
    }
    // Taint flows from a statement to the statements that use the names it binds.
    let mut passes = 0;
    loop {
        let mut grew = false;
        for (i, taint) in tainted.iter_mut().enumerate() {
            if !*taint && split.names(i).iter().any(|n| bound.contains(n)) {
                *taint = true;
                bound.extend(split.binds(i).iter().map(|b| b.as_ref()));
                grew = true;
            }
        }
        if !grew {
            break;
        }
        passes += 1;
        if passes == MAX_TAINT_PASSES {
            return None;
        }
    }
    // The resolver then follows every name of a kept statement to all of its bindings.
    // Each chunk once per name it binds, and each name followed once: a name bound and used
    // thousands of times (one huge statement, or many) must not cost uses times bindings.
    let mut binders: HashMap<&str, Vec<usize>, RandomState> =
        HashMap::with_capacity_and_hasher(split.binds.len(), RandomState::default());
    for i in 0..chunks.len() {
        for bind in split.binds(i) {
            let chunks_binding = binders.entry(bind.as_ref()).or_default();
            if chunks_binding.last() != Some(&i) {
                chunks_binding.push(i);
            }
        }
    }
    let mut followed: HashSet<&str, RandomState> = HashSet::default();
    let mut kept = tainted;
    let mut queue: Vec<usize> = (0..chunks.len()).filter(|&i| kept[i]).collect();
    while let Some(i) = queue.pop() {
        for &name in split.names(i) {
            if !followed.insert(name) {
                continue;
            }
            for &binder in binders.get(name).into_iter().flatten() {
                if !kept[binder] {
                    kept[binder] = true;
                    queue.push(binder);
                }
            }
        }
    }
    Some(kept)
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Code; `field` when it is an f-string replacement field (ends at its `}`).
    Code { depth: u32, field: bool },
    Str {
        quote: u8,
        triple: bool,
        interpolated: bool,
    },
    /// An f-string format spec after `:`: text until `}`, with nested `{fields}`.
    Spec,
}

/// Python's hard keywords: never names.
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "False"
            | "None"
            | "True"
            | "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
    )
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The top-level statements of `source`, or `None` if it cannot be split with confidence.
fn split(source: &str) -> Option<Split<'_>> {
    let bytes = source.as_bytes();
    // Sized from the text (about one name per 8 bytes, a statement per 40 lines' worth of
    // bytes): growing these lists one doubling at a time was a visible share of the splitter.
    let mut out = Split {
        chunks: Vec::with_capacity(source.len() / 40),
        names: Vec::with_capacity(source.len() / 8),
        binds: Vec::with_capacity(source.len() / 64),
    };
    let mut stack = vec![Mode::Code {
        depth: 0,
        field: false,
    }];
    // At the start of a logical line, before its first token.
    let mut line_start = true;
    let mut physical_start = 0;
    let mut after_decorator = false;
    let mut decorator_line = false;
    let mut import_line = false;
    // The two previous tokens, for `dest="name"`.
    let mut prev_dest = false;
    let mut prev_eq = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let top = *stack.last()?;
        match top {
            Mode::Code { depth, field } => {
                let logical_top = stack.len() == 1 && depth == 0;
                if line_start && logical_top {
                    match b {
                        b' ' | b'\t' | b'\x0c' => {
                            i += 1;
                            continue;
                        }
                        b'\n' | b'\r' => {
                            i += 1;
                            physical_start = i;
                            continue;
                        }
                        b'#' => {
                            i = line_end(bytes, i);
                            continue;
                        }
                        _ => {}
                    }
                    line_start = false;
                    if i == physical_start {
                        let word = word_at(bytes, i);
                        let continues = after_decorator
                            || matches!(word, "else" | "elif" | "except" | "finally");
                        if !continues {
                            if let Some(last) = out.chunks.last_mut() {
                                last.end = i;
                            }
                            out.chunks.push(Chunk {
                                start: i,
                                end: i,
                                names_at: out.names.len(),
                                binds_at: out.binds.len(),
                            });
                        }
                        decorator_line = b == b'@';
                    } else if out.chunks.is_empty() {
                        // An indented first statement is a syntax error: parse the whole file.
                        return None;
                    }
                }
                if out.chunks.is_empty() {
                    return None;
                }
                match b {
                    b'\n' | b'\r' => {
                        i += 1;
                        if b == b'\r' && bytes.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                        if logical_top {
                            line_start = true;
                            physical_start = i;
                            after_decorator = decorator_line;
                            decorator_line = false;
                            import_line = false;
                        }
                        continue;
                    }
                    b'#' => {
                        i = line_end(bytes, i);
                        continue;
                    }
                    b'\\' => {
                        // A line continuation; anything else after a backslash is an error.
                        match bytes.get(i + 1) {
                            Some(b'\n') => i += 2,
                            Some(b'\r') if bytes.get(i + 2) == Some(&b'\n') => i += 3,
                            Some(b'\r') => i += 2,
                            _ => return None,
                        }
                        continue;
                    }
                    b'\'' | b'"' => {
                        let (mode, len) = string_start(bytes, i, false);
                        stack.push(mode);
                        i += len;
                        continue;
                    }
                    b'(' | b'[' | b'{' => {
                        set_depth(&mut stack, depth + 1, field);
                        prev_dest = false;
                        prev_eq = false;
                    }
                    b')' | b']' | b'}' => {
                        if depth == 0 {
                            if field && b == b'}' {
                                stack.pop();
                            } else {
                                return None;
                            }
                        } else {
                            set_depth(&mut stack, depth - 1, field);
                        }
                        prev_dest = false;
                        prev_eq = false;
                    }
                    b':' if field && depth == 0 && bytes.get(i + 1) != Some(&b'=') => {
                        *stack.last_mut()? = Mode::Spec;
                    }
                    b'0'..=b'9' => {
                        while i < bytes.len() && (is_name_byte(bytes[i]) || bytes[i] == b'.') {
                            i += 1;
                        }
                        prev_dest = false;
                        prev_eq = false;
                        continue;
                    }
                    _ if is_name_byte(b) => {
                        let start = i;
                        while i < bytes.len() && is_name_byte(bytes[i]) {
                            i += 1;
                        }
                        let word = &source[start..i];
                        if matches!(bytes.get(i), Some(b'\'' | b'"'))
                            && word.len() <= 2
                            && word.bytes().all(|c| b"rbfuRBFUtT".contains(&c))
                        {
                            let interpolated = word.bytes().any(|c| b"fFtT".contains(&c));
                            let (mode, len) = string_start(bytes, i, interpolated);
                            stack.push(mode);
                            i += len;
                            continue;
                        }
                        if is_keyword(word) {
                            if word == "import" {
                                import_line = true;
                            }
                            prev_dest = false;
                            prev_eq = false;
                            continue;
                        }
                        out.names.push(word);
                        if import_line || binds_next(bytes, i) {
                            out.binds.push(Cow::Borrowed(word));
                        }
                        prev_dest = word == "dest";
                        prev_eq = false;
                        continue;
                    }
                    b'=' => {
                        prev_eq = prev_dest && bytes.get(i + 1) != Some(&b'=');
                        prev_dest = false;
                        i += 1;
                        continue;
                    }
                    _ => {
                        if !b.is_ascii_whitespace() {
                            prev_dest = false;
                            prev_eq = false;
                        }
                    }
                }
                i += 1;
            }
            Mode::Str {
                quote,
                triple,
                interpolated,
            } => {
                let start = i;
                loop {
                    let Some(&c) = bytes.get(i) else {
                        // Unterminated string.
                        return None;
                    };
                    if c == b'\\' {
                        i += 2;
                        if c == b'\\'
                            && bytes.get(i - 1) == Some(&b'\r')
                            && bytes.get(i) == Some(&b'\n')
                        {
                            i += 1;
                        }
                        continue;
                    }
                    if c == quote
                        && (!triple
                            || (bytes.get(i + 1) == Some(&quote)
                                && bytes.get(i + 2) == Some(&quote)))
                    {
                        let content = &source[start..i];
                        i += if triple { 3 } else { 1 };
                        stack.pop();
                        if !interpolated {
                            if let Some(option) = content.strip_prefix("--") {
                                out.binds.push(Cow::Owned(option.replace('-', "_")));
                            } else if prev_eq {
                                out.binds.push(Cow::Borrowed(content));
                            }
                        }
                        prev_dest = false;
                        prev_eq = false;
                        break;
                    }
                    if (c == b'\n' || c == b'\r') && !triple {
                        // A line break in a one-line string: a syntax error.
                        return None;
                    }
                    if interpolated && c == b'{' {
                        if bytes.get(i + 1) == Some(&b'{') {
                            i += 2;
                            continue;
                        }
                        stack.push(Mode::Code {
                            depth: 0,
                            field: true,
                        });
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            Mode::Spec => match b {
                b'{' => {
                    stack.push(Mode::Code {
                        depth: 0,
                        field: true,
                    });
                    i += 1;
                }
                b'}' => {
                    stack.pop();
                    i += 1;
                }
                b'\n' | b'\r' => return None,
                _ => i += 1,
            },
        }
    }
    if stack.len() != 1 || !matches!(stack[0], Mode::Code { depth: 0, .. }) {
        return None;
    }
    if let Some(last) = out.chunks.last_mut() {
        last.end = bytes.len();
    }
    Some(out)
}

fn set_depth(stack: &mut [Mode], depth: u32, field: bool) {
    if let Some(top) = stack.last_mut() {
        *top = Mode::Code { depth, field };
    }
}

/// The string that starts with the quote at `i`, and the length of its opening quotes.
fn string_start(bytes: &[u8], i: usize, interpolated: bool) -> (Mode, usize) {
    let quote = bytes[i];
    let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
    (
        Mode::Str {
            quote,
            triple,
            interpolated,
        },
        if triple { 3 } else { 1 },
    )
}

/// The name starting at `i` (empty if none).
fn word_at(bytes: &[u8], i: usize) -> &str {
    let end = bytes[i..]
        .iter()
        .position(|&b| !is_name_byte(b))
        .map_or(bytes.len(), |n| i + n);
    std::str::from_utf8(&bytes[i..end]).unwrap_or("")
}

/// Where the line holding `i` ends (its line break, or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |n| i + n)
}

/// Whether the name ending at `i` is followed by `=` (not `==`) or `:` (an annotation): an
/// assignment, a default argument, a keyword argument or a dict key, all taken as bindings.
fn binds_next(bytes: &[u8], mut i: usize) -> bool {
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\\' => i += 1,
            b'#' => i = line_end(bytes, i),
            b'=' => return bytes.get(i + 1) != Some(&b'='),
            b':' => return true,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(source: &str) -> Option<String> {
        focus(source).map(|focused| {
            focused
                .text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn keeps_hits_their_bindings_and_their_users() {
        let mut source = String::from(
            "import os\nfrom transformers import AutoModel as AM\n\
             MODEL = \"org/m\"\nURL = \"hf://datasets/o/d/x.csv\"\n",
        );
        for i in 0..20 {
            source.push_str(&format!("def helper_{i}(x):\n    return x + {i}\n\n"));
        }
        source.push_str(
            "def main():\n    m = AM.from_pretrained(MODEL)\n\nread_csv(URL)\nos.getcwd()\n",
        );
        let kept = kept(&source).expect("focused");
        assert_eq!(
            kept,
            "from transformers import AutoModel as AM\nMODEL = \"org/m\"\n\
             URL = \"hf://datasets/o/d/x.csv\"\ndef main():\n    m = AM.from_pretrained(MODEL)\n\
             read_csv(URL)"
        );
    }

    #[test]
    fn ranges_map_back_to_the_file() {
        let mut source = "import torch\n".to_string();
        source.push_str(&"x = 1\n".repeat(50));
        source.push_str("y = torch.load(\"a/b\")\n");
        source.push_str(&"z = 2\n".repeat(50));
        source.push_str("w = torch.load(\"c/d\")\n");
        let focused = focus(&source).expect("focused");
        assert_eq!(
            focused.text,
            "import torch\ny = torch.load(\"a/b\")\nw = torch.load(\"c/d\")\n"
        );
        for needle in ["import", "\"a/b\"", "\"c/d\")", "w ="] {
            let at = focused.text.find(needle).unwrap_or(usize::MAX);
            let range = focused.original(at..at + needle.len());
            assert_eq!(&source[range], needle);
        }
        let empty = focused.original(3..3);
        assert_eq!(empty, 3..3);
    }

    #[test]
    fn argparse_options_and_dest_bind_attribute_names() {
        let mut source = String::new();
        for i in 0..20 {
            source.push_str(&format!("def helper_{i}(x):\n    return x + {i}\n\n"));
        }
        source.push_str(
            "def cli():\n    p.add_argument(\"--model-name\", default=\"o/m\")\n\
             def cli2():\n    p.add_argument(\"-r\", dest=\"rev\")\n\
             def run(args):\n    AutoModel.from_pretrained(args.model_name, revision=args.rev)\n",
        );
        let kept = kept(&source).expect("focused");
        assert!(kept.contains("--model-name"), "{kept}");
        assert!(kept.contains("dest=\"rev\""), "{kept}");
        assert!(!kept.contains("helper_"), "{kept}");
    }

    #[test]
    fn unsure_input_is_parsed_whole() {
        let pad = "def f():\n    return 1\n\n".repeat(30);
        for bad in [
            "x = load(\"a\"\n",      // unbalanced
            "x = 'load\n",           // unterminated
            "  x = load()\n",        // indented first line
            "x = f\"{load(\"a\")\n", // unterminated f-string field
            "x = load() \\ y\n",     // stray backslash
        ] {
            assert!(focus(&format!("{bad}{pad}")).is_none(), "{bad}");
        }
    }

    #[test]
    fn compound_statements_and_decorators_stay_whole() {
        let pad = "def f():\n    return 1\n\n".repeat(30);
        let source = format!(
            "{pad}if a:\n    b = 1\nelse:\n    m = load(\"x\")\n@deco\ndef g():\n    load(\"y\")\n\
             s = f\"\"\"{{x}}\n{{load('z')}}\nend\"\"\"\n"
        );
        let kept = kept(&source).expect("focused");
        assert!(kept.starts_with("if a:\n    b = 1\nelse:"), "{kept}");
        assert!(kept.contains("@deco\ndef g():"), "{kept}");
        assert!(kept.contains("{load('z')}\nend\"\"\""), "{kept}");
    }
}
