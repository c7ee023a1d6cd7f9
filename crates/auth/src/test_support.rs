//! Shared fixtures for the unit tests of this crate.

use std::time::Duration;

use crate::claims::{NamedRef, Scope, TokenClaims, UserRef};

pub const ISSUER: &str = "https://identity.example:5000/v3";
pub const NOW: u64 = 1_800_000_000;

pub fn user() -> UserRef {
    UserRef {
        id: "u1".into(),
        name: "alice".into(),
        domain: NamedRef::new("default", "Default"),
    }
}

pub fn project_scope(id: &str) -> Scope {
    Scope::Project {
        id: id.into(),
        name: format!("{id}-name"),
        domain: NamedRef::new("default", "Default"),
    }
}

/// A project-scoped token issued at `NOW` for one hour.
pub fn claims() -> TokenClaims {
    TokenClaims::new(
        ISSUER,
        user(),
        project_scope("p1"),
        vec![NamedRef::new("r1", "member"), NamedRef::new("r2", "reader")],
        vec!["password".into()],
        NOW,
        Duration::from_secs(3600),
    )
}
