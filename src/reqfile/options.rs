//! The options pip accepts in requirements files, parsed as `optparse` parses them.

use std::ops::Range;

use super::lines::Logical;
use super::shlex::{self, Token};
use super::{ConfigSetting, Diagnostic, DiagnosticSeverity, HashOption, OptionItem, Spanned};

/// An option allowed in requirements files (pip 26: `SUPPORTED_OPTIONS` and
/// `SUPPORTED_OPTIONS_REQ` of `req_file.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptionKind {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    NoRequireHashes,
    Pre,
    AllReleases,
    OnlyFinal,
    TrustedHost,
    UseFeature,
    /// `--hash=<alg>:<hex>`, per requirement.
    Hash,
    /// `-C/--config-settings KEY=VALUE`, per requirement.
    ConfigSettings,
}

#[derive(Debug)]
struct Spec {
    kind: OptionKind,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
}

const SPECS: &[Spec] = &[
    spec(
        OptionKind::IndexUrl,
        Some('i'),
        &["--index-url", "--pypi-url"],
        true,
    ),
    spec(
        OptionKind::ExtraIndexUrl,
        None,
        &["--extra-index-url"],
        true,
    ),
    spec(OptionKind::NoIndex, None, &["--no-index"], false),
    spec(OptionKind::Constraint, Some('c'), &["--constraint"], true),
    spec(OptionKind::Requirement, Some('r'), &["--requirement"], true),
    spec(OptionKind::Editable, Some('e'), &["--editable"], true),
    spec(OptionKind::FindLinks, Some('f'), &["--find-links"], true),
    spec(OptionKind::NoBinary, None, &["--no-binary"], true),
    spec(OptionKind::OnlyBinary, None, &["--only-binary"], true),
    spec(OptionKind::PreferBinary, None, &["--prefer-binary"], false),
    spec(
        OptionKind::RequireHashes,
        None,
        &["--require-hashes"],
        false,
    ),
    spec(
        OptionKind::NoRequireHashes,
        None,
        &["--no-require-hashes"],
        false,
    ),
    spec(OptionKind::Pre, None, &["--pre"], false),
    spec(OptionKind::AllReleases, None, &["--all-releases"], true),
    spec(OptionKind::OnlyFinal, None, &["--only-final"], true),
    spec(OptionKind::TrustedHost, None, &["--trusted-host"], true),
    spec(OptionKind::UseFeature, None, &["--use-feature"], true),
    spec(OptionKind::Hash, None, &["--hash"], true),
    spec(
        OptionKind::ConfigSettings,
        Some('C'),
        &["--config-settings"],
        true,
    ),
];

const fn spec(
    kind: OptionKind,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
) -> Spec {
    Spec {
        kind,
        short,
        long,
        takes_value,
    }
}

/// Options pip used to accept in requirements files and has removed.
const REMOVED: &[(&str, &str)] = &[
    ("--global-option", "25.3"),
    ("--build-option", "25.3"),
    ("--install-option", "23.1"),
];

/// Hash algorithms pip accepts (`STRONG_HASHES`) and their hex digest lengths.
const HASH_ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha384", 96), ("sha512", 128)];

impl OptionKind {
    fn spec(self) -> &'static Spec {
        SPECS
            .iter()
            .find(|spec| spec.kind == self)
            .unwrap_or(&SPECS[0])
    }

    /// The option's canonical long name, e.g. `--index-url`.
    pub fn long_name(self) -> &'static str {
        self.spec().long[0]
    }

    /// The short form, e.g. `-i`.
    pub fn short_name(self) -> Option<String> {
        self.spec().short.map(|c| format!("-{c}"))
    }

    pub fn takes_value(self) -> bool {
        self.spec().takes_value
    }

    /// Options that apply to the requirement on their line (`--hash`, `--config-settings`).
    pub fn is_per_requirement(self) -> bool {
        matches!(self, OptionKind::Hash | OptionKind::ConfigSettings)
    }
}

/// pip's `break_args_options`: the requirement is every space-separated token before the first
/// one starting with `-`. Returns the requirement text and where the options start.
pub(crate) fn break_args_options(line: &str) -> (&str, usize) {
    let mut pos = 0;
    loop {
        let rest = &line[pos..];
        if rest.starts_with('-') {
            let args = if pos == 0 { "" } else { &line[..pos - 1] };
            return (args, pos);
        }
        match rest.find(' ') {
            Some(i) => pos += i + 1,
            None => return (line, line.len()),
        }
    }
}

pub(crate) struct ParsedOptions {
    pub items: Vec<OptionItem>,
    /// Words that are neither options nor values; optparse leaves them and pip ignores them.
    pub stray: Vec<Spanned<String>>,
    pub hashes: Vec<HashOption>,
    pub config_settings: Vec<ConfigSetting>,
    /// The first `-e` value and the logical range of its text as written.
    pub editable: Option<(String, Range<usize>)>,
}

/// Parses the options part of a line. `offset` is where `text` starts in the logical line.
pub(crate) fn parse_options(
    text: &str,
    offset: usize,
    logical: &Logical,
    diagnostics: &mut Vec<Diagnostic>,
) -> ParsedOptions {
    let mut parsed = ParsedOptions {
        items: Vec::new(),
        stray: Vec::new(),
        hashes: Vec::new(),
        config_settings: Vec::new(),
        editable: None,
    };
    if text.is_empty() {
        return parsed;
    }
    let tokens = match shlex::split(text) {
        Ok(tokens) => tokens,
        Err(err) => {
            diagnostics.push(error(
                logical.orig_range(offset + err.at..offset + text.len()),
                format!("could not split options: {}", err.message),
            ));
            return parsed;
        }
    };
    let shift = |range: &Range<usize>| offset + range.start..offset + range.end;
    let raw = |token: &Token| &logical.text[shift(&token.range)];
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        i += 1;
        let value = token.value.as_str();
        if value == "--" {
            // optparse stops at `--`; what follows are positional arguments.
            parsed.stray.extend(tokens[i..].iter().map(|t| Spanned {
                value: t.value.clone(),
                range: logical.orig_range(shift(&t.range)),
            }));
            break;
        }
        let token_range = shift(&token.range);
        let (spec, flag_text, flag_range, inline) = if let Some(long) = value.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, inline)) => (format!("--{name}"), Some(inline.to_string())),
                None => (value.to_string(), None),
            };
            let spec = match match_long(&name) {
                Ok(spec) => spec,
                Err(message) => {
                    diagnostics.push(error(logical.orig_range(token_range), message));
                    return parsed;
                }
            };
            let raw_text = raw(token);
            let flag_range = match (raw_text == value, raw_text.find('=')) {
                (true, Some(eq)) => token_range.start..token_range.start + eq,
                _ => token_range.clone(),
            };
            let inline = inline.map(|inline| {
                let range = match raw_text.find('=') {
                    Some(eq) => token_range.start + eq + 1..token_range.end,
                    None => token_range.clone(),
                };
                (inline, range)
            });
            if inline.is_some() && !spec.takes_value {
                diagnostics.push(error(
                    logical.orig_range(token_range),
                    format!("{} option does not take a value", spec.long[0]),
                ));
                return parsed;
            }
            (spec, name, flag_range, inline)
        } else if value.len() > 1 && value.starts_with('-') {
            let mut chars = value[1..].chars();
            let letter = chars.next().unwrap_or('-');
            let rest: String = chars.collect();
            let Some(spec) = SPECS.iter().find(|spec| spec.short == Some(letter)) else {
                diagnostics.push(error(
                    logical.orig_range(token_range),
                    format!("no such option: -{letter}"),
                ));
                return parsed;
            };
            let flag_text = format!("-{letter}");
            let raw_text = raw(token);
            let flag_len = if raw_text.starts_with(&flag_text) {
                flag_text.len()
            } else {
                raw_text.len()
            };
            let flag_range = token_range.start..token_range.start + flag_len;
            let inline = (!rest.is_empty() && spec.takes_value)
                .then(|| (rest.clone(), token_range.start + flag_len..token_range.end));
            if !rest.is_empty() && !spec.takes_value {
                // Every short option pip allows in files takes a value; a cluster is unknown.
                diagnostics.push(error(
                    logical.orig_range(token_range),
                    format!("no such option: -{}", rest.chars().next().unwrap_or('-')),
                ));
                return parsed;
            }
            (spec, flag_text, flag_range, inline)
        } else {
            parsed.stray.push(Spanned {
                value: token.value.clone(),
                range: logical.orig_range(token_range),
            });
            continue;
        };

        let value = if spec.takes_value {
            match inline {
                Some(inline) => Some(inline),
                None => match tokens.get(i) {
                    // optparse takes the next word as the value, even one starting with `-`.
                    Some(next) => {
                        i += 1;
                        Some((next.value.clone(), shift(&next.range)))
                    }
                    None => {
                        diagnostics.push(error(
                            logical.orig_range(token_range),
                            format!("{flag_text} option requires 1 argument"),
                        ));
                        return parsed;
                    }
                },
            }
        } else {
            None
        };
        let end = value
            .as_ref()
            .map_or(token_range.end, |(_, range)| range.end);
        let item = OptionItem {
            kind: spec.kind,
            flag: Spanned {
                value: raw(token)[..flag_range.end - token_range.start].to_string(),
                range: logical.orig_range(flag_range.clone()),
            },
            value: value.as_ref().map(|(value, range)| Spanned {
                value: value.clone(),
                range: logical.orig_range(range.clone()),
            }),
            range: logical.orig_range(token_range.start..end),
        };
        let verbatim = value
            .as_ref()
            .is_some_and(|(value, range)| &logical.text[range.clone()] == value);
        match spec.kind {
            OptionKind::Hash => {
                let Some((value, range)) = &value else {
                    continue;
                };
                match check_hash(value) {
                    Err(message) => {
                        diagnostics.push(error(item.range.clone(), message));
                        return parsed;
                    }
                    Ok((algorithm, digest, expected_len)) => {
                        let colon = algorithm.len();
                        let (alg_range, digest_range) = if verbatim {
                            (
                                logical.orig_range(range.start..range.start + colon),
                                logical.orig_range(range.start + colon + 1..range.end),
                            )
                        } else {
                            let whole = logical.orig_range(range.clone());
                            (whole.clone(), whole)
                        };
                        if digest.len() != expected_len
                            || !digest.bytes().all(|b| b.is_ascii_hexdigit())
                        {
                            diagnostics.push(Diagnostic {
                                range: digest_range.clone(),
                                severity: DiagnosticSeverity::Warning,
                                message: format!(
                                    "a {algorithm} digest is {expected_len} hexadecimal digits; \
                                     `{digest}` can never match a file"
                                ),
                            });
                        }
                        parsed.hashes.push(HashOption {
                            range: item.range.clone(),
                            algorithm: Spanned {
                                value: algorithm.to_string(),
                                range: alg_range,
                            },
                            digest: Spanned {
                                value: digest.to_string(),
                                range: digest_range,
                            },
                        });
                    }
                }
            }
            OptionKind::Editable if parsed.editable.is_none() => {
                parsed.editable = value.clone();
            }
            OptionKind::ConfigSettings => {
                let Some((value, _)) = &value else {
                    continue;
                };
                match value.split_once('=') {
                    Some((key, setting)) => parsed.config_settings.push(ConfigSetting {
                        range: item.range.clone(),
                        key: key.to_string(),
                        value: setting.to_string(),
                    }),
                    None => {
                        diagnostics.push(error(
                            item.range.clone(),
                            "arguments to --config-settings must be of the form KEY=VAL"
                                .to_string(),
                        ));
                        return parsed;
                    }
                }
            }
            _ => {}
        }
        parsed.items.push(item);
    }
    parsed
}

/// optparse's `_match_abbrev`: an exact long name, or the one long name it is a prefix of.
fn match_long(name: &str) -> Result<&'static Spec, String> {
    let all = || {
        SPECS
            .iter()
            .flat_map(|spec| spec.long.iter().map(move |long| (*long, spec)))
    };
    if let Some((_, spec)) = all().find(|(long, _)| *long == name) {
        return Ok(spec);
    }
    let mut matches: Vec<(&str, &Spec)> =
        all().filter(|(long, _)| long.starts_with(name)).collect();
    matches.sort_by_key(|(long, _)| *long);
    match matches.as_slice() {
        [(_, spec)] => Ok(spec),
        [] => {
            let removed = REMOVED
                .iter()
                .find(|(removed, _)| *removed == name)
                .map(|(_, version)| format!(" (pip {version} removed it)"))
                .unwrap_or_default();
            Err(format!(
                "no such option: {name}{removed}; pip refuses the whole file"
            ))
        }
        several => {
            let names: Vec<&str> = several.iter().map(|(long, _)| *long).collect();
            Err(format!("ambiguous option: {name} ({}?)", names.join(", ")))
        }
    }
}

/// pip's `_handle_merge_hash`: `<alg>:<digest>` with a strong algorithm.
fn check_hash(value: &str) -> Result<(&str, &str, usize), String> {
    let Some((algorithm, digest)) = value.split_once(':') else {
        return Err(
            "arguments to --hash must be a hash name followed by a value, \
                    like --hash=sha256:abcde..."
                .to_string(),
        );
    };
    match HASH_ALGORITHMS.iter().find(|(name, _)| *name == algorithm) {
        Some((_, len)) => Ok((algorithm, digest, *len)),
        None => Err(format!(
            "allowed hash algorithms for --hash are sha256, sha384, sha512, not `{algorithm}`"
        )),
    }
}

fn error(range: Range<usize>, message: String) -> Diagnostic {
    Diagnostic {
        range,
        severity: DiagnosticSeverity::Error,
        message,
    }
}

fn warning(range: Range<usize>, message: String) -> Diagnostic {
    Diagnostic {
        range,
        severity: DiagnosticSeverity::Warning,
        message,
    }
}

fn written(item: &OptionItem) -> String {
    match &item.value {
        Some(value) => format!("{} {}", item.flag.value, value.value),
        None => item.flag.value.clone(),
    }
}

/// Warnings for what pip ignores on a line of options only.
pub(crate) fn check_option_line(items: &[OptionItem], diagnostics: &mut Vec<Diagnostic>) {
    let include = items
        .iter()
        .position(|item| item.kind == OptionKind::Requirement)
        .or_else(|| {
            items
                .iter()
                .position(|item| item.kind == OptionKind::Constraint)
        });
    for (index, item) in items.iter().enumerate() {
        if Some(index) == include {
            // pip joins an empty target to the directory and fails to open it as a file.
            if item
                .value
                .as_ref()
                .is_some_and(|value| value.value.is_empty())
            {
                diagnostics.push(error(
                    item.range.clone(),
                    format!("`{}` needs a file path or URL", item.flag.value),
                ));
            }
            continue;
        }
        let message = if let Some(include) = include {
            format!(
                "pip reads only `{}` from this line and ignores `{}`",
                written(&items[include]),
                written(item)
            )
        } else {
            match item.kind {
                // pip's own words (`<file> line N has --hash but no requirement, ...`).
                OptionKind::Hash => {
                    "this line has --hash but no requirement, and pip will ignore it \
                     (a comment or blank line inside a continued requirement ends it)"
                        .to_string()
                }
                OptionKind::ConfigSettings => {
                    "--config-settings applies to the requirement on its line; \
                     this line has none, so pip ignores it"
                        .to_string()
                }
                _ => continue,
            }
        };
        diagnostics.push(warning(item.range.clone(), message));
    }
}

/// Warnings for options pip ignores on a requirement line.
pub(crate) fn check_requirement_options(
    items: &[OptionItem],
    editable: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut editable_seen = false;
    for item in items {
        let message = match item.kind {
            OptionKind::ConfigSettings => continue,
            OptionKind::Editable if editable && !editable_seen => {
                editable_seen = true;
                continue;
            }
            OptionKind::Hash if !editable => continue,
            OptionKind::Hash => "pip ignores --hash on an editable requirement \
                                 (an editable install has no single file to hash)"
                .to_string(),
            OptionKind::Editable => format!(
                "pip installs one requirement per line and ignores `{}`",
                written(item)
            ),
            _ => format!(
                "pip ignores `{}` on a requirement line; put it on a line of its own",
                written(item)
            ),
        };
        diagnostics.push(warning(item.range.clone(), message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_args_from_options_on_single_spaces() {
        assert_eq!(break_args_options("a==1 --hash=x"), ("a==1", 5));
        assert_eq!(break_args_options("a==1  --hash=x"), ("a==1 ", 6));
        assert_eq!(break_args_options("a==1\t--hash=x"), ("a==1\t--hash=x", 13));
        assert_eq!(break_args_options("-r x"), ("", 0));
        assert_eq!(break_args_options("a ; b"), ("a ; b", 5));
    }

    #[test]
    fn matches_long_options_and_abbreviations() {
        assert_eq!(
            match_long("--index-url").unwrap().kind,
            OptionKind::IndexUrl
        );
        assert_eq!(match_long("--pypi-url").unwrap().kind, OptionKind::IndexUrl);
        assert_eq!(
            match_long("--extra-index").unwrap().kind,
            OptionKind::ExtraIndexUrl
        );
        assert_eq!(match_long("--pre").unwrap().kind, OptionKind::Pre);
        assert_eq!(
            match_long("--no").unwrap_err(),
            "ambiguous option: --no (--no-binary, --no-index, --no-require-hashes?)"
        );
        assert!(
            match_long("--requirements")
                .unwrap_err()
                .starts_with("no such option")
        );
        assert!(match_long("--global-option").unwrap_err().contains("25.3"));
    }

    #[test]
    fn checks_hash_values() {
        assert_eq!(check_hash("sha256:ab").unwrap(), ("sha256", "ab", 64));
        assert!(
            check_hash("md5:ab")
                .unwrap_err()
                .contains("sha256, sha384, sha512")
        );
        assert!(
            check_hash("sha256")
                .unwrap_err()
                .contains("hash name followed")
        );
    }
}
