//! Issuing tokens and the errors of verifying them.
//!
//! A token is a compact JWS: header `{"alg":"EdDSA","kid":…,"typ":"JWT"}`,
//! the [`TokenClaims`] as payload, signed by the key ring's current key.
//! Verification is [`crate::Verifier::verify`].

use jsonwebtoken::{Algorithm, Header};

use crate::claims::TokenClaims;
use crate::keys::KeyRing;

/// How long after `exp` a token is still accepted, for clock skew between
/// the identity service and the verifying service (edge sites' clocks drift
/// while they are cut off). Short next to a token lifetime of hours, and it
/// bounds how long a key or revocation entry must outlive its last token.
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused. The HTTP layer answers all of them with the same
/// 401 and no detail, so a caller cannot probe which check failed; the
/// variants exist for the logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT with the expected claims")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    /// A part of the compact JWS that is not base64url or not the JSON
    /// expected (found on the Ed25519 path, which decodes it itself).
    #[error("the token's {part} is not well-formed")]
    Undecodable {
        part: &'static str,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("the token header names no key id")]
    MissingKid,
    #[error("the token names unknown key {kid:?}")]
    UnknownKey { kid: String },
    #[error("the token's algorithm {alg:?} is not its key's")]
    UnexpectedAlgorithm { alg: Algorithm },
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token expired at {exp}")]
    Expired { exp: u64 },
    #[error("the token was issued by {iss:?}, not by this cloud's identity service")]
    WrongIssuer { iss: String },
    #[error("the token was revoked")]
    Revoked,
    #[error("signing the token failed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Signs `claims` with the ring's current key.
pub fn issue(ring: &KeyRing, claims: &TokenClaims) -> Result<String, TokenError> {
    let key = ring.current();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_string());
    jsonwebtoken::encode(&header, claims, key.encoding_key()).map_err(TokenError::Signing)
}
