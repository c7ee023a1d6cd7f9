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

use crate::{Service, ServiceContext, bus, http};

/// How long a bus handler may take to finish its message at shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

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
}

impl Running {
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

    let ctx = ServiceContext::new(service, config.clone(), db, bus, local_addr);
    let state = S::state(ctx.clone()).await?;
    let app = http::app::<S>(state, ctx.clone());
    let consumer = bus::serve_liveness(&ctx)
        .await
        .map_err(|source| StartError::Bus { service, source })?;

    let task_ctx = ctx.clone();
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
        let (served, ()) = tokio::join!(server, stop_consuming);
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
    })
}
