//! Tokens and passwords for every Virga service.
//!
//! The identity service issues Keystone-like tokens as EdDSA-signed JWTs
//! ([`issue`], keys in a rotating [`KeyRing`]) and publishes the public keys
//! as a [`Jwks`] document. Every other service builds a [`Verifier`] from
//! that document and checks tokens locally, with no call per request, against
//! a [`RevocationList`] fed by revocation events from the bus. Passwords are
//! argon2id hashes ([`hash_password`], [`verify_password`]).

pub mod claims;
pub mod jwks;
pub mod keys;
pub mod password;
pub mod revocation;
pub mod token;
pub mod verifier;

mod cache;
mod ed25519;
#[cfg(test)]
mod test_support;

pub use claims::{Federation, NamedRef, Scope, TokenClaims, UserRef};
pub use jwks::{Jwk, Jwks, JwksError};
pub use keys::{KeyError, KeyRing, RetiredKey, SigningKey};
pub use password::{
    PasswordError, PasswordHash, PasswordParams, constant_time_eq, hash_password,
    hash_password_with, needs_rehash, verify_dummy, verify_password,
};
pub use revocation::{RevocationEvent, RevocationList};
pub use token::{LEEWAY_SECS, TokenError, issue};
pub use verifier::Verifier;
