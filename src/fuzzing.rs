//! Oracles for the fuzz targets (`fuzz/`) and the seeded property run (`tests/fuzz_parsers.rs`),
//! written once for both. Each takes arbitrary bytes, runs one parser the way a scan does, and
//! panics when an invariant fails: no panic inside the parser, every range inside the input and
//! on character boundaries, output bounded by the input's size, and where two ways of reading
//! the same input exist, the same answer from both (focused vs whole-file hub scan, the fast
//! notebook reader vs the syntax-tree path, pip's `shlex.split` vs the shell tokenizer).
//!
//! Not part of the library's API.

use std::ops::Range;

use crate::deps::cmd_shell::{self, Token};
use crate::deps::cmd_text::MappedText;
use crate::deps::{self, Extracted};
use crate::finding::{Finding, Span};
use crate::hub::{self, Scanned, focus, python::Parse};
use crate::notebookjson;
use crate::reqfile::{self, Document, EntryKind, ReqForm};
use crate::source::SourceFile;

/// Findings and names per input byte beyond which an output counts as blown up.
const MAX_ITEMS_PER_BYTE: usize = 4;
/// Message bytes per input byte (messages quote what they are about, sometimes twice).
const MAX_MESSAGE_BYTES_PER_BYTE: usize = 64;

fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

#[track_caller]
fn check_range(text: &str, range: &Range<usize>, what: &str) {
    assert!(
        range.start <= range.end && range.end <= text.len(),
        "{what}: range {range:?} outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
        "{what}: range {range:?} not on character boundaries"
    );
}

#[track_caller]
fn check_span(file: &SourceFile, span: Span, what: &str) {
    let last = file.line_count() + 1;
    assert!(
        (1..=last).contains(&span.line) && (1..=last).contains(&span.end_line),
        "{what}: {span:?} outside a file of {} lines",
        file.line_count()
    );
    assert!(
        span.column >= 1 && (span.line, span.column) <= (span.end_line, span.end_column),
        "{what}: {span:?} is empty or backwards"
    );
}

#[track_caller]
fn check_findings(file: &SourceFile, findings: &[Finding]) {
    let limit = MAX_ITEMS_PER_BYTE * (file.text.len() + 16);
    assert!(
        findings.len() <= limit,
        "{} findings from {} bytes",
        findings.len(),
        file.text.len()
    );
    let message_bytes: usize = findings.iter().map(|f| f.message.len()).sum();
    assert!(
        message_bytes <= MAX_MESSAGE_BYTES_PER_BYTE * (file.text.len() + 64),
        "{message_bytes} message bytes from {} bytes",
        file.text.len()
    );
    for finding in findings {
        let span = Span {
            line: finding.line,
            column: finding.column,
            end_line: finding.end_line,
            end_column: finding.end_column,
        };
        check_span(file, span, &finding.rule);
    }
}

#[track_caller]
fn check_extracted(file: &SourceFile, out: &Extracted) {
    let limit = MAX_ITEMS_PER_BYTE * (file.text.len() + 16);
    assert!(
        out.deps.len() <= limit,
        "{} names from {} bytes",
        out.deps.len(),
        file.text.len()
    );
    for dep in &out.deps {
        check_span(file, dep.span, &dep.name);
    }
    check_findings(file, &out.findings);
}

#[track_caller]
fn check_scanned(file: &SourceFile, scanned: &Scanned) {
    for fetch in &scanned.fetches {
        check_span(file, fetch.span, &fetch.api);
    }
    for hazard in &scanned.hazards {
        check_span(file, hazard.span, "hazard");
    }
    let items = scanned.fetches.len() + scanned.hazards.len();
    assert!(
        items <= MAX_ITEMS_PER_BYTE * (file.text.len() + 16),
        "{items} fetches and hazards from {} bytes",
        file.text.len()
    );
    check_findings(file, &scanned.findings);
}

/// Every byte of `mapped` comes from a whole character of `text`.
#[track_caller]
fn check_mapped(text: &str, mapped: &MappedText, what: &str) {
    for i in 0..mapped.len() {
        let origin = mapped.origin_of(i).expect("one origin per byte");
        check_range(text, &origin, what);
    }
}

/// The requirement parser (`reqfile`) and the requirements extractor, on bytes as read from disk.
///
/// - Decoding (BOM, UTF-16/32, `coding:` line) then encoding back gives the same bytes.
/// - Entries and line endings tile the text, and [`reqfile::ReqFile::emit`] gives it back.
/// - Every range is inside the text, on character boundaries, and a name written on one
///   physical line is the text at its range.
/// - The extractor's spans are inside the file and its output is bounded.
pub fn requirements(data: &[u8]) {
    if let Ok(document) = Document::from_bytes(data) {
        let bytes = document.to_bytes().expect("a decoded file encodes back");
        assert_eq!(bytes, data, "decoding then encoding changed the bytes");
    }
    let text = text_of(data);
    let parsed = reqfile::parse(&text);
    assert_eq!(parsed.emit(&text), text, "emit is not lossless");
    let mut at = 0;
    for segment in parsed.segments() {
        assert_eq!(segment.range.start, at, "segments leave a gap or overlap");
        check_range(&text, &segment.range, "segment");
        at = segment.range.end;
    }
    assert_eq!(at, text.len(), "segments stop before the end");
    assert!(parsed.entries.len() <= parsed.lines.len() + 1);
    for line in &parsed.lines {
        check_range(&text, &line.range, "line");
        check_range(&text, &line.ending, "line ending");
    }
    for entry in &parsed.entries {
        check_range(&text, &entry.range, "entry");
        let inside = |range: &Range<usize>, what: &str| {
            check_range(&text, range, what);
            assert!(
                entry.range.start <= range.start && range.end <= entry.range.end,
                "{what} {range:?} outside its entry {:?}",
                entry.range
            );
        };
        for range in entry.content.iter().chain(&entry.comment) {
            inside(range, "content or comment");
        }
        for range in &entry.continuations {
            check_range(&text, range, "continuation");
        }
        for var in &entry.env_vars {
            inside(&var.range, "env var");
        }
        for diagnostic in &entry.diagnostics {
            check_range(&text, &diagnostic.range, "diagnostic");
        }
        let options = match &entry.kind {
            EntryKind::Blank => continue,
            EntryKind::Options(options) => options,
            EntryKind::Requirement(req) => {
                inside(&req.range, "requirement");
                inside(&req.layout, "layout");
                for hash in &req.hashes {
                    inside(&hash.range, "hash");
                    inside(&hash.algorithm.range, "hash algorithm");
                    inside(&hash.digest.range, "hash digest");
                }
                for setting in &req.config_settings {
                    inside(&setting.range, "config setting");
                }
                if let Some(name) = req.name() {
                    inside(&name.range, "name");
                    let written = &text[name.range.clone()];
                    if matches!(req.form, ReqForm::Named(_))
                        && !written.contains(['\\', '\n', '\r'])
                    {
                        assert_eq!(written, name.value, "name differs from its text");
                    }
                }
                if let Some(marker) = req.marker() {
                    inside(&marker.range, "marker");
                }
                &req.options
            }
        };
        for option in options {
            inside(&option.range, "option");
            inside(&option.flag.range, "option flag");
            if let Some(value) = &option.value {
                inside(&value.range, "option value");
            }
        }
    }
    let file = SourceFile::new("requirements.txt", "/fuzz/requirements.txt", text);
    check_extracted(&file, &deps::requirements::extract(&file));
}

/// The hub's Python focus splitter (`hub::focus`), with the whole-file parse as its oracle.
///
/// - The focused scan finds exactly what the whole-file scan finds, where the file parses (see
///   [`check_same_scan`]).
/// - The focused text is made of the file's own bytes: each character maps back to the same
///   character of the file, and the whole focused text maps inside the file.
pub fn hub_focus(data: &[u8]) {
    let file = SourceFile::new("fuzz.py", "/fuzz/fuzz.py", text_of(data));
    let whole = hub::scan_file_with(&file, Parse::Whole);
    let focused = hub::scan_file_with(&file, Parse::Focused);
    check_same_scan(has_syntax_error(&file.text), &whole, &focused);
    check_scanned(&file, &whole);
    check_scanned(&file, &focused);
    let Some(kept) = focus::focus(&file.text) else {
        return;
    };
    assert!(kept.text.len() <= file.text.len(), "focus grew the file");
    check_range(
        &file.text,
        &kept.original(0..kept.text.len()),
        "focused text",
    );
    for (i, c) in kept.text.char_indices() {
        let original = kept.original(i..i + c.len_utf8());
        check_range(&file.text, &original, "focused character");
        assert_eq!(
            &file.text[original.clone()],
            c.encode_utf8(&mut [0; 4]),
            "focused byte {i} maps to {original:?}, another character"
        );
    }
}

fn has_syntax_error(source: &str) -> bool {
    crate::pyparse::parse(source).map_or(true, |module| module.root().has_error())
}

/// The focused scan gives what the whole-file scan gives, on every file that parses. Where the
/// file has a syntax error (`broken`) neither is the truth: tree-sitter's recovery over the whole
/// file may swallow statements the focused parse reads well, and the other way round (both seen
/// in fuzzing: `fuzz/artifacts-notes/hub_focus-syntax-error-*`), so there both scans are only
/// held to the bounds of [`check_scanned`].
#[track_caller]
fn check_same_scan(broken: bool, whole: &Scanned, focused: &Scanned) {
    if !broken {
        assert_eq!(
            whole, focused,
            "the focused scan differs from the whole-file scan"
        );
    }
}

/// The notebook reader (`notebookjson`): the fast reader against the `jsonc-parser` path.
///
/// - Where the fast reader answers, the tree path parses the file without problems and gives
///   the same cells: index, type, source text and the origin of every source byte.
/// - Every cell's source maps inside the file, on character boundaries.
/// - The dependency extractor and the hub scan (focused and whole alike) stay in bounds.
pub fn notebook(data: &[u8]) {
    let file = SourceFile::new("fuzz.ipynb", "/fuzz/fuzz.ipynb", text_of(data));
    let fast = notebookjson::fast::cells(&file.text);
    let tree = notebookjson::parse_cells_tree(&file);
    if let Some(fast) = &fast {
        let (tree, problems) = tree
            .as_ref()
            .expect("the fast reader answered, so the tree path parses");
        assert!(
            problems.is_empty(),
            "fast reader answered, tree path: {problems:?}"
        );
        assert_eq!(fast.len(), tree.len(), "cell count");
        for (f, t) in fast.iter().zip(tree) {
            assert_eq!(f.index, t.index, "cell index");
            assert_eq!(f.cell_type, t.cell_type, "cell type of cell {}", f.index);
            assert_eq!(f.source, t.source, "source of cell {}", f.index);
        }
    }
    match &tree {
        Ok((cells, problems)) => {
            for cell in cells {
                check_mapped(&file.text, &cell.source, "cell source");
            }
            for problem in problems {
                check_span(&file, problem.span, &problem.message);
            }
        }
        Err(error) => check_span(&file, error.span, &error.message),
    }
    check_extracted(&file, &deps::notebook::extract(&file));
    let whole = hub::scan_file_with(&file, Parse::Whole);
    let focused = hub::scan_file_with(&file, Parse::Focused);
    let cells = tree.map(|(cells, _)| cells).unwrap_or_default();
    let broken = cells
        .iter()
        .any(|cell| has_syntax_error(cell.source.as_str()));
    check_same_scan(broken, &whole, &focused);
    check_scanned(&file, &focused);
}

/// Bytes on which pip's `shlex.split` and the shell tokenizer must agree: no expansions,
/// operators, redirections, comments or line breaks, where the two languages differ.
fn shell_and_shlex_agree_on(text: &str) -> bool {
    !text.contains(['$', '`', '#', ';', '&', '|', '(', ')', '<', '>', '\n', '\r'])
}

/// The shell tokenizers: `deps::cmd_shell` (scripts, Dockerfiles, Makefile recipes, the hub's
/// command surfaces) and `reqfile::shlex` (pip's option values), against each other.
///
/// - Every word byte maps inside the input, on character boundaries; tokenizing never adds
///   bytes (it expands nothing).
/// - `shlex` tokens are in order, do not overlap and are never longer than their text.
/// - On plain words and quotes, both give the same words, and the quick quote scan
///   (`quote_state`) agrees with the tokenizer on the quote left open.
/// - The shell extractor and the hub's shell scan stay in bounds.
pub fn shell(data: &[u8]) {
    let text = text_of(data);
    let line = MappedText::verbatim(&text, 0..text.len());
    let tokens = cmd_shell::tokenize(&line);
    let words: Vec<&cmd_shell::Word> = tokens
        .tokens
        .iter()
        .filter_map(|token| match token {
            Token::Word(word) => Some(word),
            _ => None,
        })
        .collect();
    let word_bytes: usize = words.iter().map(|w| w.text.len()).sum();
    assert!(
        word_bytes <= text.len(),
        "{word_bytes} word bytes from {}",
        text.len()
    );
    for word in &words {
        check_mapped(&text, &word.text, "shell word");
    }
    let commands = cmd_shell::simple_commands(&tokens.tokens);
    let command_words: usize = commands.iter().map(|c| c.words.len()).sum();
    assert!(command_words <= words.len());

    let split = reqfile::shlex::split(&text);
    match &split {
        Ok(split) => {
            let mut end = 0;
            for token in split {
                check_range(&text, &token.range, "shlex token");
                assert!(token.range.start >= end, "shlex tokens overlap");
                assert!(token.value.len() <= token.range.len(), "shlex token grew");
                end = token.range.end;
            }
        }
        Err(error) => assert!(error.at <= text.len() && text.is_char_boundary(error.at)),
    }
    if shell_and_shlex_agree_on(&text) {
        assert_eq!(
            cmd_shell::quote_state(&text, None),
            tokens.unterminated,
            "quote_state and tokenize disagree on the open quote"
        );
        if let (Ok(split), None) = (&split, tokens.unterminated) {
            let shell: Vec<&str> = words.iter().map(|w| w.as_str()).collect();
            let shlex: Vec<&str> = split.iter().map(|t| t.value.as_str()).collect();
            assert_eq!(
                shell, shlex,
                "the shell tokenizer and shlex split differently"
            );
        }
    }

    let file = SourceFile::new("fuzz.sh", "/fuzz/fuzz.sh", text);
    check_extracted(&file, &deps::commands::extract_shell(&file));
    check_scanned(&file, &hub::scan_file(&file));
}

/// The Makefile reader and its variable expander (`deps::commands::extract_makefile`), and the
/// hub's Makefile scan: no panic, spans inside the file, names and findings bounded by the size
/// of the Makefile (expansion must not multiply them).
pub fn makefile(data: &[u8]) {
    let file = SourceFile::new("Makefile", "/fuzz/Makefile", text_of(data));
    check_extracted(&file, &deps::commands::extract_makefile(&file));
    check_scanned(&file, &hub::scan_file(&file));
}
