//! Jupyter notebooks: install commands in code cells.
//!
//! Read in code cells only (markdown and raw cells are text): `%pip install` and `%uv pip install`
//! magics, `!` shell escapes (`!pip install`, `!python -m pip install`,
//! `!{sys.executable} -m pip install`, `!uv pip install`, with `&&` chains), `%system`/`%sx`, and
//! whole `%%bash`/`%%sh` cells. `%conda`/`%mamba` install conda packages, not PyPI ones, and are
//! skipped. Positions are mapped through the JSON string escapes back to the `.ipynb` text by
//! [`crate::notebookjson`]; the shell side is [`super::commands`].

use super::Extracted;
use super::cmd_text::MappedText;
use super::commands;
use crate::finding::Finding;
use crate::notebookjson;
use crate::rules;
use crate::source::SourceFile;

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let (cells, problems) = match notebookjson::parse_cells(file) {
        Ok(parsed) => parsed,
        Err(error) => {
            out.findings.push(Finding::at(
                &rules::PARSE_ERROR,
                file,
                error.span,
                file.rel_path.clone(),
                format!("{} (line {})", error.message, error.span.line),
            ));
            return out;
        }
    };
    for problem in problems {
        out.findings.push(Finding::at(
            &rules::PARSE_ERROR,
            file,
            problem.span,
            file.rel_path.clone(),
            problem.message,
        ));
    }
    for cell in cells.iter().filter(|c| c.cell_type == "code") {
        scan_cell(file, &cell.source, &mut out);
    }
    out
}

/// The shell part of an IPython line that runs a command, if it is one.
fn command_of(line: &MappedText) -> Option<MappedText> {
    let text = line.as_str();
    let indent = text.len() - text.trim_start().len();
    let body = &text[indent..];
    if let Some(rest) = body.strip_prefix('!') {
        // `!!cmd` captures output; it runs `cmd` all the same.
        let skip = 1 + usize::from(rest.starts_with('!'));
        return Some(line.slice(indent + skip..text.len()));
    }
    let rest = body.strip_prefix('%')?;
    let magic = rest.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    match magic {
        // `%pip install x` runs `pip install x` in the kernel's environment.
        "pip" | "uv" => Some(line.slice(indent + 1..text.len())),
        "system" | "sx" => Some(line.slice(indent + 1 + magic.len()..text.len())),
        _ => None,
    }
}

fn scan_cell(file: &SourceFile, source: &MappedText, out: &mut Extracted) {
    let lines = source.lines();
    let first = lines.iter().position(|l| !l.as_str().trim().is_empty());
    if let Some(first) = first {
        let head = lines[first].as_str().trim();
        if let Some(magic) = head.strip_prefix("%%") {
            let mut words = magic.split_whitespace();
            match words.next().unwrap_or("") {
                "bash" | "sh" => {
                    commands::scan_script(file, &lines[first + 1..], out);
                    return;
                }
                "script" if matches!(words.next(), Some("bash" | "sh" | "zsh")) => {
                    commands::scan_script(file, &lines[first + 1..], out);
                    return;
                }
                // Cells of other languages or files being written are not run as Python.
                "capture" | "time" | "timeit" | "prun" => {}
                _ => return,
            }
        }
    }
    let mut n = 0;
    while n < lines.len() {
        let line = &lines[n];
        n += 1;
        let Some(mut command) = command_of(line) else {
            continue;
        };
        // IPython joins a trailing `\` with the next line.
        while command.as_str().trim_end().ends_with('\\') && n < lines.len() {
            let keep = command.as_str().trim_end().len() - 1;
            let mut joined = command.slice(0..keep);
            joined.push_mapped(&lines[n], 0..lines[n].len());
            command = joined;
            n += 1;
        }
        commands::scan_line(file, &command, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(json: &str) -> Vec<(String, u32, u32)> {
        let file = SourceFile::new("n.ipynb", "n.ipynb", json.to_string());
        let out = extract(&file);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        out.deps
            .iter()
            .map(|d| (d.name.clone(), d.span.line, d.span.column))
            .collect()
    }

    #[test]
    fn capture_cells_indented_bangs_and_nbformat_3() {
        let v4 = r#"{"cells": [{"cell_type": "code", "source": ["%%capture\n", "%pip install a\n", "if True:\n", "    ! pip install b\n", "%system pip install c\n", "%%bash\n", "pip install notbash\n"]}]}"#;
        let got: Vec<String> = names(v4).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(got, ["a", "b", "c"]);
        let v3 = "{\"worksheets\": [{\"cells\": [\n{\"cell_type\": \"code\", \"input\": [\"!pip install old\"]}]}]}";
        assert_eq!(names(v3), [("old".to_string(), 2, 47)]);
    }

    #[test]
    fn bad_cells_are_reported_and_the_rest_is_read() {
        let json = "{\"cells\": [\n{\"cell_type\": \"code\", \"source\": 5},\n{\"cell_type\": \"code\", \"source\": \"!pip install ok\"}]}";
        let file = SourceFile::new("n.ipynb", "n.ipynb", json.to_string());
        let out = extract(&file);
        assert_eq!(out.deps.len(), 1);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].line, 2);
        assert_eq!(out.findings[0].rule, "parse-error");
        let not_nb = SourceFile::new("n.ipynb", "n.ipynb", "{\"a\": 1}".to_string());
        assert!(extract(&not_nb).findings[0].message.contains("no `cells`"));
    }
}
