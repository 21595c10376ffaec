//! `mlsupply-pin --fix` completes the dependency closure (issue 4), proved with real pip: a local
//! PEP 691 index on 127.0.0.1 serves real wheels whose METADATA declares dependencies (a chain, a
//! diamond, a `sys_platform == "win32"` marker, an extra, a Requires-Python limit, a yanked
//! release); the fixed file must install with `pip install --require-hashes --dry-run` WITHOUT
//! `--no-deps`, so pip itself checks that nothing is missing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::dists::{BuiltCatalogue, Catalogue, PageFormat, Project, Release, normalize};
use support::index_server::IndexServer;
use support::python::{PipRun, describe, python};

const MARKER: &str =
    "# --- mlsupply-pin: transitive dependencies (managed; do not edit by hand) ---";

/// app 1.0 needs lib-a>=1.0 (chain: lib-a 1.1 needs lib-c>=2), lib-b (diamond: lib-b needs lib-c
/// too) and winonly on Windows; tool[fast] needs speedup. lib-c: 1.0 too old for lib-a, 2.0 the
/// pick, 2.5 yanked, 3.0 needs Python 3.12.
fn catalogue() -> BuiltCatalogue {
    Catalogue::new()
        .project(
            Project::new("app").release(
                Release::new("1.0")
                    .wheel()
                    .requires("lib-a>=1.0")
                    .requires("lib_b")
                    .requires("winonly; sys_platform == \"win32\""),
            ),
        )
        .project(
            Project::new("lib-a")
                .release(Release::new("1.0").wheel())
                .release(Release::new("1.1").wheel().requires("lib-c>=2")),
        )
        .project(Project::new("lib_b").release(Release::new("1.0").wheel().requires("lib-c")))
        .project(
            Project::new("lib-c")
                .release(Release::new("1.0").wheel())
                .release(Release::new("2.0").wheel())
                .release(Release::new("2.5").wheel().yanked("broken"))
                .release(Release::new("3.0").wheel().requires_python(">=3.12")),
        )
        .project(Project::new("winonly").release(Release::new("1.0").wheel()))
        .project(
            Project::new("tool").extra("fast").release(
                Release::new("1.0")
                    .wheel()
                    .requires("speedup>=1; extra == \"fast\""),
            ),
        )
        .project(Project::new("speedup").release(Release::new("1.0").wheel()))
        // An sdist-only release with Metadata-Version 2.1: its dependencies are dynamic.
        .project(Project::new("legacy").release(Release::new("1.0").sdist()))
        .project(
            Project::new("uses-legacy").release(Release::new("2.0").wheel().requires("legacy")),
        )
        .build()
}

const LOOSE: &str = "\
# Our application (this comment and the layout must survive).
app>=1.0

tool[fast]==1.0  # pinned on purpose
";

async fn serve() -> (IndexServer, BuiltCatalogue) {
    let server = IndexServer::start().await;
    let built = catalogue();
    built.serve(&server, PageFormat::Json).await;
    (server, built)
}

/// A project directory with `requirements.txt` holding `text`, and a private cache directory.
struct Workdir {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Workdir {
    fn new(text: &str) -> Workdir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("requirements.txt"), text).expect("written");
        Workdir {
            dir,
            cache: tempfile::tempdir().expect("cache dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.path("requirements.txt")).unwrap()
    }

    /// Runs `mlsupply-pin requirements.txt --index-url <server> <args>` (`--python-version 3.11`
    /// unless `args` says otherwise)
    /// with a scrubbed environment and this project's cache.
    async fn pin(&self, server: &IndexServer, args: &[&str]) -> Output {
        let mut all: Vec<String> = vec![
            "requirements.txt".into(),
            "--no-config".into(),
            "--index-url".into(),
            server.index_url(),
        ];
        if !args.contains(&"--python-version") {
            all.extend(["--python-version".into(), "3.11".into()]);
        }
        all.extend(args.iter().map(|s| (*s).to_owned()));
        let dir = self.dir.path().to_owned();
        let cache = self.cache.path().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_mlsupply-pin"));
            for (key, _) in std::env::vars() {
                if key.starts_with("PIP_")
                    || key.starts_with("MLSUPPLY_")
                    || key.starts_with("UV_")
                    || key == "CI"
                {
                    command.env_remove(key);
                }
            }
            command
                .args(&all)
                .current_dir(&dir)
                .env("HOME", &dir)
                .env("XDG_CONFIG_HOME", dir.join(".config"))
                .env("PIP_CONFIG_FILE", "/dev/null")
                .env("MLSUPPLY_CACHE_DIR", &cache)
                .env("NO_COLOR", "1")
                .env("NO_PROXY", "127.0.0.1,localhost")
                .env("no_proxy", "127.0.0.1,localhost")
                .output()
                .expect("mlsupply-pin runs")
        })
        .await
        .unwrap()
    }
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

fn findings(output: &Output) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", describe(output)));
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["subject"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// `(name, version, marker, hashes)` of each requirement line of `text` (continuations joined).
fn pins(text: &str) -> Vec<(String, String, Option<String>, usize)> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let hashes = line.matches("--hash=sha256:").count();
        let requirement = line.split(" --hash").next().unwrap_or_default();
        let (spec, marker) = match requirement.split_once(';') {
            Some((spec, marker)) => (spec.trim(), Some(marker.trim().to_owned())),
            None => (requirement.trim(), None),
        };
        let (name, version) = spec.split_once("==").expect("pinned");
        let name = normalize(name.split('[').next().unwrap_or_default());
        out.push((name, version.trim().to_owned(), marker, hashes));
    }
    out.sort();
    out
}

async fn pip_with_deps(server: &IndexServer, path: &Path) -> PipRun {
    let url = server.index_url();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        python().dry_run_with_deps(
            &url,
            &path,
            &[
                "--require-hashes",
                "--python-version",
                "3.11",
                "--only-binary",
                ":all:",
            ],
        )
    })
    .await
    .unwrap()
}

fn versions(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_writes_the_closure_and_pip_installs_it_with_its_dependencies() {
    let (server, built) = serve().await;
    let project = Workdir::new(LOOSE);

    // pip refuses the loose file in hash mode (it is not even pinned).
    let before = pip_with_deps(&server, &project.path("requirements.txt")).await;
    assert!(!before.success(), "{}", before.describe());

    let out = project.pin(&server, &["--fix"]).await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let text = project.text();
    // Everything before the section is the user's (the top-level pins fixed in place).
    assert!(
        text.starts_with(
            "# Our application (this comment and the layout must survive).\napp==1.0 \\\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n\ntool[fast]==1.0 \\\n"), "{text}");
    assert!(text.contains("  # pinned on purpose\n\n"), "{text}");
    let section = &text[text.find(MARKER).expect("section")..];
    assert!(section.contains("# via app\nlib-a==1.1 \\\n"), "{section}");
    assert!(
        section.contains("# via tool\nspeedup==1.0 \\\n"),
        "{section}"
    );
    let got = pins(&text);
    let names: Vec<(&str, &str)> = got
        .iter()
        .map(|(n, v, _, _)| (n.as_str(), v.as_str()))
        .collect();
    // Chain and diamond: lib-c once, at 2.0 (1.0 is too old for lib-a, 2.5 is yanked, 3.0
    // needs Python 3.12); the extra brings speedup; winonly comes with its marker.
    assert_eq!(
        names,
        [
            ("app", "1.0"),
            ("lib-a", "1.1"),
            ("lib-b", "1.0"),
            ("lib-c", "2.0"),
            ("speedup", "1.0"),
            ("tool", "1.0"),
            ("winonly", "1.0"),
        ]
    );
    for (name, version, marker, hashes) in &got {
        assert_eq!(*hashes, built.hashes(name, version).len(), "{name}");
        if name == "winonly" {
            let marker = marker.as_deref().expect("winonly has a marker");
            assert!(
                marker.contains("sys_platform") && marker.contains("win32"),
                "{marker}"
            );
        } else if name != "app" && name != "tool" {
            assert_eq!(marker, &None, "{name} is needed everywhere");
        }
    }

    // Real pip, resolving dependencies itself, accepts the file in hash mode.
    let run = pip_with_deps(&server, &project.path("requirements.txt")).await;
    assert_eq!(
        run.versions(),
        versions(&[
            ("app", "1.0"),
            ("lib-a", "1.1"),
            ("lib-b", "1.0"),
            ("lib-c", "2.0"),
            ("speedup", "1.0"),
            ("tool", "1.0"),
        ])
    );

    // A second --fix changes nothing and finds nothing.
    let bytes = std::fs::read(project.path("requirements.txt")).unwrap();
    let again = project.pin(&server, &["--fix", "--format", "json"]).await;
    assert_eq!(code(&again), 0, "{}", describe(&again));
    assert_eq!(findings(&again), []);
    assert_eq!(
        std::fs::read(project.path("requirements.txt")).unwrap(),
        bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_mode_names_every_missing_dependency_and_who_needs_it() {
    let (server, _built) = serve().await;
    let project = Workdir::new(LOOSE);
    let out = project.pin(&server, &["--format", "json"]).await;
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert_eq!(project.text(), LOOSE, "check mode writes nothing");
    let missing: Vec<(String, String)> = findings(&out)
        .into_iter()
        .filter(|(rule, _, _)| rule == "missing-dependency")
        .map(|(_, subject, message)| (subject, message))
        .collect();
    let mut subjects: Vec<&str> = missing.iter().map(|(s, _)| s.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["lib-a", "lib-b", "lib-c", "speedup", "winonly"]);
    for (subject, message) in &missing {
        let via = if subject == "speedup" { "tool" } else { "app" };
        assert!(message.contains(&format!("needed by {via}")), "{message}");
    }
    let winonly = &missing.iter().find(|(s, _)| s == "winonly").unwrap().1;
    assert!(winonly.contains("win32"), "{winonly}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_section_follows_the_top_level_requirements() {
    let (server, _built) = serve().await;
    let project = Workdir::new(LOOSE);
    let out = project.pin(&server, &["--fix"]).await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let fixed = project.text();

    // Drop tool[fast]: speedup leaves the section, nothing else changes.
    let start = fixed.find("tool[fast]").unwrap();
    let end = start + fixed[start..].find("# pinned on purpose\n").unwrap() + 20;
    let without_tool = format!("{}{}", &fixed[..start], &fixed[end..]);
    std::fs::write(project.path("requirements.txt"), &without_tool).unwrap();
    let out = project.pin(&server, &["--fix"]).await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let text = project.text();
    assert!(!text.contains("speedup"), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("removed speedup==1.0"),
        "{}",
        describe(&out)
    );
    let speedup_start = without_tool.find("# via tool\n").unwrap();
    let speedup_end = without_tool.find("# via app\nwinonly").unwrap();
    assert_eq!(
        text,
        format!(
            "{}{}",
            &without_tool[..speedup_start],
            &without_tool[speedup_end..]
        )
    );

    // Drop app too: the section goes, and the file is back to the user's own lines.
    std::fs::write(project.path("requirements.txt"), "# nothing left\n").unwrap();
    let out = project.pin(&server, &["--fix"]).await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert_eq!(project.text(), "# nothing left\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_explained_and_the_file_is_untouched() {
    let (server, _built) = serve().await;
    let text = "lib-a==1.1\nlib-c==1.0  # held back\n";
    let project = Workdir::new(text);
    for args in [&["--fix"][..], &[][..]] {
        let out = project.pin(&server, args).await;
        assert_eq!(code(&out), 2, "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot be resolved"), "{stderr}");
        assert!(stderr.contains("lib-a"), "{stderr}");
        assert!(stderr.contains("lib-c >=2"), "{stderr}");
        assert!(stderr.contains("lib-c ==1.0"), "{stderr}");
        assert!(stderr.contains("no file was changed"), "{stderr}");
        assert_eq!(project.text(), text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_mode_resolves_for_one_platform_only() {
    let (server, _built) = serve().await;
    for (tag, winonly) in [("manylinux_2_17_x86_64", false), ("win_amd64", true)] {
        let project = Workdir::new(LOOSE);
        let out = project.pin(&server, &["--fix", "--platform", tag]).await;
        assert_eq!(code(&out), 0, "{}", describe(&out));
        let got = pins(&project.text());
        let win: Vec<_> = got.iter().filter(|p| p.0 == "winonly").collect();
        assert_eq!(!win.is_empty(), winonly, "{tag}: {got:?}");
        // One platform: no markers are written.
        assert!(win.iter().all(|p| p.2.is_none()), "{got:?}");
    }
    // Python 3.12 admits lib-c 3.0.
    let project = Workdir::new(LOOSE);
    let out = project
        .pin(&server, &["--fix", "--python-version", "3.12"])
        .await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(
        project.text().contains("lib-c==3.0 \\"),
        "{}",
        project.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_included_file_counts_and_the_section_goes_in_the_top_file() {
    let (server, _built) = serve().await;
    let project = Workdir::new("-r base.txt\napp>=1.0\n");
    std::fs::write(project.path("base.txt"), "lib_b>=1.0\n").unwrap();
    let out = project.pin(&server, &["--fix"]).await;
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let base = std::fs::read_to_string(project.path("base.txt")).unwrap();
    assert!(!base.contains(MARKER), "{base}");
    let names: Vec<String> = pins(&base).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["lib-b"]);
    let text = project.text();
    let section = &text[text.find(MARKER).expect("section")..];
    let names: Vec<String> = pins(section).into_iter().map(|p| p.0).collect();
    // lib-b is pinned in base.txt, so it is not repeated.
    assert_eq!(names, ["lib-a", "lib-c", "winonly"]);
    let run = pip_with_deps(&server, &project.path("requirements.txt")).await;
    assert!(run.success(), "{}", run.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_cache_reads_no_distribution_again() {
    let (server, _built) = serve().await;
    let project = Workdir::new(LOOSE);
    let file_requests = |requests: &[wiremock::Request]| {
        requests
            .iter()
            .filter(|r| !r.url.path().starts_with("/simple/"))
            .count()
    };
    let out = project.pin(&server, &["--format", "json"]).await;
    assert_eq!(code(&out), 1, "{}", describe(&out));
    let cold = file_requests(&server.requests().await);
    assert!(cold > 0, "the cold run reads metadata");
    let out = project.pin(&server, &["--format", "json"]).await;
    assert_eq!(code(&out), 1, "{}", describe(&out));
    let warm = file_requests(&server.requests().await) - cold;
    assert_eq!(warm, 0, "the warm run read metadata from the cache");
    // --no-cache reads again.
    let out = project
        .pin(&server, &["--format", "json", "--no-cache"])
        .await;
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(file_requests(&server.requests().await) > cold);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_sdist_is_named_and_never_built() {
    let (server, _built) = serve().await;
    let project = Workdir::new("uses-legacy\n");
    let out = project.pin(&server, &["--fix", "--format", "json"]).await;
    assert_eq!(code(&out), 1, "{}", describe(&out));
    let found = findings(&out);
    let dynamic: Vec<_> = found
        .iter()
        .filter(|(rule, _, _)| rule == "dynamic-metadata")
        .collect();
    assert_eq!(dynamic.len(), 1, "{found:?}");
    assert_eq!(dynamic[0].1, "legacy");
    assert!(dynamic[0].2.contains("legacy 1.0"), "{}", dynamic[0].2);
    // It is still pinned (pip would install it), with its sdist's hash.
    let names: Vec<String> = pins(&project.text()).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["legacy", "uses-legacy"]);
}
