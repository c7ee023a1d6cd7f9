//! Local token verification for every service: built from the identity
//! service's JWKS document alone, it checks a token with no call per request,
//! so an edge site keeps authenticating while cut off from the centre.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

use crate::cache::TokenCache;
use crate::claims::TokenClaims;
use crate::ed25519;
use crate::jwks::{Jwks, JwksError, VerificationKey, verification_keys};
use crate::revocation::RevocationList;
use crate::token::{LEEWAY_SECS, TokenError};

pub struct Verifier {
    issuer: String,
    keys: RwLock<Arc<HashMap<String, VerificationKey>>>,
    revocations: Arc<RevocationList>,
    cache: Option<TokenCache>,
}

impl Verifier {
    /// A verifier for tokens issued by `issuer` (the `iss` the identity
    /// service writes) and signed by a key of `jwks`. It starts with an empty
    /// revocation list of its own and no cache.
    pub fn new(issuer: impl Into<String>, jwks: &Jwks) -> Result<Self, JwksError> {
        Ok(Verifier {
            issuer: issuer.into(),
            keys: RwLock::new(Arc::new(verification_keys(jwks)?)),
            revocations: Arc::new(RevocationList::new()),
            cache: None,
        })
    }

    /// Shares a revocation list, e.g. one fed by the bus subscriber.
    pub fn with_revocations(mut self, revocations: Arc<RevocationList>) -> Self {
        self.revocations = revocations;
        self
    }

    /// Caches up to `capacity` verified tokens (see `cache.rs`); about 1 KiB each.
    pub fn with_cache(mut self, capacity: usize) -> Self {
        self.cache = Some(TokenCache::new(capacity));
        self
    }

    pub fn revocations(&self) -> &Arc<RevocationList> {
        &self.revocations
    }

    /// Replaces every key at once with those of `jwks`; a bad document
    /// leaves the old keys in place. The cache is emptied because a key may
    /// have been withdrawn (compromised) and its tokens must stop working.
    pub fn refresh(&self, jwks: &Jwks) -> Result<(), JwksError> {
        let keys = Arc::new(verification_keys(jwks)?);
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
        if let Some(cache) = &self.cache {
            cache.clear();
        }
        Ok(())
    }

    /// How many verified tokens the cache holds (0 without a cache), for metrics.
    pub fn cached_tokens(&self) -> usize {
        self.cache.as_ref().map_or(0, TokenCache::len)
    }

    /// The key ids this verifier accepts, sorted.
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<_> = self.current_keys().keys().cloned().collect();
        kids.sort();
        kids
    }

    /// Checks a token at time `now` (unix seconds): structure, the signature
    /// with the key its `kid` names (and only that key, with that key's one
    /// algorithm), the issuer, `exp` with [`LEEWAY_SECS`], then revocation.
    pub fn verify(&self, token: &str, now: u64) -> Result<TokenClaims, TokenError> {
        let cached = self.cache.as_ref().map(|c| (c, TokenCache::key(token)));
        let claims = match cached.as_ref().and_then(|(c, key)| c.get(key)) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_signed(token)?);
                if let Some((cache, key)) = cached {
                    cache.insert(key, claims.clone(), now);
                }
                claims
            }
        };
        if now > claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Expired { exp: claims.exp });
        }
        if self.revocations.is_revoked(&claims) {
            return Err(TokenError::Revoked);
        }
        Ok(Arc::unwrap_or_clone(claims))
    }

    /// Everything that depends on the token alone, not on the time or the
    /// revocation list: what the cache may remember. Virga's own tokens
    /// (Ed25519) take the direct path; other keys go through jsonwebtoken.
    fn verify_signed(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let Some(parts) = ed25519::Parts::split(token) else {
            return self.verify_generic(token);
        };
        let header = parts.header()?;
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        let keys = self.current_keys();
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey { kid })?;
        let Some(vk) = &key.ed25519 else {
            return self.verify_generic(token);
        };
        if header.alg != "EdDSA" {
            let alg = header.alg.parse().unwrap_or(Algorithm::HS256);
            return Err(TokenError::UnexpectedAlgorithm { alg });
        }
        let claims: TokenClaims = parts.verify(vk)?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer { iss: claims.iss });
        }
        Ok(claims)
    }

    fn verify_generic(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        let keys = self.current_keys();
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey { kid })?;
        // Checked here too so the log says which; `decode` would refuse as well.
        if header.alg != key.alg {
            return Err(TokenError::UnexpectedAlgorithm { alg: header.alg });
        }
        let claims = jsonwebtoken::decode::<TokenClaims>(token, &key.key, &validation(key.alg))
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm => TokenError::UnexpectedAlgorithm { alg: header.alg },
                _ => TokenError::Malformed(e),
            })?
            .claims;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer { iss: claims.iss });
        }
        Ok(claims)
    }

    fn current_keys(&self) -> Arc<HashMap<String, VerificationKey>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Signature and algorithm only: `exp` and `iss` are checked by
/// [`Verifier::verify`] against the caller's clock and give their own errors,
/// and `jsonwebtoken` would read the system clock instead.
fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
