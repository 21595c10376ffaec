//! Typosquat detection: is a dependency name a slip away from a popular package?
//!
//! The pipeline follows the anchors (typogard, PyPI's TypoSnyper, guarddog) and adds the
//! false-positive controls they lack:
//!
//! 1. A name with a non-ASCII character is reported outright ([`rules::NON_ASCII_NAME`]); a
//!    look-alike table only names the package it imitates. Nothing is normalised silently.
//! 2. PEP 503 normalisation. Allowed names are never flagged; known defensive aliases (`tdqm`)
//!    get a note; a name on the popular list is never flagged; a standard-library module name
//!    that is not a popular project (`timeit`, `pwd`) is flagged.
//! 3. Candidates come from hash lookups, never from a scan of the list: the separator-free
//!    spelling, its single deletions against a deletion index of the list (SymSpell, distance 1
//!    and most distance-2 pairs), look-alike rewrites (`rn`/`m`, `vv`/`w`, `cl`/`d`), trailing
//!    digits, `py`/`python` affixes and word order.
//! 4. Each candidate is classified (swapped letters, omitted letter, keyboard slip, ...) and
//!    kept only if it passes gates on name length, the target's rank, and whether the name is
//!    made of words that popular packages use themselves (`flask-core`, `dash`): squats tend to
//!    be non-words, while a long-tail project one letter away from a popular one usually spells
//!    a real word.
//! 5. The most confident technique wins, then the most popular target.
//!
//! [`rules::NON_ASCII_NAME`]: crate::rules::NON_ASCII_NAME

mod confusables;
mod edits;
mod table;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use table::{Interner, StrTable, StrTableBuilder, Strings};

pub mod online;

use crate::finding::Severity;
use crate::rules;

pub use confusables::{ascii_lookalike, fold_to_ascii};
pub use edits::keyboard_neighbours;

static BUILTIN_LIST: &str = include_str!("../data/top-pypi-15k.tsv");
static ALIAS_LIST: &str = include_str!("../data/typo-aliases.tsv");
static STDLIB_LIST: &str = include_str!("../data/python-stdlib.txt");

// Parsed once per process; the data is compiled in, and a unit test proves it parses.
static BUILTIN: LazyLock<Corpus> = LazyLock::new(|| {
    Corpus::from_tsv(BUILTIN_LIST).unwrap_or_else(|err| panic!("built-in popular list: {err}"))
});
static ALIASES: LazyLock<HashMap<String, Alias>> = LazyLock::new(|| parse_aliases(ALIAS_LIST));
static STDLIB: LazyLock<HashSet<String>> = LazyLock::new(|| {
    STDLIB_LIST
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| normalize(l.trim()))
        .collect()
});
static BUILTIN_DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::new(Corpus::builtin(), &[]));

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

/// `name` as shown in a message: scanned files are untrusted, so anything but printable ASCII
/// is escaped (no terminal control sequences, no look-alike characters passed through).
fn shown(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_graphic()) {
        name.to_string()
    } else {
        name.escape_default().to_string()
    }
}

/// A normalised name without its separators: `requests-toolbelt` -> `requeststoolbelt`.
fn flatten(normalized: &str) -> String {
    normalized.chars().filter(|&c| c != '-').collect()
}

/// The longest popular list accepted. PyPI has about 700,000 projects (some 15 MB of
/// `rank<TAB>name` lines); the cap keeps every index of the detector's tables within 32 bits.
pub const MAX_LIST_BYTES: usize = 64 << 20;

/// The popular names a dependency is compared against. A name's id is its position in the list.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// PEP 503 normalised names, by id.
    names: Interner,
    /// Popularity ranks, by id.
    ranks: Vec<u32>,
}

impl Corpus {
    /// The built-in list (`src/data/top-pypi-15k.tsv`).
    pub fn builtin() -> Corpus {
        BUILTIN.clone()
    }

    /// Parses a `rank<TAB>name` list (lines starting with `#` are comments).
    pub fn from_tsv(text: &str) -> Result<Corpus, String> {
        if text.len() > MAX_LIST_BYTES {
            return Err(format!(
                "{} MiB is too large for a popular-package list (at most {} MiB)",
                text.len() >> 20,
                MAX_LIST_BYTES >> 20
            ));
        }
        let lines = text.lines().count();
        let mut corpus = Corpus {
            names: Interner::with_capacity(lines, text.len()),
            ranks: Vec::with_capacity(lines),
        };
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let at = number + 1;
            let (rank, rest) = line
                .split_once('\t')
                .ok_or_else(|| format!("line {at}: expected `rank<TAB>name`, found {line:?}"))?;
            let rank: u32 = rank
                .trim()
                .parse()
                .map_err(|_| format!("line {at}: rank {rank:?} is not a whole number"))?;
            let name = rest.split('\t').next().unwrap_or("").trim();
            if name.is_empty() || !name.is_ascii() {
                return Err(format!(
                    "line {at}: {name:?} is not a package name (PyPI names are ASCII)"
                ));
            }
            corpus.insert(name, rank);
        }
        Ok(corpus)
    }

    /// Adds a project's own name, ranked after every listed one.
    pub fn add(&mut self, name: &str) {
        let rank = self.ranks.iter().max().copied().unwrap_or(0) + 1;
        self.insert(name, rank);
    }

    fn insert(&mut self, name: &str, rank: u32) {
        let name = normalize(name);
        if name.is_empty() {
            return;
        }
        match self.names.intern(&name) {
            (_, true) => self.ranks.push(rank),
            (id, false) => {
                let known = &mut self.ranks[id as usize];
                *known = (*known).min(rank);
            }
        }
    }

    /// The id of a normalised name.
    fn id(&self, normalized: &str) -> Option<u32> {
        self.names.find(normalized)
    }

    /// The normalised name of an id.
    fn name(&self, id: u32) -> &str {
        self.names.get(id)
    }

    fn rank_of(&self, id: u32) -> u32 {
        self.ranks[id as usize]
    }

    /// How many names the list holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The popularity rank of `name` (any spelling), 1 being the most downloaded.
    pub fn rank(&self, name: &str) -> Option<u32> {
        self.id(&normalize(name)).map(|id| self.rank_of(id))
    }

    /// The same list without `names` (any spelling): for tests against a list that lacks a
    /// legitimate neighbour.
    pub fn without(&self, names: &[&str]) -> Corpus {
        let drop: HashSet<String> = names.iter().map(|n| normalize(n)).collect();
        let mut out = Corpus::default();
        for (name, &rank) in self.names.iter().zip(&self.ranks) {
            if !drop.contains(name) {
                out.insert(name, rank);
            }
        }
        out
    }
}

/// How a name imitates a popular one. The order is the confidence order: earlier variants are
/// more specific to typosquatting and win when a name matches several targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// Characters that look alike: `l`/`1`/`i`, `o`/`0`, `rn`/`m`, `vv`/`w`, `cl`/`d`.
    Homoglyph,
    /// Two adjacent letters swapped: `reqeusts`.
    Swapped,
    /// A letter typed twice: `requestss`.
    Repeated,
    /// Only separators added, removed or changed: `setup-tools`.
    Separators,
    /// The same words in another order: `nmap-python`.
    ReorderedWords,
    /// A `py`/`python` prefix or suffix added, removed or swapped: `python-flask`.
    PythonAffix,
    /// A version number appended or changed: `requests2`, `urllib4`.
    VersionDigit,
    /// A trailing `s` added or removed: `request`.
    Plural,
    /// A letter left out: `requets`.
    Omitted,
    /// A letter replaced by its neighbour on the keyboard: `requesrs`.
    KeyboardSubstitution,
    /// Any other letter inserted: `requexsts`.
    Inserted,
    /// Any other letter replaced: `requeqts`.
    Substitution,
    /// Two edits apart (long names only).
    TwoEdits,
    /// The name of a standard-library module that is not a popular PyPI project (`timeit`).
    StdlibName,
    /// A defensive alias registered against typos (`tdqm`): a note, not an attack.
    DefensiveAlias,
    /// Non-ASCII characters in the name.
    NonAscii,
}

impl Technique {
    /// Confidence tier: 0 for the techniques specific to squatting, 3 for two edits. Among
    /// candidates of one tier the most popular target wins.
    pub fn tier(self) -> u8 {
        match self {
            Technique::Omitted | Technique::KeyboardSubstitution => 1,
            Technique::Inserted | Technique::Substitution => 2,
            Technique::TwoEdits => 3,
            _ => 0,
        }
    }

    /// The technique in words, as used in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Technique::Homoglyph => "look-alike characters",
            Technique::Swapped => "two letters swapped",
            Technique::Repeated => "a letter repeated",
            Technique::Separators => "separators changed",
            Technique::ReorderedWords => "words reordered",
            Technique::PythonAffix => "`py`/`python` affix changed",
            Technique::VersionDigit => "version digits changed",
            Technique::Plural => "plural changed",
            Technique::Omitted => "a letter omitted",
            Technique::KeyboardSubstitution => "a letter replaced by its keyboard neighbour",
            Technique::Inserted => "a letter inserted",
            Technique::Substitution => "a letter replaced",
            Technique::TwoEdits => "two letters changed",
            Technique::StdlibName => "a standard-library module name",
            Technique::DefensiveAlias => "a defensive alias registered against typos",
            Technique::NonAscii => "non-ASCII characters",
        }
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
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
    /// The technique as data.
    pub kind: Technique,
    /// "did you mean `requests`?", when a target is known.
    pub suggestion: Option<String>,
}

#[derive(Clone, Debug)]
struct Alias {
    target: String,
    source: String,
}

fn parse_aliases(text: &str) -> HashMap<String, Alias> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let alias = normalize(cols.next()?.trim());
            let target = normalize(cols.next()?.trim());
            let source = cols.next().unwrap_or("").trim().to_string();
            Some((alias, Alias { target, source }))
        })
        .collect()
}

/// A candidate target found for a name.
#[derive(Clone, Debug)]
struct Candidate {
    id: u32,
    technique: Technique,
    detail: String,
    /// Where a one-letter edit sits in the popular name (0 for other techniques).
    at: usize,
}

/// The index over a popular list; build once (10–15 ms for the built-in list of 15,000 names,
/// see `bench/typo/RESULTS.md`), check many names (under a microsecond each). Every table lists its ids in the order
/// of the list, which keeps the choice among equally ranked candidates stable.
pub struct Detector {
    corpus: Corpus,
    allow: HashSet<String>,
    /// Separator-free spelling of each entry, by id (`requests-toolbelt` -> `requeststoolbelt`).
    flats: Strings,
    /// Separator-free spelling -> entries (several names can share one: `uri-template`).
    flat: StrTable,
    /// Separator-free spelling minus one character -> entries (a SymSpell deletion index; the
    /// `aux` of a posting is the byte offset of the character removed).
    deletes: StrTable,
    /// Separator-free spelling without a `py`/`python` prefix or suffix -> entries.
    cores: StrTable,
    /// Words of a multi-word name, sorted -> entries.
    word_sets: StrTable,
    /// Every word used in a popular name (`flask`, `core`, `client`, ...).
    vocabulary: Interner,
}

/// Strips one `py`/`python` prefix and one suffix (`python3-dateutil` -> `dateutil`), keeping at
/// least three characters.
fn core_of(flat: &str) -> &str {
    let mut core = flat;
    for prefix in ["python3", "python", "py3", "py"] {
        if let Some(rest) = core.strip_prefix(prefix)
            && rest.len() >= 3
        {
            core = rest;
            break;
        }
    }
    for suffix in ["python3", "python", "py3", "py"] {
        if let Some(rest) = core.strip_suffix(suffix)
            && rest.len() >= 3
        {
            core = rest;
            break;
        }
    }
    core
}

fn sorted_words(normalized: &str) -> Option<String> {
    let mut words: Vec<&str> = normalized.split('-').collect();
    if words.len() < 2 {
        return None;
    }
    words.sort_unstable();
    Some(words.join("-"))
}

/// Calls `f` with every spelling of `s` with one character removed, each once, and the byte
/// offset of that character. The spellings are built in `buf`, one after the other: the
/// deletion index alone has ~180,000 of them.
fn for_each_deletion(s: &str, buf: &mut String, mut f: impl FnMut(usize, &str)) {
    let mut previous = None;
    for (i, c) in s.char_indices() {
        // Removing either letter of a double gives the same string.
        if previous.replace(c) == Some(c) {
            continue;
        }
        buf.clear();
        buf.push_str(&s[..i]);
        buf.push_str(&s[i + c.len_utf8()..]);
        f(i, buf);
    }
}

fn push_fixed(
    found: &mut Vec<Candidate>,
    ids: impl IntoIterator<Item = u32>,
    technique: Technique,
    detail: &str,
) {
    for id in ids {
        found.push(Candidate {
            id,
            technique,
            detail: detail.to_string(),
            at: 0,
        });
    }
}

/// Whether `key` is `s` without the character at byte offset `at`.
fn is_deletion(s: &str, at: usize, key: &str) -> bool {
    let Some(removed) = s.get(at..).and_then(|rest| rest.chars().next()) else {
        return false;
    };
    let width = removed.len_utf8();
    let (s, key) = (s.as_bytes(), key.as_bytes());
    s.len() == key.len() + width && s[..at] == key[..at] && s[at + width..] == key[at..]
}

/// Look-alike rewrites that change the length: `rn` reads as `m`, `vv` as `w`, `cl` as `d`.
const MULTI_LOOKALIKES: [(&str, &str); 3] = [("rn", "m"), ("vv", "w"), ("cl", "d")];

fn multi_lookalike_variants(flat: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (long, short) in MULTI_LOOKALIKES {
        for (from, to) in [(long, short), (short, long)] {
            for (at, _) in flat.match_indices(from) {
                let variant = format!("{}{}{}", &flat[..at], to, &flat[at + from.len()..]);
                out.push((variant, format!("`{from}` for `{to}`")));
            }
        }
    }
    out
}

impl Detector {
    /// `allow` holds names (any spelling) that are never flagged.
    pub fn new(corpus: Corpus, allow: &[String]) -> Detector {
        let count = corpus.len();
        let mut flats = Strings::with_capacity(count, corpus.names.iter().map(str::len).sum());
        for name in corpus.names.iter() {
            flats.push(&flatten(name));
        }
        // A name of n characters has at most n deletions.
        let chars = flats.iter().map(|flat| flat.chars().count()).sum();
        let mut flat_table = StrTableBuilder::with_capacity(count);
        let mut deletes = StrTableBuilder::with_capacity(chars);
        let mut cores = StrTableBuilder::with_capacity(count);
        let mut word_sets = StrTableBuilder::default();
        let mut vocabulary = Interner::with_capacity(count, chars);
        let mut buf = String::new();
        for (id, flat) in (0..).zip(flats.iter()) {
            let name = corpus.name(id);
            for_each_deletion(flat, &mut buf, |at, deletion| {
                deletes.insert(deletion, id, table::index(at));
            });
            cores.insert(core_of(flat), id, 0);
            if let Some(words) = sorted_words(name) {
                word_sets.insert(&words, id, 0);
            }
            for word in name.split('-') {
                vocabulary.intern(word);
            }
            flat_table.insert(flat, id, 0);
        }
        Detector {
            allow: allow.iter().map(|n| normalize(n)).collect(),
            corpus,
            flats,
            flat: flat_table.build(),
            deletes: deletes.build(),
            cores: cores.build(),
            word_sets: word_sets.build(),
            vocabulary,
        }
    }

    /// A detector over the built-in list with no allow list, built once per process.
    pub fn builtin() -> &'static Detector {
        &BUILTIN_DETECTOR
    }

    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// Why `name` (as written in a manifest) looks like a squat, or `None`. Non-ASCII names are
    /// always reported; then allowed names are skipped, known defensive aliases get a note (even
    /// when the alias itself is popular, like `tdqm`), and names on the list are never flagged.
    pub fn check(&self, name: &str) -> Option<Suspicion> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        if !name.is_ascii() {
            return Some(self.non_ascii(name));
        }
        let normalized = normalize(name);
        if self.allow.contains(&normalized) {
            return None;
        }
        if let Some(alias) = ALIASES.get(&normalized) {
            return Some(self.alias(name, alias));
        }
        if self.corpus.id(&normalized).is_some() {
            return None;
        }
        if STDLIB.contains(&normalized) {
            return Some(Suspicion {
                rule: &rules::TYPOSQUAT,
                severity: rules::TYPOSQUAT.default_severity,
                target: None,
                technique: Technique::StdlibName.describe().to_string(),
                message: format!(
                    "`{}` is the name of a Python standard-library module, not of a known PyPI \
                     project: the standard library needs no install, and uploads under such \
                     names (`pwd`, `timeit`) have been malicious",
                    shown(name)
                ),
                kind: Technique::StdlibName,
                suggestion: Some(format!("remove `{}` from the dependencies", shown(name))),
            });
        }
        let best = self.best_candidate(&normalized)?;
        let (target, rank) = (self.corpus.name(best.id), self.corpus.rank_of(best.id));
        let mut technique = best.technique.describe().to_string();
        if !best.detail.is_empty() {
            technique = format!("{technique} ({})", best.detail);
        }
        if !matches!(
            best.technique,
            Technique::Separators | Technique::ReorderedWords | Technique::PythonAffix
        ) && normalized.matches('-').count() != target.matches('-').count()
        {
            technique.push_str(", separators changed");
        }
        Some(Suspicion {
            rule: &rules::TYPOSQUAT,
            severity: rules::TYPOSQUAT.default_severity,
            message: format!(
                "`{}` looks like a typo of `{target}` (rank {rank}): {technique}",
                shown(name),
            ),
            suggestion: Some(format!("did you mean `{target}`?")),
            target: Some((target.to_string(), rank)),
            technique,
            kind: best.technique,
        })
    }

    fn alias(&self, name: &str, alias: &Alias) -> Suspicion {
        let rank = self.corpus.rank(&alias.target);
        let ranked = rank.map(|r| format!(" (rank {r})")).unwrap_or_default();
        Suspicion {
            rule: &rules::TYPOSQUAT,
            severity: Severity::Note,
            target: rank.map(|r| (alias.target.clone(), r)),
            technique: Technique::DefensiveAlias.describe().to_string(),
            message: format!(
                "`{}` is a defensive alias of `{}`{ranked}, registered against typos ({})",
                shown(name),
                alias.target,
                alias.source
            ),
            kind: Technique::DefensiveAlias,
            suggestion: Some(format!("did you mean `{}`?", alias.target)),
        }
    }

    fn non_ascii(&self, name: &str) -> Suspicion {
        let odd: Vec<String> = name
            .chars()
            .filter(|c| !c.is_ascii())
            .map(confusables::describe)
            .collect();
        let odd = odd.join(", ");
        // Name the package it imitates: the folded spelling itself, or what that is a typo of.
        let target = fold_to_ascii(name).and_then(|folded| {
            let normalized = normalize(&folded);
            match self.corpus.id(&normalized) {
                Some(id) => Some(id),
                None => self.best_candidate(&normalized).map(|c| c.id),
            }
        });
        let target = target.map(|id| (self.corpus.name(id).to_string(), self.corpus.rank_of(id)));
        let message = match &target {
            Some((t, rank)) => format!(
                "`{}` contains non-ASCII characters ({odd}) and imitates `{t}` (rank {rank})",
                shown(name)
            ),
            None => format!(
                "`{}` contains non-ASCII characters ({odd}); PyPI names are ASCII",
                shown(name)
            ),
        };
        Suspicion {
            rule: &rules::NON_ASCII_NAME,
            severity: rules::NON_ASCII_NAME.default_severity,
            suggestion: target.as_ref().map(|(t, _)| format!("did you mean `{t}`?")),
            target,
            technique: Technique::NonAscii.describe().to_string(),
            message,
            kind: Technique::NonAscii,
        }
    }

    /// Every candidate target of `normalized` (not itself on the list; `flat` is its
    /// separator-free spelling), before gating.
    fn candidates(&self, normalized: &str, flat: &str) -> Vec<Candidate> {
        let mut found: Vec<Candidate> = Vec::new();
        // Same letters, other separators.
        push_fixed(&mut found, self.by_flat(flat), Technique::Separators, "");
        // The name is a popular one with a letter left out.
        self.push_classified(&mut found, flat, self.by_deletion(flat));
        for_each_deletion(flat, &mut String::new(), |_, deletion| {
            // A letter added to a popular name.
            self.push_classified(&mut found, flat, self.by_flat(deletion));
            // A letter replaced, two swapped, or two edits.
            self.push_classified(&mut found, flat, self.by_deletion(deletion));
        });
        // `rn` for `m` and the like.
        for (variant, detail) in multi_lookalike_variants(flat) {
            let ids = self.by_flat(&variant);
            push_fixed(&mut found, ids, Technique::Homoglyph, &detail);
        }
        // A version number appended or changed: `requests2`, `urllib4`.
        let base = flat.trim_end_matches(|c: char| c.is_ascii_digit());
        if base.len() < flat.len() && base.len() >= 3 {
            let detail = format!("`{}` appended", &flat[base.len()..]);
            push_fixed(
                &mut found,
                self.by_flat(base),
                Technique::VersionDigit,
                &detail,
            );
        }
        // `py`/`python` added, removed or swapped.
        let core = core_of(flat);
        let other = self
            .cores
            .get(core, |id, _| core_of(self.flats.get(id)) == core)
            .filter(|&id| self.flats.get(id) != flat);
        push_fixed(&mut found, other, Technique::PythonAffix, "");
        // The same words in another order.
        if let Some(words) = sorted_words(normalized) {
            let ids = self.word_sets.get(&words, |id, _| {
                sorted_words(self.corpus.name(id)).as_deref() == Some(words.as_str())
            });
            push_fixed(&mut found, ids, Technique::ReorderedWords, "");
        }
        found
    }

    /// The entries spelled `flat` without separators.
    fn by_flat<'a>(&'a self, flat: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.flat.get(flat, move |id, _| self.flats.get(id) == flat)
    }

    /// The entries whose separator-free spelling is `deletion` plus one character.
    fn by_deletion<'a>(&'a self, deletion: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.deletes.get(deletion, move |id, at| {
            is_deletion(self.flats.get(id), at as usize, deletion)
        })
    }

    fn push_classified(
        &self,
        found: &mut Vec<Candidate>,
        flat: &str,
        ids: impl Iterator<Item = u32>,
    ) {
        for id in ids {
            let target = self.flats.get(id);
            if let Some(edit) = edits::classify(flat, target) {
                found.push(Candidate {
                    id,
                    technique: edit.technique,
                    detail: edit.detail,
                    at: edit.at,
                });
            }
        }
    }

    /// Whether a candidate is strong enough to report. The gates encode what the false
    /// positives of edit distance look like: short names, names spelled from real words,
    /// letters added at either end (`xtyping`, `colorlogx` are common naming styles), a
    /// different first letter (`doblib`), and obscure targets for the weaker techniques.
    fn passes(&self, normalized: &str, flat: &str, c: &Candidate) -> bool {
        let rank = self.corpus.rank_of(c.id);
        let target_flat = self.flats.get(c.id);
        let flat_len = flat.len();
        // Short names collide by chance: `dask`/`dash`, `six`/`sip`.
        if flat_len < 4 || target_flat.len() < 4 {
            return false;
        }
        // A name made only of words that popular packages use is usually a real project
        // (`flask-core`, `pytest-lock`); squats tend to be non-words (`reqeusts`).
        let all_words = normalized
            .split('-')
            .all(|w| self.vocabulary.contains(w) || w.chars().all(|c| c.is_ascii_digit()));
        let at_edge = c.at == 0 || c.at + 1 >= target_flat.len().max(flat_len);
        match c.technique {
            Technique::Homoglyph | Technique::Swapped => !all_words || rank <= 1000,
            Technique::Repeated => !all_words || rank <= 500,
            Technique::Separators => rank <= 200,
            Technique::ReorderedWords => true,
            // Adding `py`/`python` to a popular name is the squat (`python-flask`); a name
            // without the affix is often the plain word of a real project (`dash`, `pydash`).
            Technique::PythonAffix => {
                let added = core_of(flat).len() < flat_len;
                if added {
                    rank <= 2000
                } else {
                    !all_words && rank <= 2000
                }
            }
            Technique::VersionDigit => {
                let removed = flat_len < target_flat.len();
                if removed { rank <= 100 } else { rank <= 3000 }
            }
            Technique::Plural => rank <= 300 || (!all_words && rank <= 5000),
            Technique::Omitted => !all_words && (flat_len >= 5 || rank <= 100),
            Technique::KeyboardSubstitution => {
                !all_words && (flat_len >= 5 || rank <= 100) && (c.at > 0 || rank <= 100)
            }
            Technique::Substitution => {
                !all_words
                    && (flat_len >= 6 || rank <= 100)
                    && rank <= 3000
                    && (c.at > 0 || rank <= 100)
            }
            Technique::Inserted => {
                !all_words && flat_len >= 6 && rank <= 3000 && (!at_edge || rank <= 200)
            }
            Technique::TwoEdits => !all_words && flat_len >= 9 && rank <= 1000,
            Technique::StdlibName | Technique::DefensiveAlias | Technique::NonAscii => true,
        }
    }

    fn best_candidate(&self, normalized: &str) -> Option<Candidate> {
        let flat = flatten(normalized);
        self.candidates(normalized, &flat)
            .into_iter()
            .filter(|c| self.passes(normalized, &flat, c))
            .min_by_key(|c| (c.technique.tier(), self.corpus.rank_of(c.id), c.technique))
    }
}

#[cfg(test)]
mod tests;
