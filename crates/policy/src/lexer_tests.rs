//! Tokenizer tests: where words split, what each token is, and columns.

use super::*;

fn kinds(rule: &str) -> Vec<TokenKind<'_>> {
    tokenize(rule).into_iter().map(|t| t.kind).collect()
}

#[test]
fn parentheses_split_off_only_at_word_edges() {
    use TokenKind::*;
    assert_eq!(
        kinds("((role:admin or  rule:x))"),
        vec![
            Open,
            Open,
            Check("role:admin"),
            Or,
            Check("rule:x"),
            Close,
            Close
        ]
    );
    // The substitution's own parentheses stay inside the check.
    assert_eq!(
        kinds("(project_id:%(project_id)s)"),
        vec![Open, Check("project_id:%(project_id)s"), Close]
    );
    assert_eq!(kinds("role:a)or(role:b"), vec![Check("role:a)or(role:b")]);
}

#[test]
fn operators_are_case_insensitive_and_may_touch_parentheses() {
    use TokenKind::*;
    assert_eq!(
        kinds("NOT (a:b AND c:d) Or e:f"),
        vec![
            Not,
            Open,
            Check("a:b"),
            And,
            Check("c:d"),
            Close,
            Or,
            Check("e:f")
        ]
    );
    assert_eq!(kinds("(not)"), vec![Open, Not, Close]);
    assert_eq!(kinds("android:x"), vec![Check("android:x")]);
}

#[test]
fn quoted_words_alone_are_strings_but_quoted_kinds_are_checks() {
    use TokenKind::*;
    assert_eq!(kinds("'shared'"), vec![Quoted]);
    assert_eq!(
        kinds("'shared':%(visibility)s"),
        vec![Check("'shared':%(visibility)s")]
    );
    // oslo looks for the closing quote before stripping `)`.
    assert_eq!(kinds("('x')"), vec![Open, Check("'x'"), Close]);
    assert_eq!(kinds("'"), vec![Check("'")]);
}

#[test]
fn offsets_and_columns_point_at_the_token() {
    let rule = "  (é:x\tand )";
    let tokens = tokenize(rule);
    let cols: Vec<(usize, &str)> = tokens
        .iter()
        .map(|t| (column(rule, t.offset), t.text))
        .collect();
    assert_eq!(cols, vec![(3, "("), (4, "é:x"), (8, "and"), (12, ")")]);
    assert!(tokenize(" \t\n").is_empty());
}
