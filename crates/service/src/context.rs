//! What the runtime hands each service: its configuration, database, bus and
//! metrics, plus the facts about this process that responses need.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use virga_bus::Bus;
use virga_common::Config;
use virga_db::sea_orm::DatabaseConnection;

use crate::auth::Authenticator;
use crate::http::metrics::Metrics;

#[derive(Clone)]
pub struct ServiceContext(Arc<Inner>);

struct Inner {
    name: &'static str,
    config: Arc<Config>,
    db: DatabaseConnection,
    bus: Bus,
    metrics: Metrics,
    auth: Authenticator,
    shutdown: CancellationToken,
    local_addr: SocketAddr,
    started_at: DateTime<Utc>,
    locals: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl ServiceContext {
    pub(crate) fn new(
        name: &'static str,
        config: Arc<Config>,
        db: DatabaseConnection,
        bus: Bus,
        auth: Authenticator,
        shutdown: CancellationToken,
        local_addr: SocketAddr,
    ) -> Self {
        ServiceContext(Arc::new(Inner {
            name,
            metrics: Metrics::new(name),
            config,
            db,
            bus,
            auth,
            shutdown,
            local_addr,
            started_at: Utc::now(),
            locals: Mutex::default(),
        }))
    }

    pub fn name(&self) -> &'static str {
        self.0.name
    }
    pub fn config(&self) -> &Config {
        &self.0.config
    }
    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }
    pub fn bus(&self) -> &Bus {
        &self.0.bus
    }
    /// Verifies tokens and answers policy questions.
    pub fn auth(&self) -> &Authenticator {
        &self.0.auth
    }
    /// Cancelled when the service begins to shut down: background work a
    /// service starts in its state stops on it.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.0.shutdown
    }
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr
    }
    pub fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// This service's one `T` (made on first use): long-lived in-process
    /// state such as a cache, which app code reaches through the context
    /// it already has. Each context has its own, so several clouds in one
    /// process never share one.
    pub fn local<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut all = self.0.locals.lock().unwrap_or_else(|e| e.into_inner());
        let any = all
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        any.downcast::<T>().expect("locals are keyed by their type")
    }

    /// The configured public URL, or `http://<bound address>` when none is set.
    pub fn public_url(&self) -> String {
        match self
            .0
            .config
            .services
            .get(self.0.name)
            .and_then(|s| s.public_url.clone())
        {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.0.local_addr),
        }
    }

    /// The base URL for links in a response: the configured public URL, or
    /// else the `Host` the client used, so links work through port forwards.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = self
            .0
            .config
            .services
            .get(self.0.name)
            .and_then(|s| s.public_url.clone())
        {
            return url.trim_end_matches('/').to_string();
        }
        match headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(host) if valid_host(host) => format!("http://{host}"),
            _ => format!("http://{}", self.0.local_addr),
        }
    }
}

/// Handler state that carries the runtime's context (the context itself,
/// or a service's richer state around it).
pub trait HasContext {
    fn context(&self) -> &ServiceContext;
}

impl HasContext for ServiceContext {
    fn context(&self) -> &ServiceContext {
        self
    }
}

/// A Host header is echoed into links only if it is a plain `host[:port]`.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
}
