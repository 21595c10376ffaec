//! Where `mlsupply-comment` runs: the GitHub Actions environment and the event payload.
//!
//! Only the runner's own variables are read (`GITHUB_*`); the payload decides which pull
//! request to comment on, at which head commit, and whether the token can write at all: on a
//! `pull_request` event from a fork or from Dependabot, `GITHUB_TOKEN` is read-only, so the API
//! is not even tried. A `workflow_run` event (the second half of the two-workflow pattern for
//! forks) names no pull request itself: `--pr` and `--head-sha` do, and the pull request is
//! fetched to check that its head is that commit before anything is posted.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

/// The token, which never appears in `Debug` output or in any message.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: String) -> Token {
        Token(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The Actions variables `mlsupply-comment` reads.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub event_name: Option<String>,
    pub event_path: Option<PathBuf>,
    pub repository: Option<String>,
    /// `https://api.github.com`, or `https://ghe.example.com/api/v3` (the prefix is kept).
    pub api_url: String,
    pub server_url: String,
    pub token: Option<Token>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub run_id: Option<String>,
    /// `GITHUB_SHA`: the commit of a push; on a pull request, the test merge commit.
    pub sha: Option<String>,
}

impl Env {
    /// Reads the variables through `get` (`std::env::var` in the binary). Empty means unset.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Env {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        Env {
            event_name: var("GITHUB_EVENT_NAME"),
            event_path: var("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository: var("GITHUB_REPOSITORY"),
            api_url: var("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".to_string())
                .trim_end_matches('/')
                .to_string(),
            server_url: var("GITHUB_SERVER_URL")
                .unwrap_or_else(|| "https://github.com".to_string())
                .trim_end_matches('/')
                .to_string(),
            token: var("GITHUB_TOKEN").map(Token::new),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            run_id: var("GITHUB_RUN_ID"),
            sha: var("GITHUB_SHA"),
        }
    }

    /// `owner/name` when `GITHUB_REPOSITORY` is one.
    pub fn repo(&self) -> Option<&str> {
        self.repository.as_deref().filter(|r| valid_repo(r))
    }

    /// This run's page, where the job summary is shown.
    pub fn run_url(&self) -> Option<String> {
        let run = self.run_id.as_deref()?;
        if !run.bytes().all(|b| b.is_ascii_digit()) || !valid_http_url(&self.server_url) {
            return None;
        }
        Some(format!(
            "{}/{}/actions/runs/{run}",
            self.server_url,
            self.repo()?
        ))
    }
}

/// The pull request to comment on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub head_sha: String,
    /// Why the token cannot write (a fork, Dependabot): then the API is not tried.
    pub read_only: Option<String>,
    /// The number came from `--pr` (a `workflow_run`): check the pull request's head first.
    pub verify_head: bool,
}

/// What the event is, for commenting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    PullRequest(PullRequest),
    /// Not a pull request: no comment; why, for the log.
    None(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    // The cause is part of the message (not a `source`), so `{:#}` does not repeat it.
    #[error("cannot read the event payload {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("the event payload {path} is not valid JSON: {error}")]
    Json {
        path: String,
        error: serde_json::Error,
    },
    #[error("the event payload {path}: {what}")]
    Shape { path: String, what: String },
    #[error("{0}")]
    Flags(String),
}

/// The largest event payload read; GitHub's webhook payloads are capped at 25 MB.
const MAX_PAYLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the event payload at `GITHUB_EVENT_PATH`, if set (a regular file only, capped).
pub fn read_payload(env: &Env) -> Result<Option<Value>, ContextError> {
    let Some(path) = &env.event_path else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let bytes = crate::files::read_named(path, MAX_PAYLOAD_BYTES)
        .and_then(|bytes| String::from_utf8(bytes).map_err(std::io::Error::other));
    let text = bytes.map_err(|error| ContextError::Read {
        path: shown.clone(),
        error,
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| ContextError::Json { path: shown, error })
}

/// Decides which pull request to comment on from the payload and the `--pr`/`--head-sha`
/// flags.
pub fn target(
    env: &Env,
    payload: Option<&Value>,
    pr: Option<u64>,
    head_sha: Option<&str>,
) -> Result<Target, ContextError> {
    let path = env
        .event_path
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |p| p.display().to_string());
    let shape = |what: &str| ContextError::Shape {
        path: path.clone(),
        what: what.to_string(),
    };
    if let Some(number) = pr {
        let Some(sha) = head_sha else {
            return Err(ContextError::Flags(
                "--pr needs --head-sha: the commit the report is about".into(),
            ));
        };
        if !valid_sha(sha) {
            return Err(ContextError::Flags(format!(
                "--head-sha must be a full commit sha (40 or 64 hex digits), not {:?}",
                crate::output::sanitize_terminal(sha)
            )));
        }
        // The run that triggered this one must be about the same commit.
        if let Some(run_sha) = payload
            .and_then(|p| p.pointer("/workflow_run/head_sha"))
            .and_then(Value::as_str)
            && !run_sha.eq_ignore_ascii_case(sha)
        {
            return Err(ContextError::Flags(format!(
                "--head-sha {sha} is not the head commit of the workflow run that triggered this \
                 one ({})",
                crate::output::sanitize_terminal(run_sha)
            )));
        }
        return Ok(Target::PullRequest(PullRequest {
            number,
            head_sha: sha.to_ascii_lowercase(),
            read_only: None,
            verify_head: true,
        }));
    }
    if head_sha.is_some() {
        return Err(ContextError::Flags(
            "--head-sha is only used with --pr".into(),
        ));
    }
    let Some(payload) = payload else {
        return Ok(Target::None(
            "no event payload (GITHUB_EVENT_PATH is not set): not running in a pull request".into(),
        ));
    };
    let Some(pull) = payload.get("pull_request").filter(|p| p.is_object()) else {
        let event = env.event_name.as_deref().unwrap_or("unknown");
        let why = if payload.get("workflow_run").is_some() {
            "a workflow_run event names no pull request: pass --pr and --head-sha".to_string()
        } else {
            format!(
                "the {} event is not about a pull request",
                crate::output::sanitize_terminal(event)
            )
        };
        return Ok(Target::None(why));
    };
    let number = pull
        .get("number")
        .or_else(|| payload.get("number"))
        .and_then(Value::as_u64)
        .ok_or_else(|| shape("pull_request.number is missing"))?;
    let head_sha = pull
        .pointer("/head/sha")
        .and_then(Value::as_str)
        .filter(|s| valid_sha(s))
        .ok_or_else(|| shape("pull_request.head.sha is missing or not a commit sha"))?
        .to_ascii_lowercase();
    let base_repo = pull.pointer("/base/repo/full_name").and_then(Value::as_str);
    let head_repo = pull.pointer("/head/repo/full_name").and_then(Value::as_str);
    let fork = match (head_repo, base_repo) {
        (Some(head), Some(base)) => !head.eq_ignore_ascii_case(base),
        // A deleted fork has `head.repo: null`.
        _ => true,
    };
    let dependabot =
        payload.pointer("/sender/login").and_then(Value::as_str) == Some("dependabot[bot]");
    // Under pull_request_target the token can write even for forks (we never recommend that
    // trigger with a checkout of the PR, but the comment itself is then possible).
    let privileged = env.event_name.as_deref() == Some("pull_request_target");
    let read_only = if privileged {
        None
    } else if dependabot {
        Some(
            "the pull request is from Dependabot, whose pull_request runs get a read-only \
             GITHUB_TOKEN"
                .to_string(),
        )
    } else if fork {
        Some(
            "the pull request comes from a fork, whose pull_request runs get a read-only \
             GITHUB_TOKEN (use the two-workflow pull_request + workflow_run pattern to comment)"
                .to_string(),
        )
    } else {
        None
    };
    Ok(Target::PullRequest(PullRequest {
        number,
        head_sha,
        read_only,
        verify_head: false,
    }))
}

/// 40 (SHA-1) or 64 (SHA-256) hex digits.
pub fn valid_sha(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `owner/name` with GitHub's characters only.
pub fn valid_repo(repo: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    matches!(repo.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// An `http(s)://` URL without characters that could end a Markdown link destination.
pub fn valid_http_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'<' | b'>' | b'"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(event: &str) -> Env {
        Env {
            event_name: Some(event.into()),
            ..Env::default()
        }
    }

    fn pr_payload(head_repo: Value, sender: &str) -> Value {
        json!({
            "number": 7,
            "pull_request": {
                "number": 7,
                "head": {"sha": "a".repeat(40), "ref": "x", "repo": head_repo},
                "base": {"repo": {"full_name": "o/r"}}
            },
            "sender": {"login": sender}
        })
    }

    #[test]
    fn same_repository_pull_requests_can_be_commented_on() {
        let payload = pr_payload(json!({"full_name": "o/r"}), "alice");
        let Target::PullRequest(pr) =
            target(&env("pull_request"), Some(&payload), None, None).unwrap()
        else {
            panic!()
        };
        assert_eq!((pr.number, pr.read_only, pr.verify_head), (7, None, false));
    }

    #[test]
    fn forks_deleted_forks_and_dependabot_are_read_only() {
        for (repo, sender) in [
            (json!({"full_name": "someone/r"}), "someone"),
            (Value::Null, "someone"),
            (json!({"full_name": "o/r"}), "dependabot[bot]"),
        ] {
            let payload = pr_payload(repo, sender);
            let Target::PullRequest(pr) =
                target(&env("pull_request"), Some(&payload), None, None).unwrap()
            else {
                panic!()
            };
            assert!(pr.read_only.is_some(), "{payload}");
            // Under pull_request_target the token can write.
            let Target::PullRequest(pr) =
                target(&env("pull_request_target"), Some(&payload), None, None).unwrap()
            else {
                panic!()
            };
            assert_eq!(pr.read_only, None);
        }
    }

    #[test]
    fn workflow_run_needs_flags_matching_its_commit() {
        let sha = "b".repeat(40);
        let payload = json!({"workflow_run": {"head_sha": sha, "pull_requests": []}});
        let e = env("workflow_run");
        assert!(matches!(
            target(&e, Some(&payload), None, None).unwrap(),
            Target::None(_)
        ));
        let Target::PullRequest(pr) = target(&e, Some(&payload), Some(3), Some(&sha)).unwrap()
        else {
            panic!()
        };
        assert!(pr.verify_head && pr.number == 3);
        assert!(target(&e, Some(&payload), Some(3), Some(&"c".repeat(40))).is_err());
        assert!(target(&e, Some(&payload), Some(3), Some("abc")).is_err());
        assert!(target(&e, Some(&payload), Some(3), None).is_err());
    }

    #[test]
    fn other_events_are_not_commented_on() {
        let payload = json!({"ref": "refs/heads/main"});
        assert!(matches!(
            target(&env("push"), Some(&payload), None, None).unwrap(),
            Target::None(_)
        ));
        assert!(matches!(
            target(&env("push"), None, None, None).unwrap(),
            Target::None(_)
        ));
    }

    #[test]
    fn validation() {
        assert!(valid_repo("octo-org/my.repo_1"));
        assert!(!valid_repo("o/r/x") && !valid_repo("o") && !valid_repo("../r"));
        assert!(valid_http_url("https://ghe.example.com"));
        assert!(!valid_http_url("javascript:alert(1)") && !valid_http_url("https://x/(y)"));
        let token = Token::new("ghs_secret".into());
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(token.redact("a ghs_secret b"), "a *** b");
    }
}
