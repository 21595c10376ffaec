//! The Python version files must support when no `--python-version` is given.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{MarkerTree, MarkerTreeKind, MarkerValueVersion};

/// The oldest CPython still supported upstream on 2026-11-27: 3.10 reached its end of life in
/// October 2026, so 3.11 is the oldest version a project can still be installed on with
/// security fixes. Bump it when 3.11 reaches its end of life (October 2027).
pub const FALLBACK: &str = "3.11";

pub fn fallback() -> Version {
    Version::from_str(FALLBACK).unwrap_or_else(|_| Version::new([3, 11]))
}

/// The lowest Python version `requires_python` allows: `>=3.9` gives 3.9, `>=3.9.2,<4` gives
/// 3.9.2, `~=3.10` gives 3.10. `None` when the specifier does not parse or allows no 3.x.
pub fn lowest_allowed(requires_python: &str) -> Option<Version> {
    let specifiers = VersionSpecifiers::from_str(requires_python.trim()).ok()?;
    // Candidates: every 3.x minor, plus the versions the specifier names (a patch-level lower
    // bound such as `>=3.9.2` is the lowest allowed itself).
    let mut candidates: Vec<Version> = (0..=40u64).map(|minor| Version::new([3, minor])).collect();
    candidates.extend(specifiers.iter().map(|s| s.version().clone()));
    candidates.sort();
    candidates
        .into_iter()
        .filter(|v| v.release().first() == Some(&3))
        .find(|v| specifiers.contains(v))
}

/// The Python version to choose files for when a requirement carries `marker`: `target` when
/// the marker admits it, else the 3.x version nearest to `target` that the marker admits
/// (`numpy<2 ; python_version < "3.10"` is chosen for 3.9, not for a target of 3.11 it will never
/// be installed on). Markers on anything but `python_version` do not move the target.
pub fn for_marker(marker: &MarkerTree, target: &Version) -> Version {
    let admits = |v: &Version| admits_python(marker, v);
    if admits(target) {
        return target.clone();
    }
    let target_minor = target.release().get(1).copied().unwrap_or(0);
    (0..=40u64)
        .filter(|minor| admits(&Version::new([3, *minor])))
        .min_by_key(|minor| (minor.abs_diff(target_minor), *minor))
        .map_or_else(|| target.clone(), |minor| Version::new([3, minor]))
}

/// Whether some environment with Python `python` satisfies `marker`: every other variable is
/// free. (`pep508_rs` stores `python_version` as `python_full_version` ranges, which
/// `evaluate_extras_and_python_version` does not look at, hence this walk.)
fn admits_python(marker: &MarkerTree, python: &Version) -> bool {
    match marker.kind() {
        MarkerTreeKind::True => true,
        MarkerTreeKind::False => false,
        MarkerTreeKind::Version(node) => {
            let is_python = matches!(
                node.key(),
                MarkerValueVersion::PythonVersion | MarkerValueVersion::PythonFullVersion
            );
            node.edges().any(|(range, child)| {
                (!is_python || range.contains(python)) && admits_python(&child, python)
            })
        }
        MarkerTreeKind::String(node) => node.children().any(|(_, c)| admits_python(&c, python)),
        MarkerTreeKind::In(node) => node.children().any(|(_, c)| admits_python(&c, python)),
        MarkerTreeKind::Contains(node) => node.children().any(|(_, c)| admits_python(&c, python)),
        MarkerTreeKind::Extra(node) => node.children().any(|(_, c)| admits_python(&c, python)),
    }
}

/// `[project] requires-python` of `pyproject.toml` text, if any.
pub fn from_pyproject(text: &str) -> Option<Version> {
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    let requires = doc.get("project")?.get("requires-python")?.as_str()?;
    lowest_allowed(requires)
}

/// The target Python: `explicit` if given, else the lowest version the root's `pyproject.toml`
/// allows, else [`FALLBACK`]. The file is read as scanned files are (inside the root, a regular
/// file, capped); one that cannot be read gives the fallback, and the scan reports it.
pub fn target_version(explicit: Option<&str>, root: &std::path::Path) -> Result<Version, String> {
    if let Some(text) = explicit {
        return Version::from_str(text.trim())
            .map_err(|e| format!("--python-version `{text}` is not a version: {e}"));
    }
    let from_project = crate::files::read(root, std::path::Path::new("pyproject.toml"))
        .ok()
        .and_then(|file| from_pyproject(&file.text));
    Ok(from_project.unwrap_or_else(fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_allowed_versions() {
        let v = |s: &str| lowest_allowed(s).map(|v| v.to_string());
        assert_eq!(v(">=3.9"), Some("3.9".into()));
        assert_eq!(v(">=3.9.2, <4"), Some("3.9.2".into()));
        assert_eq!(v("~=3.10"), Some("3.10".into()));
        assert_eq!(v(">3.11"), Some("3.12".into()));
        assert_eq!(v("!=3.8.*, >=3.8"), Some("3.9".into()));
        assert_eq!(v("<3"), None);
        assert_eq!(v("garbage"), None);
    }

    #[test]
    fn markers_move_the_target_to_the_nearest_python_they_admit() {
        let at = |marker: &str, target: &str| {
            let tree = MarkerTree::from_str(marker).unwrap();
            for_marker(&tree, &Version::from_str(target).unwrap()).to_string()
        };
        assert_eq!(at("python_version < \"3.10\"", "3.11"), "3.9");
        assert_eq!(at("python_version >= \"3.13\"", "3.11"), "3.13");
        assert_eq!(at("python_version >= \"3.9\"", "3.11"), "3.11");
        assert_eq!(at("sys_platform == \"win32\"", "3.11"), "3.11");
        assert_eq!(at("python_version < \"3\"", "3.11"), "3.11");
    }

    #[test]
    fn pyproject_and_fallback() {
        let text = "[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n";
        assert_eq!(from_pyproject(text).unwrap().to_string(), "3.12");
        assert_eq!(from_pyproject("[project]\nname = \"x\"\n"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            target_version(None, dir.path()).unwrap().to_string(),
            "3.11"
        );
        std::fs::write(dir.path().join("pyproject.toml"), text).unwrap();
        assert_eq!(
            target_version(None, dir.path()).unwrap().to_string(),
            "3.12"
        );
        assert_eq!(
            target_version(Some("3.13"), dir.path())
                .unwrap()
                .to_string(),
            "3.13"
        );
        assert!(target_version(Some("three"), dir.path()).is_err());
    }
}
