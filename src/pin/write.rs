//! Writing one fixed requirement back into its file, leaving every other byte alone.

use std::ops::Range;

use crate::reqfile::{Edit, Entry, OptionKind, ReqFile, Requirement};

/// The text a fixed requirement becomes, and the range it replaces. `pin` is the operator and
/// version, `==1.2` (or `===1.2` when the file said so).
///
/// ```text
/// name[extras]==version ; marker \
///     -C key=value \
///     --hash=sha256:<first> \
///     --hash=sha256:<last>  # the line's comment
/// ```
///
/// The name, extras and marker are copied as written (a `${VAR}` in a marker stays a
/// reference, never its value); other per-requirement options (`-C`) are kept verbatim; hashes
/// are sorted. The replaced range runs from the requirement to the end of its logical line, so
/// leading indentation and the line ending after the entry are untouched, and a missing final
/// newline stays missing.
pub fn fix_edit(
    text: &str,
    file: &ReqFile,
    entry: &Entry,
    req: &Requirement,
    name_and_extras: Range<usize>,
    pin: &str,
    hashes: &[String],
) -> Edit {
    let newline = newline_of(text, file, entry);
    let mut out = String::new();
    out.push_str(&text[name_and_extras]);
    out.push_str(pin);
    if let Some(marker) = req.marker() {
        out.push_str(" ; ");
        out.push_str(&marker.text);
    }
    for option in &req.options {
        if option.kind == OptionKind::Hash {
            continue;
        }
        out.push_str(" \\");
        out.push_str(newline);
        out.push_str("    ");
        out.push_str(&text[option.range.clone()]);
    }
    push_hash_lines(&mut out, hashes, newline);
    if let Some(comment) = comment_text(text, entry) {
        // A comment cannot stay where it was: pip strips from `#` to the end of the *logical*
        // line, so a comment before the ` \` would swallow every `--hash` line after it. After
        // the last hash line it ends the logical line and hides nothing.
        out.push_str("  ");
        out.push_str(comment);
    }
    Edit {
        range: req.range.start..entry.range.end,
        text: out,
    }
}

/// A new pinned requirement in the same layout as [`fix_edit`] writes, without its final line
/// ending: `name==version ; marker \` then one `    --hash=sha256:…` line per sorted hash.
/// Used for the transitive section, whose lines the tool writes from scratch.
pub fn pinned_block(
    name: &str,
    pin: &str,
    marker: Option<&str>,
    hashes: &[String],
    newline: &str,
) -> String {
    let mut out = format!("{name}{pin}");
    if let Some(marker) = marker {
        out.push_str(" ; ");
        out.push_str(marker);
    }
    push_hash_lines(&mut out, hashes, newline);
    out
}

/// The entry's comment, cut at the end of its first physical line. A comment that ended in
/// ` \` swallowed the following lines (pip ignored them: that is the bug being fixed), and a
/// trailing `\` would join the comment with the next line of the file, so both go.
fn comment_text<'t>(text: &'t str, entry: &Entry) -> Option<&'t str> {
    let range = entry.comment.clone()?;
    let comment = &text[range];
    let first_line = comment
        .find([
            '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}',
        ])
        .map_or(comment, |end| &comment[..end]);
    let trimmed = first_line.trim_end().trim_end_matches('\\').trim_end();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// The line ending to use inside a rewritten entry: the entry's own, else the file's first,
/// else `\n`.
fn newline_of<'t>(text: &'t str, file: &ReqFile, entry: &Entry) -> &'t str {
    let own = entry
        .lines
        .clone()
        .filter_map(|i| file.lines.get(i))
        .map(|line| &text[line.ending.clone()])
        .find(|ending| !ending.is_empty());
    own.or_else(|| {
        file.lines
            .iter()
            .map(|line| &text[line.ending.clone()])
            .find(|ending| !ending.is_empty())
    })
    .unwrap_or("\n")
}

/// Appends one ` \` continuation and `--hash=sha256:` line per distinct hash, sorted, as pip's
/// hash mode wants them.
fn push_hash_lines(out: &mut String, hashes: &[String], newline: &str) {
    let mut sorted: Vec<&String> = hashes.iter().collect();
    sorted.sort();
    sorted.dedup();
    for hash in sorted {
        out.push_str(" \\");
        out.push_str(newline);
        out.push_str("    --hash=sha256:");
        out.push_str(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reqfile::{self, ReqForm, apply_edits};

    /// Fixes the first requirement of `text` to `version` with `hashes`.
    fn fix(text: &str, version: &str, hashes: &[&str]) -> String {
        let file = reqfile::parse(text);
        let (entry, req) = file.requirements().next().unwrap();
        let ReqForm::Named(named) = &req.form else {
            panic!("not named")
        };
        let end = named
            .extras_range
            .as_ref()
            .map_or(named.name.range.end, |r| r.end);
        let hashes: Vec<String> = hashes.iter().map(|h| (*h).to_owned()).collect();
        let edit = fix_edit(
            text,
            &file,
            entry,
            req,
            named.name.range.start..end,
            &format!("=={version}"),
            &hashes,
        );
        apply_edits(text, &[edit]).unwrap()
    }

    #[test]
    fn writes_sorted_hash_lines_and_keeps_the_rest() {
        let text = "# top\nnumpy>=1.26\nscipy\n";
        assert_eq!(
            fix(text, "2.0.1", &["bb", "aa"]),
            "# top\nnumpy==2.0.1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\nscipy\n"
        );
    }

    #[test]
    fn keeps_crlf_and_a_missing_final_newline() {
        let text = "numpy>=1\r\nb\r\n";
        assert_eq!(
            fix(text, "1.0", &["aa", "bb"]),
            "numpy==1.0 \\\r\n    --hash=sha256:aa \\\r\n    --hash=sha256:bb\r\nb\r\n"
        );
        // The last line has no ending: the file's own ending is used inside, none is added.
        assert_eq!(
            fix("numpy  # c", "1.0", &["aa"]),
            "numpy==1.0 \\\n    --hash=sha256:aa  # c"
        );
        assert_eq!(
            fix("numpy ; python_version < '3.12'", "1.0", &["aa"]),
            "numpy==1.0 ; python_version < '3.12' \\\n    --hash=sha256:aa"
        );
    }

    #[test]
    fn extras_markers_options_and_comment() {
        let text = "  Foo_Bar[Extra1, b] >=1 ; python_version >= \"3.9\" and sys_platform == \"${PLAT}\" -C k=v   # keep me\n";
        assert_eq!(
            fix(text, "1.2", &["aa"]),
            "  Foo_Bar[Extra1, b]==1.2 ; python_version >= \"3.9\" and sys_platform == \"${PLAT}\" \\\n    -C k=v \\\n    --hash=sha256:aa  # keep me\n"
        );
    }

    #[test]
    fn a_comment_that_swallowed_hash_lines_ends_after_the_new_ones() {
        let text = "numpy==1.0 # pinned \\\n    --hash=sha256:old\nnext\n";
        assert_eq!(
            fix(text, "1.0", &["aa"]),
            "numpy==1.0 \\\n    --hash=sha256:aa  # pinned\nnext\n"
        );
    }

    #[test]
    fn replaces_an_existing_hash_block() {
        let text = format!(
            "numpy==1.0 \\\n  --hash=sha256:{} \\\n    --hash=sha256:{}  # c\n",
            "f".repeat(64),
            "e".repeat(64)
        );
        let text = text.as_str();
        let fixed = fix(text, "1.0", &["aa"]);
        assert_eq!(fixed, "numpy==1.0 \\\n    --hash=sha256:aa  # c\n");
        // Idempotent at the text level: fixing the fixed text again gives the same bytes.
        assert_eq!(fix(&fixed, "1.0", &["aa"]), fixed);
    }
}
