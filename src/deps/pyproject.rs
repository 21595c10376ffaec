//! `pyproject.toml`: every table where a Python build or package manager reads dependencies.
//!
//! - PEP 621 `[project] dependencies` and `[project.optional-dependencies]`;
//! - PEP 735 `[dependency-groups]` (`{include-group = "..."}` entries name a group, not a package);
//! - PEP 518 `[build-system] requires`;
//! - Poetry `[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]` and
//!   `[tool.poetry.group.<group>.dependencies]`, whose keys are names (`python` is not a package);
//! - PDM `[tool.pdm.dev-dependencies]` (editable `-e <path>` entries name no index package);
//! - uv `[tool.uv]` `dev-dependencies`, `constraint-dependencies`, `override-dependencies` and
//!   `build-constraint-dependencies`;
//! - Hatch `[tool.hatch.envs.<env>]` `dependencies` and `extra-dependencies`;
//! - pixi `[tool.pixi.pypi-dependencies]` and `[tool.pixi.feature.<f>.pypi-dependencies]`
//!   (keys are PyPI names; pixi's plain `dependencies` are conda packages and are left out).

use toml_edit::{TableLike, Value};

use super::Extracted;
use super::manifest_toml::{key_names, parse, requirement_array, table, table_path};
use crate::source::SourceFile;

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let Some(doc) = parse(file, &mut out) else {
        return out;
    };
    let root: &dyn TableLike = doc.as_table();
    let no_skip = |_: &Value| false;

    if let Some(project) = table(root, "project") {
        if let Some(deps) = project.get("dependencies") {
            requirement_array(&mut out, file, deps, "[project] dependencies", &no_skip);
        }
        if let Some(extras) = table(project, "optional-dependencies") {
            for (extra, item) in extras.iter() {
                let place = format!("[project.optional-dependencies] {extra}");
                requirement_array(&mut out, file, item, &place, &no_skip);
            }
        }
    }

    if let Some(groups) = table(root, "dependency-groups") {
        let include = |value: &Value| value.as_inline_table().is_some();
        for (group, item) in groups.iter() {
            let place = format!("[dependency-groups] {group}");
            requirement_array(&mut out, file, item, &place, &include);
        }
    }

    if let Some(requires) = table(root, "build-system").and_then(|t| t.get("requires")) {
        requirement_array(
            &mut out,
            file,
            requires,
            "[build-system] requires",
            &no_skip,
        );
    }

    if let Some(poetry) = table_path(root, &["tool", "poetry"]) {
        let not_python = |name: &str| name.eq_ignore_ascii_case("python");
        for key in ["dependencies", "dev-dependencies"] {
            if let Some(deps) = table(poetry, key) {
                let place = format!("[tool.poetry.{key}]");
                key_names(&mut out, file, deps, &place, &not_python);
            }
        }
        if let Some(groups) = table(poetry, "group") {
            for (group, item) in groups.iter() {
                let deps = item.as_table_like().and_then(|g| table(g, "dependencies"));
                if let Some(deps) = deps {
                    let place = format!("[tool.poetry.group.{group}.dependencies]");
                    key_names(&mut out, file, deps, &place, &not_python);
                }
            }
        }
    }

    if let Some(dev) = table_path(root, &["tool", "pdm", "dev-dependencies"]) {
        let editable = |value: &Value| {
            value.as_str().is_some_and(|s| {
                let s = s.trim_start();
                s.starts_with("-e ") || s.starts_with("--editable")
            })
        };
        for (group, item) in dev.iter() {
            let place = format!("[tool.pdm.dev-dependencies] {group}");
            requirement_array(&mut out, file, item, &place, &editable);
        }
    }

    if let Some(uv) = table_path(root, &["tool", "uv"]) {
        for key in [
            "dev-dependencies",
            "constraint-dependencies",
            "override-dependencies",
            "build-constraint-dependencies",
        ] {
            if let Some(item) = uv.get(key) {
                let place = format!("[tool.uv] {key}");
                requirement_array(&mut out, file, item, &place, &no_skip);
            }
        }
    }

    if let Some(envs) = table_path(root, &["tool", "hatch", "envs"]) {
        for (env, item) in envs.iter() {
            let Some(env_table) = item.as_table_like() else {
                continue;
            };
            for key in ["dependencies", "extra-dependencies"] {
                if let Some(deps) = env_table.get(key) {
                    let place = format!("[tool.hatch.envs.{env}] {key}");
                    requirement_array(&mut out, file, deps, &place, &no_skip);
                }
            }
        }
    }

    if let Some(pixi) = table_path(root, &["tool", "pixi"]) {
        let nothing = |_: &str| false;
        if let Some(deps) = table(pixi, "pypi-dependencies") {
            key_names(
                &mut out,
                file,
                deps,
                "[tool.pixi.pypi-dependencies]",
                &nothing,
            );
        }
        if let Some(features) = table(pixi, "feature") {
            for (feature, item) in features.iter() {
                let deps = item
                    .as_table_like()
                    .and_then(|f| table(f, "pypi-dependencies"));
                if let Some(deps) = deps {
                    let place = format!("[tool.pixi.feature.{feature}.pypi-dependencies]");
                    key_names(&mut out, file, deps, &place, &nothing);
                }
            }
        }
    }

    out.deps.sort_by_key(|dep| dep.span);
    out.findings.sort_by_key(|finding| finding.span());
    out
}
