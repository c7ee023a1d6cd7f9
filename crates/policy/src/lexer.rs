//! Splitting a rule string into tokens exactly where oslo.policy's tokenizer
//! splits it.
//!
//! Tokens are separated by whitespace. Parentheses are only recognised at the
//! start and end of a whitespace-separated word, because a check's match can
//! itself contain them (`%(project_id)s`); so `(role:a` and `role:b))` work
//! while `role:a)or(role:b` is one (invalid) check. `and`, `or` and `not` are
//! case-insensitive, as in oslo.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind<'a> {
    Open,
    Close,
    And,
    Or,
    Not,
    /// `'text'` or `"text"` standing alone; oslo never reduces it to a check.
    Quoted,
    /// Anything else: `@`, `!` or `kind:match` (validated by the parser).
    Check(&'a str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub text: &'a str,
    /// Byte offset of the token in the rule string.
    pub offset: usize,
}

pub(crate) fn tokenize(rule: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    for (offset, word) in words(rule) {
        let rest = word.trim_start_matches('(');
        let opens = word.len() - rest.len();
        for i in 0..opens {
            tokens.push(paren(TokenKind::Open, rule, offset + i));
        }
        let body = rest.trim_end_matches(')');
        let at = offset + opens;
        if !body.is_empty() {
            let kind = if body.eq_ignore_ascii_case("and") {
                TokenKind::And
            } else if body.eq_ignore_ascii_case("or") {
                TokenKind::Or
            } else if body.eq_ignore_ascii_case("not") {
                TokenKind::Not
            } else if is_quoted(rest) {
                TokenKind::Quoted
            } else {
                TokenKind::Check(body)
            };
            tokens.push(Token {
                kind,
                text: body,
                offset: at,
            });
        }
        for i in body.len()..rest.len() {
            tokens.push(paren(TokenKind::Close, rule, at + i));
        }
    }
    tokens
}

fn paren<'a>(kind: TokenKind<'a>, rule: &'a str, offset: usize) -> Token<'a> {
    Token {
        kind,
        text: &rule[offset..offset + 1],
        offset,
    }
}

/// oslo tests the word before stripping closing parentheses, so `'x')` is a
/// (broken) check rather than a quoted string; this mirrors that.
fn is_quoted(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 2 && (b[0] == b'\'' || b[0] == b'"') && b[0] == b[b.len() - 1]
}

/// Whitespace-separated words with their byte offsets.
fn words(rule: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = None;
    let mut out = Vec::new();
    for (i, c) in rule.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &rule[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &rule[s..]));
    }
    out.into_iter()
}

/// 1-based character column of a byte offset, for error messages.
pub(crate) fn column(rule: &str, offset: usize) -> usize {
    rule.get(..offset).map_or(0, |s| s.chars().count()) + 1
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
