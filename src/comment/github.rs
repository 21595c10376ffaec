//! A thin client over octocrab for the one thing `mlsupply-comment` does on GitHub: keep one
//! sticky comment per pull request and configuration.
//!
//! Requests go through octocrab's service stack (base URI with its GHES `/api/v3` prefix kept,
//! auth header, rustls, timeouts, and its retry layer: 5xx and transport errors once, a
//! `retry-after` on a 429 or a secondary rate limit honoured once). Responses are read raw so
//! that every status, `Link` header and GitHub error message is ours to handle:
//!
//! - comments are listed with `per_page=100`, following every `Link: rel="next"`; a next page
//!   on another origin is refused, since octocrab would send it without the token anyway;
//! - edits are an explicit `PATCH /repos/{owner}/{repo}/issues/comments/{id}` (octocrab's
//!   `update_comment` sends POST, which GitHub only tolerates);
//! - no error message contains the token: every one is passed through [`Token::redact`].

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, Uri};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::{NoOpRateLimitMetrics, RetryConfig};
use serde::Deserialize;
use serde_json::{Value, json};

use super::context::Token;

/// Longest wait for one request, retries and `retry-after` sleeps included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// At most this many pages of comments (10,000 comments) are read.
const MAX_PAGES: usize = 100;
/// GitHub refuses longer comment bodies (`422 Body is too long`); ours are kept well under.
pub const MAX_BODY_CHARS: usize = 65_536;
/// The login of `GITHUB_TOKEN`'s bot on github.com.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// GitHub answered with an error status.
    #[error("{method} {path}: HTTP {status}: {message}")]
    Status {
        method: Method,
        path: String,
        status: u16,
        message: String,
    },
    /// No answer: connection, TLS, timeout.
    #[error("{method} {path}: {message}")]
    Transport {
        method: Method,
        path: String,
        message: String,
    },
    /// An answer we cannot use.
    #[error("{0}")]
    Invalid(String),
}

impl ApiError {
    /// A refusal for lack of permission: 403 (read-only token) or 404 (GitHub hides what a
    /// token may not see).
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            ApiError::Status {
                status: 403 | 404,
                ..
            }
        )
    }
}

/// An issue comment as the REST API returns it (only what we use).
#[derive(Clone, Debug, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    pub html_url: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

pub struct Client {
    crab: Octocrab,
    base: Uri,
    repo: String,
    token: Token,
}

impl Client {
    /// A client for `repo` (`owner/name`) on the API at `api_url`. Must be called inside a
    /// tokio runtime.
    pub fn new(api_url: &str, repo: &str, token: &Token) -> Result<Client, ApiError> {
        let base: Uri = api_url
            .parse()
            .map_err(|_| ApiError::Invalid(format!("GITHUB_API_URL is not a URL: {api_url}")))?;
        if base.scheme().is_none() || base.authority().is_none() {
            return Err(ApiError::Invalid(format!(
                "GITHUB_API_URL is not an absolute URL: {api_url}"
            )));
        }
        let crab = Octocrab::builder()
            .base_uri(base.clone())
            .map_err(|e| ApiError::Invalid(token.redact(&format!("GITHUB_API_URL: {e}"))))?
            .add_retry_config(RetryConfig::HandleRateLimits {
                metrics: Arc::new(NoOpRateLimitMetrics),
                max_retries: 1,
                min_wait_seconds: 5,
                retry_on_forbidden: false,
            })
            .set_connect_timeout(Some(Duration::from_secs(20)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .personal_token(token.expose().to_string())
            .build()
            .map_err(|e| ApiError::Invalid(token.redact(&format!("HTTP client: {e}"))))?;
        Ok(Client {
            crab,
            base,
            repo: repo.to_string(),
            token: token.clone(),
        })
    }

    /// Every comment on the conversation of pull request `number`, oldest first.
    pub async fn comments(&self, number: u64) -> Result<Vec<Comment>, ApiError> {
        let mut next = Some(format!(
            "/repos/{}/issues/{number}/comments?per_page=100",
            self.repo
        ));
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ApiError::Invalid(format!(
                    "pull request #{number} has more than {} comments: not all were read",
                    MAX_PAGES * 100
                )));
            }
            let (headers, body) = self.send(Method::GET, &path, None).await?;
            let page: Vec<Comment> = self.parse(&Method::GET, &path, &body)?;
            all.extend(page);
            if let Some(link) = next_link(&headers) {
                next = Some(self.same_origin(&link)?);
            }
        }
        Ok(all)
    }

    pub async fn create_comment(&self, number: u64, body: &str) -> Result<Comment, ApiError> {
        let path = format!("/repos/{}/issues/{number}/comments", self.repo);
        let (_, text) = self
            .send(Method::POST, &path, Some(&json!({ "body": body })))
            .await?;
        self.parse(&Method::POST, &path, &text)
    }

    /// Edits comment `id` in place with an explicit PATCH.
    pub async fn update_comment(&self, id: u64, body: &str) -> Result<Comment, ApiError> {
        let path = format!("/repos/{}/issues/comments/{id}", self.repo);
        let (_, text) = self
            .send(Method::PATCH, &path, Some(&json!({ "body": body })))
            .await?;
        self.parse(&Method::PATCH, &path, &text)
    }

    pub async fn delete_comment(&self, id: u64) -> Result<(), ApiError> {
        let path = format!("/repos/{}/issues/comments/{id}", self.repo);
        self.send(Method::DELETE, &path, None).await.map(|_| ())
    }

    /// The head commit of pull request `number`.
    pub async fn pull_head_sha(&self, number: u64) -> Result<String, ApiError> {
        let path = format!("/repos/{}/pulls/{number}", self.repo);
        let (_, text) = self.send(Method::GET, &path, None).await?;
        let pull: Value = self.parse(&Method::GET, &path, &text)?;
        pull.pointer("/head/sha")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| ApiError::Invalid(format!("GET {path}: the answer has no head.sha")))
    }

    /// Sends one request; a status outside 2xx is an error carrying GitHub's message.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(HeaderMap, String), ApiError> {
        let transport = |message: String| ApiError::Transport {
            method: method.clone(),
            path: path.to_string(),
            message: self.token.redact(&message),
        };
        let uri: Uri = path
            .parse()
            .map_err(|_| ApiError::Invalid(format!("not a request path: {path}")))?;
        let request = self
            .crab
            .build_request(
                http::Request::builder().method(method.clone()).uri(uri),
                body,
            )
            .map_err(|e| transport(error_chain(&e)))?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.crab.execute(request))
            .await
            .map_err(|_| transport(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())))?
            .map_err(|e| transport(error_chain(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|e| transport(error_chain(&e)))?;
        if status.is_success() {
            return Ok((headers, text));
        }
        Err(ApiError::Status {
            method,
            path: path.to_string(),
            status: status.as_u16(),
            message: self.token.redact(&github_message(&text)),
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        text: &str,
    ) -> Result<T, ApiError> {
        serde_json::from_str(text).map_err(|e| {
            ApiError::Invalid(format!(
                "{method} {path}: unexpected answer from GitHub: {e}"
            ))
        })
    }

    /// The path and query of `url` when it is on the API's own origin; the token is only ever
    /// sent there.
    fn same_origin(&self, url: &str) -> Result<String, ApiError> {
        let refuse = || {
            ApiError::Invalid(format!(
                "the next page of comments is on another server ({}): not following it",
                crate::output::sanitize_terminal(url)
            ))
        };
        let uri: Uri = url.parse().map_err(|_| refuse())?;
        if uri.scheme() != self.base.scheme() || uri.authority() != self.base.authority() {
            return Err(refuse());
        }
        uri.path_and_query()
            .map(|p| p.as_str().to_string())
            .ok_or_else(refuse)
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(http::header::LINK) {
        let value = value.to_str().ok()?;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let url = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return url
                    .strip_prefix('<')
                    .and_then(|u| u.strip_suffix('>'))
                    .map(str::to_string);
            }
        }
    }
    None
}

/// GitHub's `message` and `errors[]` from an error answer, else the start of the body.
fn github_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        let start: String = body.chars().take(200).collect();
        return crate::output::sanitize_terminal(start.trim()).into_owned();
    };
    let mut message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_string();
    if let Some(errors) = value.get("errors").and_then(Value::as_array) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| e.to_string(), str::to_string)
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join("; "));
        }
    }
    crate::output::sanitize_terminal(&message).into_owned()
}

/// An error and its sources: octocrab's own `Display` is terse.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // Some errors already show their source in their own text.
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What [`sticky`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Posted {
    Created {
        url: String,
    },
    Updated {
        url: String,
    },
    /// The comment already said exactly this: no request sent.
    Unchanged {
        url: String,
    },
    /// All clear and no comment to edit: nothing is created just to say so.
    NothingToClear,
}

impl Posted {
    pub fn url(&self) -> Option<&str> {
        match self {
            Posted::Created { url } | Posted::Updated { url } | Posted::Unchanged { url } => {
                Some(url)
            }
            Posted::NothingToClear => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sticky {
    pub posted: Posted,
    /// Duplicate marked comments deleted (left by concurrent runs).
    pub deleted: usize,
    /// Duplicates that could not be deleted, with why.
    pub warnings: Vec<String>,
}

/// Whether `comment` is one of ours: written by a bot and starting with `marker`.
pub fn is_ours(comment: &Comment, marker: &str) -> bool {
    let by_bot = comment
        .user
        .as_ref()
        .is_some_and(|u| u.login == ACTIONS_BOT || u.kind == "Bot");
    by_bot
        && comment
            .body
            .as_deref()
            .is_some_and(|b| b.trim_start().starts_with(marker))
}

/// Keeps one comment marked `marker` on pull request `number` saying `body`: the oldest marked
/// comment is edited in place (no request when it already says `body`), the other marked ones
/// are deleted, and a comment is created only when none exists and `all_clear` is false.
pub async fn sticky(
    client: &Client,
    number: u64,
    marker: &str,
    body: &str,
    all_clear: bool,
) -> Result<Sticky, ApiError> {
    // Measured before anything is sent: a 422 for length must never happen.
    // UTF-16 units: never fewer than GitHub counts (see `render::Unit::Chars`).
    let chars = body.encode_utf16().count();
    if chars > MAX_BODY_CHARS {
        return Err(ApiError::Invalid(format!(
            "the comment body has {chars} characters, over GitHub's {MAX_BODY_CHARS}: not sent"
        )));
    }
    let comments = client.comments(number).await?;
    let mut ours: Vec<&Comment> = comments.iter().filter(|c| is_ours(c, marker)).collect();
    ours.sort_by_key(|c| c.id);
    let Some((keep, duplicates)) = ours.split_first() else {
        let posted = if all_clear {
            Posted::NothingToClear
        } else {
            let created = client.create_comment(number, body).await?;
            Posted::Created {
                url: created.html_url,
            }
        };
        return Ok(Sticky {
            posted,
            deleted: 0,
            warnings: Vec::new(),
        });
    };
    let same = keep
        .body
        .as_deref()
        .is_some_and(|old| old.replace("\r\n", "\n") == body.replace("\r\n", "\n"));
    let posted = if same {
        Posted::Unchanged {
            url: keep.html_url.clone(),
        }
    } else {
        let updated = client.update_comment(keep.id, body).await?;
        Posted::Updated {
            url: updated.html_url,
        }
    };
    let mut deleted = 0;
    let mut warnings = Vec::new();
    for duplicate in duplicates {
        match client.delete_comment(duplicate.id).await {
            Ok(()) => deleted += 1,
            Err(err) => warnings.push(format!(
                "could not delete duplicate comment {}: {err}",
                duplicate.id
            )),
        }
    }
    Ok(Sticky {
        posted,
        deleted,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=3>; \
             rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        headers.insert(
            http::header::LINK,
            "<https://api.github.com/x?page=1>; rel=\"first\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn ours_means_a_bot_and_the_marker_first() {
        let comment = |login: &str, kind: &str, body: &str| Comment {
            id: 1,
            body: Some(body.into()),
            user: Some(User {
                login: login.into(),
                kind: kind.into(),
            }),
            html_url: String::new(),
        };
        let marker = "<!-- mlsupply:report v1 id=default -->";
        assert!(is_ours(
            &comment(ACTIONS_BOT, "Bot", &format!("{marker}\nx")),
            marker
        ));
        assert!(is_ours(&comment("my-app[bot]", "Bot", marker), marker));
        assert!(!is_ours(&comment("mallory", "User", marker), marker));
        assert!(!is_ours(
            &comment(ACTIONS_BOT, "Bot", &format!("quote:\n{marker}")),
            marker
        ));
        assert!(!is_ours(
            &comment(ACTIONS_BOT, "Bot", "<!-- mlsupply:report v1 id=other -->"),
            marker
        ));
    }

    #[test]
    fn github_messages_are_read() {
        assert_eq!(
            github_message(
                r#"{"message":"Validation Failed","errors":[{"message":"Body is too long"}]}"#
            ),
            "Validation Failed (Body is too long)"
        );
        assert_eq!(github_message("<html>\u{1b}"), "<html>\\u{1b}");
    }
}
