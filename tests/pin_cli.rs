//! `mlsupply-pin` end to end against a local PEP 691/503 index on 127.0.0.1 (fake hashes: the
//! real-pip proof lives in `pin_pip.rs`).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use support::index_server::{FileSpec, IndexServer, JsonPage, fake_sha256, html_page};
use wiremock::ResponseTemplate;

const BIN: &str = env!("CARGO_BIN_EXE_mlsupply-pin");

/// Runs the binary in `dir` with a scrubbed environment: no pip.conf, netrc or PIP_* of the
/// machine, no colour. `--no-deps`: these tests are about the listed requirements, and their
/// index lists fake files (the closure is proved in `pin_closure.rs`).
fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let devnull = if cfg!(windows) { "nul" } else { "/dev/null" };
    let no_deps = !args
        .iter()
        .any(|a| ["--offline", "--dump-config"].contains(a));
    Command::new(BIN)
        .args(no_deps.then_some("--no-deps"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_CONFIG_DIRS", dir.join(".xdg"))
        .env("PIP_CONFIG_FILE", devnull)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

fn hash_line(filename: &str) -> String {
    format!("    --hash=sha256:{}", fake_sha256(filename))
}

/// `demo` 1.0, 1.2, 1.10 (listed out of order; 1.10 needs Python 3.12), 2.0rc1; `other` 2.0.
async fn server() -> IndexServer {
    let server = IndexServer::start().await;
    let mut newest = FileSpec::wheel("demo", "1.10");
    newest.requires_python = Some(">=3.12".to_owned());
    server
        .json_project(
            "demo",
            &JsonPage::new("demo")
                .file(FileSpec::wheel("demo", "1.2"))
                .file(newest)
                .file(FileSpec::sdist("demo", "1.2"))
                .file(FileSpec::wheel("demo", "1.0"))
                .file(FileSpec::wheel("demo", "2.0rc1")),
        )
        .await;
    server
        .json_project(
            "other",
            &JsonPage::new("other").file(FileSpec::wheel("other", "2.0")),
        )
        .await;
    server
}

fn demo_block(version: &str, nl: &str) -> String {
    let mut files = vec![format!("demo-{version}-py3-none-any.whl")];
    if version == "1.2" {
        files.push(format!("demo-{version}.tar.gz"));
    }
    let mut hashes: Vec<String> = files.iter().map(|f| fake_sha256(f)).collect();
    hashes.sort();
    let mut out = format!("demo=={version}");
    for h in hashes {
        out.push_str(&format!(" \\{nl}    --hash=sha256:{h}"));
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_mode_reports_and_diffs_then_fix_then_clean() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let original = "# app deps\ndemo>=1.0  # the demo\nother==2.0\n";
    write(dir.path(), "requirements.txt", original);
    let index = server.index_url();

    let out = run(dir.path(), &["--index-url", &index]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}\n{}", stderr(&out));
    assert!(text.contains("unpinned"), "{text}");
    assert!(text.contains("missing-hash"), "{text}");
    // Newest for Python 3.11 (the default): 1.10 needs 3.12, 2.0rc1 is a pre-release.
    assert!(text.contains("--- a/requirements.txt"), "{text}");
    assert!(text.contains("+demo==1.2 \\"), "{text}");
    assert_eq!(read(dir.path(), "requirements.txt"), original);

    let out = run(dir.path(), &["--index-url", &index, "--diff"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).starts_with("--- a/requirements.txt"));
    assert!(!stdout(&out).contains("unpinned"));

    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join("requirements.txt");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        move |dir: &Path| {
            std::fs::metadata(dir.join("requirements.txt"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        }
    };
    let out = run(dir.path(), &["--index-url", &index, "--fix"]);
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("fixed requirements.txt:2: demo: pinned to ==1.2"));
    #[cfg(unix)]
    assert_eq!(mode(dir.path()), 0o640, "permissions kept");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["requirements.txt"],
        "no temporary file left behind"
    );
    let expected = format!(
        "# app deps\n{}  # the demo\nother==2.0 \\\n{}\n",
        demo_block("1.2", "\n"),
        hash_line("other-2.0-py3-none-any.whl")
    );
    assert_eq!(read(dir.path(), "requirements.txt"), expected);

    // Second run: nothing to do, in every mode.
    let out = run(dir.path(), &["--index-url", &index]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = run(dir.path(), &["--index-url", &index, "--fix"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
    assert_eq!(read(dir.path(), "requirements.txt"), expected);
    let out = run(dir.path(), &["--offline"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn python_version_and_pre_change_the_choice() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "demo\n");
    let index = server.index_url();
    let out = run(
        dir.path(),
        &["--index-url", &index, "--diff", "--python-version", "3.12"],
    );
    assert!(stdout(&out).contains("+demo==1.10 \\"), "{}", stdout(&out));
    let out = run(
        dir.path(),
        &[
            "--index-url",
            &index,
            "--diff",
            "--python-version",
            "3.12",
            "--pre",
        ],
    );
    assert!(
        stdout(&out).contains("+demo==2.0rc1 \\"),
        "{}",
        stdout(&out)
    );
    // The default follows the root's pyproject.toml.
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n",
    );
    let out = run(dir.path(), &["--index-url", &index, "--diff"]);
    assert!(stdout(&out).contains("+demo==1.10 \\"), "{}", stdout(&out));
    // Wheels only: 1.2's sdist is not hashed.
    let out = run(
        dir.path(),
        &[
            "--index-url",
            &index,
            "--diff",
            "--python-version",
            "3.11",
            "--only-binary",
            ":all:",
        ],
    );
    let diff = stdout(&out);
    assert!(diff.contains(&fake_sha256("demo-1.2-py3-none-any.whl")));
    assert!(!diff.contains(&fake_sha256("demo-1.2.tar.gz")), "{diff}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_hash_is_an_error_and_fix_replaces_the_set() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = "0".repeat(64);
    let text = format!(
        "other==2.0 \\\n    --hash=sha256:{bad}\ndemo==1.0 \\\n{}\n",
        hash_line("demo-1.0-py3-none-any.whl")
    );
    write(dir.path(), "requirements.txt", &text);
    let index = server.index_url();
    let out = run(dir.path(), &["--index-url", &index, "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json only");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["rule"], "hash-mismatch");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["line"], 2);
    assert!(
        findings[0]["suggestion"]
            .as_str()
            .unwrap()
            .contains(&fake_sha256("other-2.0-py3-none-any.whl"))
    );
    assert_eq!(read(dir.path(), "requirements.txt"), text);

    let out = run(dir.path(), &["--index-url", &index, "--fix"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("other: replaced the hash set (1 listed hash(es) matched no file"),
        "{}",
        stderr(&out)
    );
    let fixed = read(dir.path(), "requirements.txt");
    assert!(!fixed.contains(&bad));
    assert!(fixed.ends_with(&format!(
        "demo==1.0 \\\n{}\n",
        hash_line("demo-1.0-py3-none-any.whl")
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_file_on_an_old_release_is_reported_not_silently_added() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!("demo==1.2 \\\n{}\n", hash_line("demo-1.2-py3-none-any.whl"));
    write(dir.path(), "requirements.txt", &text);
    let out = run(dir.path(), &["--index-url", &server.index_url()]);
    assert_eq!(code(&out), 1);
    let report = stdout(&out);
    assert!(report.contains("incomplete-hashes"), "{report}");
    assert!(report.contains("missing: demo-1.2.tar.gz"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_a_500_then_works() {
    let server = server().await;
    server.fail_first("demo", 1, 500).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "demo==1.0\n");
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(server.hits("demo").await, 2);
    assert_eq!(
        read(dir.path(), "requirements.txt"),
        format!("demo==1.0 \\\n{}\n", hash_line("demo-1.0-py3-none-any.whl"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_or_garbage_exits_2_and_writes_nothing() {
    let server = server().await;
    server
        .respond(
            "broken",
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                .set_body_string("{not json"),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let index = server.index_url();
    for (line, needle) in [
        ("nosuchpkg>=1", "`nosuchpkg`: not found on http://127.0.0.1"),
        ("broken==1.0", "`broken`: malformed project page"),
        ("demo==9.9", "no file of a version matching `==9.9`"),
    ] {
        let text = format!("demo>=1\n{line}\n");
        write(dir.path(), "requirements.txt", &text);
        for mode in [&[][..], &["--fix"][..]] {
            let mut args = vec!["--index-url", index.as_str()];
            args.extend_from_slice(mode);
            let out = run(dir.path(), &args);
            assert_eq!(code(&out), 2, "{line}: {}", stderr(&out));
            assert!(stderr(&out).contains(needle), "{line}: {}", stderr(&out));
            assert!(stderr(&out).contains("no file was changed"));
            assert_eq!(read(dir.path(), "requirements.txt"), text);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn index_without_sha256_is_an_error_never_an_invented_hash() {
    let server = server().await;
    let mut file = FileSpec::wheel("nohash", "1.0");
    file.sha256 = None;
    server.html_project("nohash", &html_page(&[file])).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "nohash==1.0\n");
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("publishes no sha256 for nohash-1.0-py3-none-any.whl"));
    assert_eq!(read(dir.path(), "requirements.txt"), "nohash==1.0\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn includes_are_fixed_in_place_and_sources_flagged() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let top = format!(
        "--extra-index-url {}\n-r sub/base.txt\nother==2.0 \\\n{}\n",
        server.index_url(),
        hash_line("other-2.0-py3-none-any.whl")
    );
    write(dir.path(), "requirements.txt", &top);
    // Not a name classify() picks up: reached only through -r.
    write(
        dir.path(),
        "sub/base.txt",
        "demo==1.0\n-e ./local\ngit+https://github.com/x/y@abc#egg=y\n",
    );
    let out = run(dir.path(), &["--index-url", &server.index_url()]);
    let report = stdout(&out);
    assert_eq!(code(&out), 1, "{report}");
    assert!(report.contains("extra-index-url"), "{report}");
    assert!(report.contains("unhashable-requirement"), "{report}");
    assert!(report.contains("untrusted-url-host"), "{report}");
    assert!(report.contains("editable"), "{report}");
    assert!(report.contains("version-control"), "{report}");
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 1, "unfixable findings remain");
    assert_eq!(read(dir.path(), "requirements.txt"), top);
    assert_eq!(
        read(dir.path(), "sub/base.txt"),
        format!(
            "demo==1.0 \\\n{}\n-e ./local\ngit+https://github.com/x/y@abc#egg=y\n",
            hash_line("demo-1.0-py3-none-any.whl")
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crlf_bom_and_missing_final_newline_survive() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let original =
        b"\xef\xbb\xbf# top\r\nother==2.0\r\n\r\ndemo==1.0 ; python_version >= \"3.8\"".to_vec();
    std::fs::write(dir.path().join("requirements.txt"), &original).unwrap();
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fixed = std::fs::read(dir.path().join("requirements.txt")).unwrap();
    let expected = format!(
        "\u{feff}# top\r\nother==2.0 \\\r\n{}\r\n\r\ndemo==1.0 ; python_version >= \"3.8\" \\\r\n{}",
        hash_line("other-2.0-py3-none-any.whl"),
        hash_line("demo-1.0-py3-none-any.whl")
    );
    assert_eq!(String::from_utf8(fixed).unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn yanked_pin_is_kept_with_the_reason() {
    let server = IndexServer::start().await;
    let mut yanked = FileSpec::wheel("old", "1.0");
    yanked.yanked = Some(json!("CVE-2026-0001: remote code execution"));
    server
        .json_project(
            "old",
            &JsonPage::new("old")
                .file(yanked)
                .file(FileSpec::wheel("old", "1.1")),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!("old==1.0 \\\n{}\n", hash_line("old-1.0-py3-none-any.whl"));
    write(dir.path(), "requirements.txt", &text);
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    let report = stdout(&out);
    assert_eq!(code(&out), 1, "{report}");
    assert!(report.contains("yanked-version"), "{report}");
    assert!(
        report.contains("CVE-2026-0001: remote code execution"),
        "{report}"
    );
    assert_eq!(read(dir.path(), "requirements.txt"), text);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_reach_the_output() {
    let server = IndexServer::with_basic_auth("alice", "s3cr3t-token").await;
    server
        .json_project(
            "demo",
            &JsonPage::new("demo").file(FileSpec::wheel("demo", "1.0")),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let index = server.index_url_with("alice", "s3cr3t-token");
    write(
        dir.path(),
        "requirements.txt",
        &format!("--extra-index-url {index}\ndemo\nmissing-one\n"),
    );
    for args in [
        vec!["--index-url", index.as_str()],
        vec!["--index-url", index.as_str(), "--format", "sarif"],
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(!stdout(&out).contains("s3cr3t"), "{}", stdout(&out));
        assert!(!stderr(&out).contains("s3cr3t"), "{}", stderr(&out));
    }
    write(
        dir.path(),
        "requirements.txt",
        &format!("--extra-index-url {index}\ndemo\n"),
    );
    let out = run(dir.path(), &["--index-url", &index]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).contains("extra-index-url"));
    assert!(!stdout(&out).contains("s3cr3t"), "{}", stdout(&out));
}

#[test]
fn offline_mode_needs_no_index() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "-i http://pypi.example/simple\ndemo>=1\nother==2.0\nthird==1.0 \\\n{}\n",
        hash_line("third-1.0-py3-none-any.whl")
    );
    write(dir.path(), "requirements.txt", &text);
    let out = run(dir.path(), &["--offline", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<(&str, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [("insecure-index", 1), ("unpinned", 2), ("missing-hash", 3)]
    );
    assert_eq!(read(dir.path(), "requirements.txt"), text);
}

#[test]
fn fix_diff_and_offline_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--fix", "--diff"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("cannot be used with"));
    let out = run(dir.path(), &["--fix", "--offline"]);
    assert_eq!(code(&out), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_ignore_keeps_the_line_as_written() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let text = "demo>=1.0  # mlsupply: ignore[unpinned] tracks upstream on purpose\n";
    write(dir.path(), "requirements.txt", text);
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(read(dir.path(), "requirements.txt"), text);
}

#[test]
fn mlsupply_check_runs_the_offline_pin_check() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "requirements.txt",
        "numpy>=1.26\n-e .\nscipy==1.14.1  # mlsupply: ignore[missing-hash] hashed by the image build\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mlsupply"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<(&str, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(rules, [("unpinned", 1), ("unhashable-requirement", 2)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_files_of_any_name_and_their_options_count() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    // Neither name is one `classify` picks up; the file's --only-binary applies to the run.
    write(
        dir.path(),
        "prod.lock",
        "--only-binary :all:\ndemo>=1\n-r extra.pins\n",
    );
    write(dir.path(), "extra.pins", "other\n");
    let index = server.index_url();
    let out = run(
        dir.path(),
        &[
            "--index-url",
            &index,
            "--extra-index-url",
            &index,
            "--fix",
            "prod.lock",
        ],
    );
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("warning: extra index http://127.0.0.1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        read(dir.path(), "prod.lock"),
        format!(
            "--only-binary :all:\ndemo==1.2 \\\n{}\n-r extra.pins\n",
            hash_line("demo-1.2-py3-none-any.whl")
        )
    );
    assert_eq!(
        read(dir.path(), "extra.pins"),
        format!(
            "other==2.0 \\\n{}\n",
            hash_line("other-2.0-py3-none-any.whl")
        )
    );
}

#[test]
fn an_expanded_token_in_an_index_path_is_masked_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "requirements.txt",
        "-i http://pypi.example/${IDX_TOKEN}/simple\ndemo\n",
    );
    let out = run_env(dir.path(), &[], &[("IDX_TOKEN", "t0k3n-value-42")]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("/${IDX_TOKEN}/simple"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("t0k3n-value-42"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("t0k3n-value-42"));
}

#[test]
fn no_index_files_need_an_explicit_index() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "requirements.txt",
        "--no-index\n--find-links ./wheels\ndemo>=1\n",
    );
    let out = run(dir.path(), &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--no-index"), "{}", stderr(&out));
    assert_eq!(
        read(dir.path(), "requirements.txt"),
        "--no-index\n--find-links ./wheels\ndemo>=1\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pep503_html_index_is_read_too() {
    let server = IndexServer::start().await;
    let mut old = FileSpec::wheel("htmlpkg", "0.9");
    old.requires_python = Some(">=3.8".to_owned());
    server
        .html_project(
            "htmlpkg",
            &html_page(&[
                FileSpec::sdist("htmlpkg", "1.1"),
                old,
                FileSpec::wheel("htmlpkg", "1.1"),
            ]),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "HTMLPkg<2\n");
    let out = run(dir.path(), &["--index-url", &server.index_url(), "--fix"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut digests = [
        fake_sha256("htmlpkg-1.1.tar.gz"),
        fake_sha256("htmlpkg-1.1-py3-none-any.whl"),
    ];
    digests.sort();
    assert_eq!(
        read(dir.path(), "requirements.txt"),
        format!(
            "HTMLPkg==1.1 \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}\n",
            digests[0], digests[1]
        )
    );
}

fn other_page_json() -> String {
    JsonPage::new("other")
        .file(FileSpec::wheel("other", "1.0"))
        .to_json()
        .to_string()
}

fn demo_page_json() -> String {
    JsonPage::new("demo")
        .file(FileSpec::wheel("demo", "1.0"))
        .to_json()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_index_redirecting_to_plain_http_elsewhere_plants_no_hash() {
    use support::tls_server::redirect_response;
    // The attacker's page, over plain http on another host, lists its own hash.
    let attacker = IndexServer::start().await;
    let mut planted = FileSpec::wheel("demo", "1.0");
    planted.sha256 = Some("a".repeat(64));
    attacker
        .json_project("demo", &JsonPage::new("demo").file(planted))
        .await;
    let target = format!("{}/simple/demo/", attacker.server.uri());
    let location = target.clone();
    let (index, _ca_dir, ca) =
        support::tls_server::TlsServer::answering(move |_, _| redirect_response(&location)).await;
    let index_url = index.index_url();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "demo==1.0\n");
    let env = [("SSL_CERT_FILE", ca.as_str())];
    for mode in [&["--fix"][..], &[][..]] {
        let mut args = vec!["--index-url", index_url.as_str()];
        args.extend_from_slice(mode);
        let out = run_env(dir.path(), &args, &env);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{mode:?}: {err}\n{}", stdout(&out));
        assert!(err.contains(&index_url), "{err}");
        assert!(err.contains(&format!("{index_url}demo/")), "{err}");
        assert!(err.contains(&target), "{err}");
        assert!(err.contains("plain http"), "{err}");
        assert!(!stdout(&out).contains(&"a".repeat(64)), "{}", stdout(&out));
        assert_eq!(read(dir.path(), "requirements.txt"), "demo==1.0\n");
    }
    assert!(
        attacker.requests().await.is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_redirect_stays_on_the_index_host_unless_that_host_is_trusted() {
    use support::tls_server::{ok_response, redirect_response};
    // `/simple/demo/` moves to `/moved/demo/`, on the same host or on 127.0.0.1 (another host
    // name for the same server).
    let (index, _ca_dir, ca) = support::tls_server::TlsServer::answering(|path, port| match path {
        "/simple/demo/" => redirect_response("/moved/demo/"),
        "/simple/other/" => redirect_response(&format!("https://127.0.0.1:{port}/moved/other/")),
        "/moved/other/" => ok_response(support::index_server::JSON_TYPE, &other_page_json()),
        _ => ok_response(support::index_server::JSON_TYPE, &demo_page_json()),
    })
    .await;
    let index_url = index
        .index_url()
        .replacen("https://", "https://alice:s3cr3t@", 1);
    let dir = tempfile::tempdir().unwrap();
    let env = [("SSL_CERT_FILE", ca.as_str())];

    write(dir.path(), "requirements.txt", "demo==1.0\n");
    let out = run_env(dir.path(), &["--index-url", &index_url, "--fix"], &env);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        read(dir.path(), "requirements.txt"),
        format!("demo==1.0 \\\n{}\n", hash_line("demo-1.0-py3-none-any.whl"))
    );

    write(dir.path(), "requirements.txt", "other==1.0\n");
    let out = run_env(dir.path(), &["--index-url", &index_url, "--fix"], &env);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("another host"), "{err}");
    assert!(err.contains("https://127.0.0.1:"), "{err}");
    assert!(err.contains("alice:****@localhost"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert_eq!(read(dir.path(), "requirements.txt"), "other==1.0\n");

    // A trusted-host is trusted as the index is: followed, without the index's credentials.
    let env = [
        ("SSL_CERT_FILE", ca.as_str()),
        ("PIP_TRUSTED_HOST", "127.0.0.1"),
    ];
    let out = run_env(dir.path(), &["--index-url", &index_url, "--fix"], &env);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        read(dir.path(), "requirements.txt"),
        format!(
            "other==1.0 \\\n{}\n",
            hash_line("other-1.0-py3-none-any.whl")
        )
    );
    let requests = index.requests.lock().unwrap().clone();
    let moved = requests
        .iter()
        .find(|r| r.starts_with("GET /moved/other/"))
        .expect("the redirect to a trusted host was followed");
    assert!(
        !moved.to_ascii_lowercase().contains("authorization"),
        "credentials went to another host: {moved}"
    );
}

#[test]
fn an_index_that_trickles_is_stopped_by_the_request_timeout_and_the_run_budget() {
    use support::trickle_server::TrickleServer;
    let server = TrickleServer::start(std::time::Duration::from_millis(50));
    let index = server.index_url();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "requirements.txt", "demo==1.0\n");
    for (config, env, needle) in [
        (
            "[pin]\nindex-timeout = 0.3\n",
            None,
            "did not finish answering within 0.3 s (the `index-timeout` limit)",
        ),
        (
            "[pin]\nindex-budget = 0.3\n",
            None,
            "the run's 0.3 s for index requests (the `index-budget` limit) ran out",
        ),
        (
            "[pin]\nindex-timeout = 600\n",
            Some(("MLSUPPLY_INDEX_TIMEOUT", "0.2")),
            "within 0.2 s",
        ),
    ] {
        write(dir.path(), "mlsupply.toml", config);
        let out = run_env(
            dir.path(),
            &["--index-url", &index, "--fix"],
            env.as_slice(),
        );
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{config}: {err}");
        assert!(err.contains(needle), "{config}: {err}");
        assert!(
            err.contains(&format!("`demo`: {index}")) || err.contains(&index),
            "{err}"
        );
        assert_eq!(read(dir.path(), "requirements.txt"), "demo==1.0\n");
    }

    write(dir.path(), "mlsupply.toml", "[pin]\nindex-timeout = -1\n");
    let out = run(dir.path(), &["--index-url", &index]);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("mlsupply.toml:2:"), "{err}");
    assert!(err.contains("not a time limit"), "{err}");
}
