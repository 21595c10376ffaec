//! Unit tests of each technique and of the false-positive traps, on the built-in list.

use super::*;

fn check(name: &str) -> Option<Suspicion> {
    Detector::builtin().check(name)
}

/// The technique and target reported for `name`, failing the test when it is not flagged.
fn flagged(name: &str) -> (Technique, String) {
    let s = check(name).unwrap_or_else(|| panic!("`{name}` should be flagged"));
    (s.kind, s.target.map(|(t, _)| t).unwrap_or_default())
}

fn assert_technique(name: &str, technique: Technique, target: &str) {
    assert_eq!(flagged(name), (technique, target.to_string()), "{name}");
}

fn assert_clean(name: &str) {
    if let Some(s) = check(name) {
        panic!("`{name}` should not be flagged: {}", s.message);
    }
}

#[test]
fn normalize_follows_pep_503() {
    assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
    assert_eq!(normalize("FRIENDLY._-bard"), "friendly-bard");
    assert_eq!(normalize("requests"), "requests");
    assert_eq!(normalize("zope.interface"), "zope-interface");
    assert_eq!(normalize("__init__"), "init");
}

#[test]
fn builtin_list_parses_and_ranks() {
    let corpus = Corpus::builtin();
    assert!(corpus.len() > 14_000, "{}", corpus.len());
    assert_eq!(corpus.rank("boto3"), Some(1));
    assert_eq!(corpus.rank("Requests"), Some(6));
    assert_eq!(
        corpus.rank("typing_extensions"),
        corpus.rank("typing-extensions")
    );
    assert_eq!(corpus.rank("no-such-package-here"), None);
}

#[test]
fn from_tsv_reports_the_bad_line() {
    let err = Corpus::from_tsv("# header\n1\trequests\nnot a rank line\n").unwrap_err();
    assert!(err.starts_with("line 3:"), "{err}");
    let err = Corpus::from_tsv("1\trequests\nx\tnumpy\n").unwrap_err();
    assert!(err.contains("line 2") && err.contains("\"x\""), "{err}");
    let err = Corpus::from_tsv("1\t\n").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    let ok = Corpus::from_tsv("# c\r\n2\tNumPy\r\n1\trequests\textra column\r\n").unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok.rank("numpy"), Some(2));
}

#[test]
fn add_ranks_after_every_listed_name() {
    let mut corpus = Corpus::from_tsv("1\trequests\n7\tnumpy\n").unwrap();
    corpus.add("My_Project");
    assert_eq!(corpus.rank("my-project"), Some(8));
    corpus.add("requests");
    assert_eq!(corpus.rank("requests"), Some(1));
    // A project's own name is never flagged, even when it is one letter from a popular one.
    assert!(
        Detector::new(corpus.clone(), &[])
            .check("requestz")
            .is_some()
    );
    corpus.add("requestz");
    assert!(Detector::new(corpus, &[]).check("requestz").is_none());
}

#[test]
fn each_technique_with_an_example() {
    assert_technique("reqeusts", Technique::Swapped, "requests");
    assert_technique("requestss", Technique::Repeated, "requests");
    assert_technique("requets", Technique::Omitted, "requests");
    assert_technique("requesrs", Technique::KeyboardSubstitution, "requests");
    assert_technique("requexsts", Technique::Inserted, "requests");
    assert_technique("requeqts", Technique::Substitution, "requests");
    assert_technique("request", Technique::Plural, "requests");
    assert_technique("requests2", Technique::VersionDigit, "requests");
    assert_technique("urllib4", Technique::VersionDigit, "urllib3");
    assert_technique("setup-tools", Technique::Separators, "setuptools");
    assert_technique("jeIlyfish", Technique::Homoglyph, "jellyfish");
}

#[test]
fn look_alike_sequences() {
    assert_technique("rnatplotlib", Technique::Homoglyph, "matplotlib");
    assert_technique("tensorfIow", Technique::Homoglyph, "tensorflow");
    assert_technique("c1ick", Technique::Homoglyph, "click");
    assert_technique("b0to3", Technique::Homoglyph, "boto3");
    let s = check("rnatplotlib").unwrap();
    assert!(s.technique.contains("`rn` for `m`"), "{}", s.technique);
}

#[test]
fn affixes_words_and_separators() {
    assert_technique("python-flask", Technique::PythonAffix, "flask");
    assert_technique("python-openssl", Technique::PythonAffix, "pyopenssl");
    assert_technique(
        "python3-dateutil",
        Technique::PythonAffix,
        "python-dateutil",
    );
    assert_technique(
        "toolbelt-requests",
        Technique::ReorderedWords,
        "requests-toolbelt",
    );
    // A typo combined with a separator change is still one typo.
    let s = check("reqeusts_tool.belt").unwrap();
    assert_eq!(s.target, Some(("requests-toolbelt".to_string(), 116)));
    assert!(
        s.technique.ends_with("separators changed"),
        "{}",
        s.technique
    );
}

#[test]
fn message_and_suggestion() {
    let s = check("reqeusts").unwrap();
    assert_eq!(s.rule.id, "typosquat");
    assert_eq!(s.severity, Severity::Warning);
    assert_eq!(
        s.message,
        "`reqeusts` looks like a typo of `requests` (rank 6): two letters swapped (`eu`)"
    );
    assert_eq!(s.suggestion.as_deref(), Some("did you mean `requests`?"));
    assert_eq!(s.target, Some(("requests".to_string(), 6)));
}

#[test]
fn non_ascii_names_are_errors_naming_the_target() {
    let s = check("\u{212A}eras").unwrap();
    assert_eq!(s.rule.id, "non-ascii-name");
    assert_eq!(s.severity, Severity::Error);
    assert_eq!(s.target.as_ref().map(|t| t.0.as_str()), Some("keras"));
    assert!(s.message.contains("U+212A KELVIN SIGN"), "{}", s.message);
    let s = check("reque\u{017F}ts").unwrap();
    assert_eq!(s.target.as_ref().map(|t| t.0.as_str()), Some("requests"));
    // Cyrillic р and а in a typo of pandas: still the error, target named through the typo.
    let s = check("\u{0440}\u{0430}ndsa").unwrap();
    assert_eq!(s.rule.id, "non-ascii-name");
    assert_eq!(s.target.as_ref().map(|t| t.0.as_str()), Some("pandas"));
    // An unknown character: still an error, no target.
    let s = check("torch\u{1F600}").unwrap();
    assert_eq!(s.rule.id, "non-ascii-name");
    assert!(s.message.contains("U+1F600"), "{}", s.message);
}

#[test]
fn defensive_aliases_are_notes() {
    let s = check("tdqm").unwrap();
    assert_eq!(s.severity, Severity::Note);
    assert_eq!(s.kind, Technique::DefensiveAlias);
    assert_eq!(s.suggestion.as_deref(), Some("did you mean `tqdm`?"));
    assert!(
        s.message.contains("Alias for typos of tqdm"),
        "{}",
        s.message
    );
}

#[test]
fn allow_list_wins() {
    let detector = Detector::new(
        Corpus::builtin(),
        &["Reqeusts".to_string(), "tdqm".to_string()],
    );
    assert!(detector.check("reqeusts").is_none());
    assert!(detector.check("tdqm").is_none());
    assert!(detector.check("requets").is_some());
}

#[test]
fn popular_names_are_never_flagged() {
    for name in [
        "boto3",
        "botocore",
        "types-requests",
        "torchvision",
        "uri-template",
        "uritemplate",
        "dask",
        "dash",
        "requests",
        "Typing_Extensions",
        "tqdm",
    ] {
        assert_clean(name);
    }
}

/// The traps of the reference: legitimate neighbours must stay clean even when the list lacks
/// them, since a project's own dependency may be missing from the snapshot.
#[test]
fn traps_against_a_list_without_the_neighbour() {
    let cases = [
        ("botocore", "boto3"),
        ("types-requests", "requests"),
        ("torchvision", "torch"),
        ("uri-template", "uritemplate"),
        ("dask", "dash"),
        ("dash", "dask"),
        ("tensorflow-cpu", "tensorflow"),
        ("psycopg2-binary", "psycopg2"),
        ("mypy-boto3-s3", "boto3"),
        ("opencv-python-headless", "opencv-python"),
        ("google-cloud-storage", "google-cloud-core"),
        ("jupyter-client", "jupyter-core"),
        ("tf-keras", "keras"),
    ];
    // Two lists, since `dask` and `dash` each need the other present.
    for group in [&cases[..5], &cases[5..]] {
        let legit: Vec<&str> = group.iter().map(|(l, _)| *l).collect();
        let detector = Detector::new(Corpus::builtin().without(&legit), &[]);
        for (legit, neighbour) in group {
            assert!(detector.corpus().rank(legit).is_none(), "{legit}");
            assert!(detector.corpus().rank(neighbour).is_some(), "{neighbour}");
            if let Some(s) = detector.check(legit) {
                panic!(
                    "`{legit}` flagged once it is missing from the list: {}",
                    s.message
                );
            }
        }
    }
}

#[test]
fn short_and_real_word_names_stay_clean() {
    for name in [
        "sixx",
        "flask-core",
        "pytest-lock",
        "numpyro2",
        "attr",
        "requests-oauth",
    ] {
        assert_clean(name);
    }
}

#[test]
fn odd_input_never_panics_and_is_escaped() {
    for name in [
        "",
        "-",
        "_._",
        "a",
        "../../etc/passwd",
        "req uests",
        "requests[security]",
    ] {
        let _ = check(name);
    }
    let long = "x".repeat(500);
    assert!(check(&long).is_none());
    // A control character in a scanned name must not reach a terminal raw.
    let s = check("reqeusts\u{1b}[31m")
        .map(|s| s.message)
        .unwrap_or_default();
    assert!(!s.contains('\u{1b}'), "{s}");
    let s = check("reqeu\u{0455}ts").unwrap();
    assert!(s.message.contains("\\u{455}"), "{}", s.message);
}

#[test]
fn standard_library_names() {
    for name in ["timeit", "pwd", "pkgutil", "Tkinter"] {
        assert_eq!(flagged(name).0, Technique::StdlibName, "{name}");
    }
    let s = check("timeit").unwrap();
    assert_eq!(s.target, None);
    assert_eq!(
        s.suggestion.as_deref(),
        Some("remove `timeit` from the dependencies")
    );
    // Real PyPI backports on the popular list stay clean.
    for name in ["argparse", "typing", "dataclasses", "enum34"] {
        assert_clean(name);
    }
}

/// Every answer for 5,400 names, against a recorded file: the historic squats, the benign long
/// tail, real projects' dependencies, and twelve typos of each of the 250 most popular names
/// (one per technique the index serves). The file was recorded with the `HashMap` index that
/// the compact tables replaced, so any change to the index that changes an answer fails here.
/// After a deliberate change of the detector, rewrite the file with
/// `MLSUPPLY_BLESS=1 cargo test --lib typo::tests::answers_match_the_recorded_file`.
#[test]
fn answers_match_the_recorded_file() {
    let names = include_str!("testdata/golden-names.txt");
    let mut actual = String::new();
    for name in names.lines() {
        let answer = match check(name) {
            Some(s) => format!(
                "{} [{}] {:?} {} ({})",
                s.severity,
                s.rule.id,
                s.kind,
                s.message,
                s.suggestion.unwrap_or_default()
            ),
            None => "-".to_string(),
        };
        actual.push_str(&format!("{name}\t{answer}\n"));
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/typo/testdata/golden-answers.txt"
    );
    if std::env::var_os("MLSUPPLY_BLESS").is_some() {
        std::fs::write(path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(path).unwrap();
    for (line, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "line {}", line + 1);
    }
    assert_eq!(actual.lines().count(), expected.lines().count());
}

#[test]
fn custom_lists_build_their_own_index() {
    let corpus = Corpus::from_tsv("1\trequests\n2\tnumpy\n3\tscikit-learn\n").unwrap();
    let detector = Detector::new(corpus, &["nunpy".to_string()]);
    let found = |name: &str| detector.check(name).map(|s| (s.kind, s.target.unwrap().0));
    let requests = "requests".to_string();
    assert_eq!(
        found("reqeusts"),
        Some((Technique::Swapped, requests.clone()))
    );
    assert_eq!(
        found("requets"),
        Some((Technique::Omitted, requests.clone()))
    );
    assert_eq!(found("requestss"), Some((Technique::Repeated, requests)));
    assert_eq!(
        found("learn-scikit"),
        Some((Technique::ReorderedWords, "scikit-learn".to_string()))
    );
    assert_eq!(found("nunpy"), None, "allowed");
    assert_eq!(found("pandas"), None);
}

#[test]
fn non_ascii_popular_names_do_not_break_the_index() {
    // `from_tsv` refuses them, but a configuration's extra names go through `add`.
    let mut corpus = Corpus::from_tsv("1\trequests\n").unwrap();
    corpus.add("réquests-é");
    corpus.add("ééé");
    let detector = Detector::new(corpus, &[]);
    assert_eq!(detector.corpus().rank("réquests-é"), Some(2));
    assert_eq!(
        detector.check("reqeusts").map(|s| s.kind),
        Some(Technique::Swapped)
    );
    assert_eq!(
        detector.check("réquests").map(|s| s.kind),
        Some(Technique::NonAscii)
    );
    assert!(detector.check("ee").is_none());
}

#[test]
fn oversized_lists_are_refused() {
    let line = "1\trequests\n";
    let text = line.repeat(MAX_LIST_BYTES / line.len() + 1);
    let err = Corpus::from_tsv(&text).unwrap_err();
    assert!(err.contains("too large"), "{err}");
}

#[test]
fn deletions_are_listed_once_with_their_offset() {
    let mut seen = Vec::new();
    for_each_deletion("aabé", &mut String::new(), |at, d| {
        seen.push((at, d.to_string()));
    });
    assert_eq!(
        seen,
        [(0, "abé".into()), (2, "aaé".into()), (3, "aab".into())]
    );
    assert!(is_deletion("requests", 3, "reqests"));
    assert!(!is_deletion("requests", 4, "reqests"));
    assert!(is_deletion("aabé", 3, "aab"));
    assert!(!is_deletion("aabé", 3, "aaé"));
    assert!(!is_deletion("aabé", 4, "aab"), "not a character boundary");
    assert!(!is_deletion("requests", 4, "requests"));
    assert!(!is_deletion("requests", 9, "requests"));
    assert!(!is_deletion("ab", 0, ""));
}
