//! Starting and stopping one service: bind, migrate, build state, serve, and
//! on shutdown finish in-flight requests and messages before exiting.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use virga_bus::{Bus, BusError};
use virga_common::Config;
use virga_db::DbError;
use virga_protocol::service::ServiceEvent;

use crate::auth::{self, Authenticator};
use crate::{Service, ServiceContext, bus, http};

/// How long a bus handler may take to finish its message at shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a start waits for identity's keys before serving without them
/// (and fetching them in the background). Short: where identity runs in the
/// same process it starts first and answers at once.
const FIRST_KEYS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a service did not start; the Display form (with its sources) is the
/// one line the binary prints.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{service}: cannot listen on {addr} (services.{service}.listen)")]
    Listen {
        service: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{service}: database")]
    Database {
        service: &'static str,
        #[source]
        source: DbError,
    },
    #[error("{service}: message bus")]
    Bus {
        service: &'static str,
        #[source]
        source: BusError,
    },
    #[error("{service}: policy")]
    Policy {
        service: &'static str,
        #[source]
        source: virga_policy::PolicyError,
    },
    #[error("{service}: {message}")]
    State {
        service: &'static str,
        message: String,
    },
}

/// A started service. It stops when the shutdown token given to [`start`] is cancelled.
pub struct Running {
    pub name: &'static str,
    /// The address the API is bound to.
    pub addr: SocketAddr,
    /// Where clients reach it.
    pub url: String,
    task: JoinHandle<()>,
    shutdown: CancellationToken,
}

impl Running {
    /// Shuts this service down (the token it was started with) and waits.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }

    /// Waits until the service has shut down: no request or message half-done.
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(service = self.name, error = %e, "service task failed");
        }
    }
}

/// Starts service `S`: binds its port, brings its database up to date, builds
/// its state, serves its API and its bus topic.
pub async fn start<S: Service>(
    config: Arc<Config>,
    bus: Bus,
    shutdown: CancellationToken,
) -> Result<Running, StartError> {
    let service = S::NAME;
    let svc_config = config
        .services
        .get(service)
        .expect("every service has a config section");
    let addr = svc_config.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            service,
            addr,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
        service,
        addr,
        source,
    })?;

    let url = config.database_url(service);
    let db = virga_db::connect_and_migrate::<S::Migrator>(&url, config.database.max_connections)
        .await
        .map_err(|source| StartError::Database { service, source })?;

    let policy = load_policy::<S>(svc_config.policy_file.as_deref())?;
    let snapshot = config.data_dir.join(format!("{service}-keys.json"));
    let auth = Authenticator::new(&config.auth, policy, Some(snapshot));
    let ctx = ServiceContext::new(
        service,
        config.clone(),
        db,
        bus,
        auth,
        shutdown.clone(),
        local_addr,
    );
    let state = S::state(ctx.clone()).await?;
    let key_sync = auth::spawn_sync(ctx.clone(), shutdown.clone());
    if !ctx.auth().wait_ready(FIRST_KEYS_WAIT).await {
        tracing::warn!(
            service,
            "identity's token keys are not known yet; every authenticated request gets 503 until they arrive"
        );
    }
    let app = http::app::<S>(state, ctx.clone());
    let consumer = bus::serve_liveness(&ctx)
        .await
        .map_err(|source| StartError::Bus { service, source })?;

    let task_ctx = ctx.clone();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let token = shutdown.clone();
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await });
        let stop_consuming = async {
            shutdown.cancelled().await;
            bus::announce(
                &task_ctx,
                ServiceEvent::Stopping {
                    service: service.into(),
                    host: task_ctx.config().host.clone(),
                },
            )
            .await;
            // Finish the message in hand and ack it; take no new ones. A
            // handler stuck past the grace period is abandoned unacked, so the
            // message goes to another consumer instead of holding shutdown.
            if !consumer.stop_within(SHUTDOWN_GRACE).await {
                tracing::warn!(
                    service,
                    "a bus handler outlived the shutdown grace period; its message will be redelivered"
                );
            }
        };
        let (served, (), synced) = tokio::join!(server, stop_consuming, key_sync);
        if let Err(e) = synced {
            tracing::error!(service, error = %e, "key sync task failed");
        }
        if let Err(e) = served {
            tracing::error!(service, error = %e, "HTTP server failed");
        }
        task_ctx.db().clone().close().await.ok();
        tracing::info!(service, "stopped");
    });

    let url = ctx.public_url();
    bus::announce(
        &ctx,
        ServiceEvent::Started {
            service: service.into(),
            host: ctx.config().host.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            endpoint: url.clone(),
        },
    )
    .await;
    tracing::info!(service, %url, "listening");
    Ok(Running {
        name: service,
        addr: local_addr,
        url,
        task,
        shutdown: stop,
    })
}

/// The service's default rules with the operator's file over them.
fn load_policy<S: Service>(
    overrides: Option<&std::path::Path>,
) -> Result<virga_policy::Policy, StartError> {
    let policy = match overrides {
        Some(path) => virga_policy::Policy::from_file(S::POLICY, path),
        None => virga_policy::Policy::load(S::POLICY, None),
    }
    .map_err(|source| StartError::Policy {
        service: S::NAME,
        source,
    })?;
    for name in policy.unknown_overrides() {
        tracing::warn!(service = S::NAME, rule = %name, "the policy file adds a rule the service does not define by default");
    }
    Ok(policy)
}
