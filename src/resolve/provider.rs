//! The PubGrub [`DependencyProvider`] over a [`PackageSource`], and the closure built from its
//! answer.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
    SelectedDependencies,
};

use super::markers::settle_extras;
use super::{
    Candidate, Constraint, Metadata, Mode, PackageSource, Requirement, Resolution, ResolveError,
    ResolveInput, Resolved, SourceError, UnknownExtra, Unusable,
};

/// A PubGrub package: the requirement set itself, a real package, or `name[extra]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Pkg {
    Root,
    Base(PackageName),
    Extra(PackageName, ExtraName),
}

impl Pkg {
    pub(crate) fn name(&self) -> Option<&PackageName> {
        match self {
            Pkg::Root => None,
            Pkg::Base(name) | Pkg::Extra(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("the requirements"),
            Pkg::Base(name) => write!(f, "{name}"),
            Pkg::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

pub(crate) type Range = Ranges<Version>;

/// A source's answer for one release, kept so that no release is asked for twice.
type MetadataAnswer = Rc<Result<Metadata, SourceError>>;

/// One dependency edge: `target` in `range`, needed under `marker` (universal mode; `TRUE` in
/// platform mode, where false markers are dropped instead).
#[derive(Clone)]
struct Edge {
    target: Pkg,
    range: Range,
    marker: MarkerTree,
}

pub(crate) struct Provider<'a> {
    source: &'a dyn PackageSource,
    input: &'a ResolveInput,
    pub(crate) pins: HashMap<PackageName, &'a Constraint>,
    root_edges: Vec<Edge>,
    /// Newest first, deduplicated: the index's order is never trusted.
    candidates: RefCell<HashMap<PackageName, Rc<Vec<Candidate>>>>,
    metadata: RefCell<HashMap<(PackageName, Version), MetadataAnswer>>,
    /// Packages for which some specifier names a pre-release: only those may get one.
    prereleases: RefCell<HashSet<PackageName>>,
    unusable: RefCell<BTreeMap<(PackageName, Version), String>>,
    /// An error met where PubGrub cannot take one (in `prioritize`).
    fatal: RefCell<Option<ResolveError>>,
}

impl<'a> Provider<'a> {
    pub(crate) fn new(
        source: &'a dyn PackageSource,
        input: &'a ResolveInput,
    ) -> Result<Self, ResolveError> {
        let pins = input
            .constraints
            .iter()
            .map(|pin| (pin.name.clone(), pin))
            .collect::<HashMap<_, _>>();
        let mut provider = Self {
            source,
            input,
            pins,
            root_edges: Vec::new(),
            candidates: RefCell::default(),
            metadata: RefCell::default(),
            prereleases: RefCell::default(),
            unusable: RefCell::default(),
            fatal: RefCell::default(),
        };
        for pin in &input.constraints {
            if pin.version.any_prerelease() {
                provider.prereleases.borrow_mut().insert(pin.name.clone());
            }
        }
        let root_edges = provider.edges(&input.requirements, None, &input.root_name)?;
        provider.root_edges = root_edges;
        Ok(provider)
    }

    pub(crate) fn root_name(&self) -> &str {
        &self.input.root_name
    }

    pub(crate) fn python(&self) -> &super::PythonTarget {
        &self.input.python
    }

    pub(crate) fn take_fatal(&self) -> Option<ResolveError> {
        self.fatal.borrow_mut().take()
    }

    /// The releases of `name`, newest first.
    pub(crate) fn candidates(
        &self,
        name: &PackageName,
    ) -> Result<Rc<Vec<Candidate>>, ResolveError> {
        if let Some(known) = self.candidates.borrow().get(name) {
            return Ok(Rc::clone(known));
        }
        let mut list = self
            .source
            .versions(name)
            .map_err(|error| ResolveError::Source {
                package: name.to_string(),
                error,
            })?;
        list.sort_by(|a, b| b.version.cmp(&a.version));
        list.dedup_by(|a, b| a.version == b.version);
        let list = Rc::new(list);
        self.candidates
            .borrow_mut()
            .insert(name.clone(), Rc::clone(&list));
        Ok(list)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> MetadataAnswer {
        let key = (name.clone(), version.clone());
        if let Some(known) = self.metadata.borrow().get(&key) {
            return Rc::clone(known);
        }
        let answer = Rc::new(self.source.dependencies(name, version));
        self.metadata.borrow_mut().insert(key, Rc::clone(&answer));
        answer
    }

    /// Why a release cannot be chosen for `range`, or `None` if it can. Shared by
    /// `choose_version` and the conflict report, so that the report says what the choice did.
    pub(crate) fn rejection(
        &self,
        name: &PackageName,
        candidate: &Candidate,
        range: &Range,
    ) -> Option<String> {
        let version = &candidate.version;
        if !range.contains(version) {
            return Some("outside the range".to_string());
        }
        let exact = range.as_singleton() == Some(version);
        if let Some(pin) = self.pins.get(name) {
            if pin.version != *version {
                return Some(format!("the file pins {name}=={}", pin.version));
            }
        } else if candidate.yanked && !exact {
            return Some("yanked".to_string());
        } else if version.any_prerelease() && !exact && !self.prereleases.borrow().contains(name) {
            return Some("a pre-release".to_string());
        }
        if let Some(requires_python) = &candidate.requires_python
            && !self.input.python.allows(requires_python)
        {
            return Some(format!("requires Python {requires_python}"));
        }
        None
    }

    /// The dependency edges of a set of requirements, read in the context of `extra` (the
    /// virtual package `name[extra]`) or of the base package (`None`).
    fn edges(
        &self,
        requirements: &[Requirement],
        extra: Option<&ExtraName>,
        required_by: &str,
    ) -> Result<Vec<Edge>, ResolveError> {
        let mut edges = Vec::new();
        for requirement in requirements {
            let marker = match &self.input.mode {
                Mode::Universal => self
                    .input
                    .python
                    .fix(settle_extras(&requirement.marker, extra)),
                Mode::Platform(env) => {
                    let extras = extra.map(std::slice::from_ref).unwrap_or_default();
                    if requirement.marker.evaluate(env, extras) {
                        MarkerTree::TRUE
                    } else {
                        MarkerTree::FALSE
                    }
                }
            };
            if marker.is_false() {
                continue;
            }
            let range = match &requirement.version_or_url {
                None => Range::full(),
                Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                    if specifiers.iter().any(|s| s.version().any_prerelease()) {
                        self.prereleases
                            .borrow_mut()
                            .insert(requirement.name.clone());
                    }
                    Range::from(specifiers.clone())
                }
                Some(VersionOrUrl::Url(_)) => {
                    return Err(ResolveError::DirectUrl {
                        requirement: requirement.to_string(),
                        required_by: required_by.to_string(),
                    });
                }
            };
            edges.push(Edge {
                target: Pkg::Base(requirement.name.clone()),
                range: range.clone(),
                marker: marker.clone(),
            });
            for requested in &requirement.extras {
                edges.push(Edge {
                    target: Pkg::Extra(requirement.name.clone(), requested.clone()),
                    range: range.clone(),
                    marker: marker.clone(),
                });
            }
        }
        Ok(edges)
    }

    /// The edges out of `package` at `version`, or why that release is unusable.
    fn package_edges(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Result<Vec<Edge>, String>, ResolveError> {
        let (name, extra) = match package {
            Pkg::Root => return Ok(Ok(self.root_edges.clone())),
            Pkg::Base(name) => (name, None),
            Pkg::Extra(name, extra) => (name, Some(extra)),
        };
        let metadata = self.metadata(name, version);
        let metadata = match metadata.as_ref() {
            Ok(metadata) => metadata,
            Err(
                error @ (SourceError::DynamicMetadata { .. } | SourceError::InvalidMetadata { .. }),
            ) => {
                let reason = error.to_string();
                self.unusable
                    .borrow_mut()
                    .insert((name.clone(), version.clone()), reason.clone());
                return Ok(Err(reason));
            }
            Err(error @ SourceError::Unavailable(_)) => {
                return Err(ResolveError::Source {
                    package: format!("{name} {version}"),
                    error: error.clone(),
                });
            }
        };
        if let Some(requires_python) = &metadata.requires_python
            && !self.input.python.allows(requires_python)
        {
            return Ok(Err(format!(
                "its metadata requires Python {requires_python} (target {})",
                self.input.python
            )));
        }
        let mut edges = self.edges(
            &metadata.requires_dist,
            extra,
            &format!("{package} {version}"),
        )?;
        // A package naming itself: `p[a]` requiring `p[b]` is kept (it activates another extra of
        // the same release); `p` requiring `p` or `p[a]` requiring `p[a]` says nothing.
        edges.retain(|edge| edge.target != *package && edge.target != Pkg::Base(name.clone()));
        if extra.is_some() {
            edges.push(Edge {
                target: Pkg::Base(name.clone()),
                range: Range::singleton(version.clone()),
                marker: MarkerTree::TRUE,
            });
        }
        Ok(Ok(edges))
    }

    /// Builds the [`Resolution`] from PubGrub's selection.
    pub(crate) fn closure(
        &self,
        selected: &SelectedDependencies<Self>,
    ) -> Result<Resolution, ResolveError> {
        // The graph among selected packages, in a fixed order.
        let mut nodes: Vec<&Pkg> = selected.keys().collect();
        nodes.sort();
        let mut graph: BTreeMap<&Pkg, Vec<(Pkg, MarkerTree)>> = BTreeMap::new();
        for &node in &nodes {
            let version = &selected[node];
            // PubGrub never selects an unusable release, so `Err` does not occur here.
            let edges: Vec<Edge> = self.package_edges(node, version)?.unwrap_or_default();
            let mut out: Vec<(Pkg, MarkerTree)> = edges
                .into_iter()
                .filter(|edge| selected.contains_key(&edge.target))
                .map(|edge| (edge.target, edge.marker))
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            graph.insert(node, out);
        }

        // Universal mode: a package is needed under the disjunction, over every path from the
        // root, of the conjunction of the markers along it. A fixed point, which also settles
        // cycles: markers only grow, and there are finitely many over the atoms involved.
        let mut needed: HashMap<&Pkg, MarkerTree> = HashMap::new();
        if matches!(self.input.mode, Mode::Universal) {
            needed.insert(&Pkg::Root, MarkerTree::TRUE);
            let mut queue = VecDeque::from([&Pkg::Root]);
            while let Some(node) = queue.pop_front() {
                let here = needed[node].clone();
                for (target, marker) in graph.get(node).into_iter().flatten() {
                    let mut through = here.clone();
                    through.and(marker.clone());
                    let before = needed.get(target).cloned().unwrap_or(MarkerTree::FALSE);
                    let mut after = before.clone();
                    after.or(through);
                    if after != before {
                        let key = nodes.iter().find(|n| **n == target).copied();
                        if let Some(key) = key {
                            needed.insert(key, after);
                            queue.push_back(key);
                        }
                    }
                }
            }
        }

        // `required_by`: the top-level requirements from which each package is reachable.
        let mut required_by: HashMap<&PackageName, BTreeSet<String>> = HashMap::new();
        let mut top_level: HashSet<&PackageName> = HashSet::new();
        for (start, _) in graph.get(&Pkg::Root).into_iter().flatten() {
            let Some(top) = start.name() else { continue };
            top_level.insert(top);
            let mut seen: HashSet<&Pkg> = HashSet::new();
            let mut queue: VecDeque<&Pkg> = VecDeque::from([start]);
            while let Some(node) = queue.pop_front() {
                if !seen.insert(node) {
                    continue;
                }
                for (target, _) in graph.get(node).into_iter().flatten() {
                    if let Some(name) = target.name()
                        && name != top
                    {
                        required_by.entry(name).or_default().insert(top.to_string());
                    }
                    queue.push_back(target);
                }
            }
        }

        // Extras that the chosen release does not declare. Old metadata (before 2.1) has no
        // `Provides-Extra` at all, so an empty list proves nothing.
        let mut unknown_extras = Vec::new();
        for &node in &nodes {
            let Pkg::Extra(name, extra) = node else {
                continue;
            };
            let version = &selected[node];
            if let Ok(metadata) = self.metadata(name, version).as_ref()
                && !metadata.provides_extra.is_empty()
                && !metadata.provides_extra.contains(extra)
            {
                unknown_extras.push(UnknownExtra {
                    name: name.clone(),
                    version: version.clone(),
                    extra: extra.clone(),
                });
            }
        }

        let mut packages = Vec::new();
        for &node in &nodes {
            let Pkg::Base(name) = node else { continue };
            let version = selected[node].clone();
            let marker = needed
                .get(node)
                .filter(|marker| !marker.is_true())
                .and_then(MarkerTree::try_to_string);
            let yanked = self
                .candidates(name)?
                .iter()
                .any(|c| c.version == version && c.yanked);
            packages.push(Resolved {
                name: name.clone(),
                version,
                marker,
                required_by: required_by
                    .remove(name)
                    .map(|set| set.into_iter().collect())
                    .unwrap_or_default(),
                top_level: top_level.contains(name),
                yanked,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        let unusable = self
            .unusable
            .borrow()
            .iter()
            .map(|((name, version), reason)| Unusable {
                name: name.clone(),
                version: version.clone(),
                reason: reason.clone(),
            })
            .collect();
        Ok(Resolution {
            packages,
            unusable,
            unknown_extras,
        })
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Pkg;
    type V = Version;
    type VS = Range;
    type M = String;
    type Err = ResolveError;
    /// Pinned packages first (they have one candidate), then the most conflicted, then the one
    /// with the fewest versions left, as PubGrub's offline provider does.
    type Priority = (bool, u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Range,
        statistics: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let Some(name) = package.name() else {
            return (true, u32::MAX, Reverse(0));
        };
        let pinned = self.pins.contains_key(name);
        let count = match self.candidates(name) {
            Ok(list) => list.iter().filter(|c| range.contains(&c.version)).count(),
            Err(err) => {
                self.fatal.borrow_mut().get_or_insert(err);
                0
            }
        };
        (
            pinned || count == 0,
            statistics.conflict_count(),
            Reverse(count),
        )
    }

    fn choose_version(
        &self,
        package: &Pkg,
        range: &Range,
    ) -> Result<Option<Version>, ResolveError> {
        let Some(name) = package.name() else {
            return Ok(Some(Version::new([0])));
        };
        if let Some(err) = self.take_fatal() {
            return Err(err);
        }
        let list = self.candidates(name)?;
        Ok(list
            .iter()
            .find(|c| self.rejection(name, c, range).is_none())
            .map(|c| c.version.clone()))
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Range, String>, ResolveError> {
        let edges = match self.package_edges(package, version)? {
            Ok(edges) => edges,
            Err(reason) => return Ok(Dependencies::Unavailable(reason)),
        };
        let mut constraints: DependencyConstraints<Pkg, Range> = DependencyConstraints::default();
        for edge in edges {
            constraints
                .entry(edge.target)
                .and_modify(|range| *range = range.intersection(&edge.range))
                .or_insert(edge.range);
        }
        Ok(Dependencies::Available(constraints))
    }
}
