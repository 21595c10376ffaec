//! The pin engine without a network: `check_online` over synthetic index answers. A property
//! test checks on generated files that a fix touches only the requirements it pins, keeps their
//! comments, line endings, BOM and final newline, and that a second pass changes nothing.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use mlsupply::index::{CoreMetadata, DistFile, FoundPage, IndexUrl, Project, ProjectPage};
use mlsupply::pin::{self, Filters, Lookups, PinOptions, ReqDoc, Target, Workspace};
use mlsupply::reqfile::{self, Document, EntryKind};
use mlsupply::source::{SourceFile, SourceMap};
use pep440_rs::Version;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dist(filename: &str) -> DistFile {
    DistFile {
        filename: filename.to_owned(),
        url: url::Url::parse(&format!("https://files.example/{filename}")).unwrap(),
        hashes: BTreeMap::from([
            ("sha256".to_owned(), digest(filename)),
            (
                "sha512".to_owned(),
                format!("{}{}", digest(filename), digest(filename)),
            ),
        ]),
        requires_python: None,
        yanked: false,
        yanked_reason: None,
        core_metadata: CoreMetadata::Absent,
        size: None,
        upload_time: None,
    }
}

fn project(name: &str, files: &[&str]) -> Project {
    let index = IndexUrl::parse("https://index.example/simple/").unwrap();
    Project {
        name: name.to_owned(),
        pages: vec![FoundPage {
            index: index.redacted(),
            page: Arc::new(ProjectPage {
                name: name.to_owned(),
                url: url::Url::parse(&format!("https://index.example/simple/{name}/")).unwrap(),
                api_version: None,
                files: files.iter().map(|f| dist(f)).collect(),
                versions: None,
            }),
        }],
    }
}

fn lookups() -> Lookups {
    Lookups::from([
        (
            "demo".to_owned(),
            Some(project(
                "demo",
                &[
                    "demo-1.2-py3-none-any.whl",
                    "demo-1.2.tar.gz",
                    "demo-1.0.tar.gz",
                ],
            )),
        ),
        (
            "other".to_owned(),
            Some(project("other", &["other-2.0-py3-none-any.whl"])),
        ),
        ("gone".to_owned(), None),
    ])
}

fn options() -> PinOptions {
    PinOptions {
        target: Target {
            python: Version::from_str("3.11").unwrap(),
            pre: false,
        },
        filters: Filters::default(),
        allowed_hosts: Vec::new(),
        indexes: vec!["https://index.example/simple/".to_owned()],
    }
}

fn workspace(bytes: &[u8]) -> Workspace {
    let doc = Document::from_bytes(bytes).unwrap();
    let source = SourceFile::new("requirements.txt", "requirements.txt", doc.text.clone());
    let mut sources = SourceMap::default();
    sources.insert(source.clone());
    Workspace {
        files: vec![ReqDoc { source, doc }],
        findings: Vec::new(),
        sources,
    }
}

fn hashes(files: &[&str]) -> String {
    let mut digests: Vec<String> = files.iter().map(|f| digest(f)).collect();
    digests.sort();
    digests
        .iter()
        .map(|d| format!(" \\\n    --hash=sha256:{d}"))
        .collect()
}

fn rules_of(outcome: &pin::Outcome) -> Vec<(String, u32)> {
    outcome
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.line))
        .collect()
}

#[test]
fn a_correct_block_in_another_layout_is_left_alone() {
    let [a, b] = [
        digest("demo-1.2.tar.gz"),
        digest("demo-1.2-py3-none-any.whl"),
    ];
    let text = format!(
        "demo == 1.2   --hash sha256:{} --hash=sha256:{}\n",
        a.to_uppercase(),
        b
    );
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.plans.is_empty());
    assert_eq!(rules_of(&outcome), []);
}

#[test]
fn hashes_the_index_does_not_publish_cannot_be_checked() {
    let text = format!("other==2.0 --hash=sha384:{}\n", "a".repeat(96));
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert_eq!(rules_of(&outcome), [("incomplete-hashes".to_owned(), 1)]);
    assert!(outcome.findings[0].message.contains("sha384"));
    assert_eq!(outcome.plans.len(), 1);
    // A sha512 the index does publish is checked like a sha256.
    let text = format!("other==2.0 --hash=sha512:{}\n", "b".repeat(128));
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert_eq!(rules_of(&outcome), [("hash-mismatch".to_owned(), 1)]);
}

#[test]
fn a_hash_of_an_older_version_on_a_range_is_not_tampering() {
    let text = format!("demo>=1.0{}\n", hashes(&["demo-1.0.tar.gz"]));
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert_eq!(rules_of(&outcome), [("unpinned".to_owned(), 1)]);
    // The same hash under an exact pin of another version is.
    let text = format!("demo==1.2{}\n", hashes(&["demo-1.0.tar.gz"]));
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert_eq!(rules_of(&outcome), [("hash-mismatch".to_owned(), 2)]);
    assert_eq!(
        outcome.plans[0].new_text,
        format!(
            "demo==1.2{}\n",
            hashes(&["demo-1.2.tar.gz", "demo-1.2-py3-none-any.whl"])
        )
    );
    assert!(
        outcome.plans[0].changes[0]
            .description
            .starts_with("replaced the hash set")
    );
}

#[test]
fn environment_variables_are_never_expanded_into_the_file() {
    let text = "demo==${DEMO_VERSION}\nother>=1 ; sys_platform == \"${PLAT}\"\n";
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        rules_of(&outcome),
        [("missing-hash".to_owned(), 1), ("unpinned".to_owned(), 2)]
    );
    assert_eq!(
        outcome.plans[0].new_text,
        format!(
            "demo==${{DEMO_VERSION}}\nother==2.0 ; sys_platform == \"${{PLAT}}\"{}\n",
            hashes(&["other-2.0-py3-none-any.whl"])
        )
    );
}

#[test]
fn a_project_no_index_has_is_an_error() {
    let outcome = pin::check_online(&workspace(b"x\ngone>=1\n"), &options(), &lookups());
    assert_eq!(outcome.errors.len(), 1);
    let error = outcome.errors[0].to_string();
    assert!(error.starts_with("requirements.txt:2: `gone`:"), "{error}");
    assert!(
        error.contains("not found on https://index.example/simple/ (HTTP 404)"),
        "{error}"
    );
}

#[test]
fn expand_env_follows_pip() {
    let env = |name: &str| match name {
        "TOKEN" => Some("t0k".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    assert_eq!(
        pin::expand_env(
            "https://u:${TOKEN}@h/${UNSET}/${EMPTY}/$TOKEN/${lower}",
            env
        ),
        "https://u:t0k@h/${UNSET}/${EMPTY}/$TOKEN/${lower}"
    );
}

// ---------------------------------------------------------------------------------------------
// Property: fixing touches only what it pins, and is idempotent.

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("# a comment \\".to_owned()),
        Just("   ".to_owned()),
        Just("demo>=1.0".to_owned()),
        Just("demo  # keep this".to_owned()),
        Just("Demo_[extra]>=1 ; python_version > \"3\"".to_owned()),
        Just("other==2.0 \\\n    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000".to_owned()),
        Just("other==2.0 # comment that swallows \\\n    --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111".to_owned()),
        Just("unknown>=3".to_owned()),
        Just("-e ./local".to_owned()),
        Just("--index-url https://${USER}:${TOKEN}@idx.example/simple".to_owned()),
        Just("https://files.example/pkg-1.0-py3-none-any.whl#sha256=abc".to_owned()),
        Just("ünïcode # ☃".to_owned()),
        "[a-z#=<> ._-]{0,20}",
    ]
}

fn file_strategy() -> impl Strategy<Value = (Vec<String>, Vec<&'static str>, bool, bool)> {
    (
        prop::collection::vec(line_strategy(), 0..12),
        prop::collection::vec(prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], 12),
        any::<bool>(),
        any::<bool>(),
    )
}

/// The entries that are not requirements of the looked-up projects, with their text and the
/// line ending after each: what a fix must keep byte for byte.
fn untouched(text: &str) -> Vec<String> {
    let parsed = reqfile::parse(text);
    let mut out = Vec::new();
    for segment in parsed.segments() {
        match segment.kind {
            reqfile::SegmentKind::Entry(i) => {
                let entry = &parsed.entries[i];
                let fixed = matches!(&entry.kind, EntryKind::Requirement(req)
                    if req.normalized_name().is_some_and(|n| ["demo", "other"].contains(&n.as_ref())));
                out.push(if fixed {
                    "<fixed>".to_owned()
                } else {
                    text[segment.range].to_owned()
                });
            }
            reqfile::SegmentKind::LineEnding => out.push(text[segment.range].to_owned()),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fixes_are_local_and_idempotent((lines, endings, final_newline, bom) in file_strategy()) {
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            text.push_str(&line.replace('\n', endings[i]));
            if i + 1 < lines.len() || final_newline {
                text.push_str(endings[i]);
            }
        }
        let mut bytes = Vec::new();
        if bom {
            bytes.extend_from_slice("\u{feff}".as_bytes());
        }
        bytes.extend_from_slice(text.as_bytes());

        let outcome = pin::check_online(&workspace(&bytes), &options(), &lookups());
        prop_assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        let Some(plan) = outcome.plans.first() else {
            return Ok(());
        };
        prop_assert_eq!(&plan.old_text, &text);
        prop_assert_eq!(untouched(&plan.new_text), untouched(&text));
        prop_assert_eq!(plan.new_bytes.starts_with("\u{feff}".as_bytes()), bom);
        prop_assert_eq!(plan.new_text.ends_with(endings[lines.len().saturating_sub(1)]) || !final_newline, true);
        for comment in ["# keep this", "# comment that swallows"] {
            prop_assert_eq!(text.contains(comment), plan.new_text.contains(comment));
        }
        let again = pin::check_online(&workspace(&plan.new_bytes), &options(), &lookups());
        prop_assert!(again.plans.is_empty(), "second pass changed {:?}", again.plans[0].new_text);
        prop_assert!(again.findings.iter().all(|f| !matches!(
            f.rule.as_str(),
            "unpinned" | "missing-hash" | "hash-mismatch" | "incomplete-hashes"
        ) || f.subject == "unknown"), "{:?}", again.findings);
    }
}

#[test]
fn a_python_marker_picks_files_for_the_pythons_it_admits() {
    let mut lookups = lookups();
    let mut page = project(
        "py",
        &["py-1.0-py3-none-any.whl", "py-2.0-py3-none-any.whl"],
    );
    let files = &mut Arc::get_mut(&mut page.pages[0].page).unwrap().files;
    files[1].requires_python = Some(">=3.10".to_owned());
    lookups.insert("py".to_owned(), Some(page));
    let text = "py ; python_version < \"3.10\"\npy\nother===2.0\n";
    let outcome = pin::check_online(&workspace(text.as_bytes()), &options(), &lookups);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(
        outcome.findings[0]
            .message
            .contains("for Python 3.9 is 1.0")
    );
    assert_eq!(
        outcome.plans[0].new_text,
        format!(
            "py==1.0 ; python_version < \"3.10\"{}\npy==2.0{}\nother===2.0{}\n",
            hashes(&["py-1.0-py3-none-any.whl"]),
            hashes(&["py-2.0-py3-none-any.whl"]),
            hashes(&["other-2.0-py3-none-any.whl"]),
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Fixture: every requirement form, with CRLF, BOM and no-final-newline variants.

fn fixture_lookups() -> Lookups {
    let mut lookups = lookups();
    lookups.insert(
        "foo-bar".to_owned(),
        Some(project("foo-bar", &["foo_bar-1.0-py3-none-any.whl"])),
    );
    lookups.insert(
        "torchy".to_owned(),
        Some(project(
            "torchy",
            &[
                "torchy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "torchy-2.1.0+cpu-cp311-cp311-win_amd64.whl",
                "torchy-2.2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            ],
        )),
    );
    lookups
}

/// `tests/fixtures/pin/forms`: `input.txt` fixed gives `expected.txt`, with the findings listed
/// in `findings.txt`. `UPDATE_FIXTURES=1` rewrites the expected files (review the diff).
#[test]
fn every_form_fixture_in_every_newline_variant() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pin/forms");
    let input = std::fs::read_to_string(dir.join("input.txt")).unwrap();
    let outcome = pin::check_online(&workspace(input.as_bytes()), &options(), &fixture_lookups());
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let fixed = &outcome.plans[0].new_text;
    let findings: String = outcome
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}-{}:{} {} {}\n",
                f.line, f.column, f.end_line, f.end_column, f.rule, f.subject
            )
        })
        .collect();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(dir.join("expected.txt"), fixed).unwrap();
        std::fs::write(dir.join("findings.txt"), &findings).unwrap();
    }
    let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    assert_eq!(fixed, &expected);
    assert_eq!(
        findings,
        std::fs::read_to_string(dir.join("findings.txt")).unwrap()
    );

    type Variant = fn(&str) -> Vec<u8>;
    let variants: [(&str, Variant); 4] = [
        ("lf", |t| t.as_bytes().to_vec()),
        ("crlf", |t| t.replace('\n', "\r\n").into_bytes()),
        ("no final newline", |t| {
            t.strip_suffix('\n').unwrap_or(t).as_bytes().to_vec()
        }),
        ("bom + crlf", |t| {
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend(t.replace('\n', "\r\n").into_bytes());
            bytes
        }),
    ];
    for (name, variant) in variants {
        let outcome =
            pin::check_online(&workspace(&variant(&input)), &options(), &fixture_lookups());
        assert_eq!(
            String::from_utf8_lossy(&outcome.plans[0].new_bytes),
            String::from_utf8_lossy(&variant(&expected)),
            "{name}"
        );
        let again = pin::check_online(
            &workspace(&outcome.plans[0].new_bytes),
            &options(),
            &fixture_lookups(),
        );
        assert!(
            again.plans.is_empty(),
            "{name}: a second pass changes nothing"
        );
    }
}

#[test]
fn an_exact_pin_no_file_of_which_supports_the_target_python_is_flagged() {
    let mut lookups = lookups();
    let mut page = project("new", &["new-3.0-py3-none-any.whl", "new-3.0.tar.gz"]);
    for file in &mut Arc::get_mut(&mut page.pages[0].page).unwrap().files {
        file.requires_python = Some(">=3.12".to_owned());
    }
    lookups.insert("new".to_owned(), Some(page));
    let hashed = format!(
        "new==3.0{}\n",
        hashes(&["new-3.0-py3-none-any.whl", "new-3.0.tar.gz"])
    );
    let outcome = pin::check_online(&workspace(hashed.as_bytes()), &options(), &lookups);
    assert_eq!(rules_of(&outcome), [("unsupported-python".to_owned(), 1)]);
    assert!(
        outcome.findings[0]
            .message
            .contains("Python 3.11 (Requires-Python: >=3.12)")
    );
    assert!(outcome.plans.is_empty(), "the pin is kept");
    // A marker that keeps the line off older Pythons settles it.
    let marked = hashed.replace("new==3.0", "new==3.0 ; python_version >= \"3.12\"");
    let outcome = pin::check_online(&workspace(marked.as_bytes()), &options(), &lookups);
    assert_eq!(rules_of(&outcome), []);
}
