//! Runs a composite action's steps the way the GitHub runner does, on this machine.
//!
//! - `action.yml` is read with yaml-rust2 and turned into JSON (to check it against the action
//!   metadata schema).
//! - `run:` steps are written to a script and run as `bash --noprofile --norc -eo pipefail FILE`
//!   in the workspace, with the runner's default variables (`GITHUB_*`, `RUNNER_*`) and the step's
//!   `env:`, whose `${{ }}` expressions are evaluated from a simulated context: `inputs.*`,
//!   `github.*` (`github.event.*` from the payload file), `runner.*`, `steps.<id>.outputs.*`,
//!   `env.*`. Any other expression is a test failure, so the action stays within what this
//!   harness proves.
//! - Each step gets fresh `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY`
//!   files, read back afterwards (`name=value` and `name<<DELIMITER` forms) as the runner does.
//! - Standard output is read for workflow commands: `::add-mask::` lines are recorded and kept
//!   out of the log, `::stop-commands::` is honoured, `::error`/`::warning`/`::notice` become
//!   annotations. The log itself is kept unmasked, so a test can prove a secret never reached it.
//! - `uses:` steps are not run (they need GitHub); they must be pinned by a full commit SHA.
//! - The first failing step ends the run, as in a composite action without `if:` conditions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// One step of the composite action.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: Option<String>,
    pub name: String,
    pub condition: Option<String>,
    pub env: Vec<(String, String)>,
    pub kind: StepKind,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Run { shell: String, script: String },
    Uses { uses: String },
}

impl Step {
    pub fn label(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// `action.yml`, parsed.
pub struct Action {
    /// The document as JSON, for the schema.
    pub json: Value,
    /// Input name and default (`None` when there is none).
    pub inputs: Vec<(String, Option<String>)>,
    /// Output name and its `value:` expression.
    pub outputs: Vec<(String, String)>,
    pub steps: Vec<Step>,
}

pub fn yaml_to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(text.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                let key = match key {
                    Yaml::String(s) => s.clone(),
                    other => panic!("non-string key in action.yml: {other:?}"),
                };
                map.insert(key, yaml_to_json(value));
            }
            Value::Object(map)
        }
        Yaml::Null => Value::Null,
        other => panic!("unsupported YAML node in action.yml: {other:?}"),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, found {other}"),
    }
}

impl Action {
    /// A job's steps run as if they were an action's (no inputs, no outputs); `if:` is ignored.
    pub fn from_steps(steps: Vec<Step>) -> Action {
        Action {
            json: Value::Null,
            inputs: Vec::new(),
            outputs: Vec::new(),
            steps,
        }
    }

    pub fn parse(source: &str) -> Action {
        let docs = YamlLoader::load_from_str(source).expect("action.yml is YAML");
        assert_eq!(docs.len(), 1, "action.yml holds one document");
        let json = yaml_to_json(&docs[0]);
        // In the file's order (the JSON map sorts its keys).
        let section = |name: &str| -> Vec<(String, Value)> {
            match &docs[0][name] {
                Yaml::Hash(hash) => hash
                    .iter()
                    .map(|(k, v)| (k.as_str().expect("a name").to_owned(), yaml_to_json(v)))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let inputs = section("inputs")
            .into_iter()
            .map(|(name, spec)| (name, spec.get("default").map(text)))
            .collect();
        let outputs = section("outputs")
            .into_iter()
            .map(|(name, spec)| (name, text(&spec["value"])))
            .collect();
        assert_eq!(json["runs"]["using"], "composite", "a composite action");
        let steps = steps_of(&json["runs"]["steps"]);
        Action {
            json,
            inputs,
            outputs,
            steps,
        }
    }
}

/// The steps of a composite action or of a workflow job.
pub fn steps_of(steps: &Value) -> Vec<Step> {
    steps
        .as_array()
        .expect("a list of steps")
        .iter()
        .map(|step| {
            let env = step
                .get("env")
                .and_then(Value::as_object)
                .map(|env| env.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .unwrap_or_default();
            let kind = match (step.get("run"), step.get("uses")) {
                (Some(run), None) => StepKind::Run {
                    shell: step.get("shell").map(text).unwrap_or_default(),
                    script: text(run),
                },
                (None, Some(uses)) => StepKind::Uses { uses: text(uses) },
                _ => panic!("a step has exactly one of run/uses: {step}"),
            };
            Step {
                id: step.get("id").map(text),
                name: step.get("name").map(text).unwrap_or_default(),
                condition: step.get("if").map(text),
                env,
                kind,
            }
        })
        .collect()
}

/// The `${{ }}` expressions of `value`, trimmed.
pub fn expressions(value: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").expect("an expression is closed with }}");
        found.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    found
}

/// What the expressions can see.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Inputs as given in the workflow's `with:`; missing ones take their defaults.
    pub inputs: BTreeMap<String, String>,
    /// The `github` context: `event` holds the payload.
    pub github: Value,
    pub runner: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub steps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Context {
    /// Evaluates the property paths this harness supports; anything else fails the test.
    pub fn evaluate(&self, expression: &str) -> String {
        let parts: Vec<&str> = expression.split('.').collect();
        let valid = parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "_-".contains(c)));
        assert!(
            valid,
            "unsupported expression `{expression}`: the harness evaluates property paths only"
        );
        let missing = String::new;
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_else(missing),
            ["runner", name] => self.runner.get(*name).cloned().unwrap_or_else(missing),
            ["env", name] => self.env.get(*name).cloned().unwrap_or_else(missing),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|outputs| outputs.get(*name))
                .cloned()
                .unwrap_or_else(missing),
            ["github", path @ ..] if !path.is_empty() => {
                let mut value = &self.github;
                for part in path {
                    value = match value.get(part) {
                        Some(next) => next,
                        None => return missing(),
                    };
                }
                match value {
                    Value::Object(_) | Value::Array(_) => value.to_string(),
                    scalar => text(scalar),
                }
            }
            _ => panic!("unsupported expression `{expression}`"),
        }
    }

    /// `value` with every `${{ }}` replaced by its value.
    pub fn substitute(&self, value: &str) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let end = after.find("}}").expect("an expression is closed with }}");
            out.push_str(&self.evaluate(after[..end].trim()));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

/// An annotation a step wrote as a workflow command.
#[derive(Clone, Debug)]
pub struct Annotation {
    pub level: String,
    pub properties: String,
    pub message: String,
}

/// One step as it ran.
#[derive(Clone, Debug)]
pub struct StepRun {
    pub label: String,
    pub code: i32,
    /// Standard output without the `::add-mask::` lines, unmasked.
    pub log: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct Run {
    pub steps: Vec<StepRun>,
    /// `uses:` steps that were skipped.
    pub skipped: Vec<String>,
    /// The action's outputs, from its `outputs.*.value` expressions.
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub masks: Vec<String>,
    pub annotations: Vec<Annotation>,
    /// The exit code of the step that failed, if one did.
    pub failed: Option<(String, i32)>,
}

impl Run {
    pub fn step(&self, label: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.label == label)
            .unwrap_or_else(|| panic!("step {label} did not run:\n{}", self.describe()))
    }

    /// Everything the run showed or wrote: logs, standard error, outputs, summary.
    pub fn everything(&self) -> String {
        let mut all = String::new();
        for step in &self.steps {
            all.push_str(&step.log);
            all.push_str(&step.stderr);
            for (k, v) in &step.outputs {
                all.push_str(&format!("{k}={v}\n"));
            }
        }
        for (k, v) in &self.outputs {
            all.push_str(&format!("{k}={v}\n"));
        }
        all.push_str(&self.summary);
        all
    }

    pub fn describe(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            out.push_str(&format!(
                "=== step {} (exit {})\n--- log\n{}--- stderr\n{}--- outputs {:?}\n",
                step.label, step.code, step.log, step.stderr, step.outputs
            ));
        }
        out.push_str(&format!("=== action outputs {:?}\n", self.outputs));
        out
    }
}

/// Reads a `GITHUB_OUTPUT`/`GITHUB_ENV` file: `name=value` lines and `name<<DELIMITER` blocks.
pub fn parse_command_file(text: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let heredoc = line.find("<<");
        let equals = line.find('=');
        match (heredoc, equals) {
            (Some(h), e) if e.is_none_or(|e| h < e) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                assert!(!delimiter.is_empty(), "empty heredoc delimiter: {line}");
                let mut body = Vec::new();
                loop {
                    let next = lines
                        .next()
                        .unwrap_or_else(|| panic!("unterminated {name}<<{delimiter}"));
                    if next == delimiter {
                        break;
                    }
                    body.push(next);
                }
                values.insert(name.to_owned(), body.join("\n"));
            }
            (_, Some(e)) => {
                values.insert(line[..e].to_owned(), line[e + 1..].to_owned());
            }
            _ => panic!("malformed command file line: {line:?}"),
        }
    }
    values
}

/// The simulated runner: directories, default variables and the base environment.
pub struct Runner {
    pub action_path: PathBuf,
    pub workspace: PathBuf,
    pub temp: PathBuf,
    pub tool_cache: PathBuf,
    pub event_path: PathBuf,
    pub event_name: String,
    pub repository: String,
    pub api_url: String,
    pub server_url: String,
    /// The process environment every step starts from (PATH, HOME, git and pip isolation, ...).
    pub base_env: Vec<(String, String)>,
    /// Directory for the per-step command files and scripts.
    pub files: PathBuf,
}

impl Runner {
    /// The default variables the runner sets for every step.
    fn defaults(&self) -> Vec<(String, String)> {
        let s = |p: &Path| p.to_string_lossy().into_owned();
        vec![
            ("CI".into(), "true".into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_ACTION_PATH".into(), s(&self.action_path)),
            ("GITHUB_WORKSPACE".into(), s(&self.workspace)),
            ("GITHUB_EVENT_PATH".into(), s(&self.event_path)),
            ("GITHUB_EVENT_NAME".into(), self.event_name.clone()),
            ("GITHUB_REPOSITORY".into(), self.repository.clone()),
            ("GITHUB_API_URL".into(), self.api_url.clone()),
            ("GITHUB_SERVER_URL".into(), self.server_url.clone()),
            ("RUNNER_TEMP".into(), s(&self.temp)),
            ("RUNNER_TOOL_CACHE".into(), s(&self.tool_cache)),
            ("RUNNER_OS".into(), "Linux".into()),
            ("RUNNER_ARCH".into(), "X64".into()),
        ]
    }

    /// Runs `action`'s steps in order; `before` is called with each step's label and the context
    /// just before it runs.
    pub fn run(
        &self,
        action: &Action,
        mut context: Context,
        before: &mut dyn FnMut(&str, &Context),
    ) -> Run {
        for (name, default) in &action.inputs {
            if !context.inputs.contains_key(name) {
                let value = default
                    .as_deref()
                    .map(|d| context.substitute(d))
                    .unwrap_or_default();
                context.inputs.insert(name.clone(), value);
            }
        }
        std::fs::create_dir_all(&self.files).unwrap();
        let mut run = Run::default();
        let mut job_env: Vec<(String, String)> = Vec::new();
        let mut extra_path: Vec<String> = Vec::new();
        for (index, step) in action.steps.iter().enumerate() {
            let (shell, script) = match &step.kind {
                StepKind::Uses { uses } => {
                    run.skipped.push(uses.clone());
                    continue;
                }
                StepKind::Run { shell, script } => (shell, script),
            };
            assert_eq!(shell, "bash", "step {} runs in bash", step.label());
            before(step.label(), &context);
            let file = |kind: &str| self.files.join(format!("{index}-{kind}"));
            let script_path = file("script.sh");
            std::fs::write(&script_path, script).unwrap();
            for kind in ["output", "env", "path", "summary"] {
                std::fs::write(file(kind), "").unwrap();
            }
            let mut env: Vec<(String, String)> = self.base_env.clone();
            env.extend(self.defaults());
            env.extend(job_env.iter().cloned());
            let s = |p: PathBuf| p.to_string_lossy().into_owned();
            env.push(("GITHUB_OUTPUT".into(), s(file("output"))));
            env.push(("GITHUB_ENV".into(), s(file("env"))));
            env.push(("GITHUB_PATH".into(), s(file("path"))));
            env.push(("GITHUB_STEP_SUMMARY".into(), s(file("summary"))));
            for (key, value) in &step.env {
                env.push((key.clone(), context.substitute(value)));
            }
            if !extra_path.is_empty() {
                let base = env
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "PATH")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let mut path = extra_path.clone();
                path.reverse();
                path.push(base);
                env.push(("PATH".into(), path.join(":")));
            }
            let output = Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script_path)
                .current_dir(&self.workspace)
                .env_clear()
                .envs(env)
                .output()
                .expect("bash runs");
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let log = read_commands(&stdout, &mut run.masks, &mut run.annotations);
            let outputs = parse_command_file(&std::fs::read_to_string(file("output")).unwrap());
            for (k, v) in parse_command_file(&std::fs::read_to_string(file("env")).unwrap()) {
                job_env.push((k, v));
            }
            for line in std::fs::read_to_string(file("path")).unwrap().lines() {
                if !line.is_empty() {
                    extra_path.push(line.to_owned());
                }
            }
            run.summary
                .push_str(&std::fs::read_to_string(file("summary")).unwrap());
            if let Some(id) = &step.id {
                context.steps.insert(id.clone(), outputs.clone());
            }
            let code = output.status.code().unwrap_or(-1);
            run.steps.push(StepRun {
                label: step.label().to_owned(),
                code,
                log,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                outputs,
            });
            if code != 0 {
                run.failed = Some((step.label().to_owned(), code));
                break;
            }
        }
        for (name, value) in &action.outputs {
            run.outputs.insert(name.clone(), context.substitute(value));
        }
        run
    }
}

/// Reads workflow commands from a step's standard output as the runner does, returning the log
/// without the `::add-mask::` lines.
fn read_commands(
    stdout: &str,
    masks: &mut Vec<String>,
    annotations: &mut Vec<Annotation>,
) -> String {
    let mut log = String::new();
    let mut stopped: Option<String> = None;
    for line in stdout.lines() {
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
                continue;
            }
            log.push_str(line);
            log.push('\n');
            continue;
        }
        if let Some(secret) = line.strip_prefix("::add-mask::") {
            masks.push(secret.to_owned());
            continue;
        }
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_owned());
            continue;
        }
        for level in ["error", "warning", "notice"] {
            let Some(rest) = line.strip_prefix(&format!("::{level}")) else {
                continue;
            };
            if let Some(end) = rest.find("::") {
                annotations.push(Annotation {
                    level: level.to_owned(),
                    properties: rest[..end].trim().to_owned(),
                    message: rest[end + 2..].to_owned(),
                });
            }
        }
        log.push_str(line);
        log.push('\n');
    }
    log
}
