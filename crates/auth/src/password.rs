//! Password hashing with argon2id, stored as PHC strings
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so a hash keeps the parameters
//! it was made with and old hashes still verify after the defaults change.
//!
//! Neither passwords nor hashes are ever logged: [`PasswordHash`]'s Debug
//! prints a placeholder and it has no Display.

use std::cell::RefCell;
use std::fmt;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, phc};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over the memory.
    pub t: u32,
    /// Lanes; 1, because a login request should use one core.
    pub p: u32,
}

/// The default: 4 MiB, 1 pass. OWASP's minimum for argon2id (19 MiB, 2
/// passes) measured 20 ms per hash on one core of the reference machine (2
/// AMD EPYC cores), so a 2-core node could check about 100 passwords a
/// second, far from the 500 token issues a second the identity service must
/// sustain. 4 MiB × 1 pass measured 1.7 ms (see the benchmark example), about
/// a tenth of OWASP's memory × passes: an offline attacker with a stolen
/// database guesses about ten times faster than against OWASP's parameters,
/// but 4 MiB per guess still blunts GPUs far more than a fast hash would.
/// Clouds that need fewer logins a second should raise it with
/// [`hash_password_with`]; stored hashes keep verifying and [`needs_rehash`]
/// tells when to upgrade one.
pub const DEFAULT_PARAMS: PasswordParams = PasswordParams {
    m_kib: 4 * 1024,
    t: 1,
    p: 1,
};

/// OWASP's minimum argon2id configuration, for reference and for clouds that can afford it.
pub const OWASP_PARAMS: PasswordParams = PasswordParams {
    m_kib: 19 * 1024,
    t: 2,
    p: 1,
};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters")]
    Params(#[source] argon2::Error),
    #[error("hashing the password failed")]
    Hash(#[source] argon2::password_hash::Error),
    #[error("not an argon2id PHC string")]
    NotArgon2id,
}

/// A stored argon2id password hash. Debug is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    phc: phc::PasswordHash,
}

impl PasswordHash {
    /// Reads a hash from storage; only argon2id hashes with a salt and an
    /// output are accepted, so a tampered row cannot downgrade the algorithm.
    pub fn from_phc(s: &str) -> Result<Self, PasswordError> {
        let phc = phc::PasswordHash::new(s).map_err(|_| PasswordError::NotArgon2id)?;
        if phc.algorithm.as_str() != "argon2id" || phc.salt.is_none() || phc.hash.is_none() {
            return Err(PasswordError::NotArgon2id);
        }
        Ok(PasswordHash { phc })
    }

    /// The PHC string to store.
    pub fn to_phc(&self) -> String {
        self.phc.to_string()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

fn argon2(params: &PasswordParams) -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(params.m_kib, params.t, params.p, None).map_err(PasswordError::Params)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes with [`DEFAULT_PARAMS`] and a fresh random 16-byte salt.
pub fn hash_password(password: &str) -> Result<PasswordHash, PasswordError> {
    hash_password_with(password, &DEFAULT_PARAMS)
}

pub fn hash_password_with(
    password: &str,
    params: &PasswordParams,
) -> Result<PasswordHash, PasswordError> {
    let phc = argon2(params)?
        .hash_password(password.as_bytes())
        .map_err(PasswordError::Hash)?;
    Ok(PasswordHash { phc })
}

/// Whether `password` matches. The outputs are compared in constant time and
/// a mismatch costs the same as a match (argon2 runs in full either way).
pub fn verify_password(password: &str, hash: &PasswordHash) -> bool {
    recompute(password, hash).unwrap_or(false)
}

thread_local! {
    /// argon2's working memory, kept per thread: allocating and zeroing
    /// megabytes on every check cost about a fifth as much as the check.
    /// It grows to the largest parameters verified on the thread and goes
    /// with the thread (tokio's blocking threads end when idle).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Recomputes the hash with the stored hash's own parameters, version and
/// salt; None when the stored hash cannot be recomputed.
fn recompute(password: &str, hash: &PasswordHash) -> Option<bool> {
    let params = Params::try_from(&hash.phc).ok()?;
    let version = Version::try_from(hash.phc.version.unwrap_or(0x13)).ok()?;
    let salt: &[u8] = hash.phc.salt.as_ref()?.as_ref();
    let expected: &[u8] = hash.phc.hash.as_ref()?.as_ref();
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
    let mut out = vec![0u8; expected.len()];
    let hashed = MEMORY.with(|m| {
        let mut memory = m.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut memory[..blocks],
        )
    });
    hashed.ok()?;
    Some(constant_time_eq(&out, expected))
}

/// Equality that takes as long whatever the first difference: for
/// comparing secrets (hashes, states) without a timing side channel.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// For a user that does not exist: costs what [`verify_password`] costs on a
/// default-parameter hash and always fails, so response times do not tell
/// an attacker which user names exist.
pub fn verify_dummy(password: &str) -> bool {
    let matched = dummy_hash().is_some_and(|h| verify_password(password, h));
    // black_box: the result is unused, and the work must not be optimised away.
    std::hint::black_box(matched);
    false
}

/// A hash of a random password at the default parameters: verifying against
/// it costs exactly what verifying a real default-parameter hash costs.
fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: LazyLock<Option<PasswordHash>> =
        LazyLock::new(|| hash_password(&uuid::Uuid::new_v4().to_string()).ok());
    DUMMY.as_ref()
}

/// Whether a stored hash was made with other parameters than `params`, so
/// the identity service should rehash the password at the next login.
pub fn needs_rehash(hash: &PasswordHash, params: &PasswordParams) -> bool {
    let get = |name| hash.phc.params.get_decimal(name);
    hash.phc.version != Some(Version::V0x13.into())
        || get("m") != Some(params.m_kib)
        || get("t") != Some(params.t)
        || get("p") != Some(params.p)
}

#[cfg(test)]
#[path = "password_tests.rs"]
mod tests;
