//! The requirements-file parser against fixture files (each also run as CRLF and lone-CR twins),
//! encodings, and property tests for losslessness and robustness.
//!
//! Each `tests/fixtures/requirements/<name>.txt` has a `<name>.expected` description of what
//! the parser found. After an intended change, regenerate them with
//! `MLSUPPLY_BLESS=1 cargo test --test reqfile` and review the diff.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use mlsupply::reqfile::{
    self, Document, Encoding, Entry, EntryKind, OptionItem, ReqFile, ReqForm, Requirement,
    SegmentKind, UrlKind,
};
use mlsupply::source::SourceFile;
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirements")
}

/// `l:c-l:c "text"`: where a range is (SourceFile positions) and what it holds.
fn at(source: &SourceFile, range: &Range<usize>) -> String {
    let span = source.span(range.clone());
    format!(
        "{}:{}-{}:{} {:?}",
        span.line,
        span.column,
        span.end_line,
        span.end_column,
        &source.text[range.clone()]
    )
}

fn describe_option(out: &mut String, source: &SourceFile, option: &OptionItem) {
    let _ = write!(
        out,
        "  option {:?} flag {}",
        option.kind,
        at(source, &option.flag.range)
    );
    if let Some(value) = &option.value {
        let _ = write!(
            out,
            " value {:?} at {}",
            value.value,
            at(source, &value.range)
        );
    }
    out.push('\n');
}

fn describe_requirement(out: &mut String, source: &SourceFile, req: &Requirement) {
    let _ = writeln!(
        out,
        "  requirement{} {}",
        if req.editable { " (editable)" } else { "" },
        at(source, &req.range)
    );
    match &req.form {
        ReqForm::Named(named) => {
            let _ = writeln!(
                out,
                "  name {} normalized {}",
                at(source, &named.name.range),
                named.normalized
            );
            for extra in &named.extras {
                let _ = writeln!(out, "  extra {}", at(source, &extra.range));
            }
            if let Some(version) = &named.version {
                let _ = writeln!(
                    out,
                    "  version {} parsed {:?} pinned {}",
                    at(source, &version.range),
                    version.specifiers.as_ref().map(ToString::to_string),
                    version.is_pinned()
                );
            }
            if let Some(url) = &named.url {
                let _ = writeln!(out, "  url {}", at(source, &url.range));
            }
        }
        ReqForm::Url(url) => {
            let kind = match &url.kind {
                UrlKind::Vcs { vcs } => format!("vcs {vcs}"),
                other => format!("{other:?}"),
            };
            let _ = writeln!(
                out,
                "  {kind} url {}{}",
                at(source, &url.url.range),
                if url.archive { " archive" } else { "" }
            );
            if let Some(name) = &url.name {
                let _ = writeln!(
                    out,
                    "  name from {:?} {}",
                    name.source,
                    at(source, &name.name.range)
                );
            }
            for extra in &url.extras {
                let _ = writeln!(out, "  extra {}", at(source, &extra.range));
            }
        }
        ReqForm::Unexpanded => out.push_str("  unexpanded (name is an environment variable)\n"),
        ReqForm::Invalid { name_guess } => {
            let _ = writeln!(
                out,
                "  invalid, name guess {:?}",
                name_guess.as_ref().map(|name| at(source, &name.range))
            );
        }
    }
    if let Some(marker) = req.marker() {
        let _ = writeln!(
            out,
            "  marker {} valid {}",
            at(source, &marker.range),
            marker.tree.is_some()
        );
    }
    for hash in &req.hashes {
        let _ = writeln!(
            out,
            "  hash {} digest {}",
            at(source, &hash.algorithm.range),
            at(source, &hash.digest.range)
        );
    }
    for setting in &req.config_settings {
        let _ = writeln!(out, "  config {}={}", setting.key, setting.value);
    }
    for option in &req.options {
        describe_option(out, source, option);
    }
    if !req.layout.is_empty() {
        let _ = writeln!(out, "  layout {}", at(source, &req.layout));
    }
}

fn describe_entry(out: &mut String, source: &SourceFile, file: &ReqFile, entry: &Entry) {
    let first = &file.lines[entry.lines.start];
    let kind = match &entry.kind {
        EntryKind::Blank => "blank",
        EntryKind::Options(_) => "options",
        EntryKind::Requirement(_) => "requirement",
    };
    let _ = writeln!(
        out,
        "entry pip-lines {}..{} {kind} {}",
        entry.lines.start + 1,
        entry.lines.end,
        at(source, &(first.range.start..entry.range.end))
    );
    if let Some(content) = &entry.content {
        let _ = writeln!(out, "  content {}", at(source, content));
    }
    match &entry.kind {
        EntryKind::Blank => {}
        EntryKind::Options(options) => {
            for option in options {
                describe_option(out, source, option);
            }
            if let Some(include) = entry.include() {
                let _ = writeln!(
                    out,
                    "  include {:?} constraint {} url {} env {}",
                    include.target.value,
                    include.constraint,
                    include.is_url(),
                    include.has_env_var()
                );
            }
        }
        EntryKind::Requirement(req) => describe_requirement(out, source, req),
    }
    if let Some(comment) = &entry.comment {
        let _ = writeln!(out, "  comment {}", at(source, comment));
    }
    for marker in &entry.continuations {
        let _ = writeln!(out, "  continuation {}", at(source, marker));
    }
    for var in &entry.env_vars {
        let _ = writeln!(out, "  env var {} {}", var.name, at(source, &var.range));
    }
    for diagnostic in &entry.diagnostics {
        let _ = writeln!(
            out,
            "  {:?} {}: {}",
            diagnostic.severity,
            at(source, &diagnostic.range),
            diagnostic.message
        );
    }
}

fn describe(text: &str) -> String {
    let file = reqfile::parse(text);
    let source = SourceFile::new("r.txt", "r.txt", text.to_string());
    let mut out = String::new();
    for entry in &file.entries {
        describe_entry(&mut out, &source, &file, entry);
    }
    out
}

/// Checks what every parse must satisfy: segments tile the text, ranges are in bounds and on
/// character boundaries, every name's range holds the name.
fn check_invariants(text: &str, file: &ReqFile) {
    assert_eq!(file.emit(text), text);
    let mut cursor = 0;
    for segment in file.segments() {
        assert_eq!(segment.range.start, cursor, "gap or overlap at {cursor}");
        if let SegmentKind::Entry(index) = segment.kind {
            assert_eq!(file.entries[index].range, segment.range);
        }
        cursor = segment.range.end;
    }
    assert_eq!(cursor, text.len());
    let mut next_line = 0;
    for entry in &file.entries {
        assert_eq!(entry.lines.start, next_line);
        assert!(entry.lines.end > entry.lines.start);
        next_line = entry.lines.end;
        let mut ranges = vec![entry.range.clone()];
        ranges.extend(entry.content.clone());
        ranges.extend(entry.comment.clone());
        ranges.extend(entry.continuations.iter().cloned());
        ranges.extend(entry.diagnostics.iter().map(|d| d.range.clone()));
        ranges.extend(entry.env_vars.iter().map(|v| v.range.clone()));
        if let Some(req) = entry.requirement() {
            ranges.push(req.range.clone());
            ranges.push(req.layout.clone());
            ranges.extend(req.options.iter().map(|o| o.range.clone()));
            ranges.extend(req.hashes.iter().map(|h| h.digest.range.clone()));
            if let Some(name) = req.name() {
                ranges.push(name.range.clone());
                let written = &text[name.range.clone()];
                // A name that crosses a continuation covers the marker; otherwise it is exact.
                let crosses = entry
                    .continuations
                    .iter()
                    .any(|c| c.start < name.range.end && name.range.start < c.end);
                // A quoted or escaped `-e` value keeps exact spans only for parts found once.
                let as_written = text[req.range.clone()] == req.text;
                if !crosses && !written.contains('%') && as_written {
                    assert_eq!(written, name.value, "name range of {:?}", req.text);
                }
            }
        }
        for range in ranges {
            assert!(
                range.start <= range.end && text.get(range.clone()).is_some(),
                "bad range {range:?} in {text:?}"
            );
            assert!(
                entry.range.start <= range.start && range.end <= entry.range.end,
                "range {range:?} outside its entry {:?}",
                entry.range
            );
        }
    }
    assert_eq!(next_line, file.lines.len());
}

fn check_fixture(name: &str) {
    let path = fixtures().join(format!("{name}.txt"));
    let bytes = std::fs::read(&path).unwrap();
    let document = Document::from_bytes(&bytes).unwrap();
    assert_eq!(
        document.to_bytes().unwrap(),
        bytes,
        "{name}: bytes round trip"
    );
    check_invariants(&document.text, &document.file);
    let actual = format!(
        "encoding {:?}\n{}",
        document.encoding,
        describe(&document.text)
    );
    let expected_path = fixtures().join(format!("{name}.expected"));
    if std::env::var_os("MLSUPPLY_BLESS").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|_| panic!("missing {name}.expected: run with MLSUPPLY_BLESS=1"));
    assert_eq!(actual, expected, "{name}: description changed");

    // Twins: the same file with its line endings swapped describes the same entries, at the
    // same lines and columns (only the quoted line endings differ).
    let lf = document.text.replace("\r\n", "\n").replace('\r', "\n");
    let reference = describe(&lf);
    for ending in ["\r\n", "\r", "\n"] {
        let twin = lf.replace('\n', ending);
        let file = reqfile::parse(&twin);
        check_invariants(&twin, &file);
        let escaped = format!("{ending:?}");
        let escaped = &escaped[1..escaped.len() - 1];
        let normalised = describe(&twin).replace(escaped, "\\n");
        assert_eq!(normalised, reference, "{name}: {ending:?} twin differs");
    }
}

macro_rules! fixture_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_fixture($name);
            }
        )*
    };
}

fixture_tests! {
    requirement_forms => "forms",
    continuations_and_comments => "continuations",
    options => "options",
    environment_variables => "env-vars",
    errors_are_entry_diagnostics => "errors",
    bom_and_crlf => "bom-crlf",
    lone_carriage_returns => "lone-cr",
    no_final_newline => "no-final-newline",
    pep_263_coding_comment => "latin1-coding",
    utf16_with_bom => "utf16le-bom",
    python_line_breaks => "python-linebreaks",
}

#[test]
fn fixture_encodings_are_detected() {
    let encoding = |name: &str| {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        Document::from_bytes(&bytes).unwrap().encoding
    };
    assert_eq!(encoding("bom-crlf.txt"), Encoding::Utf8Bom);
    assert_eq!(encoding("latin1-coding.txt"), Encoding::Latin1);
    assert_eq!(encoding("utf16le-bom.txt"), Encoding::Utf16Le);
    assert_eq!(encoding("forms.txt"), Encoding::Utf8);
}

#[test]
fn a_fix_changes_only_the_bytes_it_edits() {
    // What mlsupply-pin --fix will do: replace one requirement's layout, keep everything else,
    // including the BOM, CRLF line endings and the missing final newline.
    let original = b"\xef\xbb\xbf# top\r\nnumpy==1.26.4  # keep me\r\nscipy==1.11.0 \\\r\n    --hash=sha256:00\r\nlast==1";
    let document = Document::from_bytes(original).unwrap();
    let (_, scipy) = document.file.requirements().nth(1).unwrap();
    let edit = reqfile::Edit {
        range: scipy.layout.clone(),
        text: format!(" \\\r\n    --hash=sha256:{}", "f".repeat(64)),
    };
    let text = reqfile::apply_edits(&document.text, &[edit]).unwrap();
    let bytes = document.encode(&text).unwrap();
    let expected = format!(
        "\u{feff}# top\r\nnumpy==1.26.4  # keep me\r\nscipy==1.11.0 \\\r\n    --hash=sha256:{}\r\nlast==1",
        "f".repeat(64)
    );
    assert_eq!(bytes, expected.as_bytes());
    let reparsed = reqfile::parse(&text);
    let (_, scipy) = reparsed.requirements().nth(1).unwrap();
    assert_eq!(scipy.hashes[0].digest.value, "f".repeat(64));
    assert!(reparsed.diagnostics().next().is_none());
}

// ---- property tests ----

const NAMES: &[&str] = &[
    "numpy",
    "Foo_Bar.baz",
    "a",
    "scikit-learn",
    "torch",
    "x1",
    "Pillow",
];
const VERSIONS: &[&str] = &["1.0", "2.3.0+cpu", "1.*", "0.15.0rc1", "2024.1"];

fn form() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES);
    let version = prop::sample::select(VERSIONS);
    (name, version, 0usize..16, any::<bool>()).prop_map(|(name, version, pick, flag)| {
        let hash = format!("--hash=sha256:{}", if flag { "a" } else { "B" }.repeat(64));
        match pick {
            0 => format!("{name}=={version}"),
            1 => format!("{name}[extra,other] >= 1.0 ; python_version >= '3.8'"),
            2 => format!("{name} @ https://example.com/{name}-1.0.tar.gz#sha256=abc"),
            3 => format!("{name}=={version} \\\n    {hash} \\\n    {hash}"),
            4 => format!("-e git+https://github.com/o/{name}.git@main#egg={name}"),
            5 => format!("https://x.example/{name}-1.0-py3-none-any.whl"),
            6 => format!("# comment about {name} \\"),
            7 => String::new(),
            8 => "-r other.txt --pre".to_string(),
            9 => "--index-url https://${USER}:${TOKEN}@pypi.example/simple".to_string(),
            10 => format!("{name}=={version}  # inline \\\n  {hash}"),
            11 => format!("{name}==${{VERSION}}"),
            12 => "   \t ".to_string(),
            13 => format!("{name}=={version}\t{hash}"),
            14 => format!("{name} (>={version}) \\ "),
            _ => format!("{name}==={version}-custom"),
        }
    })
}

fn file_strategy() -> impl Strategy<Value = String> {
    let line = (form(), prop::sample::select(&["\n", "\r\n", "\r"][..]));
    (prop::collection::vec(line, 0..14), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut text = String::new();
        let count = lines.len();
        for (index, (form, ending)) in lines.into_iter().enumerate() {
            // Multi-line forms use the line's chosen ending inside too.
            text.push_str(&form.replace('\n', ending));
            if index + 1 < count || final_newline {
                text.push_str(ending);
            }
        }
        text
    })
}

const PIECES: &[&str] = &[
    "\\",
    "#",
    " ",
    "\t",
    "--hash=",
    "sha256:",
    "-e",
    "-r",
    "-c ",
    "@",
    ";",
    "[",
    "]",
    "${A}",
    "==",
    "\r",
    "\n",
    "\r\n",
    "'",
    "\"",
    "git+https://",
    ".whl",
    "name",
    "é",
    "\u{2028}",
    "\x0c",
    "-",
    "--",
    "=",
    "(",
    ")",
    "#egg=",
    "%2B",
    "file:",
    ".",
    "/",
    "~=",
    "===",
    ":",
    ",",
    "\u{85}",
    "_",
    "x",
    "1",
    "--index-url",
    "-C",
    "--config-settings=",
    "--pre",
    "${",
    "}",
    "&",
    "?",
    "sha512:",
    "python_version",
    ">=",
    "'3.8'",
    " and ",
    "-i",
    "\u{1c}",
    "\x0b",
    "\u{a0}",
];

/// 512 cases per property; `PROPTEST_CASES=100000` runs a longer fuzz.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 512;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_files_round_trip_and_names_are_exact(text in file_strategy()) {
        let file = reqfile::parse(&text);
        check_invariants(&text, &file);
        // Every generated line naming a project is found with its name intact.
        for (_, req) in file.requirements() {
            if let Some(name) = req.name() {
                prop_assert!(NAMES.contains(&name.value.as_str()), "{:?}", name);
                prop_assert_eq!(&text[name.range.clone()], name.value.as_str());
            }
        }
    }

    #[test]
    fn random_syntax_pieces_never_panic(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..60)) {
        let text: String = pieces.concat();
        let file = reqfile::parse(&text);
        check_invariants(&text, &file);
    }

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        let file = reqfile::parse(&text);
        check_invariants(&text, &file);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(document) = Document::from_bytes(&bytes) {
            check_invariants(&document.text, &document.file);
            prop_assert_eq!(&document.to_bytes().unwrap(), &bytes);
        }
        let text = String::from_utf8_lossy(&bytes);
        check_invariants(&text, &reqfile::parse(&text));
    }
}

/// The diagnostics of `text`: message (its first 80 characters) and byte range.
fn diagnostics_of(text: &str) -> Vec<(String, Range<usize>)> {
    reqfile::parse(text)
        .diagnostics()
        .map(|d| (d.message.chars().take(80).collect(), d.range.clone()))
        .collect()
}

/// Long runs inside a `name @ url` (issue 19: 11.5 s for 128k spaces, quadratic in pep508_rs)
/// are read in linear time, with what a short run gives, moved by the run's length.
#[test]
fn long_whitespace_runs_in_a_url_are_linear() {
    for run in [" ", "\t", "\u{3000}"] {
        let short = format!("p @ x{}y\n", run.repeat(2));
        let long = format!("p @ x{}y ; python_version > '3'\n", run.repeat(128 * 1024));
        let short_found = diagnostics_of(&short);
        let [(message, range)] = short_found.as_slice() else {
            panic!("{short_found:?}")
        };
        assert!(message.starts_with("a URL ends at whitespace"), "{message}");
        assert_eq!(&short[range.clone()], "y");
        let long_found = diagnostics_of(&long);
        let [(long_message, long_range)] = long_found.as_slice() else {
            panic!("{long_found:?}")
        };
        assert_eq!(long_message, message);
        assert_eq!(&long[long_range.clone()], "y");
    }
}

/// Markers whose cost in pep508_rs grows with the cube of their comparisons, exponentially with
/// `extra` comparisons, or that nest deep enough to overflow its recursion, are errors.
#[test]
fn huge_markers_are_errors_not_hangs() {
    let or_chain = (0..2_000)
        .map(|i| format!("sys_platform == 'p{i}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    let pairs = (0..20)
        .map(|i| format!("(extra == 'a{i:02}' and extra == 'b{i:02}')"))
        .collect::<Vec<_>>()
        .join(" or ");
    let deep = format!("{}os_name == 'a'{}", "(".repeat(20_000), ")".repeat(20_000));
    for (marker, expected) in [
        (or_chain, "at most 64 comparisons"),
        (pairs, "at most 16 times"),
        (deep, "at most 16 deep"),
    ] {
        let text = format!("a==1 ; {marker}\n");
        let diagnostics = diagnostics_of(&text);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert!(
            diagnostics[0].0.contains("invalid marker"),
            "{diagnostics:?}"
        );
        let file = reqfile::parse(&text);
        let message = &file.diagnostics().next().expect("a diagnostic").message;
        assert!(
            message.contains(expected),
            "{}",
            &message[message.len() - 80..]
        );
    }
}
