//! `mlsupply-typo --online`: ask the package index about each dependency name.
//!
//! A name that no configured index knows is an open door: anyone can register it
//! ([`crate::rules::UNKNOWN_PACKAGE`]). A name that exists but is young and has few releases
//! makes a typosquat suspicion much more likely to be real, so the driver raises it to an error
//! ([`escalate`]). Ages and release counts come only from what the index states (PEP 700
//! `upload-time` and `versions`); when it states nothing, nothing is escalated.

use std::collections::BTreeSet;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};

use crate::finding::Severity;
use crate::index::{BlockingIndexClient, IndexClient, IndexError, Project, RedactedUrl};

/// What the indexes say about one normalised name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineVerdict {
    /// The normalised name (PEP 503).
    pub name: String,
    pub presence: Presence,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// No configured index has the project; `indexes` are the ones asked.
    Missing {
        indexes: Vec<RedactedUrl>,
    },
    Exists(ProjectFacts),
}

/// Facts about an existing project, each `None` when the index does not state it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFacts {
    /// The indexes that have the project.
    pub found_on: Vec<RedactedUrl>,
    /// The earliest upload time over all files; `None` unless every file states one (an older
    /// file without a time would make the project look younger than it is).
    pub first_upload: Option<Timestamp>,
    /// The number of PEP 440 releases in PEP 700 `versions`; `None` when no index lists them.
    pub releases: Option<usize>,
}

impl OnlineVerdict {
    /// The message for [`crate::rules::UNKNOWN_PACKAGE`], or `None` when the project exists.
    pub fn missing_message(&self) -> Option<String> {
        match &self.presence {
            Presence::Missing { indexes } => {
                let list = indexes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(format!(
                    "`{}` does not exist on {list}: anyone can register it",
                    self.name
                ))
            }
            Presence::Exists(_) => None,
        }
    }

    pub fn facts(&self) -> Option<&ProjectFacts> {
        match &self.presence {
            Presence::Exists(facts) => Some(facts),
            Presence::Missing { .. } => None,
        }
    }
}

/// When a typosquat suspicion is raised to an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscalationPolicy {
    /// A project whose first upload is younger than this is "young".
    pub max_age: SignedDuration,
    /// ... and it must have at most this many releases.
    pub max_releases: usize,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            max_age: SignedDuration::from_hours(90 * 24),
            max_releases: 3,
        }
    }
}

/// Whether a suspicion about a project with `facts` becomes an error at time `now`: young
/// (first upload less than `max_age` ago) *and* few releases (at most `max_releases`). Unknown
/// age or release count never escalates.
pub fn should_escalate(facts: &ProjectFacts, now: Timestamp, policy: &EscalationPolicy) -> bool {
    let (Some(first), Some(releases)) = (facts.first_upload, facts.releases) else {
        return false;
    };
    let age = now.duration_since(first);
    age < policy.max_age && releases <= policy.max_releases
}

/// The severity a typosquat suspicion of `base` severity gets given the verdict: an error when
/// [`should_escalate`] says so, else unchanged.
pub fn escalate(
    base: Severity,
    verdict: &OnlineVerdict,
    now: Timestamp,
    policy: &EscalationPolicy,
) -> Severity {
    match verdict.facts() {
        Some(facts) if should_escalate(facts, now, policy) => Severity::Error,
        _ => base,
    }
}

/// Why a suspicion was escalated, for the finding's message: "first uploaded 12 days ago, 1
/// release".
pub fn escalation_reason(facts: &ProjectFacts, now: Timestamp) -> Option<String> {
    let first = facts.first_upload?;
    let releases = facts.releases?;
    let days = now.duration_since(first).as_hours().max(0) / 24;
    let s = |n: usize| if n == 1 { "" } else { "s" };
    Some(format!(
        "first uploaded {days} day{} ago, {releases} release{}",
        s(days as usize),
        s(releases)
    ))
}

/// The facts of a found project.
pub fn facts_of(project: &Project) -> ProjectFacts {
    let mut first_upload: Option<Timestamp> = None;
    let mut every_file_dated = true;
    let mut any_file = false;
    for file in project.files() {
        any_file = true;
        match file.upload_time {
            Some(t) => first_upload = Some(first_upload.map_or(t, |f| f.min(t))),
            None => every_file_dated = false,
        }
    }
    let mut listed = false;
    let mut versions = BTreeSet::new();
    for found in &project.pages {
        if let Some(all) = &found.page.versions {
            listed = true;
            versions.extend(
                all.iter()
                    .filter_map(|v| pep440_rs::Version::from_str(v).ok()),
            );
        }
    }
    ProjectFacts {
        found_on: project.pages.iter().map(|p| p.index.clone()).collect(),
        first_upload: first_upload.filter(|_| every_file_dated && any_file),
        releases: listed.then_some(versions.len()),
    }
}

/// Asks the indexes about every distinct normalised name in `names` (concurrently). The first
/// index error ends the check: a network failure must not pass for "missing". Names that are not
/// valid package names (non-ASCII look-alikes, stray punctuation) get no verdict: no index can
/// hold them, and `non-ascii-name` or the parsers already report them.
pub async fn check_online_async(
    client: &IndexClient,
    names: &[String],
) -> Result<Vec<OnlineVerdict>, IndexError> {
    let indexes = client.indexes();
    let mut verdicts = Vec::new();
    for (name, result) in client.projects(names).await {
        let presence = match result {
            Err(IndexError::InvalidName { .. }) => continue,
            Err(e) => return Err(e),
            Ok(None) => Presence::Missing {
                indexes: indexes.clone(),
            },
            Ok(Some(project)) => Presence::Exists(facts_of(&project)),
        };
        verdicts.push(OnlineVerdict { name, presence });
    }
    Ok(verdicts)
}

/// Blocking [`check_online_async`] for the binaries.
pub fn check_online(
    client: &BlockingIndexClient,
    names: &[String],
) -> Result<Vec<OnlineVerdict>, IndexError> {
    client.block_on(check_online_async(client.client(), names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(first: Option<&str>, releases: Option<usize>) -> ProjectFacts {
        ProjectFacts {
            found_on: Vec::new(),
            first_upload: first.map(|t| t.parse().unwrap()),
            releases,
        }
    }

    #[test]
    fn escalation_needs_young_and_few_releases() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let policy = EscalationPolicy::default();
        let young = Some("2026-05-20T00:00:00Z");
        let old = Some("2020-01-01T00:00:00Z");
        assert!(should_escalate(&facts(young, Some(1)), now, &policy));
        assert!(should_escalate(&facts(young, Some(3)), now, &policy));
        assert!(
            !should_escalate(&facts(young, Some(4)), now, &policy),
            "many releases"
        );
        assert!(!should_escalate(&facts(old, Some(1)), now, &policy), "old");
        assert!(
            !should_escalate(&facts(None, Some(1)), now, &policy),
            "age unknown"
        );
        assert!(
            !should_escalate(&facts(young, None), now, &policy),
            "count unknown"
        );
        // The boundary: exactly 90 days is no longer young.
        let ninety = Some("2026-03-03T00:00:00Z");
        assert!(!should_escalate(&facts(ninety, Some(1)), now, &policy));
        let eighty_nine = Some("2026-03-04T00:00:01Z");
        assert!(should_escalate(&facts(eighty_nine, Some(1)), now, &policy));
    }

    #[test]
    fn escalate_raises_only_existing_young_projects() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let policy = EscalationPolicy::default();
        let young = OnlineVerdict {
            name: "reqeusts".into(),
            presence: Presence::Exists(facts(Some("2026-05-31T00:00:00Z"), Some(1))),
        };
        assert_eq!(
            escalate(Severity::Warning, &young, now, &policy),
            Severity::Error
        );
        assert_eq!(
            escalation_reason(young.facts().unwrap(), now).as_deref(),
            Some("first uploaded 1 day ago, 1 release")
        );
        let missing = OnlineVerdict {
            name: "nope".into(),
            presence: Presence::Missing {
                indexes: vec![RedactedUrl::new(
                    "https://u:pw@idx.example/simple/".parse().unwrap(),
                )],
            },
        };
        assert_eq!(
            escalate(Severity::Warning, &missing, now, &policy),
            Severity::Warning
        );
        assert_eq!(
            missing.missing_message().unwrap(),
            "`nope` does not exist on https://u:****@idx.example/simple/: anyone can register it"
        );
    }
}
