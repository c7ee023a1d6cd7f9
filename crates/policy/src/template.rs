//! The right-hand side of a check: a literal, a `%(key)s` substitution from
//! the target, or a mix, matched against a value without building the
//! substituted string.

use crate::error::ParseErrorKind;
use crate::target::Target;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Template {
    Literal(String),
    /// Exactly `%(key)s`, by far the common case, so it gets a fast path.
    Key(String),
    Mixed(Vec<Segment>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Key(String),
}

impl Template {
    /// Parses oslo's Python `%`-formatting subset: `%(key)s` and `%%`. Any
    /// other `%` would raise at enforcement time in oslo, so it is refused here.
    pub(crate) fn parse(text: &str) -> Result<Template, ParseErrorKind> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                literal.push('%');
                rest = tail;
                continue;
            }
            let inner = after
                .strip_prefix('(')
                .ok_or(ParseErrorKind::BadSubstitution)?;
            let close = inner.find(')').ok_or(ParseErrorKind::BadSubstitution)?;
            let key = &inner[..close];
            rest = inner[close + 1..]
                .strip_prefix('s')
                .ok_or(ParseErrorKind::BadSubstitution)?;
            if key.is_empty() {
                return Err(ParseErrorKind::BadSubstitution);
            }
            if !literal.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Key(key.to_string()));
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(match segments.as_mut_slice() {
            [] => Template::Literal(String::new()),
            [Segment::Text(t)] => Template::Literal(std::mem::take(t)),
            [Segment::Key(k)] => Template::Key(std::mem::take(k)),
            _ => Template::Mixed(segments),
        })
    }

    /// Whether the substituted template equals `actual`; false when a key is
    /// absent from the target.
    pub(crate) fn matches(&self, actual: &str, target: &Target) -> bool {
        match self {
            Template::Literal(l) => l == actual,
            Template::Key(k) => target.get(k) == Some(actual),
            Template::Mixed(segs) => {
                resolved(segs, target).is_some_and(|expected| expected.eq(actual.chars()))
            }
        }
    }

    /// As [`Template::matches`], ignoring case like oslo's `lower()`.
    pub(crate) fn matches_folded(&self, actual: &str, target: &Target) -> bool {
        match self {
            Template::Literal(l) => eq_folded(l, actual),
            Template::Key(k) => target.get(k).is_some_and(|v| eq_folded(v, actual)),
            Template::Mixed(segs) => resolved(segs, target).is_some_and(|expected| {
                expected
                    .flat_map(char::to_lowercase)
                    .eq(actual.chars().flat_map(char::to_lowercase))
            }),
        }
    }
}

/// The substituted template as a character stream, or `None` when a key is
/// absent; streaming keeps enforcement free of allocation.
fn resolved<'a>(
    segs: &'a [Segment],
    target: &'a Target,
) -> Option<impl Iterator<Item = char> + 'a> {
    let all_present = segs.iter().all(|s| match s {
        Segment::Text(_) => true,
        Segment::Key(k) => target.get(k).is_some(),
    });
    all_present.then(|| {
        segs.iter().flat_map(move |s| {
            match s {
                Segment::Text(t) => t.as_str(),
                Segment::Key(k) => target.get(k).unwrap_or_default(),
            }
            .chars()
        })
    })
}

pub(crate) fn eq_folded(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
