//! Parser unit tests: the tree built for each construct and the error for
//! each kind of malformed rule.

use super::*;

/// Rules `a`..`c` exist at indices 0..2 for `rule:` references.
fn resolve(name: &str) -> Option<usize> {
    ["a", "b", "c"].iter().position(|n| *n == name)
}

fn p(rule: &str) -> Check {
    parse(rule, &resolve).unwrap_or_else(|e| panic!("{rule:?}: {e:?}"))
}

fn syntax(rule: &str) -> ParseError {
    match parse(rule, &resolve) {
        Err(RuleError::Syntax(e)) => e,
        other => panic!("{rule:?} should be a syntax error, got {other:?}"),
    }
}

fn role(name: &str) -> Check {
    Check::Role(Template::Literal(name.into()))
}

fn not(c: Check) -> Check {
    Check::Not(Box::new(c))
}

#[test]
fn constants_and_the_empty_rule() {
    assert_eq!(p(""), Check::Always);
    assert_eq!(p("@"), Check::Always);
    assert_eq!(p("!"), Check::Never);
    assert_eq!(p(" ( @ ) "), Check::Always);
}

#[test]
fn every_kind_of_check() {
    assert_eq!(p("role:admin"), role("admin"));
    assert_eq!(p("role:compute:admin"), role("compute:admin"));
    assert_eq!(
        p("role:%(role)s"),
        Check::Role(Template::Key("role".into()))
    );
    assert_eq!(p("rule:b"), Check::Rule(1));
    assert_eq!(
        p("project_id:%(project_id)s"),
        Check::Attr {
            attr: Attr::ProjectId,
            expected: Template::Key("project_id".into())
        }
    );
    assert_eq!(
        p("system_scope:all"),
        Check::Attr {
            attr: Attr::SystemScope,
            expected: Template::Literal("all".into())
        }
    );
    assert_eq!(
        p("domain_id:%(target.domain_id)s"),
        Check::Attr {
            attr: Attr::DomainId,
            expected: Template::Key("target.domain_id".into())
        }
    );
    for (rule, attr) in [
        ("user_id:x", Attr::UserId),
        ("user_domain_id:x", Attr::UserDomainId),
        ("project_domain_id:x", Attr::ProjectDomainId),
        ("roles:x", Attr::Roles),
    ] {
        assert_eq!(
            p(rule),
            Check::Attr {
                attr,
                expected: Template::Literal("x".into())
            }
        );
    }
}

#[test]
fn literals_on_the_left() {
    let lit = |v: &str| Check::Literal {
        value: v.into(),
        expected: Template::Key("k".into()),
    };
    assert_eq!(p("'shared':%(k)s"), lit("shared"));
    assert_eq!(p("\"shared\":%(k)s"), lit("shared"));
    assert_eq!(p("'':%(k)s"), lit(""));
    assert_eq!(p("True:%(k)s"), lit("True"));
    assert_eq!(p("False:%(k)s"), lit("False"));
    // Python literals are case-sensitive; `true` is an (unknown) attribute.
    assert_eq!(syntax("true:%(k)s").kind, ParseErrorKind::UnknownAttribute);
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        p("role:a or role:b and role:c"),
        Check::Or(vec![role("a"), Check::And(vec![role("b"), role("c")])])
    );
    assert_eq!(
        p("role:a and role:b or role:c and role:d"),
        Check::Or(vec![
            Check::And(vec![role("a"), role("b")]),
            Check::And(vec![role("c"), role("d")])
        ])
    );
    assert_eq!(
        p("role:a or role:b or role:c"),
        Check::Or(vec![role("a"), role("b"), role("c")])
    );
}

#[test]
fn not_binds_tightest() {
    assert_eq!(
        p("not role:a and role:b"),
        Check::And(vec![not(role("a")), role("b")])
    );
    assert_eq!(
        p("role:a or not role:b"),
        Check::Or(vec![role("a"), not(role("b"))])
    );
    assert_eq!(p("not not role:a"), not(not(role("a"))));
    assert_eq!(
        p("not (role:a or role:b)"),
        not(Check::Or(vec![role("a"), role("b")]))
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        p("(role:a or role:b) and role:c"),
        Check::And(vec![Check::Or(vec![role("a"), role("b")]), role("c")])
    );
    assert_eq!(
        p("role:admin or (project_id:%(project_id)s and role:projectadmin)"),
        Check::Or(vec![
            role("admin"),
            Check::And(vec![
                Check::Attr {
                    attr: Attr::ProjectId,
                    expected: Template::Key("project_id".into())
                },
                role("projectadmin")
            ])
        ])
    );
    assert_eq!(p("((role:a))"), role("a"));
}

#[test]
fn missing_rule_reference_names_the_rule() {
    assert_eq!(
        parse("role:a or rule:nope", &resolve),
        Err(RuleError::MissingRule("nope".into()))
    );
}

#[test]
fn malformed_rules_name_the_token_and_column() {
    let cases = [
        ("  ", ParseErrorKind::BlankRule, 1, ""),
        ("(role:a or role:b", ParseErrorKind::UnclosedParen, 1, "("),
        ("role:a or role:b)", ParseErrorKind::UnmatchedParen, 17, ")"),
        ("role:a and", ParseErrorKind::MissingOperand, 8, "and"),
        (
            "role:a or or role:b",
            ParseErrorKind::MissingOperand,
            11,
            "or",
        ),
        ("and role:a", ParseErrorKind::MissingOperand, 1, "and"),
        ("not", ParseErrorKind::MissingOperand, 1, "not"),
        ("()", ParseErrorKind::MissingOperand, 2, ")"),
        (
            "role:a role:b",
            ParseErrorKind::ExpectedOperator,
            8,
            "role:b",
        ),
        (
            "(role:a role:b)",
            ParseErrorKind::ExpectedOperator,
            9,
            "role:b",
        ),
        ("role:a or foo", ParseErrorKind::NotACheck, 11, "foo"),
        ("'shared'", ParseErrorKind::BareString, 1, "'shared'"),
        (
            "tenant:%(tenant_id)s",
            ParseErrorKind::UnknownAttribute,
            1,
            "tenant:%(tenant_id)s",
        ),
        (
            "is_admin:True",
            ParseErrorKind::UnknownAttribute,
            1,
            "is_admin:True",
        ),
        (
            "http:example.com",
            ParseErrorKind::UnknownAttribute,
            1,
            "http:example.com",
        ),
        ("role:", ParseErrorKind::EmptyRole, 1, "role:"),
        (
            "project_id:%(x)d",
            ParseErrorKind::BadSubstitution,
            1,
            "project_id:%(x)d",
        ),
    ];
    for (rule, kind, column, token) in cases {
        let e = syntax(rule);
        assert_eq!(
            (e.kind, e.column, e.token.as_str()),
            (kind, column, token),
            "{rule:?}"
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let ok = format!(
        "{}role:a{}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert_eq!(p(&ok), role("a"));
    let deep = format!("{}role:a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(syntax(&deep).kind, ParseErrorKind::TooDeep);
    let nots = format!("{}role:a", "not ".repeat(MAX_NESTING + 1));
    assert_eq!(syntax(&nots).kind, ParseErrorKind::TooDeep);
}
