//! The sticky comment and the job summary, as Markdown. Pure: data in, `String` out.
//!
//! Both show the same report: a headline, counts by tool and severity, the auto-fix status,
//! then findings grouped by file (each linked to its line at the head commit) with each file's
//! proposed fix as a diff. Groups longer than [`FOLD_AFTER`] findings and long diffs are folded
//! in `<details>`. Each channel has a [`Budget`]: GitHub rejects a comment over 65,536
//! characters and drops a job summary over 1 MiB, so output stops at a finding boundary before
//! the budget, closes whatever `<details>` is open, and ends with what was left out and where
//! it can be found. Every string from a report is escaped with [`super::markdown`].

use std::collections::BTreeMap;

use super::markdown::{self, code, html, message, text, truncate};
use super::{Counts, Item, Merged, plural};
use crate::finding::Severity;
use crate::output::Fix;

/// Groups with more findings than this are folded.
pub const FOLD_AFTER: usize = 8;
/// Diffs with more lines than this are folded.
const FOLD_DIFF_AFTER: usize = 15;
/// Longest diff shown, in characters; the rest of its lines are counted, not shown.
const MAX_DIFF_CHARS: usize = 20_000;
/// Longest message, suggestion, rule or path shown, in characters.
const MAX_MESSAGE: usize = 1_000;
const MAX_SUGGESTION: usize = 500;
const MAX_NAME: usize = 200;
/// Longest path linked, in bytes (GitHub's own limit on a path is 4,096).
const MAX_LINKED_PATH: usize = 1_000;
/// Tools listed in the counts table at most (a report names its tool; a hostile report could
/// name thousands).
const MAX_TOOLS: usize = 20;
/// Room kept for the closing tags and the closing note about what was left out.
const RESERVE: usize = 2_000;

/// How a channel's size is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Characters, counted as UTF-16 code units: an astral character (an emoji) counts twice,
    /// so the count is never below GitHub's, whichever of the two it uses.
    Chars,
    Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub limit: usize,
    pub unit: Unit,
}

impl Budget {
    fn measure(&self, text: &str) -> usize {
        match self.unit {
            Unit::Chars => text.encode_utf16().count(),
            Unit::Bytes => text.len(),
        }
    }
}

/// A comment body: GitHub's limit is 65,536 characters; this leaves room to spare.
pub const COMMENT_BUDGET: Budget = Budget {
    limit: 60_000,
    unit: Unit::Chars,
};
/// A job summary: GitHub's limit is 1 MiB per step.
pub const SUMMARY_BUDGET: Budget = Budget {
    limit: 900 * 1024,
    unit: Unit::Bytes,
};

/// Where links point: `<server>/<repo>/blob/<sha>/<path>#L<line>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    /// `https://github.com`, or a GitHub Enterprise Server; no trailing slash.
    pub server: String,
    /// `owner/name`, already validated.
    pub repo: String,
    /// The commit findings point into (the pull request's head), already validated as hex.
    pub sha: String,
}

impl Links {
    /// The file at the commit, at `line` when not 0; `None` for a path too long to link (a
    /// hostile report could make every link eat the whole budget).
    pub fn blob(&self, path: &str, line: u32) -> Option<String> {
        if path.len() > MAX_LINKED_PATH {
            return None;
        }
        let mut url = format!(
            "{}/{}/blob/{}/{}",
            self.server,
            self.repo,
            self.sha,
            markdown::url_path(path)
        );
        if line > 0 {
            url.push_str(&format!("#L{line}"));
        }
        Some(url)
    }

    pub fn commit(&self, sha: &str) -> String {
        format!("{}/{}/commit/{sha}", self.server, self.repo)
    }
}

/// What the action's auto-fix step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Autofix {
    #[default]
    None,
    /// A commit pushed to the head branch (a validated hex sha).
    Pushed(String),
    /// Why nothing was pushed (fork, refused push, default branch); from the action, escaped.
    Refused(String),
}

/// Everything a page shows.
#[derive(Clone, Debug)]
pub struct Page<'a> {
    pub merged: &'a Merged,
    pub links: Option<&'a Links>,
    pub autofix: &'a Autofix,
    /// This workflow run's page, where the job summary is.
    pub run_url: Option<&'a str>,
    /// Whether a SARIF file with every finding was written.
    pub sarif: bool,
}

/// `<!-- mlsupply:report v1 id=NAME -->`: the first line of our comment, how a later run finds it.
pub fn marker(id: &str) -> String {
    format!("<!-- mlsupply:report v1 id={id} -->")
}

/// Whether `id` is usable in the marker: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The sticky comment: `marker` first, the report, within [`COMMENT_BUDGET`]. With no finding
/// and no fix it is the short all-clear a previous comment is edited to.
pub fn comment(page: &Page, marker: &str) -> String {
    render(page, Some(marker), None, COMMENT_BUDGET, Channel::Comment)
}

/// The job summary: the same report within [`SUMMARY_BUDGET`], with `note` (already Markdown,
/// e.g. why no comment was posted) under the headline.
pub fn summary(page: &Page, note: Option<&str>) -> String {
    render(page, None, note, SUMMARY_BUDGET, Channel::Summary)
}

/// One file's findings and proposed fix.
type Group<'a> = (Vec<&'a Item>, Option<&'a Fix>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Comment,
    Summary,
}

fn render(
    page: &Page,
    marker: Option<&str>,
    note: Option<&str>,
    budget: Budget,
    channel: Channel,
) -> String {
    let merged = page.merged;
    let counts = Counts::of(merged.items.iter().map(|i| &i.finding));
    let mut out = Writer::new(budget);
    if let Some(marker) = marker {
        out.push(&format!("{marker}\n"));
    }
    // A note (ours, short) goes right under the headline.
    let note = note.map(|n| format!("{n}\n\n")).unwrap_or_default();
    if merged.items.is_empty() && merged.fixes.is_empty() {
        out.push("### ✅ mlsupply: all clear\n\n");
        out.push(&note);
        let at = match page.links {
            Some(links) => format!(
                " at [{}]({})",
                code(&links.sha[..links.sha.len().min(7)]),
                links.commit(&links.sha)
            ),
            None => String::new(),
        };
        out.push(&format!(
            "No supply-chain findings in the latest run{at}.\n"
        ));
        if *page.autofix != Autofix::None {
            out.push("\n");
        }
        push_autofix(&mut out, page);
        return out.finish();
    }

    let files = merged
        .items
        .iter()
        .map(|i| i.finding.path.as_str())
        .chain(merged.fixes.iter().map(|f| f.path.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let icon = match (counts.errors, counts.warnings, counts.notes) {
        (1.., _, _) => "🔴",
        (0, 1.., _) => "🟡",
        (0, 0, 1..) => "🔵",
        (0, 0, 0) => "🔧",
    };
    out.push(&format!(
        "### {icon} mlsupply: {} in {}\n\n",
        if counts.total() > 0 {
            counts.describe()
        } else {
            "proposed fixes".to_string()
        },
        plural(files, "file")
    ));
    out.push(&note);
    push_tool_table(&mut out, &merged.items);
    push_autofix(&mut out, page);

    // Findings grouped by file, each group followed by its file's fix. Files with errors come
    // first, then warnings, notes, and fixes alone, so that a cut drops the least important.
    let mut by_path: BTreeMap<&str, Group> = BTreeMap::new();
    for item in &merged.items {
        by_path.entry(&item.finding.path).or_default().0.push(item);
    }
    for fix in &merged.fixes {
        by_path.entry(&fix.path).or_default().1 = Some(fix);
    }
    let mut groups: Vec<(&str, Group)> = by_path.into_iter().collect();
    groups.sort_by_key(|(_, (items, _))| {
        std::cmp::Reverse(items.iter().map(|i| i.finding.severity).max())
    });
    let mut left = Counts::default();
    let mut left_fixes = 0;
    for (path, (items, fix)) in &groups {
        if out.full {
            items.iter().for_each(|i| left.add(i.finding.severity));
            left_fixes += usize::from(fix.is_some());
            continue;
        }
        push_group(
            &mut out,
            page,
            path,
            items,
            *fix,
            &mut left,
            &mut left_fixes,
        );
    }
    if left.total() > 0 || left_fixes > 0 {
        push_left_out(&mut out, page, channel, left, left_fixes);
    }
    out.finish()
}

fn push_tool_table(out: &mut Writer, items: &[Item]) {
    let mut by_tool: BTreeMap<&str, Counts> = BTreeMap::new();
    for item in items {
        by_tool
            .entry(&item.tool)
            .or_default()
            .add(item.finding.severity);
    }
    if by_tool.is_empty() {
        return;
    }
    let mut table = String::from("| Tool | Errors | Warnings | Notes |\n|---|---:|---:|---:|\n");
    for (tool, counts) in by_tool.iter().take(MAX_TOOLS) {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            text(&truncate(tool, 64)),
            counts.errors,
            counts.warnings,
            counts.notes
        ));
    }
    if by_tool.len() > MAX_TOOLS {
        let rest = Counts::of(
            items
                .iter()
                .filter(|i| by_tool.keys().take(MAX_TOOLS).all(|t| *t != i.tool))
                .map(|i| &i.finding),
        );
        table.push_str(&format!(
            "| {} more tools | {} | {} | {} |\n",
            by_tool.len() - MAX_TOOLS,
            rest.errors,
            rest.warnings,
            rest.notes
        ));
    }
    table.push('\n');
    out.push(&table);
}

fn push_autofix(out: &mut Writer, page: &Page) {
    match page.autofix {
        Autofix::None => {}
        Autofix::Pushed(sha) => {
            let short = code(&sha[..sha.len().min(7)]);
            let shown = match page.links {
                Some(links) => format!("[{short}]({})", links.commit(sha)),
                None => short,
            };
            out.push(&format!(
                "🔧 **Auto-fix:** commit {shown} was pushed to this branch: it pins the \
                 requirements that were not pinned and hashed, and the checks below ran on it. \
                 Pushes made with `GITHUB_TOKEN` start no new workflow runs: push another \
                 commit, or re-run the checks, to have them run on it.\n\n"
            ));
        }
        Autofix::Refused(reason) => {
            out.push(&format!(
                "🔧 **Auto-fix was not pushed:** {}. The diffs below are suggestions: apply \
                 them by hand, or run `mlsupply-pin --fix` and commit the result.\n\n",
                text(&truncate(reason, MAX_MESSAGE))
            ));
        }
    }
}

fn push_group(
    out: &mut Writer,
    page: &Page,
    path: &str,
    items: &[&Item],
    fix: Option<&Fix>,
    left: &mut Counts,
    left_fixes: &mut usize,
) {
    let shown_path = truncate(path, MAX_NAME);
    let heading = match page.links.and_then(|links| links.blob(path, 0)) {
        Some(url) => format!("#### [{}]({url})\n\n", code(&shown_path)),
        None => format!("#### {}\n\n", code(&shown_path)),
    };
    let fold = items.len() > FOLD_AFTER;
    let (open, close) = if fold {
        (
            format!(
                "<details><summary>{} in <code>{}</code></summary>\n\n",
                plural(items.len(), "finding"),
                html(&shown_path)
            ),
            "\n</details>\n\n",
        )
    } else {
        (String::new(), "\n")
    };
    let mut shown = 0;
    if !items.is_empty() && out.fits(&format!("{heading}{open}"), close) {
        out.push(&heading);
        out.push(&open);
        for item in items {
            let entry = entry(page, item);
            if !out.fits(&entry, close) {
                break;
            }
            out.push(&entry);
            shown += 1;
        }
        out.push(close);
    } else if items.is_empty() {
        if out.fits(&heading, "") {
            out.push(&heading);
        } else {
            out.full = true;
        }
    }
    if shown < items.len() {
        out.full = true;
        items[shown..]
            .iter()
            .for_each(|i| left.add(i.finding.severity));
    }
    if let Some(fix) = fix {
        let block = diff_block(fix, &shown_path);
        if !out.full && out.fits(&block, "") {
            out.push(&block);
        } else {
            out.full = true;
            *left_fixes += 1;
        }
    }
}

/// One finding: severity, rule, line link, message, then the suggestion.
fn entry(page: &Page, item: &Item) -> String {
    let f = &item.finding;
    let icon = match f.severity {
        Severity::Error => "🔴",
        Severity::Warning => "🟡",
        Severity::Note => "🔵",
    };
    let place = match (page.links.and_then(|l| l.blob(&f.path, f.line)), f.line) {
        (_, 0) => String::new(),
        (Some(url), line) => format!(" [line {line}]({url})"),
        (None, line) => format!(" line {line}"),
    };
    let mut entry = format!(
        "- {icon} **{}** {}{place}: {}\n",
        f.severity,
        code(&truncate(&f.rule, MAX_NAME)),
        message(&truncate(&f.message, MAX_MESSAGE))
    );
    if let Some(suggestion) = &f.suggestion {
        let suggestion = truncate(suggestion, MAX_SUGGESTION);
        let suggestion = suggestion.trim_end();
        if suggestion.contains('\n') {
            // A multi-line suggestion is text to paste (a pinned requirement with its hashes):
            // a code block keeps its lines, indented to stay inside the list item.
            entry.push_str("  - 💡 suggested:\n\n");
            for line in markdown::fenced("", suggestion).lines() {
                entry.push_str(&format!("    {line}\n"));
            }
        } else {
            entry.push_str(&format!("  - 💡 {}\n", message(suggestion)));
        }
    }
    entry
}

/// A file's proposed fix: the diff in a fence no line of it can close, folded when long,
/// cut at a line boundary when very long.
fn diff_block(fix: &Fix, shown_path: &str) -> String {
    let mut diff = String::new();
    let mut size = 0;
    let lines: Vec<&str> = fix.diff.lines().collect();
    let mut kept = 0;
    for line in &lines {
        size += line.chars().count() + 1;
        if size > MAX_DIFF_CHARS {
            break;
        }
        diff.push_str(line);
        diff.push('\n');
        kept += 1;
    }
    let mut block = markdown::fenced("diff", &diff);
    if kept < lines.len() {
        block.push_str(&format!(
            "\n… {} more lines of this diff: run `mlsupply-pin --diff` to see it whole.\n",
            lines.len() - kept
        ));
    }
    // Inside `<summary>` (an HTML block) the path is HTML; in a paragraph it is Markdown.
    if lines.len() > FOLD_DIFF_AFTER {
        format!(
            "<details><summary>Proposed fix for <code>{}</code> (what <code>mlsupply-pin \
             --fix</code> writes)</summary>\n\n{block}\n</details>\n\n",
            html(shown_path)
        )
    } else {
        format!(
            "Proposed fix for {} (what `mlsupply-pin --fix` writes):\n\n{block}\n",
            code(shown_path)
        )
    }
}

fn push_left_out(out: &mut Writer, page: &Page, channel: Channel, left: Counts, fixes: usize) {
    let mut what = Vec::new();
    if left.total() > 0 {
        what.push(format!(
            "{} ({})",
            plural(left.total(), "finding"),
            left.describe()
        ));
    }
    if fixes > 0 {
        what.push(if fixes == 1 {
            "1 proposed fix".to_string()
        } else {
            format!("{fixes} proposed fixes")
        });
    }
    let (limit, elsewhere) = match channel {
        Channel::Comment => {
            let summary = match page.run_url {
                Some(url) => format!("[the job summary of this run]({url})"),
                None => "the job summary of this run".to_string(),
            };
            let sarif = if page.sarif {
                " and in the SARIF file it wrote"
            } else {
                ""
            };
            (
                "GitHub's 65,536-character limit on comments",
                format!("Every finding is in {summary}{sarif}."),
            )
        }
        Channel::Summary => (
            "GitHub's 1 MiB limit on job summaries",
            if page.sarif {
                "Every finding is in the SARIF file this run wrote.".to_string()
            } else {
                "Run the checks with `--format json` or `--format sarif` to see every finding."
                    .to_string()
            },
        ),
    };
    out.push(&format!(
        "---\n**Not shown here: {}**, to stay within {limit}. {elsewhere}\n",
        what.join(" and ")
    ));
}

/// Output with a running size, so that checking the budget costs nothing per finding.
struct Writer {
    out: String,
    len: usize,
    budget: Budget,
    /// Something did not fit: everything after it is counted, not shown.
    full: bool,
}

impl Writer {
    fn new(budget: Budget) -> Writer {
        Writer {
            out: String::new(),
            len: 0,
            budget,
            full: false,
        }
    }

    /// Whether `text`, then `closing`, still leave [`RESERVE`] for the note about what was left
    /// out.
    fn fits(&self, text: &str, closing: &str) -> bool {
        self.len + self.budget.measure(text) + self.budget.measure(closing) + RESERVE
            <= self.budget.limit
    }

    fn push(&mut self, text: &str) {
        self.len += self.budget.measure(text);
        self.out.push_str(text);
    }

    fn finish(self) -> String {
        self.out
    }
}
