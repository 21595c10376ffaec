//! Dependency names in manifests (pyproject.toml, Pipfile, setup.cfg, setup.py): exact names
//! and spans on real-world shaped fixtures, their malformed variants, and CRLF twins.

use std::path::{Path, PathBuf};

use mlsupply::deps::{self, DeclaredDep, DepSource, Extracted};
use mlsupply::source::SourceFile;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests")
}

/// Reads a fixture as the scanner would: relative path is its file name.
fn load(rel: &str) -> SourceFile {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let name = rel.rsplit('/').next().unwrap();
    SourceFile::new(name, path, text)
}

fn with_text(file: &SourceFile, text: String) -> SourceFile {
    SourceFile::new(file.rel_path.clone(), file.abs_path.clone(), text)
}

/// Extracts `rel` through the public dispatch, and checks that the CRLF twin of the file
/// gives the very same names, spans and findings.
fn extract(rel: &str) -> Extracted {
    let file = load(rel);
    let kind = deps::classify(&file.rel_path).expect("a manifest file name");
    let lf = deps::extract(&file, kind);
    let crlf_text = file.text.replace("\r\n", "\n").replace('\n', "\r\n");
    let crlf = deps::extract(&with_text(&file, crlf_text), kind);
    assert_eq!(lf.deps, crlf.deps, "{rel}: CRLF changed the names or spans");
    assert_eq!(
        lf.findings, crlf.findings,
        "{rel}: CRLF changed the findings"
    );
    for dep in &lf.deps {
        assert_eq!(dep.span.line, dep.span.end_line, "{rel}: {dep:?}");
        let written = spanned_text(&file, dep);
        // The span covers the name as written: the name itself, or its escaped spelling.
        assert!(
            written == dep.name || written.contains('\\'),
            "{rel}: span of {:?} covers {written:?}",
            dep.name
        );
    }
    lf
}

fn spanned_text(file: &SourceFile, dep: &DeclaredDep) -> String {
    let start = file.offset(dep.span.line, dep.span.column).unwrap();
    let end = file.offset(dep.span.end_line, dep.span.end_column).unwrap();
    file.text[start..end].to_string()
}

/// (name, line, column, end_column) of every dependency.
fn names(extracted: &Extracted) -> Vec<(String, u32, u32, u32)> {
    extracted
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
        .collect()
}

fn expect(list: &[(&str, u32, u32, u32)]) -> Vec<(String, u32, u32, u32)> {
    list.iter()
        .map(|&(name, line, column, end)| (name.to_string(), line, column, end))
        .collect()
}

/// (rule, line, column, end_column) of every finding.
fn findings(extracted: &Extracted) -> Vec<(&str, u32, u32, u32)> {
    extracted
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line, f.column, f.end_column))
        .collect()
}

#[test]
fn pyproject_pep621_groups_build_system_and_tool_tables() {
    let out = extract("pep621/pyproject.toml");
    assert_eq!(
        names(&out),
        expect(&[
            ("hatchling", 3, 14, 23),
            ("hatch-vcs", 3, 33, 42),
            ("numpy", 12, 6, 11),
            ("torch", 13, 6, 11),
            ("safetensors", 14, 6, 17),
            ("huggingface-hub", 15, 6, 21),
            // `\u0074qdm`: the value is tqdm, the span covers the escape as written.
            ("tqdm", 16, 6, 15),
            ("nump\u{443}", 17, 6, 16),
            // Columns count characters: the Greek letter is one column.
            ("req\u{3c5}ests", 18, 6, 14),
            ("pillow", 19, 8, 14),
            ("nvidia-ml-py", 24, 9, 21),
            ("triton", 24, 29, 35),
            ("sphinx", 26, 6, 12),
            ("pytest", 36, 10, 16),
            ("pytest-cov", 36, 23, 33),
            ("ruff", 37, 37, 41),
            ("ipython", 40, 22, 29),
            ("grpcio", 41, 29, 35),
            ("protobuf", 42, 27, 35),
            ("mypy", 45, 10, 14),
            ("pytest-benchmark", 48, 18, 34),
            ("memray", 49, 24, 30),
        ])
    );
    assert!(out.includes.is_empty());
    assert_eq!(
        findings(&out),
        [
            ("parse-error", 20, 5, 7),
            ("parse-error", 27, 5, 25),
            ("parse-error", 28, 5, 38),
            ("parse-error", 29, 5, 6),
        ]
    );
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(messages[0].contains("[project] dependencies") && messages[0].contains("empty"));
    assert!(messages[1].contains("[project.optional-dependencies] docs"));
    assert!(messages[1].contains("not a requirement!"));
    assert!(messages[2].contains("package name"));
    assert!(messages[3].contains("expected a requirement string"));
    assert_eq!(out.findings[1].subject, "not a requirement!");
}

#[test]
fn pyproject_poetry_and_pixi_keys_are_names() {
    let out = extract("poetry/pyproject.toml");
    assert_eq!(
        names(&out),
        expect(&[
            ("fastapi", 10, 1, 8),
            // Quoted keys: the span is inside the quotes.
            ("zope.interface", 11, 2, 16),
            ("transformers", 12, 1, 13),
            ("uvicorn", 13, 1, 8),
            ("tokenizers", 17, 2, 12),
            ("my_lib", 18, 1, 7),
            // Declared by a table header: `[tool.poetry.dependencies.onnxruntime]`.
            ("onnxruntime", 21, 27, 38),
            ("black", 26, 1, 6),
            ("pytest", 29, 1, 7),
            ("mkdocs", 36, 1, 7),
            ("opencv-python-headless", 42, 1, 23),
            ("cupy-cuda12x", 45, 1, 13),
            ("poetry-core", 51, 14, 25),
        ])
    );
    // `python`/`Python` are the interpreter; `[tool.pixi.dependencies]` are conda packages;
    // `[tool.poetry.extras]` only refers to names declared above.
    for absent in ["python", "Python", "cudatoolkit", "onnx"] {
        assert!(out.deps.iter().all(|d| d.name != absent), "{absent}");
    }
    assert_eq!(findings(&out), [("parse-error", 19, 1, 12)]);
    assert!(
        out.findings[0]
            .message
            .contains("\"bad name!\" is not a valid package name")
    );
}

#[test]
fn broken_toml_reports_the_line_and_reads_the_rest() {
    let out = extract("broken-toml/pyproject.toml");
    assert_eq!(findings(&out), [("parse-error", 8, 5, 5)]);
    let message = &out.findings[0].message;
    assert!(
        message.starts_with("invalid TOML: missing comma"),
        "{message}"
    );
    assert!(message.contains("the rest of the file was"), "{message}");
    assert_eq!(
        names(&out),
        expect(&[
            ("setuptools", 2, 14, 24),
            ("wheel", 2, 32, 37),
            ("requests", 7, 6, 14),
            ("click", 13, 9, 14),
        ])
    );
}

#[test]
fn unclosed_array_loses_its_table_but_says_where() {
    let file = SourceFile::new(
        "pyproject.toml",
        "pyproject.toml",
        "[project]\ndependencies = [\n  \"numpy\",\n  \"torch\",\n".to_string(),
    );
    let out = deps::extract(&file, DepSource::Pyproject);
    assert!(out.deps.is_empty());
    // toml_edit notices at the end of the last element's line.
    assert_eq!(findings(&out), [("parse-error", 4, 11, 11)]);
    let message = &out.findings[0].message;
    assert!(message.contains("unclosed array"), "{message}");
}

#[test]
fn hopeless_toml_is_one_finding_and_no_names() {
    let text = "= broken\n".repeat(30) + "[packages]\nnumpy = \"*\"\n";
    let file = SourceFile::new("Pipfile", "Pipfile", text);
    let out = deps::extract(&file, DepSource::Pipfile);
    assert!(out.deps.is_empty());
    assert_eq!(findings(&out), [("parse-error", 1, 1, 1)]);
    assert_eq!(out.findings[0].path, "Pipfile");
    assert!(
        out.findings[0]
            .message
            .contains("nothing in the file could be read"),
        "{}",
        out.findings[0].message
    );
}

#[test]
fn hostile_toml_nesting_gives_a_finding_not_a_crash() {
    let deep = format!(
        "[project]\ndependencies = {}\"numpy\"{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let file = SourceFile::new("pyproject.toml", "pyproject.toml", deep);
    let out = deps::extract(&file, DepSource::Pyproject);
    assert!(out.deps.is_empty());
    assert!(!out.findings.is_empty());
    assert!(out.findings.iter().all(|f| f.rule == "parse-error"));
}

#[test]
fn committed_crlf_fixture_matches_its_lf_reading() {
    let file = load("crlf/pyproject.toml");
    assert!(file.text.contains("\r\n"), "the fixture must keep CRLF");
    let out = extract("crlf/pyproject.toml");
    assert_eq!(
        names(&out),
        expect(&[
            ("pywin32", 5, 6, 13),
            // A multi-line string's first line break (CRLF here) is not part of the value.
            ("comtypes", 7, 1, 9),
            ("requests", 8, 6, 14),
            ("pyinstaller", 13, 2, 13),
        ])
    );
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn bom_does_not_shift_columns() {
    let file = SourceFile::new(
        "Pipfile",
        "Pipfile",
        "\u{feff}[packages]\nnumpy = \"*\"\n".to_string(),
    );
    let out = deps::extract(&file, DepSource::Pipfile);
    assert_eq!(names(&out), expect(&[("numpy", 2, 1, 6)]));
}

#[test]
fn pipfile_packages_dev_packages_and_custom_categories() {
    let out = extract("pipfile/Pipfile");
    assert_eq!(
        names(&out),
        expect(&[
            ("requests", 13, 1, 9),
            ("zope.interface", 14, 2, 16),
            ("torch", 15, 1, 6),
            ("records", 16, 1, 8),
            ("django-filter", 17, 2, 15),
            ("pywinusb", 18, 1, 9),
            ("e1071-tools", 19, 2, 13),
            ("pytest", 22, 1, 7),
            ("flake8", 23, 2, 8),
            // `[docs]` is a custom category; `[scripts]`, `[requires]`, `[pipenv]`, `[[source]]`
            // are settings, and `[settings]` holds numbers and booleans, not packages.
            ("sphinx", 26, 1, 7),
            ("sphinx-rtd-theme", 27, 1, 17),
        ])
    );
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn broken_pipfile_reports_the_line_and_reads_the_rest() {
    let out = extract("pipfile-broken/Pipfile");
    assert_eq!(findings(&out), [("parse-error", 3, 16, 16)]);
    assert!(out.findings[0].message.contains("invalid TOML"));
    assert_eq!(
        names(&out),
        expect(&[
            ("requests", 2, 1, 9),
            ("flask", 4, 1, 6),
            ("pytest", 7, 1, 7)
        ])
    );
}

#[test]
fn setup_cfg_options_extras_and_file_includes() {
    let out = extract("setup-cfg/setup.cfg");
    assert_eq!(
        names(&out),
        expect(&[
            // `[metadata] requires-dist`, for old `wheel` releases.
            ("typing_extensions", 8, 5, 22),
            ("importlib-metadata", 15, 5, 23),
            ("numpy", 16, 5, 10),
            ("Pillow", 18, 5, 11),
            ("scikit-image", 20, 5, 17),
            // A one-line value is split at `;`, as setuptools does.
            ("setuptools_scm", 21, 18, 32),
            ("wheel", 21, 34, 39),
            // `tests-require:`: dash spelling and `:` delimiter, continued on the next line.
            ("pytest", 22, 16, 22),
            ("pytest-xdist", 23, 5, 17),
            ("coverage", 32, 5, 13),
            ("pytest-mock", 33, 5, 16),
            ("imgtools", 35, 7, 15),
            ("opencv-python", 35, 27, 40),
        ])
    );
    // `where = src`, `exclude = tests`, entry points and `[flake8]` are not requirements.
    for absent in ["src", "tests", "imgtools = imgtools.cli:run", "E203"] {
        assert!(out.deps.iter().all(|d| d.name != absent), "{absent}");
    }
    let dir = fixtures().join("setup-cfg");
    let includes: Vec<(&str, PathBuf, bool, u32)> = out
        .includes
        .iter()
        .map(|i| {
            (
                i.written.as_str(),
                i.path.clone(),
                i.constraint,
                i.span.line,
            )
        })
        .collect();
    assert_eq!(
        includes,
        [
            (
                "requirements/gpu.txt",
                dir.join("requirements/gpu.txt"),
                false,
                34
            ),
            (
                "requirements/cuda.txt",
                dir.join("requirements/cuda.txt"),
                false,
                34
            ),
        ]
    );
    assert_eq!(findings(&out), [("parse-error", 36, 16, 32)]);
    assert!(out.findings[0].message.contains("outside the project"));
}

#[test]
fn malformed_setup_cfg_reports_each_problem_and_goes_on() {
    let out = extract("setup-cfg-malformed/setup.cfg");
    assert_eq!(
        findings(&out),
        [
            ("parse-error", 1, 1, 26),
            ("parse-error", 5, 5, 13),
            ("parse-error", 6, 1, 27),
            ("parse-error", 7, 1, 10),
            ("parse-error", 9, 1, 21),
        ]
    );
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(messages[0].contains("before any [section]"));
    assert!(messages[1].contains("numpy>>1"));
    assert!(messages[2].contains("not a [section]"));
    assert!(messages[3].contains("section [options] appears twice"));
    assert!(messages[4].contains("`tests_require` appears twice"));
    assert_eq!(
        names(&out),
        expect(&[
            ("requests", 4, 5, 13),
            // The name of a requirement with a bad version is still reported.
            ("numpy", 5, 5, 10),
            ("pytest", 8, 17, 23),
            ("nose", 9, 17, 21),
            ("black", 11, 7, 12),
        ])
    );
}

#[test]
fn setup_py_literals_and_names_bound_to_them() {
    let out = extract("setup-py/setup.py");
    assert_eq!(
        names(&out),
        expect(&[
            ("charset_normalizer", 11, 6, 24),
            ("idna", 12, 6, 10),
            ("urllib3", 13, 6, 13),
            ("certifi", 14, 6, 13),
            // `requires.append(...)` inside an `if`, and `requires += [...]`.
            ("pywin32", 17, 22, 29),
            ("typing-extensions", 18, 15, 32),
            // A tuple `+` a tuple.
            ("pytest-httpbin", 21, 6, 20),
            ("pytest-mock", 22, 6, 17),
            ("pytest", 23, 7, 13),
            // extras_require=EXTRAS, a dict, plus `EXTRAS["all"] = [...]`.
            ("PySocks", 31, 16, 23),
            ("chardet", 32, 29, 36),
            ("brotli", 34, 19, 25),
            ("zstandard", 34, 29, 38),
            // A multi-line string: one requirement per line, ` #` comments dropped.
            ("setuptools", 42, 9, 19),
            ("wheel", 43, 9, 14),
        ])
    );
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn setup_py_kwargs_aliases_and_function_scope() {
    let out = extract("setup-py-kwargs/setup.py");
    assert_eq!(
        names(&out),
        expect(&[
            // `_setup(**setup_kwargs)` with `'install_requires': install_requires`.
            ("jinja2", 10, 22, 28),
            ("pyyaml", 10, 42, 48),
            ("importlib-resources", 13, 31, 50),
            ("huggingface-hub", 14, 11, 26),
            // `local = ["click>=8"] + CLI_EXTRA` in main(); CLI_EXTRA is bound after main()
            // is defined but before it runs.
            ("click", 28, 15, 20),
            ("rich", 32, 15, 19),
            // `distutils.core.setup(install_requires=("six",))`.
            ("six", 34, 82, 85),
        ])
    );
    // `self.setup(...)` is not setuptools; `dict(a=1) and [...]` is not a literal.
    assert!(
        out.deps
            .iter()
            .all(|d| d.name != "not-a-setup-call" && d.name != "cython")
    );
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn setup_py_with_a_syntax_error_still_gives_its_names() {
    let out = extract("setup-py-broken/setup.py");
    assert_eq!(findings(&out), [("parse-error", 5, 12, 12)]);
    assert!(out.findings[0].message.contains("Python syntax error"));
    assert_eq!(
        names(&out),
        expect(&[
            ("numpy", 3, 14, 19),
            ("scipy", 3, 23, 28),
            ("matplotlib", 11, 31, 41),
        ])
    );
}

#[test]
fn setup_py_computed_values_are_skipped_quietly() {
    let out = extract("setup-py-dynamic/setup.py");
    // Only the literal member of a list that also holds an f-string.
    assert_eq!(names(&out), expect(&[("pytest", 12, 40, 46)]));
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn setup_py_invalid_requirement_is_reported_once_even_when_used_twice() {
    let text = "from setuptools import setup\nREQS = ['ok', 'numpy>>1']\n\
                setup(install_requires=REQS, tests_require=REQS)\n";
    let file = SourceFile::new("setup.py", "setup.py", text.to_string());
    let out = deps::extract(&file, DepSource::SetupPy);
    assert_eq!(
        names(&out),
        expect(&[("ok", 2, 10, 12), ("numpy", 2, 16, 21)])
    );
    assert_eq!(findings(&out), [("parse-error", 2, 16, 24)]);
}

#[test]
fn setup_py_cyclic_names_terminate() {
    let text = "from setuptools import setup\nA = B\nB = A + ['x']\nA = B\n\
                setup(install_requires=A)\n";
    let file = SourceFile::new("setup.py", "setup.py", text.to_string());
    let out = deps::extract(&file, DepSource::SetupPy);
    assert_eq!(names(&out), expect(&[("x", 3, 11, 12)]));
}

#[test]
fn setup_py_exponential_name_use_is_bounded() {
    // Each name is bound ten times to twice the next one: 20^8 paths without a budget.
    let mut text = String::from("from setuptools import setup\nN8 = ['leaf']\n");
    for level in (0..8).rev() {
        for _ in 0..10 {
            text.push_str(&format!("N{level} = N{next} + N{next}\n", next = level + 1));
        }
    }
    text.push_str("setup(install_requires=N0)\n");
    let file = SourceFile::new("setup.py", "setup.py", text);
    let started = std::time::Instant::now();
    let out = deps::extract(&file, DepSource::SetupPy);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert!(out.findings.is_empty());
}

#[test]
fn pyproject_wrong_types_are_reported_and_skipped() {
    let text = "[project]\ndependencies = \"numpy\"\n\n[project.optional-dependencies]\n\
                dev = [\"pytest\", { name = \"x\" }]\n\n[dependency-groups]\n\
                lint = [{ include-group = \"dev\" }, \"ruff\"]\n";
    let file = SourceFile::new("pyproject.toml", "pyproject.toml", text.to_string());
    let out = deps::extract(&file, DepSource::Pyproject);
    assert_eq!(
        names(&out),
        expect(&[("pytest", 5, 9, 15), ("ruff", 8, 37, 41)])
    );
    assert_eq!(
        findings(&out),
        [("parse-error", 2, 16, 23), ("parse-error", 5, 18, 32)]
    );
    assert!(out.findings[0].message.contains("expected an array"));
    assert!(
        out.findings[1]
            .message
            .contains("expected a requirement string")
    );
}

#[test]
fn dotted_and_non_ascii_keys_are_names() {
    let text = "[packages]\nnumpy.version = \"*\"\n\"reqυests\" = \"*\"\n\"a b\" = \"*\"\n";
    let file = SourceFile::new("Pipfile", "Pipfile", text.to_string());
    let out = deps::extract(&file, DepSource::Pipfile);
    assert_eq!(
        names(&out),
        expect(&[("numpy", 2, 1, 6), ("req\u{3c5}ests", 3, 2, 10)])
    );
    // A name with a space is not a package; a non-ASCII one is left to the typo check.
    assert_eq!(findings(&out), [("parse-error", 4, 1, 6)]);
}

/// Every fixture cut short at many points, and with a quote or bracket spliced in, still
/// gives a result (names or findings), never a panic.
#[test]
fn truncated_and_spliced_fixtures_never_panic() {
    let fixtures = [
        "pep621/pyproject.toml",
        "poetry/pyproject.toml",
        "pipfile/Pipfile",
        "setup-cfg/setup.cfg",
        "setup-py/setup.py",
        "setup-py-kwargs/setup.py",
    ];
    for rel in fixtures {
        let file = load(rel);
        let kind = deps::classify(&file.rel_path).unwrap();
        let cuts: Vec<usize> = file
            .text
            .char_indices()
            .map(|(i, _)| i)
            .step_by(11)
            .collect();
        for &cut in &cuts {
            let truncated = file.text[..cut].to_string();
            deps::extract(&with_text(&file, truncated), kind);
            for splice in ["\"", "[", "é\\x1"] {
                let mut spliced = file.text.clone();
                spliced.insert_str(cut, splice);
                deps::extract(&with_text(&file, spliced), kind);
            }
        }
    }
}
