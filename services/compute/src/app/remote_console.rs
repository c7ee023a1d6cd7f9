//! Remote consoles (`POST /servers/{id}/remote-consoles`, microversion
//! 2.6; `mks`/`webmks` from 2.8). Virga runs no console proxy (noVNC,
//! SPICE, serial or MKS), so every console type is unavailable, which is
//! what Nova answers when a type's proxy is not enabled: a checked
//! request for a server the caller may see gets 400 naming the type. The
//! guest's console output is `os-getConsoleOutput`.

use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::input::{self, invalid};
use super::server::visible;
use super::versions::Microversion;

/// Which types go with which protocol (Nova's pairs).
fn pairs(at: Microversion) -> Vec<(&'static str, &'static [&'static str])> {
    let mut p: Vec<(&str, &[&str])> = vec![
        ("vnc", &["novnc", "xvpvnc"]),
        ("spice", &["spice-html5"]),
        ("rdp", &["rdp-html5"]),
        ("serial", &["serial"]),
    ];
    if at.at_least(8) {
        p.push(("mks", &["webmks"]));
    }
    p
}

fn one_of(
    o: &serde_json::Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<String, Error> {
    let v = input::required(o, key)?;
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(s.to_owned()),
        _ => Err(invalid(key, v, format!("{v} is not one of {allowed:?}"))),
    }
}

/// Checks the request, then answers as a cloud with no console proxy:
/// the outcome is always an error (which one is the point).
pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: &Value,
    at: Microversion,
) -> Error {
    match check(ctx, auth, id, body, at).await {
        Ok(kind) => Error::BadRequest(format!("Unavailable console type {kind}.")),
        Err(e) => e,
    }
}

/// The console type asked for, once the request holds up.
async fn check(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: &Value,
    at: Microversion,
) -> Result<String, Error> {
    let o = input::object(body, "remote_console", &["protocol", "type"])?;
    let pairs = pairs(at);
    let protocols: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let types: Vec<&str> = pairs.iter().flat_map(|p| p.1.iter().copied()).collect();
    let protocol = one_of(o, "protocol", &protocols)?;
    let kind = one_of(o, "type", &types)?;
    visible(ctx, auth, id).await?;
    if !pairs
        .iter()
        .any(|(p, ts)| *p == protocol && ts.contains(&kind.as_str()))
    {
        return Err(Error::BadRequest(format!("Invalid console type {kind}")));
    }
    Ok(kind)
}
