//! `action.yml`, proved by running it: its steps run in order under a simulated Actions runner
//! (`tests/support/actions.rs`) against a workspace cloned from a local bare repository as
//! `origin`, a local package index (real wheels, real sha256) and a mock GitHub API. The install
//! step runs as written and finds the test's binaries already installed under the stamp it
//! computes, so no release build happens here.
#![cfg(unix)]

#[path = "support/actions.rs"]
mod actions;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use actions::{Action, Context, Run, Runner, StepKind, expressions};
use serde_json::{Value, json};
use support::dists::{BuiltCatalogue, Catalogue, PageFormat, Project, Release};
use support::index_server::IndexServer;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACTION: &str = include_str!("../action.yml");
const SCHEMA: &str = include_str!("data/github-action.schema.json");
const WORKFLOW_SCHEMA: &str = include_str!("data/github-workflow.schema.json");
const README: &str = include_str!("../README.md");
const TOKEN: &str = "ghs_mlsupplyTestToken0123456789abcdefXYZ";
const REPO: &str = "acme/app";
const PR: u64 = 7;
const BOT: &str = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>";
const BINARIES: [(&str, &str); 4] = [
    ("mlsupply-pin", env!("CARGO_BIN_EXE_mlsupply-pin")),
    ("mlsupply-typo", env!("CARGO_BIN_EXE_mlsupply-typo")),
    ("mlsupply-hub", env!("CARGO_BIN_EXE_mlsupply-hub")),
    ("mlsupply-comment", env!("CARGO_BIN_EXE_mlsupply-comment")),
];
/// What the pull request adds: a range and an exact pin without hashes.
const REQUIREMENTS: &str = "# app\nrequests>=2.30\nidna==3.10\n";

fn action() -> Action {
    Action::parse(ACTION)
}

fn is_full_sha(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn action_yml_matches_the_action_metadata_schema() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    let validator = jsonschema::options()
        .build(&schema)
        .expect("the schema compiles");
    let action = action();
    let errors: Vec<String> = validator
        .iter_errors(&action.json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The schema accepts what the runner rejects; a broken document must not pass either.
    let mut broken = action.json.clone();
    broken["runs"]["steps"][0]
        .as_object_mut()
        .unwrap()
        .insert("shell".into(), json!(["bash"]));
    assert!(
        !validator.is_valid(&broken),
        "a list as `shell` is rejected"
    );
    let mut broken = action.json.clone();
    broken["runs"]["using"] = json!("node12x");
    assert!(
        !validator.is_valid(&broken),
        "an unknown runtime is rejected"
    );
}

#[test]
fn action_yml_inputs_outputs_and_step_hygiene() {
    let action = action();
    let inputs: Vec<(&str, Option<&str>)> = action
        .inputs
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_deref()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("checks", Some("pin,typo,hub")),
            ("paths", Some(".")),
            ("fail-on", Some("error")),
            ("comment", Some("true")),
            ("comment-id", Some("")),
            ("auto-fix", Some("false")),
            ("sarif", Some("")),
            ("online", Some("false")),
            ("token", Some("${{ github.token }}")),
        ]
    );
    let outputs: Vec<&str> = action.outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        outputs,
        [
            "findings",
            "errors",
            "warnings",
            "notes",
            "fixed-files",
            "autofix-commit",
            "comment-url",
            "reports"
        ]
    );

    let mut uses = Vec::new();
    for step in &action.steps {
        match &step.kind {
            StepKind::Run { shell, script } => {
                assert_eq!(shell, "bash", "{}", step.label());
                // Script injection: expressions are expanded into the script's text before bash
                // parses it. Inputs reach scripts through env: only.
                assert!(
                    !script.contains("${{"),
                    "expression in run: of {}",
                    step.label()
                );
                assert!(
                    step.condition.is_none(),
                    "{}: conditions of run: steps live in bash",
                    step.label()
                );
                assert!(
                    script.trim_start().starts_with("set -euo pipefail"),
                    "{}",
                    step.label()
                );
            }
            StepKind::Uses { uses: target } => {
                let (name, reference) = target.split_once('@').expect("uses: owner/repo@ref");
                assert!(
                    is_full_sha(reference),
                    "{name} is pinned by a full commit SHA, not {reference}"
                );
                uses.push(name.to_owned());
            }
        }
        // Only the auto-fix push and the report see the token.
        let sees_token = step
            .env
            .iter()
            .any(|(_, v)| expressions(v).iter().any(|e| e == "inputs.token"));
        let allowed = matches!(step.id.as_deref(), Some("autofix" | "report"));
        assert_eq!(sees_token, allowed, "token in the env of {}", step.label());
    }
    assert_eq!(uses, ["actions/cache/restore", "actions/cache/save"]);
    // The runner evaluates these conditions; the setup step decides (tested below).
    for step in &action.steps {
        if matches!(step.kind, StepKind::Uses { .. }) {
            let condition = step.condition.as_deref().unwrap_or_default();
            assert!(
                condition.starts_with("steps.setup.outputs.use-cache == 'true'"),
                "{condition}"
            );
        }
    }
    // The pins carry their version as a comment, for people and for Dependabot.
    for line in ACTION
        .lines()
        .filter(|l| l.trim_start().starts_with("uses:"))
    {
        assert!(line.contains(" # v"), "{line}");
    }
    // The cache steps are skipped on the triggers that could poison it, in the setup step.
    let setup = action
        .steps
        .iter()
        .find(|s| s.id.as_deref() == Some("setup"));
    let StepKind::Run { script, .. } = &setup.expect("setup step").kind else {
        panic!("setup is a run step");
    };
    assert!(script.contains("pull_request_target | workflow_run) use_cache=false"));
}

/// Every `uses:` of a workflow (job-level reusable workflows and steps).
fn workflow_uses(workflow: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for job in workflow["jobs"].as_object().expect("jobs").values() {
        if let Some(uses) = job["uses"].as_str() {
            found.push(uses.to_owned());
        }
        for step in job["steps"].as_array().into_iter().flatten() {
            if let Some(uses) = step["uses"].as_str() {
                found.push(uses.to_owned());
            }
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "expression inside run: {run}");
            }
        }
    }
    found
}

/// The README's ready-to-copy workflows, in order.
fn readme_workflows() -> Vec<&'static str> {
    let section = README
        .split("\n## ")
        .find(|s| s.starts_with("GitHub Action\n"))
        .expect("README has a GitHub Action section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "three ready-to-copy workflows");
    blocks
}

fn parse_workflow(text: &str) -> Value {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).expect("a YAML workflow");
    actions::yaml_to_json(&docs[0])
}

/// The project's workflows and the README's ready-to-copy ones are valid workflows, grant no
/// permission at the top level, and pin every action by commit.
#[test]
fn workflows_are_valid_and_pin_every_action() {
    let schema: Value = serde_json::from_str(WORKFLOW_SCHEMA).expect("the schema is JSON");
    let validator = jsonschema::options()
        .build(&schema)
        .expect("the schema compiles");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    let mut workflows: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect(".github/workflows")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert!(workflows.len() >= 2, "CI and the action self-test");
    for (i, block) in readme_workflows().iter().enumerate() {
        workflows.push((format!("README workflow {}", i + 1), (*block).to_owned()));
    }
    for (name, text) in &workflows {
        let docs =
            yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let workflow = actions::yaml_to_json(&docs[0]);
        let errors: Vec<String> = validator
            .iter_errors(&workflow)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        assert_eq!(
            workflow["permissions"],
            json!({}),
            "{name}: no permission by default"
        );
        for uses in workflow_uses(&workflow) {
            if uses == "./" || uses == "mlsupply/mlsupply@<commit-sha>" {
                continue;
            }
            let (action, reference) = uses.split_once('@').expect("owner/repo@ref");
            assert!(
                is_full_sha(reference),
                "{name}: {action} pinned by commit, not {reference}"
            );
        }
        for line in text.lines() {
            let line = line.trim_start().trim_start_matches("- ");
            if line.starts_with("uses:") && line != "uses: ./" {
                assert!(
                    line.contains(" # v"),
                    "{name}: the version as a comment: {line}"
                );
            }
        }
        // The schema does reject a broken workflow.
        let mut broken = workflow.clone();
        let job = broken["jobs"]
            .as_object_mut()
            .unwrap()
            .values_mut()
            .next()
            .unwrap();
        job["steps"] = json!({"run": "true"});
        assert!(!validator.is_valid(&broken), "{name}: steps must be a list");
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated pull request.

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Alice")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn catalogue() -> BuiltCatalogue {
    Catalogue::new()
        .project(
            Project::new("requests")
                .release(Release::new("2.29.0").wheel())
                .release(Release::new("2.32.3").wheel().sdist())
                .release(Release::new("3.0.0b1").wheel()),
        )
        .project(Project::new("idna").release(Release::new("3.10").wheel()))
        .build()
}

/// How the pull request is set up.
#[derive(Clone)]
struct Scenario {
    inputs: Vec<(&'static str, String)>,
    /// The head repository, `acme/app` unless a fork.
    head_repo: &'static str,
    head_ref: &'static str,
    /// The base branch: `main`, the default branch.
    base_ref: &'static str,
    sender: &'static str,
    /// The head commit's message.
    head_message: &'static str,
    /// Files the head commit adds besides `requirements.txt`.
    files: Vec<(&'static str, &'static str)>,
    event_name: &'static str,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            inputs: vec![("auto-fix", "true".into())],
            head_repo: REPO,
            head_ref: "feature",
            base_ref: "main",
            sender: "alice",
            head_message: "add dependencies",
            files: Vec::new(),
            event_name: "pull_request",
        }
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    bare: PathBuf,
    seed: PathBuf,
    workspace: PathBuf,
    head_sha: String,
    merge_sha: String,
    index: IndexServer,
    api: MockServer,
    catalogue: BuiltCatalogue,
    scenario: Scenario,
}

async fn fixture(scenario: Scenario) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bare = root.join("origin.git");
    let seed = root.join("seed");
    let workspace = root.join("workspace");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "--quiet", "--bare", "-b", "main"]);
    // GitHub serves any reachable commit by its SHA; the action fetches the head commit so.
    git(
        &bare,
        &["config", "uploadpack.allowReachableSHA1InWant", "true"],
    );
    let url = format!("file://{}", bare.display());
    git(root, &["clone", "--quiet", &url, "seed"]);
    std::fs::write(seed.join("README.md"), "# app\n").unwrap();
    git(&seed, &["add", "README.md"]);
    git(&seed, &["commit", "--quiet", "-m", "initial"]);
    git(
        &seed,
        &["push", "--quiet", "origin", "HEAD:refs/heads/main"],
    );
    if scenario.base_ref != "main" {
        git(
            &seed,
            &[
                "push",
                "--quiet",
                "origin",
                &format!("HEAD:refs/heads/{}", scenario.base_ref),
            ],
        );
    }
    // The head branch adds the requirements.
    git(&seed, &["checkout", "--quiet", "-b", "pr-head"]);
    std::fs::write(seed.join("requirements.txt"), REQUIREMENTS).unwrap();
    for (name, text) in &scenario.files {
        let file = seed.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "--quiet", "-m", scenario.head_message]);
    let head_sha = git(&seed, &["rev-parse", "HEAD"]);
    git(
        &seed,
        &[
            "push",
            "--quiet",
            "origin",
            &format!("HEAD:refs/heads/{}", scenario.head_ref),
        ],
    );
    // refs/pull/N/merge, as GitHub prepares it, checked out as actions/checkout does on
    // pull_request: a depth-1 fetch of the merge commit, detached.
    git(
        &seed,
        &[
            "checkout",
            "--quiet",
            "--detach",
            &format!("origin/{}", scenario.base_ref),
        ],
    );
    git(
        &seed,
        &[
            "merge",
            "--quiet",
            "--no-ff",
            "-m",
            "Merge pull request",
            &head_sha,
        ],
    );
    let merge_sha = git(&seed, &["rev-parse", "HEAD"]);
    git(
        &seed,
        &[
            "push",
            "--quiet",
            "origin",
            &format!("HEAD:refs/pull/{PR}/merge"),
        ],
    );
    std::fs::create_dir_all(&workspace).unwrap();
    git(&workspace, &["init", "--quiet"]);
    git(&workspace, &["remote", "add", "origin", &url]);
    git(
        &workspace,
        &[
            "fetch",
            "--quiet",
            "--depth=1",
            "origin",
            &format!("+refs/pull/{PR}/merge"),
        ],
    );
    git(
        &workspace,
        &["checkout", "--quiet", "--detach", "FETCH_HEAD"],
    );

    let catalogue = catalogue();
    let index = IndexServer::start().await;
    catalogue.serve(&index, PageFormat::Json).await;
    let api = MockServer::start().await;
    mock_github(&api).await;
    Fixture {
        dir,
        bare,
        seed,
        workspace,
        head_sha,
        merge_sha,
        index,
        api,
        catalogue,
        scenario,
    }
}

fn user(login: &str, id: u64, server: &str) -> Value {
    let api = format!("{server}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.example/u/41898282", "gravatar_id": "",
        "url": api, "html_url": format!("{server}/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following"),
        "gists_url": format!("{api}/gists"), "starred_url": format!("{api}/starred"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"), "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events"),
        "received_events_url": format!("{api}/received_events"),
        "type": "Bot", "site_admin": false
    })
}

/// The issue-comments endpoints of the pull request: no comment yet; a created comment is echoed
/// back as GitHub does.
async fn mock_github(api: &MockServer) {
    let base = api.uri();
    let comments = format!("/repos/{REPO}/issues/{PR}/comments");
    Mock::given(method("GET"))
        .and(path(comments.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(api)
        .await;
    let created = move |request: &wiremock::Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ResponseTemplate::new(201).set_body_json(json!({
            "id": 1001, "node_id": "IC_kwDOAAAB",
            "url": format!("{base}/repos/{REPO}/issues/comments/1001"),
            "html_url": format!("https://github.example/{REPO}/pull/{PR}#issuecomment-1001"),
            "issue_url": format!("{base}/repos/{REPO}/issues/{PR}"),
            "body": body["body"],
            "user": user("github-actions[bot]", 41898282, &base),
            "author_association": "NONE",
            "created_at": "2026-06-01T12:00:00Z", "updated_at": "2026-06-01T12:00:00Z"
        }))
    };
    Mock::given(method("POST"))
        .and(path(comments))
        .respond_with(created)
        .mount(api)
        .await;
}

impl Fixture {
    fn event(&self) -> Value {
        let s = &self.scenario;
        json!({
            "action": "synchronize",
            "number": PR,
            "pull_request": {
                "number": PR,
                "head": {
                    "ref": s.head_ref, "sha": self.head_sha,
                    "repo": {"full_name": s.head_repo, "fork": s.head_repo != REPO}
                },
                "base": {"ref": s.base_ref, "repo": {"full_name": REPO}},
                "maintainer_can_modify": false
            },
            "repository": {"full_name": REPO, "default_branch": "main"},
            "sender": {"login": s.sender}
        })
    }

    fn runner(&self) -> Runner {
        let root = self.dir.path();
        let home = root.join("home");
        for sub in ["home", "temp", "tool-cache", "cache", "runner-files"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let event_path = root.join("event.json");
        std::fs::write(&event_path, self.event().to_string()).unwrap();
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let devnull = "/dev/null".to_owned();
        Runner {
            action_path: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            workspace: self.workspace.clone(),
            temp: root.join("temp"),
            tool_cache: root.join("tool-cache"),
            event_path,
            event_name: self.scenario.event_name.into(),
            repository: REPO.into(),
            api_url: self.api.uri(),
            server_url: "https://github.example".into(),
            base_env: vec![
                ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
                ("HOME".into(), s(&home)),
                ("LANG".into(), "C.UTF-8".into()),
                ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
                ("GIT_CONFIG_GLOBAL".into(), devnull.clone()),
                ("PIP_INDEX_URL".into(), self.index.index_url()),
                ("PIP_CONFIG_FILE".into(), devnull),
                ("XDG_CONFIG_HOME".into(), s(&home.join(".config"))),
                ("MLSUPPLY_CACHE_DIR".into(), s(&root.join("cache"))),
                ("NO_COLOR".into(), "1".into()),
            ],
            files: root.join("runner-files"),
        }
    }

    fn context(&self) -> Context {
        let root = self.dir.path();
        let mut context = Context::default();
        for (name, value) in &self.scenario.inputs {
            context.inputs.insert((*name).to_owned(), value.clone());
        }
        context.github = json!({
            "event_name": self.scenario.event_name,
            "event": self.event(),
            "repository": REPO,
            "token": TOKEN,
            "sha": self.merge_sha,
            "ref": format!("refs/pull/{PR}/merge"),
            "action_repository": "",
            "action_ref": "",
            "server_url": "https://github.example",
            "api_url": self.api.uri(),
        });
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        context.runner.insert("os".into(), "Linux".into());
        context.runner.insert("arch".into(), "X64".into());
        context.runner.insert("temp".into(), s(root.join("temp")));
        context
            .runner
            .insert("tool_cache".into(), s(root.join("tool-cache")));
        context
    }

    /// Runs the action; the install step finds this build's binaries under the stamp the setup
    /// step computed.
    fn run(&self) -> Run {
        let env_log = self.dir.path().join("tool-env");
        std::fs::create_dir_all(&env_log).unwrap();
        let mut install = |label: &str, context: &Context| {
            if label != "install" {
                return;
            }
            let setup = &context.steps["setup"];
            let root = PathBuf::from(&setup["root"]);
            std::fs::create_dir_all(root.join("bin")).unwrap();
            // Each binary behind a wrapper that records the environment it was given.
            for (name, built) in BINARIES {
                let target = root.join("bin").join(name);
                let script = format!(
                    "#!/bin/sh\nenv > \"{}/{name}.$$\"\nexec \"{built}\" \"$@\"\n",
                    env_log.display()
                );
                std::fs::write(&target, script).unwrap();
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            std::fs::write(root.join("mlsupply-stamp"), format!("{}\n", setup["stamp"])).unwrap();
        };
        let run = self.runner().run(&action(), self.context(), &mut install);
        let install = run.step("install");
        assert!(
            install.log.contains("binaries up to date"),
            "no build in tests: {}",
            run.describe()
        );
        assert!(
            !run.everything().contains(TOKEN),
            "the token leaked:\n{}",
            run.describe()
        );
        assert!(run.masks.iter().any(|m| m == TOKEN), "the token is masked");
        // Only mlsupply-comment is given the token; the tools that read the repository never are.
        for entry in std::fs::read_dir(&env_log).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let env = std::fs::read_to_string(entry.path()).unwrap();
            let expected = name.starts_with("mlsupply-comment.");
            assert_eq!(env.contains(TOKEN), expected, "{name} and the token");
        }
        run
    }

    /// The bodies of the comments posted to the mock API.
    async fn posted(&self) -> Vec<String> {
        self.api
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "POST" || r.method.as_str() == "PATCH")
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                body["body"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }

    async fn no_token_sent_in_bodies(&self) {
        for request in self.api.received_requests().await.unwrap_or_default() {
            assert!(!String::from_utf8_lossy(&request.body).contains(TOKEN));
        }
    }

    fn branch(&self, name: &str) -> String {
        git(&self.bare, &["rev-parse", &format!("refs/heads/{name}")])
    }
}

fn hash_lines(catalogue: &BuiltCatalogue, project: &str, version: &str) -> Vec<String> {
    catalogue
        .hashes(project, version)
        .into_iter()
        .map(|h| format!("--hash=sha256:{h}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn same_repository_pull_request_gets_one_autofix_commit() {
    // A model download without a pinned revision: a finding the fix leaves, so there is a
    // comment to carry the commit (mlsupply-comment creates none for an all-clear report).
    let fx = fixture(Scenario {
        files: vec![
            (
                "train.py",
                "from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained(\"google-bert/bert-base-uncased\")\n",
            ),
            // mlsupply-pin fixes it too, but the commit never touches workflows.
            (".github/workflows/requirements.txt", "idna==3.10\n"),
        ],
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());

    // One commit on the head branch, on top of the head commit.
    let head = fx.branch("feature");
    assert_ne!(head, fx.head_sha, "pushed");
    assert_eq!(
        git(&fx.bare, &["rev-parse", &format!("{head}^")]),
        fx.head_sha
    );
    assert_eq!(run.outputs["autofix-commit"], head);
    assert_eq!(run.outputs["fixed-files"], "requirements.txt");
    let author = git(&fx.bare, &["log", "-1", "--format=%an <%ae>", &head]);
    let committer = git(&fx.bare, &["log", "-1", "--format=%cn <%ce>", &head]);
    assert_eq!(author, BOT);
    assert_eq!(committer, BOT);
    let message = git(&fx.bare, &["log", "-1", "--format=%B", &head]);
    assert!(
        message.starts_with("mlsupply: pin requirements with sha256 hashes\n"),
        "{message}"
    );
    assert!(
        message.contains("- requirements.txt: requests==2.32.3, idna==3.10"),
        "{message}"
    );
    assert!(message.ends_with("\n\nMlsupply-Autofix: v1"), "{message}");
    let changed = git(&fx.bare, &["diff", "--name-only", &fx.head_sha, &head]);
    assert_eq!(changed, "requirements.txt");

    // The file is pinned with every sha256 of the chosen versions, as pip's hash mode wants.
    let fixed = git(&fx.bare, &["show", &format!("{head}:requirements.txt")]);
    assert!(fixed.starts_with("# app\nrequests==2.32.3 \\\n"), "{fixed}");
    for line in hash_lines(&fx.catalogue, "requests", "2.32.3")
        .iter()
        .chain(&hash_lines(&fx.catalogue, "idna", "3.10"))
    {
        assert!(fixed.contains(line.as_str()), "{line} in\n{fixed}");
    }
    let file = fx.dir.path().join("fixed-requirements.txt");
    std::fs::write(&file, format!("{fixed}\n")).unwrap();
    let pip = support::python::python().dry_run(
        &fx.index.index_url(),
        &file,
        &[
            "--require-hashes",
            "--python-version",
            "3.11",
            "--only-binary",
            ":all:",
        ],
    );
    assert_eq!(
        pip.versions(),
        [
            ("idna".to_owned(), "3.10".to_owned()),
            ("requests".to_owned(), "2.32.3".to_owned())
        ],
        "{}",
        pip.describe()
    );

    // The checks ran on the fixed tree: nothing left to pin but the workflow directory's file.
    let pin: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.dir.path().join("temp/mlsupply/reports/pin.json")).unwrap(),
    )
    .unwrap();
    let left: Vec<&str> = pin["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(left, [".github/workflows/requirements.txt"], "{pin}");
    assert_eq!(run.outputs["errors"], "0", "{}", run.describe());
    // The hub finding, and the workflow directory's requirements left unhashed.
    assert_eq!(run.outputs["warnings"], "2", "{}", run.describe());
    assert_eq!(run.outputs["findings"], "2");
    assert_eq!(
        git(
            &fx.bare,
            &[
                "show",
                &format!("{head}:.github/workflows/requirements.txt")
            ]
        ),
        "idna==3.10"
    );
    assert_eq!(
        std::fs::read_to_string(fx.workspace.join(".github/workflows/requirements.txt")).unwrap(),
        "idna==3.10\n",
        "restored in the workspace"
    );

    // The comment names the commit.
    let posted = fx.posted().await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].contains(&head[..7]), "{}", posted[0]);
    assert!(
        posted[0].contains(&format!("/{REPO}/commit/{head}")),
        "{}",
        posted[0]
    );
    assert_eq!(
        run.outputs["comment-url"],
        format!("https://github.example/{REPO}/pull/{PR}#issuecomment-1001")
    );
    fx.no_token_sent_in_bodies().await;
    let history = git(&fx.bare, &["log", "--all", "--format=%H %an %ae %B"]);
    assert!(!history.contains(TOKEN));
    let workspace_head = git(&fx.workspace, &["rev-parse", "HEAD"]);
    assert_eq!(
        workspace_head, head,
        "the workspace is left on the fixed commit"
    );
}

/// What the pull request shows: the posted comment bodies, then the job summary.
async fn shown(fx: &Fixture, run: &Run) -> String {
    let mut text = fx.posted().await.join("\n");
    text.push('\n');
    text.push_str(&run.summary);
    text
}

/// Nothing was pushed, the workspace is back on the merge commit with a clean tree, and the
/// proposed fix is shown as a diff with the reason.
async fn assert_suggested_not_pushed(
    fx: &Fixture,
    run: &Run,
    branch: &str,
    before: &str,
    why: &str,
) {
    assert_eq!(run.failed, None, "{}", run.describe());
    assert_eq!(fx.branch(branch), before, "nothing pushed to {branch}");
    assert_eq!(run.outputs["autofix-commit"], "");
    assert_eq!(run.outputs["fixed-files"], "");
    let refused = &run.step("autofix").outputs["refused"];
    assert!(refused.contains(why), "{refused}");
    assert_eq!(git(&fx.workspace, &["rev-parse", "HEAD"]), fx.merge_sha);
    assert_eq!(git(&fx.workspace, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(fx.workspace.join("requirements.txt")).unwrap(),
        REQUIREMENTS,
        "the tree is restored"
    );
    let shown = shown(fx, run).await;
    assert!(
        shown.contains("+requests==2.32.3"),
        "the diff is shown:\n{shown}"
    );
    for line in hash_lines(&fx.catalogue, "requests", "2.32.3") {
        assert!(shown.contains(&line), "{line} in\n{shown}");
    }
    // Markdown escapes aside (`\(`, `\-`), the reason is shown.
    assert!(
        shown.replace('\\', "").contains(why),
        "the reason is shown:\n{shown}"
    );
    fx.no_token_sent_in_bodies().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fork_dependabot_and_default_branch_get_suggestions_not_pushes() {
    let cases = [
        (
            Scenario {
                head_repo: "mallory/app",
                ..Scenario::default()
            },
            "feature",
            "fork",
        ),
        (
            Scenario {
                sender: "dependabot[bot]",
                ..Scenario::default()
            },
            "feature",
            "Dependabot",
        ),
        (
            Scenario {
                head_ref: "main",
                base_ref: "release",
                ..Scenario::default()
            },
            "main",
            "default branch",
        ),
    ];
    for (scenario, branch, why) in cases {
        let fx = fixture(scenario).await;
        let before = fx.branch(branch);
        let run = fx.run();
        assert_suggested_not_pushed(&fx, &run, branch, &before, why).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_push_clobbers_nothing_and_suggests_the_diff() {
    // The branch moved on after the run started: the push is not a fast-forward.
    let fx = fixture(Scenario::default()).await;
    git(&fx.seed, &["checkout", "--quiet", "pr-head"]);
    std::fs::write(fx.seed.join("README.md"), "# app\n\nmore\n").unwrap();
    git(&fx.seed, &["commit", "--quiet", "-am", "a concurrent push"]);
    git(
        &fx.seed,
        &["push", "--quiet", "origin", "HEAD:refs/heads/feature"],
    );
    let moved = fx.branch("feature");
    let run = fx.run();
    assert_suggested_not_pushed(&fx, &run, "feature", &moved, "fetch first").await;

    // A server-side hook refuses it.
    let fx = fixture(Scenario::default()).await;
    let hook = fx.bare.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = fx.run();
    let head = fx.head_sha.clone();
    assert_suggested_not_pushed(&fx, &run, "feature", &head, "pre-receive hook declined").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn head_commit_already_an_autofix_gets_no_second_commit() {
    let fx = fixture(Scenario {
        head_message: "mlsupply: pin requirements with sha256 hashes\n\nMlsupply-Autofix: v1",
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    assert_eq!(fx.branch("feature"), fx.head_sha);
    assert!(
        run.step("autofix")
            .log
            .contains("already an mlsupply auto-fix"),
        "{}",
        run.describe()
    );
    assert_eq!(run.outputs["autofix-commit"], "");
    assert!(!run.step("autofix").outputs.contains_key("refused"));
    assert_eq!(git(&fx.workspace, &["rev-parse", "HEAD"]), fx.merge_sha);
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_decides_the_exit_code_without_comment_and_with_sarif() {
    for (fail_on, expected) in [("error", None), ("warning", Some(("report".to_owned(), 1)))] {
        let fx = fixture(Scenario {
            inputs: vec![
                ("fail-on", fail_on.into()),
                ("comment", "false".into()),
                ("sarif", "out/mlsupply.sarif".into()),
            ],
            ..Scenario::default()
        })
        .await;
        let run = fx.run();
        assert_eq!(run.failed, expected, "{}", run.describe());
        // Offline: `requests>=2.30` is unpinned, and neither line has hashes (warnings).
        assert_eq!(run.outputs["errors"], "0", "{}", run.describe());
        let warnings: u32 = run.outputs["warnings"].parse().unwrap();
        assert!(warnings >= 2, "{}", run.describe());
        assert!(fx.posted().await.is_empty(), "comment: false posts nothing");
        assert!(run.summary.contains("requests"), "{}", run.summary);
        let sarif: Value = serde_json::from_str(
            &std::fs::read_to_string(fx.workspace.join("out/mlsupply.sarif")).unwrap(),
        )
        .unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        let rules: Vec<&str> = sarif["runs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["results"].as_array().unwrap())
            .filter_map(|r| r["ruleId"].as_str())
            .collect();
        assert!(rules.contains(&"unpinned"), "{rules:?}");
        assert_eq!(fx.branch("feature"), fx.head_sha, "auto-fix is off");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_branch_name_is_data_not_code() {
    // A valid ref name that a `${{ github.head_ref }}` inside `run:` would execute.
    let branch = "fix/$(touch${IFS}pwned)`touch${IFS}pwned2`";
    let fx = fixture(Scenario {
        head_ref: branch,
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    let pushed = fx.branch(branch);
    assert_eq!(run.outputs["autofix-commit"], pushed);
    for dir in [fx.dir.path(), fx.workspace.as_path()] {
        for name in ["pwned", "pwned2"] {
            assert!(
                !dir.join(name).exists(),
                "{name} was created in {}",
                dir.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn install_without_cargo_fails_with_a_clear_error() {
    let fx = fixture(Scenario::default()).await;
    let mut runner = fx.runner();
    let path: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|dir| !Path::new(dir).join("cargo").exists())
        .map(str::to_owned)
        .collect();
    for (key, value) in &mut runner.base_env {
        if key == "PATH" {
            *value = path.join(":");
        }
    }
    // Nothing installed beforehand: the step must build, and cannot.
    let run = runner.run(&action(), fx.context(), &mut |_, _| {});
    assert_eq!(
        run.failed,
        Some(("install".to_owned(), 1)),
        "{}",
        run.describe()
    );
    let error = run
        .annotations
        .iter()
        .find(|a| a.level == "error")
        .expect("an error annotation");
    assert!(
        error.message.contains("cargo is not on the PATH"),
        "{error:?}"
    );
    assert_eq!(error.properties, "title=mlsupply");
    assert_eq!(fx.branch("feature"), fx.head_sha, "nothing ran after it");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_inputs_stop_before_anything_runs() {
    for (input, value, says) in [
        ("fail-on", "sometimes", "fail-on must be"),
        ("comment-id", "x$(id)", "comment-id may hold"),
        ("checks", "pin,curl", "unknown check"),
        ("auto-fix", "yes", "auto-fix must be true or false"),
    ] {
        let fx = fixture(Scenario {
            inputs: vec![(input, value.to_owned())],
            ..Scenario::default()
        })
        .await;
        let run = fx.runner().run(&action(), fx.context(), &mut |_, _| {});
        assert_eq!(run.failed, Some(("setup".to_owned(), 1)), "{input}");
        assert!(
            run.annotations.iter().any(|a| a.message.contains(says)),
            "{input}: {:?}",
            run.annotations
        );
    }
}

#[test]
fn the_harness_reads_command_files_like_the_runner() {
    let values = actions::parse_command_file(
        "a=1\nurl=https://x.example/?q=a=b\nlist<<EOF_1\none\n\ntwo=2\nEOF_1\nempty=\n",
    );
    assert_eq!(values["a"], "1");
    assert_eq!(values["url"], "https://x.example/?q=a=b");
    assert_eq!(values["list"], "one\n\ntwo=2");
    assert_eq!(values["empty"], "");
    let mut context = Context {
        github: json!({"event": {"pull_request": {"head": {"ref": "b"}}}}),
        ..Context::default()
    };
    context
        .steps
        .insert("s".into(), [("o".to_owned(), "v".to_owned())].into());
    assert_eq!(
        context.substitute("${{ github.event.pull_request.head.ref }}/${{ steps.s.outputs.o }}"),
        "b/v"
    );
    assert_eq!(context.substitute("${{ github.event.nothing.here }}"), "");
}

#[test]
fn vendored_schemas_are_the_documented_files() {
    use sha2::{Digest, Sha256};
    for (text, sha) in [
        (
            SCHEMA,
            "9447acdfbaa0c2033a15e90dcd86e48c91ea548b845d4c30efda4100cb85bdd9",
        ),
        (
            WORKFLOW_SCHEMA,
            "940b07f8eb924284eb064f964b8c87ee65b0447fad4044e11a344c0b3ca6472c",
        ),
    ] {
        let digest: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, sha, "tests/data/README.md names this file's sha256");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_target_gets_no_cache_and_no_push() {
    let fx = fixture(Scenario {
        event_name: "pull_request_target",
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.step("setup").outputs["use-cache"], "false");
    assert_suggested_not_pushed(&fx, &run, "feature", &fx.head_sha, "pull_request_target").await;

    let fx = fixture(Scenario::default()).await;
    let run = fx.run();
    assert_eq!(run.step("setup").outputs["use-cache"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn uncommitted_changes_are_never_committed() {
    let fx = fixture(Scenario::default()).await;
    // An earlier step of the job edited a tracked file.
    std::fs::write(fx.workspace.join("README.md"), "# app\n\nlocal edit\n").unwrap();
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    assert_eq!(fx.branch("feature"), fx.head_sha);
    assert!(run.step("autofix").outputs["refused"].contains("uncommitted changes"));
    assert_eq!(
        std::fs::read_to_string(fx.workspace.join("README.md")).unwrap(),
        "# app\n\nlocal edit\n",
        "the edit is left alone"
    );
}

/// The `with:` of the step that uses this action, as inputs.
fn action_inputs(steps: &Value) -> Vec<(&'static str, String)> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("mlsupply/mlsupply@"))
        })
        .expect("a step uses the action")["with"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let name: &'static str = Box::leak(k.clone().into_boxed_str());
            let value = match v {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name, value)
        })
        .collect()
}

/// The README's least-privilege workflow's action step, as written, on a same-repository pull
/// request: it pushes the fix and writes the SARIF file the next step uploads.
#[tokio::test(flavor = "multi_thread")]
async fn readme_pull_request_workflow_pushes_the_fix_and_writes_sarif() {
    let workflow = parse_workflow(readme_workflows()[0]);
    let inputs = action_inputs(&workflow["jobs"]["mlsupply"]["steps"]);
    let fx = fixture(Scenario {
        inputs,
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    assert_eq!(run.outputs["autofix-commit"], fx.branch("feature"));
    assert_ne!(fx.branch("feature"), fx.head_sha);
    let upload = workflow["jobs"]["mlsupply"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.contains("upload-sarif"))
        })
        .expect("an upload step");
    let sarif_file = upload["with"]["sarif_file"].as_str().unwrap();
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(fx.workspace.join(sarif_file)).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

/// The README's fork set-up, run: on a fork pull request the scan workflow's action step (its
/// `with:` as inputs) and "Collect the reports" step; the artifact handed over as the two artifact
/// actions would; then the `workflow_run` workflow's "Comment" step in an empty directory, with
/// the installed mlsupply-comment on the PATH. (Not run: the checkout, the artifact actions and
/// `cargo install --git`, which need GitHub.)
#[tokio::test(flavor = "multi_thread")]
async fn readme_fork_workflows_comment_from_the_artifact() {
    let blocks = readme_workflows();
    let scan = parse_workflow(blocks[1]);
    let follow = parse_workflow(blocks[2]);
    let scan_steps = &scan["jobs"]["scan"]["steps"];
    let with = action_inputs(scan_steps);
    let fx = fixture(Scenario {
        head_repo: "mallory/app",
        inputs: with,
        ..Scenario::default()
    })
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/{PR}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "number": PR, "head": {"sha": fx.head_sha, "repo": {"full_name": "mallory/app"}}
        })))
        .mount(&fx.api)
        .await;

    // Workflow 1, on pull_request: the action, then the collect step with its outputs.
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    assert!(fx.posted().await.is_empty(), "comment: false");
    let mut context = fx.context();
    context.steps.insert("mlsupply".into(), run.outputs.clone());
    let collect = Action::from_steps(
        actions::steps_of(scan_steps)
            .into_iter()
            .filter(|s| matches!(s.kind, StepKind::Run { .. }))
            .collect(),
    );
    let collected = fx.runner().run(&collect, context, &mut |_, _| {});
    assert_eq!(collected.failed, None, "{}", collected.describe());
    let artifact = fx.workspace.join("mlsupply-report");
    assert_eq!(std::fs::read_to_string(artifact.join("pr")).unwrap(), "7\n");
    assert_eq!(
        std::fs::read_to_string(artifact.join("head-sha")).unwrap(),
        format!("{}\n", fx.head_sha)
    );

    // Workflow 2, on workflow_run, with the artifact where download-artifact puts it.
    let downloaded = fx.dir.path().join("temp/mlsupply-report");
    std::fs::create_dir_all(&downloaded).unwrap();
    for entry in std::fs::read_dir(&artifact).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), downloaded.join(entry.file_name())).unwrap();
    }
    let comment_steps = Action::from_steps(
        actions::steps_of(&follow["jobs"]["comment"]["steps"])
            .into_iter()
            .filter(|s| matches!(s.kind, StepKind::Run { .. }) && !s.name.starts_with("Install"))
            .collect(),
    );
    let bin = run.step("setup").outputs["bin"].clone();
    let follow_up = |head_sha: &str| {
        let mut runner = fx.runner();
        let payload = json!({
            "action": "completed",
            "workflow_run": {"id": 99, "event": "pull_request", "head_sha": head_sha, "pull_requests": []},
            "repository": {"full_name": REPO, "default_branch": "main"}
        });
        runner.event_name = "workflow_run".into();
        runner.event_path = fx.dir.path().join("workflow-run.json");
        std::fs::write(&runner.event_path, payload.to_string()).unwrap();
        // Nothing of the pull request is checked out here.
        runner.workspace = fx.dir.path().join("empty");
        std::fs::create_dir_all(&runner.workspace).unwrap();
        for (key, value) in &mut runner.base_env {
            if key == "PATH" {
                *value = format!("{bin}:{value}");
            }
        }
        let mut context = fx.context();
        context.github = json!({
            "event_name": "workflow_run", "event": payload, "repository": REPO, "token": TOKEN
        });
        let run = runner.run(&comment_steps, context, &mut |_, _| {});
        assert!(!run.everything().contains(TOKEN), "{}", run.describe());
        run
    };
    let commented = follow_up(&fx.head_sha);
    assert_eq!(commented.failed, None, "{}", commented.describe());
    let posted = fx.posted().await;
    assert_eq!(posted.len(), 1, "{}", commented.describe());
    assert!(
        posted[0].contains("requests&gt;=2.30") || posted[0].contains("requests>=2.30"),
        "{}",
        posted[0]
    );
    assert!(posted[0].contains("unpinned"), "{}", posted[0]);
    fx.no_token_sent_in_bodies().await;

    // A report for another commit than the run's is refused before anything is posted.
    let stale = follow_up(&"f".repeat(40));
    assert_eq!(
        stale.failed.as_ref().map(|(step, _)| step.as_str()),
        Some("Comment")
    );
    assert!(
        stale
            .annotations
            .iter()
            .any(|a| a.message.contains("another commit"))
    );
    assert_eq!(fx.posted().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_errors_fails_the_job_with_its_messages() {
    // A configuration error: every check exits 2, naming the file and line.
    let fx = fixture(Scenario {
        inputs: Vec::new(),
        files: vec![("mlsupply.toml", "fail-on = \"sometimes\"\n")],
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(
        run.failed,
        Some(("checks".to_owned(), 1)),
        "{}",
        run.describe()
    );
    let checks = run.step("checks");
    assert!(checks.log.contains("mlsupply.toml"), "{}", checks.log);
    for tool in ["mlsupply-pin", "mlsupply-typo", "mlsupply-hub"] {
        assert!(
            run.annotations
                .iter()
                .any(|a| a.level == "error" && a.properties == format!("title={tool} failed")),
            "{tool}: {:?}",
            run.annotations
        );
    }
    assert!(fx.posted().await.is_empty(), "no report from broken checks");
}

#[tokio::test(flavor = "multi_thread")]
async fn online_checks_propose_the_fix_without_pushing() {
    let fx = fixture(Scenario {
        inputs: vec![("checks", "pin, typo".into()), ("online", "true".into())],
        ..Scenario::default()
    })
    .await;
    let run = fx.run();
    assert_eq!(run.failed, None, "{}", run.describe());
    assert_eq!(run.step("setup").outputs["checks"], "pin typo");
    let reports = fx.dir.path().join("temp/mlsupply/reports");
    assert!(!reports.join("hub.json").exists(), "hub was not asked for");
    // Online, mlsupply-pin's check mode reports the diff --fix would write.
    let pin: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("pin.json")).unwrap()).unwrap();
    let diff = pin["fixes"][0]["diff"].as_str().expect("a proposed fix");
    assert!(diff.contains("+requests==2.32.3 \\"), "{diff}");
    assert_eq!(fx.branch("feature"), fx.head_sha, "auto-fix is off");
    let posted = fx.posted().await;
    assert_eq!(posted.len(), 1);
    assert!(posted[0].contains("+requests==2.32.3 \\"), "{}", posted[0]);
}
