//! GitHub workflows (`.github/workflows/*.yml`) and composite actions (`action.yml`): the shell
//! script of every step's `run:`.
//!
//! Steps are found wherever a `steps:` list is (`jobs.<id>.steps` in workflows, `runs.steps` in
//! composite actions). Each `run:` value is mapped back to the file through
//! [`crate::yamlpos::Scalar::mapped`], so names in block scalars (`|`, `>`), plain and quoted
//! scalars get their own line and column. `${{ ... }}` expressions are left unexpanded and are
//! never taken for names. Steps whose `shell:` is `python` run Python, not a shell, and are skipped.
//!
//! `-r`/`-c` files are resolved against the directory the step runs in, not against the workflow
//! file: GitHub runs steps in the workspace (the repository root), or in the step's, job's or
//! workflow's `working-directory` when one is given as plain text.

use std::path::{Path, PathBuf};

use super::Extracted;
use super::commands;
use crate::finding::Finding;
use crate::rules;
use crate::source::SourceFile;
use crate::yamlpos::{self, Node};

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let docs = match yamlpos::parse(&file.text) {
        Ok(docs) => docs,
        Err(error) => {
            out.findings.push(yaml_error(file, &error));
            return out;
        }
    };
    let root = repository_root(file);
    for doc in &docs {
        visit(file, &root, doc, None, &mut out);
    }
    out
}

/// A `parse-error` finding for malformed YAML.
pub fn yaml_error(file: &SourceFile, error: &yamlpos::YamlError) -> Finding {
    let span = file.span(error.offset..error.offset);
    Finding::at(
        &rules::PARSE_ERROR,
        file,
        span,
        file.rel_path.clone(),
        format!("malformed YAML: {} (line {})", error.message, span.line),
    )
}

/// The scanned root: `abs_path` with as many components removed as `rel_path` has.
fn repository_root(file: &SourceFile) -> PathBuf {
    let mut root = file.abs_path.clone();
    for _ in file.rel_path.split('/').filter(|c| !c.is_empty()) {
        root.pop();
    }
    root
}

/// `defaults: run: working-directory:` of a workflow or job, if plain text.
fn default_working_directory(node: &Node) -> Option<&str> {
    node.get("defaults")?
        .get("run")?
        .get("working-directory")?
        .as_str()
}

fn visit<'a>(
    file: &SourceFile,
    root: &Path,
    node: &'a Node,
    working_directory: Option<&'a str>,
    out: &mut Extracted,
) {
    let working_directory = default_working_directory(node).or(working_directory);
    match node {
        Node::Map(entries, _) => {
            for (key, value) in entries {
                if key.as_str() == Some("steps")
                    && let Some(steps) = value.as_seq()
                {
                    for step in steps {
                        let before = out.includes.len();
                        scan_step(file, step, out);
                        let dir = step
                            .get("working-directory")
                            .and_then(Node::as_str)
                            .or(working_directory);
                        let base = match dir {
                            Some(dir) if !dir.contains("${{") => root.join(dir),
                            _ => root.to_path_buf(),
                        };
                        // Commands resolved includes against the workflow's directory (and
                        // any `cd` in the script); move them to the step's directory.
                        let file_dir = file.abs_path.parent().unwrap_or(Path::new(""));
                        for include in &mut out.includes[before..] {
                            let rel = include
                                .path
                                .strip_prefix(file_dir)
                                .map(Path::to_path_buf)
                                .unwrap_or_else(|_| PathBuf::from(&include.written));
                            include.path = base.join(rel);
                        }
                    }
                } else {
                    visit(file, root, value, working_directory, out);
                }
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                visit(file, root, item, working_directory, out);
            }
        }
        _ => {}
    }
}

fn scan_step(file: &SourceFile, step: &Node, out: &mut Extracted) {
    let Some(run) = step.get("run").and_then(Node::as_scalar) else {
        return;
    };
    let shell = step.get("shell").and_then(Node::as_str).unwrap_or("");
    if shell
        .split_whitespace()
        .next()
        .is_some_and(|s| s.starts_with("python"))
    {
        return;
    }
    let script = run.mapped(&file.text);
    commands::scan_script(file, &script.lines(), out);
}
