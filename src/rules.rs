//! Every rule of the suite, in one registry.
//!
//! A rule id is a SARIF `ruleId`, an inline-ignore key and a config key at once, so once
//! published it is never renamed or reused. Each tool's rules carry the tool they belong to,
//! so that a binary can tell which ignores it is responsible for.

use crate::finding::Severity;

/// Which part of the suite owns a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Input problems every binary can report (unreadable files, malformed manifests, ignores).
    Core,
    Typo,
    Pin,
    Hub,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub tool: Tool,
    pub default_severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it matters and what to do; shown as SARIF help and in the text output's hint.
    pub help: &'static str,
    /// GitHub code scanning's `security-severity`, "0.1" to "10.0".
    pub security_severity: &'static str,
}

macro_rules! rules {
    ($( $konst:ident = $id:literal, $tool:ident, $sev:ident, $secsev:literal,
        $summary:literal, $help:literal; )*) => {
        $(
            pub static $konst: Rule = Rule {
                id: $id,
                tool: Tool::$tool,
                default_severity: Severity::$sev,
                summary: $summary,
                help: $help,
                security_severity: $secsev,
            };
        )*
        /// Every rule, in a stable order (SARIF `ruleIndex` follows it).
        pub static ALL: &[&Rule] = &[$(&$konst),*];
    };
}

rules! {
    // Core: problems with the input itself.
    FILE_SKIPPED = "file-skipped", Core, Warning, "1.0",
        "A file could not be scanned",
        "The file is binary, not UTF-8, unreadable or larger than the scan limit, so it was skipped. Anything it declares went unchecked, and skipping is how a dependency would be hidden: make the file text, or exclude it. A path passed over by policy (outside the root, a directory symlink, not a regular file) is only a note.";
    PARSE_ERROR = "parse-error", Core, Error, "5.0",
        "A dependency or configuration file could not be parsed",
        "The file is malformed (TOML, JSON, YAML, INI or requirements syntax), so the dependencies it declares could not be checked. Fix the syntax error at the given place.";
    INCLUDE_CYCLE = "include-cycle", Core, Error, "3.0",
        "A requirements file includes itself",
        "A chain of -r/-c includes leads back to a file already being read; pip fails with \"recursively references itself\". Remove the include that closes the cycle.";
    MISSING_INCLUDE = "missing-include", Core, Error, "3.0",
        "An included requirements file does not exist",
        "A -r/-c line names a file that is not there (paths are relative to the including file), so pip fails and the dependencies it should declare were not checked.";
    UNUSED_IGNORE = "unused-ignore", Core, Note, "0.1",
        "An inline ignore no longer matches any finding",
        "The `# mlsupply: ignore[rule]` comment suppresses nothing on its line. Remove it so that stale ignores do not pile up and hide future findings.";
    INVALID_IGNORE = "invalid-ignore", Core, Warning, "1.0",
        "An inline ignore is malformed",
        "Write `# mlsupply: ignore[rule-id] reason`: name known rule ids, separated by commas, and give a reason after the bracket.";

    // mlsupply-typo
    TYPOSQUAT = "typosquat", Typo, Warning, "7.5",
        "A dependency name looks like a typo of a popular package",
        "Typosquatters register names one slip away from popular packages and ship malware under them. Check that the name is the package you meant; if it is, allow it in [typo] allow with a reason.";
    NON_ASCII_NAME = "non-ascii-name", Typo, Error, "8.0",
        "A dependency name contains a non-ASCII character",
        "Package names on PyPI are ASCII. A look-alike character (a Kelvin sign, a long s, Cyrillic letters) can survive careless normalisation and resolve to a different package. Retype the name in plain ASCII.";
    UNKNOWN_PACKAGE = "unknown-package", Typo, Error, "8.0",
        "A dependency does not exist on the package index",
        "Anyone can register a missing name and publish code under it; code assistants invent such names. Fix the name, or publish or reserve it on your own index.";

    // mlsupply-pin
    UNPINNED = "unpinned", Pin, Warning, "5.0",
        "A requirement is not pinned to one exact version",
        "A range or a bare name installs whatever is newest when pip runs, so a compromised or broken release is picked up without review, and pip's hash-checking mode refuses it. Pin it with `==` and its hashes: `mlsupply-pin --fix` writes the newest allowed version.";
    MISSING_HASH = "missing-hash", Pin, Warning, "6.0",
        "A pinned requirement has no --hash",
        "Without hashes a pinned version can still be swapped for different bytes (a compromised index or mirror, a re-uploaded file). Add one `--hash=sha256:` per file of the version, as the index publishes them: `mlsupply-pin --fix` does it.";
    HASH_MISMATCH = "hash-mismatch", Pin, Error, "9.0",
        "A listed hash matches no file of that version on the index",
        "Either the requirements file was tampered with, or the index now serves different files for that version (a re-upload or a malicious mirror). Find out which before installing; `mlsupply-pin --fix` replaces the set with the index's hashes.";
    INCOMPLETE_HASHES = "incomplete-hashes", Pin, Warning, "4.0",
        "The listed hashes cover only some files of the version",
        "pip installs only a file whose hash is listed: on a platform whose wheel is missing it fails, and with only the sdist listed it builds from source (running build code). A file added to an old release also shows up here: check it, then `mlsupply-pin --fix` lists every file.";
    YANKED_VERSION = "yanked-version", Pin, Warning, "5.0",
        "A requirement is pinned to a yanked version",
        "The maintainers withdrew this release (PEP 592), usually for a bug or a security problem. The pin is kept because it is explicit; move to a version that is not yanked.";
    UNHASHABLE_REQUIREMENT = "unhashable-requirement", Pin, Error, "6.0",
        "A requirement cannot be hash-checked by pip",
        "pip's hash-checking mode refuses VCS checkouts, local directories, editable installs and URLs without a hash, so the file cannot be installed with --require-hashes. Depend on a released version from the index (or a wheel URL with `#sha256=`), or move the line to a file that is not installed in hash mode.";
    EXTRA_INDEX_URL = "extra-index-url", Pin, Warning, "7.0",
        "An extra index is searched next to the main one (dependency confusion)",
        "pip takes the best version from every index, so anyone who publishes a higher version of your internal package's name on the public index wins. Use one index (a proxy that serves internal and public packages with internal names taking priority), or pin every package with hashes.";
    INSECURE_INDEX = "insecure-index", Pin, Error, "8.0",
        "An index is reached over plain http",
        "Anyone on the network path can change the pages and files an http index serves. Use https.";
    UNTRUSTED_URL_HOST = "untrusted-url-host", Pin, Warning, "6.0",
        "A requirement downloads from a host outside the allowed list",
        "A direct URL bypasses the index and its review, and whoever controls that host controls the code. Install from the index, or add the host to [pin] allowed-hosts with a reason.";
    UNSUPPORTED_PYTHON = "unsupported-python", Pin, Warning, "3.0",
        "A pinned version has no file for the target Python",
        "Every file of the pinned version declares a Requires-Python that excludes the target Python (--python-version, else the lowest allowed by pyproject.toml), so pip cannot install it there. Pin a version that supports it, or add a python_version marker to the line.";
    MISSING_DEPENDENCY = "missing-dependency", Pin, Error, "6.0",
        "A dependency of a requirement is not pinned in the file",
        "pip's hash mode installs only what the file pins with hashes, and stops at the first dependency it does not find there. `mlsupply-pin --fix` resolves the full closure and pins the missing packages, with hashes, in a managed section at the end of the file.";
    DYNAMIC_METADATA = "dynamic-metadata", Pin, Warning, "4.0",
        "A release's dependencies are known only by building it",
        "The release publishes only an sdist whose Requires-Dist is dynamic, so its dependencies cannot be read without running its build code, which mlsupply never does. The resolver passed over it; pin a version with a wheel, or list its dependencies yourself.";

    // mlsupply-hub
    UNTRUSTED_ORG = "untrusted-org", Hub, Warning, "6.0",
        "A model or dataset is fetched from an organisation that is not trusted",
        "Anyone can create an organisation on a model hub under any free name, and a model's code and pickles run on load. Check who owns the namespace (a verified badge, the company's own links), then add it to [hub] trusted-orgs with a reason, or use a model from a trusted organisation.";
    LOOKALIKE_ORG = "lookalike-org", Hub, Error, "9.0",
        "A model or dataset namespace imitates a trusted organisation",
        "The namespace is one slip, a look-alike character, a separator or an added word away from a trusted organisation (PoisonGPT was published under `EleuterAI`). It is almost certainly not the organisation you meant: retype the id from the organisation's own page.";
    UNPINNED_REVISION = "unpinned-revision", Hub, Warning, "5.0",
        "A hub download is not pinned to a full commit hash",
        "Without `revision=` the default branch is fetched, and branches, tags, `refs/pr/N` and short hashes can all move, or point at a new owner's repository after a rename or deletion. Pin `revision=` to the 40-hex commit you reviewed.";
    REMOTE_CODE = "remote-code", Hub, Warning, "8.0",
        "Loading runs code from the hub repository",
        "`trust_remote_code=True`, diffusers `custom_pipeline` and `torch.hub.load` import Python files from the fetched repository, with your privileges. Avoid them, or review the code and pin both `revision` and `code_revision` to full commits.";
    PICKLE_LOAD = "pickle-load", Hub, Warning, "7.0",
        "A model file is loaded with pickle, which can run code",
        "Unpickling runs whatever the file says (reverse shells have been found in hub models). Prefer safetensors (`use_safetensors=True`), pass `weights_only=True` to `torch.load`, and do not unpickle downloaded files.";
    MODEL_CONFUSION = "model-confusion", Hub, Error, "8.0",
        "A model id anyone could register is loaded: a missing local path or a placeholder",
        "A relative path that does not exist is taken as a hub id `org/name`, and placeholders such as `your-org/...` name organisations anyone can register: either way an attacker's model is loaded. Use `./path` with `local_files_only=True` for local models, and a real, pinned id otherwise.";
    UNOFFICIAL_ENDPOINT = "unofficial-endpoint", Hub, Warning, "6.0",
        "Models are downloaded from a host outside the allowed hosts",
        "`HF_ENDPOINT` or a download URL points at a mirror or another host, which serves whatever it likes under trusted names. Use the official hub, or add the host to [hub] allowed-hosts with a reason.";
    IMPLICIT_DEFAULT_MODEL = "implicit-default-model", Hub, Note, "3.0",
        "A pipeline downloads the library's default model for its task",
        "`pipeline(task)` without `model=` fetches whatever default the installed transformers version ships, pinned only by a short hash. Name the model and pin its revision.";
    MISSING_HUB_REPO = "missing-hub-repo", Hub, Error, "8.0",
        "A fetched hub repository or namespace does not exist (--online)",
        "The hub has no such organisation, user or repository, so whoever registers the name next decides what is loaded (a deleted or renamed repository's id is free to take). Fix the id, or pin a model that exists.";
}

/// The rule with id `id`, if there is one.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|rule| rule.id == id)
}

/// The rules a tool may report: its own plus the core ones.
pub fn for_tools(tools: &[Tool]) -> Vec<&'static Rule> {
    ALL.iter()
        .copied()
        .filter(|rule| rule.tool == Tool::Core || tools.contains(&rule.tool))
        .collect()
}
