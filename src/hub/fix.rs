//! `mlsupply-hub --fix --online`: pins unpinned Hugging Face calls to the commit `main` is at,
//! by adding `revision="<sha>"` (or replacing a branch, tag or short hash), every other byte kept.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser};

use super::online::{Answers, Located, RepoStatus, online_id};
use super::{Revision, is_full_commit};
use crate::rewrite::{self, NewContent};

/// One edit to one file: `range` of the original text becomes `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// A fetch that was pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pinned {
    pub path: String,
    pub line: u32,
    pub id: String,
    pub sha: String,
}

/// A fetch that could not be pinned, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfixed {
    pub path: String,
    pub line: u32,
    pub id: String,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct FixReport {
    /// Fetches pinned in the files written (none when a write failed).
    pub pinned: Vec<Pinned>,
    pub unfixed: Vec<Unfixed>,
    /// Files rewritten.
    pub written: Vec<PathBuf>,
    /// The file that could not be written, with the error; then no file was written.
    pub failed: Vec<(PathBuf, String)>,
    /// Rewritten files that had other hard links, which keep the old content.
    pub split_links: Vec<PathBuf>,
}

/// Pins every unpinned fetch whose id the hub resolved to a commit, and writes the files (all
/// or none, symlinks written through to their targets inside `root`).
pub fn fix(root: &Path, fetches: &[Located], answers: &Answers) -> FixReport {
    let mut report = FixReport::default();
    // Per file: its text, its absolute path, and its edits.
    let mut per_file: BTreeMap<String, (PathBuf, String, Vec<Edit>)> = BTreeMap::new();
    for located in fetches {
        let fetch = &located.fetch;
        let file = &located.file;
        let Some(id) = online_id(fetch) else { continue };
        let unfixed = |why: &str| Unfixed {
            path: file.rel_path.clone(),
            line: fetch.span.line,
            id: id.to_string(),
            why: why.to_string(),
        };
        match &fetch.revision {
            Revision::Literal(rev) if is_full_commit(rev) => continue,
            Revision::Dynamic => {
                report
                    .unfixed
                    .push(unfixed("the revision is computed at run time"));
                continue;
            }
            Revision::Unpinnable => {
                report.unfixed.push(unfixed(&format!(
                    "`{}` takes no revision; download with hf_hub_download(..., revision=...) instead",
                    fetch.api
                )));
                continue;
            }
            _ => {}
        }
        let sha = match answers.repo(fetch.kind, id) {
            Some(RepoStatus::Found { sha: Some(sha) }) => sha.clone(),
            Some(RepoStatus::Found { sha: None }) => {
                report
                    .unfixed
                    .push(unfixed("the hub gave no commit for its default branch"));
                continue;
            }
            Some(RepoStatus::Restricted) => {
                report.unfixed.push(unfixed(
                    "the repository is gated or private (set HF_TOKEN to read its commit)",
                ));
                continue;
            }
            Some(RepoStatus::Missing) => {
                report
                    .unfixed
                    .push(unfixed("the repository does not exist on the hub"));
                continue;
            }
            None => {
                report.unfixed.push(unfixed("the hub could not be asked"));
                continue;
            }
        };
        if file.rel_path.ends_with(".ipynb") {
            report.unfixed.push(unfixed(
                "notebooks are not rewritten; pin the revision by hand",
            ));
            continue;
        }
        if fetch.via.is_some() {
            report.unfixed.push(unfixed(
                "the id comes from a variable; pin the revision where the call is made",
            ));
            continue;
        }
        let Some(offset) = file.offset(fetch.span.line, fetch.span.column) else {
            report
                .unfixed
                .push(unfixed("its position is not in the file"));
            continue;
        };
        if !is_plain_literal(file.text.get(offset..).unwrap_or(""), id) {
            // `hf-hub:org/name`, `org/name@rev`, a name the library completes: the call's own
            // keywords may not be how that library takes a revision.
            report.unfixed.push(unfixed(
                "the id is not written as a plain string literal of the repository id",
            ));
            continue;
        }
        match edit_for(&file.text, offset, &sha) {
            Ok(edit) => {
                let edits = &mut per_file
                    .entry(file.rel_path.clone())
                    .or_insert_with(|| (file.abs_path.clone(), file.text.clone(), Vec::new()))
                    .2;
                match edits.iter().find(|e| e.range == edit.range) {
                    // Two ids of one call (`model=`, `tokenizer=`) share one `revision=`.
                    Some(same) if same.text == edit.text => {}
                    Some(_) => {
                        report.unfixed.push(unfixed(
                            "another id of the same call was pinned to a different commit, and one `revision=` cannot pin both",
                        ));
                        continue;
                    }
                    None => edits.push(edit),
                }
                report.pinned.push(Pinned {
                    path: file.rel_path.clone(),
                    line: fetch.span.line,
                    id: id.to_string(),
                    sha,
                });
            }
            Err(why) => report.unfixed.push(unfixed(why)),
        }
    }
    let mut rewritten: Vec<(PathBuf, String)> = Vec::new();
    for (_, (abs, text, mut edits)) in per_file {
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut new = text.clone();
        for edit in &edits {
            new.replace_range(edit.range.clone(), &edit.text);
        }
        if new != text {
            rewritten.push((abs, new));
        }
    }
    // Every file or none: a run that fails leaves the tree as it was.
    let files: Vec<NewContent<'_>> = rewritten
        .iter()
        .map(|(path, text)| NewContent {
            path,
            bytes: text.as_bytes(),
        })
        .collect();
    match rewrite::write_all(root, &files) {
        Ok(written) => {
            report.split_links = written.split_links;
            report.written = rewritten.into_iter().map(|(path, _)| path).collect();
        }
        Err(err) => {
            // No file was written, so nothing is pinned.
            report.pinned.clear();
            let message = err.describe(|path| path.display().to_string());
            report.failed.push((err.path, message));
        }
    }
    report
}

/// Whether `rest` starts with `id` in single or double quotes.
fn is_plain_literal(rest: &str, id: &str) -> bool {
    ['"', '\''].iter().any(|&q| {
        rest.strip_prefix(q)
            .and_then(|r| r.strip_prefix(id))
            .is_some_and(|r| r.starts_with(q))
    })
}

/// The edit that pins the call whose arguments contain byte `offset` (the id) to `sha`.
pub fn edit_for(source: &str, offset: usize, sha: &str) -> Result<Edit, &'static str> {
    if !is_full_commit(sha) {
        return Err("the hub's commit is not a 40-hex hash");
    }
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .map_err(|_| "the Python grammar could not be loaded")?;
    let tree = parser
        .parse(source, None)
        .ok_or("the file could not be parsed")?;
    let mut node = tree
        .root_node()
        .descendant_for_byte_range(offset, offset)
        .ok_or("no call at the id's position")?;
    // The innermost call whose argument list holds the id.
    let args = loop {
        if node.kind() == "argument_list" && node.parent().is_some_and(|p| p.kind() == "call") {
            break node;
        }
        node = node.parent().ok_or("the id is not an argument of a call")?;
    };
    if args.has_error() {
        return Err("the call has a syntax error");
    }
    let mut cursor = args.walk();
    let named: Vec<Node<'_>> = args.named_children(&mut cursor).collect();
    let quoted = format!("\"{sha}\"");
    for arg in &named {
        if arg.kind() == "keyword_argument"
            && let Some(name) = arg.child_by_field_name("name")
            && &source[name.byte_range()] == "revision"
        {
            let value = arg
                .child_by_field_name("value")
                .ok_or("`revision=` has no value")?;
            return Ok(Edit {
                range: value.byte_range(),
                text: quoted,
            });
        }
    }
    if named
        .iter()
        .any(|a| matches!(a.kind(), "list_splat" | "dictionary_splat"))
    {
        // `**kwargs` may already carry a revision: adding one would raise a TypeError.
        return Err("the call passes `*args` or `**kwargs`, which may carry a revision");
    }
    let last = named.last().ok_or("the call has no arguments")?;
    let at = last.end_byte();
    Ok(Edit {
        range: at..at,
        text: format!(", revision={quoted}"),
    })
}
