//! `/v2.1/os-availability-zone`: the edge sites as zones.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::availability_zone::{self as app, usable};
use crate::app::service::COMPUTE;

/// Lists the zones (sites with nodes) and whether each takes servers.
#[utoipa::path(get, path = "/v2.1/os-availability-zone", tag = "availability_zones",
    security(("token" = [])),
    responses((status = 200, description = "{\"availabilityZoneInfo\": [{zoneName, zoneState: {available}, hosts: null}]}", body = Object)))]
pub async fn list_availability_zones(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let zones = app::list(&ctx, &auth, false).await?;
    let info: Vec<Value> = zones
        .iter()
        .map(
            |z| json!({"zoneName": z.name, "zoneState": {"available": z.available}, "hosts": null}),
        )
        .collect();
    Ok(Json(json!({ "availabilityZoneInfo": info })))
}

/// Lists the zones with their hosts' compute services (admins).
#[utoipa::path(get, path = "/v2.1/os-availability-zone/detail", tag = "availability_zones",
    security(("token" = [])),
    responses((status = 200, description = "{\"availabilityZoneInfo\": [{zoneName, zoneState, hosts: {host: {nova-compute: {available, active, updated_at}}}}]}", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_availability_zones_detail(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let zones = app::list(&ctx, &auth, true).await?;
    let info: Vec<Value> = zones
        .iter()
        .map(|z| {
            let mut hosts = Map::new();
            for s in &z.hosts {
                let name = s.node["hostname"].as_str().unwrap_or_default().to_owned();
                let svc = super::service::view(s, super::microversion::min());
                hosts.insert(
                    name,
                    json!({ COMPUTE: {"available": usable(s), "active": svc["status"] == "enabled",
                                      "updated_at": svc["updated_at"]}}),
                );
            }
            json!({"zoneName": z.name, "zoneState": {"available": z.available}, "hosts": hosts})
        })
        .collect();
    Ok(Json(json!({ "availabilityZoneInfo": info })))
}
