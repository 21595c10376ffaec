//! `mlsupply-pin` end to end, proved with real pip: a local PEP 691/503 index on 127.0.0.1 serves real
//! wheels and sdists built by the tests; `mlsupply-pin --fix` pins a loose file against it; then
//! `pip install --require-hashes --no-deps --dry-run` must accept the result and select the same
//! versions that pip itself picks for the loose file.
//!
//! The first tests check the harness alone (built files, index, pip); the others run the binary.
//! pip runs in a venv under the target directory (see `support/python.rs`); it never reaches PyPI
//! during a test.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::dists::{BuiltCatalogue, Catalogue, PageFormat, Project, Release, normalize};
use support::index_server::{IndexServer, JSON_TYPE};
use support::python::{PipRun, describe, python};
use wiremock::ResponseTemplate;

/// The projects every test serves. The expected picks for Python 3.11, without `--pre`:
/// alpha 2.0 (2.1rc1 is a pre-release, 2.2 is yanked), beta 1.1 (2.0 needs Python 3.12),
/// gamma-lib 1.0 (sdist only, published as `Gamma_Lib`), delta 3.1 (wheel only, `~=3.0`),
/// zeta 1.0 (an exact pin of a yanked release stays).
fn catalogue() -> BuiltCatalogue {
    Catalogue::new()
        .project(
            Project::new("alpha")
                .release(Release::new("1.0").wheel().sdist())
                .release(Release::new("1.5").wheel().sdist())
                .release(
                    Release::new("2.0")
                        .wheel()
                        .wheel_tag("cp311-cp311-manylinux_2_17_x86_64")
                        .sdist(),
                )
                .release(Release::new("2.1rc1").wheel().sdist())
                .release(
                    Release::new("2.2")
                        .wheel()
                        .sdist()
                        .yanked("broken metadata"),
                ),
        )
        .project(
            Project::new("beta")
                .release(Release::new("1.0").wheel())
                .release(Release::new("1.1").wheel().requires_python(">=3.8"))
                .release(Release::new("2.0").wheel().requires_python(">=3.12")),
        )
        .project(
            Project::new("Gamma_Lib")
                .release(Release::new("0.9").sdist())
                .release(Release::new("1.0").sdist()),
        )
        .project(
            Project::new("delta")
                .extra("fast")
                .release(Release::new("3.0").wheel())
                .release(Release::new("3.1").wheel_tag("py2.py3-none-any"))
                .release(Release::new("4.0").wheel()),
        )
        .project(
            Project::new("zeta")
                .release(
                    Release::new("1.0")
                        .wheel()
                        .yanked("CVE-2099-0001: do not use"),
                )
                .release(Release::new("1.1").wheel()),
        )
        .build()
}

const LOOSE: &str = "\
# Loose requirements for the mlsupply-pin end-to-end test.
alpha>=1.0,<3
beta  # the newest that supports the target Python

Gamma_Lib>=0.5
delta[fast]~=3.0 ; python_version >= \"3.8\"
zeta==1.0
";

fn expected_311() -> Vec<(String, String)> {
    pairs(&[
        ("alpha", "2.0"),
        ("beta", "1.1"),
        ("delta", "3.1"),
        ("gamma-lib", "1.0"),
        ("zeta", "1.0"),
    ])
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

async fn serve(format: PageFormat) -> (IndexServer, BuiltCatalogue) {
    let server = IndexServer::start().await;
    let built = catalogue();
    built.serve(&server, format).await;
    (server, built)
}

/// A project directory with `requirements.txt` holding `text`.
fn project_dir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("requirements.txt");
    std::fs::write(&path, text).expect("requirements written");
    (dir, path)
}

async fn pip_dry_run(index_url: &str, requirements: &Path, extra: &[&str]) -> PipRun {
    let index_url = index_url.to_owned();
    let requirements = requirements.to_owned();
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    // pip blocks; the index server must keep answering on the runtime meanwhile.
    tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        python().dry_run(&index_url, &requirements, &extra)
    })
    .await
    .expect("pip task")
}

/// One requirement of a pinned file: name (normalised), the `==` version, its hashes.
#[derive(Debug)]
struct Pinned {
    name: String,
    version: Option<String>,
    hashes: Vec<String>,
}

/// Reads requirements back the simple way pip does for these files: continuations joined, comments
/// dropped, `--hash=sha256:` options collected.
fn parse_pinned(text: &str) -> Vec<Pinned> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let joined = text.replace("\r\n", "\n").replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let requirement: Vec<&str> = tokens
            .by_ref()
            .take_while(|t| !t.starts_with("--hash"))
            .collect();
        let requirement = requirement.join(" ");
        let name_end = requirement
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(requirement.len());
        let name = normalize(&requirement[..name_end]);
        let version = requirement.split_once("==").map(|(_, rest)| {
            rest.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let mut hashes: Vec<String> = line
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("--hash=sha256:"))
            .map(str::to_owned)
            .collect();
        hashes.sort();
        out.push(Pinned {
            name,
            version,
            hashes,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The harness alone: built files, the index and real pip agree.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_pip_accepts_the_built_files_with_their_hashes() {
    for format in [PageFormat::Json, PageFormat::Html, PageFormat::Negotiate] {
        let (server, built) = serve(format).await;
        let mut text = String::new();
        for (name, version) in expected_311() {
            text.push_str(&format!("{name}=={version}"));
            for hash in built.hashes(&name, &version) {
                text.push_str(&format!(" \\\n    --hash=sha256:{hash}"));
            }
            text.push('\n');
        }
        let (_dir, path) = project_dir(&text);
        let run = pip_dry_run(
            &server.index_url(),
            &path,
            &["--require-hashes", "--python-version", "3.11"],
        )
        .await;
        assert!(run.success(), "{format:?}: {}", run.describe());
        assert_eq!(run.versions(), expected_311(), "{format:?}");
        for selected in run.selected() {
            let file = built.file(&selected.filename);
            assert_eq!(selected.sha256.as_deref(), Some(file.sha256.as_str()));
        }
        // pip built the sdist-only project through the sdist's in-tree backend.
        let gamma = run
            .selected()
            .into_iter()
            .find(|s| s.name == "gamma-lib")
            .unwrap();
        assert_eq!(gamma.filename, "gamma_lib-1.0.tar.gz");
    }
}

/// Python's own zipfile/tarfile/hashlib read every built file back: each wheel's RECORD lists every
/// member with its true digest and size, and the metadata names the file's project and version.
const VERIFY: &str = r#"
import base64, hashlib, os, sys, tarfile, zipfile
checked = 0
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name)
    if name.endswith(".whl"):
        dist, version = name.split("-")[:2]
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            info = f"{dist}-{version}.dist-info"
            record = z.read(f"{info}/RECORD").decode().splitlines()
            listed = set()
            for line in record:
                member, digest, size = line.rsplit(",", 2)
                listed.add(member)
                if member == f"{info}/RECORD":
                    assert digest == "" and size == "", line
                    continue
                data = z.read(member)
                want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert digest == want and int(size) == len(data), (name, line)
            assert listed == names, (name, names ^ listed)
            meta = z.read(f"{info}/METADATA").decode()
            assert "Version: " + version + "\n" in meta, (name, meta)
            assert "Tag: " in z.read(f"{info}/WHEEL").decode()
    else:
        base = name[: -len(".tar.gz")]
        version = base.rsplit("-", 1)[1]
        with tarfile.open(path) as t:
            meta = t.extractfile(f"{base}/PKG-INFO").read().decode()
            assert "Version: " + version + "\n" in meta, (name, meta)
            assert t.getmember(f"{base}/pyproject.toml").isfile()
    checked += 1
print(checked)
"#;

#[test]
fn built_files_are_well_formed_and_deterministic() {
    let built = catalogue();
    let again = catalogue();
    let dir = tempfile::tempdir().unwrap();
    for (a, b) in built.files.iter().zip(&again.files) {
        assert_eq!(a.bytes, b.bytes, "{} is reproducible", a.filename);
        std::fs::write(dir.path().join(&a.filename), &a.bytes).unwrap();
    }
    assert!(
        built
            .files
            .iter()
            .any(|f| f.filename == "alpha-2.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    );
    assert!(
        built
            .files
            .iter()
            .any(|f| f.filename == "gamma_lib-1.0.tar.gz")
    );
    let output = Command::new(&python().interpreter)
        .args(["-c", VERIFY])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        built.files.len().to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_wheels_and_sdists_really_install_and_import() {
    let (server, built) = serve(PageFormat::Negotiate).await;
    let target = tempfile::tempdir().unwrap();
    let text = format!(
        "delta==3.1 --hash=sha256:{}\nGamma_Lib==1.0 --hash=sha256:{}\n",
        built.hashes("delta", "3.1")[0],
        built.hashes("gamma-lib", "1.0")[0],
    );
    let (_dir, path) = project_dir(&text);
    let index = server.index_url();
    let target_path = target.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        python()
            .pip(
                &index,
                ["install", "--no-deps", "--quiet", "--require-hashes"],
            )
            .arg(format!("--target={}", target_path.display()))
            .arg("-r")
            .arg(&path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", describe(&output));
    let import = Command::new(&python().interpreter)
        .args([
            "-c",
            "import delta, gamma_lib; print(delta.__version__, gamma_lib.__version__)",
        ])
        .env("PYTHONPATH", target.path())
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", describe(&import));
    assert_eq!(String::from_utf8_lossy(&import.stdout).trim(), "3.1 1.0");
    // pip recorded what it installed: the dist-info of both, from the wheel and from the build.
    for dist_info in ["delta-3.1.dist-info", "gamma_lib-1.0.dist-info"] {
        assert!(
            target.path().join(dist_info).join("RECORD").is_file(),
            "{dist_info}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pip_itself_picks_the_expected_versions_from_the_loose_file() {
    // HTML pages carry the same facts (data-requires-python, data-yanked) as the JSON ones.
    for format in [PageFormat::Json, PageFormat::Html] {
        let (server, _built) = serve(format).await;
        let (_dir, path) = project_dir(LOOSE);
        let url = server.index_url();

        let run = pip_dry_run(&url, &path, &["--python-version", "3.11"]).await;
        assert_eq!(run.versions(), expected_311(), "{format:?}");

        let pre = pip_dry_run(&url, &path, &["--python-version", "3.11", "--pre"]).await;
        let mut expected = expected_311();
        expected[0].1 = "2.1rc1".to_owned();
        assert_eq!(pre.versions(), expected, "{format:?}");

        let py312 = pip_dry_run(&url, &path, &["--python-version", "3.12"]).await;
        let mut expected = expected_311();
        expected[1].1 = "2.0".to_owned();
        assert_eq!(py312.versions(), expected, "{format:?}");

        // Yanked: pip takes zeta 1.0 only because it is pinned exactly, and quotes the reason.
        assert!(
            run.stderr().contains("CVE-2099-0001"),
            "{format:?}: {}",
            run.describe()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_pip_rejects_one_changed_hash() {
    let (server, built) = serve(PageFormat::Json).await;
    let hash = built.hashes("delta", "3.1")[0].clone();
    let tampered = flip_first_hex(&hash);
    let (_dir, path) = project_dir(&format!("delta==3.1 --hash=sha256:{tampered}\n"));
    let run = pip_dry_run(&server.index_url(), &path, &["--require-hashes"]).await;
    assert!(!run.success());
    assert!(
        run.stderr()
            .contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{}",
        run.describe()
    );
    assert!(run.stderr().contains(&hash), "pip names the real digest");
}

fn flip_first_hex(hash: &str) -> String {
    let first = if hash.starts_with('0') { "1" } else { "0" };
    format!("{first}{}", &hash[1..])
}

// ---------------------------------------------------------------------------------------------
// mlsupply-pin against the same index.

const PIN: &str = env!("CARGO_BIN_EXE_mlsupply-pin");

/// Runs `mlsupply-pin` in `dir` with an environment scrubbed of anything that would change its
/// index, configuration or colours: no pip configuration, a private HOME.
async fn pin(dir: &Path, args: &[&str]) -> Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut command = Command::new(PIN);
        for (key, _) in std::env::vars() {
            if key == "CI"
                || key == "NO_COLOR"
                || key == "FORCE_COLOR"
                || key == "CLICOLOR_FORCE"
                || key.starts_with("GITHUB_")
                || key.starts_with("PIP_")
                || key.starts_with("MLSUPPLY_")
                || key.starts_with("UV_")
            {
                command.env_remove(key);
            }
        }
        command
            .args(&args)
            .current_dir(&dir)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .output()
            .expect("mlsupply-pin runs")
    })
    .await
    .unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

fn json_findings(output: &Output) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", describe(output)));
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// `--fix` the loose file (in `text`'s line-ending style) against `server`, and return the result.
async fn fix(server: &IndexServer, text: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = project_dir(text);
    let url = server.index_url();
    let mut args = vec![
        "requirements.txt",
        "--fix",
        "--no-config",
        "--index-url",
        url.as_str(),
    ];
    args.extend_from_slice(extra);
    let output = pin(dir.path(), &args).await;
    assert!(
        matches!(code(&output), 0 | 1),
        "--fix failed:\n{}",
        describe(&output)
    );
    (dir, path)
}

/// The fixed file pins `expected` with exactly the catalogue's hash set for each version.
fn assert_pinned(built: &BuiltCatalogue, fixed: &str, expected: &[(String, String)]) {
    let pinned = parse_pinned(fixed);
    let got: Vec<(String, String)> = {
        let mut v: Vec<_> = pinned
            .iter()
            .map(|p| (p.name.clone(), p.version.clone().unwrap_or_default()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(got, expected, "pins in:\n{fixed}");
    for p in &pinned {
        let version = p.version.as_deref().unwrap();
        assert_eq!(
            p.hashes,
            built.hashes(&p.name, version),
            "hash set of {} {version} in:\n{fixed}",
            p.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_file_is_accepted_by_pip_in_hash_mode() {
    for format in [PageFormat::Json, PageFormat::Html] {
        for text in [LOOSE.to_owned(), crlf(LOOSE)] {
            let (server, built) = serve(format).await;
            let (dir, path) = fix(&server, &text, &["--python-version", "3.11"]).await;
            let fixed = std::fs::read_to_string(&path).unwrap();
            assert_pinned(&built, &fixed, &expected_311());

            // Everything that was not a requirement is still there, byte for byte.
            let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
            for kept in [
                "# Loose requirements for the mlsupply-pin end-to-end test.",
                "# the newest that supports the target Python",
                "delta[fast]==3.1",
                "python_version >= \"3.8\"",
            ] {
                assert!(fixed.contains(kept), "{kept:?} kept in:\n{fixed}");
            }
            assert!(fixed.contains(&format!("{newline}{newline}")), "blank line");
            if newline == "\r\n" {
                assert_eq!(
                    fixed.matches('\n').count(),
                    fixed.matches("\r\n").count(),
                    "CRLF everywhere:\n{fixed:?}"
                );
            }

            // Real pip accepts it in hash mode and installs exactly these pins...
            let run = pip_dry_run(
                &server.index_url(),
                &path,
                &["--require-hashes", "--python-version", "3.11"],
            )
            .await;
            assert!(run.success(), "{format:?}: {}", run.describe());
            assert_eq!(run.versions(), expected_311());
            // ...which are what pip itself picks for the loose file.
            let (_loose_dir, loose_path) = project_dir(&text);
            let oracle = pip_dry_run(
                &server.index_url(),
                &loose_path,
                &["--python-version", "3.11"],
            )
            .await;
            assert_eq!(run.versions(), oracle.versions());

            // A second --fix changes nothing; what remains is the warning about the exact pin
            // of a yanked release, which quotes the index's reason.
            let before = std::fs::read(&path).unwrap();
            let url = server.index_url();
            let base = [
                "requirements.txt",
                "--no-config",
                "--python-version",
                "3.11",
                "--index-url",
                url.as_str(),
            ];
            let again = pin(
                dir.path(),
                &[&base[..], &["--fix", "--format", "json"]].concat(),
            )
            .await;
            assert_eq!(code(&again), 1, "{}", describe(&again));
            // ...and, from the closure (issue 4), that gamma-lib's sdist has dynamic metadata, so
            // its dependencies cannot be known without building it.
            assert_eq!(
                json_findings(&again),
                vec![
                    ("yanked-version".to_owned(), "zeta".to_owned()),
                    ("dynamic-metadata".to_owned(), "gamma-lib".to_owned())
                ]
            );
            assert!(
                String::from_utf8_lossy(&again.stdout).contains("CVE-2099-0001: do not use"),
                "{}",
                describe(&again)
            );
            assert_eq!(
                std::fs::read(&path).unwrap(),
                before,
                "second --fix is a no-op"
            );
            // Check mode agrees, and nothing at error level is left.
            let check = pin(dir.path(), &[&base[..], &["--fail-on", "error"]].concat()).await;
            assert_eq!(code(&check), 0, "{}", describe(&check));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_version_and_pre_releases_follow_pip() {
    let (server, built) = serve(PageFormat::Json).await;
    let url = server.index_url();
    for (extra, alpha, beta) in [
        (&["--python-version", "3.12"][..], "2.0", "2.0"),
        (&["--python-version", "3.11", "--pre"][..], "2.1rc1", "1.1"),
    ] {
        let (_dir, path) = fix(&server, LOOSE, extra).await;
        let fixed = std::fs::read_to_string(&path).unwrap();
        let mut expected = expected_311();
        expected[0].1 = alpha.to_owned();
        expected[1].1 = beta.to_owned();
        assert_pinned(&built, &fixed, &expected);

        let mut pip_args = vec!["--require-hashes"];
        pip_args.extend_from_slice(extra);
        let run = pip_dry_run(&url, &path, &pip_args).await;
        assert!(run.success(), "{extra:?}: {}", run.describe());
        assert_eq!(run.versions(), expected, "{extra:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_hash_is_caught_by_mlsupply_pin_and_by_pip() {
    let (server, built) = serve(PageFormat::Json).await;
    let (dir, path) = fix(&server, LOOSE, &["--python-version", "3.11"]).await;
    let fixed = std::fs::read_to_string(&path).unwrap();
    let real = built.hashes("delta", "3.1")[0].clone();
    assert!(fixed.contains(&real));
    let tampered = fixed.replacen(&real, &flip_first_hex(&real), 1);
    std::fs::write(&path, &tampered).unwrap();

    let url = server.index_url();
    let check = pin(
        dir.path(),
        &[
            "requirements.txt",
            "--no-config",
            "--python-version",
            "3.11",
            "--format",
            "json",
            "--index-url",
            &url,
        ],
    )
    .await;
    assert_eq!(code(&check), 1, "{}", describe(&check));
    let findings = json_findings(&check);
    assert!(
        findings
            .iter()
            .any(|(rule, subject)| rule == "hash-mismatch" && subject.contains("delta")),
        "hash-mismatch for delta in {findings:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        tampered,
        "check mode writes nothing"
    );

    let run = pip_dry_run(
        &url,
        &path,
        &["--require-hashes", "--python-version", "3.11"],
    )
    .await;
    assert!(!run.success(), "pip must reject the tampered file");
    assert!(
        run.stderr()
            .contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{}",
        run.describe()
    );

    // --fix puts the index's set back, and pip accepts the file again.
    let refix = pin(
        dir.path(),
        &[
            "requirements.txt",
            "--fix",
            "--no-config",
            "--python-version",
            "3.11",
            "--index-url",
            &url,
        ],
    )
    .await;
    assert!(matches!(code(&refix), 0 | 1), "{}", describe(&refix));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_answering_500_then_200_still_pins() {
    let (server, built) = serve(PageFormat::Json).await;
    server.fail_first("alpha", 2, 500).await;
    server.fail_first("beta", 1, 503).await;
    let (_dir, path) = fix(&server, LOOSE, &["--python-version", "3.11"]).await;
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_pinned(&built, &fixed, &expected_311());
    assert!(server.hits("alpha").await >= 3, "retried after two 500s");
    assert!(server.hits("beta").await >= 2, "retried after a 503");
}

/// A failing index: exit 2, a message naming the package (and the index, when `names_index`), the
/// file untouched.
async fn assert_index_error(server: &IndexServer, text: &str, package: &str, names_index: bool) {
    let (dir, path) = project_dir(text);
    let url = server.index_url();
    for mode in [&["--fix"][..], &[][..]] {
        let mut args = vec!["requirements.txt", "--no-config", "--index-url", &url];
        args.extend_from_slice(mode);
        let output = pin(dir.path(), &args).await;
        assert_eq!(code(&output), 2, "{mode:?}: {}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(package), "names {package}: {stderr}");
        if names_index {
            assert!(stderr.contains("127.0.0.1"), "names the index: {stderr}");
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            text.as_bytes(),
            "{mode:?}: file untouched"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_404_is_an_error_and_the_file_is_untouched() {
    let (server, _built) = serve(PageFormat::Json).await;
    let text = format!("{}not-on-this-index>=1\n", crlf(LOOSE));
    assert_index_error(&server, &text, "not-on-this-index", false).await;
}

/// Issue 3 asks that a 404 names the index too (as the garbage and wrong-length errors do); with
/// several indexes configured, "which one" is the first question a user has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_404_message_names_the_index() {
    let (server, _built) = serve(PageFormat::Json).await;
    let text = format!("{LOOSE}not-on-this-index>=1\n");
    assert_index_error(&server, &text, "not-on-this-index", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_the_index_is_an_error_and_the_file_is_untouched() {
    let server = IndexServer::start().await;
    let built = catalogue();
    // Mounted before the real pages: wiremock answers with the first matching mock of equal
    // priority, so alpha gets garbage and the rest is served normally.
    server
        .respond(
            "alpha",
            ResponseTemplate::new(200).set_body_raw(
                "{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [{\"filen",
                JSON_TYPE,
            ),
        )
        .await;
    built.serve(&server, PageFormat::Json).await;
    assert_index_error(&server, LOOSE, "alpha", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_accepts_the_fixed_file_and_rejects_the_loose_one() {
    let (server, _built) = serve(PageFormat::Json).await;
    let (dir, path) = fix(&server, LOOSE, &["--python-version", "3.11"]).await;
    let hits_before = server.requests().await.len();

    let fixed = pin(
        dir.path(),
        &["requirements.txt", "--no-config", "--offline"],
    )
    .await;
    assert_eq!(code(&fixed), 0, "{}", describe(&fixed));

    std::fs::write(&path, LOOSE).unwrap();
    let loose = pin(
        dir.path(),
        &[
            "requirements.txt",
            "--no-config",
            "--offline",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&loose), 1, "{}", describe(&loose));
    let rules: Vec<String> = json_findings(&loose).into_iter().map(|(r, _)| r).collect();
    assert!(rules.iter().any(|r| r == "unpinned"), "{rules:?}");
    assert!(rules.iter().any(|r| r == "missing-hash"), "{rules:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), LOOSE);
    assert_eq!(
        server.requests().await.len(),
        hits_before,
        "--offline made no request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_of_the_wrong_length_on_the_index_is_an_error() {
    let server = IndexServer::start().await;
    let built = catalogue();
    // delta's page lists 3.1's wheel with a digest one character short; the rest is served normally.
    let mut page = built.json_page("delta");
    for file in &mut page.files {
        if file.filename.starts_with("delta-3.1-") {
            file.sha256.as_mut().unwrap().pop();
        }
    }
    server.json_project("delta", &page).await;
    built.serve(&server, PageFormat::Json).await;
    assert_index_error(&server, LOOSE, "delta", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_hash_that_pip_lets_through_is_still_caught() {
    // alpha 2.0 has three files. With the sdist's hash changed, pip still installs (it picks a wheel
    // and any listed hash may match), but the lock no longer says what the index holds.
    let (server, built) = serve(PageFormat::Json).await;
    let (dir, path) = fix(&server, LOOSE, &["--python-version", "3.11"]).await;
    let fixed = std::fs::read_to_string(&path).unwrap();
    let sdist = built.file("alpha-2.0.tar.gz").sha256.clone();
    std::fs::write(&path, fixed.replacen(&sdist, &flip_first_hex(&sdist), 1)).unwrap();

    let url = server.index_url();
    let run = pip_dry_run(
        &url,
        &path,
        &["--require-hashes", "--python-version", "3.11"],
    )
    .await;
    assert!(run.success(), "pip accepts: {}", run.describe());
    assert!(run.selected()[0].filename.ends_with(".whl"));

    let check = pin(
        dir.path(),
        &[
            "requirements.txt",
            "--no-config",
            "--python-version",
            "3.11",
            "--format",
            "json",
            "--index-url",
            &url,
        ],
    )
    .await;
    assert_eq!(code(&check), 1, "{}", describe(&check));
    assert!(
        json_findings(&check).contains(&("hash-mismatch".to_owned(), "alpha".to_owned())),
        "{}",
        describe(&check)
    );
}
