//! conda environment files (`environment.yml`): the `pip:` list under `dependencies:`.
//!
//! Plain `dependencies:` entries are conda packages from conda channels, not PyPI, and are
//! skipped. Each `pip:` entry is one line of a pip requirements file: a requirement (its name is
//! taken, paths and URLs are skipped) or an option line (`-r file` and `-c file` become includes
//! resolved against the environment file's directory, which is what conda passes to pip;
//! `--index-url URL`, `-e path` and the like are skipped).

use super::cmd_text::MappedText;
use super::commands;
use super::{DeclaredDep, Extracted};
use crate::source::SourceFile;
use crate::yamlpos::{self, Node};

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let docs = match yamlpos::parse(&file.text) {
        Ok(docs) => docs,
        Err(error) => {
            out.findings.push(super::workflow::yaml_error(file, &error));
            return out;
        }
    };
    for doc in &docs {
        let Some(deps) = doc.get("dependencies").and_then(Node::as_seq) else {
            continue;
        };
        for dep in deps {
            let Some(pip) = dep.get("pip").and_then(Node::as_seq) else {
                continue;
            };
            for entry in pip.iter().filter_map(Node::as_scalar) {
                let line = entry.mapped(&file.text);
                pip_line(file, &line, &mut out);
            }
        }
    }
    out
}

fn pip_line(file: &SourceFile, line: &MappedText, out: &mut Extracted) {
    let line = line.trim();
    // A requirements-file comment ends the line.
    let end = line
        .as_str()
        .find(" #")
        .or_else(|| line.as_str().starts_with('#').then_some(0))
        .unwrap_or(line.len());
    let line = line.slice(0..end).trim();
    if line.as_str().starts_with('-') {
        commands::scan_pip_arguments(file, &line, out);
    } else if let Some(range) = commands::requirement_name(line.as_str()) {
        out.deps.push(DeclaredDep {
            name: line.as_str()[range.clone()].to_string(),
            span: line.span(file, range),
        });
    }
}
