//! The public JWKS document (RFC 7517): what the identity service publishes
//! and what every other service needs, and nothing more, to verify tokens
//! on its own, including at an edge site cut off from the centre.
//!
//! Parsing pins each key to one algorithm (from its `kty`/`crv`), so a token
//! can never choose how it is verified: an Ed25519 key verifies only EdDSA,
//! a P-256 key only ES256, and symmetric (`oct`) keys are never accepted,
//! which rules out HS256 key confusion.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};

use crate::keys::KeyRing;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One public key. Members this crate does not use are ignored on input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the JWKS document is not valid JSON of the expected shape")]
    Json(#[source] serde_json::Error),
    #[error("JWKS key {kid:?} is invalid: {reason}")]
    InvalidKey { kid: String, reason: &'static str },
    #[error("JWKS key id {0:?} appears twice")]
    DuplicateKid(String),
    #[error("the JWKS document holds no usable signing key")]
    NoUsableKeys,
}

impl Jwks {
    /// The public halves of every key of the ring (current, next, retired).
    pub fn from_key_ring(ring: &KeyRing) -> Self {
        let keys = ring
            .verification_keys()
            .map(|k| Jwk {
                kty: "OKP".into(),
                crv: Some("Ed25519".into()),
                x: Some(URL_SAFE_NO_PAD.encode(k.public_key())),
                y: None,
                kid: Some(k.kid().to_string()),
                alg: Some("EdDSA".into()),
                use_: Some("sig".into()),
            })
            .collect();
        Jwks { keys }
    }

    pub fn from_json(json: &str) -> Result<Self, JwksError> {
        serde_json::from_str(json).map_err(JwksError::Json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a JWKS always serializes")
    }
}

/// A key ready to verify, with the one algorithm it may verify. An
/// Ed25519 key is also kept decompressed, for the verifier's direct path.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
    pub ed25519: Option<ed25519_dalek::VerifyingKey>,
}

/// Turns a JWKS into verification keys by kid. Keys of a kind this crate
/// does not verify (RSA, `oct`, encryption keys) are skipped rather than
/// refused, so a newer identity service can publish more kinds without
/// breaking older services; a broken key of a supported kind is refused.
pub(crate) fn verification_keys(
    jwks: &Jwks,
) -> Result<HashMap<String, VerificationKey>, JwksError> {
    let mut out = HashMap::new();
    for jwk in &jwks.keys {
        let Some(vk) = verification_key(jwk)? else {
            continue;
        };
        let kid = jwk.kid.clone().unwrap_or_default();
        if out.insert(kid.clone(), vk).is_some() {
            return Err(JwksError::DuplicateKid(kid));
        }
    }
    if out.is_empty() {
        return Err(JwksError::NoUsableKeys);
    }
    Ok(out)
}

fn verification_key(jwk: &Jwk) -> Result<Option<VerificationKey>, JwksError> {
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
        ("EC", Some("P-256")) => Algorithm::ES256,
        _ => return Ok(None),
    };
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let kid = jwk.kid.clone().unwrap_or_default();
    let invalid = |reason| JwksError::InvalidKey {
        kid: kid.clone(),
        reason,
    };
    if kid.is_empty() {
        return Err(invalid("no kid"));
    }
    let named = match alg {
        Algorithm::EdDSA => "EdDSA",
        _ => "ES256",
    };
    if jwk.alg.as_deref().is_some_and(|a| a != named) {
        return Err(invalid("alg does not match the key type"));
    }
    let coordinate = |c: &Option<String>| -> Result<String, JwksError> {
        let c = c.as_deref().ok_or_else(|| invalid("missing coordinate"))?;
        match URL_SAFE_NO_PAD.decode(c) {
            Ok(bytes) if bytes.len() == 32 => Ok(c.to_string()),
            _ => Err(invalid("coordinate is not 32 bytes of base64url")),
        }
    };
    let mut ed25519 = None;
    let key = match alg {
        Algorithm::EdDSA => {
            let x = coordinate(&jwk.x)?;
            let bytes: [u8; 32] = URL_SAFE_NO_PAD
                .decode(&x)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| invalid("coordinate is not 32 bytes of base64url"))?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| invalid("not a point on Ed25519"))?;
            if vk.is_weak() {
                return Err(invalid("a weak (small-order) Ed25519 key"));
            }
            ed25519 = Some(vk);
            DecodingKey::from_ed_components(&x)
        }
        _ => DecodingKey::from_ec_components(&coordinate(&jwk.x)?, &coordinate(&jwk.y)?),
    }
    .map_err(|_| invalid("unreadable key"))?;
    Ok(Some(VerificationKey { alg, key, ed25519 }))
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
