//! The resolver against an in-memory package source: no network, no index.

use std::collections::BTreeMap;
use std::str::FromStr;

use mlsupply::resolve::{
    Candidate, Constraint, Metadata, Mode, PackageSource, PythonTarget, Resolution, ResolveError,
    ResolveInput, SourceError, parse_requirement, resolve,
};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, PackageName};

#[derive(Clone, Default)]
struct Release {
    requires_dist: Vec<String>,
    requires_python: Option<String>,
    /// `Requires-Python` in the metadata only (the index did not say).
    metadata_requires_python: Option<String>,
    provides_extra: Vec<String>,
    yanked: bool,
    dynamic: bool,
}

/// Releases keyed by (name, version); `versions` answers in insertion order, which tests vary.
#[derive(Clone, Default)]
struct Memory {
    releases: Vec<(String, String, Release)>,
    offline: Vec<String>,
}

impl Memory {
    fn add(&mut self, name: &str, version: &str, deps: &[&str]) -> &mut Release {
        self.releases.push((
            name.to_string(),
            version.to_string(),
            Release {
                requires_dist: deps.iter().map(|d| d.to_string()).collect(),
                ..Release::default()
            },
        ));
        &mut self.releases.last_mut().unwrap().2
    }

    fn reversed(&self) -> Memory {
        let mut copy = self.clone();
        copy.releases.reverse();
        copy
    }
}

impl PackageSource for Memory {
    fn versions(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        if self.offline.iter().any(|n| n == name.as_ref()) {
            return Err(SourceError::Unavailable(format!(
                "the index answered 503 for {name}"
            )));
        }
        Ok(self
            .releases
            .iter()
            .filter(|(n, _, _)| PackageName::from_str(n).unwrap() == *name)
            .map(|(_, v, r)| Candidate {
                version: Version::from_str(v).unwrap(),
                requires_python: r
                    .requires_python
                    .as_deref()
                    .map(|s| VersionSpecifiers::from_str(s).unwrap()),
                yanked: r.yanked,
            })
            .collect())
    }

    fn dependencies(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        let (_, _, release) = self
            .releases
            .iter()
            .find(|(n, v, _)| {
                PackageName::from_str(n).unwrap() == *name
                    && Version::from_str(v).unwrap() == *version
            })
            .expect("the resolver asks only for listed releases");
        if release.dynamic {
            return Err(SourceError::DynamicMetadata {
                name: name.to_string(),
                version: version.to_string(),
            });
        }
        Ok(Metadata {
            requires_dist: release
                .requires_dist
                .iter()
                .map(|d| parse_requirement(d).unwrap())
                .collect(),
            requires_python: release
                .metadata_requires_python
                .as_deref()
                .map(|s| VersionSpecifiers::from_str(s).unwrap()),
            provides_extra: release
                .provides_extra
                .iter()
                .map(|e| e.parse().unwrap())
                .collect(),
        })
    }
}

fn input(requirements: &[&str], mode: Mode) -> ResolveInput {
    ResolveInput {
        requirements: requirements
            .iter()
            .map(|r| parse_requirement(r).unwrap())
            .collect(),
        constraints: Vec::new(),
        python: PythonTarget::from_str("3.11").unwrap(),
        mode,
        root_name: "requirements.txt".to_string(),
    }
}

fn pin(name: &str, version: &str, origin: &str) -> Constraint {
    Constraint {
        name: PackageName::from_str(name).unwrap(),
        version: Version::from_str(version).unwrap(),
        origin: origin.to_string(),
    }
}

fn linux() -> Mode {
    Mode::Platform(
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.9",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "6.1.0",
            platform_system: "Linux",
            platform_version: "#1 SMP",
            python_full_version: "3.11.9",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap(),
    )
}

/// `name==version` lines, the closure as the pin tool would see it.
fn pins(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect()
}

fn ok(source: &Memory, input: &ResolveInput) -> Resolution {
    resolve(source, input).unwrap_or_else(|err| panic!("{err}"))
}

fn conflict(source: &Memory, input: &ResolveInput) -> String {
    match resolve(source, input) {
        Err(ResolveError::NoSolution { explanation }) => explanation,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Every requirement of every chosen release (no markers, no extras in these graphs) is met by
/// the chosen version of its target.
fn assert_consistent(index: &Memory, resolution: &Resolution) {
    for package in &resolution.packages {
        let metadata = index.dependencies(&package.name, &package.version).unwrap();
        for requirement in &metadata.requires_dist {
            let chosen = resolution
                .packages
                .iter()
                .find(|p| p.name == requirement.name)
                .unwrap_or_else(|| panic!("{} is missing", requirement.name));
            if let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) =
                &requirement.version_or_url
            {
                assert!(
                    specifiers.contains(&chosen.version),
                    "{} {} needs {requirement}, got {}",
                    package.name,
                    package.version,
                    chosen.version
                );
            }
        }
    }
}

#[test]
fn a_chain_takes_the_newest_versions_and_says_who_pulls_each_in() {
    let mut index = Memory::default();
    index.add("c", "1.0", &[]);
    index.add("a", "1.0", &["b"]);
    index.add("c", "2.0", &[]);
    index.add("b", "1.0", &["c>=1"]);
    index.add("a", "2.0", &["b>=1"]);
    index.add("c", "1.5", &[]);
    let resolution = ok(&index, &input(&["a"], Mode::Universal));
    assert_eq!(pins(&resolution), ["a==2.0", "b==1.0", "c==2.0"]);
    let a = resolution.get("a").unwrap();
    assert!(a.top_level);
    assert!(a.required_by.is_empty());
    let c = resolution.get("c").unwrap();
    assert!(!c.top_level);
    assert_eq!(c.required_by, ["a"]);
    assert_eq!(c.marker, None);
}

#[test]
fn a_diamond_meets_both_ranges() {
    let mut index = Memory::default();
    index.add("a", "1.0", &["d>=1,<3"]);
    index.add("b", "1.0", &["d>=2"]);
    for v in ["1.0", "2.0", "2.5", "3.0"] {
        index.add("d", v, &[]);
    }
    let resolution = ok(&index, &input(&["a", "b"], Mode::Universal));
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "d==2.5"]);
    assert_eq!(resolution.get("d").unwrap().required_by, ["a", "b"]);
}

#[test]
fn markers_are_kept_in_universal_mode_and_evaluated_in_platform_mode() {
    let mut index = Memory::default();
    index.add(
        "app",
        "1.0",
        &[
            "winlib; sys_platform == \"win32\"",
            "backport; python_version < \"3.8\"",
            "common",
        ],
    );
    index.add("winlib", "1.0", &["winhelper"]);
    index.add("winhelper", "1.0", &[]);
    index.add("backport", "1.0", &[]);
    index.add("common", "1.0", &[]);

    let universal = ok(&index, &input(&["app"], Mode::Universal));
    assert_eq!(
        pins(&universal),
        ["app==1.0", "common==1.0", "winhelper==1.0", "winlib==1.0"]
    );
    let winlib = universal.get("winlib").unwrap();
    assert_eq!(winlib.marker.as_deref(), Some("sys_platform == 'win32'"));
    // The marker travels down the path.
    assert_eq!(
        universal.get("winhelper").unwrap().marker.as_deref(),
        Some("sys_platform == 'win32'")
    );
    assert_eq!(universal.get("winhelper").unwrap().required_by, ["app"]);
    assert_eq!(universal.get("common").unwrap().marker, None);

    let platform = ok(&index, &input(&["app"], linux()));
    assert_eq!(pins(&platform), ["app==1.0", "common==1.0"]);
    assert!(platform.packages.iter().all(|p| p.marker.is_none()));
}

#[test]
fn a_top_level_marker_applies_to_the_package_and_its_dependencies() {
    let mut index = Memory::default();
    index.add("pywin32ish", "306", &["winhelper"]);
    index.add("winhelper", "1.0", &[]);
    index.add("requestsish", "2.0", &[]);
    let requirements = ["pywin32ish; sys_platform == 'win32'", "requestsish"];
    let universal = ok(&index, &input(&requirements, Mode::Universal));
    let pywin = universal.get("pywin32ish").unwrap();
    assert!(pywin.top_level);
    assert_eq!(pywin.marker.as_deref(), Some("sys_platform == 'win32'"));
    let helper = universal.get("winhelper").unwrap();
    assert_eq!(helper.marker.as_deref(), Some("sys_platform == 'win32'"));
    assert_eq!(helper.required_by, ["pywin32ish"]);

    let platform = ok(&index, &input(&requirements, linux()));
    assert_eq!(pins(&platform), ["requestsish==2.0"]);
}

#[test]
fn a_package_reached_along_several_paths_carries_the_disjunction() {
    let mut index = Memory::default();
    index.add("a", "1.0", &["shared; sys_platform == 'win32'"]);
    index.add("b", "1.0", &["shared; sys_platform == 'darwin'"]);
    index.add("shared", "1.0", &[]);
    index.add("c", "1.0", &["shared"]);
    index.add("d", "1.0", &["c; sys_platform == 'linux'"]);
    let requirements = ["a", "b; python_version >= '3.9'", "d"];
    let resolution = ok(&index, &input(&requirements, Mode::Universal));
    // win32 via a, darwin via b, linux via d -> c: the disjunction of the paths.
    assert_eq!(
        resolution.get("shared").unwrap().marker.as_deref(),
        Some("sys_platform == 'darwin' or sys_platform == 'linux' or sys_platform == 'win32'")
    );
    assert_eq!(
        resolution.get("shared").unwrap().required_by,
        ["a", "b", "d"]
    );
    assert_eq!(
        resolution.get("c").unwrap().marker.as_deref(),
        Some("sys_platform == 'linux'")
    );
    // `python_version >= '3.9'` holds for the 3.11 target, so it is simplified away.
    assert_eq!(resolution.get("b").unwrap().marker, None);

    // Needed unconditionally along one path: needed everywhere.
    let everywhere = ok(&index, &input(&["a", "b", "c"], Mode::Universal));
    assert_eq!(everywhere.get("shared").unwrap().marker, None);
}

#[test]
fn extras_are_virtual_packages_with_their_own_requirements() {
    let mut index = Memory::default();
    index.add(
        "lib",
        "1.0",
        &[
            "core",
            "speedup; extra == 'fast'",
            "linuxaccel; extra == 'fast' and sys_platform == 'linux'",
            "docsgen; extra == 'docs'",
        ],
    );
    index.add("core", "1.0", &[]);
    index.add("speedup", "1.0", &["core"]);
    index.add("linuxaccel", "1.0", &[]);
    index.add("docsgen", "1.0", &[]);

    let plain = ok(&index, &input(&["lib"], Mode::Universal));
    assert_eq!(pins(&plain), ["core==1.0", "lib==1.0"]);

    let fast = ok(&index, &input(&["lib[fast]"], Mode::Universal));
    assert_eq!(
        pins(&fast),
        ["core==1.0", "lib==1.0", "linuxaccel==1.0", "speedup==1.0"]
    );
    assert_eq!(
        fast.get("linuxaccel").unwrap().marker.as_deref(),
        Some("sys_platform == 'linux'")
    );
    assert_eq!(fast.get("speedup").unwrap().required_by, ["lib"]);
    assert!(fast.get("lib").unwrap().top_level);

    // An extra requested by a dependency works the same way.
    index.add("app", "1.0", &["lib[docs]>=1"]);
    let nested = ok(&index, &input(&["app"], linux()));
    assert_eq!(
        pins(&nested),
        ["app==1.0", "core==1.0", "docsgen==1.0", "lib==1.0"]
    );
    assert_eq!(nested.get("docsgen").unwrap().required_by, ["app"]);
    assert!(nested.unknown_extras.is_empty());
}

#[test]
fn an_extra_can_pull_in_other_extras_of_the_same_package() {
    let mut index = Memory::default();
    let lib = index.add(
        "lib",
        "1.0",
        &[
            "speedup; extra == 'fast'",
            "docsgen; extra == 'docs'",
            "lib[fast,docs]; extra == 'all'",
        ],
    );
    lib.provides_extra = vec!["fast".into(), "docs".into(), "all".into()];
    index.add("speedup", "1.0", &[]);
    index.add("docsgen", "1.0", &[]);
    let resolution = ok(&index, &input(&["lib[all,typo]"], Mode::Universal));
    assert_eq!(
        pins(&resolution),
        ["docsgen==1.0", "lib==1.0", "speedup==1.0"]
    );
    assert_eq!(resolution.get("speedup").unwrap().required_by, ["lib"]);
    // `typo` is not declared: reported, as pip warns, and otherwise ignored.
    assert_eq!(resolution.unknown_extras.len(), 1);
    assert_eq!(resolution.unknown_extras[0].extra.to_string(), "typo");
}

#[test]
fn the_newest_release_is_given_up_when_it_conflicts() {
    // app 3.0 and 2.0 need a newer helper than the file pins; app 1.0 fits.
    let mut index = Memory::default();
    index.add("app", "3.0", &["helper>=2", "extra-dep"]);
    index.add("app", "2.0", &["helper>=1.5"]);
    index.add("app", "1.0", &["helper>=1,<2"]);
    index.add("extra-dep", "1.0", &[]);
    for v in ["1.0", "1.4", "1.5", "2.0"] {
        index.add("helper", v, &[]);
    }
    let mut request = input(&["app", "helper"], Mode::Universal);
    request.constraints = vec![pin("helper", "1.4", "requirements.txt:2")];
    let resolution = ok(&index, &request);
    assert_eq!(pins(&resolution), ["app==1.0", "helper==1.4"]);
    assert_consistent(&index, &resolution);
    assert!(resolution.get("extra-dep").is_none());
}

#[test]
fn requires_python_excludes_releases_for_newer_pythons() {
    let mut index = Memory::default();
    index.add("app", "1.0", &["numpyish>=1"]);
    index.add("numpyish", "2.0", &[]).requires_python = Some(">=3.12".to_string());
    index.add("numpyish", "1.5", &[]).requires_python = Some(">=3.9".to_string());
    index.add("numpyish", "1.0", &[]).requires_python = Some(">=3.6".to_string());
    let resolution = ok(&index, &input(&["app"], Mode::Universal));
    assert_eq!(
        resolution.get("numpyish").unwrap().version.to_string(),
        "1.5"
    );

    // Asking for the excluded release explains why it cannot be had.
    let explanation = conflict(&index, &input(&["numpyish>=2"], Mode::Universal));
    assert!(
        explanation.contains("2.0 requires Python >=3.12"),
        "{explanation}"
    );
    assert!(
        explanation.contains("the target is Python 3.11"),
        "{explanation}"
    );
}

#[test]
fn yanked_releases_are_chosen_only_when_pinned_exactly() {
    let mut index = Memory::default();
    index.add("lib", "2.0", &[]).yanked = true;
    index.add("lib", "1.0", &[]);
    let loose = ok(&index, &input(&["lib>=1"], Mode::Universal));
    assert_eq!(pins(&loose), ["lib==1.0"]);
    assert!(!loose.packages[0].yanked);

    let exact = ok(&index, &input(&["lib==2.0"], Mode::Universal));
    assert_eq!(pins(&exact), ["lib==2.0"]);
    assert!(exact.packages[0].yanked, "a yanked choice is reported");
}

#[test]
fn pre_releases_only_when_a_specifier_asks_for_one() {
    let mut index = Memory::default();
    index.add("lib", "2.0b1", &[]);
    index.add("lib", "1.0", &[]);
    index.add("lib", "3.0.dev1", &[]);
    assert_eq!(
        pins(&ok(&index, &input(&["lib"], Mode::Universal))),
        ["lib==1.0"]
    );
    assert_eq!(
        pins(&ok(&index, &input(&["lib>=2.0b1"], Mode::Universal))),
        ["lib==3.0.dev1"]
    );
    // A dependency's specifier can ask too.
    index.add("app", "1.0", &["lib>=2.0b1,<3"]);
    assert_eq!(
        pins(&ok(&index, &input(&["app"], Mode::Universal))),
        ["app==1.0", "lib==2.0b1"]
    );
}

#[test]
fn the_files_pins_are_respected_and_add_nothing_by_themselves() {
    let mut index = Memory::default();
    index.add("app", "1.0", &["lib>=1"]);
    index.add("lib", "1.0", &[]);
    index.add("lib", "1.2", &[]);
    index.add("lib", "2.0", &[]);
    index.add("unrelated", "1.0", &[]);
    let mut request = input(&["app"], Mode::Universal);
    request.constraints = vec![
        pin("lib", "1.2", "requirements.txt:4"),
        pin("unrelated", "1.0", "requirements.txt:5"),
    ];
    let resolution = ok(&index, &request);
    assert_eq!(pins(&resolution), ["app==1.0", "lib==1.2"]);
}

#[test]
fn a_pin_the_index_cannot_satisfy_is_explained() {
    let mut index = Memory::default();
    index.add("app", "1.0", &["lib>=1"]);
    index.add("lib", "1.0", &[]);
    index.add("lib", "2.0", &[]).requires_python = Some(">=3.12".to_string());

    let mut request = input(&["app"], Mode::Universal);
    request.constraints = vec![pin("lib", "9.9", "requirements.txt:3")];
    let explanation = conflict(&index, &request);
    assert!(
        explanation.contains(
            "the file pins lib==9.9 (requirements.txt:3), a version the package index does not list"
        ),
        "{explanation}"
    );

    request.constraints = vec![pin("lib", "2.0", "requirements.txt:3")];
    let explanation = conflict(&index, &request);
    assert!(
        explanation.contains(
            "the file pins lib==2.0 (requirements.txt:3), but lib 2.0 requires Python >=3.12 (the target is Python 3.11)"
        ),
        "{explanation}"
    );
}

#[test]
fn a_conflict_is_explained_in_plain_words_naming_the_pin() {
    let mut index = Memory::default();
    index.add("a", "1.0", &[]);
    index.add("a", "2.0", &["b<1"]);
    index.add("a", "2.1", &["b<1"]);
    index.add("b", "0.9", &[]);
    index.add("b", "1.5", &[]);
    let mut request = input(&["a>=2", "b"], Mode::Universal);
    request.constraints = vec![pin("b", "1.5", "requirements.txt:2")];
    let explanation = conflict(&index, &request);
    assert!(
        explanation.contains("requirements.txt requires a >=2"),
        "{explanation}"
    );
    assert!(explanation.contains("depends on b <1"), "{explanation}");
    assert!(
        explanation.contains("b <1 is ruled out by the file's pin b==1.5 (requirements.txt:2)"),
        "{explanation}"
    );
    assert!(
        explanation.contains("requirements.txt cannot be resolved"),
        "{explanation}"
    );
    assert!(explanation.starts_with("Because "), "{explanation}");
    // No PubGrub internals leak into the text.
    for internal in ["∅", "[", "Root", "version solving failed"] {
        assert!(
            !explanation.contains(internal),
            "{internal} in {explanation}"
        );
    }
}

#[test]
fn a_deep_conflict_is_explained_step_by_step() {
    let mut index = Memory::default();
    index.add(
        "transformersish",
        "4.0",
        &["tokenizersish>=0.19", "hubish>=0.20", "numpyish>=1.17"],
    );
    index.add(
        "transformersish",
        "3.0",
        &["tokenizersish>=0.10,<0.19", "numpyish>=1"],
    );
    index.add("tokenizersish", "0.19", &["hubish>=0.16,<1.0"]);
    index.add("tokenizersish", "0.15", &["hubish<0.10"]);
    for v in ["0.09", "0.20", "1.0"] {
        index.add("hubish", v, &[]);
    }
    index.add("numpyish", "1.26", &[]);
    let mut request = input(&["transformersish", "hubish"], Mode::Universal);
    request.constraints = vec![pin("hubish", "1.0", "requirements.txt:7")];
    let explanation = conflict(&index, &request);
    for phrase in [
        "tokenizersish 0.15 depends on hubish <0.10",
        "transformersish 3.0 depends on hubish <0.10",
        "transformersish 4.0 depends on hubish >=0.16, <1.0",
        "every version of transformersish depends on hubish <1.0",
        "hubish <1.0 is ruled out by the file's pin hubish==1.0 (requirements.txt:7)",
        "requirements.txt requires transformersish",
    ] {
        assert!(
            explanation.contains(phrase),
            "{phrase:?} missing from:\n{explanation}"
        );
    }
}

#[test]
fn a_conflict_between_two_dependencies_names_both_sides() {
    let mut index = Memory::default();
    index.add("torchish", "1.0", &["numpyish<2"]);
    index.add("pandasish", "3.0", &["numpyish>=2"]);
    index.add("pandasish", "2.0", &["numpyish>=2.1"]);
    index.add("numpyish", "1.26", &[]);
    index.add("numpyish", "2.1", &[]);
    let explanation = conflict(&index, &input(&["torchish", "pandasish>=2"], linux()));
    assert!(
        explanation.contains("torchish 1.0 depends on numpyish <2"),
        "{explanation}"
    );
    assert!(
        explanation.contains("pandasish 2.0 depends on numpyish >=2.1"),
        "{explanation}"
    );
    assert!(
        explanation.contains("requirements.txt requires pandasish >=2"),
        "{explanation}"
    );
    assert!(
        explanation.contains("requirements.txt requires torchish"),
        "{explanation}"
    );
    assert!(
        explanation.contains("cannot be used together"),
        "{explanation}"
    );
}

#[test]
fn output_does_not_depend_on_the_order_the_index_lists_things() {
    let mut index = Memory::default();
    index.add("a", "1.0", &["x; sys_platform == 'win32'", "y>=1", "z"]);
    index.add("b", "1.0", &["y<3", "x; os_name == 'nt'"]);
    for v in ["1.0", "2.0", "3.0"] {
        index.add("y", v, &["z"]);
    }
    index.add("x", "1.0", &[]);
    index.add("z", "0.1", &[]);
    index.add("z", "0.2", &[]);
    let request = input(&["b", "a"], Mode::Universal);
    let first = ok(&index, &request);
    assert_eq!(first, ok(&index, &request));
    assert_eq!(first, ok(&index.reversed(), &request));
    assert_eq!(
        pins(&first),
        ["a==1.0", "b==1.0", "x==1.0", "y==2.0", "z==0.2"]
    );
    let names: Vec<String> = first.packages.iter().map(|p| p.name.to_string()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn a_dependency_cycle_resolves() {
    let mut index = Memory::default();
    index.add("a", "1.0", &["b"]);
    index.add("b", "1.0", &["a", "c; sys_platform == 'win32'"]);
    index.add("c", "1.0", &["a"]);
    let resolution = ok(&index, &input(&["a"], Mode::Universal));
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "c==1.0"]);
    assert_eq!(resolution.get("b").unwrap().required_by, ["a"]);
    assert!(resolution.get("a").unwrap().required_by.is_empty());
    assert_eq!(resolution.get("a").unwrap().marker, None);
    assert_eq!(
        resolution.get("c").unwrap().marker.as_deref(),
        Some("sys_platform == 'win32'")
    );
}

#[test]
fn dynamic_sdist_metadata_is_named_and_passed_over() {
    let mut index = Memory::default();
    index.add("lib", "2.0", &[]).dynamic = true;
    index.add("lib", "1.0", &[]);
    let resolution = ok(&index, &input(&["lib"], Mode::Universal));
    assert_eq!(pins(&resolution), ["lib==1.0"]);
    assert_eq!(resolution.unusable.len(), 1);
    assert_eq!(resolution.unusable[0].name.to_string(), "lib");
    assert_eq!(resolution.unusable[0].version.to_string(), "2.0");
    assert!(resolution.unusable[0].reason.contains("dynamic metadata"));

    let explanation = conflict(&index, &input(&["lib>=2"], Mode::Universal));
    assert!(
        explanation.contains("lib 2.0 cannot be used"),
        "{explanation}"
    );
    assert!(
        explanation.contains("lib 2.0 publishes only an sdist with dynamic metadata"),
        "{explanation}"
    );
}

#[test]
fn an_index_failure_stops_resolution_with_the_package_named() {
    let mut index = Memory::default();
    index.add("app", "1.0", &["flaky"]);
    index.offline.push("flaky".to_string());
    match resolve(&index, &input(&["app"], Mode::Universal)) {
        Err(err @ ResolveError::Source { .. }) => {
            let text = err.to_string();
            assert!(text.contains("flaky"), "{text}");
            assert!(text.contains("503"), "{text}");
        }
        other => panic!("expected a source error, got {other:?}"),
    }
}

#[test]
fn unknown_packages_and_direct_urls_are_clear_errors() {
    let index = Memory::default();
    let explanation = conflict(&index, &input(&["nosuchpkg"], Mode::Universal));
    assert!(
        explanation.contains("nosuchpkg is not on the package index"),
        "{explanation}"
    );

    let mut index = Memory::default();
    index.add(
        "app",
        "1.0",
        &["tool @ https://user:s3cret@example.com/tool-1.0.tar.gz"],
    );
    match resolve(&index, &input(&["app"], Mode::Universal)) {
        Err(err @ ResolveError::DirectUrl { .. }) => {
            let text = err.to_string();
            assert!(text.contains("app 1.0"), "{text}");
            assert!(!text.contains("s3cret"), "credentials leaked: {text}");
        }
        other => panic!("expected a direct URL error, got {other:?}"),
    }
}

#[test]
fn untrusted_requirement_text_is_an_error_not_a_panic() {
    let err = parse_requirement("foo- x").unwrap_err();
    assert!(err.contains("must end with a letter or digit"), "{err}");
    assert!(parse_requirement("foo >= = 1").is_err());
    let parsed = parse_requirement("Foo_Bar[X] >=1 ; python_version < '4'").unwrap();
    assert_eq!(parsed.name.to_string(), "foo-bar");
    // `${VAR}` in a URL is kept as written, not read from the environment.
    let url = parse_requirement("tool @ https://example.com/${HOME}/t.whl").unwrap();
    assert!(url.to_string().contains("${HOME}"), "{url}");
}

#[test]
fn a_larger_graph_resolves_deterministically() {
    // 40 packages in layers, each depending on two of the next layer with overlapping ranges.
    let mut index = Memory::default();
    let mut by_layer: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for layer in 0..4 {
        for i in 0..10 {
            let name = format!("p{layer}x{i}");
            for v in 1..=5 {
                let deps: Vec<String> = if layer < 3 {
                    vec![
                        format!("p{}x{}>={}", layer + 1, i, v.min(3)),
                        format!("p{}x{}<{}", layer + 1, (i + 1) % 10, 6 - v.min(2)),
                    ]
                } else {
                    Vec::new()
                };
                let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                index.add(&name, &format!("{v}.0"), &deps);
            }
            by_layer.entry(layer).or_default().push(name);
        }
    }
    let tops: Vec<&str> = by_layer[&0].iter().map(String::as_str).collect();
    let first = ok(&index, &input(&tops, Mode::Universal));
    assert_eq!(first.packages.len(), 40);
    assert_consistent(&index, &first);
    assert_eq!(first, ok(&index.reversed(), &input(&tops, Mode::Universal)));
}
