//! Prometheus metrics of one service, exposed at `/metrics`. Each service has
//! its own registry, so `virga up` still shows each service's numbers apart.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::ServiceContext;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl Metrics {
    pub fn new(service: &'static str) -> Self {
        let registry = Registry::new_custom(Some("virga".into()), None).expect("valid prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request",
            ),
            &["method", "route"],
        )
        .expect("valid metric");
        let info = IntGauge::with_opts(
            Opts::new(
                "build_info",
                "Always 1; labels name the service and version",
            )
            .const_label("service", service)
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .expect("valid metric");
        info.set(1);
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(duration.clone()))
            .expect("registered once");
        registry.register(Box::new(info)).expect("registered once");
        Metrics {
            registry,
            requests,
            duration,
        }
    }

    /// The registry, for services that add metrics of their own.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// Counts and times each request by its route template (not the raw path, so
/// ids do not explode the label set).
pub async fn track(State(ctx): State<ServiceContext>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    let m = ctx.metrics();
    m.duration
        .with_label_values(&[method.as_str(), route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[method.as_str(), route.as_str(), resp.status().as_str()])
        .inc();
    resp
}

/// Prometheus text exposition of this service's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(ctx): State<ServiceContext>) -> Response {
    let mut buf = Vec::new();
    let families = ctx.metrics().registry.gather();
    if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
        return virga_common::Error::internal(e).into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], buf).into_response()
}
