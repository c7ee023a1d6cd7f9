//! Match template tests: parsing `%(key)s`, matching with and without case.

use super::*;

fn target() -> Target {
    Target::new()
        .with("project_id", "p1")
        .with("target.name", "Web")
        .with("pct", "50%")
}

#[test]
fn parse_recognises_literals_keys_and_mixes() {
    assert_eq!(Template::parse("all"), Ok(Template::Literal("all".into())));
    assert_eq!(Template::parse(""), Ok(Template::Literal(String::new())));
    assert_eq!(
        Template::parse("%(project_id)s"),
        Ok(Template::Key("project_id".into()))
    );
    assert_eq!(
        Template::parse("100%%"),
        Ok(Template::Literal("100%".into()))
    );
    assert_eq!(
        Template::parse("p-%(target.id)s-%(x)s"),
        Ok(Template::Mixed(vec![
            Segment::Text("p-".into()),
            Segment::Key("target.id".into()),
            Segment::Text("-".into()),
            Segment::Key("x".into()),
        ]))
    );
}

#[test]
fn parse_refuses_percent_signs_python_would_reject() {
    for bad in ["50%", "%(x)d", "%(x", "%x", "%()s", "a%(b)"] {
        assert_eq!(
            Template::parse(bad),
            Err(ParseErrorKind::BadSubstitution),
            "{bad}"
        );
    }
}

#[test]
fn matches_substitutes_from_the_target() {
    let t = target();
    let key = Template::parse("%(project_id)s").unwrap();
    assert!(key.matches("p1", &t));
    assert!(!key.matches("P1", &t));
    assert!(!key.matches("p2", &t));
    let mixed = Template::parse("x-%(project_id)s/%(target.name)s").unwrap();
    assert!(mixed.matches("x-p1/Web", &t));
    assert!(!mixed.matches("x-p1/Web/", &t));
    assert!(!mixed.matches("x-p1", &t));
    assert!(Template::parse("50%%").unwrap().matches("50%", &t));
}

#[test]
fn an_absent_key_matches_nothing_not_even_empty() {
    let t = target();
    assert!(!Template::parse("%(missing)s").unwrap().matches("", &t));
    assert!(!Template::parse("a%(missing)s").unwrap().matches("a", &t));
    assert!(
        !Template::parse("%(missing)s")
            .unwrap()
            .matches_folded("", &t)
    );
}

#[test]
fn folded_matching_ignores_case_including_non_ascii() {
    let t = target();
    assert!(
        Template::parse("Admin")
            .unwrap()
            .matches_folded("aDMIN", &t)
    );
    assert!(
        Template::parse("%(target.name)s")
            .unwrap()
            .matches_folded("WEB", &t)
    );
    assert!(
        Template::parse("r-%(target.name)s")
            .unwrap()
            .matches_folded("R-web", &t)
    );
    assert!(
        !Template::parse("admin")
            .unwrap()
            .matches_folded("admins", &t)
    );
    assert!(eq_folded("ÉDITEUR", "éditeur"));
    assert!(!eq_folded("éditeur", "editeur"));
}
