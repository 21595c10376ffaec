//! Markers as the resolver needs them: extras settled per virtual package, the Python version
//! fixed to the target, everything else left free (universal mode).

use std::fmt;
use std::ops::Bound;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, ExtraOperator, MarkerExpression, MarkerTree, MarkerValueExtra};

/// The Python the resolution is for: `3.11` (any 3.11.x) or `3.11.4` (exactly that release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonTarget {
    version: Version,
    /// `python_full_version` is in `[lower, upper]` (upper excluded for `X.Y`).
    lower: Version,
    upper: Bound<Version>,
    range: MarkerTree,
}

impl PythonTarget {
    /// `version` must be `X.Y` or `X.Y.Z`.
    pub fn new(version: Version) -> Result<Self, String> {
        let release = version.release();
        if version.any_prerelease()
            || version.is_post()
            || version.is_local()
            || version.epoch() != 0
            || !(2..=3).contains(&release.len())
        {
            return Err(format!(
                "invalid Python version {version}: expected X.Y or X.Y.Z"
            ));
        }
        let lower = Version::new(release);
        let (upper, range) = if release.len() == 2 {
            let upper = Version::new([release[0], release[1] + 1]);
            let text =
                format!("python_full_version >= '{lower}' and python_full_version < '{upper}'");
            (Bound::Excluded(upper), text)
        } else {
            let text = format!("python_full_version == '{lower}'");
            (Bound::Included(lower.clone()), text)
        };
        let range = MarkerTree::from_str(&range).map_err(|err| err.to_string())?;
        Ok(Self {
            version,
            lower,
            upper,
            range,
        })
    }

    pub fn version(&self) -> &Version {
        &self.version
    }

    /// Whether a release with this `Requires-Python` installs on the target.
    pub fn allows(&self, requires_python: &VersionSpecifiers) -> bool {
        requires_python.contains(&self.version)
    }

    /// `marker` with the Python version fixed to the target: `FALSE` when no target Python
    /// satisfies it, else the marker without the Python terms the target settles.
    pub(crate) fn fix(&self, marker: MarkerTree) -> MarkerTree {
        let mut fixed = marker;
        fixed.and(self.range.clone());
        if fixed.is_false() {
            return MarkerTree::FALSE;
        }
        let upper = match &self.upper {
            Bound::Included(v) => Bound::Included(v),
            Bound::Excluded(v) => Bound::Excluded(v),
            Bound::Unbounded => Bound::Unbounded,
        };
        let simplified = fixed.simplify_python_versions(Bound::Included(&self.lower), upper);
        if simplified.is_false() {
            MarkerTree::FALSE
        } else {
            simplified
        }
    }
}

impl FromStr for PythonTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let version = Version::from_str(text.trim())
            .map_err(|err| format!("invalid Python version {text:?}: {err}"))?;
        Self::new(version)
    }
}

impl fmt::Display for PythonTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.version)
    }
}

/// `marker` with every `extra` term decided: `extra == active` holds, any other extra does not.
/// (`MarkerTree::simplify_extras` can only set extras to true, so this goes through the DNF.)
pub(crate) fn settle_extras(marker: &MarkerTree, active: Option<&ExtraName>) -> MarkerTree {
    if marker.is_true() || marker.is_false() {
        return marker.clone();
    }
    // Most markers name no extra: setting every extra to true changes nothing, and the DNF
    // (exponential in the worst case) is not needed.
    if marker.clone().simplify_extras_with(|_| true) == *marker {
        return marker.clone();
    }
    let mut settled = MarkerTree::FALSE;
    for clause in marker.to_dnf() {
        let mut conjunction = MarkerTree::TRUE;
        let mut holds = true;
        for expression in clause {
            if let MarkerExpression::Extra { operator, name } = &expression {
                let is_active =
                    matches!((name, active), (MarkerValueExtra::Extra(name), Some(a)) if name == a);
                let value = match operator {
                    ExtraOperator::Equal => is_active,
                    ExtraOperator::NotEqual => !is_active,
                };
                if !value {
                    holds = false;
                    break;
                }
            } else {
                conjunction.and(MarkerTree::expression(expression));
            }
        }
        if holds {
            settled.or(conjunction);
        }
    }
    settled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(text: &str) -> MarkerTree {
        MarkerTree::from_str(text).unwrap()
    }

    fn shown(tree: &MarkerTree) -> String {
        if tree.is_false() {
            return "false".to_string();
        }
        tree.try_to_string().unwrap_or_else(|| "true".to_string())
    }

    #[test]
    fn python_terms_are_fixed_to_the_target() {
        let py = PythonTarget::from_str("3.11").unwrap();
        assert_eq!(shown(&py.fix(marker("python_version < '3.8'"))), "false");
        assert_eq!(shown(&py.fix(marker("python_version >= '3.8'"))), "true");
        assert_eq!(
            shown(&py.fix(marker(
                "python_version >= '3.8' and sys_platform == 'win32'"
            ))),
            "sys_platform == 'win32'"
        );
        // Within 3.11 the patch level stays free.
        assert_eq!(
            shown(&py.fix(marker("python_full_version >= '3.11.2'"))),
            "python_full_version >= '3.11.2'"
        );
        let exact = PythonTarget::from_str("3.11.4").unwrap();
        assert_eq!(
            shown(&exact.fix(marker("python_full_version >= '3.11.2'"))),
            "true"
        );
    }

    #[test]
    fn invalid_targets_are_errors() {
        assert!(PythonTarget::from_str("3").is_err());
        assert!(PythonTarget::from_str("3.12rc1").is_err());
        assert!(PythonTarget::from_str("three").is_err());
    }

    #[test]
    fn extras_are_settled() {
        let dev: ExtraName = "dev".parse().unwrap();
        let m = marker("extra == 'dev' and sys_platform == 'linux'");
        assert_eq!(
            shown(&settle_extras(&m, Some(&dev))),
            "sys_platform == 'linux'"
        );
        assert_eq!(shown(&settle_extras(&m, None)), "false");
        let other: ExtraName = "docs".parse().unwrap();
        assert_eq!(shown(&settle_extras(&m, Some(&other))), "false");
        let m = marker("extra != 'dev' or os_name == 'nt'");
        assert_eq!(shown(&settle_extras(&m, None)), "true");
        assert_eq!(shown(&settle_extras(&m, Some(&dev))), "os_name == 'nt'");
    }
}
