use super::*;

fn one(text: &str) -> Entry {
    let file = parse(text);
    let contentful: Vec<Entry> = file
        .entries
        .into_iter()
        .filter(|entry| entry.content.is_some())
        .collect();
    assert_eq!(contentful.len(), 1, "{text:?}: {contentful:#?}");
    contentful.into_iter().next().unwrap()
}

fn req(text: &str) -> (Entry, Requirement) {
    let entry = one(text);
    let req = entry.requirement().cloned().expect("a requirement");
    (entry, req)
}

fn named(text: &str) -> NamedReq {
    match req(text).1.form {
        ReqForm::Named(named) => named,
        other => panic!("{text:?}: {other:?}"),
    }
}

fn slice(text: &str, range: &Range<usize>) -> String {
    text[range.clone()].to_string()
}

fn errors(entry: &Entry) -> Vec<&str> {
    entry
        .diagnostics
        .iter()
        .filter(|d| d.severity == DiagnosticSeverity::Error)
        .map(|d| d.message.as_str())
        .collect()
}

fn warnings(entry: &Entry) -> Vec<&str> {
    entry
        .diagnostics
        .iter()
        .filter(|d| d.severity == DiagnosticSeverity::Warning)
        .map(|d| d.message.as_str())
        .collect()
}

#[test]
fn named_requirement_parts_have_exact_spans() {
    let text = "Foo_Bar [Sec, tests] >=1.2, <2 ; python_version >= '3.8'";
    let named = named(text);
    assert_eq!(named.name.value, "Foo_Bar");
    assert_eq!(slice(text, &named.name.range), "Foo_Bar");
    assert_eq!(named.normalized.as_ref(), "foo-bar");
    let extras: Vec<_> = named.extras.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(extras, ["Sec", "tests"]);
    assert_eq!(slice(text, &named.extras[1].range), "tests");
    assert_eq!(
        slice(text, named.extras_range.as_ref().unwrap()),
        "[Sec, tests]"
    );
    let version = named.version.unwrap();
    assert_eq!(slice(text, &version.range), ">=1.2, <2");
    assert_eq!(version.specifiers.unwrap().len(), 2);
    assert!(!VersionPart::is_pinned(&VersionPart {
        text: ">=1.2, <2".into(),
        range: 0..0,
        specifiers: None
    }));
    let marker = named.marker.unwrap();
    assert_eq!(slice(text, &marker.range), "python_version >= '3.8'");
    assert!(marker.tree.is_some());
}

#[test]
fn pins_and_version_forms() {
    for (text, pinned) in [
        ("a==1.0", true),
        ("a==1.*", true),
        ("a===weird-build", true),
        ("a==1.0+cpu", true),
        ("a (==1.0)", true),
        ("a>=1", false),
        ("a==1,!=1.1", false),
        ("a", false),
    ] {
        let named = named(text);
        let pinned_now = named.version.as_ref().is_some_and(VersionPart::is_pinned);
        assert_eq!(pinned_now, pinned, "{text}");
    }
    // `===` takes arbitrary text (packaging), which pep440_rs alone would refuse.
    let arbitrary = named("a===weird-build").version.unwrap();
    assert_eq!(arbitrary.text, "===weird-build");
    assert!(arbitrary.specifiers.is_none());
    // A local version with >= is invalid, as in packaging.
    let (entry, req) = req("torch>=2.0+cpu");
    assert!(matches!(req.form, ReqForm::Invalid { .. }));
    assert!(errors(&entry)[0].contains("local"), "{:?}", errors(&entry));
}

#[test]
fn name_at_url_with_marker() {
    let text = "pkg @ https://example.com/pkg-1.0.tar.gz#sha256=ab ; sys_platform == 'linux'";
    let named = named(text);
    assert_eq!(slice(text, &named.name.range), "pkg");
    let url = named.url.unwrap();
    assert_eq!(url.value, "https://example.com/pkg-1.0.tar.gz#sha256=ab");
    assert_eq!(slice(text, &url.range), url.value);
    assert_eq!(named.marker.unwrap().text, "sys_platform == 'linux'");
    // pip splits the marker at the first `;`, so no space is needed before it.
    let named2 = self::named("pkg @ https://x/p.whl;python_version>'3'");
    assert_eq!(named2.url.unwrap().value, "https://x/p.whl");
    assert!(named2.marker.is_some());
    // A URL ends at whitespace: what follows must be a marker.
    let (entry, _) = req("pkg @ https://x/p y");
    assert!(errors(&entry)[0].contains("URL ends at whitespace"));
}

#[test]
fn env_vars_are_recorded_never_expanded() {
    // SAFETY of the claim: even with the variable set, the text stays verbatim.
    let text = "pkg @ https://${PIP_TOKEN}@example.com/pkg.whl#egg=x";
    let named = named(text);
    assert!(named.url.unwrap().value.contains("${PIP_TOKEN}"));
    let entry = one(text);
    assert_eq!(entry.env_vars.len(), 1);
    assert_eq!(entry.env_vars[0].name, "PIP_TOKEN");
    assert_eq!(slice(text, &entry.env_vars[0].range), "${PIP_TOKEN}");

    let version = self::named("torch==${TORCH_VERSION}").version.unwrap();
    assert_eq!(version.text, "==${TORCH_VERSION}");
    assert!(version.specifiers.is_none());
    assert!(version.is_pinned());

    let (entry, req) = req("${PKG}==1.0");
    assert_eq!(req.form, ReqForm::Unexpanded);
    assert!(entry.diagnostics.is_empty());
    // `$NAME` and lowercase names are not variables for pip: plain text.
    assert!(one("a==1.0 # ${NOT} in a comment").env_vars.is_empty());
}

#[test]
fn bare_urls_vcs_and_paths() {
    let text = "git+https://github.com/org/repo.git@v1.0#egg=Repo_Name&subdirectory=pkg";
    let (_, r) = req(text);
    let ReqForm::Url(url) = r.form else { panic!() };
    assert_eq!(url.kind, UrlKind::Vcs { vcs: "git".into() });
    let name = url.name.unwrap();
    assert_eq!(name.source, NameSource::Egg);
    assert_eq!(req(text).1.normalized_name().unwrap().as_ref(), "repo-name");
    assert_eq!(slice(text, &name.name.range), "Repo_Name");

    let text = "https://files.example/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl ; python_version == '3.11'";
    let (_, r) = req(text);
    let ReqForm::Url(url) = r.form else { panic!() };
    assert_eq!(url.kind, UrlKind::Remote);
    assert!(url.archive);
    assert_eq!(url.name.as_ref().unwrap().source, NameSource::Wheel);
    assert_eq!(slice(text, &url.name.unwrap().name.range), "torch");
    assert_eq!(url.marker.unwrap().text, "python_version == '3.11'");

    for (text, archive) in [
        ("./vendor/pkg-1.0.tar.gz", true),
        ("dist/pkg-1.0-py3-none-any.whl[extra]", true),
        ("../sibling", false),
        (".", false),
        ("./local[dev, test]", false),
    ] {
        let (entry, r) = req(text);
        let ReqForm::Url(url) = r.form else {
            panic!("{text}: {:?}", r.form)
        };
        assert_eq!(url.kind, UrlKind::LocalPath, "{text}");
        assert_eq!(url.archive, archive, "{text}");
        assert!(errors(&entry).is_empty(), "{text}: {:?}", entry.diagnostics);
    }
    let ReqForm::Url(url) = req("./local[dev, test]").1.form else {
        panic!()
    };
    assert_eq!(url.url.value, "./local");
    assert_eq!(url.extras.len(), 2);

    // An archive name after `name @` is a PEP 508 URL requirement.
    assert_eq!(named("pkg @ ./dist/pkg-1.0.tar.gz").name.value, "pkg");
    // A wheel with a broken file name is an error, as in pip.
    let (entry, _) = req("https://x/not-a-wheel.whl");
    assert!(errors(&entry)[0].contains("not a valid wheel file name"));
    // `#egg=` must be a bare project name since pip 26.
    let (entry, _) = req("git+https://x/r.git#egg=pkg[extra]");
    assert!(errors(&entry)[0].contains("not a bare project name"));
}

#[test]
fn editables() {
    let text = "-e git+ssh://git@host/org/repo.git@abc123#egg=mypkg";
    let (entry, r) = req(text);
    assert!(r.editable);
    assert_eq!(r.text, "git+ssh://git@host/org/repo.git@abc123#egg=mypkg");
    assert_eq!(slice(text, &r.range), r.text);
    assert_eq!(slice(text, &r.name().unwrap().range), "mypkg");
    assert!(entry.diagnostics.is_empty());

    let (entry, r) = req("--editable=.[dev]");
    let ReqForm::Url(url) = &r.form else { panic!() };
    assert_eq!(url.kind, UrlKind::LocalPath);
    assert_eq!(url.url.value, ".");
    assert_eq!(url.extras[0].value, "dev");
    assert!(r.name().is_none());
    assert!(entry.diagnostics.is_empty());

    let (entry, _) = req("-e git+https://host/repo.git");
    assert!(errors(&entry)[0].contains("#egg="));
    let (entry, _) = req("-e https://host/pkg.tar.gz");
    assert!(errors(&entry)[0].contains("not a valid editable"));
    let (entry, r) = req("-e ./pkg --hash=sha256:aa -C key=value");
    assert!(r.hashes.is_empty());
    assert_eq!(r.config_settings[0].key, "key");
    assert!(warnings(&entry).iter().any(|w| w.contains("editable")));
    // A quoted value keeps exact spans for the parts written as they are.
    let text = "-e 'git+https://host/r.git#egg=quoted'";
    let (_, r) = req(text);
    assert_eq!(slice(text, &r.name().unwrap().range), "quoted");
    // `-e` glued to its value, as optparse allows.
    let (_, r) = req("-e.");
    assert_eq!(r.text, ".");
}

#[test]
fn hashes_have_spans_for_algorithm_and_digest() {
    let digest = "a".repeat(64);
    let text = format!(
        "numpy==1.26.4 \\\n    --hash=sha256:{digest} \\\n    --hash sha512:{}",
        "B".repeat(128)
    );
    let (entry, r) = req(&text);
    assert_eq!(r.hashes.len(), 2);
    assert_eq!(slice(&text, &r.hashes[0].algorithm.range), "sha256");
    assert_eq!(slice(&text, &r.hashes[0].digest.range), digest);
    assert_eq!(r.hashes[1].algorithm.value, "sha512");
    assert_eq!(slice(&text, &r.hashes[1].digest.range), "B".repeat(128));
    assert_eq!(entry.continuations.len(), 2);
    assert_eq!(slice(&text, &entry.continuations[0]), "\\\n");
    assert_eq!(entry.lines, 0..3);
    // The layout runs from the end of the requirement to the end of the last option.
    assert!(slice(&text, &r.layout).starts_with(" \\\n    --hash=sha256:"));
    assert!(slice(&text, &r.layout).ends_with(&"B".repeat(128)));
    assert!(entry.diagnostics.is_empty(), "{:?}", entry.diagnostics);

    let (entry, _) = req("a==1 --hash=md5:abc");
    assert!(errors(&entry)[0].contains("sha256, sha384, sha512"));
    let (entry, _) = req("a==1 --hash=sha256");
    assert!(errors(&entry)[0].contains("hash name followed by a value"));
    let (entry, r) = req("a==1 --hash=sha256:0000");
    assert_eq!(r.hashes.len(), 1);
    assert!(warnings(&entry)[0].contains("64 hexadecimal digits"));
}

#[test]
fn comments_and_continuations_follow_pip() {
    // A comment line inside a hash block ends the requirement: the next hash is orphaned.
    let digest = "c".repeat(64);
    let text = format!("a==1 \\\n  # note\n  --hash=sha256:{digest}\n");
    let file = parse(&text);
    assert_eq!(file.entries.len(), 2);
    assert!(file.entries[0].requirement().unwrap().hashes.is_empty());
    assert_eq!(file.entries[0].lines, 0..2);
    assert!(matches!(file.entries[1].kind, EntryKind::Options(_)));
    assert!(warnings(&file.entries[1])[0].contains("--hash but no requirement"));

    // An inline comment before `\` swallows the continued line.
    let text = format!("a==1 # pinned \\\n  --hash=sha256:{digest}\nb\n");
    let file = parse(&text);
    assert_eq!(file.entries.len(), 2);
    let entry = &file.entries[0];
    assert!(entry.requirement().unwrap().hashes.is_empty());
    assert_eq!(
        slice(&text, entry.comment.as_ref().unwrap()),
        format!("# pinned \\\n  --hash=sha256:{digest}")
    );

    // A comment line ending in `\` does not continue.
    let file = parse("# note \\\nb==1\n");
    assert_eq!(file.entries.len(), 2);
    assert_eq!(file.entries[1].requirement().unwrap().text, "b==1");

    // `\` followed by a space does not continue; the backslash stays in the requirement.
    let file = parse("a==1 \\ \nb\n");
    assert_eq!(file.entries.len(), 2);
    assert!(file.entries[0].has_errors());

    // `#` without whitespace before it is not a comment.
    let text = "https://x/p-1.0-py3-none-any.whl#sha256=ab";
    assert_eq!(one(text).comment, None);
}

#[test]
fn tab_before_an_option_is_part_of_the_requirement() {
    let (entry, r) = req("a==1\t--hash=sha256:aa");
    assert!(matches!(r.form, ReqForm::Invalid { .. }));
    assert!(r.hashes.is_empty());
    assert!(errors(&entry)[0].contains("tab"), "{:?}", errors(&entry));
}

#[test]
fn option_lines() {
    let text = "--index-url=https://pypi.example/simple --trusted-host pypi.example";
    let entry = one(text);
    let EntryKind::Options(options) = &entry.kind else {
        panic!()
    };
    assert_eq!(options.len(), 2);
    assert_eq!(options[0].kind, OptionKind::IndexUrl);
    assert_eq!(slice(text, &options[0].flag.range), "--index-url");
    assert_eq!(
        slice(text, &options[0].value.as_ref().unwrap().range),
        "https://pypi.example/simple"
    );
    assert_eq!(options[1].kind, OptionKind::TrustedHost);
    assert_eq!(
        slice(text, &options[1].range),
        "--trusted-host pypi.example"
    );

    for (line, kind) in [
        ("-i https://x/simple", OptionKind::IndexUrl),
        ("--extra-index https://x", OptionKind::ExtraIndexUrl),
        ("--no-index", OptionKind::NoIndex),
        ("-f ./wheels", OptionKind::FindLinks),
        ("--find-links=https://x/links.html", OptionKind::FindLinks),
        ("--no-binary :all:", OptionKind::NoBinary),
        ("--only-binary=numpy,scipy", OptionKind::OnlyBinary),
        ("--prefer-binary", OptionKind::PreferBinary),
        ("--pre", OptionKind::Pre),
        ("--require-hashes", OptionKind::RequireHashes),
        ("--use-feature fast-deps", OptionKind::UseFeature),
        ("-c constraints.txt", OptionKind::Constraint),
        ("-rbase.txt", OptionKind::Requirement),
        (
            "--requirement 'dir with space/r.txt'",
            OptionKind::Requirement,
        ),
    ] {
        let entry = one(line);
        let EntryKind::Options(options) = &entry.kind else {
            panic!("{line}")
        };
        assert_eq!(options[0].kind, kind, "{line}");
        assert!(
            entry.diagnostics.is_empty(),
            "{line}: {:?}",
            entry.diagnostics
        );
    }
    let entry = one("--requirement 'dir with space/r.txt'");
    let include = entry.include().unwrap();
    assert_eq!(include.target.value, "dir with space/r.txt");
    assert!(!include.constraint);

    for (line, message) in [
        ("--frobnicate", "no such option: --frobnicate"),
        ("--global-option=x", "25.3"),
        ("--no", "ambiguous option"),
        ("-r", "option requires 1 argument"),
        ("--pre=yes", "does not take a value"),
        ("-x", "no such option: -x"),
        ("--index-url 'unclosed", "No closing quotation"),
        ("-C novalue", "KEY=VAL"),
        ("-r ''", "needs a file path"),
        ("-e \"\"", "needs a local project path"),
    ] {
        let entry = one(line);
        assert!(
            errors(&entry).iter().any(|e| e.contains(message)),
            "{line}: {:?}",
            entry.diagnostics
        );
    }
}

#[test]
fn what_pip_ignores_gets_a_warning() {
    let entry = one("-r a.txt -c b.txt --pre");
    assert_eq!(entry.include().unwrap().target.value, "a.txt");
    assert_eq!(warnings(&entry).len(), 2);
    let entry = one("pkg==1 --index-url https://evil.example/simple");
    assert!(warnings(&entry)[0].contains("ignores `--index-url https://evil.example/simple`"));
    let entry = one("-r a.txt stray");
    assert!(warnings(&entry)[0].contains("`stray`"));
}

#[test]
fn segments_tile_the_text() {
    let text = "a\r\n\r\n# c\rb \\\n  --hash=sha256:x\x0clast";
    let file = parse(text);
    let segments = file.segments();
    let mut at = 0;
    for segment in &segments {
        assert_eq!(segment.range.start, at);
        at = segment.range.end;
    }
    assert_eq!(at, text.len());
    assert_eq!(file.emit(text), text);
    assert_eq!(file.lines.len(), 6);
}

#[test]
fn apply_edits_keeps_every_other_byte() {
    let text = "a==1\r\nb==2 # keep\r\n";
    let file = parse(text);
    let (_, b) = file.requirements().nth(1).unwrap();
    let ReqForm::Named(named) = &b.form else {
        panic!()
    };
    let version = named.version.as_ref().unwrap();
    let edited = apply_edits(
        text,
        &[Edit {
            range: version.range.clone(),
            text: "==3".into(),
        }],
    )
    .unwrap();
    assert_eq!(edited, "a==1\r\nb==3 # keep\r\n");
    assert!(matches!(
        apply_edits(
            text,
            &[
                Edit {
                    range: 0..3,
                    text: String::new()
                },
                Edit {
                    range: 2..4,
                    text: String::new()
                }
            ]
        ),
        Err(EditError::Overlap { .. })
    ));
    assert!(
        apply_edits(
            "é",
            &[Edit {
                range: 1..2,
                text: String::new()
            }]
        )
        .is_err()
    );
}

#[test]
fn invalid_lines_keep_a_name_guess() {
    let (entry, r) = req("reqսests==2.0");
    assert!(entry.has_errors());
    assert_eq!(r.name().unwrap().value, "reqսests");
    let (entry, _) = req("requests=2.0");
    assert!(errors(&entry)[0].contains("did you mean `==`"));
}

#[test]
fn diagnostics_never_repeat_credentials() {
    let entry = one("pkg==1 --extra-index-url https://user:s3cret@pypi.example/simple");
    assert!(warnings(&entry)[0].contains("https://****@pypi.example/simple"));
    assert!(!format!("{:?}", entry.diagnostics).contains("s3cret"));
    let entry = one("pkg @ https://tok3n@host/x y");
    assert!(!format!("{:?}", entry.diagnostics).contains("tok3n"));
    assert_eq!(
        redact_credentials("a https://${USER}:${TOKEN}@h/x and ftp://h/y"),
        "a https://${USER}:${TOKEN}@h/x and ftp://h/y"
    );
    assert_eq!(
        redact_credentials("git+ssh://git@host/r"),
        "git+ssh://****@host/r"
    );
}
