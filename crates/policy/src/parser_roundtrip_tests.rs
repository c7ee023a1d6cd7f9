//! Property test of the parser: random expressions printed with minimal (and
//! some redundant) parentheses must keep their truth table through parsing.

use super::*;
use crate::check::Context;
use crate::credentials::Credentials;
use crate::target::Target;

fn p(rule: &str) -> Check {
    parse(rule, &|_| None).unwrap_or_else(|e| panic!("{rule:?}: {e:?}"))
}

/// A random boolean expression, printed with the fewest parentheses oslo's
/// precedence allows, must parse back to something with the same truth table.
#[derive(Clone, Debug)]
enum Expr {
    Atom(usize),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

const ATOMS: [&str; 5] = ["role:a", "role:B", "roles:c", "@", "!"];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64: deterministic, good enough to shuffle shapes.
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn expr(&mut self, depth: u32) -> Expr {
        if depth == 0 || self.below(4) == 0 {
            return Expr::Atom(self.below(ATOMS.len() as u64) as usize);
        }
        match self.below(3) {
            0 => Expr::Not(Box::new(self.expr(depth - 1))),
            1 => Expr::And(
                Box::new(self.expr(depth - 1)),
                Box::new(self.expr(depth - 1)),
            ),
            _ => Expr::Or(
                Box::new(self.expr(depth - 1)),
                Box::new(self.expr(depth - 1)),
            ),
        }
    }
}

impl Expr {
    fn eval(&self, roles: &[&str]) -> bool {
        match self {
            Expr::Atom(0) => roles.contains(&"a"),
            Expr::Atom(1) => roles.contains(&"b"),
            Expr::Atom(2) => roles.contains(&"c"),
            Expr::Atom(3) => true,
            Expr::Atom(_) => false,
            Expr::Not(e) => !e.eval(roles),
            Expr::And(l, r) => l.eval(roles) && r.eval(roles),
            Expr::Or(l, r) => l.eval(roles) || r.eval(roles),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) | Expr::Atom(_) => 3,
        }
    }

    fn print(&self, min: u8, rng: &mut Rng, out: &mut String) {
        // Sometimes add parentheses that are not needed, touching or spaced.
        let wrap = self.precedence() < min || rng.below(8) == 0;
        out.push_str(if wrap {
            if rng.below(2) == 0 { "(" } else { "( " }
        } else {
            ""
        });
        match self {
            Expr::Atom(i) => out.push_str(ATOMS[*i]),
            Expr::Not(e) => {
                out.push_str(["not ", "NOT ", "Not  "][rng.below(3) as usize]);
                e.print(3, rng, out);
            }
            Expr::And(l, r) | Expr::Or(l, r) => {
                let (op, prec) = match self {
                    Expr::And(..) => ([" and ", " AND "], 2),
                    _ => ([" or ", " Or\t"], 1),
                };
                l.print(prec, rng, out);
                out.push_str(op[rng.below(2) as usize]);
                r.print(prec, rng, out);
            }
        }
        out.push_str(if wrap {
            if rng.below(2) == 0 { ")" } else { " )" }
        } else {
            ""
        });
    }
}

#[test]
fn random_expressions_keep_their_meaning_through_printing_and_parsing() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let role_sets: Vec<Vec<&str>> = (0..8u8)
        .map(|bits| {
            ["a", "b", "c"]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, r)| r)
                .collect()
        })
        .collect();
    let target = Target::new();
    for _ in 0..500 {
        let expr = rng.expr(5);
        let mut text = String::new();
        expr.print(1, &mut rng, &mut text);
        let parsed = p(&text);
        let twice_negated = p(&format!("not not ({text})"));
        for roles in &role_sets {
            let creds = Credentials {
                roles: roles.iter().map(|r| r.to_uppercase()).collect(),
                ..Credentials::default()
            };
            // `roles:c` is case-sensitive, so upper-cased roles never match it.
            let expected = expr.eval(
                &roles
                    .iter()
                    .copied()
                    .filter(|r| *r != "c")
                    .collect::<Vec<_>>(),
            );
            let cx = Context {
                rules: &[],
                creds: &creds,
                target: &target,
            };
            assert_eq!(parsed.eval(&cx), expected, "{text:?} with roles {roles:?}");
            assert_eq!(twice_negated.eval(&cx), expected, "not not ({text:?})");
        }
    }
}
