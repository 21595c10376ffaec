//! Install commands (`pip install`, `uv add`, `poetry add`, ...) in shell scripts, Dockerfiles and
//! Makefiles, and the command-line parser that notebooks, workflows and conda files reuse.
//!
//! A logical command line is a [`MappedText`]: continuation lines joined, but every byte still
//! pointing into the scanned file, so each package name gets its exact line and column. The line
//! is split by the position-keeping tokenizer in [`super::cmd_shell`]; each simple command is
//! stripped of prefixes (`VAR=1`, `sudo`, `env`, `conda run -n x`, `python -m`, ...) and, when it
//! is an installer, its arguments are read with that installer's option table: options and their
//! values are skipped, `-r`/`-c` files become [`Include`]s, local paths, URLs and archives are
//! skipped, and the name is taken out of each requirement (`name[extra]==1`, `"name>=1; marker"`,
//! `name @ url`). Nothing is ever executed or expanded: a word built from `$VAR` is not a name.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::cmd_shell::{self, Heredoc, SimpleCommand, Word};
use super::cmd_text::MappedText;
use super::{DeclaredDep, Extracted, Include};
use crate::finding::{Finding, Span};
use crate::rules;
use crate::source::SourceFile;

/// Which installer a command runs, which decides how its arguments are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `pip install|download|wheel`
    Pip,
    /// `uv pip install`
    UvPip,
    /// `uv add`
    UvAdd,
    /// `uv tool install`
    UvTool,
    /// `uvx pkg ...` / `uv tool run pkg ...`: only the first argument is a package.
    UvRun,
    PipxInstall,
    /// `pipx run pkg ...`
    PipxRun,
    /// `pipx inject VENV pkg...`
    PipxInject,
    PoetryAdd,
    PdmAdd,
    PipenvInstall,
}

/// How an installer's options are read.
struct Spec {
    /// Options whose value is a requirements file (followed as an [`Include`]).
    requirement: &'static [&'static str],
    /// Options whose value is a constraints (or overrides) file.
    constraint: &'static [&'static str],
    /// Options whose value is itself a package to install (`uvx --from`, `pipx --preinstall`).
    package: &'static [&'static str],
    /// Every other option that takes a value; options not listed are flags.
    value: &'static [&'static str],
    /// Only the first positional is a package; later ones are arguments of the tool it runs.
    first_only: bool,
    /// Positionals that are not packages (`pipx inject VENV`).
    skip_positionals: usize,
}

const PIP_VALUE: &[&str] = &[
    "-e",
    "--editable",
    "-t",
    "--target",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--root",
    "--prefix",
    "--src",
    "--upgrade-strategy",
    "-C",
    "--config-settings",
    "--global-option",
    "--install-option",
    "--build-option",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-binary",
    "--only-binary",
    "--progress-bar",
    "--root-user-action",
    "--report",
    "--log",
    "--log-file",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--cache-dir",
    "--python",
    "--keyring-provider",
    "--use-feature",
    "--use-deprecated",
    "--group",
    "-d",
    "--dest",
    "-w",
    "--wheel-dir",
    "-b",
    "--build",
    "--resume-retries",
];

const UV_VALUE: &[&str] = &[
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "--index",
    "--default-index",
    "-f",
    "--find-links",
    "-p",
    "--python",
    "-t",
    "--target",
    "--prefix",
    "--index-strategy",
    "--keyring-provider",
    "-P",
    "--upgrade-package",
    "--reinstall-package",
    "--no-build-package",
    "--no-binary-package",
    "--only-binary",
    "--no-binary",
    "--resolution",
    "--prerelease",
    "--exclude-newer",
    "-C",
    "--config-setting",
    "--config-settings",
    "--python-version",
    "--python-platform",
    "--link-mode",
    "--cache-dir",
    "--color",
    "--config-file",
    "--directory",
    "--project",
    "--group",
    "--extra",
    "--torch-backend",
    "--allow-insecure-host",
    "--refresh-package",
    "--no-build-isolation-package",
    "--fork-strategy",
    "--optional",
    "--rev",
    "--tag",
    "--branch",
    "--package",
    "--script",
    "--bounds",
    "-m",
    "--marker",
    "--with-editable",
    "--exclude-newer-package",
    "--only-group",
    "--no-group",
];

const PIPX_VALUE: &[&str] = &[
    "--suffix",
    "--python",
    "-i",
    "--index-url",
    "--pip-args",
    "--backend",
    "--fetch-python",
];

const POETRY_VALUE: &[&str] = &[
    "-G",
    "--group",
    "-E",
    "--extras",
    "--optional",
    "--python",
    "--platform",
    "--source",
    "-C",
    "--directory",
    "-P",
    "--project",
    "--markers",
];

const PDM_VALUE: &[&str] = &[
    "-G",
    "--group",
    "-e",
    "--editable",
    "-p",
    "--project",
    "-L",
    "--lockfile",
    "-k",
    "--skip",
    "--venv",
    "--update-strategy",
];

const PIPENV_VALUE: &[&str] = &[
    "--python",
    "--categories",
    "--index",
    "-i",
    "--pypi-mirror",
    "-e",
    "--editable",
    "--extra-pip-args",
];

impl Mode {
    fn spec(self) -> Spec {
        let base = Spec {
            requirement: &[],
            constraint: &[],
            package: &[],
            value: &[],
            first_only: false,
            skip_positionals: 0,
        };
        match self {
            Mode::Pip => Spec {
                requirement: &["-r", "--requirement"],
                constraint: &["-c", "--constraint"],
                value: PIP_VALUE,
                ..base
            },
            Mode::UvPip | Mode::UvAdd => Spec {
                requirement: &["-r", "--requirement", "--requirements"],
                constraint: &[
                    "-c",
                    "--constraint",
                    "--constraints",
                    "--override",
                    "--overrides",
                    "-b",
                    "--build-constraint",
                    "--build-constraints",
                ],
                value: UV_VALUE,
                ..base
            },
            Mode::UvTool => Spec {
                requirement: &["--with-requirements"],
                constraint: &["-c", "--constraints", "--overrides", "--build-constraints"],
                package: &["--from", "-w", "--with"],
                value: UV_VALUE,
                ..base
            },
            Mode::UvRun => Spec {
                requirement: &["--with-requirements"],
                package: &["--from", "-w", "--with"],
                value: UV_VALUE,
                first_only: true,
                ..base
            },
            Mode::PipxInstall => Spec {
                package: &["--preinstall"],
                value: PIPX_VALUE,
                ..base
            },
            Mode::PipxRun => Spec {
                package: &["--spec"],
                value: PIPX_VALUE,
                first_only: true,
                ..base
            },
            Mode::PipxInject => Spec {
                requirement: &["-r", "--requirement"],
                value: PIPX_VALUE,
                skip_positionals: 1,
                ..base
            },
            Mode::PoetryAdd => Spec {
                value: POETRY_VALUE,
                ..base
            },
            Mode::PdmAdd => Spec {
                value: PDM_VALUE,
                ..base
            },
            Mode::PipenvInstall => Spec {
                requirement: &["-r", "--requirements"],
                value: PIPENV_VALUE,
                ..base
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Recognising an installer in a simple command.

/// The program name of `word`: its last path component, without `.exe`.
fn program(word: &Word) -> Option<&str> {
    if !word.is_literal() {
        return None;
    }
    let name = word.as_str().rsplit(['/', '\\']).next()?;
    Some(name.strip_suffix(".exe").unwrap_or(name))
}

fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip")
        .is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit() || c == b'.'))
}

fn is_python(name: &str) -> bool {
    name == "py"
        || ["python", "pypy"].iter().any(|p| {
            name.strip_prefix(p).is_some_and(|v| {
                v.bytes()
                    .all(|c| c.is_ascii_digit() || c == b'.' || c == b'w' || c == b't')
            })
        })
}

fn bare(words: &[Word], i: usize, s: &str) -> bool {
    words
        .get(i)
        .is_some_and(|w| w.is_literal() && w.as_str() == s)
}

/// Index of the first word at or after `i` that is not an option; options in `with_value`
/// consume the next word too.
fn skip_options(words: &[Word], mut i: usize, with_value: &[&str]) -> usize {
    while let Some(word) = words.get(i) {
        let s = word.as_str();
        if !s.starts_with('-') || s == "-" {
            break;
        }
        i += 1;
        if s == "--" {
            break;
        }
        if !s.contains('=') && with_value.contains(&s) {
            i += 1;
        }
    }
    i
}

fn is_assignment(word: &Word) -> bool {
    let s = word.as_str();
    match s.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && word.is_literal_at(0)
        }
        None => false,
    }
}

/// The installer a simple command runs and the index of its first argument.
fn recognise(words: &[Word]) -> Option<(Mode, usize)> {
    let mut i = 0;
    // Wrappers can nest (`sudo -H env X=1 python -m pip`); each round strips one.
    for _ in 0..16 {
        while words
            .get(i)
            .is_some_and(|w| cmd_shell::is_prefix_keyword(w) || is_assignment(w))
        {
            i += 1;
        }
        let word = words.get(i)?;
        let name = program(word).unwrap_or("");
        match name {
            "sudo" | "doas" => {
                i = skip_options(
                    words,
                    i + 1,
                    &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"],
                );
                continue;
            }
            "env" => {
                i = skip_options(words, i + 1, &["-u", "--unset", "-C", "--chdir", "-S"]);
                continue;
            }
            "nice" | "stdbuf" | "timeout" | "xargs" => {
                i = skip_options(
                    words,
                    i + 1,
                    &[
                        "-n",
                        "--adjustment",
                        "-s",
                        "--signal",
                        "-k",
                        "-I",
                        "-L",
                        "-P",
                        "-d",
                    ],
                );
                // `timeout 60 pip install`
                if name == "timeout"
                    && words
                        .get(i)
                        .is_some_and(|w| w.as_str().starts_with(|c: char| c.is_ascii_digit()))
                {
                    i += 1;
                }
                continue;
            }
            "conda" | "mamba" | "micromamba" if bare(words, i + 1, "run") => {
                i = skip_options(
                    words,
                    i + 2,
                    &["-n", "--name", "-p", "--prefix", "--cwd", "-a", "--arch"],
                );
                continue;
            }
            "poetry" | "pdm" | "pipenv" | "hatch" | "rye" if bare(words, i + 1, "run") => {
                i = skip_options(
                    words,
                    i + 2,
                    &["-e", "--env", "-p", "--project", "-C", "--directory"],
                );
                continue;
            }
            "uv" if bare(words, i + 1, "run") => {
                // `uv run --with x pip install`: the --with packages are not read here.
                i = skip_options(words, i + 2, UV_VALUE);
                continue;
            }
            _ => {}
        }
        let after = i + 1;
        if is_python(name)
            || bare(words, after, "-m")
            || words.get(after).is_some_and(|w| {
                w.as_str().starts_with("-m") && w.as_str().len() > 2 && w.is_literal()
            })
        {
            // `python [-X opt] -m module ...`, or any `$PY -m pip` / `{sys.executable} -m pip`.
            let mut j = after;
            loop {
                let w = words.get(j)?;
                let s = w.as_str();
                // `-m`, or a flag cluster ending in it (`-Im`, `-Bsm`).
                let cluster_m = s.starts_with('-')
                    && s.ends_with('m')
                    && s[1..].bytes().all(|c| c.is_ascii_alphabetic())
                    && !s.starts_with("-m");
                if s == "-m" || cluster_m {
                    let module = words.get(j + 1)?;
                    return match_program(module.as_str(), words, j + 2);
                }
                if let Some(module) = s.strip_prefix("-m") {
                    return match_program(module, words, j + 1);
                }
                // A script, `-c code` or `-` (stdin) ends the interpreter's options: no module.
                if !s.starts_with('-') || s == "-" || s.starts_with("-c") {
                    return None;
                }
                j += if matches!(s, "-X" | "-W") { 2 } else { 1 };
            }
        }
        return match_program(name, words, after);
    }
    None
}

/// The installer `name` (a program or a `-m` module) runs, given its arguments from `i`.
fn match_program(name: &str, words: &[Word], i: usize) -> Option<(Mode, usize)> {
    let sub = |i: usize, global: &[&str]| -> (usize, Option<String>) {
        let j = skip_options(words, i, global);
        let sub = words
            .get(j)
            .filter(|w| w.is_literal())
            .map(|w| w.as_str().to_string());
        (j + 1, sub)
    };
    if is_pip(name) {
        let (j, command) = sub(i, PIP_VALUE);
        return matches!(command.as_deref(), Some("install" | "download" | "wheel"))
            .then_some((Mode::Pip, j));
    }
    match name {
        "uv" => {
            let (j, command) = sub(i, UV_VALUE);
            match command.as_deref()? {
                "add" => Some((Mode::UvAdd, j)),
                "pip" => {
                    let (k, command) = sub(j, UV_VALUE);
                    (command.as_deref() == Some("install")).then_some((Mode::UvPip, k))
                }
                "tool" => {
                    let (k, command) = sub(j, UV_VALUE);
                    match command.as_deref()? {
                        "install" => Some((Mode::UvTool, k)),
                        "run" => Some((Mode::UvRun, k)),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        "uvx" => Some((Mode::UvRun, i)),
        "pipx" => {
            let (j, command) = sub(i, &[]);
            match command.as_deref()? {
                "install" => Some((Mode::PipxInstall, j)),
                "run" => Some((Mode::PipxRun, j)),
                "inject" => Some((Mode::PipxInject, j)),
                _ => None,
            }
        }
        "poetry" => {
            let (j, command) = sub(i, POETRY_VALUE);
            (command.as_deref() == Some("add")).then_some((Mode::PoetryAdd, j))
        }
        "pdm" => {
            let (j, command) = sub(i, PDM_VALUE);
            (command.as_deref() == Some("add")).then_some((Mode::PdmAdd, j))
        }
        "pipenv" => {
            let (j, command) = sub(i, PIPENV_VALUE);
            (command.as_deref() == Some("install")).then_some((Mode::PipenvInstall, j))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading an installer's arguments.

/// The byte range of the project name in one requirement argument, if it names a package on an
/// index (not a path, URL or archive). Non-ASCII letters are kept so that the typo checks can
/// flag look-alike names.
pub fn requirement_name(spec: &str) -> Option<std::ops::Range<usize>> {
    let first = spec.chars().next()?;
    if !first.is_alphanumeric() {
        return None;
    }
    let end = spec
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .map_or(spec.len(), |(i, _)| i);
    let name = &spec[..end];
    if !name.chars().last().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let rest = &spec[end..];
    // Only requirement syntax may follow; `/`, `:`, `+`, `\` mean a path, URL or VCS reference.
    let next = rest.chars().next();
    if !matches!(
        next,
        None | Some(' ' | '\t' | '[' | '(' | '<' | '>' | '=' | '!' | '~' | ';' | '@' | ',')
    ) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    const ARCHIVES: &[&str] = &[
        ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".egg",
    ];
    if ARCHIVES.iter().any(|ext| lower.ends_with(ext)) {
        return None;
    }
    Some(0..end)
}

fn parse_error(
    file: &SourceFile,
    span: crate::finding::Span,
    subject: &str,
    message: String,
) -> Finding {
    Finding::at(&rules::PARSE_ERROR, file, span, subject, message)
}

/// Records the packages of one installer invocation (`args` are the words after the subcommand).
fn read_arguments(file: &SourceFile, mode: Mode, words: &[Word], out: &mut Extracted) {
    let spec = mode.spec();
    let mut positionals = 0usize;
    let mut options_done = false;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let s = word.as_str();
        i += 1;
        if !options_done && s.starts_with('-') && s.len() > 1 {
            if s == "--" {
                options_done = true;
                continue;
            }
            // (option, where its value is: this word from byte `at`, or the next word)
            let (option, attached): (&str, Option<usize>) = if s.starts_with("--") {
                match s.find('=') {
                    Some(eq) => (&s[..eq], Some(eq + 1)),
                    None => (s, None),
                }
            } else {
                // A cluster of short flags; the first one that takes a value takes the rest.
                let found = s.char_indices().skip(1).find_map(|(k, c)| {
                    let short = format!("-{c}");
                    let name = all_value_options(&spec).find(|o| *o == short)?;
                    let end = k + c.len_utf8();
                    Some((name, (end < s.len()).then_some(end)))
                });
                match found {
                    Some((name, at)) => (name, at),
                    None => continue,
                }
            };
            if !all_value_options(&spec).any(|o| o == option) {
                continue;
            }
            let (value, range, whole) = match attached {
                Some(at) => (word, at..s.len(), word.text.origin(0..s.len())),
                None => match words.get(i) {
                    Some(next) => {
                        i += 1;
                        let start = word.text.origin(0..s.len());
                        let end = next.text.origin(0..next.as_str().len());
                        let whole = match (start, end) {
                            (Some(a), Some(b)) => Some(a.start..b.end.max(a.end)),
                            (a, b) => a.or(b),
                        };
                        (next, 0..next.as_str().len(), whole)
                    }
                    // Only a missing file is worth a finding: for other options our table
                    // may be behind the tool's, and a wrong error is worse than none.
                    None if !spec.requirement.contains(&option)
                        && !spec.constraint.contains(&option) =>
                    {
                        continue;
                    }
                    None => {
                        out.findings.push(parse_error(
                            file,
                            word.text.span(file, 0..s.len()),
                            option,
                            format!("`{option}` at the end of an install command needs a value"),
                        ));
                        continue;
                    }
                },
            };
            let value_text = &value.as_str()[range.clone()];
            if spec.requirement.contains(&option) || spec.constraint.contains(&option) {
                let literal = (range.start..range.end).all(|b| value.is_literal_at(b));
                // URLs are not followed, and absolute paths (`/opt/req.txt` in a Dockerfile,
                // `~/x`, `C:\\x`) name files of another machine: never read them from ours.
                let absolute = value_text.starts_with(['/', '\\', '~'])
                    || value_text.as_bytes().get(1) == Some(&b':')
                    || Path::new(value_text).is_absolute();
                if literal && !value_text.is_empty() && !value_text.contains("://") && !absolute {
                    out.includes.push(Include {
                        path: resolve(file, value_text),
                        written: value_text.to_string(),
                        constraint: spec.constraint.contains(&option),
                        span: match whole {
                            Some(whole) => file.span(whole),
                            None => value.text.span(file, range),
                        },
                    });
                }
            } else if spec.package.contains(&option) {
                take_requirement(file, value, range.start, out);
            }
            continue;
        }
        if s == "@" && word.is_literal() {
            // `name @ url`: the name was taken, the URL is not a package.
            i += 1;
            continue;
        }
        positionals += 1;
        if positionals <= spec.skip_positionals {
            continue;
        }
        take_requirement(file, word, 0, out);
        if spec.first_only {
            // What follows are the arguments of the tool being run (`uvx ruff check -r x`).
            break;
        }
    }
}

fn all_value_options(spec: &Spec) -> impl Iterator<Item = &'static str> + '_ {
    spec.requirement
        .iter()
        .chain(spec.constraint)
        .chain(spec.package)
        .chain(spec.value)
        .copied()
}

/// Takes the name out of the requirement in `word` from byte `at`, if it is literal text.
fn take_requirement(file: &SourceFile, word: &Word, at: usize, out: &mut Extracted) {
    let spec = &word.as_str()[at..];
    let Some(range) = requirement_name(spec) else {
        return;
    };
    let range = at + range.start..at + range.end;
    // `torch$SUFFIX` or `$PREFIX-utils`: the real name is not known.
    if !(range.start..=range.end).all(|b| word.is_literal_at(b)) {
        return;
    }
    out.deps.push(DeclaredDep {
        name: word.as_str()[range.clone()].to_string(),
        span: word.text.span(file, range),
    });
}

/// pip resolves `-r`/`-c` paths against the current directory of the process, not against the
/// repository root, and a static scan cannot know that directory. The directory of the file that
/// runs the command is the best guess (Makefile recipes and notebook kernels run there; Docker
/// build contexts usually sit there), moved by any literal `cd` before the command. Workflows
/// re-resolve against the workspace or the step's `working-directory` (see `workflow.rs`).
fn resolve(file: &SourceFile, written: &str) -> PathBuf {
    let dir = file.abs_path.parent().unwrap_or(Path::new(""));
    dir.join(written)
}

// ---------------------------------------------------------------------------------------------
// Lines and scripts.

/// A here-document of a scanned line, and whether its body is a shell script to scan
/// (`RUN <<EOF`, `bash <<EOF`) rather than data or another language (`cat <<EOF`, `python <<EOF`).
#[derive(Clone, Debug)]
pub struct LineHeredoc {
    pub heredoc: Heredoc,
    pub is_script: bool,
}

/// Where a script has `cd`ed to, relative to the directory its `-r`/`-c` files resolve against
/// by default (see [`resolve`]); `None` once that is unknown (`cd "$DIR"`, `cd /abs`), in which
/// case the default is kept as the best guess.
type Cwd = Option<PathBuf>;

/// Deeper relative `cd`s make the directory unknown (and keep paths short on hostile input).
const MAX_CD_DEPTH: usize = 32;

/// `dir` after `cd target` (relative), with `.` and `..` folded; `None` past [`MAX_CD_DEPTH`].
fn change_dir(mut dir: PathBuf, target: &str) -> Option<PathBuf> {
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if dir.file_name().is_some() => {
                dir.pop();
            }
            _ => dir.push(part),
        }
    }
    (dir.components().count() <= MAX_CD_DEPTH).then_some(dir)
}

/// Follows `cd DIR` / `pushd DIR` / `popd`; returns whether `words` was one of them.
fn track_cd(words: &[Word], cwd: &mut Cwd) -> bool {
    let Some(name) = words.first().and_then(program) else {
        return false;
    };
    match name {
        "cd" | "pushd" => {
            let target = words[1..]
                .iter()
                .find(|w| !w.as_str().starts_with('-') || w.as_str() == "-");
            *cwd = match (cwd.take(), target) {
                (Some(dir), Some(target))
                    if target.is_literal()
                        && !target.as_str().is_empty()
                        && !target.as_str().starts_with(['/', '~', '-', '\\'])
                        && !target.as_str().contains(':') =>
                {
                    change_dir(dir, target.as_str())
                }
                _ => None,
            };
            true
        }
        "popd" => {
            *cwd = None;
            true
        }
        _ => false,
    }
}

/// Records the packages installed by one logical shell command line; returns its here-documents.
pub fn scan_line(file: &SourceFile, line: &MappedText, out: &mut Extracted) -> Vec<LineHeredoc> {
    scan_line_in(file, line, &mut Some(PathBuf::new()), out)
}

fn scan_line_in(
    file: &SourceFile,
    line: &MappedText,
    cwd: &mut Cwd,
    out: &mut Extracted,
) -> Vec<LineHeredoc> {
    let tokens = cmd_shell::tokenize(line);
    let mut heredocs = Vec::new();
    for command in cmd_shell::simple_commands(&tokens.tokens) {
        if !track_cd(&command.words, cwd) {
            scan_command_in(file, &command.words, cwd, out);
        }
        let is_script = heredoc_is_script(&command);
        heredocs.extend(
            command
                .heredocs
                .into_iter()
                .map(|heredoc| LineHeredoc { heredoc, is_script }),
        );
    }
    heredocs
}

fn heredoc_is_script(command: &SimpleCommand) -> bool {
    let words = &command.words;
    let mut i = 0;
    while words.get(i).is_some_and(is_assignment) {
        i += 1;
    }
    match words.get(i) {
        None => true,
        Some(word) => {
            matches!(program(word), Some("sh" | "bash" | "dash" | "zsh" | "ash"))
                && words[i + 1..].iter().all(|w| w.as_str().starts_with('-'))
        }
    }
}

/// Records the packages installed by one simple command given as words (exec-form `RUN [...]`).
pub fn scan_command(file: &SourceFile, words: &[Word], out: &mut Extracted) {
    scan_command_in(file, words, &mut Some(PathBuf::new()), out);
}

fn scan_command_in(file: &SourceFile, words: &[Word], cwd: &mut Cwd, out: &mut Extracted) {
    if let Some((mode, start)) = recognise(words) {
        let before = out.includes.len();
        read_arguments(file, mode, words.get(start..).unwrap_or(&[]), out);
        if let Some(dir) = cwd.as_ref().filter(|d| !d.as_os_str().is_empty()) {
            for include in &mut out.includes[before..] {
                include.path = resolve(file, &dir.join(&include.written).to_string_lossy());
            }
        }
    } else if let Some(script) = shell_c_script(words) {
        // `bash -c "pip install x"`: the argument is a script of its own (always shorter than
        // the line it came from, so this recursion ends). It starts where its parent is.
        scan_script_in(file, &script.text.lines(), &mut cwd.clone(), out);
    }
}

/// The script of `sh -c SCRIPT` (also `bash -lc`, `su -c`), if literal. The shell may come after
/// other words (`sudo bash -c`, `docker run img bash -c`): what it runs is installed somewhere all
/// the same.
fn shell_c_script(words: &[Word]) -> Option<&Word> {
    let i = words.iter().position(|w| {
        matches!(
            program(w),
            Some("sh" | "bash" | "dash" | "zsh" | "ash" | "su")
        )
    })?;
    // The first operand after an option cluster containing `c` is the script.
    let mut j = i + 1;
    while let Some(word) = words.get(j) {
        let s = word.as_str();
        if !s.starts_with('-') || s.starts_with("--") {
            return None;
        }
        j += 1;
        if s.contains('c') {
            return words.get(j).filter(|w| w.is_literal());
        }
    }
    None
}

/// Reads `line` as the arguments of `pip install` (a requirements-file option line such as
/// `-r other.txt` or `--index-url URL`, from a conda `pip:` list).
pub fn scan_pip_arguments(file: &SourceFile, line: &MappedText, out: &mut Extracted) {
    let tokens = cmd_shell::tokenize(line);
    let words: Vec<Word> = tokens
        .tokens
        .into_iter()
        .filter_map(|t| match t {
            cmd_shell::Token::Word(w) => Some(w),
            _ => None,
        })
        .collect();
    read_arguments(file, Mode::Pip, &words, out);
}

/// Scans shell script lines: joins `\` continuations, scans each logical line and the bodies of
/// here-documents fed to a shell, and skips the bodies of the others.
pub fn scan_script(file: &SourceFile, lines: &[MappedText], out: &mut Extracted) {
    scan_script_in(file, lines, &mut Some(PathBuf::new()), out);
}

/// Lines an open quote may span before it is taken for a stray quote (and the line read alone).
const MAX_QUOTED_LINES: usize = 256;

fn scan_script_in(file: &SourceFile, lines: &[MappedText], cwd: &mut Cwd, out: &mut Extracted) {
    let mut n = 0;
    while n < lines.len() {
        let mut logical = MappedText::new();
        loop {
            let line = &lines[n];
            n += 1;
            let text = line.as_str();
            // An odd number of trailing backslashes escapes the newline; comments do not continue.
            let trailing = text.len() - text.trim_end_matches('\\').len();
            let continued = trailing % 2 == 1 && !text.trim_start().starts_with('#');
            if continued && n < lines.len() {
                logical.push_mapped(line, 0..text.len() - 1);
            } else {
                logical.push_mapped(line, 0..text.len());
                break;
            }
        }
        // A quote left open continues on the next lines (`python -c "...` over several lines):
        // they are part of one word, not commands of their own.
        if let Some(quote) = cmd_shell::tokenize(&logical).unterminated {
            let mut open = Some(quote);
            let mut m = n;
            while m < lines.len() && m - n < MAX_QUOTED_LINES && open.is_some() {
                open = cmd_shell::quote_state(lines[m].as_str(), open);
                m += 1;
            }
            if open.is_none() {
                for line in &lines[n..m] {
                    let at = logical
                        .origin_of(logical.len().saturating_sub(1))
                        .map_or(0, |r| r.end);
                    logical.push_char('\n', at..at);
                    logical.push_mapped(line, 0..line.len());
                }
                n = m;
            }
        }
        let heredocs = scan_line_in(file, &logical, cwd, out);
        n = read_heredoc_bodies_in(file, lines, n, &heredocs, cwd, out);
    }
}

/// Reads the bodies of `heredocs` from `lines[n..]`, scanning script bodies; returns the index of
/// the first line after them.
pub fn read_heredoc_bodies(
    file: &SourceFile,
    lines: &[MappedText],
    n: usize,
    heredocs: &[LineHeredoc],
    out: &mut Extracted,
) -> usize {
    read_heredoc_bodies_in(file, lines, n, heredocs, &Some(PathBuf::new()), out)
}

fn read_heredoc_bodies_in(
    file: &SourceFile,
    lines: &[MappedText],
    mut n: usize,
    heredocs: &[LineHeredoc],
    cwd: &Cwd,
    out: &mut Extracted,
) -> usize {
    for doc in heredocs {
        let start = n;
        let mut closed = false;
        while n < lines.len() {
            let text = lines[n].as_str();
            let text = if doc.heredoc.strip_tabs {
                text.trim_start_matches('\t')
            } else {
                text
            };
            n += 1;
            if text.trim_end() == doc.heredoc.delimiter {
                closed = true;
                break;
            }
        }
        let body_end = if closed { n - 1 } else { n };
        if !closed {
            let at = start.checked_sub(1).and_then(|k| lines.get(k));
            let span = at.map_or_else(|| file.span(0..0), |line| line.span(file, 0..line.len()));
            out.findings.push(parse_error(
                file,
                span,
                &doc.heredoc.delimiter,
                format!(
                    "here-document is never closed by a `{}` line; its body runs to the end",
                    doc.heredoc.delimiter
                ),
            ));
        }
        if doc.is_script {
            let body: Vec<MappedText> = lines[start..body_end]
                .iter()
                .map(|line| {
                    if doc.heredoc.strip_tabs {
                        let tabs = line.len() - line.as_str().trim_start_matches('\t').len();
                        line.slice(tabs..line.len())
                    } else {
                        line.clone()
                    }
                })
                .collect();
            scan_script_in(file, &body, &mut cwd.clone(), out);
        }
    }
    n
}

fn file_lines(file: &SourceFile) -> Vec<MappedText> {
    (1..=file.line_count())
        .filter_map(|n| file.line_range(n))
        .map(|range| MappedText::verbatim(&file.text, range))
        .collect()
}

pub fn extract_shell(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    scan_script(file, &file_lines(file), &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles.

/// The escape character set by a `# escape=` parser directive at the top of a Dockerfile.
fn docker_escape(lines: &[MappedText]) -> char {
    let mut escape = '\\';
    for line in lines {
        let text = line.as_str().trim();
        let Some(directive) = text.strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            break;
        }
        if key.eq_ignore_ascii_case("escape") {
            match value.trim() {
                "`" => escape = '`',
                _ => escape = '\\',
            }
        }
    }
    escape
}

pub fn extract_dockerfile(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let lines = file_lines(file);
    let escape = docker_escape(&lines);
    let mut n = 0;
    while n < lines.len() {
        let first = lines[n].as_str().trim_start();
        if first.is_empty() || first.starts_with('#') {
            n += 1;
            continue;
        }
        // Join continuation lines; comment and empty lines inside an instruction are dropped,
        // as BuildKit does.
        let mut logical = MappedText::new();
        loop {
            let line = &lines[n];
            n += 1;
            let trimmed = line.as_str().trim_end();
            if trimmed.ends_with(escape) && n < lines.len() {
                logical.push_mapped(line, 0..trimmed.len() - escape.len_utf8());
                while n < lines.len() {
                    let next = lines[n].as_str().trim_start();
                    if next.is_empty() || next.starts_with('#') {
                        n += 1;
                    } else {
                        break;
                    }
                }
                if n >= lines.len() {
                    break;
                }
            } else {
                logical.push_mapped(line, 0..line.len());
                break;
            }
        }
        n = docker_instruction(file, &lines, n, &logical, &mut out);
    }
    out
}

/// Handles one joined instruction; returns the next line index (after any heredoc bodies).
fn docker_instruction(
    file: &SourceFile,
    lines: &[MappedText],
    n: usize,
    logical: &MappedText,
    out: &mut Extracted,
) -> usize {
    let mut rest = logical.trim();
    let mut keyword = first_word(rest.as_str()).to_ascii_uppercase();
    if keyword == "ONBUILD" {
        rest = rest.slice(keyword.len()..rest.len()).trim();
        keyword = first_word(rest.as_str()).to_ascii_uppercase();
    }
    rest = rest.slice(keyword.len()..rest.len()).trim();
    match keyword.as_str() {
        "RUN" => {
            // Flags: `--mount=...`, `--network=none`, `--security=...`.
            while rest.as_str().starts_with("--") {
                let flag = first_word(rest.as_str()).len();
                rest = rest.slice(flag..rest.len()).trim();
            }
            if rest.as_str().starts_with('[')
                && let Some(argv) = exec_form(&rest)
            {
                scan_exec_form(file, &argv, out);
                return n;
            }
            let heredocs = scan_line(file, &rest, out);
            read_heredoc_bodies(file, lines, n, &heredocs, out)
        }
        "COPY" | "ADD" if rest.as_str().contains("<<") => {
            // File contents, not commands: only skip the bodies.
            let heredocs: Vec<LineHeredoc> =
                cmd_shell::simple_commands(&cmd_shell::tokenize(&rest).tokens)
                    .into_iter()
                    .flat_map(|c| c.heredocs)
                    .map(|heredoc| LineHeredoc {
                        heredoc,
                        is_script: false,
                    })
                    .collect();
            read_heredoc_bodies(file, lines, n, &heredocs, out)
        }
        _ => n,
    }
}

fn first_word(s: &str) -> &str {
    let end = s.find(|c: char| c.is_whitespace()).unwrap_or(s.len());
    &s[..end]
}

/// The argument vector of an exec-form `RUN ["pip", "install", "x"]`, or `None` when it is not
/// a JSON array of strings (then Docker runs it in shell form, and so do we).
fn exec_form(text: &MappedText) -> Option<Vec<Word>> {
    let parsed = jsonc_parser::parse_to_ast(
        text.as_str(),
        &Default::default(),
        &crate::notebookjson::strict_json(),
    )
    .ok()?;
    let jsonc_parser::ast::Value::Array(array) = parsed.value? else {
        return None;
    };
    array
        .elements
        .iter()
        .map(|element| match element {
            jsonc_parser::ast::Value::StringLit(lit) => {
                let raw = &text.as_str()[lit.range.start..lit.range.end];
                let decoded = crate::notebookjson::decode_string_literal(raw, lit.range.start)?;
                Some(Word::literal(decoded.through(text)))
            }
            _ => None,
        })
        .collect()
}

fn scan_exec_form(file: &SourceFile, argv: &[Word], out: &mut Extracted) {
    // `["/bin/sh", "-c", "pip install x"]` runs its third element as a shell line.
    if let Some(shell) = argv.first()
        && matches!(program(shell), Some("sh" | "bash" | "dash" | "zsh" | "ash"))
    {
        if let Some(c) = argv.iter().position(|w| w.as_str() == "-c")
            && let Some(script) = argv.get(c + 1)
        {
            scan_script(file, &script.text.lines(), out);
        }
        return;
    }
    scan_command(file, argv, out);
}

// ---------------------------------------------------------------------------------------------
// Makefiles.

/// Bytes that variable expansion may add to one recipe line, and to a whole Makefile:
/// `V2 = $(V1) $(V1)` doubles with every level, so expansion is budgeted rather than trusted.
const MAX_LINE_EXPANSION: usize = 1 << 16;
const MAX_FILE_EXPANSION: usize = 1 << 20;

/// What variable expansion may still spend in one Makefile, and the variables it could not
/// expand for want of budget (name, and the file range of its value), each once.
struct ExpansionBudget {
    file_left: usize,
    ran_out: Vec<(String, Option<Range<usize>>)>,
}

struct MakeVars {
    vars: std::collections::HashMap<String, MappedText>,
}

impl MakeVars {
    /// Collects `NAME = value` (`:=`, `::=`, `?=`, `+=`; `export`/`override` prefixes) from
    /// non-recipe lines; the last definition wins, as for recipes, which make expands last.
    fn collect(lines: &[MappedText]) -> MakeVars {
        let mut vars: std::collections::HashMap<String, MappedText> = Default::default();
        let mut in_define = false;
        let mut n = 0;
        while n < lines.len() {
            let line = &lines[n];
            n += 1;
            let text = line.as_str();
            if text.starts_with('\t') {
                continue;
            }
            let trimmed = text.trim();
            if in_define {
                in_define = trimmed != "endef";
                continue;
            }
            if trimmed.starts_with("define ") {
                in_define = true;
                continue;
            }
            // Backslash-newline in a definition becomes one space.
            let mut joined = line.clone();
            while joined.as_str().ends_with('\\') && n < lines.len() {
                let keep = joined.len() - 1;
                let mut next = joined.slice(0..keep);
                if let Some(origin) = joined.origin_of(keep) {
                    next.push_char(' ', origin);
                }
                let following = lines[n].trim();
                next.push_mapped(&following, 0..following.len());
                joined = next;
                n += 1;
            }
            let mut body = joined.trim();
            for prefix in ["export ", "override "] {
                if body.as_str().starts_with(prefix) {
                    body = body.slice(prefix.len()..body.len()).trim();
                }
            }
            let s = body.as_str();
            let Some(name_end) =
                s.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            else {
                continue;
            };
            let name = &s[..name_end];
            let after = s[name_end..].trim_start();
            let op_at = s.len() - after.len();
            let op = ["::=", ":=", "?=", "+=", "="]
                .into_iter()
                .find(|op| after.starts_with(op));
            let Some(op) = op else { continue };
            if name.is_empty() {
                continue;
            }
            let value = body.slice(op_at + op.len()..body.len()).trim();
            match op {
                "?=" => {
                    vars.entry(name.to_string()).or_insert(value);
                }
                "+=" => {
                    let entry = vars.entry(name.to_string()).or_default();
                    if !entry.is_empty()
                        && let Some(origin) = value.origin_of(0)
                    {
                        entry.push_char(' ', origin.start..origin.start);
                    }
                    entry.push_mapped(&value, 0..value.len());
                }
                _ => {
                    vars.insert(name.to_string(), value);
                }
            }
        }
        MakeVars { vars }
    }

    /// `text` with `$(VAR)`, `${VAR}` and `$V` of known variables replaced by their values (mapped
    /// to where those values are written) and `$$` turned into `$`; unknown references, make
    /// functions, a variable that refers to itself and references past the budget are kept, so
    /// the shell tokenizer treats them as unknown expansions. Iterative, with its own stack: a
    /// chain of thousands of variables cannot overflow the thread's.
    fn expand(&self, text: &MappedText, budget: &mut ExpansionBudget) -> MappedText {
        let mut out = MappedText::new();
        let mut line_left = MAX_LINE_EXPANSION.min(budget.file_left);
        let mut reported_on_line = false;
        // The texts being expanded (the line, then variable values), each with where it is at.
        let mut stack: Vec<(&MappedText, usize, Option<&str>)> = vec![(text, 0, None)];
        let mut expanding: HashSet<&str> = HashSet::new();
        while let Some(top) = stack.last_mut() {
            let (current, i) = (top.0, top.1);
            let s = current.as_str();
            let bytes = s.as_bytes();
            if i >= bytes.len() {
                if let Some((_, _, Some(name))) = stack.pop() {
                    expanding.remove(name);
                }
                continue;
            }
            if bytes[i] != b'$' || i + 1 >= bytes.len() {
                let n = s[i..].chars().next().map_or(1, char::len_utf8);
                out.push_mapped(current, i..i + n);
                top.1 = i + n;
                continue;
            }
            let (name, end) = match bytes[i + 1] {
                b'$' => {
                    out.push_mapped(current, i..i + 1);
                    top.1 = i + 2;
                    continue;
                }
                open @ (b'(' | b'{') => {
                    let close = if open == b'(' { ')' } else { '}' };
                    match s[i + 2..].find(close) {
                        Some(n) => (&s[i + 2..i + 2 + n], i + 3 + n),
                        None => ("", i + 1),
                    }
                }
                _ => {
                    let n = s[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (&s[i + 1..i + 1 + n], i + 1 + n)
                }
            };
            top.1 = end;
            let Some((name, value)) = self.vars.get_key_value(name) else {
                out.push_mapped(current, i..end);
                continue;
            };
            if name.is_empty() || expanding.contains(name.as_str()) {
                out.push_mapped(current, i..end);
                continue;
            }
            // A reference costs its value's bytes, and one more so that empty values count too.
            let cost = value.len() + 1;
            if cost > line_left {
                if !reported_on_line && !budget.ran_out.iter().any(|(n, _)| n == name) {
                    let origin = value.origin_of(0).or_else(|| current.origin_of(i));
                    budget.ran_out.push((name.clone(), origin));
                }
                reported_on_line = true;
                out.push_mapped(current, i..end);
                continue;
            }
            line_left -= cost;
            budget.file_left -= cost;
            expanding.insert(name);
            stack.push((value, 0, Some(name)));
        }
        out
    }
}

pub fn extract_makefile(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let lines = file_lines(file);
    let vars = MakeVars::collect(&lines);
    let mut budget = ExpansionBudget {
        file_left: MAX_FILE_EXPANSION,
        ran_out: Vec::new(),
    };
    let mut n = 0;
    while n < lines.len() {
        let line = &lines[n];
        n += 1;
        let text = line.as_str();
        // A recipe is a tab-indented line, or the part of a rule line after `;`.
        let recipe = if text.starts_with('\t') {
            line.slice(1..text.len())
        } else {
            // Continuation lines of a variable or rule line are not recipes, tabs or not.
            let continued = text.ends_with('\\');
            let mut last = text;
            while last.ends_with('\\') && n < lines.len() {
                last = lines[n].as_str();
                n += 1;
            }
            match rule_colon(text).and_then(|colon| Some(colon + text[colon..].find(';')?)) {
                Some(semi) if !continued => line.slice(semi + 1..text.len()),
                _ => continue,
            }
        };
        // Backslash-newline continues a recipe line; make drops the next line's leading tab.
        let mut logical = MappedText::new();
        let mut piece = recipe;
        loop {
            let t = piece.as_str();
            if t.ends_with('\\') && n < lines.len() {
                logical.push_mapped(&piece, 0..t.len() - 1);
                let next = &lines[n];
                n += 1;
                let skip = usize::from(next.as_str().starts_with('\t'));
                piece = next.slice(skip..next.len());
            } else {
                logical.push_mapped(&piece, 0..t.len());
                break;
            }
        }
        let logical = logical.trim();
        let prefix = logical.len()
            - logical
                .as_str()
                .trim_start_matches(['@', '-', '+', ' ', '\t'])
                .len();
        let command = vars.expand(&logical.slice(prefix..logical.len()), &mut budget);
        scan_line(file, &command, &mut out);
    }
    for (name, origin) in budget.ran_out {
        let span = origin.map_or(Span::line_start(1), |range| file.span(range));
        out.findings.push(Finding::at(
            &rules::FILE_SKIPPED,
            file,
            span,
            name.clone(),
            format!(
                "the expansion of `$({name})` ran out of budget (recipe lines are expanded to at \
                 most {} KiB, a Makefile to {} KiB): references to it past that point were not \
                 checked for package names",
                MAX_LINE_EXPANSION >> 10,
                MAX_FILE_EXPANSION >> 10
            ),
        ));
    }
    // A variable used many times gives the same name at the same place many times: once is
    // enough.
    let mut seen_deps = HashSet::new();
    out.deps
        .retain(|dep| seen_deps.insert((dep.name.clone(), dep.span)));
    let mut seen_includes = HashSet::new();
    out.includes
        .retain(|include| seen_includes.insert((include.path.clone(), include.span)));
    let mut seen_findings = HashSet::new();
    out.findings.retain(|finding| {
        seen_findings.insert((
            finding.rule.clone(),
            finding.span(),
            finding.message.clone(),
        ))
    });
    out
}

/// Byte index of the `:` ending the targets of a rule line (`target: prereqs`), if it is one.
fn rule_colon(text: &str) -> Option<usize> {
    if text.starts_with(['#', ' ']) {
        return None;
    }
    let colon = text.find(':')?;
    let after = &text[colon + 1..];
    if after.starts_with('=') || after.starts_with(":=") {
        return None;
    }
    if text[..colon].contains('=') {
        return None;
    }
    Some(colon + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(
        kind: fn(&SourceFile) -> Extracted,
        path: &str,
        text: &str,
    ) -> Vec<(String, u32, u32)> {
        let file = SourceFile::new(path, path, text.to_string());
        let out = kind(&file);
        assert!(out.findings.is_empty(), "{text:?}: {:?}", out.findings);
        out.deps
            .iter()
            .map(|d| (d.name.clone(), d.span.line, d.span.column))
            .collect()
    }

    fn shell(text: &str) -> Vec<String> {
        names(extract_shell, "a.sh", text)
            .into_iter()
            .map(|(n, _, _)| n)
            .collect()
    }

    #[test]
    fn install_command_table() {
        let cases: &[(&str, &[&str])] = &[
            ("pip install numpy", &["numpy"]),
            ("pip3 install -U numpy pandas==2.0", &["numpy", "pandas"]),
            (
                "pip3.11 install 'torch>=2; python_version<\"3.12\"'",
                &["torch"],
            ),
            (
                "python -m pip install --upgrade pip setuptools",
                &["pip", "setuptools"],
            ),
            (
                "python3 -m pip install -q requests[socks]==2.31",
                &["requests"],
            ),
            ("python3.11 -mpip install six", &["six"]),
            ("python3 -Im pip install isolated", &["isolated"]),
            ("python3 ém pip install x", &[]),
            ("python -c \"import x\" -m pip install no", &[]),
            ("py -3.11 -m pip install attrs", &["attrs"]),
            ("\"$PYTHON\" -m pip install tqdm", &["tqdm"]),
            ("/usr/bin/pip install scipy", &["scipy"]),
            ("sudo -H pip install awscli", &["awscli"]),
            ("PIP_NO_CACHE_DIR=1 FOO=bar pip install click", &["click"]),
            ("env -u X PIP_INDEX_URL=x pip install rich", &["rich"]),
            ("uv pip install --system ruff", &["ruff"]),
            ("uv add httpx 'fastapi>=0.100'", &["httpx", "fastapi"]),
            (
                "uv tool install --with mkdocs-material mkdocs",
                &["mkdocs-material", "mkdocs"],
            ),
            (
                "uvx --from black==24.1 black --check .",
                &["black", "black"],
            ),
            ("uvx ruff check src", &["ruff"]),
            ("uvx black -c x.txt -r y.txt", &["black"]),
            (
                "poetry add requests@^2.31 --group dev pytest",
                &["requests", "pytest"],
            ),
            (
                "pipx install --preinstall ansible-lint ansible",
                &["ansible-lint", "ansible"],
            ),
            ("pipx inject myvenv extra-pkg", &["extra-pkg"]),
            ("pdm add -G test pytest-cov", &["pytest-cov"]),
            ("pipenv install --dev flake8", &["flake8"]),
            ("conda run -n env pip install einops", &["einops"]),
            (
                "conda install -c conda-forge numpy && pip install opencv-python",
                &["opencv-python"],
            ),
            (
                "pip install -e . -e ./lib -e git+https://x/y.git#egg=z",
                &[],
            ),
            (
                "pip install ./pkg dist/x-1.0-py3-none-any.whl x-1.0.tar.gz ../y",
                &[],
            ),
            (
                "pip install git+https://github.com/a/b.git https://x.org/p.zip",
                &[],
            ),
            (
                "pip install 'pkg @ git+https://github.com/a/b.git'",
                &["pkg"],
            ),
            (
                "pip install pkg @ https://x.org/p.whl other",
                &["pkg", "other"],
            ),
            (
                "pip install --index-url https://idx/simple --extra-index-url https://x -i u a",
                &["a"],
            ),
            (
                "pip install -t /opt/lib --target=/x --prefix /p -qqU --no-deps b",
                &["b"],
            ),
            ("pip install $PKG torch==$VER ${NAME}-x a$B", &["torch"]),
            ("pip install numpy > /dev/null 2>&1", &["numpy"]),
            ("pip install numpy>=1.24 scipy", &["numpy", "scipy"]),
            (
                "pip install x; pip3 install y | tee log && echo pip install z",
                &["x", "y"],
            ),
            ("pip install a # b c", &["a"]),
            ("pip download --dest d pkgx", &["pkgx"]),
            ("pip --disable-pip-version-check -q install pkgy", &["pkgy"]),
            ("pip list; pip show numpy; pip uninstall x; pip freeze", &[]),
            ("pip install -- -weird-but-literal", &[]),
            ("if true; then pip install inif; fi", &["inif"]),
            ("python -c 'import x' && python setup.py install", &[]),
            ("pip install nuмpy", &["nuмpy"]),
            ("timeout 60 pip install slowpkg", &["slowpkg"]),
            ("poetry add --group", &[]),
            (
                "pip install -r <(grep -v torch requirements.txt) extra",
                &["extra"],
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(shell(line), *expected, "{line:?}");
        }
    }

    #[test]
    fn shell_c_scripts_and_multiline_quotes() {
        let text = "docker run img bash -lc \"pip install inner && pip install two\"\nsu -c 'pip install viasu' root\npython -c \"\nimport os\npip install notacommand\n\" && pip install after\n";
        assert_eq!(
            names(extract_shell, "a.sh", text),
            [
                ("inner".to_string(), 1, 38),
                ("two".to_string(), 1, 59),
                ("viasu".to_string(), 2, 20),
                ("after".to_string(), 6, 18),
            ]
        );
    }

    #[test]
    fn hostile_input_does_not_panic_or_explode() {
        let mut make = String::from("A0 = x\n");
        for i in 1..40 {
            make.push_str(&format!("A{i} = $(A{p})$(A{p})\n", p = i - 1));
        }
        make.push_str("all:\n\tpip install $(A39) ok\n");
        let file = SourceFile::new("Makefile", "Makefile", make);
        let out = extract_makefile(&file);
        assert_eq!(out.deps.last().map(|d| d.name.as_str()), Some("ok"));
        for line in [
            "pip install -é x",
            "pip install -\u{e9}r",
            "pip install 'é",
            "pip \\",
            "$(",
            "`",
            "\"$",
            "pip install --=x",
        ] {
            let file = SourceFile::new("a.sh", "a.sh", line.to_string());
            let out = extract_shell(&file);
            assert!(out.deps.len() <= 1, "{line:?}: {:?}", out.deps);
        }
    }

    #[test]
    fn cd_moves_where_includes_resolve() {
        let text = "cd backend && pip install -r requirements.txt\ncd ../docs\npip install -c c.txt x\n(cd \"$D\" && pip install -r r.txt)\npip install -r last.txt\n";
        let file = SourceFile::new("ci/run.sh", Path::new("repo/ci/run.sh"), text.to_string());
        let out = extract_shell(&file);
        let paths: Vec<PathBuf> = out.includes.iter().map(|i| i.path.clone()).collect();
        let base = Path::new("repo/ci");
        assert_eq!(
            paths,
            [
                base.join("backend/requirements.txt"),
                base.join("docs/c.txt"),
                // After `cd "$D"` the directory is unknown: the file's own is the best guess.
                base.join("r.txt"),
                base.join("last.txt"),
            ]
        );
    }

    #[test]
    fn dockerfile_forms() {
        let text = "FROM x\nRUN [ -f req.txt ] && pip install shellform\nRUN [\"pip\", \"install\", \"-r\", \"r.txt\", \"execpkg\"]\nRUN [\"python\", \"-m\", \"pip\", \"install\", \"$NOT_EXPANDED\"]\nRUN pip install a \\\n\n  b\nCMD [\"pip\", \"install\", \"notrun\"]\n";
        let file = SourceFile::new("Dockerfile", "Dockerfile", text.to_string());
        let out = extract_dockerfile(&file);
        let got: Vec<(&str, u32, u32)> = out
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.span.line, d.span.column))
            .collect();
        assert_eq!(
            got,
            [
                ("shellform", 2, 35),
                ("execpkg", 3, 40),
                ("a", 5, 17),
                ("b", 7, 3)
            ]
        );
        assert_eq!(out.includes.len(), 1);
        assert_eq!(out.findings.len(), 0);
        let open = SourceFile::new(
            "Dockerfile",
            "Dockerfile",
            "RUN <<EOF\npip install x\n".into(),
        );
        let out = extract_dockerfile(&open);
        assert_eq!(out.deps.len(), 1);
        assert_eq!(out.findings[0].rule, "parse-error");
        assert_eq!(out.findings[0].line, 1);
    }

    #[test]
    fn requirement_names() {
        let cases = [
            ("numpy", Some("numpy")),
            ("Django[argon2]>=4", Some("Django")),
            ("zope.interface~=5.0", Some("zope.interface")),
            ("a_b-c.d (>=1)", Some("a_b-c.d")),
            ("requests@^2", Some("requests")),
            ("x; sys_platform=='linux'", Some("x")),
            ("./x", None),
            (".", None),
            ("x.whl", None),
            ("pkg-1.0.tar.gz", None),
            ("git+https://a/b", None),
            ("https://a/b", None),
            ("C:\\x", None),
            ("x-", None),
            ("-x", None),
            ("{pkg}", None),
            ("", None),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                requirement_name(spec).map(|r| &spec[r]),
                expected,
                "{spec:?}"
            );
        }
    }

    #[test]
    fn includes_resolve_against_the_files_directory() {
        let file = SourceFile::new(
            "ci/install.sh",
            Path::new("repo").join("ci").join("install.sh"),
            "pip install -r requirements.txt -c c.txt --requirement=dev.txt -rx.txt -r https://x/r.txt -r $R -r /opt/r.txt -r ~/r.txt -r C:\\\\r.txt\n".to_string(),
        );
        let out = extract_shell(&file);
        let got: Vec<(String, bool, u32, u32)> = out
            .includes
            .iter()
            .map(|i| {
                (
                    i.written.clone(),
                    i.constraint,
                    i.span.column,
                    i.span.end_column,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("requirements.txt".to_string(), false, 13, 32),
                ("c.txt".to_string(), true, 33, 41),
                ("dev.txt".to_string(), false, 42, 63),
                ("x.txt".to_string(), false, 64, 71),
            ]
        );
        assert_eq!(
            out.includes[0].path,
            Path::new("repo").join("ci").join("requirements.txt")
        );
        assert!(out.deps.is_empty());
    }

    #[test]
    fn missing_option_value_is_a_parse_error() {
        let file = SourceFile::new("a.sh", "a.sh", "echo\npip install numpy -r\n".to_string());
        let out = extract_shell(&file);
        assert_eq!(out.deps.len(), 1);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].rule, "parse-error");
        assert_eq!((out.findings[0].line, out.findings[0].column), (2, 19));
    }

    #[test]
    fn shell_continuations_and_heredocs() {
        let text = "pip install \\\n  numpy \\\n  pandas\n# pip install \\\nnotacmd\ncat <<EOF\npip install data\nEOF\nbash <<-'X'\n\tpip install inscript\n\tX\n";
        assert_eq!(
            names(extract_shell, "a.sh", text),
            [
                ("numpy".to_string(), 2, 3),
                ("pandas".to_string(), 3, 3),
                ("inscript".to_string(), 10, 14),
            ]
        );
    }

    #[test]
    fn makefile_variables_and_prefixes() {
        let text = "PYTHON ?= python3\nPIP := $(PYTHON) -m pip\nSETUP = \\\n\tpip install notarecipe\nDEPS = numpy\nDEV = pytest\nDEV += black\n\ninstall: ## deps\n\t@$(PIP) install $(DEPS) ${DEV}\n\t-pip install \\\n\t\tscipy\nlint: ; pip install ruff\n\techo $$HOME && pip install $$PKG\n";
        let got = names(extract_makefile, "Makefile", text);
        assert_eq!(
            got,
            [
                ("numpy".to_string(), 5, 8),
                ("pytest".to_string(), 6, 7),
                ("black".to_string(), 7, 8),
                ("scipy".to_string(), 12, 3),
                ("ruff".to_string(), 13, 21),
            ]
        );
    }
}
