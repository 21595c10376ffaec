//! Python's `shlex.split(s)` (POSIX mode, no comments), keeping each token's byte range.
//!
//! Written here rather than taken from the `shlex` crate because pip's option values need their
//! exact place in the file, which no shell-splitting crate reports.

use std::ops::Range;

/// One word: its unquoted value and the range of its text as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub value: String,
    pub range: Range<usize>,
}

/// Why a string could not be split (Python's `ValueError` messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub message: &'static str,
    /// Where the unfinished quote or escape starts.
    pub at: usize,
}

const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

pub(crate) fn split(s: &str) -> Result<Vec<Token>, SplitError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Word,
        Quote(char),
        /// After `\`; the state to go back to.
        Escape(Option<char>),
    }
    let mut tokens = Vec::new();
    let mut state = State::Between;
    let mut value = String::new();
    let mut start = 0;
    let mut opened = 0;
    for (i, c) in s.char_indices() {
        match state {
            State::Between => {
                if WHITESPACE.contains(&c) {
                    continue;
                }
                start = i;
                value.clear();
                match c {
                    '\\' => {
                        opened = i;
                        state = State::Escape(None);
                    }
                    '\'' | '"' => {
                        opened = i;
                        state = State::Quote(c);
                    }
                    _ => {
                        value.push(c);
                        state = State::Word;
                    }
                }
            }
            State::Word => match c {
                _ if WHITESPACE.contains(&c) => {
                    tokens.push(Token {
                        value: std::mem::take(&mut value),
                        range: start..i,
                    });
                    state = State::Between;
                }
                '\\' => {
                    opened = i;
                    state = State::Escape(None);
                }
                '\'' | '"' => {
                    opened = i;
                    state = State::Quote(c);
                }
                _ => value.push(c),
            },
            State::Quote(quote) => {
                if c == quote {
                    state = State::Word;
                } else if c == '\\' && quote == '"' {
                    opened = i;
                    state = State::Escape(Some(quote));
                } else {
                    value.push(c);
                }
            }
            State::Escape(inside) => {
                // Inside double quotes, `\` escapes only `"` and `\`; elsewhere it stays.
                if let Some(quote) = inside
                    && c != quote
                    && c != '\\'
                {
                    value.push('\\');
                }
                value.push(c);
                state = match inside {
                    Some(quote) => State::Quote(quote),
                    None => State::Word,
                };
            }
        }
    }
    match state {
        State::Between => {}
        State::Word => tokens.push(Token {
            value,
            range: start..s.len(),
        }),
        State::Quote(_) => {
            return Err(SplitError {
                message: "No closing quotation",
                at: opened,
            });
        }
        State::Escape(_) => {
            return Err(SplitError {
                message: "No escaped character",
                at: opened,
            });
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: &str) -> Vec<String> {
        split(s).unwrap().into_iter().map(|t| t.value).collect()
    }

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(
            values("  -r  a.txt\t--hash=x "),
            ["-r", "a.txt", "--hash=x"]
        );
        assert_eq!(values(r#"--x="a b" 'c d'e"#), ["--x=a b", "c de"]);
        assert_eq!(values(r#""a\"b\c" a\ b ''"#), [r#"a"b\c"#, "a b", ""]);
        assert_eq!(values("#not-a-comment"), ["#not-a-comment"]);
    }

    #[test]
    fn keeps_ranges_of_tokens_as_written() {
        let s = r#"-i "https://x" --hash=a"#;
        let tokens = split(s).unwrap();
        assert_eq!(&s[tokens[1].range.clone()], r#""https://x""#);
        assert_eq!(tokens[1].value, "https://x");
        assert_eq!(&s[tokens[2].range.clone()], "--hash=a");
    }

    #[test]
    fn reports_unfinished_quotes_and_escapes() {
        assert_eq!(split("a 'b").unwrap_err().message, "No closing quotation");
        assert_eq!(split("a 'b").unwrap_err().at, 2);
        assert_eq!(split("a \\").unwrap_err().message, "No escaped character");
    }
}
