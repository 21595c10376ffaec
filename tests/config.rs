//! Configuration: schema, errors with file:line:column, discovery order, `--dump-config`.

use std::fs;
use std::path::{Path, PathBuf};

use mlsupply::Severity;
use mlsupply::config::{self, Allow, Config, ConfigError};

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn allow(name: &str, reason: &str) -> Allow {
    Allow {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_err(text: &str) -> ConfigError {
    match config::parse(Path::new("conf/mlsupply.toml"), text, false) {
        Ok(config) => panic!("expected an error for {text:?}, got {config:?}"),
        Err(e) => e,
    }
}

const FULL: &str = r#"
fail-on = "warning"
exclude = ["vendor/**", "third_party"]

[typo]
extra-popular = ["our-internal-lib"]
online = true

[[typo.allow]]
name = "reqeusts-mock"
reason = "internal test double"

[[typo.allow]]
name = "pandsa"
reason = "our fork, see INTERNAL-12"

[hub]
trusted-orgs = [{ name = "our-org", reason = "we publish these models" }]
allowed-hosts = [{ name = "models.example.com", reason = "internal mirror" }]

[pin]
allowed-hosts = [{ name = "pypi.example.com", reason = "internal index" }]
"#;

#[test]
fn reads_every_key() {
    let config = config::parse(Path::new("mlsupply.toml"), FULL, false)
        .unwrap()
        .unwrap();
    assert_eq!(config.path.as_deref(), Some(Path::new("mlsupply.toml")));
    assert_eq!(config.fail_on, Some(Severity::Warning));
    assert_eq!(config.exclude, ["vendor/**", "third_party"]);
    assert_eq!(
        config.typo.allow,
        [
            allow("reqeusts-mock", "internal test double"),
            allow("pandsa", "our fork, see INTERNAL-12"),
        ]
    );
    assert_eq!(config.typo.allow_names(), ["reqeusts-mock", "pandsa"]);
    assert_eq!(config.typo.extra_popular, ["our-internal-lib"]);
    assert_eq!(config.typo.online, Some(true));
    assert_eq!(config.typo.popular, None);
    assert_eq!(
        config.hub.trusted_orgs,
        [allow("our-org", "we publish these models")]
    );
    assert_eq!(
        config.hub.allowed_hosts,
        [allow("models.example.com", "internal mirror")]
    );
    assert_eq!(
        config.pin.allowed_hosts,
        [allow("pypi.example.com", "internal index")]
    );
}

#[test]
fn allow_lists_may_be_inline_arrays() {
    let text = "[typo]\nallow = [\n  { name = \"a\", reason = \"r1\" },\n  { name = \"b\", reason = \"r2\" },\n]\n";
    let config = config::parse(Path::new("mlsupply.toml"), text, false)
        .unwrap()
        .unwrap();
    assert_eq!(config.typo.allow, [allow("a", "r1"), allow("b", "r2")]);
}

#[test]
fn empty_file_is_all_defaults() {
    let config = config::parse(Path::new("mlsupply.toml"), "# nothing yet\n", false)
        .unwrap()
        .unwrap();
    assert_eq!(
        config,
        Config {
            path: Some(PathBuf::from("mlsupply.toml")),
            ..Config::default()
        }
    );
}

#[test]
fn every_error_names_file_line_and_column() {
    // (config text, expected line:column, words the message must contain)
    let cases: &[(&str, (u32, u32), &[&str])] = &[
        // TOML syntax
        (
            "fail-on = \"error\"\nexclude = [\n",
            (2, 12),
            &["invalid TOML", "unclosed array"],
        ),
        ("a = 1\na = 2\n", (2, 1), &["invalid TOML", "duplicate key"]),
        ("\u{feff}\nfail-on = error\n", (2, 11), &["invalid TOML"]),
        // unknown keys, at every level
        (
            "fial-on = \"error\"\n",
            (1, 1),
            &["unknown field `fial-on`", "`fail-on`"],
        ),
        (
            "[typo]\nallowed = []\n",
            (2, 1),
            &["unknown field `allowed`", "typo"],
        ),
        ("[typos]\n", (1, 2), &["unknown field `typos`"]),
        (
            "[hub]\ntrusted-orgs = [{ name = \"a\", reason = \"b\", expires = 1 }]\n",
            (2, 45),
            &["unknown field `expires`", "hub.trusted-orgs"],
        ),
        (
            "[pin]\nallowed-hosts = []\n\n[pin.extra]\n",
            (4, 6),
            &["unknown field `extra`"],
        ),
        // wrong types
        (
            "\n\nfail-on = \"fatal\"\n",
            (3, 11),
            &["unknown severity `fatal`", "`note`", "fail-on"],
        ),
        (
            "fail-on = 2\n",
            (1, 11),
            &["invalid type: integer", "fail-on"],
        ),
        (
            "[typo]\nonline = \"yes\"\n",
            (2, 10),
            &[
                "invalid type: string \"yes\", expected a boolean",
                "typo.online",
            ],
        ),
        (
            "exclude = \"vendor/**\"\n",
            (1, 11),
            &["invalid type: string", "exclude"],
        ),
        (
            "[typo]\nextra-popular = [\"ok\", 3]\n",
            (2, 24),
            &["invalid type: integer", "typo.extra-popular"],
        ),
        (
            "[typo]\nallow = [\"numpy\"]\n",
            (2, 10),
            &["invalid type: string", "typo.allow"],
        ),
        // reasons
        (
            "[typo]\nallow = [{ name = \"pandsa\" }]\n",
            (2, 10),
            &["missing field `reason`", "typo.allow"],
        ),
        (
            "[typo]\n\n[[typo.allow]]\nname = \"pandsa\"\n",
            (3, 1),
            &["missing field `reason`"],
        ),
        (
            "[hub]\nallowed-hosts = [{ name = \"h\", reason = \"  \" }]\n",
            (2, 41),
            &["must not be empty", "hub.allowed-hosts.reason"],
        ),
        (
            "[pin]\nallowed-hosts = [{ reason = \"why\" }]\n",
            (2, 18),
            &["missing field `name`"],
        ),
        // values checked beyond their type
        (
            "exclude = [\"ok/**\", \"[\"]\n",
            (1, 21),
            &["invalid glob pattern `[`", "exclude"],
        ),
        (
            "[typo]\nextra-popular = [\"\"]\n",
            (2, 18),
            &["must not be empty"],
        ),
        (
            "[typo]\npopular = \"no-such-list.tsv\"\n",
            (2, 11),
            &["`typo.popular`", "no-such-list.tsv"],
        ),
    ];
    for (text, (line, column), words) in cases {
        let error = parse_err(text);
        assert_eq!(error.path, Path::new("conf/mlsupply.toml"), "{text:?}");
        assert_eq!(
            error.location,
            Some((*line, *column)),
            "{text:?} gave {error}"
        );
        let rendered = error.to_string();
        assert!(
            rendered.starts_with(&format!("conf/mlsupply.toml:{line}:{column}: ")),
            "{rendered}"
        );
        for word in *words {
            assert!(rendered.contains(word), "{rendered:?} lacks {word:?}");
        }
    }
}

#[test]
fn crlf_and_bom_do_not_shift_positions() {
    let error = parse_err("\u{feff}[typo]\r\nonline = 1\r\n");
    assert_eq!(error.location, Some((2, 10)));
}

#[test]
fn unreadable_and_non_utf8_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let error = config::resolve(dir.path(), Some(&missing), false).unwrap_err();
    assert_eq!(error.path, missing);
    assert_eq!(error.location, None);
    assert!(error.message.contains("cannot read"), "{error}");

    let latin1 = dir.path().join("latin1.toml");
    fs::write(&latin1, b"# ok\n# caf\xe9\n").unwrap();
    let error = config::resolve(dir.path(), Some(&latin1), false).unwrap_err();
    assert_eq!(error.path, latin1);
    assert_eq!(error.location, Some((2, 6)));
    assert!(error.message.contains("UTF-8"), "{error}");
}

#[test]
fn popular_is_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cfg/lists/top.tsv", "1\tnumpy\n");
    let path = write(
        dir.path(),
        "cfg/mlsupply.toml",
        "[typo]\npopular = \"lists/top.tsv\"\n",
    );
    // The scan root is elsewhere: the path still resolves against the config's directory.
    let config = config::resolve(dir.path(), Some(&path), false).unwrap();
    assert_eq!(
        config.typo.popular,
        Some(dir.path().join("cfg/lists/top.tsv"))
    );
}

#[test]
fn discovery_prefers_mlsupply_toml_then_dot_file_then_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "pyproject.toml",
        "[tool.mlsupply]\nfail-on = \"note\"\n",
    );
    let found = config::resolve(root, None, false).unwrap();
    assert_eq!(
        found.path,
        Some(root.canonicalize().unwrap().join("pyproject.toml"))
    );
    assert_eq!(found.fail_on, Some(Severity::Note));

    write(root, ".mlsupply.toml", "fail-on = \"warning\"\n");
    let found = config::resolve(root, None, false).unwrap();
    assert_eq!(
        found.path,
        Some(root.canonicalize().unwrap().join(".mlsupply.toml"))
    );
    assert_eq!(found.fail_on, Some(Severity::Warning));

    write(root, "mlsupply.toml", "fail-on = \"error\"\n");
    let found = config::resolve(root, None, false).unwrap();
    assert_eq!(
        found.path,
        Some(root.canonicalize().unwrap().join("mlsupply.toml"))
    );
    assert_eq!(found.fail_on, Some(Severity::Error));
}

#[test]
fn discovery_walks_up_and_stops_at_the_first_directory_with_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    write(&top, "mlsupply.toml", "fail-on = \"note\"\n");
    write(&top, "a/.mlsupply.toml", "fail-on = \"warning\"\n");
    fs::create_dir_all(top.join("a/b/c")).unwrap();

    let found = config::resolve(&top.join("a/b/c"), None, false).unwrap();
    assert_eq!(found.path, Some(top.join("a/.mlsupply.toml")));
    assert_eq!(found.fail_on, Some(Severity::Warning));

    // `..` in the root is resolved before walking up.
    let found = config::resolve(&top.join("a/b/../.."), None, false).unwrap();
    assert_eq!(found.path, Some(top.join("mlsupply.toml")));
}

#[test]
fn pyproject_without_the_table_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    write(&top, "mlsupply.toml", "fail-on = \"note\"\n");
    write(
        &top,
        "pkg/pyproject.toml",
        "[project]\nname = \"pkg\"\n\n[tool.ruff]\nline-length = 100\n",
    );
    let found = config::resolve(&top.join("pkg"), None, false).unwrap();
    assert_eq!(found.path, Some(top.join("mlsupply.toml")));

    // A `tool` key that is not a table has no [tool.mlsupply] either.
    write(&top, "pkg/pyproject.toml", "tool = 3\n");
    let found = config::resolve(&top.join("pkg"), None, false).unwrap();
    assert_eq!(found.path, Some(top.join("mlsupply.toml")));
}

#[test]
fn pyproject_table_is_checked_like_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\nunknown-to-us = 1\n\n[tool.mlsupply.typo]\nallow = [{ name = \"a\" }]\n",
    );
    let error = config::resolve(dir.path(), None, false).unwrap_err();
    assert_eq!(
        error.path,
        dir.path().canonicalize().unwrap().join("pyproject.toml")
    );
    assert_eq!(error.location, Some((6, 10)));
    assert!(error.message.contains("missing field `reason`"), "{error}");
    assert!(
        error.message.contains("tool.mlsupply.typo.allow"),
        "{error}"
    );

    // Given explicitly, the same table is read.
    fs::write(
        &path,
        "[project]\nname = \"x\"\n\n[tool.mlsupply]\nexclude = [\"docs/**\"]\n",
    )
    .unwrap();
    let config = config::resolve(Path::new("/"), Some(&path), false).unwrap();
    assert_eq!(config.exclude, ["docs/**"]);
    assert_eq!(config.path, Some(path.clone()));
}

#[test]
fn explicit_pyproject_without_the_table_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pyproject.toml", "[project]\nname = \"x\"\n");
    let error = config::resolve(dir.path(), Some(&path), false).unwrap_err();
    assert_eq!(error.path, path);
    assert!(error.message.contains("[tool.mlsupply]"), "{error}");
}

#[test]
fn a_broken_pyproject_on_the_way_up_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pyproject.toml", "[project\nname = 1\n");
    // Above the scanned root: in the root itself it is a finding of the scan.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let error = config::resolve(&dir.path().join("sub"), None, false).unwrap_err();
    assert!(error.path.ends_with("pyproject.toml"));
    assert_eq!(error.location.map(|(line, _)| line), Some(1));
}

#[test]
fn a_broken_pyproject_in_the_root_is_a_finding_and_the_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.mlsupply]\nfail-on = \"note\"\n[project\n",
    );
    let config = config::resolve(dir.path(), None, false).unwrap();
    assert_eq!(config.fail_on, None);
    assert_eq!(config.path, None);
    assert_eq!(config.findings.len(), 1, "{:#?}", config.findings);
    let finding = &config.findings[0];
    assert_eq!(finding.rule, "parse-error");
    assert_eq!(finding.path, "pyproject.toml");
    assert_eq!(finding.line, 3);
    assert!(
        finding.message.contains("not applied"),
        "{}",
        finding.message
    );
}

#[test]
fn explicit_config_wins_over_discovery_and_no_config_ignores_all() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mlsupply.toml", "fail-on = \"note\"\n");
    let other = write(dir.path(), "ci/strict.toml", "fail-on = \"error\"\n");

    let config = config::resolve(dir.path(), Some(&other), false).unwrap();
    assert_eq!(config.fail_on, Some(Severity::Error));
    assert_eq!(config.path, Some(other.clone()));

    // Even a broken explicit file is not read with --no-config.
    write(dir.path(), "mlsupply.toml", "this is not toml\n");
    assert_eq!(
        config::resolve(dir.path(), Some(&other), true).unwrap(),
        Config::default()
    );
    assert_eq!(
        config::resolve(dir.path(), None, true).unwrap(),
        Config::default()
    );
}

#[test]
fn nothing_found_gives_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    let config = config::resolve(&root.join("src"), None, false).unwrap();
    // A file further up than the temp dir (outside our control) may exist; none inside it does.
    if let Some(path) = &config.path {
        assert!(!path.starts_with(&root), "{path:?}");
    } else {
        assert_eq!(config, Config::default());
    }
}

#[test]
fn dump_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "top.tsv", "1\tnumpy\n");
    let text = FULL.replace("online = true", "online = true\npopular = \"top.tsv\"");
    let path = write(dir.path(), "mlsupply.toml", &text);
    let config = config::resolve(dir.path(), Some(&path), false).unwrap();

    let dumped = config::dump(&config);
    assert!(dumped.starts_with("# Effective mlsupply configuration, read from "));
    assert!(dumped.contains("[[typo.allow]]"), "{dumped}");
    assert!(dumped.contains("fail-on = \"warning\""), "{dumped}");
    // The popular path is already absolute, so the dump reads back the same from anywhere.
    let reread = config::parse(Path::new("elsewhere/dump.toml"), &dumped, false)
        .unwrap()
        .unwrap();
    assert_eq!(
        Config {
            path: None,
            ..reread
        },
        Config {
            path: None,
            ..config
        }
    );

    let defaults = config::dump(&Config::default());
    assert!(
        defaults.contains("defaults, no configuration file read"),
        "{defaults}"
    );
    let reread = config::parse(Path::new("d.toml"), &defaults, false)
        .unwrap()
        .unwrap();
    assert_eq!(reread.path.as_deref(), Some(Path::new("d.toml")));
    assert_eq!(
        Config {
            path: None,
            ..reread
        },
        Config::default()
    );
}
