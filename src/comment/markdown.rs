//! Escaping text from scanned repositories for GitHub-flavoured Markdown.
//!
//! Package names, model ids, paths, messages and suggestions are attacker-controlled: a
//! pull request can add a requirement named `[click me](https://evil.example)` or a path with
//! `<img src=x>` in it. Everything such text goes through here, and comes out able to do none
//! of these: start a link, an image, an autolink or raw HTML; close or forge the hidden
//! marker; `@`-mention a user or a team; reference an issue (`#123`, `GH-123`); end a code span
//! or fence early; split a table cell; or reorder what the reader sees (controls and bidi
//! overrides are shown as visible escapes such as `\u{202e}`).
//!
//! The tools are: [`text`] (prose: every ASCII punctuation character backslash-escaped, and a
//! zero-width joiner where GitHub would turn text into a mention, a reference or an autolink),
//! [`code`] (an inline code span whose fence is longer than any backtick run inside),
//! [`message`] (a finding's message, whose `` `quoted` `` parts become code spans and the rest
//! text), [`html`] (text inside our `<summary>` HTML) and [`fenced`] (a fenced code block).

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::output::sanitize_terminal;

/// ZERO WIDTH JOINER: invisible, and enough to stop GitHub's mention, reference and autolink
/// matchers, which need the characters around it to be adjacent.
pub const ZWJ: char = '\u{200d}';

/// `text` cut to at most `max` characters, with `…` marking the cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let keep = text[..cut].char_indices().nth(max.saturating_sub(1));
            let end = keep.map_or(cut, |(i, _)| i);
            Cow::Owned(format!("{}…", &text[..end]))
        }
    }
}

/// Prose: safe anywhere inline, including link text and table cells.
pub fn text(raw: &str) -> String {
    let visible = sanitize_terminal(raw);
    let mut out = String::with_capacity(visible.len() * 2);
    let chars: Vec<char> = visible.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        let next = chars.get(i + 1).copied();
        let breaks = match c {
            // `@user`, `@org/team`, `user@example.com`.
            '@' => true,
            // `#123`, `owner/repo#123`.
            '#' => true,
            // `https://`: GitHub autolinks bare URLs.
            ':' => next == Some('/'),
            // `GH-123`.
            '-' => {
                i >= 2
                    && chars[i - 2..i]
                        .iter()
                        .collect::<String>()
                        .eq_ignore_ascii_case("gh")
            }
            // `www.example.com`.
            'w' | 'W' => {
                next == Some('.')
                    && i >= 2
                    && chars[i - 2..i].iter().all(|p| p.eq_ignore_ascii_case(&'w'))
            }
            _ => false,
        };
        if breaks {
            out.push(ZWJ);
        }
    }
    out
}

/// An inline code span showing `raw` literally. GitHub makes no mentions, references or links
/// inside code, so only the fence, controls and the comment delimiters need care.
pub fn code(raw: &str) -> String {
    let sanitized = sanitize_terminal(raw);
    let visible = neutralise_comment_delimiters(&sanitized);
    let fence = "`".repeat(longest_run(&visible, '`') + 1);
    // A space on each side is stripped by the parser: it lets the content start or end with a
    // backtick, or keep its own surrounding spaces.
    let pad = visible.is_empty()
        || visible.starts_with('`')
        || visible.ends_with('`')
        || (visible.starts_with(' ') && visible.ends_with(' '));
    if pad {
        format!("{fence} {visible} {fence}")
    } else {
        format!("{fence}{visible}{fence}")
    }
}

/// A finding's message: the tools quote names in backticks (`` `reqeusts` looks like a typo of
/// `requests` ``); those parts become code spans, the rest prose. A backtick without a partner
/// is prose too.
pub fn message(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find('`') {
        let run = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + run..];
        match find_closing(after, run) {
            Some(end) => {
                out.push_str(&text(&rest[..start]));
                out.push_str(&code(&after[..end]));
                rest = &after[end + run..];
            }
            None => {
                out.push_str(&text(&rest[..start + run]));
                rest = after;
            }
        }
    }
    out.push_str(&text(rest));
    out
}

/// Text inside an HTML block we write (`<summary>…</summary>`), where Markdown is not parsed
/// but GitHub still finds mentions and references in text.
pub fn html(raw: &str) -> String {
    let visible = sanitize_terminal(raw);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' | '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            ':' => out.push_str("&#58;"),
            _ => out.push(c),
        }
    }
    out
}

/// A fenced code block of `info` (e.g. `diff`) showing `content` line by line. The fence is
/// longer than any backtick run inside, so no line can close it; controls and bidi overrides
/// are made visible (a tab is kept), and a CR before LF is taken as part of the line end.
pub fn fenced(info: &str, content: &str) -> String {
    let mut body = String::with_capacity(content.len() + 16);
    for line in content.lines() {
        for c in line.chars() {
            if c == '\t' {
                body.push(c);
            } else {
                body.push_str(&sanitize_terminal(c.encode_utf8(&mut [0; 4])));
            }
        }
        body.push('\n');
    }
    let body = neutralise_comment_delimiters(&body);
    let fence = "`".repeat((longest_run(&body, '`') + 1).max(3));
    format!("{fence}{info}\n{body}{fence}\n")
}

/// Bytes of a path segment to percent-encode in a URL: everything but unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `path` (relative, `/`-separated) percent-encoded for a URL, segment by segment, so that
/// `#`, `?`, spaces, parentheses and non-ASCII characters cannot end or alter the link, and
/// `..` segments cannot climb out of the repository's tree.
pub fn url_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "." => "%2E".to_string(),
            ".." => "%2E%2E".to_string(),
            _ => utf8_percent_encode(segment, PATH_SEGMENT).to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A zero-width joiner inside every `<!--` and `-->`, so that no text of ours can open an HTML
/// comment or close the hidden marker, even where Markdown would not parse it.
fn neutralise_comment_delimiters(text: &str) -> Cow<'_, str> {
    if !text.contains("<!--") && !text.contains("-->") {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("<!--", &format!("<!{ZWJ}--"))
            .replace("-->", &format!("--{ZWJ}>")),
    )
}

fn longest_run(text: &str, of: char) -> usize {
    let (mut longest, mut current) = (0, 0);
    for c in text.chars() {
        if c == of {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

/// The byte offset in `text` of a backtick run exactly `run` long.
fn find_closing(text: &str, run: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let len = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if len == run {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_escapes_punctuation_and_breaks_mentions() {
        assert_eq!(text("[a](b)"), "\\[a\\]\\(b\\)");
        assert_eq!(text("@me"), format!("\\@{ZWJ}me"));
        assert_eq!(text("#12"), format!("\\#{ZWJ}12"));
        assert_eq!(text("x://y"), format!("x\\:{ZWJ}\\/\\/y"));
        assert_eq!(text("gh-1"), format!("gh\\-{ZWJ}1"));
        assert_eq!(text("www.x"), format!("www{ZWJ}\\.x"));
        assert_eq!(text("a\u{202e}b"), "a\\\\u\\{202e\\}b");
    }

    #[test]
    fn code_spans_outgrow_backtick_runs() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code(" a "), "`  a  `");
        assert_eq!(code("x-->"), format!("`x--{ZWJ}>`"));
    }

    #[test]
    fn messages_keep_their_quoted_names_as_code() {
        assert_eq!(
            message("`reqeusts` looks like `requests`"),
            "`reqeusts` looks like `requests`"
        );
        assert_eq!(message("a ` b"), "a \\` b");
        assert_eq!(message("``x`y``!"), "``x`y``\\!");
    }

    #[test]
    fn fences_outgrow_backtick_runs() {
        assert_eq!(fenced("diff", "+a\r\n"), "```diff\n+a\n```\n");
        assert_eq!(fenced("", "````\n"), "`````\n````\n`````\n");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("héllo", 3), "hé…");
        assert_eq!(truncate("héllo", 5), "héllo");
    }

    #[test]
    fn url_paths_are_encoded_per_segment() {
        assert_eq!(url_path("a b/c#d?.txt"), "a%20b/c%23d%3F.txt");
        assert_eq!(url_path("é/(x)"), "%C3%A9/%28x%29");
        assert_eq!(url_path("../a/./b"), "%2E%2E/a/%2E/b");
    }
}
