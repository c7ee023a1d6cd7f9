//! Calling another service's REST API as this service: compute asks the
//! scheduler, the network and image services, as Nova calls Placement,
//! Neutron and Glance with its service user's token.
//!
//! The token and the catalog's endpoints come from identity over the bus
//! (`service_token`), are kept until shortly before the token expires, and
//! are fetched again on a 401 (a rotated key, a revocation), a missing
//! endpoint (a service started after the last fetch) or an unreachable one
//! (a service restarted elsewhere).

use std::time::Duration;

pub use reqwest::Method;
use serde_json::Value;
use tokio::sync::Mutex;
use virga_common::Error;
use virga_protocol::identity::{IdentityCall, ServiceTokenReply, TOPIC};

use crate::ServiceContext;

/// A token this close to its expiry is replaced before use.
const RENEW_BEFORE_SECS: u64 = 120;
/// How long one peer request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The context's token, endpoints and HTTP client (`ctx.local`).
pub struct Peers {
    http: reqwest::Client,
    held: Mutex<Option<ServiceTokenReply>>,
}

impl Default for Peers {
    fn default() -> Self {
        Peers {
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("an HTTP client builds"),
            held: Mutex::new(None),
        }
    }
}

/// One answer of a peer: its status and JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Whose token a peer request carries.
#[derive(Clone, Copy)]
pub enum As<'a> {
    /// This service's own user (role `service`).
    Service,
    /// The caller of the request being served: what the peer shows or
    /// refuses is what the caller may see (an image of another project is
    /// 404 to them).
    Caller(&'a crate::auth::Auth),
}

/// `method path` on the service of catalog type `service_type`, with a
/// JSON body and extra headers; 503 when identity, the catalog entry or
/// the peer cannot be reached. Any status the peer answers is returned.
pub async fn call(
    ctx: &ServiceContext,
    who: As<'_>,
    service_type: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<Reply, Error> {
    let peers = ctx.local::<Peers>();
    for attempt in 0..2 {
        let (mut token, base) = credentials(ctx, &peers, service_type, attempt > 0).await?;
        if let As::Caller(auth) = who {
            token = auth
                .token()
                .ok_or_else(|| Error::internal("a peer call on behalf of no request"))?
                .to_owned();
        }
        let mut req = peers
            .http
            .request(
                method.clone(),
                format!("{}{path}", base.trim_end_matches('/')),
            )
            .header("X-Auth-Token", token)
            .header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(service_type, path, error = %virga_common::error::chain(&e), "peer unreachable");
                // It may have moved (restarted elsewhere): ask the catalog again next time.
                peers.held.lock().await.take();
                return Err(Error::Unavailable(format!(
                    "The {service_type} service is unreachable."
                )));
            }
        };
        let status = resp.status().as_u16();
        if status == 401 && attempt == 0 && matches!(who, As::Service) {
            continue;
        }
        let bytes = resp.bytes().await.map_err(|e| {
            tracing::warn!(service_type, path, error = %virga_common::error::chain(&e), "peer's answer cut short");
            Error::Unavailable(format!("The {service_type} service did not answer."))
        })?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        return Ok(Reply { status, body });
    }
    unreachable!("the second attempt returns")
}

/// The token and the endpoint, asking identity when none is held, the held
/// one is about to expire, `renew` says so, or the endpoint is unknown.
async fn credentials(
    ctx: &ServiceContext,
    peers: &Peers,
    service_type: &str,
    renew: bool,
) -> Result<(String, String), Error> {
    let mut held = peers.held.lock().await;
    let now = crate::auth::unix_now();
    let usable = |r: &ServiceTokenReply| {
        r.expires_at > now + RENEW_BEFORE_SECS && r.endpoints.contains_key(service_type)
    };
    if renew || !held.as_ref().is_some_and(usable) {
        *held = Some(fetch(ctx).await?);
    }
    let r = held.as_ref().expect("just fetched");
    let url = r.endpoints.get(service_type).ok_or_else(|| {
        Error::Unavailable(format!("No {service_type} endpoint is in the catalog."))
    })?;
    Ok((r.token.clone(), url.clone()))
}

async fn fetch(ctx: &ServiceContext) -> Result<ServiceTokenReply, Error> {
    let (method, args) = virga_protocol::to_parts(&IdentityCall::ServiceToken {
        service: ctx.name().to_owned(),
    });
    let timeout = Duration::from_secs(ctx.config().bus.call_timeout_secs);
    // Identity may be starting (its queue not served yet) or the bus busy:
    // a short retry before a request fails with 503.
    for pause in [0u64, 300, 1000] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        match ctx
            .bus()
            .call(
                TOPIC,
                &method,
                args.clone(),
                &virga_bus::Context::default(),
                timeout,
            )
            .await
        {
            Ok(reply) => return serde_json::from_value(reply).map_err(Error::internal),
            Err(e) => {
                tracing::warn!(error = %virga_common::error::chain(&e), "identity did not answer service_token");
                // Identity answered and refused, or did not answer within
                // the whole timeout: asking again only makes the caller wait.
                if matches!(
                    e,
                    virga_bus::BusError::Remote { .. } | virga_bus::BusError::Timeout
                ) {
                    break;
                }
            }
        }
    }
    Err(Error::Unavailable(
        "Identity is unreachable; cannot reach other services.".into(),
    ))
}
