//! `mlsupply-comment`: shows the pipeline's findings on the pull request, as one sticky comment,
//! the job summary, annotations and step outputs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use mlsupply::comment::context::{self, Env, Target};
use mlsupply::comment::github::{self, Client, Posted};
use mlsupply::comment::render::{self, Autofix, Links, Page};
use mlsupply::comment::{self as comment, Counts, Merged};
use mlsupply::exit::Exit;
use mlsupply::finding::{Finding, Severity};
use mlsupply::output::{self, Format, JsonReport, Report, sanitize_terminal};
use mlsupply::source::SourceMap;

/// Reports larger than this are refused: a report can come from an untrusted artifact.
const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Parser, Debug)]
#[command(name = "mlsupply-comment", version)]
/// Reads the JSON reports of mlsupply-pin, mlsupply-typo, mlsupply-hub and `mlsupply check`,
/// merges them, and reports them on the pull request: one sticky comment (edited in place on
/// every run), the job summary, annotations and step outputs.
///
/// Reads GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_TOKEN,
/// GITHUB_STEP_SUMMARY and GITHUB_OUTPUT. With a read-only token (forks, Dependabot) the report
/// goes to the summary and annotations instead, and the exit code is the same.
///
/// Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 unusable input or
/// an API error other than a permissions refusal.
struct Cli {
    /// JSON reports (`--format json`), or `-` for standard input.
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<String>,

    /// Print the comment body (Markdown) to standard output; no API call, no token needed.
    #[arg(long)]
    dry_run: bool,

    /// Do not touch the pull request: only the job summary, annotations and outputs.
    #[arg(long)]
    no_comment: bool,

    /// Names this configuration's comment (one comment per pull request and id).
    #[arg(long, value_name = "NAME", default_value = "default")]
    id: String,

    /// An auto-fix commit pushed to the head branch (full sha): the comment links it.
    #[arg(long, value_name = "SHA", conflicts_with = "autofix_refused")]
    autofix_commit: Option<String>,

    /// Why the auto-fix could not be pushed: the comment shows the diffs as suggestions.
    #[arg(long, value_name = "REASON")]
    autofix_refused: Option<String>,

    /// Also write every merged finding to this SARIF 2.1.0 file.
    #[arg(long, value_name = "PATH")]
    sarif: Option<PathBuf>,

    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    fail_on: FailOn,

    /// The pull request to comment on, for a workflow_run event (the two-workflow pattern).
    /// Its head commit must be --head-sha.
    #[arg(long, value_name = "NUMBER", requires = "head_sha")]
    pr: Option<u64>,

    /// The commit the reports are about (the workflow_run's head_sha), with --pr.
    #[arg(long, value_name = "SHA", requires = "pr")]
    head_sha: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::read(|name| std::env::var(name).ok());
    match run(&cli, &env) {
        Ok(exit) => exit.into(),
        Err(err) => {
            let message = format!("{err:#}");
            let message = match &env.token {
                Some(token) => token.redact(&message),
                None => message,
            };
            eprintln!("mlsupply-comment: error: {message}");
            Exit::Error.into()
        }
    }
}

fn run(cli: &Cli, env: &Env) -> anyhow::Result<Exit> {
    if !render::valid_id(&cli.id) {
        anyhow::bail!(
            "--id must be 1 to 64 letters, digits, '.', '_' or '-', not {:?}",
            sanitize_terminal(&cli.id)
        );
    }
    let autofix = match (&cli.autofix_commit, &cli.autofix_refused) {
        (Some(sha), _) if !context::valid_sha(sha) => anyhow::bail!(
            "--autofix-commit must be a full commit sha (40 or 64 hex digits), not {:?}",
            sanitize_terminal(sha)
        ),
        (Some(sha), _) => Autofix::Pushed(sha.to_ascii_lowercase()),
        (None, Some(reason)) => Autofix::Refused(reason.clone()),
        (None, None) => Autofix::None,
    };
    let reports = read_reports(&cli.reports)?;
    let merged = comment::merge(&reports);
    let findings: Vec<Finding> = merged.items.iter().map(|i| i.finding.clone()).collect();
    let exit = match cli.fail_on.severity() {
        Some(severity) => Exit::for_findings(&findings, severity),
        None => Exit::Clean,
    };

    let payload = context::read_payload(env)?;
    let target = context::target(env, payload.as_ref(), cli.pr, cli.head_sha.as_deref())?;
    let links = links(env, &target, &autofix);
    let run_url = env.run_url();
    if let Some(path) = &cli.sarif {
        write_sarif(path, &findings)?;
    }
    let page = Page {
        merged: &merged,
        links: links.as_ref(),
        autofix: &autofix,
        run_url: run_url.as_deref(),
        sarif: cli.sarif.is_some(),
    };
    let marker = render::marker(&cli.id);
    let body = render::comment(&page, &marker);

    let mut stdout = std::io::stdout().lock();
    if cli.dry_run {
        stdout.write_all(body.as_bytes())?;
        stdout.flush()?;
    } else {
        // Annotations: errors first, each level capped, then a notice counting the rest.
        let report = Report {
            tool: "mlsupply",
            findings: &findings,
            rules: &[],
            sources: &SourceMap::default(),
        };
        output::render(Format::Github, &report, &mut stdout, false)?;
        stdout.flush()?;
    }

    let outcome = if cli.dry_run {
        Outcome::skipped("--dry-run: the comment was printed, not posted")
    } else if cli.no_comment {
        Outcome::skipped("--no-comment: the pull request is not commented on")
    } else {
        post(env, &target, &marker, &body, &merged, &autofix)
    };
    for line in &outcome.log {
        eprintln!("mlsupply-comment: {line}");
    }

    if let Some(path) = &env.step_summary {
        let summary = render::summary(&page, outcome.note.as_deref());
        append(path, &format!("{summary}\n"))
            .map_err(|e| anyhow::anyhow!("cannot write the job summary {}: {e}", path.display()))?;
    }
    if let Some(path) = &env.output {
        let counts = Counts::of(&findings);
        let mut outputs = format!(
            "findings={}\nerrors={}\nwarnings={}\nnotes={}\n",
            counts.total(),
            counts.errors,
            counts.warnings,
            counts.notes
        );
        if let Some(url) = &outcome.url {
            outputs.push_str(&format!("comment-url={url}\n"));
        }
        append(path, &outputs).map_err(|e| {
            anyhow::anyhow!("cannot write the step outputs {}: {e}", path.display())
        })?;
    }
    Ok(if outcome.failed { Exit::Error } else { exit })
}

/// What happened to the comment.
struct Outcome {
    /// The comment's URL, when one was created, edited or already up to date.
    url: Option<String>,
    /// A line for the job summary (Markdown, our own text).
    note: Option<String>,
    /// Lines for the log.
    log: Vec<String>,
    /// An API error other than a permissions refusal.
    failed: bool,
}

impl Outcome {
    fn skipped(why: &str) -> Outcome {
        Outcome {
            url: None,
            note: None,
            log: vec![why.to_string()],
            failed: false,
        }
    }

    /// No comment for lack of permission: the summary and annotations carry the report.
    fn fallback(why: &str) -> Outcome {
        Outcome {
            url: None,
            note: Some(format!(
                "> [!NOTE]\n> No comment was posted on the pull request: {why}. The full report \
                 is below and in the annotations."
            )),
            log: vec![format!(
                "no comment posted: {why}; the report is in the job summary and the annotations"
            )],
            failed: false,
        }
    }
}

fn post(
    env: &Env,
    target: &Target,
    marker: &str,
    body: &str,
    merged: &Merged,
    autofix: &Autofix,
) -> Outcome {
    let pr = match target {
        Target::None(why) => return Outcome::skipped(&format!("no comment: {why}")),
        Target::PullRequest(pr) => pr,
    };
    if let Some(why) = &pr.read_only {
        return Outcome::fallback(why);
    }
    let Some(token) = &env.token else {
        return Outcome::fallback("GITHUB_TOKEN is not set");
    };
    let Some(repo) = env.repo() else {
        return Outcome::fallback("GITHUB_REPOSITORY is not set to owner/name");
    };
    // An auto-fix commit is news even when nothing is left to report: the PR must hear of it.
    let all_clear = merged.items.is_empty()
        && merged.fixes.is_empty()
        && !matches!(autofix, Autofix::Pushed(_));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return failed(format!("cannot start the HTTP client: {err}")),
    };
    let result = runtime.block_on(async {
        let client = Client::new(&env.api_url, repo, token)?;
        if pr.verify_head {
            let head = client.pull_head_sha(pr.number).await?;
            if head != pr.head_sha {
                return Ok(Err(format!(
                    "refusing to comment: the head of pull request #{} is {}, not --head-sha {} \
                     (the report is about another commit)",
                    pr.number,
                    sanitize_terminal(&head),
                    pr.head_sha
                )));
            }
        }
        github::sticky(&client, pr.number, marker, body, all_clear)
            .await
            .map(Ok)
    });
    match result {
        Ok(Ok(sticky)) => {
            let mut log: Vec<String> = sticky.warnings.clone();
            if sticky.deleted > 0 {
                log.push(format!(
                    "deleted {} duplicate comment(s) left by concurrent runs",
                    sticky.deleted
                ));
            }
            let (what, url) = match &sticky.posted {
                Posted::Created { url } => ("created", Some(url)),
                Posted::Updated { url } => ("updated", Some(url)),
                Posted::Unchanged { url } => ("already up to date", Some(url)),
                Posted::NothingToClear => ("not created: all clear, and no earlier comment", None),
            };
            let url = url.filter(|u| context::valid_http_url(u)).cloned();
            log.push(format!(
                "comment on pull request #{} {what}{}",
                pr.number,
                url.as_deref().map(|u| format!(": {u}")).unwrap_or_default()
            ));
            Outcome {
                note: url
                    .as_ref()
                    .map(|u| format!("This report is also [on the pull request]({u}).")),
                url,
                log,
                failed: false,
            }
        }
        Ok(Err(refusal)) => failed(refusal),
        Err(err) if err.is_permission() => Outcome::fallback(&format!(
            "the token may not comment ({})",
            token.redact(&err.to_string())
        )),
        Err(err) => failed(token.redact(&format!("GitHub API: {err}"))),
    }
}

fn failed(message: String) -> Outcome {
    Outcome {
        url: None,
        note: Some(
            "> [!WARNING]\n> The pull request comment could not be posted; see the log. The \
             full report is below."
                .to_string(),
        ),
        log: vec![format!("error: {message}")],
        failed: true,
    }
}

/// Links point at the auto-fix commit when one was pushed (the checks ran on it), else at the
/// pull request's head commit, else at `GITHUB_SHA`.
fn links(env: &Env, target: &Target, autofix: &Autofix) -> Option<Links> {
    let repo = env.repo()?;
    if !context::valid_http_url(&env.server_url) {
        return None;
    }
    let sha = match (autofix, target) {
        (Autofix::Pushed(sha), _) => sha.clone(),
        (_, Target::PullRequest(pr)) => pr.head_sha.clone(),
        (_, Target::None(_)) => env.sha.clone().filter(|s| context::valid_sha(s))?,
    };
    Some(Links {
        server: env.server_url.clone(),
        repo: repo.to_string(),
        sha,
    })
}

fn read_reports(names: &[String]) -> anyhow::Result<Vec<JsonReport>> {
    if names.iter().filter(|n| *n == "-").count() > 1 {
        anyhow::bail!("standard input (`-`) can be given only once");
    }
    let mut reports = Vec::new();
    for name in names {
        let (shown, text) = if name == "-" {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_REPORT_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
            ("standard input".to_string(), text)
        } else {
            let path = Path::new(name);
            let shown = sanitize_terminal(name).into_owned();
            // A regular file only: a FIFO or a device must not hang or flood the run.
            let text = mlsupply::files::read_named(path, MAX_REPORT_BYTES)
                .and_then(|bytes| String::from_utf8(bytes).map_err(std::io::Error::other))
                .map_err(|e| anyhow::anyhow!("cannot read report {shown}: {e}"))?;
            (shown, text)
        };
        if text.len() as u64 > MAX_REPORT_BYTES {
            anyhow::bail!(
                "report {shown} is larger than {} MiB",
                MAX_REPORT_BYTES / 1024 / 1024
            );
        }
        let report =
            output::read_json(&text).map_err(|e| anyhow::anyhow!("report {shown}: {e}"))?;
        reports.push(report);
    }
    Ok(reports)
}

fn write_sarif(path: &Path, findings: &[Finding]) -> anyhow::Result<()> {
    let report = Report {
        tool: "mlsupply",
        findings,
        rules: &[],
        sources: &SourceMap::default(),
    };
    let mut bytes = Vec::new();
    output::render(Format::Sarif, &report, &mut bytes, false)?;
    std::fs::write(path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write SARIF to {}: {e}", path.display()))
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
        assert!(Cli::try_parse_from(["mlsupply-comment"]).is_err());
        assert!(Cli::try_parse_from(["mlsupply-comment", "--pr", "3", "r.json"]).is_err());
        let sha = "a".repeat(40);
        let cli = Cli::try_parse_from([
            "mlsupply-comment",
            "--pr",
            "3",
            "--head-sha",
            &sha,
            "--fail-on",
            "never",
            "a.json",
            "-",
        ])
        .unwrap();
        assert_eq!(
            (cli.pr, cli.fail_on, cli.reports.len()),
            (Some(3), FailOn::Never, 2)
        );
        assert!(
            Cli::try_parse_from([
                "mlsupply-comment",
                "--autofix-commit",
                &sha,
                "--autofix-refused",
                "fork",
                "r.json"
            ])
            .is_err()
        );
    }
}
