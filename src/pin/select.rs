//! Which version a requirement gets, and which files of it are hashed.
//!
//! The rules follow pip's finder: candidates come from file names (never from the order the
//! index lists them in), yanked files are skipped unless an exact pin names them (PEP 592),
//! files whose `Requires-Python` excludes the target are skipped, and pre-releases are taken only
//! when asked for (`--pre`, or a specifier that names a pre-release) or when nothing else
//! matches (what `packaging`'s `SpecifierSet.filter` does, and so pip).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

use crate::index::{DistFile, DistKind};
use crate::typo::normalize;

/// `--only-binary`: for which projects source distributions are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OnlyBinary {
    /// `:none:` (the default): sdists are fine.
    #[default]
    None,
    /// `:all:`: wheels only, for every project.
    All,
    /// Wheels only for these projects (normalised names).
    Names(BTreeSet<String>),
}

impl OnlyBinary {
    /// Parses pip's value: `:all:`, `:none:` or comma-separated names (`:all:`/`:none:` may
    /// appear in the list, and later entries win, as in pip's `handle_mutual_excludes`).
    pub fn parse(value: &str) -> OnlyBinary {
        let mut out = OnlyBinary::None;
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out = match (part, out) {
                (":all:", _) => OnlyBinary::All,
                (":none:", _) => OnlyBinary::None,
                (name, OnlyBinary::Names(mut names)) => {
                    names.insert(normalize(name));
                    OnlyBinary::Names(names)
                }
                (name, OnlyBinary::None) => OnlyBinary::Names(BTreeSet::from([normalize(name)])),
                (_, OnlyBinary::All) => OnlyBinary::All,
            };
        }
        out
    }

    pub fn applies_to(&self, project: &str) -> bool {
        match self {
            OnlyBinary::None => false,
            OnlyBinary::All => true,
            OnlyBinary::Names(names) => names.contains(&normalize(project)),
        }
    }
}

/// The filters that narrow the set of files hashed (and so the versions that can be chosen).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub only_binary: OnlyBinary,
    /// Wheel platform tags to keep (`manylinux_2_17_x86_64`, `win_amd64`, ...); `any` wheels
    /// are always kept. Empty keeps every wheel.
    pub platforms: Vec<String>,
}

impl Filters {
    /// Whether `file` of `project` is one pip could install under these filters. Eggs and
    /// other legacy formats never are.
    pub fn admits(&self, project: &str, file: &DistFile) -> bool {
        match file.kind() {
            DistKind::Other => false,
            DistKind::Sdist => !self.only_binary.applies_to(project),
            DistKind::Wheel => {
                self.platforms.is_empty()
                    || wheel_platforms(&file.filename).any(|tag| {
                        tag == "any" || self.platforms.iter().any(|p| p.eq_ignore_ascii_case(tag))
                    })
            }
        }
    }
}

/// The platform tags of a wheel file name (the last dash-separated part, `.`-compressed).
fn wheel_platforms(filename: &str) -> impl Iterator<Item = &str> {
    let stem = filename
        .get(..filename.len().saturating_sub(4))
        .unwrap_or_default();
    stem.rsplit('-').next().unwrap_or_default().split('.')
}

/// What the target interpreter is and which releases may be chosen.
#[derive(Clone, Debug)]
pub struct Target {
    /// The Python version files must support (`Requires-Python`).
    pub python: Version,
    /// `--pre`: pre-releases may be chosen for ranges.
    pub pre: bool,
}

/// The version chosen for one requirement, with the files whose hashes go in the file.
#[derive(Clone, Debug)]
pub struct Choice<'a> {
    pub version: Version,
    /// Every admitted file of the version (all versions an exact pin matches), sorted by name.
    pub files: Vec<&'a DistFile>,
    /// `Some(reason)` when the chosen version is yanked (only exact pins choose one).
    pub yanked: Option<Option<String>>,
}

/// Why no version could be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no file of a version matching `{spec}` is on the index")]
    NoSuchVersion { spec: String },
    #[error(
        "the index has {spec} but none of its files passes the filters (--only-binary, --platform)"
    )]
    AllFiltered { spec: String },
    #[error("no version matching `{spec}` {why}")]
    NoCandidate { spec: String, why: String },
}

/// The operator of a requirement that names exactly one version (`==1.2`, `===1.2`), which is
/// kept as written. `==1.*` is a range.
pub fn exact_pin(specifiers: &VersionSpecifiers) -> Option<&VersionSpecifier> {
    match specifiers.iter().collect::<Vec<_>>().as_slice() {
        [only] if matches!(only.operator(), Operator::Equal | Operator::ExactEqual) => Some(only),
        _ => None,
    }
}

/// Whether `file`'s `Requires-Python` admits `python` (an unparsable one does, as for pip).
pub fn python_ok(file: &DistFile, python: &Version) -> bool {
    match &file.requires_python {
        // pip ignores a Requires-Python it cannot parse (with a warning), so it does too.
        Some(text) => VersionSpecifiers::from_str(text)
            .map(|spec| spec.contains(python))
            .unwrap_or(true),
        None => true,
    }
}

/// Chooses the version of `project` for `specifiers` (`None`: a bare name) among `files`.
pub fn choose<'a>(
    project: &str,
    files: &[&'a DistFile],
    specifiers: Option<&VersionSpecifiers>,
    target: &Target,
    filters: &Filters,
) -> Result<Choice<'a>, SelectError> {
    let spec_text = specifiers.map_or_else(|| "any version".to_owned(), |s| format!("{s}"));
    let mut by_version: BTreeMap<Version, Vec<&DistFile>> = BTreeMap::new();
    let mut any_unfiltered = false;
    for file in files {
        let Some(version) = file.version(project) else {
            continue;
        };
        if !specifiers.is_none_or(|s| s.contains(&version)) {
            continue;
        }
        any_unfiltered = true;
        if filters.admits(project, file) {
            by_version.entry(version).or_default().push(file);
        }
    }
    if by_version.is_empty() {
        return Err(if any_unfiltered {
            SelectError::AllFiltered { spec: spec_text }
        } else {
            SelectError::NoSuchVersion { spec: spec_text }
        });
    }

    if let Some(pin) = specifiers.and_then(exact_pin) {
        // An exact pin keeps its version whatever its state; pip may pick any version it
        // matches (`==2.1` also matches `2.1.0+cpu`), so every such file is hashed.
        let usable = |files: &[&DistFile]| {
            files
                .iter()
                .any(|f| !f.yanked && python_ok(f, &target.python))
        };
        let chosen = by_version
            .iter()
            .rev()
            .find(|(_, files)| usable(files))
            .or_else(|| by_version.iter().next_back())
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| pin.version().clone());
        let yanked = by_version
            .get(&chosen)
            .filter(|files| files.iter().all(|f| f.yanked))
            .map(|files| files.iter().find_map(|f| f.yanked_reason.clone()));
        let mut all: Vec<&DistFile> = by_version.into_values().flatten().collect();
        all.sort_by(|a, b| a.filename.cmp(&b.filename));
        return Ok(Choice {
            version: chosen,
            files: all,
            yanked,
        });
    }

    let pre_wanted = target.pre || specifiers.is_some_and(|s| s.iter().any(|s| s.any_prerelease()));
    let candidates: Vec<&Version> = by_version
        .iter()
        .filter(|(_, files)| {
            files
                .iter()
                .any(|f| !f.yanked && python_ok(f, &target.python))
        })
        .map(|(v, _)| v)
        .collect();
    let stable = candidates.iter().rev().find(|v| !v.any_prerelease());
    let chosen = if pre_wanted {
        candidates.last()
    } else {
        stable.or(candidates.last())
    };
    let Some(chosen) = chosen else {
        let why = if by_version.values().flatten().all(|f| f.yanked) {
            "is left: every matching version is yanked".to_owned()
        } else {
            format!("supports Python {}", target.python)
        };
        return Err(SelectError::NoCandidate {
            spec: spec_text,
            why,
        });
    };
    let chosen = (*chosen).clone();
    let equal = VersionSpecifier::equals_version(chosen.clone());
    let mut chosen_files: Vec<&DistFile> = by_version
        .iter()
        .filter(|(v, _)| equal.contains(v))
        .flat_map(|(_, files)| files.iter().copied())
        .collect();
    chosen_files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(Choice {
        version: chosen,
        files: chosen_files,
        yanked: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::CoreMetadata;

    fn file(name: &str) -> DistFile {
        DistFile {
            filename: name.to_owned(),
            url: url::Url::parse(&format!("https://files.example/{name}")).unwrap(),
            hashes: BTreeMap::from([("sha256".to_owned(), "0".repeat(64))]),
            requires_python: None,
            yanked: false,
            yanked_reason: None,
            core_metadata: CoreMetadata::Absent,
            size: None,
            upload_time: None,
        }
    }

    fn wheel(version: &str) -> DistFile {
        file(&format!("demo-{version}-py3-none-any.whl"))
    }

    fn target(python: &str) -> Target {
        Target {
            python: Version::from_str(python).unwrap(),
            pre: false,
        }
    }

    fn spec(text: &str) -> VersionSpecifiers {
        VersionSpecifiers::from_str(text).unwrap()
    }

    fn pick(files: &[DistFile], spec_text: Option<&str>, target: &Target) -> String {
        let refs: Vec<&DistFile> = files.iter().collect();
        let specifiers = spec_text.map(spec);
        choose(
            "demo",
            &refs,
            specifiers.as_ref(),
            target,
            &Filters::default(),
        )
        .map(|c| c.version.to_string())
        .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn newest_by_pep440_not_by_listing_order() {
        let files = [wheel("2.15.0"), wheel("2.9.1"), wheel("2.2"), wheel("10.0")];
        assert_eq!(pick(&files, None, &target("3.11")), "10.0");
        assert_eq!(pick(&files, Some("<10"), &target("3.11")), "2.15.0");
        assert_eq!(pick(&files, Some(">=2.3,<2.10"), &target("3.11")), "2.9.1");
    }

    #[test]
    fn yanked_versions_are_skipped_unless_pinned_exactly() {
        let mut yanked = wheel("2.0");
        yanked.yanked = true;
        yanked.yanked_reason = Some("broken build".to_owned());
        let files = [wheel("1.0"), yanked];
        assert_eq!(pick(&files, Some(">=1"), &target("3.11")), "1.0");
        let refs: Vec<&DistFile> = files.iter().collect();
        let choice = choose(
            "demo",
            &refs,
            Some(&spec("==2.0")),
            &target("3.11"),
            &Filters::default(),
        )
        .unwrap();
        assert_eq!(choice.version.to_string(), "2.0");
        assert_eq!(choice.yanked, Some(Some("broken build".to_owned())));
        assert!(
            pick(&files[1..], Some(">=2"), &target("3.11"))
                .contains("every matching version is yanked")
        );
    }

    #[test]
    fn prereleases_only_when_asked_or_nothing_else_matches() {
        let files = [wheel("1.0"), wheel("2.0rc1"), wheel("2.1.dev3")];
        assert_eq!(pick(&files, None, &target("3.11")), "1.0");
        assert_eq!(pick(&files, Some(">=2.0rc1"), &target("3.11")), "2.1.dev3");
        assert_eq!(pick(&files, Some(">=2"), &target("3.11")), "2.1.dev3");
        let pre = Target {
            pre: true,
            ..target("3.11")
        };
        assert_eq!(pick(&files, None, &pre), "2.1.dev3");
    }

    #[test]
    fn requires_python_follows_the_target() {
        let mut new = wheel("3.0");
        new.requires_python = Some(">=3.12".to_owned());
        let mut broken = wheel("4.0");
        broken.requires_python = Some("not a specifier".to_owned());
        let files = [wheel("2.0"), new];
        assert_eq!(pick(&files, None, &target("3.11")), "2.0");
        assert_eq!(pick(&files, None, &target("3.12")), "3.0");
        assert!(pick(&files, Some(">=3"), &target("3.11")).contains("supports Python 3.11"));
        let files = [wheel("2.0"), broken];
        assert_eq!(pick(&files, None, &target("3.11")), "4.0");
    }

    #[test]
    fn exact_pin_hashes_every_matching_file_and_local_variants() {
        let files = [
            file("demo-2.1.0.tar.gz"),
            file("demo-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
            file("demo-2.1.0+cpu-cp311-cp311-win_amd64.whl"),
            file("demo-2.2.0.tar.gz"),
        ];
        let refs: Vec<&DistFile> = files.iter().collect();
        let choice = choose(
            "demo",
            &refs,
            Some(&spec("==2.1")),
            &target("3.11"),
            &Filters::default(),
        )
        .unwrap();
        assert_eq!(choice.files.len(), 3);
        let only_linux = Filters {
            only_binary: OnlyBinary::parse(":all:"),
            platforms: vec!["manylinux_2_17_x86_64".to_owned()],
        };
        let choice = choose(
            "demo",
            &refs,
            Some(&spec("==2.1")),
            &target("3.11"),
            &only_linux,
        )
        .unwrap();
        let names: Vec<&str> = choice.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["demo-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"]);
        let err = choose(
            "demo",
            &refs,
            Some(&spec("==2.2")),
            &target("3.11"),
            &only_linux,
        )
        .unwrap_err();
        assert!(matches!(err, SelectError::AllFiltered { .. }));
        let err = choose(
            "demo",
            &refs,
            Some(&spec("==9")),
            &target("3.11"),
            &Filters::default(),
        )
        .unwrap_err();
        assert!(matches!(err, SelectError::NoSuchVersion { .. }));
    }

    #[test]
    fn only_binary_values() {
        assert_eq!(OnlyBinary::parse(":all:"), OnlyBinary::All);
        assert_eq!(OnlyBinary::parse(":all:,:none:"), OnlyBinary::None);
        let names = OnlyBinary::parse("NumPy,torch_vision");
        assert!(names.applies_to("numpy") && names.applies_to("torch-vision"));
        assert!(!names.applies_to("scipy"));
    }

    #[test]
    fn exact_pin_detection() {
        assert!(exact_pin(&spec("==1.2")).is_some());
        assert!(exact_pin(&spec("===1.2")).is_some());
        assert!(exact_pin(&spec("==1.*")).is_none());
        assert!(exact_pin(&spec(">=1,<2")).is_none());
        assert!(exact_pin(&spec("==1,!=2")).is_none());
    }
}
