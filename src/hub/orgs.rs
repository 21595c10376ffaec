//! Trusted organisations and the namespaces that imitate them.
//!
//! The default list is `src/data/hub-trusted-orgs.txt`; `[hub] trusted-orgs` adds a project's
//! own. Namespaces are compared ignoring case (the Hub resolves them that way). A look-alike is
//! judged on a skeleton: lower case, known confusable characters folded to ASCII, digits that
//! pass for letters (`0penai`, `EIeutherAI` with a capital I) folded, separators removed.

use crate::typo::ascii_lookalike;

const BUILTIN: &str = include_str!("../data/hub-trusted-orgs.txt");

/// The trusted namespaces, with their skeletons precomputed.
#[derive(Clone, Debug)]
pub struct TrustedOrgs {
    orgs: Vec<(String, String)>,
}

/// What a namespace is, against the trusted list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgVerdict {
    Trusted,
    /// Imitates the trusted organisation `imitated`, for the reason given.
    Lookalike {
        imitated: String,
        why: String,
    },
    Untrusted,
}

impl TrustedOrgs {
    /// The built-in list plus `extra` (a project's own organisations).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(extra: I) -> TrustedOrgs {
        let mut orgs: Vec<(String, String)> = Vec::new();
        let builtin = BUILTIN
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(str::to_string);
        for name in builtin.chain(extra.into_iter().map(|s| s.as_ref().trim().to_string())) {
            if name.is_empty() || orgs.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                continue;
            }
            let skel = skeleton(&name);
            orgs.push((name, skel));
        }
        TrustedOrgs { orgs }
    }

    pub fn len(&self) -> usize {
        self.orgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orgs.is_empty()
    }

    pub fn is_trusted(&self, org: &str) -> bool {
        self.orgs
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(org))
    }

    /// Whether `org` is trusted, imitates a trusted organisation, or is merely unknown.
    pub fn judge(&self, org: &str) -> OrgVerdict {
        if self.is_trusted(org) {
            return OrgVerdict::Trusted;
        }
        let skel = skeleton(org);
        let mut best: Option<(usize, &str, String)> = None;
        for (name, trusted) in &self.orgs {
            let why = if !org.is_ascii() && skel == *trusted {
                Some((0, "non-ASCII look-alike characters".to_string()))
            } else if skel == *trusted {
                Some((
                    0,
                    "the same letters with other digits or separators".to_string(),
                ))
            } else if let Some(d) = close(&skel, trusted) {
                Some((
                    d,
                    if d == 1 {
                        "one edit away".to_string()
                    } else {
                        format!("{d} edits away")
                    },
                ))
            } else if trusted.len() >= 5
                && skel.len() >= trusted.len() + 2
                && skel.contains(trusted.as_str())
            {
                Some((3, "the name with words added".to_string()))
            } else {
                None
            };
            if let Some((rank, why)) = why
                && best.as_ref().is_none_or(|(r, _, _)| rank < *r)
            {
                best = Some((rank, name, why));
            }
        }
        match best {
            Some((_, name, why)) => OrgVerdict::Lookalike {
                imitated: name.to_string(),
                why,
            },
            None => OrgVerdict::Untrusted,
        }
    }
}

/// Model families and the organisation that publishes them: a family name under an unknown
/// namespace is a re-upload at best, an impersonation at worst.
const FAMILIES: &[(&str, &str)] = &[
    ("llama", "meta-llama"),
    ("meta-llama", "meta-llama"),
    ("mistral", "mistralai"),
    ("mixtral", "mistralai"),
    ("qwen", "Qwen"),
    ("gemma", "google"),
    ("phi-", "microsoft"),
    ("gpt-oss", "openai"),
    ("whisper", "openai"),
    ("deepseek", "deepseek-ai"),
    ("stable-diffusion", "stabilityai"),
    ("flux.1", "black-forest-labs"),
    ("falcon", "tiiuae"),
    ("gpt-j", "EleutherAI"),
    ("gpt-neox", "EleutherAI"),
    ("pythia", "EleutherAI"),
    ("bge-", "BAAI"),
];

/// The organisation whose model family `name` (the part after the `/`) belongs to, if any.
pub fn family_owner(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    FAMILIES
        .iter()
        .find(|(prefix, _)| lower.starts_with(prefix))
        .map(|(_, org)| *org)
}

/// The optimal string alignment distance when it is small for the length: 1 from 4 characters,
/// 2 from 9 (shorter names are too often one edit apart by chance).
fn close(a: &str, b: &str) -> Option<usize> {
    let shorter = a.len().min(b.len());
    let limit = match shorter {
        0..=3 => return None,
        4..=8 => 1,
        _ => 2,
    };
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let d = strsim::osa_distance(a, b);
    (d >= 1 && d <= limit).then_some(d)
}

/// Lower case, confusables folded, look-alike digits folded, separators dropped.
pub fn skeleton(name: &str) -> String {
    let folded: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c
            } else {
                ascii_lookalike(c).unwrap_or(c)
            }
        })
        .collect();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            '-' | '_' | '.' | ' ' => {}
            // Before lower-casing: a capital I passes for an l in most fonts.
            'I' => out.push('l'),
            '0' => out.push('o'),
            '1' => out.push('l'),
            '3' => out.push('e'),
            '5' => out.push('s'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(org: &str) -> OrgVerdict {
        TrustedOrgs::new(["acme-labs"]).judge(org)
    }

    #[test]
    fn trusted_ignores_case_and_takes_project_orgs() {
        assert_eq!(verdict("meta-llama"), OrgVerdict::Trusted);
        assert_eq!(verdict("qwen"), OrgVerdict::Trusted);
        assert_eq!(verdict("ACME-labs"), OrgVerdict::Trusted);
    }

    #[test]
    fn lookalikes_of_known_incidents() {
        for (org, imitated) in [
            ("EleuterAI", "EleutherAI"),
            ("meta-lama", "meta-llama"),
            ("0penai", "openai"),
            ("meta_llama", "meta-llama"),
            ("micros0ft", "microsoft"),
            ("openai-official", "openai"),
            ("\u{043e}penai", "openai"),
        ] {
            match verdict(org) {
                OrgVerdict::Lookalike { imitated: got, .. } => assert_eq!(got, imitated, "{org}"),
                other => panic!("{org}: {other:?}"),
            }
        }
    }

    #[test]
    fn unrelated_names_are_only_untrusted() {
        for org in ["someone", "TheBloke", "lmsys", "acme"] {
            assert_eq!(verdict(org), OrgVerdict::Untrusted, "{org}");
        }
    }
}
