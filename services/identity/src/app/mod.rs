//! Identity's logic, one module per resource, and the state its handlers share.

pub mod application_credential;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod catalog;
pub mod domain;
pub mod federation;
pub mod grant;
pub mod group;
pub mod implied_roles;
pub mod keys;
pub mod project;
pub mod publish;
pub mod region;
pub mod role;
pub mod service_user;
pub mod user;
pub mod versions;

use std::sync::Arc;

use virga_service::{HasContext, ServiceContext, StartError};

use keys::KeyStore;

/// What identity's handlers share: the runtime's context and the signing keys.
#[derive(Clone)]
pub struct IdentityState {
    pub ctx: ServiceContext,
    pub keys: Arc<KeyStore>,
    pub lockout: Arc<auth::Lockout>,
    /// Discovery and keys of the OpenID Connect providers logins go through.
    pub oidc: Arc<federation::oidc::OidcProviders>,
}

impl HasContext for IdentityState {
    fn context(&self) -> &ServiceContext {
        &self.ctx
    }
}

impl IdentityState {
    /// Opens the key ring, makes this service's own authenticator trust it
    /// at once, and starts serving keys to the other services.
    pub async fn start(ctx: ServiceContext) -> Result<Self, StartError> {
        let fail = |e: virga_common::Error| StartError::State {
            service: "identity",
            message: format!("signing keys: {}", virga_common::error::chain(&e)),
        };
        let keys = Arc::new(KeyStore::open(ctx.db()).await.map_err(fail)?);
        let settings = &ctx.config().auth;
        let lockout = Arc::new(auth::Lockout::new(
            settings.max_failed_logins,
            std::time::Duration::from_secs(settings.lockout_window_secs),
        ));
        let oidc = federation::oidc::OidcProviders::new().map_err(|e| StartError::State {
            service: "identity",
            message: format!("OpenID Connect client: {}", virga_common::error::chain(&e)),
        })?;
        let state = IdentityState {
            ctx,
            keys,
            lockout,
            oidc: Arc::new(oidc),
        };
        let reply = publish::keys_reply(&state).await.map_err(fail)?;
        state.ctx.auth().install(&reply);
        publish::serve_keys(&state)
            .await
            .map_err(|source| StartError::Bus {
                service: "identity",
                source,
            })?;
        publish::spawn_maintenance(state.clone());
        Ok(state)
    }
}
