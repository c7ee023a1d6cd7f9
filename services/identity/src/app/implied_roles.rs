//! Role implication: `admin` implies `member`, which implies `reader`, as
//! Keystone's bootstrap sets up. A token lists implied roles too, so a
//! policy rule `role:reader` admits members and admins without naming them.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_common::pagination::PageRequest;
use virga_db::sea_orm::ConnectionTrait;

use crate::db::role::{self, RoleFilter};

/// Which global role implies which.
pub const IMPLIES: [(&str, &str); 2] = [("admin", "member"), ("member", "reader")];

/// `roles` plus every global role they imply, sorted by name, no duplicates.
pub async fn with_implied(
    db: &impl ConnectionTrait,
    roles: Vec<role::Model>,
) -> Result<Vec<role::Model>, Error> {
    let mut out: BTreeMap<String, role::Model> = BTreeMap::new();
    let mut pending: Vec<String> = Vec::new();
    for r in roles {
        if r.domain_id.is_none() {
            pending.push(r.name.clone());
        }
        out.insert(r.id.clone(), r);
    }
    while let Some(name) = pending.pop() {
        for (_, implied) in IMPLIES.iter().filter(|(from, _)| *from == name) {
            if let Some(r) = global_role(db, implied).await?
                && !out.contains_key(&r.id)
            {
                pending.push(r.name.clone());
                out.insert(r.id.clone(), r);
            }
        }
    }
    let mut roles: Vec<_> = out.into_values().collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(roles)
}

async fn global_role(db: &impl ConnectionTrait, name: &str) -> Result<Option<role::Model>, Error> {
    let filter = RoleFilter {
        name: Some(name.to_string()),
        domain_id: None,
    };
    let page = role::list(
        db,
        &filter,
        &PageRequest {
            limit: 1,
            marker: None,
        },
    )
    .await?;
    Ok(page.items.into_iter().next())
}
