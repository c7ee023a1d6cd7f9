//! Starting a set of services in one process and stopping them together.

use std::sync::Arc;

use futures::future::{BoxFuture, join_all};
use tokio_util::sync::CancellationToken;
use virga_bus::Bus;
use virga_common::Config;
use virga_service::{Running, Service, StartError};

use crate::for_each_service;

/// Starts the named services on one bus: identity first, since every other
/// service asks it for its token keys as it starts, then the rest
/// concurrently. Each runs under a child of `shutdown`, so one can be
/// stopped alone ([`Running::stop`]). If any fails, the others are stopped
/// again and the first error is returned.
pub async fn start_services(
    config: Arc<Config>,
    names: &[&str],
    bus: Bus,
    shutdown: CancellationToken,
) -> Result<Vec<Running>, StartError> {
    let mut running = Vec::new();
    if names.contains(&virga_identity::Identity::NAME) {
        running.push(
            virga_service::start::<virga_identity::Identity>(
                config.clone(),
                bus.clone(),
                shutdown.child_token(),
            )
            .await?,
        );
    }
    let mut starting: Vec<BoxFuture<'static, Result<Running, StartError>>> = Vec::new();
    for_each_service!(S => if names.contains(&S::NAME) && S::NAME != virga_identity::Identity::NAME {
        starting.push(Box::pin(virga_service::start::<S>(config.clone(), bus.clone(), shutdown.child_token())));
    });
    let mut first_error = None;
    for result in join_all(starting).await {
        match result {
            Ok(r) => running.push(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(running),
        Some(e) => {
            shutdown.cancel();
            join_all(running.into_iter().map(Running::wait)).await;
            Err(e)
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
    }
}
