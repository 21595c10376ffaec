//! Where Python dependencies are declared or installed, and the names found there.
//!
//! Each submodule reads one kind of file and returns every package name with its exact place.
//! Extractors never run project code and never give up on a whole file for one bad part: what
//! cannot be read becomes a finding (`parse-error`, ...) and the rest is still returned.

use std::path::PathBuf;

pub mod cmd_shell;
pub mod cmd_text;
pub mod commands;
pub mod conda;
pub mod manifest_pep508;
pub mod manifest_text;
pub mod manifest_toml;
pub mod notebook;
pub mod pipfile;
pub mod pyproject;
pub mod requirements;
pub mod setup_cfg;
pub mod setup_py;
pub mod workflow;

use crate::finding::{Finding, Span};
use crate::source::SourceFile;

/// The kinds of file that declare or install Python packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DepSource {
    /// pip requirements/constraints files (`requirements*.txt`, `*.in`, anything reached by `-r`/`-c`).
    Requirements,
    Pyproject,
    SetupCfg,
    SetupPy,
    Pipfile,
    /// conda `environment.yml` (its `pip:` section included).
    CondaEnv,
    /// Jupyter notebooks: `%pip install` / `!pip install` in code cells.
    Notebook,
    Dockerfile,
    Shell,
    Makefile,
    /// GitHub workflow `run:` steps.
    Workflow,
}

/// One package name as written in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredDep {
    /// The name exactly as written (not normalised).
    pub name: String,
    /// Where the name is: this span covers the name only, not its version or extras.
    pub span: Span,
}

/// A `-r`/`-c` include found in a requirements file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    /// Resolved against the including file's directory (pip's rule). Not yet checked to exist.
    pub path: PathBuf,
    /// The target as written.
    pub written: String,
    /// `true` for `-c`/`--constraint`.
    pub constraint: bool,
    /// Span of the whole include line.
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Extracted {
    pub deps: Vec<DeclaredDep>,
    /// Includes to follow (requirements files only; URLs are not followed).
    pub includes: Vec<Include>,
    /// Problems with the file itself (`parse-error`, ...).
    pub findings: Vec<Finding>,
}

/// Which extractor reads the file at `rel_path` (relative, `/`-separated), if any.
pub fn classify(rel_path: &str) -> Option<DepSource> {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    let parent = rel_path.rsplit('/').nth(1).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((stem, ext)) => (stem, ext),
        None => (lower.as_str(), ""),
    };
    let kind = match (lower.as_str(), ext) {
        ("pyproject.toml", _) => DepSource::Pyproject,
        ("setup.cfg", _) => DepSource::SetupCfg,
        ("setup.py", _) => DepSource::SetupPy,
        ("pipfile", _) => DepSource::Pipfile,
        ("makefile" | "gnumakefile", _) | (_, "mk") => DepSource::Makefile,
        ("dockerfile" | "containerfile", _) | (_, "dockerfile") => DepSource::Dockerfile,
        _ if lower.starts_with("dockerfile.") || lower.starts_with("containerfile.") => {
            DepSource::Dockerfile
        }
        (_, "ipynb") => DepSource::Notebook,
        (_, "sh" | "bash" | "zsh") => DepSource::Shell,
        ("action.yml" | "action.yaml", _) => DepSource::Workflow,
        (_, "yml" | "yaml")
            if rel_path.starts_with(".github/workflows/") && parent == "workflows" =>
        {
            DepSource::Workflow
        }
        (_, "yml" | "yaml")
            if stem.starts_with("environment") || stem.starts_with("conda") || stem == "env" =>
        {
            DepSource::CondaEnv
        }
        (_, "txt" | "in")
            if stem.contains("requirements")
                || stem.contains("constraints")
                || matches!(parent, "requirements" | "reqs" | "requirements.d") =>
        {
            DepSource::Requirements
        }
        // pip-tools' `*.in` inputs; other tools' templates (`MANIFEST.in`, `config.h.in`) are not.
        (_, "in")
            if !stem.contains('.')
                && !matches!(
                    stem,
                    "manifest" | "makefile" | "configure" | "doxyfile" | "config"
                ) =>
        {
            DepSource::Requirements
        }
        _ => return None,
    };
    Some(kind)
}

/// Every package name `file` declares or installs.
pub fn extract(file: &SourceFile, kind: DepSource) -> Extracted {
    match kind {
        DepSource::Requirements => requirements::extract(file),
        DepSource::Pyproject => pyproject::extract(file),
        DepSource::SetupCfg => setup_cfg::extract(file),
        DepSource::SetupPy => setup_py::extract(file),
        DepSource::Pipfile => pipfile::extract(file),
        DepSource::CondaEnv => conda::extract(file),
        DepSource::Notebook => notebook::extract(file),
        DepSource::Dockerfile => commands::extract_dockerfile(file),
        DepSource::Shell => commands::extract_shell(file),
        DepSource::Makefile => commands::extract_makefile(file),
        DepSource::Workflow => workflow::extract(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_dependency_files() {
        let cases = [
            ("requirements.txt", Some(DepSource::Requirements)),
            ("requirements/dev.txt", Some(DepSource::Requirements)),
            ("dev-requirements.in", Some(DepSource::Requirements)),
            ("constraints.txt", Some(DepSource::Requirements)),
            ("docs/base.in", Some(DepSource::Requirements)),
            ("MANIFEST.in", None),
            ("config.h.in", None),
            ("notes.txt", None),
            ("sub/pyproject.toml", Some(DepSource::Pyproject)),
            ("setup.cfg", Some(DepSource::SetupCfg)),
            ("setup.py", Some(DepSource::SetupPy)),
            ("Pipfile", Some(DepSource::Pipfile)),
            ("Pipfile.lock", None),
            ("environment.yml", Some(DepSource::CondaEnv)),
            ("envs/environment-gpu.yaml", Some(DepSource::CondaEnv)),
            ("nb/train.ipynb", Some(DepSource::Notebook)),
            ("Dockerfile", Some(DepSource::Dockerfile)),
            ("docker/Dockerfile.gpu", Some(DepSource::Dockerfile)),
            ("gpu.Dockerfile", Some(DepSource::Dockerfile)),
            ("scripts/setup.sh", Some(DepSource::Shell)),
            ("Makefile", Some(DepSource::Makefile)),
            ("rules.mk", Some(DepSource::Makefile)),
            (".github/workflows/ci.yml", Some(DepSource::Workflow)),
            ("config/train.yml", None),
        ];
        for (path, kind) in cases {
            assert_eq!(classify(path), kind, "{path}");
        }
    }
}
