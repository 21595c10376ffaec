//! GitHub workflows (`.github/workflows/*.yml`) and composite actions (`action.yml`): the shell
//! script of every step's `run:`.
//!
//! Steps are found wherever a `steps:` list is (`jobs.<id>.steps` in workflows, `runs.steps` in
//! composite actions). Each `run:` value is mapped back to the file through
//! [`crate::yamlpos::Scalar::mapped`], so names in block scalars (`|`, `>`), plain and quoted
//! scalars get their own line and column. `${{ ... }}` expressions are left unexpanded and are
//! never taken for names. Steps whose `shell:` is `python` run Python, not a shell, and are skipped.

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
    for doc in &docs {
        visit(file, doc, &mut out);
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

fn visit(file: &SourceFile, node: &Node, out: &mut Extracted) {
    match node {
        Node::Map(entries, _) => {
            for (key, value) in entries {
                if key.as_str() == Some("steps")
                    && let Some(steps) = value.as_seq()
                {
                    for step in steps {
                        scan_step(file, step, out);
                    }
                } else {
                    visit(file, value, out);
                }
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                visit(file, item, out);
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
