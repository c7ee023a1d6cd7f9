//! Turning one rule string into a [`Check`] tree.
//!
//! A recursive-descent parser with oslo's precedence, `not` > `and` > `or`;
//! for every rule oslo's shift-reduce parser accepts it builds an equivalent
//! tree. Where oslo would log and fail closed (a dangling `and`, a token that
//! is not a check, a reference to a missing rule) this refuses the rule so
//! the mistake surfaces when the service starts, not as silent denials.

use crate::check::Check;
use crate::credentials::Attr;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Token, TokenKind, column, tokenize};
use crate::template::Template;

/// How deep parentheses and `not`s may nest in one rule; far beyond any real
/// policy, low enough that a hostile file cannot overflow the stack.
const MAX_NESTING: usize = 32;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RuleError {
    Syntax(ParseError),
    /// `rule:<name>` where no rule has that name.
    MissingRule(String),
}

/// Parses `rule`; `resolve` maps a referenced rule name to its index.
pub(crate) fn parse(
    rule: &str,
    resolve: &dyn Fn(&str) -> Option<usize>,
) -> Result<Check, RuleError> {
    // oslo: the empty rule always passes.
    if rule.is_empty() {
        return Ok(Check::Always);
    }
    let tokens = tokenize(rule);
    let mut p = Parser {
        rule,
        tokens,
        pos: 0,
        depth: 0,
        resolve,
    };
    if p.tokens.is_empty() {
        return Err(p.error_at(ParseErrorKind::BlankRule, None));
    }
    let check = p.or_expr()?;
    match p.peek() {
        None => Ok(check),
        Some(t) if t.kind == TokenKind::Close => {
            Err(p.error_at(ParseErrorKind::UnmatchedParen, Some(t)))
        }
        Some(t) => Err(p.error_at(ParseErrorKind::ExpectedOperator, Some(t))),
    }
}

struct Parser<'a, 'r> {
    rule: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
    resolve: &'r dyn Fn(&str) -> Option<usize>,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).copied()
    }

    fn eat(&mut self, kind: TokenKind<'_>) -> bool {
        let hit = self.peek().is_some_and(|t| t.kind == kind);
        self.pos += usize::from(hit);
        hit
    }

    fn or_expr(&mut self) -> Result<Check, RuleError> {
        let mut any = vec![self.and_expr()?];
        while self.eat(TokenKind::Or) {
            any.push(self.and_expr()?);
        }
        Ok(join(any, Check::Or))
    }

    fn and_expr(&mut self) -> Result<Check, RuleError> {
        let mut all = vec![self.unary()?];
        while self.eat(TokenKind::And) {
            all.push(self.unary()?);
        }
        Ok(join(all, Check::And))
    }

    fn unary(&mut self) -> Result<Check, RuleError> {
        let Some(token) = self.peek() else {
            // The previous token (an operator or `(`) has no operand.
            let last = self
                .pos
                .checked_sub(1)
                .and_then(|i| self.tokens.get(i))
                .copied();
            return Err(self.error_at(ParseErrorKind::MissingOperand, last));
        };
        self.pos += 1;
        match token.kind {
            TokenKind::Not => {
                let inner = self.nested(token, Self::unary)?;
                Ok(Check::Not(Box::new(inner)))
            }
            TokenKind::Open => {
                let inner = self.nested(token, Self::or_expr)?;
                match self.peek() {
                    Some(t) if t.kind == TokenKind::Close => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(self.error_at(ParseErrorKind::ExpectedOperator, Some(t))),
                    None => Err(self.error_at(ParseErrorKind::UnclosedParen, Some(token))),
                }
            }
            TokenKind::Check(text) => self.check(text, token),
            TokenKind::Quoted => Err(self.error_at(ParseErrorKind::BareString, Some(token))),
            TokenKind::And | TokenKind::Or | TokenKind::Close => {
                Err(self.error_at(ParseErrorKind::MissingOperand, Some(token)))
            }
        }
    }

    fn nested(
        &mut self,
        opener: Token<'a>,
        f: fn(&mut Self) -> Result<Check, RuleError>,
    ) -> Result<Check, RuleError> {
        if self.depth >= MAX_NESTING {
            return Err(self.error_at(ParseErrorKind::TooDeep, Some(opener)));
        }
        self.depth += 1;
        let inner = f(self);
        self.depth -= 1;
        inner
    }

    fn check(&self, text: &str, token: Token<'a>) -> Result<Check, RuleError> {
        let fail = |kind| self.error_at(kind, Some(token));
        match text {
            "@" => return Ok(Check::Always),
            "!" => return Ok(Check::Never),
            _ => {}
        }
        let (kind, matched) = text
            .split_once(':')
            .ok_or_else(|| fail(ParseErrorKind::NotACheck))?;
        if kind == "rule" {
            // A rule name is taken literally, never substituted (as in oslo).
            return (self.resolve)(matched)
                .map(Check::Rule)
                .ok_or_else(|| RuleError::MissingRule(matched.to_string()));
        }
        let expected = Template::parse(matched).map_err(fail)?;
        if kind == "role" {
            if matched.is_empty() {
                return Err(fail(ParseErrorKind::EmptyRole));
            }
            return Ok(Check::Role(expected));
        }
        if let Some(value) = literal(kind) {
            return Ok(Check::Literal { value, expected });
        }
        let attr = Attr::from_name(kind).ok_or_else(|| fail(ParseErrorKind::UnknownAttribute))?;
        Ok(Check::Attr { attr, expected })
    }

    fn error_at(&self, kind: ParseErrorKind, token: Option<Token<'_>>) -> RuleError {
        RuleError::Syntax(ParseError {
            kind,
            column: token.map_or(1, |t| column(self.rule, t.offset)),
            token: token.map_or_else(String::new, |t| t.text.to_string()),
        })
    }
}

/// The left side of a check read as oslo's `ast.literal_eval` would for the
/// literals policies use: a quoted string, `True` or `False` (compared as
/// Python's `str()` of them).
fn literal(kind: &str) -> Option<String> {
    match kind {
        "True" | "False" => Some(kind.to_string()),
        _ => {
            let b = kind.as_bytes();
            let quoted = b.len() >= 2 && (b[0] == b'\'' || b[0] == b'"') && b[0] == b[b.len() - 1];
            let inner = quoted.then(|| &kind[1..kind.len() - 1])?;
            // An escape or embedded quote would need Python's full literal rules.
            (!inner.contains(['\\', '\'', '"'])).then(|| inner.to_string())
        }
    }
}

fn join(mut checks: Vec<Check>, wrap: fn(Vec<Check>) -> Check) -> Check {
    match checks.pop() {
        Some(only) if checks.is_empty() => only,
        Some(last) => {
            checks.push(last);
            wrap(checks)
        }
        None => wrap(checks),
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "parser_roundtrip_tests.rs"]
mod roundtrip_tests;
