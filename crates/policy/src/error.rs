//! Everything that can go wrong loading a policy or asking it a question.
//!
//! Load errors name the rule (and, for syntax, the token and column) so an
//! operator can fix their file from the log line alone. Enforcement has one
//! error, [`PolicyError::UnknownAction`], which callers treat as a deny.

use std::fmt;
use std::path::PathBuf;

/// Which document a rule came from; operators only control the overrides, so
/// errors say which one to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The service's built-in defaults.
    Defaults,
    /// The operator's policy file.
    Overrides,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Defaults => "default policy",
            Origin::Overrides => "operator policy overrides",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the {origin} is not valid YAML")]
    Yaml {
        origin: Origin,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("the {origin} is not a mapping of rule names to rule strings")]
    NotAMapping { origin: Origin },
    #[error("the {origin} has a rule name that is not a string: {key}")]
    BadRuleName { origin: Origin, key: String },
    #[error("rule {rule:?} in the {origin} is not a string")]
    NotAString { origin: Origin, rule: String },
    #[error("rule {rule:?} in the {origin} does not parse")]
    Parse {
        origin: Origin,
        rule: String,
        #[source]
        source: ParseError,
    },
    #[error("rule {rule:?} in the {origin} refers to rule {missing:?}, which is not defined")]
    MissingRule {
        origin: Origin,
        rule: String,
        missing: String,
    },
    #[error("rules refer to each other in a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The rule names around the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    #[error("rule {rule:?} reaches more than {limit} levels of rule references")]
    TooDeep { rule: String, limit: usize },
    #[error("cannot read the policy file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no policy rule is named {0:?}")]
    UnknownAction(String),
}

/// A rule string that is not in the policy language.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at column {column} (`{token}`)")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// 1-based, in characters, of the offending token's first character.
    pub column: usize,
    /// The offending token as written (empty for a blank rule).
    pub token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Only whitespace; oslo would silently deny everything here.
    BlankRule,
    /// An operand is missing: `and` / `or` / `not` / `(` with nothing usable after it.
    MissingOperand,
    /// Two operands in a row, e.g. `role:a role:b`.
    ExpectedOperator,
    /// A `(` that is never closed.
    UnclosedParen,
    /// A `)` that closes nothing.
    UnmatchedParen,
    /// A token that is none of `@`, `!`, `kind:match`, an operator or a parenthesis.
    NotACheck,
    /// A quoted string standing alone instead of on the left of a check.
    BareString,
    /// `kind:match` where kind is no credential attribute or known literal.
    UnknownAttribute,
    /// `role:` with no role name.
    EmptyRole,
    /// A `%` in a match that is not `%%` or `%(key)s`.
    BadSubstitution,
    /// Parentheses and `not`s nested deeper than the engine allows.
    TooDeep,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseErrorKind::BlankRule => "the rule is blank (use \"\" or \"@\" to allow, \"!\" to deny)",
            ParseErrorKind::MissingOperand => "a check is missing",
            ParseErrorKind::ExpectedOperator => "expected `and`, `or` or `)` before this check",
            ParseErrorKind::UnclosedParen => "this parenthesis is never closed",
            ParseErrorKind::UnmatchedParen => "this parenthesis closes nothing",
            ParseErrorKind::NotACheck => "not a check: expected `@`, `!` or `kind:match`",
            ParseErrorKind::BareString => "a quoted string is only allowed left of `:` in a check",
            ParseErrorKind::UnknownAttribute => {
                "unknown check kind: expected `role`, `rule`, a quoted or True/False literal, or one of the credential attributes user_id, user_domain_id, project_id, project_domain_id, domain_id, system_scope, roles"
            }
            ParseErrorKind::EmptyRole => "`role:` names no role",
            ParseErrorKind::BadSubstitution => "a `%` that is neither `%%` nor `%(key)s`",
            ParseErrorKind::TooDeep => "parentheses and `not` are nested too deep",
        })
    }
}
