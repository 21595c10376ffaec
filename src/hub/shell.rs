//! Hub downloads in shell commands: shell scripts, Dockerfile `RUN`, Makefile recipes, GitHub
//! workflow `run:` steps and notebook `!`/`%%bash` lines.
//!
//! Each surface is cut into logical command lines (continuations joined, every byte still
//! mapped into the file) and split by the position-keeping tokenizer of
//! [`crate::deps::cmd_shell`]. Commands that fetch from a hub (`hf download`,
//! `huggingface-cli download`, `git clone https://huggingface.co/...`, `ollama pull hf.co/...`,
//! `wget`/`curl` of `.../resolve/<rev>/<file>`) become [`Fetch`]es; `VAR=value` and
//! `export VAR=value` are remembered so that a later `$VAR` or `${VAR}` resolves, and
//! `HF_ENDPOINT=...` becomes an endpoint [`Hazard`]. Nothing is executed.

use std::collections::HashMap;

use super::{Fetch, Hazard, HazardKind, Hub, RepoId, RepoKind, Revision, Scanned};
use crate::deps::cmd_shell::{self, Token, Word};
use crate::deps::cmd_text::MappedText;
use crate::deps::workflow::yaml_error;
use crate::finding::Span;
use crate::source::SourceFile;
use crate::yamlpos::{self, Node};

/// The command surfaces this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Shell,
    Dockerfile,
    Makefile,
    Workflow,
}

/// Which command surface `rel_path` is, if any.
pub fn surface(rel_path: &str) -> Option<Surface> {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    let lower = name.to_ascii_lowercase();
    if rel_path.contains(".github/workflows/")
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
    {
        return Some(Surface::Workflow);
    }
    if lower == "dockerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
        || lower == "containerfile"
    {
        return Some(Surface::Dockerfile);
    }
    if matches!(name, "Makefile" | "makefile" | "GNUmakefile") || lower.ends_with(".mk") {
        return Some(Surface::Makefile);
    }
    if [".sh", ".bash", ".zsh"]
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        return Some(Surface::Shell);
    }
    None
}

pub fn wants(rel_path: &str) -> bool {
    surface(rel_path).is_some()
}

/// Words without which no line can fetch from a hub.
fn may_fetch(text: &str) -> bool {
    ["huggingface", "hf.co", "hf ", "HF_ENDPOINT", "hf\t"]
        .iter()
        .any(|n| text.contains(n))
}

/// The fetches and hazards of a shell, Dockerfile, Makefile or workflow file.
pub fn scan_file(file: &SourceFile) -> Scanned {
    let mut out = Scanned::default();
    let Some(surface) = surface(&file.rel_path) else {
        return out;
    };
    if !may_fetch(&file.text) {
        return out;
    }
    let lines = file_lines(file);
    let mut env = Env::default();
    match surface {
        Surface::Shell => {
            for line in join_continuations(&lines, '\\') {
                scan_line(file, &line, &mut env, &mut out);
            }
        }
        Surface::Dockerfile => scan_dockerfile(file, &lines, &mut env, &mut out),
        Surface::Makefile => {
            let recipe: Vec<MappedText> = lines
                .iter()
                .filter(|l| l.as_str().starts_with('\t'))
                .cloned()
                .collect();
            for line in join_continuations(&recipe, '\\') {
                // `@`, `-` and `+` prefixes are make's, not the shell's.
                let text = line.as_str();
                let skip = text.len() - text.trim_start_matches(['\t', ' ', '@', '-', '+']).len();
                scan_line(file, &line.slice(skip..line.len()), &mut env, &mut out);
            }
        }
        Surface::Workflow => scan_workflow(file, &mut env, &mut out),
    }
    out
}

/// Whether a notebook cell has a line [`scan_cell`] reads: one starting with `!` or `%`.
pub fn has_escape(cell: &str) -> bool {
    cell.split(['\n', '\r'])
        .any(|line| line.trim_start().starts_with(['!', '%']))
}

/// Notebook `!cmd` lines, `%%bash`/`%%sh`/`%%script` cells and `%env VAR=value`.
pub fn scan_cell(file: &SourceFile, source: &MappedText, env: &mut Env, out: &mut Scanned) {
    let lines = source.lines();
    let first = lines.first().map(|l| l.as_str().trim()).unwrap_or("");
    if first.starts_with("%%bash") || first.starts_with("%%sh") || first.starts_with("%%script") {
        for line in join_continuations(&lines[1..], '\\') {
            scan_line(file, &line, env, out);
        }
        return;
    }
    for line in join_continuations(&lines, '\\') {
        let text = line.as_str();
        let start = text.len() - text.trim_start().len();
        let rest = &text[start..];
        let skip = if rest.starts_with("!") {
            start + 1
        } else if rest.starts_with("%env") {
            // `%env VAR=value` / `%env VAR value`: an assignment without a shell.
            let body = line.slice(start + 4..line.len());
            let tokens = cmd_shell::tokenize(&body);
            let words: Vec<&Word> = words_of(&tokens.tokens);
            if let [name, value] = words.as_slice() {
                let joined = format!("{}={}", name.as_str(), value.as_str());
                assign(file, &joined, name, value.as_str(), env, out);
            } else if let [one] = words.as_slice() {
                assignment(file, one, env, out);
            }
            continue;
        } else if rest.starts_with("%system") || rest.starts_with("%sx") {
            start + rest.find(char::is_whitespace).unwrap_or(rest.len())
        } else {
            continue;
        };
        scan_line(file, &line.slice(skip..line.len()), env, out);
    }
}

fn words_of(tokens: &[Token]) -> Vec<&Word> {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w),
            _ => None,
        })
        .collect()
}

fn file_lines(file: &SourceFile) -> Vec<MappedText> {
    (1..=file.line_count())
        .filter_map(|n| file.line_range(n))
        .map(|range| MappedText::verbatim(&file.text, range))
        .collect()
}

/// Joins lines ending in `escape` with the next one.
fn join_continuations(lines: &[MappedText], escape: char) -> Vec<MappedText> {
    let mut out = Vec::new();
    let mut logical = MappedText::new();
    let mut open = false;
    for line in lines {
        let trimmed = line.as_str().trim_end();
        if trimmed.ends_with(escape) && !trimmed.ends_with(&format!("{escape}{escape}")) {
            logical.push_mapped(line, 0..trimmed.len() - escape.len_utf8());
            open = true;
        } else {
            logical.push_mapped(line, 0..line.len());
            out.push(std::mem::take(&mut logical));
            open = false;
        }
    }
    if open {
        out.push(logical);
    }
    out
}

/// Shell variables known so far in one script: name -> literal value.
#[derive(Debug, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

fn scan_dockerfile(file: &SourceFile, lines: &[MappedText], env: &mut Env, out: &mut Scanned) {
    for line in join_continuations(lines, '\\') {
        let text = line.as_str();
        let start = text.len() - text.trim_start().len();
        let rest = &text[start..];
        let keyword_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let keyword = rest[..keyword_end].to_ascii_uppercase();
        let body = line.slice(start + keyword_end..line.len());
        match keyword.as_str() {
            "RUN" => {
                if body.as_str().trim_start().starts_with('[') {
                    continue; // exec form: JSON argv, rarely a download; not shell-parsed
                }
                // `RUN --mount=... --network=... cmd`: BuildKit flags come before the command.
                let mut skip = 0;
                loop {
                    let rest = &body.as_str()[skip..];
                    let lead = rest.len() - rest.trim_start().len();
                    if !rest[lead..].starts_with("--") {
                        skip += lead;
                        break;
                    }
                    let flag = rest[lead..]
                        .find(char::is_whitespace)
                        .unwrap_or(rest.len() - lead);
                    skip += lead + flag;
                }
                scan_line(file, &body.slice(skip..body.len()), env, out);
            }
            "ENV" | "ARG" => {
                let tokens = cmd_shell::tokenize(&body);
                let words = words_of(&tokens.tokens);
                if words.len() == 2 && !words[0].as_str().contains('=') && keyword == "ENV" {
                    // Legacy `ENV NAME value`.
                    let joined = format!("{}={}", words[0].as_str(), words[1].as_str());
                    assign(file, &joined, words[0], words[1].as_str(), env, out);
                } else {
                    for word in words {
                        assignment(file, word, env, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn scan_workflow(file: &SourceFile, env: &mut Env, out: &mut Scanned) {
    let docs = match yamlpos::parse(&file.text) {
        Ok(docs) => docs,
        Err(error) => {
            // The same finding the dependency walk gives for this file, so `mlsupply check`
            // reports it once.
            out.findings.push(yaml_error(file, &error));
            return;
        }
    };
    for doc in &docs {
        walk_workflow(file, doc, env, out);
    }
}

/// Every `env:` mapping and `run:` script, in file order.
fn walk_workflow(file: &SourceFile, node: &Node, env: &mut Env, out: &mut Scanned) {
    match node {
        Node::Map(entries, _) => {
            for (key, value) in entries {
                match key.as_str() {
                    Some("env") => {
                        for (name, value) in value.entries() {
                            let (Some(name_s), Some(value_s)) = (name.as_str(), value.as_scalar())
                            else {
                                continue;
                            };
                            let span = file.span(value_s.offset..value_s.offset + 1);
                            set_var(name_s, &value_s.value, span, env, out);
                        }
                    }
                    Some("run") => {
                        if let Some(script) = value.as_scalar() {
                            let mapped = script.mapped(&file.text);
                            for line in join_continuations(&mapped.lines(), '\\') {
                                scan_line(file, &line, env, out);
                            }
                        }
                    }
                    _ => walk_workflow(file, value, env, out),
                }
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                walk_workflow(file, item, env, out);
            }
        }
        _ => {}
    }
}

fn word_span(file: &SourceFile, word: &Word) -> Span {
    word.text.span(file, 0..word.text.len())
}

/// `NAME=value` (unquoted name): remembered, and `HF_ENDPOINT` reported. Returns whether the
/// word was an assignment.
fn assignment(file: &SourceFile, word: &Word, env: &mut Env, out: &mut Scanned) -> bool {
    let text = word.as_str();
    let Some((name, value)) = text.split_once('=') else {
        return false;
    };
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || name.as_bytes()[0].is_ascii_digit()
        || !word.is_literal_at(0)
    {
        return false;
    }
    assign(file, text, word, value, env, out);
    true
}

fn assign(
    file: &SourceFile,
    written: &str,
    word: &Word,
    value: &str,
    env: &mut Env,
    out: &mut Scanned,
) {
    let name = written.split_once('=').map_or(written, |(n, _)| n);
    let expanded = expand_text(value, env);
    match expanded {
        Some((value, _)) => set_var(name, &value, word_span(file, word), env, out),
        None => {
            env.vars.remove(name);
        }
    }
}

fn set_var(name: &str, value: &str, span: Span, env: &mut Env, out: &mut Scanned) {
    if name == "HF_ENDPOINT"
        && let Some(host) = url_host(value)
    {
        out.hazards.push(Hazard {
            kind: HazardKind::Endpoint {
                host,
                what: "`HF_ENDPOINT`".to_string(),
            },
            span,
        });
    }
    env.vars.insert(name.to_string(), value.to_string());
}

fn url_host(value: &str) -> Option<String> {
    let parsed = url::Url::parse(value.trim()).ok()?;
    parsed.host_str().map(str::to_ascii_lowercase)
}

/// Longest value a variable expansion may build: `V2=$V1$V1` doubles with every line, and a
/// longer value is taken as unknown.
const MAX_EXPANDED: usize = 1 << 16;

/// `text` with `$NAME` and `${NAME}` replaced from `env`; `None` if any expansion is unknown or
/// the result would be longer than [`MAX_EXPANDED`]. Also returns the first variable used.
fn expand_text(text: &str, env: &Env) -> Option<(String, Option<String>)> {
    let mut out = String::new();
    let mut via = None;
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}')?;
            (&braced[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() {
            if len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            return None;
        }
        let value = env.vars.get(name)?;
        if out.len() + value.len() > MAX_EXPANDED {
            return None;
        }
        out.push_str(value);
        via.get_or_insert_with(|| name.to_string());
        rest = &after[len..];
    }
    out.push_str(rest);
    Some((out, via))
}

/// A word's value: literal text, or text whose `$VAR`s are all known.
fn resolve(word: &Word, env: &Env) -> Option<(String, Option<String>)> {
    if word.is_literal() {
        return Some((word.as_str().to_string(), None));
    }
    expand_text(word.as_str(), env)
}

/// One logical command line.
pub fn scan_line(file: &SourceFile, line: &MappedText, env: &mut Env, out: &mut Scanned) {
    let tokens = cmd_shell::tokenize(line);
    for command in cmd_shell::simple_commands(&tokens.tokens) {
        scan_command(file, &command.words, env, out);
    }
}

fn scan_command(file: &SourceFile, words: &[Word], env: &mut Env, out: &mut Scanned) {
    let mut i = 0;
    // Prefix assignments and wrappers.
    while i < words.len() {
        let w = &words[i];
        if !w.quoted && assignment(file, w, env, out) {
            i += 1;
            continue;
        }
        match w.as_str() {
            "export" | "sudo" | "env" | "exec" | "time" | "nohup" | "command" | "readonly"
            | "local" | "declare" => i += 1,
            _ => break,
        }
    }
    let Some(first) = words.get(i) else {
        return;
    };
    let program = first.as_str().rsplit('/').next().unwrap_or("");
    let args = &words[i + 1..];
    match program {
        "hf" | "huggingface-cli" if args.first().is_some_and(|a| a.as_str() == "download") => {
            let api = format!("{program} download");
            hf_download(file, &api, &args[1..], env, out);
        }
        "git" if args.first().is_some_and(|a| a.as_str() == "clone") => {
            git_clone(file, &args[1..], env, out)
        }
        "ollama"
            if args
                .first()
                .is_some_and(|a| matches!(a.as_str(), "pull" | "run")) =>
        {
            if let Some(model) = args.get(1)
                && let Some((value, via)) = resolve(model, env)
                && let Some(rest) = value
                    .strip_prefix("hf.co/")
                    .or_else(|| value.strip_prefix("huggingface.co/"))
            {
                let (id, tag) = match rest.split_once(':') {
                    Some((id, tag)) => (id, Revision::Literal(tag.to_string())),
                    None => (rest, Revision::Absent),
                };
                let mut fetch = fetch(file, format!("ollama {}", args[0].as_str()), id, model, via);
                fetch.revision = tag;
                out.fetches.push(fetch);
            }
        }
        "wget" | "curl" => {
            for arg in args {
                if let Some((value, via)) = resolve(arg, env) {
                    download_url(file, program, &value, arg, via, out);
                }
            }
        }
        _ => {}
    }
}

fn fetch(file: &SourceFile, api: String, id: &str, word: &Word, via: Option<String>) -> Fetch {
    let mut f = Fetch::new(
        Hub::HuggingFace,
        api,
        RepoId::Known(id.to_string()),
        word_span(file, word),
    );
    f.via = via;
    // A command names a repository; it never falls back to a local directory.
    f.path_fallback = false;
    f
}

/// `hf download REPO [FILES...] [--revision R] [--repo-type T] [--include P]...`
fn hf_download(file: &SourceFile, api: &str, args: &[Word], env: &Env, out: &mut Scanned) {
    const WITH_VALUE: &[&str] = &[
        "--repo-type",
        "--revision",
        "--include",
        "--exclude",
        "--cache-dir",
        "--local-dir",
        "--local-dir-use-symlinks",
        "--token",
        "--max-workers",
    ];
    let mut positional: Vec<&Word> = Vec::new();
    let mut revision = Revision::Absent;
    let mut kind = RepoKind::Model;
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (option, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v.to_string())),
            _ => (arg, None),
        };
        if option.starts_with('-') && option.len() > 1 {
            // Some(Some(v)): a known value; Some(None): given through an unknown `$VAR`.
            let value: Option<Option<String>> = match inline {
                Some(v) => Some(Some(v)),
                None if WITH_VALUE.contains(&option) => {
                    i += 1;
                    args.get(i).map(|w| resolve(w, env).map(|(v, _)| v))
                }
                None => None,
            };
            match (option, value) {
                ("--revision", Some(v)) => {
                    revision = v.map_or(Revision::Dynamic, Revision::Literal);
                }
                ("--repo-type", Some(Some(v))) => {
                    kind = match v.as_str() {
                        "dataset" => RepoKind::Dataset,
                        "space" => RepoKind::Space,
                        _ => RepoKind::Model,
                    }
                }
                ("--include", Some(Some(v))) => files.push(v),
                _ => {}
            }
        } else {
            positional.push(&args[i]);
        }
        i += 1;
    }
    let Some(repo) = positional.first() else {
        return;
    };
    for name in &positional[1..] {
        if let Some((v, _)) = resolve(name, env) {
            files.push(v);
        }
    }
    let mut f = match resolve(repo, env) {
        Some((id, via)) => fetch(file, api.to_string(), &id, repo, via),
        None => {
            let mut f = fetch(file, api.to_string(), "", repo, None);
            f.id = RepoId::Unknown {
                written: repo.as_str().to_string(),
            };
            f
        }
    };
    f.kind = kind;
    f.revision = revision;
    f.files = files;
    out.fetches.push(f);
}

/// Splits a hub URL path into kind, `org/name` and the rest of the path.
fn hub_path(path: &str) -> Option<(RepoKind, String, Vec<&str>)> {
    let mut parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kind = match parts.first() {
        Some(&"datasets") => RepoKind::Dataset,
        Some(&"spaces") => RepoKind::Space,
        _ => RepoKind::Model,
    };
    if kind != RepoKind::Model {
        parts.remove(0);
    }
    if parts.len() < 2 || parts[0].is_empty() || parts[1].is_empty() {
        return None;
    }
    let name = parts[1].trim_end_matches(".git");
    let id = format!("{}/{name}", parts[0]);
    Some((kind, id, parts[2..].to_vec()))
}

fn is_hub_host(host: &str) -> bool {
    matches!(host, "huggingface.co" | "hf.co" | "www.huggingface.co")
}

/// `git clone [options] URL [dir]`
fn git_clone(file: &SourceFile, args: &[Word], env: &Env, out: &mut Scanned) {
    let mut revision = Revision::Absent;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if matches!(arg, "-b" | "--branch") {
            i += 1;
            revision = match args.get(i).and_then(|w| resolve(w, env)) {
                Some((v, _)) => Revision::Literal(v),
                None => Revision::Dynamic,
            };
        } else if let Some(v) = arg.strip_prefix("--branch=") {
            revision = Revision::Literal(v.to_string());
        } else if matches!(arg, "--depth" | "-o" | "--origin" | "-c" | "--config") {
            i += 1;
        } else if !arg.starts_with('-') {
            let Some((value, via)) = resolve(&args[i], env) else {
                return;
            };
            let Ok(url) = url::Url::parse(&value) else {
                return;
            };
            let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
                return;
            };
            if !is_hub_host(&host) {
                return;
            }
            let Some((kind, id, _)) = hub_path(url.path()) else {
                return;
            };
            let mut f = fetch(file, "git clone".to_string(), &id, &args[i], via);
            f.kind = kind;
            f.revision = revision;
            out.fetches.push(f);
            return;
        }
        i += 1;
    }
}

/// `https://huggingface.co/[datasets/]ORG/NAME/resolve/REV/FILE`
fn download_url(
    file: &SourceFile,
    program: &str,
    value: &str,
    word: &Word,
    via: Option<String>,
    out: &mut Scanned,
) {
    if !value.starts_with("http://") && !value.starts_with("https://") {
        return;
    }
    let Ok(url) = url::Url::parse(value) else {
        return;
    };
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return;
    };
    if !is_hub_host(&host) {
        return;
    }
    let Some((kind, id, rest)) = hub_path(url.path()) else {
        return;
    };
    let [verb, rev, path @ ..] = rest.as_slice() else {
        return;
    };
    if !matches!(*verb, "resolve" | "blob" | "raw") || path.is_empty() {
        return;
    }
    let mut f = fetch(file, program.to_string(), &id, word, via);
    f.kind = kind;
    f.revision = Revision::Literal(rev.to_string());
    f.files = vec![path.join("/")];
    out.fetches.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(path: &str, text: &str) -> Scanned {
        scan_file(&SourceFile::new(path, path, text.to_string()))
    }

    #[test]
    fn surfaces_by_name() {
        assert_eq!(surface("docker/Dockerfile.gpu"), Some(Surface::Dockerfile));
        assert_eq!(surface("Makefile"), Some(Surface::Makefile));
        assert_eq!(surface(".github/workflows/ci.yml"), Some(Surface::Workflow));
        assert_eq!(surface("scripts/get.sh"), Some(Surface::Shell));
        assert_eq!(surface("conf/train.yaml"), None);
    }

    #[test]
    fn variables_resolve_through_export_and_braces() {
        let s = scan(
            "a.sh",
            "export MODEL=meta-llama/Llama-3.1-8B\nREV=main\nhf download ${MODEL} --revision $REV\n",
        );
        assert_eq!(s.fetches.len(), 1);
        let f = &s.fetches[0];
        assert_eq!(f.id, RepoId::Known("meta-llama/Llama-3.1-8B".into()));
        assert_eq!(f.revision, Revision::Literal("main".into()));
        assert_eq!(f.via.as_deref(), Some("MODEL"));
        assert_eq!(f.span.line, 3);
    }

    #[test]
    fn doubling_variables_stop_at_a_bound() {
        // `V{i+1}=$V{i}$V{i}` doubles a value at every line: past the bound a value is unknown,
        // not 2^40 bytes.
        let mut text = String::from("V0=o/n\n");
        for i in 0..40 {
            text.push_str(&format!("V{}=$V{i}$V{i}\n", i + 1));
        }
        text.push_str("hf download $V40\nhf download $V2\n");
        let s = scan("a.sh", &text);
        let ids: Vec<&RepoId> = s.fetches.iter().map(|f| &f.id).collect();
        assert!(matches!(ids[0], RepoId::Unknown { .. }), "{ids:?}");
        assert_eq!(ids[1], &RepoId::Known("o/no/no/no/n".into()));
    }

    #[test]
    fn unknown_revision_is_dynamic() {
        let s = scan(
            "a.sh",
            "hf download o/n --revision \"$REV\" --repo-type=dataset\n",
        );
        assert_eq!(s.fetches[0].revision, Revision::Dynamic);
        assert_eq!(s.fetches[0].kind, RepoKind::Dataset);
    }

    #[test]
    fn unknown_variable_is_unknown_id() {
        let s = scan("a.sh", "hf download \"$1\"\n");
        assert!(matches!(s.fetches[0].id, RepoId::Unknown { .. }));
    }

    #[test]
    fn resolve_url_gives_revision_and_file() {
        let s = scan(
            "a.sh",
            "wget -q https://huggingface.co/datasets/o/n/resolve/v1/sub/model.pt\n",
        );
        let f = &s.fetches[0];
        assert_eq!(f.kind, RepoKind::Dataset);
        assert_eq!(f.id, RepoId::Known("o/n".into()));
        assert_eq!(f.files, vec!["sub/model.pt".to_string()]);
    }
}
