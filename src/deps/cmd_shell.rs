//! A small POSIX-shell tokenizer that keeps byte positions.
//!
//! `shlex` and `shell-words` return plain strings, and a package name has to be traced back to
//! its line and column, so this splits one logical command line into words (quotes removed,
//! every byte mapped back through [`MappedText`]), control operators and redirections, and
//! groups them into simple commands. It never expands anything: bytes that came from `$VAR`,
//! `$(...)`, `${...}` or backticks are marked as not literal, so nobody takes them for a name.

use super::cmd_text::MappedText;

/// One shell word, quotes and backslashes removed.
#[derive(Clone, Debug)]
pub struct Word {
    pub text: MappedText,
    /// Per byte of `text`: `false` where it came from an expansion whose value is unknown.
    literal: Vec<bool>,
    /// Some part of the word was quoted or escaped (so it cannot be an assignment or keyword).
    pub quoted: bool,
}

impl Word {
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// Every byte is literal text (nothing comes from `$VAR` and the like).
    pub fn is_literal(&self) -> bool {
        self.literal.iter().all(|l| *l)
    }

    /// Whether byte `index` is literal (bytes past the end count as literal).
    pub fn is_literal_at(&self, index: usize) -> bool {
        self.literal.get(index).copied().unwrap_or(true)
    }

    /// A word made of literal `text` (exec-form `RUN [...]` arguments are never shell-parsed).
    pub fn literal(text: MappedText) -> Word {
        let literal = vec![true; text.len()];
        Word {
            text,
            literal,
            quoted: true,
        }
    }

    /// An unquoted literal word equal to `s`.
    fn is_bare(&self, s: &str) -> bool {
        !self.quoted && self.is_literal() && self.as_str() == s
    }
}

#[derive(Clone, Debug)]
pub enum Token {
    Word(Word),
    /// `&&`, `||`, `;`, `;;`, `|`, `|&`, `&`, `(`, `)` or a newline.
    Op(&'static str),
    /// `>`, `>>`, `<`, `<<`, `<<-`, `<<<`, `&>`, `>&`, ...: the next word is its target.
    Redirect(&'static str),
}

#[derive(Clone, Debug, Default)]
pub struct Tokens {
    pub tokens: Vec<Token>,
    /// The quote left open at the end of the line, if any (the rest of the line is its content).
    pub unterminated: Option<char>,
}

/// A here-document started on a command line: its body follows the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    pub delimiter: String,
    /// `<<-`: leading tabs are stripped from body lines and from the closing delimiter.
    pub strip_tabs: bool,
}

/// A simple command: its words, redirections removed.
#[derive(Clone, Debug, Default)]
pub struct SimpleCommand {
    pub words: Vec<Word>,
    pub heredocs: Vec<Heredoc>,
}

const OPS: &[&str] = &["&&", "||", ";;", "|&", ";", "|", "&", "(", ")"];
const REDIRECTS: &[&str] = &[
    "&>>", "<<<", "<<-", "&>", ">>", "<<", "<&", ">&", ">|", "<>", "<", ">",
];

struct Builder<'a> {
    line: &'a MappedText,
    tokens: Vec<Token>,
    word: Option<Word>,
}

impl Builder<'_> {
    fn word(&mut self) -> &mut Word {
        self.word.get_or_insert_with(|| Word {
            text: MappedText::new(),
            literal: Vec::new(),
            quoted: false,
        })
    }

    fn push(&mut self, range: std::ops::Range<usize>, literal: bool) {
        let line = self.line;
        let word = self.word();
        word.text.push_mapped(line, range.clone());
        word.literal
            .extend(std::iter::repeat_n(literal, range.len()));
    }

    fn flush(&mut self) {
        if let Some(word) = self.word.take() {
            self.tokens.push(Token::Word(word));
        }
    }
}

/// Splits one logical line (continuations already joined) into tokens; stops at a comment.
pub fn tokenize(line: &MappedText) -> Tokens {
    let s = line.as_str();
    let bytes = s.as_bytes();
    let mut b = Builder {
        line,
        tokens: Vec::new(),
        word: None,
    };
    let mut unterminated = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' => {
                b.flush();
                i += 1;
            }
            b'\n' => {
                b.flush();
                b.tokens.push(Token::Op("\n"));
                i += 1;
            }
            b'#' if b.word.is_none() => {
                // A comment runs to the end of the line.
                match s[i..].find('\n') {
                    Some(n) => i += n,
                    None => break,
                }
            }
            b'\'' => {
                b.word().quoted = true;
                match s[i + 1..].find('\'') {
                    Some(n) => {
                        b.push(i + 1..i + 1 + n, true);
                        i += n + 2;
                    }
                    None => {
                        b.push(i + 1..bytes.len(), true);
                        unterminated = Some('\'');
                        i = bytes.len();
                    }
                }
            }
            b'"' => {
                b.word().quoted = true;
                i += 1;
                loop {
                    let Some(&c) = bytes.get(i) else {
                        unterminated = Some('"');
                        break;
                    };
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' if matches!(bytes.get(i + 1), Some(b'$' | b'`' | b'"' | b'\\')) => {
                            b.push(i + 1..i + 2, true);
                            i += 2;
                        }
                        b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
                        b'$' | b'`' => {
                            let end = expansion_end(s, i);
                            b.push(i..end, end == i + 1 && c == b'$');
                            i = end;
                        }
                        _ => {
                            let n = char_len(s, i);
                            b.push(i..i + n, true);
                            i += n;
                        }
                    }
                }
            }
            b'\\' => {
                b.word().quoted = true;
                match bytes.get(i + 1) {
                    Some(b'\n') => i += 2,
                    Some(_) => {
                        let n = char_len(s, i + 1);
                        b.push(i + 1..i + 1 + n, true);
                        i += 1 + n;
                    }
                    None => i += 1,
                }
            }
            b'$' | b'`' => {
                let end = expansion_end(s, i);
                // A `$` followed by nothing expandable is a literal dollar sign.
                b.push(i..end, end == i + 1 && bytes[i] == b'$');
                i = end;
            }
            // Process substitution `<(cmd)` / `>(cmd)`: an unknown file name, part of a word.
            b'<' | b'>' if bytes.get(i + 1) == Some(&b'(') => {
                let end = matching(s, i + 1, b'(', b')');
                b.push(i..end, false);
                i = end;
            }
            b'<' | b'>' => {
                // `2>file`: a word of digits right before a redirection is its file descriptor.
                if let Some(word) = &b.word
                    && !word.quoted
                    && word.as_str().bytes().all(|c| c.is_ascii_digit())
                {
                    b.word = None;
                }
                b.flush();
                let op = REDIRECTS
                    .iter()
                    .find(|op| s[i..].starts_with(**op))
                    .copied()
                    .unwrap_or(">");
                b.tokens.push(Token::Redirect(op));
                i += op.len();
            }
            b'&' | b'|' | b';' | b'(' | b')' => {
                b.flush();
                if let Some(op) = ["&>>", "&>"].into_iter().find(|op| s[i..].starts_with(*op)) {
                    b.tokens.push(Token::Redirect(op));
                    i += op.len();
                    continue;
                }
                let op = OPS
                    .iter()
                    .find(|op| s[i..].starts_with(**op))
                    .copied()
                    .unwrap_or(";");
                b.tokens.push(Token::Op(op));
                i += op.len();
            }
            _ => {
                let n = char_len(s, i);
                b.push(i..i + n, true);
                i += n;
            }
        }
    }
    b.flush();
    Tokens {
        tokens: b.tokens,
        unterminated,
    }
}

fn char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

/// End of the expansion starting at `$` or a backtick at `i`: `$NAME`, `$1`, `$@`, `${...}`,
/// `$(...)`, `$((...))`, `$'...'` or `` `...` ``; unclosed ones run to the end of the line.
fn expansion_end(s: &str, i: usize) -> usize {
    let bytes = s.as_bytes();
    if bytes[i] == b'`' {
        let mut j = i + 1;
        while j < bytes.len() {
            match bytes[j] {
                b'\\' => j += 2,
                b'`' => return j + 1,
                _ => j += 1,
            }
        }
        return bytes.len();
    }
    match bytes.get(i + 1) {
        Some(b'(') => matching(s, i + 1, b'(', b')'),
        Some(b'{') => matching(s, i + 1, b'{', b'}'),
        Some(b'\'') => match s[i + 2..].find('\'') {
            Some(n) => i + 2 + n + 1,
            None => bytes.len(),
        },
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            j
        }
        Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(c) => i + 2,
        _ => i + 1,
    }
}

/// Index just past the bracket closing the one at `open_at`, skipping quoted text.
fn matching(s: &str, open_at: usize, open: u8, close: u8) -> usize {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut j = open_at;
    while j < bytes.len() {
        let c = bytes[j];
        if c == b'\\' {
            j += 2;
            continue;
        }
        if c == b'\'' || c == b'"' {
            match s[j + 1..].find(c as char) {
                Some(n) => j += n + 2,
                None => return bytes.len(),
            }
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
        j += 1;
    }
    bytes.len()
}

/// The quote still open after `text`, starting with `open` (`None` outside quotes): a quick
/// scan that lets a script find the line closing a quote without re-tokenizing all the lines
/// in between.
pub fn quote_state(text: &str, mut open: Option<char>) -> Option<char> {
    let mut chars = text.chars().peekable();
    let mut word_start = true;
    while let Some(c) = chars.next() {
        match (open, c) {
            (Some('\''), '\'') | (Some('"'), '"') => open = None,
            (Some('"'), '\\') | (None, '\\') => {
                chars.next();
            }
            (Some(_), _) => {}
            (None, '\'' | '"') => open = Some(c),
            (None, '#') if word_start => return None,
            _ => {}
        }
        word_start = open.is_none() && (c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|');
    }
    open
}

/// Groups tokens into simple commands: operators separate them, redirections and their targets
/// are dropped (the words after them still belong to the command, as in the shell).
pub fn simple_commands(tokens: &[Token]) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    let mut current = SimpleCommand::default();
    let mut iter = tokens.iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            Token::Word(word) => current.words.push(word.clone()),
            Token::Op(_) => {
                if !current.words.is_empty() || !current.heredocs.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            Token::Redirect(op) => {
                if let Some(Token::Word(target)) = iter.peek() {
                    if matches!(*op, "<<" | "<<-") {
                        current.heredocs.push(Heredoc {
                            delimiter: target.as_str().to_string(),
                            strip_tabs: *op == "<<-",
                        });
                    }
                    iter.next();
                }
            }
        }
    }
    if !current.words.is_empty() || !current.heredocs.is_empty() {
        out.push(current);
    }
    out
}

/// Shell keywords and prefixes that may come before the command proper (`then pip install`).
pub fn is_prefix_keyword(word: &Word) -> bool {
    [
        "then", "do", "else", "elif", "if", "while", "until", "!", "{", "time", "exec", "nohup",
        "command", "builtin",
    ]
    .iter()
    .any(|k| word.is_bare(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        let text = MappedText::verbatim(line, 0..line.len());
        simple_commands(&tokenize(&text).tokens)
            .iter()
            .map(|c| c.words.iter().map(|w| w.as_str().to_string()).collect())
            .collect()
    }

    #[test]
    fn splits_words_and_commands() {
        let cases: &[(&str, &[&[&str]])] = &[
            ("pip install numpy", &[&["pip", "install", "numpy"]]),
            (
                "a && b || c; d | e & f",
                &[&["a"], &["b"], &["c"], &["d"], &["e"], &["f"]],
            ),
            (
                "pip install 'a b' \"c d\" e\\ f",
                &[&["pip", "install", "a b", "c d", "e f"]],
            ),
            (
                "pip install numpy>=1.0 pandas",
                &[&["pip", "install", "numpy", "pandas"]],
            ),
            (
                "pip install x 2>&1 | tee log",
                &[&["pip", "install", "x"], &["tee", "log"]],
            ),
            ("pip install x &>/dev/null", &[&["pip", "install", "x"]]),
            ("pip install x # numpy", &[&["pip", "install", "x"]]),
            ("pip install a#b", &[&["pip", "install", "a#b"]]),
            (
                "echo $(pip install x; y) z",
                &[&["echo", "$(pip install x; y)", "z"]],
            ),
            ("echo \"${A:-b c}\"", &[&["echo", "${A:-b c}"]]),
            (
                "(cd x && pip install .)",
                &[&["cd", "x"], &["pip", "install", "."]],
            ),
            ("cat <<EOF > f", &[&["cat"]]),
            ("a\nb", &[&["a"], &["b"]]),
            ("pip install \"x\\\"y\"", &[&["pip", "install", "x\"y"]]),
            (
                "pip install 'unterminated",
                &[&["pip", "install", "unterminated"]],
            ),
            ("", &[]),
            ("   # only a comment", &[]),
            ("a |& b;; c", &[&["a"], &["b"], &["c"]]),
            ("a &>> log b", &[&["a", "b"]]),
            ("grep x <<< \"$s\" y", &[&["grep", "x", "y"]]),
            ("cmd 2>/dev/null 1>&2 3<in 10>out", &[&["cmd"]]),
            ("echo a2>f", &[&["echo", "a2"]]),
            ("x=$'a b' pip", &[&["x=$'a b'", "pip"]]),
            (
                "pip install ${{ matrix.pkg }} y",
                &[&["pip", "install", "${{ matrix.pkg }}", "y"]],
            ),
            ("pip install 'a'\"b\"c", &[&["pip", "install", "abc"]]),
            (
                "pip install café ñandú",
                &[&["pip", "install", "café", "ñandú"]],
            ),
            ("diff <(ls a) >(cat)", &[&["diff", "<(ls a)", ">(cat)"]]),
            ("echo \"a # b\" # c", &[&["echo", "a # b"]]),
            ("echo \"unclosed $(x\"", &[&["echo", "unclosed $(x\""]]),
            ("a\\\nb", &[&["ab"]]),
        ];
        for (line, expected) in cases {
            let expected: Vec<Vec<String>> = expected
                .iter()
                .map(|c| c.iter().map(|w| w.to_string()).collect())
                .collect();
            assert_eq!(words(line), expected, "{line:?}");
        }
    }

    #[test]
    fn marks_expansions_as_not_literal() {
        let line = "pip install $PKG torch==${VER} \"x$Y\" a$ 'b$c' `x`y";
        let text = MappedText::verbatim(line, 0..line.len());
        let cmds = simple_commands(&tokenize(&text).tokens);
        let literal: Vec<(String, bool)> = cmds[0]
            .words
            .iter()
            .map(|w| (w.as_str().to_string(), w.is_literal()))
            .collect();
        let expect = [
            ("pip", true),
            ("install", true),
            ("$PKG", false),
            ("torch==${VER}", false),
            ("x$Y", false),
            ("a$", true),
            ("b$c", true),
            ("`x`y", false),
        ];
        let expect: Vec<(String, bool)> = expect.iter().map(|(s, l)| (s.to_string(), *l)).collect();
        assert_eq!(literal, expect);
        let torch = &cmds[0].words[3];
        assert!(torch.is_literal_at(4) && !torch.is_literal_at(7));
    }

    #[test]
    fn quoted_words_keep_their_positions() {
        let line = "pip install \"numpy>=1\" 'pan das'";
        let text = MappedText::verbatim(line, 0..line.len());
        let cmds = simple_commands(&tokenize(&text).tokens);
        assert_eq!(cmds[0].words[2].text.origin(0..5), Some(13..18));
        assert_eq!(cmds[0].words[3].text.origin(4..7), Some(28..31));
    }

    #[test]
    fn every_value_byte_maps_to_its_source_byte() {
        // (line, word index, value byte range, source byte range)
        let cases = [
            ("pip install numpy", 2, 0..5, 12..17),
            ("pip install \\numpy", 2, 0..5, 13..18),
            ("pip install n'um'py", 2, 1..3, 14..16),
            ("pip install \"a\\\"b\"", 2, 0..3, 13..17),
            ("  pip   install\t'é-x'", 2, 0..4, 17..21),
            ("a;b", 1, 0..1, 2..3),
            ("x=1 y", 1, 0..1, 4..5),
        ];
        for (line, index, value, source) in cases {
            let text = MappedText::verbatim(line, 0..line.len());
            let tokens = tokenize(&text);
            let words: Vec<&Word> = tokens
                .tokens
                .iter()
                .filter_map(|t| match t {
                    Token::Word(w) => Some(w),
                    _ => None,
                })
                .collect();
            assert_eq!(
                words[index].text.origin(value.clone()),
                Some(source),
                "{line:?} word {index} {value:?} ({:?})",
                words[index].as_str()
            );
        }
    }

    #[test]
    fn quote_state_follows_quotes_across_lines() {
        let cases = [
            ("echo 'a", None, Some('\'')),
            ("b' c", Some('\''), None),
            ("x \\\" y", Some('"'), Some('"')),
            ("it's # comment", None, Some('\'')),
            ("plain # it's a comment", None, None),
            ("\"a 'b\"", None, None),
            ("'a \"b'", None, None),
            ("\\'", None, None),
        ];
        for (text, open, after) in cases {
            assert_eq!(quote_state(text, open), after, "{text:?} from {open:?}");
        }
    }

    #[test]
    fn records_heredocs_and_unterminated_quotes() {
        let line = "cat <<-'EOF' >out && bash <<X";
        let text = MappedText::verbatim(line, 0..line.len());
        let tokens = tokenize(&text);
        let cmds = simple_commands(&tokens.tokens);
        assert_eq!(
            cmds[0].heredocs,
            [Heredoc {
                delimiter: "EOF".into(),
                strip_tabs: true
            }]
        );
        assert_eq!(cmds[1].heredocs[0].delimiter, "X");
        let open = MappedText::verbatim("echo \"abc", 0..9);
        assert_eq!(tokenize(&open).unterminated, Some('"'));
    }
}
