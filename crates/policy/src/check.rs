//! The compiled form of a rule and its evaluation against credentials and a
//! target. Rule references are indices into the policy's rule table, so
//! evaluating never looks a name up or allocates.

use crate::credentials::{Attr, Credentials};
use crate::target::Target;
use crate::template::Template;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// `@` or the empty rule.
    Always,
    /// `!`.
    Never,
    /// `role:<name>`: any of the caller's roles, case-insensitively.
    Role(Template),
    /// `rule:<name>`, resolved to the rule's index in the policy.
    Rule(usize),
    /// `<attr>:<match>`: a credential attribute equals the match.
    Attr {
        attr: Attr,
        expected: Template,
    },
    /// `'literal':<match>` or `True:`/`False:`: a constant equals the match,
    /// which is how oslo compares a target field with a fixed value.
    Literal {
        value: String,
        expected: Template,
    },
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
}

/// What one enforcement evaluates against.
pub(crate) struct Context<'a> {
    pub rules: &'a [Check],
    pub creds: &'a Credentials,
    pub target: &'a Target,
}

impl Check {
    pub(crate) fn eval(&self, cx: &Context<'_>) -> bool {
        match self {
            Check::Always => true,
            Check::Never => false,
            Check::Role(name) => cx
                .creds
                .roles
                .iter()
                .any(|r| name.matches_folded(r, cx.target)),
            // Index validity is established when the policy is built.
            Check::Rule(i) => cx.rules.get(*i).is_some_and(|rule| rule.eval(cx)),
            Check::Attr {
                attr: Attr::Roles,
                expected,
            } => cx
                .creds
                .roles
                .iter()
                .any(|r| expected.matches(r, cx.target)),
            Check::Attr { attr, expected } => cx
                .creds
                .scalar(*attr)
                .is_some_and(|v| expected.matches(v, cx.target)),
            Check::Literal { value, expected } => expected.matches(value, cx.target),
            Check::Not(inner) => !inner.eval(cx),
            Check::And(all) => all.iter().all(|c| c.eval(cx)),
            Check::Or(any) => any.iter().any(|c| c.eval(cx)),
        }
    }

    /// Pushes the index of every rule this one refers to directly.
    pub(crate) fn references(&self, out: &mut Vec<usize>) {
        match self {
            Check::Rule(i) => out.push(*i),
            Check::Not(inner) => inner.references(out),
            Check::And(list) | Check::Or(list) => list.iter().for_each(|c| c.references(out)),
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
