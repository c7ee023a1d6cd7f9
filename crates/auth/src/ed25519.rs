//! The direct path for Virga's own tokens: a compact JWS signed with
//! Ed25519, checked against a key decompressed once when the JWKS was read
//! (jsonwebtoken rebuilds the key and decodes the header twice per token,
//! which costs about as much as the signature check itself).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::token::TokenError;

/// The header members the verifier reads; the rest is ignored.
#[derive(Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// A token cut at its two dots: `header.payload` is what was signed.
pub(crate) struct Parts<'a> {
    signed: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Parts<'a> {
    /// None unless the token has exactly three parts.
    pub fn split(token: &'a str) -> Option<Self> {
        let (signed, signature) = token.rsplit_once('.')?;
        let (header, payload) = signed.split_once('.')?;
        if payload.contains('.') {
            return None;
        }
        Some(Parts {
            signed,
            header,
            payload,
            signature,
        })
    }

    pub fn header(&self) -> Result<Header, TokenError> {
        json(self.header, "header")
    }

    /// Checks the signature (strictly: no malleable or small-order forms),
    /// then reads the payload.
    pub fn verify<T: DeserializeOwned>(&self, key: &VerifyingKey) -> Result<T, TokenError> {
        let mut sig = [0u8; 64];
        match URL_SAFE_NO_PAD.decode_slice(self.signature, &mut sig) {
            Ok(64) => {}
            _ => return Err(undecodable("signature", None)),
        }
        key.verify(self.signed.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| TokenError::BadSignature)?;
        json(self.payload, "payload")
    }
}

fn json<T: DeserializeOwned>(part: &str, name: &'static str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| undecodable(name, None))?;
    serde_json::from_slice(&bytes).map_err(|e| undecodable(name, Some(e)))
}

fn undecodable(part: &'static str, source: Option<serde_json::Error>) -> TokenError {
    TokenError::Undecodable { part, source }
}
