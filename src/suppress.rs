//! Inline ignores: `# mlsupply: ignore[rule-id, other-rule] reason` on the offending line.
//!
//! # Grammar
//!
//! ```text
//! ignore  = "# mlsupply: ignore[" rule-id *( "," *SP rule-id ) "]" [ 1*WSP reason ]
//! rule-id = 1*( a-z / 0-9 ) *( "-" 1*( a-z / 0-9 ) )    ; spaces around an id are allowed
//! ```
//!
//! The comment may sit anywhere on a physical line, after a `#` (the comment character of every
//! file kind we read). Spacing and case are fixed, as in zizmor: `#mlsupply:ignore[x]`,
//! `# MLSupply: Ignore[x]` or `# mlsupply: ignore [x]` suppress nothing and are reported as
//! `invalid-ignore`, like an empty or malformed rule list or text glued to the `]`. Only the first
//! `# mlsupply` comment on a line counts; anything after it is part of its reason.
//!
//! In a notebook (`.ipynb`) the comment is inside a JSON string on that line of the file: it ends
//! at the string's closing quote or at an escaped newline (`\n`), so the reason never includes
//! the `\n",` tail, and JSON escapes in the reason are decoded.
//!
//! # What applies and what is reported
//!
//! An ignore on line L suppresses the findings of its rules, in the same file, whose span
//! (`line..=end_line`) contains L. A missing reason still suppresses but is reported as an
//! `invalid-ignore` warning, as is an unknown rule id. An ignore of a rule that belongs to a tool
//! that did not run is neither applied nor reported: another binary is responsible for it. One
//! that suppressed nothing is reported as `unused-ignore`.
//!
//! `unused-ignore` and `invalid-ignore` are about the ignore comments themselves and are produced
//! after suppression, so they cannot be ignored inline: naming them in an ignore is itself an
//! `invalid-ignore` (fix or remove the comment instead).

use std::collections::HashMap;
use std::ops::Range;

use crate::finding::Finding;
use crate::rules::{self, Rule, Tool};
use crate::source::{SourceFile, SourceMap};

/// The canonical prefix; everything before the rule list.
const PREFIX: &str = "# mlsupply: ignore[";

/// Longest piece of scanned text echoed into a message.
const MAX_ECHO: usize = 60;

/// A well-formed ignore comment on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Byte range of the comment in the line, from its `#` to its last non-blank character.
    pub range: Range<usize>,
    /// The rule ids in the order written (duplicates removed).
    pub rules: Vec<String>,
    /// The text after the `]`, trimmed; `None` when there is none.
    pub reason: Option<String>,
}

/// The `# mlsupply` comment found on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Ignore(Directive),
    /// Looks like an ignore but does not follow the grammar: it suppresses nothing.
    Malformed {
        range: Range<usize>,
        /// What is wrong, for the `invalid-ignore` message.
        problem: String,
        /// The text between the brackets, if there are brackets (the finding's subject).
        rules_text: String,
    },
}

/// The `# mlsupply` comment on one physical line (without its line ending), if there is one.
/// `in_json_string`: the line is part of a JSON document and the comment sits in a string
/// (notebooks).
pub fn parse_line(line: &str, in_json_string: bool) -> Option<Parsed> {
    let start = line
        .match_indices('#')
        .map(|(i, _)| i)
        .find(|&i| is_candidate(&line[i + 1..]))?;
    let end = if in_json_string {
        json_comment_end(line, start)
    } else {
        line.len()
    };
    let comment = line[start..end].trim_end();
    let range = start..start + comment.len();
    Some(parse_comment(comment, range, in_json_string))
}

/// `#` followed by `mlsupply` and then `:` or `ignore` (spacing and case free): meant as an
/// ignore, so it is either valid or reported, never silently dropped.
fn is_candidate(after_hash: &str) -> bool {
    let rest = after_hash.trim_start_matches([' ', '\t']);
    let Some(rest) = strip_prefix_ignore_case(rest, "mlsupply") else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.starts_with(':') || strip_prefix_ignore_case(rest, "ignore").is_some()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Where a comment that starts at `start` inside a JSON string ends: at the closing quote or at
/// an escaped line break (a new line of the cell's source).
fn json_comment_end(line: &str, start: usize) -> usize {
    let bytes = line.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return i,
            b'\\' if matches!(bytes.get(i + 1), Some(b'n' | b'r')) => return i,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    line.len()
}

fn parse_comment(comment: &str, range: Range<usize>, json: bool) -> Parsed {
    let malformed = |problem: &str, rules_text: &str| Parsed::Malformed {
        range: range.clone(),
        problem: problem.to_string(),
        rules_text: rules_text.to_string(),
    };
    let bracketed = |text: &str| -> String {
        match (text.find('['), text.find(']')) {
            (Some(open), Some(close)) if open < close => text[open + 1..close].to_string(),
            _ => String::new(),
        }
    };
    let Some(rest) = comment.strip_prefix(PREFIX) else {
        return malformed(
            "write it exactly as `# mlsupply: ignore[rule-id] reason` (one space after `#` and after `:`, lower case, no space before `[`)",
            &bracketed(comment),
        );
    };
    let Some(close) = rest.find(']') else {
        return malformed("the rule list has no closing `]`", "");
    };
    let (list, after) = (&rest[..close], &rest[close + 1..]);
    let mut ids: Vec<String> = Vec::new();
    for id in list.split(',') {
        let id = id.trim_matches(' ');
        if id.is_empty() {
            let problem = if list.trim().is_empty() {
                "the rule list is empty"
            } else {
                "the rule list has an empty entry (a stray comma?)"
            };
            return malformed(problem, list);
        }
        if !is_rule_id(id) {
            return malformed(
                &format!(
                    "`{}` is not a rule id (lower-case letters, digits and single dashes; separate ids with commas)",
                    echo(id)
                ),
                list,
            );
        }
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_string());
        }
    }
    let reason = match after.chars().next() {
        None => None,
        Some(c) if c == ' ' || c == '\t' => {
            let reason = after.trim();
            (!reason.is_empty()).then(|| {
                if json {
                    unescape_json(reason)
                } else {
                    reason.to_string()
                }
            })
        }
        Some(_) => {
            return malformed("put a space between `]` and the reason", list);
        }
    };
    Parsed::Ignore(Directive {
        range,
        rules: ids,
        reason,
    })
}

fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Decodes the JSON escapes of a piece of a JSON string (a reason written in a notebook).
fn unescape_json(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

/// Scanned text, cut short for a message.
fn echo(text: &str) -> String {
    if text.chars().count() <= MAX_ECHO {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_ECHO).collect();
    short.push('…');
    short
}

/// One rule named by one ignore comment that this run is responsible for.
struct Active<'a> {
    file: &'a SourceFile,
    line: u32,
    comment: usize,
    rule: &'static Rule,
    used: bool,
}

/// An ignore comment found in a scanned file.
struct Comment<'a> {
    file: &'a SourceFile,
    line: u32,
    /// Byte range of the comment in the file.
    range: Range<usize>,
    directive: Directive,
}

/// Drops the findings that an inline ignore on one of their lines suppresses, and adds an
/// `unused-ignore` note for each ignore (of a rule owned by one of `tools`) that suppressed
/// nothing, and an `invalid-ignore` warning for each malformed one.
pub fn apply(findings: Vec<Finding>, sources: &SourceMap, tools: &[Tool]) -> Vec<Finding> {
    let in_scope = |rule: &Rule| rule.tool == Tool::Core || tools.contains(&rule.tool);
    let mut reports: Vec<Finding> = Vec::new();
    let mut comments: Vec<Comment> = Vec::new();
    let mut active: Vec<Active> = Vec::new();

    for file in sources.iter() {
        let notebook = file.rel_path.to_ascii_lowercase().ends_with(".ipynb");
        for line in 1..=file.line_count() {
            let (Some(text), Some(line_range)) = (file.line(line), file.line_range(line)) else {
                continue;
            };
            if !text.contains('#') {
                continue;
            }
            let Some(parsed) = parse_line(text, notebook) else {
                continue;
            };
            let offset = line_range.start;
            match parsed {
                Parsed::Malformed {
                    range,
                    problem,
                    rules_text,
                } => {
                    let span = file.span(offset + range.start..offset + range.end);
                    reports.push(Finding::at(
                        &rules::INVALID_IGNORE,
                        file,
                        span,
                        rules_text,
                        format!("malformed ignore comment, so it suppresses nothing: {problem}"),
                    ));
                }
                Parsed::Ignore(directive) => {
                    let index = comments.len();
                    let comment = Comment {
                        file,
                        line,
                        range: offset + directive.range.start..offset + directive.range.end,
                        directive,
                    };
                    let mut responsible = false;
                    for id in &comment.directive.rules {
                        let span = file.span(comment.range.clone());
                        match rules::find(id) {
                            None => {
                                responsible = true;
                                reports.push(Finding::at(
                                    &rules::INVALID_IGNORE,
                                    file,
                                    span,
                                    id.as_str(),
                                    format!("unknown rule `{id}` in ignore comment"),
                                ));
                            }
                            Some(rule)
                                if rule == &rules::UNUSED_IGNORE
                                    || rule == &rules::INVALID_IGNORE =>
                            {
                                responsible = true;
                                reports.push(Finding::at(
                                    &rules::INVALID_IGNORE,
                                    file,
                                    span,
                                    id.as_str(),
                                    format!(
                                        "`{id}` cannot be ignored inline: fix or remove the ignore comment it is about"
                                    ),
                                ));
                            }
                            Some(rule) if in_scope(rule) => {
                                responsible = true;
                                active.push(Active {
                                    file,
                                    line,
                                    comment: index,
                                    rule,
                                    used: false,
                                });
                            }
                            // Another tool's rule: that tool applies and reports it.
                            Some(_) => {}
                        }
                    }
                    if responsible && comment.directive.reason.is_none() {
                        reports.push(Finding::at(
                            &rules::INVALID_IGNORE,
                            file,
                            file.span(comment.range.clone()),
                            comment.directive.rules.join(", "),
                            "ignore comment without a reason: say why after the `]` (it still applies)",
                        ));
                    }
                    comments.push(comment);
                }
            }
        }
    }

    // (path, rule id) -> indices into `active`.
    let mut by_key: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, entry) in active.iter().enumerate() {
        by_key
            .entry((entry.file.rel_path.as_str(), entry.rule.id))
            .or_default()
            .push(index);
    }
    let mut kept = Vec::with_capacity(findings.len() + reports.len());
    for finding in findings {
        let mut suppressed = false;
        if let Some(indices) = by_key.get(&(finding.path.as_str(), finding.rule.as_str())) {
            let last = finding.end_line.max(finding.line);
            for &index in indices {
                let entry = &mut active[index];
                if (finding.line..=last).contains(&entry.line) {
                    entry.used = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(finding);
        }
    }

    for (index, comment) in comments.iter().enumerate() {
        let unused: Vec<&str> = active
            .iter()
            .filter(|entry| entry.comment == index && !entry.used)
            .map(|entry| entry.rule.id)
            .collect();
        if unused.is_empty() {
            continue;
        }
        let names = unused
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ");
        reports.push(Finding::at(
            &rules::UNUSED_IGNORE,
            comment.file,
            comment.file.span(comment.range.clone()),
            unused.join(", "),
            format!(
                "ignore comment suppresses nothing: no {names} finding covers line {}; remove it",
                comment.line
            ),
        ));
    }
    kept.extend(reports);
    kept
}
