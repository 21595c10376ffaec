//! The transitive closure of a requirements file, resolved with PubGrub.
//!
//! [`resolve`] asks a [`PackageSource`] (the package index plus distribution metadata in the pin
//! tool; an in-memory table in tests) for the versions of each package and the requirements of
//! each version, and returns one version per package with the marker under which it is needed and
//! the top-level requirements that pull it in. A conflict comes back as [`ResolveError::NoSolution`]
//! with PubGrub's derivation written out in plain words, naming the file's own pins.
//!
//! Packages with extras are virtual packages (`name[extra]`) that depend on the base package at
//! the same version plus the extra's requirements, as in uv and PubGrub's own examples.
//!
//! Wiring (for `mlsupply-pin`): parse the file's index requirements with [`parse_requirement`]
//! (URL, VCS and editable lines are the caller's business), pass each `==` pin as a
//! [`Constraint`] with its `file:line`, and write one line per [`Resolved`] the file lacks, with
//! its `marker` and `# via` the names in `required_by`. Choices the resolver makes:
//! - the newest usable release wins; the order in which the source lists releases is ignored;
//! - a release whose Requires-Python (index or metadata) excludes the target is passed over;
//! - a yanked release only when a range pins exactly that version (PEP 592), and it is flagged;
//! - a pre-release only when some specifier on that package names a pre-release, or a pin;
//! - universal mode keeps one version per package (no forking by marker, unlike uv): two
//!   requirements that want different versions on different platforms are a conflict.

mod markers;
mod provider;
mod report;

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Pep508Url};

pub use markers::PythonTarget;

/// A requirement as read from `Requires-Dist` or a requirements file. Direct URLs are kept as
/// written (never expanded, never fetched): see [`UrlText`].
pub type Requirement = pep508_rs::Requirement<UrlText>;

/// The target of a `name @ url` requirement, verbatim. Unlike `pep508_rs`'s default URL type it
/// does not expand `${VAR}` (a scanned file must not make us read the environment), and it shows
/// itself with any credentials masked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlText(pub String);

impl fmt::Display for UrlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `scheme://user:token@host/...` shows as `scheme://****@host/...`.
        if let Some(scheme_end) = self.0.find("://") {
            let rest = &self.0[scheme_end + 3..];
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            if let Some(at) = rest[..authority_end].rfind('@') {
                return write!(f, "{}://****{}", &self.0[..scheme_end], &rest[at..]);
            }
        }
        f.write_str(&self.0)
    }
}

impl Pep508Url for UrlText {
    type Err = std::convert::Infallible;

    fn parse_url(url: &str, _working_dir: Option<&std::path::Path>) -> Result<Self, Self::Err> {
        Ok(UrlText(url.to_string()))
    }
}

/// Parses one PEP 508 requirement from untrusted text, as an error rather than a panic.
///
/// Goes through [`crate::pep508::parse`], which answers the inputs `pep508_rs` would panic on.
pub fn parse_requirement(text: &str) -> Result<Requirement, String> {
    crate::pep508::parse(text)
        .map_err(|failure| format!("invalid requirement {text:?}: {}", failure.message))
}

/// One release of a package as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: Version,
    /// `data-requires-python` / `requires-python` of the release's files, when the index gives it.
    pub requires_python: Option<VersionSpecifiers>,
    /// PEP 592: chosen only when a requirement pins exactly this version.
    pub yanked: bool,
}

/// The core metadata of one release that resolution needs.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
}

/// Why a source could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The release has only an sdist whose `Requires-Dist` is dynamic: its dependencies are known
    /// only by building it, which this tool never does. Resolution treats that version as
    /// unusable, tries others, and names it in [`Resolution::unusable`].
    #[error(
        "{name} {version} publishes only an sdist with dynamic metadata (it would have to be built, which mlsupply never does)"
    )]
    DynamicMetadata { name: String, version: String },
    /// The metadata exists but cannot be read (bad `METADATA`, unparsable `Requires-Dist`, ...).
    /// Also treated as an unusable version.
    #[error("the metadata of {name} {version} is invalid: {message}")]
    InvalidMetadata {
        name: String,
        version: String,
        message: String,
    },
    /// The index or the network failed: resolution stops, since its answer would be incomplete.
    #[error("{0}")]
    Unavailable(String),
}

/// Where resolution gets its facts. Implemented over the package index and metadata in the pin
/// tool, and in memory in tests.
pub trait PackageSource {
    /// Every release of `name`, in any order. An unknown package is an empty list.
    fn versions(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError>;
    /// The metadata of one release.
    fn dependencies(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError>;
}

/// Which environments the resolution must serve.
#[derive(Debug, Clone)]
pub enum Mode {
    /// One version per package, valid on every platform; each package carries the marker under
    /// which it is needed. Markers are evaluated with the Python version fixed to the target and
    /// every other variable free.
    Universal,
    /// Markers evaluated for one environment; requirements whose marker is false are dropped.
    Platform(MarkerEnvironment),
}

/// A version the file already pins: it is the only version of that package resolution may
/// choose, if the package is needed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: PackageName,
    pub version: Version,
    /// Where the pin is written, for error messages (`requirements.txt:12`).
    pub origin: String,
}

/// What to resolve.
#[derive(Debug, Clone)]
pub struct ResolveInput {
    /// The file's requirements (PEP 508, with extras and markers). Direct URLs are an error: the
    /// caller handles those lines itself.
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Constraint>,
    pub python: PythonTarget,
    pub mode: Mode,
    /// How the requirement set is named in explanations (`requirements.txt`).
    pub root_name: String,
}

/// One package of the closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: PackageName,
    pub version: Version,
    /// Universal mode: the marker under which the package is needed, simplified for the target
    /// Python; `None` when it is needed everywhere. Always `None` in platform mode.
    pub marker: Option<String>,
    /// The top-level requirements (sorted, normalised names) that pull this package in through at
    /// least one dependency. A top-level package is not listed as requiring itself.
    pub required_by: Vec<String>,
    /// The package is itself one of the input requirements.
    pub top_level: bool,
    /// The chosen version is yanked (only ever chosen when pinned exactly).
    pub yanked: bool,
}

/// A release that resolution had to pass over because its metadata is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub name: PackageName,
    pub version: Version,
    pub reason: String,
}

/// A requested extra that the chosen release does not declare in `Provides-Extra` (pip warns
/// and installs the package without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownExtra {
    pub name: PackageName,
    pub version: Version,
    pub extra: ExtraName,
}

/// The resolved closure, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub packages: Vec<Resolved>,
    /// Releases skipped because their metadata is dynamic or invalid, sorted.
    pub unusable: Vec<Unusable>,
    /// Extras requested of a chosen release that does not provide them, sorted.
    pub unknown_extras: Vec<UnknownExtra>,
}

impl Resolution {
    /// The entry for `name`, if the closure contains it.
    pub fn get(&self, name: &str) -> Option<&Resolved> {
        let name = PackageName::from_str(name).ok()?;
        self.packages.iter().find(|p| p.name == name)
    }
}

/// Why there is no resolution.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    /// The requirements conflict; `explanation` is the derivation in plain words.
    #[error("the requirements cannot be resolved:\n{explanation}")]
    NoSolution { explanation: String },
    /// The source failed for a reason that is not about one release (network, index).
    #[error("cannot resolve: {package}: {error}")]
    Source { package: String, error: SourceError },
    /// A requirement points at a direct URL, which this resolver does not follow.
    #[error(
        "{requirement} (required by {required_by}) is a direct URL dependency; it cannot be pinned from the index"
    )]
    DirectUrl {
        requirement: String,
        required_by: String,
    },
}

/// Resolves the closure of `input` against `source`.
pub fn resolve(
    source: &dyn PackageSource,
    input: &ResolveInput,
) -> Result<Resolution, ResolveError> {
    let provider = provider::Provider::new(source, input)?;
    let selected = match pubgrub::resolve(&provider, provider::Pkg::Root, Version::new([0])) {
        Ok(selected) => selected,
        Err(pubgrub::PubGrubError::NoSolution(tree)) => {
            if let Some(err) = provider.take_fatal() {
                return Err(err);
            }
            return Err(ResolveError::NoSolution {
                explanation: report::explain(&tree, &provider),
            });
        }
        Err(pubgrub::PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(pubgrub::PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(pubgrub::PubGrubError::ErrorInShouldCancel(source)) => return Err(source),
    };
    provider.closure(&selected)
}
