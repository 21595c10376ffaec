//! The requirements extractor on fixture files: names with their spans, includes, findings.

use std::path::{Path, PathBuf};

use mlsupply::deps::{self, DepSource, Extracted};
use mlsupply::finding::Severity;
use mlsupply::rules;
use mlsupply::source::SourceFile;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirements")
}

fn load(rel: &str) -> SourceFile {
    let path = fixtures().join(rel);
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    SourceFile::new(format!("reqs/{rel}"), path, text)
}

/// `name line:col-line:col` for every declared dependency.
fn deps_of(extracted: &Extracted) -> Vec<String> {
    extracted
        .deps
        .iter()
        .map(|dep| {
            format!(
                "{} {}:{}-{}:{}",
                dep.name, dep.span.line, dep.span.column, dep.span.end_line, dep.span.end_column
            )
        })
        .collect()
}

#[test]
fn every_requirement_form_yields_its_name_and_span() {
    let file = load("forms.txt");
    let extracted = deps::extract(&file, DepSource::Requirements);
    assert_eq!(
        deps_of(&extracted),
        [
            "numpy 2:1-2:6",
            "Foo_Bar.Baz 3:1-3:12",
            "requests 4:1-4:9",
            "pandas 5:1-5:7",
            "torch 6:1-6:6",
            "legacy 7:1-7:7",
            "flask 8:1-8:6",
            "uvicorn 9:1-9:8",
            "pkg 10:1-10:4",
            "pkg2 11:1-11:5",
            "tokenizers 12:34-12:44",
            "zipped_pkg 13:42-13:52",
            "repo-name 14:82-14:91",
            "private 15:51-15:58",
            "proj 16:36-16:40",
            "svnproj 17:40-17:47",
            "wheelpkg 19:6-19:14",
            "editable_pkg 24:53-24:65",
            "fileproj 25:37-25:45",
        ]
    );
    // Each span covers the name exactly as written.
    for dep in &extracted.deps {
        let line = file.line(dep.span.line).unwrap();
        let start = file.offset(dep.span.line, dep.span.column).unwrap();
        let end = file.offset(dep.span.end_line, dep.span.end_column).unwrap();
        assert_eq!(&file.text[start..end], dep.name, "in {line:?}");
    }
    assert!(extracted.findings.is_empty(), "{:#?}", extracted.findings);
    assert!(extracted.includes.is_empty());
}

#[test]
fn crlf_and_lone_cr_twins_give_the_same_names_and_spans() {
    let file = load("forms.txt");
    let reference = deps_of(&deps::extract(&file, DepSource::Requirements));
    for ending in ["\r\n", "\r"] {
        let twin = SourceFile::new(
            "reqs/forms.txt",
            file.abs_path.clone(),
            file.text.replace('\n', ending),
        );
        let extracted = deps::extract(&twin, DepSource::Requirements);
        assert_eq!(deps_of(&extracted), reference, "{ending:?}");
    }
    // A BOM is removed by SourceFile; columns do not count it.
    let bom = SourceFile::new(
        "reqs/bom.txt",
        "bom.txt",
        "\u{feff}numpy==1\r\n".to_string(),
    );
    assert_eq!(
        deps_of(&deps::extract(&bom, DepSource::Requirements)),
        ["numpy 1:1-1:6"]
    );
}

#[test]
fn includes_resolve_against_the_including_file_and_skip_urls_and_variables() {
    let file = load("includes/requirements.txt");
    let extracted = deps::extract(&file, DepSource::Requirements);
    let dir = fixtures().join("includes");
    let includes: Vec<(PathBuf, &str, bool, u32)> = extracted
        .includes
        .iter()
        .map(|include| {
            (
                include.path.clone(),
                include.written.as_str(),
                include.constraint,
                include.span.line,
            )
        })
        .collect();
    assert_eq!(
        includes,
        [
            (dir.join("base.txt"), "base.txt", false, 1),
            (dir.join("constraints.txt"), "constraints.txt", true, 2),
            (dir.join("nested/dev.txt"), "nested/dev.txt", false, 3),
            (dir.join("missing.txt"), "missing.txt", false, 8),
        ]
    );
    // The span covers the include as written.
    let first = &extracted.includes[0].span;
    assert_eq!((first.column, first.end_line, first.end_column), (1, 1, 12));
    assert_eq!(deps_of(&extracted), ["numpy 7:1-7:6"]);
    assert!(extracted.findings.is_empty(), "{:#?}", extracted.findings);

    // A nested file's includes resolve against its own directory (here closing a cycle, which
    // the scan driver reports).
    let nested = deps::extract(&load("includes/nested/dev.txt"), DepSource::Requirements);
    assert_eq!(
        nested.includes[0].path,
        dir.join("nested").join("../requirements.txt")
    );
    assert_eq!(deps_of(&nested), ["pytest 2:1-2:7"]);
}

#[test]
fn includes_in_a_fresh_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements-dev.in");
    std::fs::write(&path, "-r requirements.in\n-c ../constraints.txt\nblack\n").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let file = SourceFile::new("requirements-dev.in", &path, text);
    let extracted = deps::extract(&file, DepSource::Requirements);
    assert_eq!(
        extracted.includes[0].path,
        dir.path().join("requirements.in")
    );
    assert_eq!(
        extracted.includes[1].path,
        dir.path().join("../constraints.txt")
    );
    assert!(extracted.includes[1].constraint);
    assert_eq!(deps_of(&extracted), ["black 3:1-3:6"]);
}

#[test]
fn invalid_lines_become_parse_errors_and_the_rest_goes_on() {
    let file = load("errors.txt");
    let extracted = deps::extract(&file, DepSource::Requirements);
    let findings: Vec<(u32, u32, Severity, &str)> = extracted
        .findings
        .iter()
        .map(|f| (f.line, f.column, f.severity, f.message.as_str()))
        .collect();
    assert!(
        extracted
            .findings
            .iter()
            .all(|f| f.rule == rules::PARSE_ERROR.id)
    );
    assert!(
        extracted
            .findings
            .iter()
            .all(|f| f.path == "reqs/errors.txt")
    );
    // One finding per broken line, at the broken part.
    let lines: Vec<u32> = findings.iter().map(|f| f.0).collect();
    assert_eq!(lines, (1..=18).collect::<Vec<u32>>());
    assert_eq!(findings[0].1, 9); // `=2.31.0` in `requests=2.31.0`
    assert!(findings[0].3.contains("did you mean `==`"));
    assert_eq!(findings[14].2, Severity::Warning); // `--hash=sha256:000`: pip accepts it
    assert!(
        findings
            .iter()
            .filter(|f| f.0 != 15)
            .all(|f| f.2 == Severity::Error)
    );
    // Names are still reported, including the leading word of a refused line, so that the
    // look-alike `reqսests` (Armenian letter) is still checked by mlsupply-typo.
    let names: Vec<&str> = extracted.deps.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "requests",
            "foo",
            "bar",
            "pkg",
            "pkg",
            "pkg",
            "pkg",
            "reqսests",
            "valid-after-errors"
        ]
    );
}

#[test]
fn findings_never_carry_credentials() {
    let file = load("options.txt");
    let extracted = deps::extract(&file, DepSource::Requirements);
    assert!(!extracted.findings.is_empty());
    for finding in &extracted.findings {
        assert!(!finding.message.contains("hunter2"), "{}", finding.message);
        assert!(!finding.subject.contains("hunter2"), "{}", finding.subject);
    }
    let warned: Vec<u32> = extracted.findings.iter().map(|f| f.line).collect();
    assert_eq!(warned, [20, 20, 21, 22]);
    assert!(
        extracted
            .findings
            .iter()
            .all(|f| f.severity == Severity::Warning)
    );
    // Include targets named by a URL are not followed; every local one is.
    let written: Vec<&str> = extracted
        .includes
        .iter()
        .map(|i| i.written.as_str())
        .collect();
    assert_eq!(
        written,
        [
            "base.txt",
            "dev.txt",
            "dir with spaces/more.txt",
            "constraints.txt",
            "first.txt"
        ]
    );
}

#[test]
fn environment_variables_are_never_expanded() {
    // The parser never reads the process environment (pep508_rs's URL type would expand
    // `${VAR}`; ours keeps the text), so names and URLs stay as written.
    let file = load("env-vars.txt");
    let extracted = deps::extract(&file, DepSource::Requirements);
    let names: Vec<&str> = extracted.deps.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["torch", "private", "numpy"]);
    // `-r ${REQ_DIR}/base.txt` is not followed.
    assert!(extracted.includes.is_empty());
    // `$NOT_A_VAR==1.0` is not a variable for pip: an invalid requirement.
    assert_eq!(extracted.findings.len(), 1);
    assert_eq!(extracted.findings[0].line, 7);
}

/// A `-r` chain thousands of files deep is walked without recursion (issue 19: 9,000 files
/// overflowed the stack and aborted every binary), in the same order, and its cycle is reported.
#[test]
fn a_deep_include_chain_is_read_to_the_end() {
    const DEPTH: usize = 9_000;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("deps")).expect("mkdir");
    std::fs::write(
        dir.path().join("requirements.txt"),
        "-r deps/f1.lock\nnumpy==1.0\n",
    )
    .expect("write");
    for i in 1..DEPTH {
        let text = format!("-r f{}.lock\n", i + 1);
        std::fs::write(dir.path().join(format!("deps/f{i}.lock")), text).expect("write");
    }
    // The last file closes a cycle back to the first and names a typosquat.
    std::fs::write(
        dir.path().join(format!("deps/f{DEPTH}.lock")),
        "reqeusts==1.0\n-r f1.lock\n",
    )
    .expect("write");
    let target = mlsupply::scan::Target {
        root: dir.path().to_path_buf(),
        paths: Vec::new(),
    };
    let scan = mlsupply::scan::scan_dependencies(&target, &mlsupply::config::Config::default());
    let paths: Vec<&str> = scan.files.iter().map(|f| f.rel_path.as_str()).collect();
    assert_eq!(paths.len(), DEPTH + 1);
    assert_eq!(
        paths[..3],
        ["requirements.txt", "deps/f1.lock", "deps/f2.lock"]
    );
    let last = format!("deps/f{DEPTH}.lock");
    assert_eq!(paths[DEPTH], last);
    let names: Vec<(&str, &str)> = scan
        .names()
        .map(|(path, dep)| (path, dep.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("requirements.txt", "numpy"), (last.as_str(), "reqeusts")]
    );
    let findings: Vec<(&str, &str, u32)> = scan
        .findings
        .iter()
        .map(|f| (f.rule.as_ref(), f.path.as_str(), f.span().line))
        .collect();
    assert_eq!(findings, [(rules::INCLUDE_CYCLE.id, last.as_str(), 2)]);
}
