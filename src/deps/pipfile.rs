//! `Pipfile` (pipenv): the keys of `[packages]`, `[dev-packages]` and of any other package
//! category table are package names (`"zope.interface" = "*"` included).
//!
//! pipenv treats every top-level table other than its own settings (`[[source]]`, `[requires]`,
//! `[pipenv]`, `[scripts]`) as a category. A custom table counts here when its entries look
//! like packages: each value a version string (`"*"`, `">=1.0"`) or a table (`{version = ...}`,
//! `{git = ...}`), so a stray settings table of numbers or booleans is not read as names.

use toml_edit::{Item, TableLike, Value};

use super::Extracted;
use super::manifest_toml::{key_names, parse};
use crate::source::SourceFile;

/// Top-level Pipfile tables that hold settings, not packages.
const NOT_CATEGORIES: &[&str] = &["source", "requires", "pipenv", "scripts"];

pub fn extract(file: &SourceFile) -> Extracted {
    let mut out = Extracted::default();
    let Some(doc) = parse(file, &mut out) else {
        return out;
    };
    let nothing = |_: &str| false;
    for (name, item) in doc.as_table().iter() {
        if NOT_CATEGORIES.contains(&name) {
            continue;
        }
        let Some(category) = item.as_table_like() else {
            continue;
        };
        let known = matches!(name, "packages" | "dev-packages");
        if known || looks_like_packages(category) {
            key_names(&mut out, file, category, &format!("[{name}]"), &nothing);
        }
    }
    out.deps.sort_by_key(|dep| dep.span);
    out.findings.sort_by_key(|finding| finding.span());
    out
}

fn looks_like_packages(table: &dyn TableLike) -> bool {
    !table.is_empty()
        && table.iter().all(|(_, item)| match item {
            Item::Value(Value::String(_) | Value::InlineTable(_)) | Item::Table(_) => true,
            Item::Value(_) | Item::ArrayOfTables(_) | Item::None => false,
        })
}
