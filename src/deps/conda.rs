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
use crate::yamlpos::{self, Scalar, Step};

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    // Read from the parser's events, not a tree: an environment file of a million entries
    // would take several times its size as one.
    // Entries are read as they come, so that none is held longer than its line.
    let mut reader = PipEntries::default();
    let read = yamlpos::parse_steps(&file.text, &mut |step| {
        reader.step(step);
        for entry in reader.entries.drain(..) {
            pip_line(file, &entry.mapped(&file.text), &mut out);
        }
    });
    if let Err(error) = read {
        // Malformed YAML gives only the error, as a file that does not parse says nothing.
        out = Extracted::default();
        out.findings.push(super::workflow::yaml_error(file, &error));
    }
    out
}

/// What a node is, for finding `dependencies:` → `- pip:` → its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A document's top-level node.
    Top,
    /// The value of the top-level `dependencies` key.
    Dependencies,
    /// An item of `dependencies`.
    Dependency,
    /// The value of a dependency's `pip` key.
    Pip,
    Other,
}

#[derive(Debug)]
enum Frame {
    /// A mapping; `value` is the role of the value to come, `None` while a key is next. Only the
    /// first key of a name counts, as when a tree is looked up.
    Map {
        role: Role,
        value: Option<Role>,
        seen_key: bool,
    },
    Seq(Role),
}

/// The scalar entries of every `pip:` list, in file order.
#[derive(Debug, Default)]
struct PipEntries {
    stack: Vec<Frame>,
    entries: Vec<Scalar>,
}

impl PipEntries {
    /// The role of the node that starts now, and the mapping it is in is told a node came.
    fn next_role(&mut self, key: Option<&str>) -> Role {
        match self.stack.last_mut() {
            None => Role::Top,
            Some(Frame::Seq(Role::Dependencies)) => Role::Dependency,
            Some(Frame::Seq(_)) => Role::Other,
            Some(Frame::Map {
                role,
                value,
                seen_key,
            }) => match value.take() {
                Some(role) => role,
                None => {
                    let wanted = match role {
                        Role::Top => "dependencies",
                        Role::Dependency => "pip",
                        _ => "",
                    };
                    let found = !wanted.is_empty() && key == Some(wanted) && !*seen_key;
                    *seen_key |= found;
                    *value = Some(match (found, *role) {
                        (true, Role::Top) => Role::Dependencies,
                        (true, _) => Role::Pip,
                        (false, _) => Role::Other,
                    });
                    // The key itself.
                    Role::Other
                }
            },
        }
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Scalar(scalar) => {
                let in_pip = matches!(self.stack.last(), Some(Frame::Seq(Role::Pip)));
                self.next_role(Some(&scalar.value));
                if in_pip {
                    self.entries.push(scalar);
                }
            }
            Step::Alias => {
                self.next_role(None);
            }
            Step::MapStart => {
                let role = self.next_role(None);
                self.stack.push(Frame::Map {
                    role,
                    value: None,
                    seen_key: false,
                });
            }
            Step::SeqStart => {
                let role = self.next_role(None);
                self.stack.push(Frame::Seq(role));
            }
            Step::End => {
                self.stack.pop();
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yamlpos::Node;

    /// The `pip:` entries found by looking them up in the tree, as the reader did before.
    fn from_tree(text: &str) -> Vec<Scalar> {
        let mut entries = Vec::new();
        for doc in yamlpos::parse(text).unwrap() {
            let Some(deps) = doc.get("dependencies").and_then(Node::as_seq) else {
                continue;
            };
            for dep in deps {
                if let Some(pip) = dep.get("pip").and_then(Node::as_seq) {
                    entries.extend(pip.iter().filter_map(Node::as_scalar).cloned());
                }
            }
        }
        entries
    }

    #[test]
    fn the_event_reader_finds_what_a_tree_lookup_finds() {
        let texts = [
            "name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - torch\n    - 'einops'\n",
            // Only the first `dependencies` and the first `pip` key of a mapping count.
            "dependencies:\n  - pip: [a, b]\n    pip: [no]\ndependencies:\n  - pip: [no]\n",
            "dependencies: 3\n---\ndependencies:\n  - {pip: [c, {d: e}, [f], g]}\n",
            // Keys and lists elsewhere are not entries.
            "pip: [no]\nother:\n  dependencies:\n    - pip: [no]\n? [complex, key]\n: v\ndependencies:\n  - x: {pip: [no]}\n  - [pip, no]\n  - pip:\n      - h\n",
            "- dependencies:\n  - pip: [no]\n",
            "anchor: &a [no]\ndependencies:\n  - pip: *a\n  - pip:\n    - *a\n    - i\n",
            "",
        ];
        for text in texts {
            let mut reader = PipEntries::default();
            yamlpos::parse_steps(text, &mut |step| reader.step(step)).unwrap();
            assert_eq!(reader.entries, from_tree(text), "{text:?}");
            assert!(
                reader.entries.iter().all(|e| e.value != "no"),
                "{text:?}: {:?}",
                reader.entries
            );
        }
    }
}
