//! The comment renderer against hostile input and huge reports, checked by parsing its output
//! with a real CommonMark/GFM parser (pulldown-cmark): what GitHub would render, not what the
//! source text looks like.

use mlsupply::comment::render::{self, Autofix, COMMENT_BUDGET, Links, Page};
use mlsupply::comment::{self, Merged};
use mlsupply::finding::{Finding, Severity};
use mlsupply::output::{Fix, JsonReport};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

const MARKER: &str = "<!-- mlsupply:report v1 id=default -->";
const SERVER: &str = "https://github.com";
const REPO: &str = "octo-org/app";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn links() -> Links {
    Links {
        server: SERVER.into(),
        repo: REPO.into(),
        sha: SHA.into(),
    }
}

fn finding(path: &str, line: u32, text: &str, severity: Severity, n: usize) -> Finding {
    Finding {
        rule: "typosquat".into(),
        severity,
        message: format!("`{text}` looks like a typo of `requests`"),
        path: path.into(),
        line,
        column: 1,
        end_line: line,
        end_column: 2,
        subject: text.into(),
        suggestion: Some("did you mean `requests`?".into()),
        fingerprint: format!("{n:032x}"),
    }
}

/// One tool's report, merged as mlsupply-comment merges reports.
fn merged_report(tool: &str, findings: Vec<Finding>) -> Merged {
    comment::merge(&[JsonReport {
        version: 1,
        tool: tool.into(),
        findings,
        fixes: vec![],
    }])
}

fn page<'a>(merged: &'a Merged, links: &'a Links, autofix: &'a Autofix) -> Page<'a> {
    Page {
        merged,
        links: Some(links),
        autofix,
        run_url: Some("https://github.com/octo-org/app/actions/runs/42"),
        sarif: true,
    }
}

fn gfm() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// The tags our own HTML uses; anything else came from input.
const OUR_TAGS: &[&str] = &[
    MARKER,
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "<code>",
    "</code>",
];

fn html_tags(html: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        tags.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    tags
}

/// What GitHub would make a mention, an issue reference or an autolink of, in plain text.
fn looks_active(text: &str) -> Option<&'static str> {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if *c == '@' && (next.is_ascii_alphanumeric() || next == '-') {
            return Some("mention");
        }
        if *c == '#' && next.is_ascii_digit() {
            return Some("issue reference");
        }
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return Some("autolink");
    }
    if lower.contains("gh-")
        && lower
            .split("gh-")
            .skip(1)
            .any(|s| s.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Some("GH- reference");
    }
    None
}

/// Parses `body` as GFM and fails on anything input could have injected.
fn assert_safe(body: &str, what: &str) {
    let mut in_code_block = false;
    let mut table_row_cells: Option<usize> = None;
    for event in Parser::new_ext(body, gfm()) {
        match &event {
            Event::Start(Tag::Image { .. }) => panic!("{what}: an image in\n{body}"),
            Event::Start(Tag::Link { dest_url, .. }) => {
                let ours = dest_url.starts_with(&format!("{SERVER}/{REPO}/"))
                    && dest_url
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "%/._~#-:".contains(c));
                assert!(ours, "{what}: a link to {dest_url:?} in\n{body}");
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                for tag in html_tags(html) {
                    assert!(
                        OUR_TAGS.contains(&tag.as_str()),
                        "{what}: HTML {tag:?} in\n{body}"
                    );
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                if let CodeBlockKind::Fenced(info) = kind {
                    assert!(
                        info.is_empty() || info.as_ref() == "diff",
                        "{what}: fence info {info:?}"
                    );
                }
            }
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Text(text) if !in_code_block => {
                if let Some(kind) = looks_active(text) {
                    panic!("{what}: {kind} in text {text:?} of\n{body}");
                }
            }
            Event::FootnoteReference(_) => panic!("{what}: a footnote reference"),
            Event::Start(Tag::TableRow | Tag::TableHead) => table_row_cells = Some(0),
            Event::Start(Tag::TableCell) => *table_row_cells.as_mut().unwrap() += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                assert_eq!(
                    table_row_cells.take(),
                    Some(4),
                    "{what}: a row without 4 cells"
                );
            }
            _ => {}
        }
    }
    // The hidden marker is the only HTML comment and nothing can close it early.
    assert_eq!(
        body.matches("<!--").count(),
        usize::from(body.starts_with(MARKER)),
        "{what}"
    );
    assert_eq!(
        body.matches("-->").count(),
        usize::from(body.starts_with(MARKER)),
        "{what}"
    );
    // No raw control character, bidi override or other invisible character reaches the reader.
    let mut previous = ' ';
    for c in body.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
        assert!(
            // A tab is kept inside diffs, where it is harmless.
            !bidi && (c == '\n' || c == '\t' || !c.is_control()),
            "{what}: raw {c:?} in the body"
        );
        // The renderer's own zero-width joiner breaks a mention, a reference, an autolink or
        // a comment delimiter, right after the character that would start one.
        let ours = c == ZWJ && "@#:-wW!".contains(previous);
        assert!(
            ours || !is_invisible(c),
            "{what}: raw invisible U+{:04X} in the body",
            c as u32
        );
        previous = c;
    }
}

const ZWJ: char = '\u{200d}';

/// One of each kind of invisible character issue 19 lists: zero-width characters, the soft
/// hyphen, the combining grapheme joiner, the Mongolian vowel separator, the Hangul fillers,
/// tag characters and variation selectors.
const INVISIBLE: &[char] = &[
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{2060}',
    '\u{feff}',
    '\u{ad}',
    '\u{34f}',
    '\u{180e}',
    '\u{115f}',
    '\u{1160}',
    '\u{3164}',
    '\u{ffa0}',
    '\u{e0001}',
    '\u{e0041}',
    '\u{e007f}',
    '\u{fe00}',
    '\u{fe0f}',
    '\u{e0100}',
    '\u{e01ef}',
];

/// Default_Ignorable_Code_Point or Cf, as the renderer's escaping defines it.
fn is_invisible(c: char) -> bool {
    mlsupply::output::is_invisible(c)
}

fn hostile_subjects() -> Vec<(&'static str, String)> {
    vec![
        ("markdown link", "[click me](https://evil.example/x)".into()),
        ("markdown image", "![x](https://evil.example/i.png)".into()),
        ("reference link", "[r]\n\n[r]: https://evil.example".into()),
        ("raw html", "<img src=x onerror=alert(1)>".into()),
        ("script", "<script>alert(1)</script>".into()),
        (
            "details",
            "</details></summary><a href=\"https://evil.example\">x</a>".into(),
        ),
        ("forged marker", MARKER.into()),
        ("comment closer", "--> <b>out</b> <!--".into()),
        ("autolink", "<https://evil.example>".into()),
        (
            "bare url",
            "see https://evil.example/a and www.evil.example".into(),
        ),
        ("email", "mallory@evil.example".into()),
        ("user mention", "@octocat".into()),
        ("team mention", "@github/security-team".into()),
        ("issue refs", "#1 o/r#2 GH-3".into()),
        ("backticks", "`a`` ``` b ````".into()),
        ("lone backtick", "`unclosed".into()),
        ("table", "| a | b |\n|---|---|".into()),
        ("heading and list", "\r\n# heading\n- item\n> quote".into()),
        ("controls", "red\u{1b}[31m\u{7}\u{0}\u{9b}2J".into()),
        ("bidi", "invoice\u{202e}fdp.exe\u{2066}x\u{2069}".into()),
        (
            "invisible",
            format!("req{}uests", INVISIBLE.iter().collect::<String>()),
        ),
        ("entities", "&lt;img src=x&gt; &#64;octocat &#x23;1".into()),
        ("backslashes", "\\<img src=x>\\".into()),
        ("footnote", "[^1]\n\n[^1]: https://evil.example".into()),
        ("emphasis", "*a* __b__ ~~c~~".into()),
        ("long name", "x".repeat(70_000)),
    ]
}

#[test]
fn hostile_text_is_rendered_inert_everywhere() {
    for (what, hostile) in hostile_subjects() {
        let finding = Finding {
            rule: hostile.clone(),
            severity: Severity::Error,
            message: format!("`{hostile}` and {hostile}"),
            path: format!("{hostile}/requirements.txt"),
            line: 3,
            column: 1,
            end_line: 3,
            end_column: 2,
            subject: hostile.clone(),
            suggestion: Some(format!("use {hostile} or `{hostile}`")),
            fingerprint: String::new(),
        };
        // Enough findings in one file to fold the group into <details>, and one file unfolded.
        let mut findings: Vec<Finding> = (0..render::FOLD_AFTER as u32 + 1)
            .map(|i| Finding {
                line: i + 1,
                ..finding.clone()
            })
            .collect();
        findings.push(Finding {
            path: hostile.clone(),
            ..finding.clone()
        });
        let diff = format!("--- a/r\n+++ b/r\n@@ -1 +1 @@\n-{hostile}\n+{hostile}\n");
        let long_diff = format!("{diff}{}", "+x\n".repeat(30));
        let merged = comment::merge(&[JsonReport {
            version: 1,
            tool: hostile.clone(),
            findings,
            fixes: vec![
                Fix {
                    path: format!("{hostile}/requirements.txt"),
                    diff: diff.clone(),
                },
                Fix {
                    path: hostile.clone(),
                    diff: long_diff,
                },
            ],
        }]);
        let links = links();
        for autofix in [
            Autofix::Refused(hostile.clone()),
            Autofix::Pushed(SHA.into()),
        ] {
            let page = page(&merged, &links, &autofix);
            let body = render::comment(&page, MARKER);
            assert!(body.starts_with(MARKER), "{what}");
            assert!(
                body.encode_utf16().count() <= COMMENT_BUDGET.limit,
                "{what}"
            );
            // Escaping and truncation leave room for every finding of this small report.
            assert_eq!(body.matches("**error**").count(), 10, "{what}:\n{body}");
            assert!(!body.contains("Not shown here"), "{what}");
            assert_safe(&body, what);
            let summary = render::summary(&page, Some("A note."));
            assert_safe(&summary, what);
        }
    }
}

/// The checker itself catches what it looks for, or the test above would prove nothing.
#[test]
fn the_checker_catches_injections() {
    let bad = [
        "[x](https://evil.example)",
        "![x](y.png)",
        "<img src=x>",
        "a <b>b</b>",
        "hi @octocat",
        "fixes #12",
        "see https://evil.example",
        "| a | b | c | d | e |\n|---|---|---|---|---|\n| 1 | 2 | 3 | 4 | 5 |",
        "a \u{202e} b",
        "req\u{200b}uests",
        "<!-- x -->",
    ];
    for body in bad {
        let caught = std::panic::catch_unwind(|| assert_safe(body, "probe")).is_err();
        assert!(caught, "not caught: {body:?}");
    }
    assert_safe("plain `@octocat` text", "probe");
}

#[test]
fn hostile_text_stays_readable_in_code() {
    let merged = comment::merge(&[JsonReport {
        version: 1,
        tool: "mlsupply-typo".into(),
        findings: vec![finding(
            "requirements.txt",
            3,
            "@octocat/[x](y)",
            Severity::Warning,
            1,
        )],
        fixes: vec![],
    }]);
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    let codes: Vec<String> = Parser::new_ext(&body, gfm())
        .filter_map(|e| match e {
            Event::Code(code) => Some(code.into_string()),
            _ => None,
        })
        .collect();
    assert!(codes.contains(&"@octocat/[x](y)".to_string()), "{codes:?}");
    assert!(codes.contains(&"requests".to_string()));
    assert!(body.contains(&format!(
        "[line 3]({SERVER}/{REPO}/blob/{SHA}/requirements.txt#L3)"
    )));
}

/// A name one invisible character away from a popular one looks different from it wherever it
/// is shown, and every invisible character is there only as its escape.
#[test]
fn invisible_characters_are_shown_as_escapes() {
    for &c in INVISIBLE {
        let name = format!("req{c}uests");
        let escape = format!("\\u{{{:x}}}", c as u32);
        let merged = merged_report(
            "mlsupply-typo",
            vec![Finding {
                path: format!("{name}/requirements.txt"),
                ..finding("requirements.txt", 3, &name, Severity::Warning, 1)
            }],
        );
        let links = links();
        let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
        assert_safe(&body, &escape);
        let codes: Vec<String> = Parser::new_ext(&body, gfm())
            .filter_map(|e| match e {
                Event::Code(code) => Some(code.into_string()),
                _ => None,
            })
            .collect();
        assert!(
            codes.contains(&format!("req{escape}uests")),
            "{escape}: {codes:?}"
        );
        assert!(
            codes.contains(&format!("req{escape}uests/requirements.txt")),
            "{escape}: {codes:?}"
        );
    }
    // Side by side, the look-alike and the real name render differently.
    let render_name = |name: &str| {
        let merged = merged_report(
            "mlsupply-typo",
            vec![finding("requirements.txt", 3, name, Severity::Warning, 1)],
        );
        let links = links();
        let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
        Parser::new_ext(&body, gfm())
            .filter_map(|e| match e {
                Event::Code(code) => Some(code.into_string()),
                _ => None,
            })
            // The code spans are the path, the rule, then the name in the message.
            .nth(2)
            .unwrap()
    };
    assert_eq!(render_name("requests"), "requests");
    assert_eq!(render_name("req\u{200b}uests"), "req\\u{200b}uests");
}

#[test]
fn paths_are_percent_encoded_in_links() {
    let merged = merged_report(
        "mlsupply-hub",
        vec![finding("my dir/é (1)#x?.py", 7, "m", Severity::Note, 1)],
    );
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    let dests: Vec<String> = Parser::new_ext(&body, gfm())
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.into_string()),
            _ => None,
        })
        .collect();
    let file = format!("{SERVER}/{REPO}/blob/{SHA}/my%20dir/%C3%A9%20%281%29%23x%3F.py");
    assert_eq!(dests, [file.clone(), format!("{file}#L7")]);
}

/// Parses the "Not shown here: N findings" count.
fn left_out(body: &str) -> usize {
    let tail = body
        .split("Not shown here: ")
        .nth(1)
        .expect("a left-out note");
    tail.split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[test]
fn a_huge_report_is_cut_at_a_finding_boundary_with_a_note() {
    let findings: Vec<Finding> = (0..5_000)
        .map(|n| {
            finding(
                &format!("requirements/file-{:03}.txt", n / 17),
                (n % 17) as u32 + 1,
                &format!("package-{n}-{}", "y".repeat(n % 90)),
                if n % 3 == 0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                n,
            )
        })
        .collect();
    let fixes: Vec<Fix> = (0..300)
        .map(|n| Fix {
            path: format!("requirements/file-{n:03}.txt"),
            diff: format!(
                "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+x==1 \\\n{}",
                "    --hash=sha256:ab\n".repeat(n % 40)
            ),
        })
        .collect();
    let merged = comment::merge(&[JsonReport {
        version: 1,
        tool: "mlsupply-pin".into(),
        findings,
        fixes,
    }]);
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    let chars = body.chars().count();
    assert!(chars <= 60_000 && chars > 50_000, "{chars} characters");
    // Every finding is either shown or counted.
    let shown = body.matches("**error**").count() + body.matches("**warning**").count();
    assert!(shown > 0);
    assert_eq!(shown + left_out(&body), 5_000);
    assert!(body.contains("proposed fixes**, to stay within GitHub's 65,536-character limit"));
    assert!(body.contains("[the job summary of this run](https://github.com/octo-org/app/actions/runs/42) and in the SARIF file"));
    // Everything opened is closed: the closing note is a paragraph of its own.
    assert_eq!(
        body.matches("<details>").count(),
        body.matches("</details>").count()
    );
    let mut depth = 0i32;
    let mut note_outside = false;
    for event in Parser::new_ext(&body, gfm()) {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::Item) => depth += 1,
            Event::End(TagEnd::CodeBlock | TagEnd::Item) => depth -= 1,
            Event::Text(t) if t.starts_with("Not shown here") => note_outside = depth == 0,
            _ => {}
        }
    }
    assert!(
        note_outside,
        "the closing note is inside a code block or a list"
    );
    assert_safe(&body, "huge report");

    // The job summary holds far more, within its own budget in bytes.
    let summary = render::summary(&page(&merged, &links, &Autofix::None), None);
    assert!(summary.len() <= 900 * 1024);
    let in_summary = summary.matches("**error**").count() + summary.matches("**warning**").count();
    assert!(
        in_summary > 5 * shown,
        "{in_summary} in the summary, {shown} in the comment"
    );
    assert_eq!(in_summary + left_out(&summary), 5_000);
}

#[test]
fn the_summary_is_cut_at_its_byte_budget() {
    let findings: Vec<Finding> = (0..30_000)
        .map(|n| {
            finding(
                &format!("f{}.txt", n / 50),
                1 + (n % 50) as u32,
                &"日本".repeat(20),
                Severity::Note,
                n,
            )
        })
        .collect();
    let merged = merged_report("mlsupply-typo", findings);
    let links = links();
    let summary = render::summary(&page(&merged, &links, &Autofix::None), None);
    assert!(summary.len() <= 900 * 1024, "{} bytes", summary.len());
    let shown = summary.matches("**note**").count();
    assert_eq!(shown + left_out(&summary), 30_000);
    assert!(summary.contains("1 MiB limit on job summaries"));
}

#[test]
fn a_huge_diff_is_cut_inside_its_fence() {
    let diff = format!(
        "--- a/r\n+++ b/r\n{}",
        "+x==1 --hash=sha256:0123456789\n".repeat(40_000)
    );
    let merged = comment::merge(&[JsonReport {
        version: 1,
        tool: "mlsupply-pin".into(),
        findings: vec![],
        fixes: vec![Fix {
            path: "requirements.txt".into(),
            diff,
        }],
    }]);
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    assert!(body.chars().count() < 25_000);
    assert!(body.contains("more lines of this diff: run `mlsupply-pin --diff` to see it whole"));
    assert!(body.contains("proposed fixes in 1 file"));
    assert_safe(&body, "huge diff");
}

#[test]
fn no_findings_is_a_short_all_clear() {
    let merged = Merged::default();
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    assert_eq!(
        body,
        format!(
            "{MARKER}\n### ✅ mlsupply: all clear\n\nNo supply-chain findings in the latest run at \
             [`0123456`]({SERVER}/{REPO}/commit/{SHA}).\n"
        )
    );
    let pushed = Autofix::Pushed(SHA.into());
    let body = render::comment(&page(&merged, &links, &pushed), MARKER);
    assert!(body.contains(&format!(
        "commit [`0123456`]({SERVER}/{REPO}/commit/{SHA}) was pushed to this branch"
    )));
    assert!(body.contains("start no new workflow runs"));
}

#[test]
fn the_headline_counts_by_tool_and_severity() {
    let merged = comment::merge(&[
        JsonReport {
            version: 1,
            tool: "mlsupply-typo".into(),
            findings: vec![finding("a.txt", 1, "reqeusts", Severity::Error, 1)],
            fixes: vec![],
        },
        JsonReport {
            version: 1,
            tool: "mlsupply-hub".into(),
            findings: vec![
                finding("b.py", 1, "m", Severity::Warning, 2),
                finding("b.py", 2, "m", Severity::Note, 3),
            ],
            fixes: vec![],
        },
    ]);
    let links = links();
    let refused = Autofix::Refused("the pull request comes from a fork".into());
    let body = render::comment(&page(&merged, &links, &refused), MARKER);
    assert!(body.contains("### 🔴 mlsupply: 1 error, 1 warning and 1 note in 2 files"));
    assert!(body.contains("| mlsupply\\-hub | 0 | 1 | 1 |"));
    assert!(body.contains("| mlsupply\\-typo | 1 | 0 | 0 |"));
    assert!(body.contains("**Auto-fix was not pushed:** the pull request comes from a fork."));
    assert!(body.contains("The diffs below are suggestions"));
}

#[test]
fn files_with_errors_come_first_so_a_cut_drops_the_least_important() {
    let mut findings: Vec<Finding> = (0..3_000)
        .map(|n| {
            finding(
                &format!("a/notes-{}.txt", n / 30),
                1 + (n % 30) as u32,
                "x",
                Severity::Note,
                n,
            )
        })
        .collect();
    findings.push(finding("z/last.txt", 9, "bad", Severity::Error, 99_999));
    let merged = merged_report("mlsupply-typo", findings);
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    let error_at = body.find("**error**").expect("the error is shown");
    assert!(error_at < body.find("**note**").unwrap());
    assert!(body.contains("Not shown here: ") && body.contains("notes)**"));
}

/// Markdown-significant pieces; random strings of them go everywhere a report's text can.
const PIECES: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "!",
    "@",
    "#",
    "1",
    "a",
    "`",
    "``",
    "```",
    "*",
    "_",
    "~",
    "|",
    ":",
    "//",
    "\\",
    "&",
    ";",
    "www.",
    "https",
    "-->",
    "<!--",
    "\n",
    "\r",
    " ",
    "\u{202e}",
    "\u{1b}",
    "\u{200b}",
    "\u{200d}",
    "\u{e0041}",
    "gh-",
    "img src=x",
    "details",
    "summary",
    "/",
    "=",
    "\"",
    "'",
    "evil.example",
    "@org/team",
    "&#64;",
    "<a href=x>",
    "</details>",
    "-",
    ".",
    "    ",
    "\t",
    "^",
    "$",
    "{",
    "}",
];

fn pieces_config() -> proptest::prelude::ProptestConfig {
    let mut config = proptest::prelude::ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 512;
    }
    config
}

proptest::proptest! {
    #![proptest_config(pieces_config())]

    /// `PROPTEST_CASES=100000` fuzzes longer.
    #[test]
    fn random_markdown_pieces_stay_inert(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40)
    ) {
        let hostile: String = pieces.concat();
        let merged = comment::merge(&[JsonReport {
            version: 1,
            tool: hostile.clone(),
            // Enough findings and diff lines to fold both into <details>, whose <summary>
            // holds the path as HTML.
            findings: (1..=render::FOLD_AFTER as u32 + 1)
                .map(|line| Finding {
                    rule: hostile.clone(),
                    severity: Severity::Warning,
                    message: hostile.clone(),
                    path: format!("{hostile}x"),
                    line,
                    column: 1,
                    end_line: line,
                    end_column: 2,
                    subject: hostile.clone(),
                    suggestion: Some(hostile.clone()),
                    fingerprint: String::new(),
                })
                .collect(),
            fixes: vec![Fix {
                path: format!("{hostile}x"),
                diff: format!("-{hostile}\n+{hostile}\n").repeat(10),
            }],
        }]);
        let links = links();
        let autofix = Autofix::Refused(hostile.clone());
        let body = render::comment(&page(&merged, &links, &autofix), MARKER);
        assert!(body.contains("<details><summary>"));
        assert_safe(&body, &format!("{hostile:?}"));
    }
}

#[test]
fn astral_characters_count_twice_against_the_budget() {
    // 🐍 is one character but two UTF-16 units: the budget holds in either count.
    let findings: Vec<Finding> = (0..2_000)
        .map(|n| {
            finding(
                "snakes.txt",
                n as u32 + 1,
                &"🐍".repeat(150),
                Severity::Warning,
                n,
            )
        })
        .collect();
    let merged = merged_report("mlsupply-typo", findings);
    let links = links();
    let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
    let units = body.encode_utf16().count();
    assert!(units <= 60_000 && units > 50_000, "{units} UTF-16 units");
    assert!(body.chars().count() < units);
    assert!(body.contains("Not shown here: "));
}

/// A pinned requirement with its hashes, offered as the fix, is shown as a code block whose lines
/// survive, inside the finding's list item; hostile lines in it stay inert.
#[test]
fn a_multi_line_suggestion_is_a_code_block() {
    let pinned = "requests==2.32.3 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb";
    for (what, hostile) in hostile_subjects()
        .into_iter()
        .chain([("pinned", String::new())])
    {
        let suggestion = format!("{pinned}\n{hostile}");
        let merged = comment::merge(&[JsonReport {
            version: 1,
            tool: "mlsupply-pin".into(),
            findings: vec![Finding {
                rule: "unpinned".into(),
                suggestion: Some(suggestion),
                ..finding("requirements.txt", 1, "requests", Severity::Error, 1)
            }],
            fixes: Vec::new(),
        }]);
        let links = links();
        let body = render::comment(&page(&merged, &links, &Autofix::None), MARKER);
        assert_safe(&body, what);
        let mut in_item = 0;
        let mut code = None;
        for event in Parser::new_ext(&body, gfm()) {
            match event {
                Event::Start(Tag::Item) => in_item += 1,
                Event::End(TagEnd::Item) => in_item -= 1,
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) if in_item == 2 => {
                    code = Some(String::new())
                }
                Event::Text(t) => {
                    if let Some(code) = code.as_mut().filter(|c| !c.ends_with('\u{0}')) {
                        code.push_str(&t)
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(code) = code.as_mut() {
                        code.push('\u{0}')
                    }
                }
                _ => {}
            }
        }
        let code = code.unwrap_or_else(|| panic!("{what}: no code block in the item:\n{body}"));
        assert!(code.starts_with(&format!("{pinned}\n")), "{what}: {code:?}");
    }
}
