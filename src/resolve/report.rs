//! PubGrub's derivation of a conflict, in plain words: PEP 440 ranges, the file's pins with
//! where they are written, and why releases in a range could not be used (Requires-Python,
//! yanked, pre-release, unusable metadata).

use std::ops::Bound;
use std::sync::Arc;

use pep440_rs::Version;
use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
};

use super::provider::{Pkg, Provider, Range};

type Tree = DerivationTree<Pkg, Range, String>;

pub(crate) fn explain(tree: &Tree, provider: &Provider<'_>) -> String {
    let tree = collapse_gaps(tree.clone(), provider);
    DefaultStringReporter::report_with_formatter(&tree, &Formatter { provider })
}

/// Folds away the "no release in the gaps between listed versions" steps, which PubGrub records
/// whenever it narrows a range to the releases that exist (`a ==2.0 or ==2.1` because nothing lies
/// between them): they are true but say nothing a reader needs. Steps about pinned packages and
/// about releases that exist but cannot be used are kept, since those are the explanation.
fn collapse_gaps(tree: Tree, provider: &Provider<'_>) -> Tree {
    let DerivationTree::Derived(mut derived) = tree else {
        return tree;
    };
    let cause1 = collapse_gaps(Arc::unwrap_or_clone(derived.cause1), provider);
    let cause2 = collapse_gaps(Arc::unwrap_or_clone(derived.cause2), provider);
    let merged = match (&cause1, &cause2) {
        (DerivationTree::External(External::NoVersions(package, gap)), other)
        | (other, DerivationTree::External(External::NoVersions(package, gap)))
            if is_gap(package, gap, provider) =>
        {
            merge_gap(other, package, gap, &derived.terms)
        }
        _ => None,
    };
    if let Some(merged) = merged {
        return merged;
    }
    derived.cause1 = Arc::new(cause1);
    derived.cause2 = Arc::new(cause2);
    DerivationTree::Derived(derived)
}

/// A range of an unpinned package in which the index lists no release at all.
fn is_gap(package: &Pkg, range: &Range, provider: &Provider<'_>) -> bool {
    let Some(name) = package.name() else {
        return false;
    };
    if provider.pins.contains_key(name) {
        return false;
    }
    match provider.candidates(name) {
        Ok(list) => !list.is_empty() && !list.iter().any(|c| range.contains(&c.version)),
        Err(_) => false,
    }
}

/// `other` widened by the gap, when it is a fact about the same package; `terms` are those of
/// the step being replaced (`other`'s terms with the gap added).
fn merge_gap(
    other: &Tree,
    package: &Pkg,
    gap: &Range,
    terms: &Map<Pkg, Term<Range>>,
) -> Option<Tree> {
    let external = match other {
        DerivationTree::External(external) => external,
        DerivationTree::Derived(derived) => {
            let same_otherwise = derived.terms.len() == terms.len()
                && derived
                    .terms
                    .iter()
                    .all(|(p, term)| p == package || terms.get(p) == Some(term));
            if !same_otherwise || !terms.contains_key(package) {
                return None;
            }
            return Some(DerivationTree::Derived(Derived {
                terms: terms.clone(),
                shared_id: None,
                cause1: Arc::clone(&derived.cause1),
                cause2: Arc::clone(&derived.cause2),
            }));
        }
    };
    let merged = match external {
        External::FromDependencyOf(p1, r1, p2, r2) if p1 == package => {
            External::FromDependencyOf(p1.clone(), r1.union(gap), p2.clone(), r2.clone())
        }
        External::FromDependencyOf(p1, r1, p2, r2) if p2 == package => {
            External::FromDependencyOf(p1.clone(), r1.clone(), p2.clone(), r2.union(gap))
        }
        External::Custom(p, r, reason) if p == package => {
            External::Custom(p.clone(), r.union(gap), reason.clone())
        }
        _ => return None,
    };
    Some(DerivationTree::External(merged))
}

struct Formatter<'p, 'a> {
    provider: &'p Provider<'a>,
}

/// `>=1.0, <2.0`; `==1.5`; `(any version)`.
fn range_text(range: &Range) -> String {
    if range == &Range::full() {
        return "(any version)".to_string();
    }
    if range.is_empty() {
        return "(no version)".to_string();
    }
    if let Some(version) = range.as_singleton() {
        return format!("=={version}");
    }
    let mut parts = Vec::new();
    for (low, high) in range.iter() {
        if let (Bound::Included(a), Bound::Included(b)) = (low, high)
            && a == b
        {
            parts.push(format!("=={}", shown(a)));
            continue;
        }
        let low = match low {
            Bound::Included(v) => Some(format!(">={}", shown(v))),
            Bound::Excluded(v) => Some(format!(">{}", shown(v))),
            Bound::Unbounded => None,
        };
        let high = match high {
            Bound::Included(v) => Some(format!("<={}", shown(v))),
            Bound::Excluded(v) => Some(format!("<{}", shown(v))),
            Bound::Unbounded => None,
        };
        parts.push(match (low, high) {
            (Some(l), Some(h)) => format!("{l}, {h}"),
            (Some(l), None) => l,
            (None, Some(h)) => h,
            (None, None) => "(any version)".to_string(),
        });
    }
    parts.join(" or ")
}

/// A range bound without the internal "smallest/largest version" markers `pep440_rs` uses to
/// encode `<2` and `>2` (which PEP 440 defines to exclude 2's pre- and post-releases).
fn shown(version: &Version) -> String {
    if version.min().is_some() || version.max().is_some() {
        version.clone().with_min(None).with_max(None).to_string()
    } else {
        version.to_string()
    }
}

impl Formatter<'_, '_> {
    /// `range` as few segments as agree with it on every listed release of `package`: PubGrub's
    /// ranges are exact (`==2.0 or ==2.1`) where a reader wants `>=2.0`.
    fn simple(&self, package: &Pkg, range: &Range) -> Range {
        let Some(name) = package.name() else {
            return range.clone();
        };
        match self.provider.candidates(name) {
            Ok(list) if !list.is_empty() => range.simplify(list.iter().rev().map(|c| &c.version)),
            _ => range.clone(),
        }
    }

    fn range(&self, package: &Pkg, range: &Range) -> String {
        range_text(&self.simple(package, range))
    }

    /// `numpy >=2` as a requirement says it; simplified only when PubGrub has pieced the range
    /// together from several facts (more than one segment).
    fn requirement(&self, package: &Pkg, range: &Range) -> String {
        let range = if range.iter().count() > 1 {
            self.simple(package, range)
        } else {
            range.clone()
        };
        if range == Range::full() {
            package.to_string()
        } else {
            format!("{package} {}", range_text(&range))
        }
    }

    /// The one listed release of `package` in `range`, if there is exactly one.
    fn only_release(&self, package: &Pkg, range: &Range) -> Option<Version> {
        let list = self.provider.candidates(package.name()?).ok()?;
        let mut inside = list.iter().filter(|c| range.contains(&c.version));
        match (inside.next(), inside.next()) {
            (Some(one), None) => Some(one.version.clone()),
            _ => None,
        }
    }

    /// `a 2.0` for one release, `a >=2` for a range.
    fn package_at(&self, package: &Pkg, range: &Range) -> String {
        if let Some(version) = self.only_release(package, range) {
            return format!("{package} {version}");
        }
        match package {
            Pkg::Root => self.provider.root_name().to_string(),
            _ => match self.simple(package, range).as_singleton() {
                Some(version) => format!("{package} {version}"),
                None if self.simple(package, range) == Range::full() => {
                    format!("every version of {package}")
                }
                None => format!("{package} {}", self.range(package, range)),
            },
        }
    }

    /// Why no release of `package` in `range` can be chosen.
    fn no_versions(&self, package: &Pkg, range: &Range) -> String {
        let Some(name) = package.name() else {
            return format!("{} cannot be used", self.provider.root_name());
        };
        let wanted = format!("{package} {}", self.range(package, range));
        if let Some(pin) = self.provider.pins.get(name)
            && !range.contains(&pin.version)
        {
            return format!(
                "{wanted} is ruled out by the file's pin {name}=={} ({})",
                pin.version, pin.origin
            );
        }
        let candidates = match self.provider.candidates(name) {
            Ok(list) => list,
            Err(err) => return format!("the versions of {name} could not be listed: {err}"),
        };
        if candidates.is_empty() {
            return format!("{name} is not on the package index");
        }
        if let Some(pin) = self.provider.pins.get(name) {
            let pinned = format!("the file pins {name}=={} ({})", pin.version, pin.origin);
            return match candidates.iter().find(|c| c.version == pin.version) {
                None => format!("{pinned}, a version the package index does not list"),
                Some(candidate) => match self.provider.rejection(name, candidate, range) {
                    Some(reason) => format!(
                        "{pinned}, but {name} {} {reason} (the target is Python {})",
                        pin.version,
                        self.provider.python()
                    ),
                    None => pinned,
                },
            };
        }
        let mut reasons = Vec::new();
        for candidate in candidates.iter().filter(|c| range.contains(&c.version)) {
            if let Some(reason) = self.provider.rejection(name, candidate, range) {
                reasons.push(
                    format!("{} is {reason}", candidate.version).replace("is requires", "requires"),
                );
            }
        }
        if reasons.is_empty() {
            return format!("there is no release of {wanted}");
        }
        let total = reasons.len();
        reasons.truncate(3);
        let more = if total > 3 {
            format!(" and {} more", total - 3)
        } else {
            String::new()
        };
        let python = if reasons.iter().any(|r| r.contains("requires Python")) {
            format!(" (the target is Python {})", self.provider.python())
        } else {
            String::new()
        };
        format!(
            "no release of {wanted} can be used: {}{more}{python}",
            reasons.join(", ")
        )
    }
}

impl ReportFormatter<Pkg, Range, String> for Formatter<'_, '_> {
    type Output = String;

    fn format_external(&self, external: &External<Pkg, Range, String>) -> String {
        match external {
            External::NotRoot(..) => format!("we are resolving {}", self.provider.root_name()),
            External::NoVersions(package, range) => self.no_versions(package, range),
            External::FromDependencyOf(Pkg::Root, _, dependency, range) => format!(
                "{} requires {}",
                self.provider.root_name(),
                self.requirement(dependency, range)
            ),
            External::FromDependencyOf(package, package_range, dependency, range) => format!(
                "{} depends on {}",
                self.package_at(package, package_range),
                self.requirement(dependency, range)
            ),
            External::Custom(package, range, reason) => {
                format!(
                    "{} cannot be used: {reason}",
                    self.package_at(package, range)
                )
            }
        }
    }

    fn format_terms(&self, terms: &Map<Pkg, Term<Range>>) -> String {
        let mut terms: Vec<_> = terms.iter().collect();
        terms.sort_by(|a, b| a.0.cmp(b.0));
        match terms.as_slice() {
            [] => format!("{} cannot be resolved", self.provider.root_name()),
            [(Pkg::Root, Term::Positive(_))] => {
                format!("{} cannot be resolved", self.provider.root_name())
            }
            [(package, Term::Positive(range))] => {
                format!("{} cannot be used", self.package_at(package, range))
            }
            [(package, Term::Negative(range))] => {
                format!("{} is required", self.package_at(package, range))
            }
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            [(p1, Term::Negative(r1)), (p2, Term::Positive(r2))] => self.format_external(
                &External::FromDependencyOf((*p2).clone(), r2.clone(), (*p1).clone(), r1.clone()),
            ),
            slice
                if slice
                    .iter()
                    .all(|(_, term)| matches!(term, Term::Positive(_))) =>
            {
                let parts: Vec<_> = slice
                    .iter()
                    .map(|(package, term)| match term {
                        Term::Positive(range) | Term::Negative(range) => {
                            self.package_at(package, range)
                        }
                    })
                    .collect();
                format!("{} cannot be used together", parts.join(" and "))
            }
            slice => {
                let parts: Vec<_> = slice
                    .iter()
                    .map(|(package, term)| match term {
                        Term::Positive(range) => self.package_at(package, range),
                        Term::Negative(range) => {
                            format!("not {}", self.package_at(package, range))
                        }
                    })
                    .collect();
                format!("{} are incompatible", parts.join(", "))
            }
        }
    }

    fn explain_both_external(
        &self,
        external1: &External<Pkg, Range, String>,
        external2: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(external1),
            self.format_external(external2),
            self.format_terms(current_terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Pkg, Range, String>,
        ref_id2: usize,
        derived2: &Derived<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id1}) and {} ({ref_id2}), {}.",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(current_terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Range, String>,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "And because {} ({ref_id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Pkg, Range, String>,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior_external),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }
}
