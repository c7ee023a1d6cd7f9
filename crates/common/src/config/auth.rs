//! The `[auth]` section: how tokens are issued, verified and rotated, and how
//! hard password guessing is made. Read by identity (which issues tokens)
//! and by every service (which verifies them).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The `iss` every token carries and every service expects; one value
    /// per cloud, so a token of another Virga cloud is refused.
    pub issuer: String,
    /// How long a token lives (Keystone's `[token] expiration`, 1 hour).
    pub token_lifetime_secs: u64,
    /// How often identity rotates its signing key. Two keys are published
    /// at all times and a retired key stays until its last token expires.
    pub key_rotation_secs: u64,
    /// How often a service re-reads identity's keys and revocations over the
    /// bus, beyond the change events it receives: the bound on how stale a
    /// service can be after it missed events while the broker was away.
    pub keys_refresh_secs: u64,
    /// Failed logins for one user name within `lockout_window_secs` after
    /// which further attempts are refused without checking the password.
    pub max_failed_logins: u32,
    pub lockout_window_secs: u64,
    /// Where a browser (single sign-on) login may deliver its token: the
    /// exact `origin` URLs of trusted dashboards, such as the console's
    /// login endpoint (Keystone's `[federation] trusted_dashboard`).
    /// Empty: browser logins are refused.
    pub trusted_dashboards: Vec<String>,
    /// How long a browser login may take at the identity provider.
    pub sso_login_timeout_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: "virga".into(),
            token_lifetime_secs: 3600,
            key_rotation_secs: 24 * 3600,
            keys_refresh_secs: 300,
            max_failed_logins: 5,
            lockout_window_secs: 300,
            trusted_dashboards: Vec::new(),
            sso_login_timeout_secs: 600,
        }
    }
}

impl AuthConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let positive = [
            ("auth.token_lifetime_secs", self.token_lifetime_secs),
            ("auth.key_rotation_secs", self.key_rotation_secs),
            ("auth.keys_refresh_secs", self.keys_refresh_secs),
            ("auth.lockout_window_secs", self.lockout_window_secs),
            ("auth.max_failed_logins", u64::from(self.max_failed_logins)),
            ("auth.sso_login_timeout_secs", self.sso_login_timeout_secs),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err((key.into(), "must be at least 1".into()));
            }
        }
        if self.issuer.trim().is_empty() {
            return Err(("auth.issuer".into(), "must not be empty".into()));
        }
        for d in &self.trusted_dashboards {
            if !(d.starts_with("https://") || d.starts_with("http://")) {
                return Err((
                    "auth.trusted_dashboards".into(),
                    format!("{d:?} is not an http(s) URL"),
                ));
            }
        }
        // A retired key must outlive every token it signed while it was current.
        if self.key_rotation_secs < self.token_lifetime_secs {
            return Err((
                "auth.key_rotation_secs".into(),
                "must be at least auth.token_lifetime_secs".into(),
            ));
        }
        Ok(())
    }
}
