//! Keystone's OS-FEDERATION API: identity providers, mappings, protocols,
//! and the federated logins (CLI and browser).

pub mod auth;
pub mod identity_provider;
pub mod mapping;
pub mod protocol;
