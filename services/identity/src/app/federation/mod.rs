//! Federation: identity providers, mappings and protocols (Keystone's
//! OS-FEDERATION), and logging in through an OpenID Connect provider.

pub mod identity_provider;
pub mod login;
pub mod mapping;
pub mod oidc;
pub mod protocol;
pub mod rules;
pub mod websso;
