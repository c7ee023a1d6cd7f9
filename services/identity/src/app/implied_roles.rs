//! Role implication: `admin` implies `member`, which implies `reader`, as
//! Keystone's bootstrap sets up. A token lists implied roles too, so a
//! policy rule `role:reader` admits members and admins without naming them.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;

use crate::db::role;

/// Which global role implies which.
pub const IMPLIES: [(&str, &str); 2] = [("admin", "member"), ("member", "reader")];

/// `roles` plus every global role they imply, sorted by name, no duplicates.
/// At most one query, and none when nothing held implies anything.
pub async fn with_implied(
    db: &impl ConnectionTrait,
    roles: Vec<role::Model>,
) -> Result<Vec<role::Model>, Error> {
    let held: Vec<&str> = roles
        .iter()
        .filter(|r| r.domain_id.is_none())
        .map(|r| r.name.as_str())
        .collect();
    let implied = implied_names(&held);
    let mut out: BTreeMap<String, role::Model> =
        roles.into_iter().map(|r| (r.id.clone(), r)).collect();
    if !implied.is_empty() {
        for r in role::global_by_names(db, &implied).await? {
            out.entry(r.id.clone()).or_insert(r);
        }
    }
    let mut roles: Vec<_> = out.into_values().collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(roles)
}

/// The names `held` implies, directly or through a chain.
fn implied_names(held: &[&str]) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    let mut pending: Vec<&str> = held.to_vec();
    while let Some(name) = pending.pop() {
        for (_, implied) in IMPLIES.iter().filter(|(from, _)| *from == name) {
            if !found.contains(implied) && !held.contains(implied) {
                found.push(implied);
                pending.push(implied);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::implied_names;

    #[test]
    fn implication_follows_the_chain() {
        assert_eq!(implied_names(&["admin"]), ["member", "reader"]);
        assert_eq!(implied_names(&["member"]), ["reader"]);
        assert!(implied_names(&["reader", "service"]).is_empty());
        assert_eq!(implied_names(&["admin", "member"]), ["reader"]);
    }
}
