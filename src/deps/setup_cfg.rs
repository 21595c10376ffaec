//! `setup.cfg` (setuptools declarative config): `[options]` `install_requires`,
//! `setup_requires`, `tests_require`, every key of `[options.extras_require]`, and the
//! legacy `[metadata] requires-dist` that older `wheel` releases copied into wheels.
//!
//! The file is INI as Python's `configparser` reads it: `key = value` or `key: value`,
//! values continued on lines indented deeper than their key, whole-line `#`/`;` comments
//! (also inside a value), blank lines allowed inside a value, duplicate sections and options
//! refused. No crate reads INI this way while keeping byte positions, hence the small scanner
//! below. Values are then split as setuptools does: a one-line value at `;`, a multi-line value
//! per line, ` #` starting a comment. `file: a.txt, b.txt` points at requirements files: each
//! becomes an [`Include`] to follow.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Component, Path};

use super::manifest_pep508::{push_requirement_lines, shorten};
use super::manifest_text::DecodedStr;
use super::{Extracted, Include};
use crate::finding::Finding;
use crate::rules;
use crate::source::SourceFile;

/// The `[options]` keys that hold requirements (setuptools also accepts dashes).
const REQUIREMENT_OPTIONS: &[&str] = &["install_requires", "setup_requires", "tests_require"];

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    for option in scan(file, &mut out) {
        let key = option.key.replace('-', "_");
        let place = match option.section.as_str() {
            "options" if REQUIREMENT_OPTIONS.contains(&key.as_str()) => {
                format!("[options] {}", option.key)
            }
            "options.extras_require" => format!("[options.extras_require] {}", option.key),
            // Read by `wheel`'s bdist_wheel (before 0.31) into the wheel's Requires-Dist.
            "metadata" if key == "requires_dist" => format!("[metadata] {}", option.key),
            _ => continue,
        };
        read_requirements(&mut out, file, &option, &place);
    }
    out.deps.sort_by_key(|dep| dep.span);
    out.findings.sort_by_key(|finding| finding.span());
    out
}

/// One `key = value` of an INI file, with where each part of it is written.
#[derive(Debug)]
struct IniOption {
    section: String,
    key: String,
    line: u32,
    /// The value on the key's own line (possibly empty).
    first: Range<usize>,
    /// Each continuation line, stripped.
    more: Vec<Range<usize>>,
}

/// Reads every option of `file`; malformed lines become findings and are skipped.
fn scan(file: &SourceFile, out: &mut Extracted) -> Vec<IniOption> {
    let mut options: Vec<IniOption> = Vec::new();
    let mut section: Option<String> = None;
    let mut seen_sections: HashSet<String> = HashSet::new();
    let mut seen_keys: HashSet<(String, String)> = HashSet::new();
    // Indent of the option being read, while its value may still continue.
    let mut open: Option<usize> = None;

    for line_no in 1..=file.line_count() {
        let Some(range) = file.line_range(line_no) else {
            continue;
        };
        let line = &file.text[range.clone()];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let content = range.start + indent..range.start + indent + trimmed.len();
        if let (Some(option_indent), Some(option)) = (open, options.last_mut())
            && indent > option_indent
        {
            option.more.push(content);
            continue;
        }
        open = None;

        if trimmed.starts_with('[')
            && let Some(close) = trimmed.rfind(']')
            && close > 1
        {
            let name = trimmed[1..close].to_string();
            if !seen_sections.insert(name.clone()) {
                out.findings.push(error(
                    file,
                    content,
                    &name,
                    format!(
                        "section [{}] appears twice; setuptools (configparser) refuses the file",
                        shorten(&name, 80)
                    ),
                ));
            }
            section = Some(name);
            continue;
        }

        let Some(delimiter) = trimmed.find(['=', ':']) else {
            out.findings.push(error(
                file,
                content,
                &file.rel_path,
                "not a [section], a `key = value` option or a comment".to_string(),
            ));
            continue;
        };
        let key = trimmed[..delimiter].trim_end();
        if key.is_empty() {
            out.findings.push(error(
                file,
                content,
                &file.rel_path,
                "an option with no name before its `=`".to_string(),
            ));
            continue;
        }
        let Some(section) = section.clone() else {
            out.findings.push(error(
                file,
                content,
                key,
                format!("option `{}` comes before any [section]", shorten(key, 80)),
            ));
            continue;
        };
        if !seen_keys.insert((section.clone(), key.to_string())) {
            out.findings.push(error(
                file,
                content.clone(),
                key,
                format!(
                    "option `{}` appears twice in [{}]; setuptools (configparser) refuses the file",
                    shorten(key, 80),
                    shorten(&section, 80)
                ),
            ));
        }
        let after = &trimmed[delimiter + 1..];
        let value = after.trim();
        let value_start = content.start + delimiter + 1 + (after.len() - after.trim_start().len());
        options.push(IniOption {
            section,
            key: key.to_string(),
            line: line_no,
            first: value_start..value_start + value.len(),
            more: Vec::new(),
        });
        open = Some(indent);
    }
    options
}

/// Records the requirements an option's value declares.
fn read_requirements(out: &mut Extracted, file: &SourceFile, option: &IniOption, place: &str) {
    let first = &file.text[option.first.clone()];
    if let Some(paths) = first.strip_prefix("file:") {
        include_files(out, file, option, paths, option.first.start + 5);
    } else if option.more.is_empty() {
        // setuptools splits a one-line value at `;` (so a marker there splits it too).
        let mut start = option.first.start;
        for part in first.split(';') {
            let mut text = DecodedStr::new();
            text.push_verbatim(part, start);
            push_requirement_lines(out, file, &text, place);
            start += part.len() + 1;
        }
        return;
    } else if !first.is_empty() {
        let mut text = DecodedStr::new();
        text.push_verbatim(first, option.first.start);
        push_requirement_lines(out, file, &text, place);
    }
    for line in &option.more {
        let mut text = DecodedStr::new();
        text.push_verbatim(&file.text[line.clone()], line.start);
        push_requirement_lines(out, file, &text, place);
    }
}

/// `file: a.txt, b.txt`: requirements files relative to `setup.cfg`'s directory. setuptools
/// refuses files outside that directory, and so do we (a scanned repository must not make us
/// read `/etc/...`).
fn include_files(
    out: &mut Extracted,
    file: &SourceFile,
    option: &IniOption,
    paths: &str,
    paths_start: usize,
) {
    let line_span = file
        .line_range(option.line)
        .map_or_else(|| file.span(option.first.clone()), |r| file.span(r));
    let base = file.abs_path.parent().unwrap_or(Path::new(""));
    let mut offset = paths_start;
    for written in paths.split(',') {
        let range = offset + (written.len() - written.trim_start().len())
            ..offset + written.trim_end().len();
        offset += written.len() + 1;
        let written = written.trim();
        if written.is_empty() {
            continue;
        }
        let path = Path::new(written);
        let escapes = path.is_absolute()
            || path
                .components()
                .try_fold(0usize, |depth, c| match c {
                    Component::ParentDir => depth.checked_sub(1),
                    Component::Normal(_) => Some(depth + 1),
                    _ => Some(depth),
                })
                .is_none();
        if escapes {
            out.findings.push(error(
                file,
                range,
                written,
                format!(
                    "`file: {}` points outside the project directory; setuptools refuses it and it was not read",
                    shorten(written, 80)
                ),
            ));
            continue;
        }
        out.includes.push(Include {
            path: base.join(path),
            written: written.to_string(),
            constraint: false,
            span: line_span,
        });
    }
}

fn error(file: &SourceFile, range: Range<usize>, subject: &str, message: String) -> Finding {
    Finding::at(
        &rules::PARSE_ERROR,
        file,
        file.span(range),
        shorten(subject, 80),
        format!("invalid setup.cfg: {message}"),
    )
}
