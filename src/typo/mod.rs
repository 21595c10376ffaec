//! Typosquat detection: is a dependency name a slip away from a popular package?
//!
//! STUB: interface fixed, body to be written (helper "typo").

pub mod online;

use crate::finding::Severity;

/// PEP 503 normalisation: lower-case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
            continue;
        }
        if in_separator && !out.is_empty() {
            out.push('-');
        }
        in_separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The popular names a dependency is compared against.
#[derive(Clone, Debug, Default)]
pub struct Corpus {}

impl Corpus {
    /// The built-in list (`src/data/top-pypi-15k.tsv`).
    pub fn builtin() -> Corpus {
        Corpus {}
    }

    /// Parses a `rank<TAB>name` list (lines starting with `#` are comments).
    pub fn from_tsv(text: &str) -> Result<Corpus, String> {
        let _ = text;
        Ok(Corpus {})
    }

    /// Adds a project's own name, ranked after every listed one.
    pub fn add(&mut self, name: &str) {
        let _ = name;
    }
}

/// Why a name looks suspicious.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    /// `typosquat` or `non-ascii-name` (see [`crate::rules`]).
    pub rule: &'static crate::rules::Rule,
    pub severity: Severity,
    /// The popular package it imitates, with its rank, when known.
    pub target: Option<(String, u32)>,
    /// The technique, in words: "two letters swapped".
    pub technique: String,
    /// The full message: "`reqeusts` looks like a typo of `requests` (rank 6): two letters swapped".
    pub message: String,
}

pub struct Detector {
    corpus: Corpus,
}

impl Detector {
    /// `allow` holds names (any spelling) that are never flagged.
    pub fn new(corpus: Corpus, allow: &[String]) -> Detector {
        let _ = allow;
        Detector { corpus }
    }

    pub fn check(&self, name: &str) -> Option<Suspicion> {
        let _ = (&self.corpus, name);
        None
    }
}
