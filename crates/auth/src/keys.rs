//! Token signing keys and their rotation.
//!
//! Tokens are signed with EdDSA over Ed25519: small keys and signatures, no
//! per-signature randomness to get wrong (ECDSA's nonce), and with the pure
//! Rust backend it verifies faster than ES256 (see the benchmark example).
//!
//! A [`KeyRing`] holds three kinds of key, as Keystone's fernet repository does:
//! the *current* key signs; the *next* key is already published in the JWKS
//! but signs nothing yet, so every service has fetched it before the first
//! token signed with it arrives; *retired* keys only verify, until every
//! token they signed has expired.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use jsonwebtoken::EncodingKey;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
    #[error("not an Ed25519 private key in PKCS#8 PEM")]
    Pkcs8(#[source] ed25519_dalek::pkcs8::Error),
}

/// An Ed25519 private key with its key id. Debug shows the id only.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    secret: ed25519_dalek::SigningKey,
    encoding: EncodingKey,
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(KeyError::Random)?;
        let key = Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(&seed));
        seed.fill(0);
        key
    }

    /// Reads a key stored by [`SigningKey::to_pkcs8_pem`] (or by `openssl genpkey -algorithm ed25519`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let secret = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(KeyError::Pkcs8)?;
        Self::from_dalek(secret)
    }

    /// The private key as PKCS#8 PEM, for the identity service's database.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let pem = v1_document(&self.secret)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(KeyError::Pkcs8)?;
        Ok(pem.as_str().to_owned())
    }

    fn from_dalek(secret: ed25519_dalek::SigningKey) -> Result<Self, KeyError> {
        let der = v1_document(&secret)
            .to_pkcs8_der()
            .map_err(KeyError::Pkcs8)?;
        let kid = thumbprint(&secret.verifying_key().to_bytes());
        Ok(SigningKey {
            kid,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            secret,
        })
    }

    /// The RFC 7638 JWK thumbprint of the public key: stable, derived from the
    /// key alone, so every copy of a key has the same id without coordination.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.secret.verifying_key().to_bytes()
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// PKCS#8 v1 (private key only): dalek writes v2 with the public key
/// included, which OpenSSL 3.0 (Debian 12) cannot read.
fn v1_document(secret: &ed25519_dalek::SigningKey) -> KeypairBytes {
    KeypairBytes {
        secret_key: secret.to_bytes(),
        public_key: None,
    }
}

/// RFC 7638: SHA-256 over the required JWK members in lexicographic order.
pub(crate) fn thumbprint(public_key: &[u8; 32]) -> String {
    let jwk = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public_key)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
}

/// A key that no longer signs, kept to verify the tokens it signed.
#[derive(Clone, Debug)]
pub struct RetiredKey {
    pub key: SigningKey,
    /// Unix seconds when it stopped signing; its last token expires at most
    /// one token lifetime later.
    pub retired_at: u64,
}

#[derive(Clone, Debug)]
pub struct KeyRing {
    current: SigningKey,
    next: SigningKey,
    retired: Vec<RetiredKey>,
}

impl KeyRing {
    /// A new ring with fresh current and next keys.
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Self::from_parts(
            SigningKey::generate()?,
            SigningKey::generate()?,
            Vec::new(),
        ))
    }

    /// Rebuilds a ring from stored keys (e.g. the identity service's database).
    pub fn from_parts(current: SigningKey, next: SigningKey, retired: Vec<RetiredKey>) -> Self {
        KeyRing {
            current,
            next,
            retired,
        }
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    pub fn next(&self) -> &SigningKey {
        &self.next
    }

    pub fn retired(&self) -> &[RetiredKey] {
        &self.retired
    }

    /// The next key starts signing, a fresh key becomes next, and the old
    /// current key is retired at `now`: after it the ring holds at least
    /// three keys, all of which verify.
    pub fn rotate(&mut self, now: u64) -> Result<(), KeyError> {
        let fresh = SigningKey::generate()?;
        let next = std::mem::replace(&mut self.next, fresh);
        let old = std::mem::replace(&mut self.current, next);
        self.retired.push(RetiredKey {
            key: old,
            retired_at: now,
        });
        Ok(())
    }

    /// Drops retired keys whose every token has expired, i.e. retired more
    /// than `max_token_lifetime` plus the verifier's leeway before `now`.
    /// Returns the ids of the keys dropped (to delete them from storage).
    pub fn prune(&mut self, now: u64, max_token_lifetime: Duration) -> Vec<String> {
        let keep_for = max_token_lifetime
            .as_secs()
            .saturating_add(crate::token::LEEWAY_SECS);
        let mut dropped = Vec::new();
        self.retired.retain(|r| {
            let keep = r.retired_at.saturating_add(keep_for) >= now;
            if !keep {
                dropped.push(r.key.kid().to_string());
            }
            keep
        });
        dropped
    }

    /// Every key whose public half belongs in the JWKS: current, next, retired.
    pub fn verification_keys(&self) -> impl Iterator<Item = &SigningKey> {
        [&self.current, &self.next]
            .into_iter()
            .chain(self.retired.iter().map(|r| &r.key))
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
