//! Hub ids in YAML and JSON configuration files (training recipes, LLaMA-Factory, axolotl,
//! lm-eval, PEFT adapter configs): `model_name_or_path`, `base_model`, `model`,
//! `adapter_name_or_path`, `tokenizer_name`, with `revision`/`model_revision` and
//! `trust_remote_code` read from the same mapping.

use super::{Fetch, Hub, RepoId, Revision, Scanned};
use crate::deps::workflow::yaml_error;
use crate::source::SourceFile;
use crate::yamlpos::{self, Node};

/// Keys whose value is a model id (or a local path, which `judge` sets aside).
const MODEL_KEYS: &[&str] = &[
    "model_name_or_path",
    "base_model",
    "model",
    "adapter_name_or_path",
    "tokenizer_name",
    "base_model_name_or_path",
];

const REVISION_KEYS: &[&str] = &["revision", "model_revision"];

pub fn wants(rel_path: &str) -> bool {
    let lower = rel_path.to_ascii_lowercase();
    (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
        && !rel_path.contains(".github/")
}

/// The fetches named in one YAML or JSON file.
pub fn scan_file(file: &SourceFile) -> Scanned {
    let mut out = Scanned::default();
    if !MODEL_KEYS.iter().any(|k| file.text.contains(k)) {
        return out;
    }
    let docs = match yamlpos::parse(&file.text) {
        Ok(docs) => docs,
        Err(error) => {
            // The same finding the dependency walk gives for this file, so `mlsupply check`
            // reports it once.
            out.findings.push(yaml_error(file, &error));
            return out;
        }
    };
    for doc in &docs {
        walk(file, doc, &mut out);
    }
    out
}

fn is_true(node: Option<&Node>) -> bool {
    node.and_then(Node::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether `value` can be a hub id at all: `name` or `org/name`, hub characters only.
fn hub_shaped(value: &str, key: &str) -> bool {
    let ok_chars = value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    let slashes = value.matches('/').count();
    // `model:` is a generic key (`model: gpt-4`, `model: resnet`): only `org/name` counts there.
    let min_slashes = if key == "model" { 1 } else { 0 };
    !value.is_empty() && ok_chars && slashes >= min_slashes && slashes <= 1
}

fn walk(file: &SourceFile, node: &Node, out: &mut Scanned) {
    match node {
        Node::Map(entries, _) => {
            for (key, value) in entries {
                let Some(key_s) = key.as_str() else { continue };
                if MODEL_KEYS.contains(&key_s)
                    && let Some(scalar) = value.as_scalar()
                    && hub_shaped(scalar.value.trim(), key_s)
                {
                    let id = scalar.value.trim().to_string();
                    let mapped = scalar.mapped(&file.text);
                    let span = mapped.span(file, 0..mapped.len());
                    let mut fetch = Fetch::new(
                        Hub::HuggingFace,
                        format!("`{key_s}:`"),
                        RepoId::Known(id),
                        span,
                    );
                    fetch.revision = REVISION_KEYS
                        .iter()
                        .find_map(|k| node.get(k))
                        .and_then(Node::as_str)
                        .map_or(Revision::Absent, |r| Revision::Literal(r.to_string()));
                    fetch.trust_remote_code = is_true(node.get("trust_remote_code"));
                    // Loaders such as transformers take a missing local directory for a hub id.
                    fetch.path_fallback = true;
                    out.fetches.push(fetch);
                } else {
                    walk(file, value, out);
                }
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                walk(file, item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_give_revision_and_remote_code() {
        let text =
            "model_name_or_path: Qwen/Qwen2-7B\nmodel_revision: main\ntrust_remote_code: true\n";
        let s = scan_file(&SourceFile::new("a.yaml", "a.yaml", text.to_string()));
        assert_eq!(s.fetches.len(), 1);
        assert_eq!(s.fetches[0].revision, Revision::Literal("main".into()));
        assert!(s.fetches[0].trust_remote_code);
        assert_eq!(s.fetches[0].span.column, 21);
    }

    #[test]
    fn generic_model_key_needs_a_namespace() {
        let text = "{\"model\": \"gpt-4\", \"x\": {\"model\": \"org-a/m\"}}";
        let s = scan_file(&SourceFile::new("a.json", "a.json", text.to_string()));
        assert_eq!(s.fetches.len(), 1);
        assert_eq!(s.fetches[0].id, RepoId::Known("org-a/m".into()));
    }
}
