//! Inline ignores: the comment grammar, and what `apply` keeps, drops and reports.

use mlsupply::rules::{self, Tool};
use mlsupply::source::{SourceFile, SourceMap};
use mlsupply::suppress::{self, Directive, Parsed};
use mlsupply::{Finding, Severity, Span};

/// What a line should parse to.
enum Want {
    Nothing,
    /// Rule ids and reason.
    Ignore(&'static [&'static str], Option<&'static str>),
    /// A word the problem must contain.
    Malformed(&'static str),
}

#[test]
fn grammar() {
    use Want::*;
    let cases: &[(&str, Want)] = &[
        // Valid forms.
        (
            "numpy  # mlsupply: ignore[typosquat] internal fork",
            Ignore(&["typosquat"], Some("internal fork")),
        ),
        (
            "# mlsupply: ignore[typosquat] reason",
            Ignore(&["typosquat"], Some("reason")),
        ),
        (
            "x # mlsupply: ignore[typosquat,unknown-package] both",
            Ignore(&["typosquat", "unknown-package"], Some("both")),
        ),
        (
            "x # mlsupply: ignore[typosquat, unknown-package] spaced",
            Ignore(&["typosquat", "unknown-package"], Some("spaced")),
        ),
        (
            "x # mlsupply: ignore[ typosquat ] padded ids",
            Ignore(&["typosquat"], Some("padded ids")),
        ),
        (
            "x # mlsupply: ignore[typosquat]\tTab before reason  ",
            Ignore(&["typosquat"], Some("Tab before reason")),
        ),
        (
            "x # mlsupply: ignore[typosquat, typosquat] dup",
            Ignore(&["typosquat"], Some("dup")),
        ),
        (
            "x # mlsupply: ignore[a1-b2] shape only",
            Ignore(&["a1-b2"], Some("shape only")),
        ),
        // Reasons are free text, including brackets and further `#`.
        (
            "x # mlsupply: ignore[typosquat] see [JIRA-1] # really",
            Ignore(&["typosquat"], Some("see [JIRA-1] # really")),
        ),
        (
            "x # mlsupply: ignore[typosquat] # mlsupply: ignore[other] only first",
            Ignore(&["typosquat"], Some("# mlsupply: ignore[other] only first")),
        ),
        // A `#` that is not an ignore comes first on the line.
        (
            "x==1 # pinned # mlsupply: ignore[typosquat] ok",
            Ignore(&["typosquat"], Some("ok")),
        ),
        // Missing reason: still a directive (apply warns).
        (
            "x # mlsupply: ignore[typosquat]",
            Ignore(&["typosquat"], None),
        ),
        (
            "x # mlsupply: ignore[typosquat]   ",
            Ignore(&["typosquat"], None),
        ),
        // Not ignore comments at all.
        ("numpy==1.0", Nothing),
        ("# just a comment", Nothing),
        ("# mlsupply-typo found this once", Nothing),
        ("# see mlsupply: ignore[typosquat] docs", Nothing),
        ("mlsupply: ignore[typosquat] no hash", Nothing),
        // Near misses: reported, never silently accepted or dropped.
        ("x #mlsupply: ignore[typosquat] r", Malformed("exactly")),
        ("x #  mlsupply: ignore[typosquat] r", Malformed("exactly")),
        ("x # mlsupply:ignore[typosquat] r", Malformed("exactly")),
        ("x # mlsupply:  ignore[typosquat] r", Malformed("exactly")),
        ("x # mlsupply ignore[typosquat] r", Malformed("exactly")),
        ("x # MLSupply: ignore[typosquat] r", Malformed("exactly")),
        ("x # mlsupply: Ignore[typosquat] r", Malformed("exactly")),
        ("x # mlsupply: ignore [typosquat] r", Malformed("exactly")),
        ("x # mlsupply: ignore typosquat r", Malformed("exactly")),
        ("x # mlsupply: disable[typosquat] r", Malformed("exactly")),
        ("x # mlsupply: ignore[typosquat r", Malformed("closing `]`")),
        ("x # mlsupply: ignore[] r", Malformed("empty")),
        ("x # mlsupply: ignore[ ] r", Malformed("empty")),
        (
            "x # mlsupply: ignore[typosquat,] r",
            Malformed("empty entry"),
        ),
        (
            "x # mlsupply: ignore[,typosquat] r",
            Malformed("empty entry"),
        ),
        ("x # mlsupply: ignore[a,,b] r", Malformed("empty entry")),
        (
            "x # mlsupply: ignore[typosquat unknown-package] r",
            Malformed("not a rule id"),
        ),
        (
            "x # mlsupply: ignore[Typosquat] r",
            Malformed("not a rule id"),
        ),
        (
            "x # mlsupply: ignore[typo_squat] r",
            Malformed("not a rule id"),
        ),
        (
            "x # mlsupply: ignore[-typosquat] r",
            Malformed("not a rule id"),
        ),
        (
            "x # mlsupply: ignore[typo--squat] r",
            Malformed("not a rule id"),
        ),
        (
            "x # mlsupply: ignore[typosquat]reason",
            Malformed("space between"),
        ),
        (
            "x # mlsupply: ignore[typosquat]] r",
            Malformed("space between"),
        ),
    ];
    for (line, want) in cases {
        let got = suppress::parse_line(line, false);
        match (want, &got) {
            (Nothing, None) => {}
            (Ignore(rules, reason), Some(Parsed::Ignore(directive))) => {
                assert_eq!(&directive.rules, rules, "{line}");
                assert_eq!(directive.reason.as_deref(), *reason, "{line}");
                // The range starts at the comment's `#` and ends at its last visible character.
                assert!(
                    line[directive.range.clone()].starts_with("# mlsupply: ignore["),
                    "{line}"
                );
                assert_eq!(directive.range.end, line.trim_end().len(), "{line}");
            }
            (Malformed(word), Some(Parsed::Malformed { problem, .. })) => {
                assert!(problem.contains(word), "{line}: {problem}");
            }
            _ => panic!("{line:?} parsed to {got:?}"),
        }
    }
}

#[test]
fn notebook_lines_end_the_comment_at_the_json_string() {
    let cases: &[(&str, &[&str], Option<&str>, &str)] = &[
        // The usual pretty-printed notebook: one source line per JSON string.
        (
            r#"    "!pip install reqeusts  # mlsupply: ignore[typosquat] internal fork\n","#,
            &["typosquat"],
            Some("internal fork"),
            "# mlsupply: ignore[typosquat] internal fork",
        ),
        // The last line of a cell has no `\n` inside the string.
        (
            r#"    "%pip install reqeusts # mlsupply: ignore[typosquat] fork""#,
            &["typosquat"],
            Some("fork"),
            "# mlsupply: ignore[typosquat] fork",
        ),
        // Escapes in the reason are decoded; an escaped quote does not end the comment.
        (
            r#"    "!pip install x # mlsupply: ignore[typosquat] the \"x\" fork\tok\r\n","#,
            &["typosquat"],
            Some("the \"x\" fork\tok"),
            r#"# mlsupply: ignore[typosquat] the \"x\" fork\tok"#,
        ),
        // Minified notebook: the comment ends at the cell's next line.
        (
            r#"{"source": "!pip install x # mlsupply: ignore[typosquat]\n!pip install y"}"#,
            &["typosquat"],
            None,
            "# mlsupply: ignore[typosquat]",
        ),
    ];
    for (line, rules, reason, comment) in cases {
        match suppress::parse_line(line, true) {
            Some(Parsed::Ignore(Directive {
                range,
                rules: got_rules,
                reason: got_reason,
            })) => {
                assert_eq!(&got_rules, rules, "{line}");
                assert_eq!(got_reason.as_deref(), *reason, "{line}");
                assert_eq!(&line[range], *comment, "{line}");
            }
            other => panic!("{line:?} parsed to {other:?}"),
        }
    }
    // Outside a notebook, the same line keeps its JSON tail in the reason.
    let line = r#"    "x # mlsupply: ignore[typosquat] fork\n","#;
    let Some(Parsed::Ignore(plain)) = suppress::parse_line(line, false) else {
        panic!()
    };
    assert_eq!(plain.reason.as_deref(), Some(r#"fork\n","#));
}

fn sources(files: &[(&str, &str)]) -> SourceMap {
    let mut map = SourceMap::default();
    for (path, text) in files {
        map.insert(SourceFile::new(*path, *path, text.to_string()));
    }
    map
}

fn typosquat(path: &str, line: u32, end_line: u32, subject: &str) -> Finding {
    let span = Span {
        line,
        column: 1,
        end_line,
        end_column: 5,
    };
    Finding::new(
        &rules::TYPOSQUAT,
        path,
        span,
        subject,
        format!("{subject} looks like a typo"),
    )
}

fn by_rule<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn an_ignore_suppresses_findings_of_its_rules_on_its_line() {
    let map = sources(&[(
        "requirements.txt",
        "reqeusts  # mlsupply: ignore[typosquat] our fork\npandsa\nnumpyy # mlsupply: ignore[unknown-package] wrong rule\n",
    )]);
    let findings = vec![
        typosquat("requirements.txt", 1, 1, "reqeusts"),
        typosquat("requirements.txt", 2, 2, "pandsa"),
        typosquat("requirements.txt", 3, 3, "numpyy"),
        // Same line number in another file: not covered.
        typosquat("other.txt", 1, 1, "reqeusts"),
    ];
    let out = suppress::apply(findings, &map, &[Tool::Typo]);
    let kept: Vec<_> = by_rule(&out, "typosquat")
        .iter()
        .map(|f| (f.path.as_str(), f.subject.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("requirements.txt", "pandsa"),
            ("requirements.txt", "numpyy"),
            ("other.txt", "reqeusts")
        ]
    );
    // The ignore of the wrong rule suppressed nothing.
    let unused = by_rule(&out, "unused-ignore");
    assert_eq!(unused.len(), 1, "{out:?}");
    let unused = unused[0];
    assert_eq!(unused.severity, Severity::Note);
    assert_eq!(unused.path, "requirements.txt");
    assert_eq!(unused.subject, "unknown-package");
    assert!(
        unused.message.contains("`unknown-package`"),
        "{}",
        unused.message
    );
    // The span is the comment: from its `#` (column 8) to the end of the 53-character line.
    assert_eq!(
        unused.span(),
        Span {
            line: 3,
            column: 8,
            end_line: 3,
            end_column: 54
        }
    );
    assert!(by_rule(&out, "invalid-ignore").is_empty(), "{out:?}");
}

#[test]
fn multi_line_findings_are_suppressed_from_any_of_their_lines() {
    let text = "[project]\ndependencies = [\n  \"reqeusts\",  # mlsupply: ignore[typosquat] fork\n]\n# mlsupply: ignore[typosquat] too late\n";
    let map = sources(&[("pyproject.toml", text)]);
    // One finding spans lines 2 to 4 (the whole array).
    let findings = vec![typosquat("pyproject.toml", 2, 4, "reqeusts")];
    let out = suppress::apply(findings, &map, &[Tool::Typo]);
    assert!(by_rule(&out, "typosquat").is_empty(), "{out:?}");
    let unused = by_rule(&out, "unused-ignore");
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].line, 5);
    assert!(
        unused[0].message.contains("line 5"),
        "{}",
        unused[0].message
    );

    // A finding whose end_line is left at 0 still covers its own line.
    let mut finding = typosquat("pyproject.toml", 3, 3, "reqeusts");
    finding.end_line = 0;
    let out = suppress::apply(vec![finding], &map, &[Tool::Typo]);
    assert!(by_rule(&out, "typosquat").is_empty());
}

#[test]
fn notebook_ignore_applies_to_its_line_of_the_file() {
    let notebook = r#"{
 "cells": [
  {
   "cell_type": "code",
   "source": [
    "import os\n",
    "!pip install reqeusts  # mlsupply: ignore[typosquat] vendored fork\n",
    "!pip install pandsa\n"
   ]
  }
 ]
}
"#;
    let map = sources(&[("nb/train.ipynb", notebook)]);
    let findings = vec![
        typosquat("nb/train.ipynb", 7, 7, "reqeusts"),
        typosquat("nb/train.ipynb", 8, 8, "pandsa"),
    ];
    let out = suppress::apply(findings, &map, &[Tool::Typo]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].subject, "pandsa");
}

#[test]
fn missing_reason_and_unknown_rules_are_invalid_but_known_rules_still_apply() {
    let map = sources(&[(
        "requirements.txt",
        "reqeusts # mlsupply: ignore[typosquat]\npandsa # mlsupply: ignore[typosquat, typo-squat] fork\n",
    )]);
    let findings = vec![
        typosquat("requirements.txt", 1, 1, "reqeusts"),
        typosquat("requirements.txt", 2, 2, "pandsa"),
    ];
    let out = suppress::apply(findings, &map, &[Tool::Typo]);
    assert!(by_rule(&out, "typosquat").is_empty(), "{out:?}");
    assert!(by_rule(&out, "unused-ignore").is_empty(), "{out:?}");
    let invalid = by_rule(&out, "invalid-ignore");
    assert_eq!(invalid.len(), 2, "{out:?}");
    assert!(invalid.iter().all(|f| f.severity == Severity::Warning));
    let no_reason = invalid.iter().find(|f| f.line == 1).unwrap();
    assert!(
        no_reason.message.contains("without a reason"),
        "{}",
        no_reason.message
    );
    assert_eq!(no_reason.subject, "typosquat");
    let unknown = invalid.iter().find(|f| f.line == 2).unwrap();
    assert!(
        unknown.message.contains("unknown rule `typo-squat`"),
        "{}",
        unknown.message
    );
    assert_eq!(unknown.subject, "typo-squat");
}

#[test]
fn malformed_comments_suppress_nothing_and_are_reported() {
    let map = sources(&[(
        "requirements.txt",
        "reqeusts # mlsupply:ignore[typosquat] fork\n",
    )]);
    let out = suppress::apply(
        vec![typosquat("requirements.txt", 1, 1, "reqeusts")],
        &map,
        &[Tool::Typo],
    );
    assert_eq!(by_rule(&out, "typosquat").len(), 1);
    let invalid = by_rule(&out, "invalid-ignore");
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0].subject, "typosquat");
    assert_eq!((invalid[0].line, invalid[0].column), (1, 10));
    assert!(invalid[0].message.contains("suppresses nothing"));
}

#[test]
fn ignores_of_tools_that_did_not_run_are_neither_applied_nor_reported() {
    let map = sources(&[(
        "requirements.txt",
        "reqeusts # mlsupply: ignore[typosquat] fork\npandsa # mlsupply: ignore[typosquat]\n",
    )]);
    // mlsupply-pin ran: the typo ignores (even the one without a reason) are not its business.
    let out = suppress::apply(Vec::new(), &map, &[Tool::Pin]);
    assert!(out.is_empty(), "{out:?}");
    // mlsupply-typo ran and found nothing there: both are stale.
    let out = suppress::apply(Vec::new(), &map, &[Tool::Typo, Tool::Pin]);
    assert_eq!(by_rule(&out, "unused-ignore").len(), 2, "{out:?}");
    assert_eq!(by_rule(&out, "invalid-ignore").len(), 1, "{out:?}");
}

#[test]
fn core_rules_are_always_in_scope() {
    let map = sources(&[(
        "requirements.txt",
        "-r missing.txt  # mlsupply: ignore[missing-include] generated in CI\n-r gone.txt # mlsupply: ignore[parse-error] stale\n",
    )]);
    let missing = Finding::new(
        &rules::MISSING_INCLUDE,
        "requirements.txt",
        Span::line_start(1),
        "missing.txt",
        "no such file",
    );
    let out = suppress::apply(vec![missing], &map, &[]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].rule, "unused-ignore");
    assert_eq!(out[0].subject, "parse-error");
}

#[test]
fn the_ignore_rules_themselves_cannot_be_ignored() {
    let map = sources(&[(
        "requirements.txt",
        "x # mlsupply: ignore[unused-ignore] please\ny # mlsupply: ignore[invalid-ignore, typosquat] please\n",
    )]);
    let out = suppress::apply(
        vec![typosquat("requirements.txt", 2, 2, "y")],
        &map,
        &[Tool::Typo],
    );
    let invalid = by_rule(&out, "invalid-ignore");
    assert_eq!(invalid.len(), 2, "{out:?}");
    assert!(
        invalid
            .iter()
            .all(|f| f.message.contains("cannot be ignored"))
    );
    assert_eq!(
        invalid
            .iter()
            .map(|f| f.subject.as_str())
            .collect::<Vec<_>>(),
        ["unused-ignore", "invalid-ignore"]
    );
    // The valid part of the second comment still works.
    assert!(by_rule(&out, "typosquat").is_empty());
    assert!(by_rule(&out, "unused-ignore").is_empty());
}

#[test]
fn only_files_in_sources_are_searched() {
    let map = sources(&[("a.txt", "nothing here\n")]);
    let findings = vec![typosquat("b.txt", 1, 1, "reqeusts")];
    let out = suppress::apply(findings.clone(), &map, &[Tool::Typo]);
    assert_eq!(out, findings);
}

#[test]
fn one_comment_may_suppress_several_findings() {
    let map = sources(&[(
        "requirements.txt",
        "reqeusts; extra == 'x'  # mlsupply: ignore[typosquat, unknown-package] internal\n",
    )]);
    let unknown = Finding::new(
        &rules::UNKNOWN_PACKAGE,
        "requirements.txt",
        Span::line_start(1),
        "reqeusts",
        "not on PyPI",
    );
    let findings = vec![
        typosquat("requirements.txt", 1, 1, "reqeusts"),
        typosquat("requirements.txt", 1, 1, "reqeusts"),
        unknown,
    ];
    let out = suppress::apply(findings, &map, &[Tool::Typo]);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn crlf_line_endings_are_not_part_of_the_reason() {
    let map = sources(&[(
        "requirements.txt",
        "numpy\r\nreqeusts # mlsupply: ignore[typosquat]\r\npandsa # mlsupply: ignore[typosquat] r\r\n",
    )]);
    let out = suppress::apply(
        vec![typosquat("requirements.txt", 3, 3, "pandsa")],
        &map,
        &[Tool::Typo],
    );
    // Line 2 has no reason (the `\r` is not one) and suppresses nothing; line 3 works.
    let mut rules: Vec<_> = out.iter().map(|f| (f.line, f.rule.as_str())).collect();
    rules.sort();
    assert_eq!(rules, [(2, "invalid-ignore"), (2, "unused-ignore")]);
    let Some(Parsed::Ignore(directive)) =
        suppress::parse_line(map.line("requirements.txt", 3).unwrap(), false)
    else {
        panic!()
    };
    assert_eq!(directive.reason.as_deref(), Some("r"));
}
