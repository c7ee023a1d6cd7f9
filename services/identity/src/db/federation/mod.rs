//! Federation's tables: identity providers and their remote ids, mappings,
//! protocols, the shadow users logins provision, their expiring group
//! memberships, and browser (single sign-on) logins in flight.

pub mod federated_user;
pub mod identity_provider;
pub mod mapping;
pub mod membership;
pub mod protocol;
pub mod sso_login;
