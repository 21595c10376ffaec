//! Install commands found in every surface where people type them, with exact positions.
//!
//! Each fixture lives in `tests/fixtures/commands/`; expected columns were counted on the raw
//! file (for notebooks and JSON exec forms, on the escaped text: `\u00e9` is six columns).
//! Every fixture is also read with CRLF line endings and must give the same places.

use std::path::{Path, PathBuf};

use mlsupply::deps::{self, DepSource, Extracted};
use mlsupply::source::SourceFile;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/commands")
}

fn load(rel: &str, crlf: bool) -> SourceFile {
    let abs = fixture_dir().join(rel);
    let mut text = std::fs::read_to_string(&abs).unwrap();
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    SourceFile::new(rel, abs, text)
}

fn extract(rel: &str, crlf: bool) -> (SourceFile, Extracted) {
    let kind = deps::classify(rel).unwrap_or_else(|| panic!("{rel} is not classified"));
    let file = load(rel, crlf);
    let out = deps::extract(&file, kind);
    (file, out)
}

/// (name, line, column, end column) of every dependency, in order.
type Expected<'a> = &'a [(&'a str, u32, u32, u32)];

fn check(rel: &str, expected: Expected) -> Extracted {
    let mut first = None;
    for crlf in [false, true] {
        let (file, out) = extract(rel, crlf);
        assert!(out.findings.is_empty(), "{rel}: {:?}", out.findings);
        let got: Vec<(String, u32, u32, u32)> = out
            .deps
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.span.line,
                    d.span.column,
                    d.span.end_column,
                )
            })
            .collect();
        let want: Vec<(String, u32, u32, u32)> = expected
            .iter()
            .map(|(n, l, c, e)| (n.to_string(), *l, *c, *e))
            .collect();
        assert_eq!(got, want, "{rel} (crlf: {crlf})");
        for dep in &out.deps {
            assert_eq!(dep.span.line, dep.span.end_line, "{rel}: {dep:?}");
            // Without escapes, the span covers exactly the name in the file.
            let line = file.line(dep.span.line).unwrap();
            let covered: String = line
                .chars()
                .skip(dep.span.column as usize - 1)
                .take((dep.span.end_column - dep.span.column) as usize)
                .collect();
            if !covered.contains('\\') {
                assert_eq!(covered, dep.name, "{rel}: {dep:?}");
            }
        }
        if first.is_none() {
            first = Some(out);
        }
    }
    first.unwrap()
}

fn includes(out: &Extracted) -> Vec<(String, bool, u32)> {
    out.includes
        .iter()
        .map(|i| (i.written.clone(), i.constraint, i.span.line))
        .collect()
}

#[test]
fn dockerfile_continuations_exec_form_and_heredocs() {
    let out = check(
        "Dockerfile",
        &[
            ("numpy", 9, 9, 14),
            ("pandas", 11, 10, 16),
            ("scikit-learn", 13, 10, 22),
            ("torch", 16, 90, 95),
            ("pkg", 17, 68, 71),
            ("requests", 18, 38, 46),
            ("café-lib", 18, 50, 63),
            ("fastapi", 19, 36, 43),
            ("uvicorn", 19, 71, 78),
            ("transformers", 22, 13, 25),
            ("accelerate", 23, 5, 15),
            ("onbuild-pkg", 31, 25, 36),
            ("torch", 32, 18, 23),
        ],
    );
    assert_eq!(includes(&out), [("requirements.txt".into(), false, 16)]);
    assert_eq!(
        out.includes[0].path,
        fixture_dir().join("requirements.txt"),
        "pip resolves -r against the cwd; we take the Dockerfile's directory"
    );
}

#[test]
fn dockerfile_escape_directive() {
    check(
        "docker/Dockerfile.windows",
        &[("pywin32", 4, 5, 12), ("wmi", 5, 5, 8)],
    );
}

#[test]
fn shell_script_wrappers_and_tools() {
    let out = check(
        "scripts/setup.sh",
        &[
            ("pip", 6, 5, 8),
            ("wheel", 6, 9, 14),
            ("uv", 7, 39, 41),
            ("httpx", 8, 9, 14),
            ("pytest", 8, 35, 41),
            ("mkdocs", 9, 25, 31),
            ("einops", 10, 29, 35),
            ("jinja2", 11, 61, 67),
        ],
    );
    assert_eq!(
        includes(&out),
        [
            ("constraints.txt".into(), true, 11),
            ("../requirements/base.txt".into(), false, 11),
        ]
    );
    assert_eq!(
        out.includes[1].path,
        fixture_dir()
            .join("scripts")
            .join("../requirements/base.txt")
    );
}

#[test]
fn makefile_variables_map_to_their_definitions() {
    let out = check(
        "Makefile",
        &[
            ("pip", 9, 28, 31),
            ("ruff", 5, 8, 12),
            ("mypy", 11, 3, 7),
            ("pytest", 3, 13, 19),
            ("pytest-cov", 4, 2, 12),
            ("black", 13, 39, 44),
        ],
    );
    assert_eq!(includes(&out), [("requirements.txt".into(), false, 10)]);
}

#[test]
fn notebook_cells_escapes_and_magics() {
    check(
        "train.ipynb",
        &[
            ("transformers", 17, 24, 36),
            ("datasets", 17, 45, 53),
            // `acc\u00e9lerate` in the file: the escape is six columns wide.
            ("accélerate", 18, 30, 45),
            ("peft", 19, 10, 14),
            ("bitsandbytes", 21, 39, 51),
            // One JSON string holding three cell lines: all on file line 30.
            ("sentencepiece", 30, 62, 75),
            ("tiktoken", 30, 94, 102),
            ("wandb", 45, 8, 13),
        ],
    );
}

#[test]
fn workflow_jobs_and_scalar_styles() {
    let out = check(
        ".github/workflows/ci.yml",
        &[
            ("pip", 14, 43, 46),
            ("coverage", 16, 13, 21),
            ("numpy", 17, 44, 49),
            ("pytest-xdist", 18, 26, 38),
            ("folded-one", 22, 11, 21),
            ("folded-two", 23, 11, 21),
            ("flake8", 28, 29, 35),
            ("ruff", 28, 60, 64),
            ("pre-commit", 30, 30, 40),
            ("sphinx-build-tool", 41, 22, 39),
            ("sphinx-build", 41, 40, 52),
            ("sphinx", 42, 23, 29),
            ("furo", 43, 13, 17),
            ("toolpkg", 52, 45, 52),
        ],
    );
    assert_eq!(
        includes(&out),
        [
            ("requirements-dev.txt".into(), false, 15),
            ("requirements.txt".into(), false, 50),
            ("constraints.txt".into(), true, 52),
            ("requirements.txt".into(), false, 53),
        ]
    );
    // Steps run in the workspace root or their working-directory, not next to the workflow.
    let paths: Vec<PathBuf> = out.includes.iter().map(|i| i.path.clone()).collect();
    assert_eq!(
        paths,
        [
            fixture_dir().join("requirements-dev.txt"),
            fixture_dir().join("services/api").join("requirements.txt"),
            fixture_dir().join("tools").join("constraints.txt"),
            fixture_dir()
                .join("services/api")
                .join("web/requirements.txt"),
        ]
    );
}

#[test]
fn composite_action_steps() {
    check("action.yml", &[("composite-pkg", 7, 34, 47)]);
}

#[test]
fn conda_environment_pip_section() {
    let out = check(
        "environment.yml",
        &[
            ("torch", 11, 9, 14),
            ("opencv-python-headless", 12, 10, 32),
            ("einops", 15, 9, 15),
            ("lightning", 16, 9, 18),
        ],
    );
    assert_eq!(includes(&out), [("requirements/gpu.txt".into(), false, 10)]);
    assert_eq!(
        out.includes[0].path,
        fixture_dir().join("requirements/gpu.txt")
    );
}

#[test]
fn malformed_files_are_parse_errors_with_their_line() {
    for (rel, line) in [("broken.ipynb", 3), ("environment-broken.yml", 4)] {
        let kind = if rel.ends_with(".ipynb") {
            DepSource::Notebook
        } else {
            DepSource::CondaEnv
        };
        let file = load(rel, false);
        let out = deps::extract(&file, kind);
        assert!(out.deps.is_empty(), "{rel}");
        assert_eq!(out.findings.len(), 1, "{rel}: {:?}", out.findings);
        let finding = &out.findings[0];
        assert_eq!(finding.rule, "parse-error", "{rel}");
        assert_eq!(finding.path, rel);
        assert_eq!(finding.line, line, "{rel}: {}", finding.message);
    }
}

/// A small deterministic generator (xorshift), so that the property tests need no extra crate
/// and fail the same way every time.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// For random scripts written as each YAML scalar style, every name's span covers exactly that
/// name in the file (unless escapes sit inside it), and the names are the ones the same script
/// gives as a shell file.
#[test]
fn workflow_scalar_styles_map_names_exactly() {
    let pieces = [
        "pip install",
        "numpy",
        "pandas==1",
        "'scipy'",
        "\"torch>=2\"",
        "&&",
        "-r r.txt",
        "-U",
        "\\",
        "#c",
        "é-pkg",
        "x[y]",
        "|",
        ">",
        "echo",
        "python -m pip install",
        "${{ x }}",
        "$V",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for _ in 0..1500 {
        let lines: Vec<String> = (0..1 + rng.below(4))
            .map(|_| {
                let words: Vec<&str> = (0..1 + rng.below(8))
                    .map(|_| pieces[rng.below(pieces.len())])
                    .collect();
                words.join(" ")
            })
            .collect();
        let script = lines.join("\n");
        let block: String = lines.iter().map(|l| format!("          {l}\n")).collect();
        let double = script
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let single = script.replace('\'', "''").replace('\n', "\n\n          ");
        let head = "jobs:\n  a:\n    steps:\n      - run: ";
        let styles = [
            format!("{head}|\n{block}"),
            format!("{head}>\n{block}"),
            format!("{head}\"{double}\"\n"),
            format!("{head}'{single}'\n"),
        ];
        let shell = SourceFile::new("a.sh", "a.sh", script.clone());
        let want: Vec<String> = deps::extract(&shell, DepSource::Shell)
            .deps
            .into_iter()
            .map(|d| d.name)
            .collect();
        for (style, text) in styles.iter().enumerate() {
            let file = SourceFile::new("w.yml", "w.yml", text.clone());
            let out = deps::extract(&file, DepSource::Workflow);
            if !out.findings.is_empty() {
                continue; // random text is not always valid YAML (a plain `#c` is a comment)
            }
            if style != 1 {
                // Folding joins lines, so `>` may legitimately differ from the shell script.
                let got: Vec<String> = out.deps.iter().map(|d| d.name.clone()).collect();
                assert_eq!(got, want, "style {style}:\n{text}");
            }
            for dep in &out.deps {
                let line = file.line(dep.span.line).unwrap();
                let covered: String = line
                    .chars()
                    .skip(dep.span.column as usize - 1)
                    .take((dep.span.end_column - dep.span.column) as usize)
                    .collect();
                if !covered.contains('\\') && !covered.contains("''") {
                    assert_eq!(covered, dep.name, "style {style}:\n{text}\n{dep:?}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} names checked");
}

/// Random fragments of every surface's syntax never make an extractor panic.
#[test]
fn hostile_fragments_never_panic() {
    let pieces = [
        "pip",
        " install ",
        "-r",
        "-c",
        "=",
        "\"",
        "'",
        "\\",
        "$",
        "(",
        ")",
        "{",
        "}",
        "`",
        "<<",
        "EOF",
        "\n",
        "\t",
        "é",
        "😀",
        "#",
        ";",
        "&",
        "|",
        ">",
        "<",
        "-m",
        "python",
        " ",
        "x",
        "[",
        "]",
        "@",
        ":",
        "RUN ",
        "\r",
        "%",
        "!",
        "--",
        "uvx",
        "cd ",
        "..",
        "/",
        "\\u00",
        "run: ",
        "- ",
        ">-",
        "  ",
        "steps:",
        "pip:",
        "dependencies:",
        "{\"cells\":[",
        "\"source\":",
    ];
    let kinds = [
        DepSource::Shell,
        DepSource::Dockerfile,
        DepSource::Makefile,
        DepSource::Notebook,
        DepSource::Workflow,
        DepSource::CondaEnv,
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..4000 {
        let text: String = (0..rng.below(40))
            .map(|_| pieces[rng.below(pieces.len())])
            .collect();
        for kind in kinds {
            let file = SourceFile::new("x", "x", text.clone());
            let out = deps::extract(&file, kind);
            for dep in &out.deps {
                assert!(!dep.name.is_empty(), "{kind:?} {text:?}");
                assert!(
                    dep.span.line >= 1 && dep.span.column >= 1,
                    "{kind:?} {text:?}"
                );
            }
        }
    }
}

/// Random `!` command lines stored in notebook cells (as one string or a list of lines, with
/// JSON escapes from serde_json) give the same names as the shell, at their exact place.
#[test]
fn notebook_sources_map_names_exactly() {
    let pieces = [
        "pip install",
        "numpy",
        "\"torch>=2\"",
        "'scipy'",
        "&&",
        "-U",
        "é-pkg",
        "x\\ty",
        "|",
        "python -m pip install",
        "$V",
        "a\\\\b",
        "#c",
    ];
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut checked = 0;
    for round in 0..1000 {
        let lines: Vec<String> = (0..1 + rng.below(4))
            .map(|_| {
                let words: Vec<&str> = (0..1 + rng.below(7))
                    .map(|_| pieces[rng.below(pieces.len())])
                    .collect();
                words.join(" ")
            })
            .collect();
        let cell_lines: Vec<String> = lines.iter().map(|l| format!("!{l}\n")).collect();
        let source = if round % 2 == 0 {
            serde_json::json!(cell_lines)
        } else {
            serde_json::json!(cell_lines.concat())
        };
        let notebook = serde_json::json!({
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": source}],
            "nbformat": 4,
        });
        let text = serde_json::to_string_pretty(&notebook).unwrap();
        let file = SourceFile::new("n.ipynb", "n.ipynb", text.clone());
        let out = deps::extract(&file, DepSource::Notebook);
        assert!(out.findings.is_empty(), "{text}: {:?}", out.findings);
        let shell = SourceFile::new("a.sh", "a.sh", lines.join("\n"));
        let want: Vec<String> = deps::extract(&shell, DepSource::Shell)
            .deps
            .into_iter()
            .map(|d| d.name)
            .collect();
        let got: Vec<String> = out.deps.iter().map(|d| d.name.clone()).collect();
        assert_eq!(got, want, "{text}");
        for dep in &out.deps {
            let line = file.line(dep.span.line).unwrap();
            let covered: String = line
                .chars()
                .skip(dep.span.column as usize - 1)
                .take((dep.span.end_column - dep.span.column) as usize)
                .collect();
            if !covered.contains('\\') {
                assert_eq!(covered, dep.name, "{text}\n{dep:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} names checked");
}

/// `V0 = reqeusts` and `V{i+1} = $(V{i}) $(V{i})`, used by a recipe at the last level.
fn doubling_makefile(levels: usize) -> SourceFile {
    let mut text = String::from("V0 = reqeusts\n");
    for i in 0..levels {
        text.push_str(&format!("V{} = $(V{i}) $(V{i})\n", i + 1));
    }
    text.push_str(&format!("install:\n\tpip install $(V{levels}) ok\n"));
    SourceFile::new("Makefile", "Makefile", text)
}

/// Make variables that double at every level (issue 19: 13 levels gave 8,192 identical findings,
/// 16 levels none at all): each name is reported once at its place, and where the expansion
/// budget runs out a note names the variable and the line that defines it.
#[test]
fn doubling_make_variables_report_each_name_once() {
    for levels in [3, 13, 16, 40] {
        let file = doubling_makefile(levels);
        let out = deps::extract(&file, DepSource::Makefile);
        let deps: Vec<(&str, u32, u32)> = out
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.span.line, d.span.column))
            .collect();
        assert_eq!(
            deps.len(),
            2,
            "{levels} levels: {:?}",
            &deps[..deps.len().min(4)]
        );
        let last_line = u32::try_from(levels).unwrap() + 3;
        let ok_column = 19 + u32::try_from(levels.to_string().len()).unwrap();
        assert_eq!(
            deps,
            [("reqeusts", 1, 6), ("ok", last_line, ok_column)],
            "{levels} levels"
        );
        if levels == 3 {
            assert!(out.findings.is_empty(), "{:?}", out.findings);
            continue;
        }
        let [note] = out.findings.as_slice() else {
            panic!("{levels} levels: {:?}", out.findings);
        };
        assert_eq!(note.rule, mlsupply::rules::FILE_SKIPPED.id);
        assert_eq!(note.path, "Makefile");
        // The note sits on the definition of the variable it names.
        let line = note.span().line as usize;
        assert!((2..=levels + 1).contains(&line), "{note:?}");
        assert_eq!(note.subject, format!("V{}", line - 1), "{note:?}");
        assert!(note.message.contains("expansion"), "{note:?}");
    }
}
