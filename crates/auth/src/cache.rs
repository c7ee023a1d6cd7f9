//! A bounded cache of tokens whose signature has already been verified, so
//! a client reusing its token (the usual case: openstack clients keep one
//! for hours) costs a hash and a lookup instead of a signature check.
//!
//! Entries are keyed by the SHA-256 of the whole token: a collision-resistant
//! hash, so a forged token can never hit another token's entry. Only the
//! signature, issuer and structure checks are cached; expiry and revocation
//! are checked on every hit by the verifier.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use sha2::{Digest, Sha256};

use crate::claims::TokenClaims;
use crate::token::LEEWAY_SECS;

pub(crate) type CacheKey = [u8; 32];

pub(crate) struct TokenCache {
    capacity: usize,
    entries: RwLock<HashMap<CacheKey, Arc<TokenClaims>>>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn key(token: &str) -> CacheKey {
        Sha256::digest(token.as_bytes()).into()
    }

    pub fn get(&self, key: &CacheKey) -> Option<Arc<TokenClaims>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).cloned()
    }

    /// When full, expired entries go first; if that frees nothing the whole
    /// cache is dropped: simpler than LRU bookkeeping on the read path, and
    /// refilling costs one signature check per active token.
    pub fn insert(&self, key: CacheKey, claims: Arc<TokenClaims>, now: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            let live_since = now.saturating_sub(LEEWAY_SECS);
            entries.retain(|_, c| c.exp >= live_since);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, claims);
    }

    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
