//! Authentication and authorization for every service, with no call to
//! identity per request.
//!
//! The [`Authenticator`] holds identity's public keys, the revocations in
//! force and the service's [`Policy`]. It learns keys and revocations over
//! the bus (`sync`) and keeps the last ones in the data directory, so a
//! service restarted while cut off from the centre still verifies tokens.
//! Handlers take an [`Auth`] (the verified caller) and ask it whether the
//! policy allows an action on a target.

mod extract;
mod sync;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use virga_auth::{RevocationList, TokenClaims, TokenError, Verifier};
use virga_common::config::AuthConfig;
use virga_policy::Policy;
use virga_protocol::identity::{IdentityEvent, KeysReply};

pub use extract::{AUTH_TOKEN_HEADER, Auth, UNAUTHORIZED_MESSAGE, credentials, unauthorized};
pub(crate) use sync::spawn as spawn_sync;

/// Verified tokens kept so a busy client's repeated token skips the
/// signature check; about 1 KiB each.
const TOKEN_CACHE: usize = 10_000;

#[derive(Clone)]
pub struct Authenticator(Arc<Inner>);

struct Inner {
    issuer: String,
    verifier: OnceLock<Verifier>,
    revocations: Arc<RevocationList>,
    policy: Policy,
    identity_url: RwLock<String>,
    ready: AtomicBool,
    /// Where the last [`KeysReply`] is kept between runs, if anywhere.
    snapshot: Option<PathBuf>,
}

impl Authenticator {
    /// An authenticator that knows no keys yet: every token is refused as
    /// "unavailable" until [`Authenticator::install`] runs. With a snapshot
    /// path it first restores what it last knew from there.
    pub fn new(config: &AuthConfig, policy: Policy, snapshot: Option<PathBuf>) -> Self {
        let auth = Authenticator(Arc::new(Inner {
            issuer: config.issuer.clone(),
            verifier: OnceLock::new(),
            revocations: Arc::new(RevocationList::new()),
            policy,
            identity_url: RwLock::new(String::new()),
            ready: AtomicBool::new(false),
            snapshot,
        }));
        if let Some(reply) = sync::load_snapshot(auth.0.snapshot.as_deref()) {
            auth.install(&reply);
        }
        auth
    }

    /// Takes identity's whole picture: keys, revocations, its URL.
    pub fn install(&self, reply: &KeysReply) {
        if reply.issuer != self.0.issuer {
            tracing::error!(
                ours = %self.0.issuer, identity = %reply.issuer,
                "identity issues tokens for another issuer; check auth.issuer on both"
            );
        }
        if !self.set_keys(&reply.jwks) {
            return;
        }
        for event in &reply.revocations {
            self.0.revocations.apply(event.clone());
        }
        *self
            .0
            .identity_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = reply.identity_url.clone();
        self.0.ready.store(true, Ordering::Release);
    }

    /// Applies one change event from identity.
    pub fn apply(&self, event: IdentityEvent) {
        match event {
            IdentityEvent::KeysChanged { jwks } => {
                self.set_keys(&jwks);
            }
            IdentityEvent::Revoked { event } => self.0.revocations.apply(event),
        }
    }

    fn set_keys(&self, jwks: &virga_auth::Jwks) -> bool {
        let result = match self.0.verifier.get() {
            Some(v) => v.refresh(jwks),
            None => Verifier::new(self.0.issuer.clone(), jwks).map(|v| {
                let v = v
                    .with_revocations(self.0.revocations.clone())
                    .with_cache(TOKEN_CACHE);
                // A concurrent first install may win; its keys are as good.
                let _ = self.0.verifier.set(v);
            }),
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %virga_common::error::chain(&e), "identity's keys are unusable; keeping the old ones");
                false
            }
        }
    }

    /// Whether keys are known, so tokens can be verified at all.
    pub fn is_ready(&self) -> bool {
        self.0.ready.load(Ordering::Acquire)
    }

    /// Waits up to `limit` for keys, e.g. while identity starts in the same
    /// process; returns whether they arrived.
    pub async fn wait_ready(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }

    /// Verifies a token now.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, VerifyError> {
        let verifier = self.0.verifier.get().ok_or(VerifyError::NoKeys)?;
        verifier
            .verify(token, unix_now())
            .map_err(VerifyError::Token)
    }

    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    pub fn revocations(&self) -> &Arc<RevocationList> {
        &self.0.revocations
    }

    /// Identity's URL as identity announced it (empty until known).
    pub fn identity_url(&self) -> String {
        self.0
            .identity_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("identity's keys are not known yet")]
    NoKeys,
    #[error("token refused")]
    Token(#[source] TokenError),
}

/// Now in unix milliseconds: the time of a user's or project's revocation.
pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
