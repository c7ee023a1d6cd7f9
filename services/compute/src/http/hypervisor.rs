//! `/v2.1/os-hypervisors`: the edge nodes as Nova's hypervisors (admins).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::hypervisor::{self as app, Hypervisor};

/// Nova's `state` (up/down) and `status` (enabled/disabled).
fn state(n: &Value) -> (&'static str, &'static str) {
    let disabled = n["disabled"].as_bool().unwrap_or(false);
    let up = n["state"] == "up" || (disabled && n["last_seen"].is_string());
    (
        if up { "up" } else { "down" },
        if disabled { "disabled" } else { "enabled" },
    )
}

fn brief(h: &Hypervisor) -> Value {
    let (state, status) = state(&h.node);
    json!({
        "id": h.node["uuid"],
        "hypervisor_hostname": h.node["hostname"],
        "state": state,
        "status": status,
    })
}

/// What is left of a class: (total - reserved) * ratio, and what is used.
fn capacity(h: &Hypervisor, class: &str) -> (i64, i64) {
    let i = &h.inventories[class];
    let total = i["total"].as_i64().unwrap_or(0) - i["reserved"].as_i64().unwrap_or(0);
    let used = h.usages[class].as_i64().unwrap_or(0);
    (total.max(0), used)
}

fn detail(h: &Hypervisor) -> Value {
    let mut v = brief(h);
    let (vcpus, vcpus_used) = capacity(h, "VCPU");
    let (ram, ram_used) = capacity(h, "MEMORY_MB");
    let (disk, disk_used) = capacity(h, "DISK_GB");
    let facts = &h.node["facts"];
    // Nova's libvirt driver says QEMU for both kvm and qemu domains.
    let kind = match facts["driver"].as_str() {
        Some("libvirt") | None => "QEMU",
        Some(other) => other,
    };
    let host_ip = facts["interfaces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["name"] != "lo")
        .flat_map(|i| i["addresses"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| {
            a.as_str()
                .and_then(|a| a.split('/').next())
                .map(str::to_owned)
        })
        .next();
    let cpu = json!({"model": facts["cpu_model"], "sockets": facts["cpu_sockets"], "arch": h.node["arch"]});
    let extra = json!({
        "vcpus": vcpus, "vcpus_used": vcpus_used,
        "memory_mb": ram, "memory_mb_used": ram_used, "free_ram_mb": ram - ram_used,
        "local_gb": disk, "local_gb_used": disk_used, "free_disk_gb": disk - disk_used,
        "disk_available_least": disk - disk_used,
        "running_vms": h.running_vms,
        "current_workload": 0,
        "hypervisor_type": kind,
        "hypervisor_version": 0,
        "host_ip": host_ip,
        "cpu_info": cpu.to_string(),
        "service": {"host": h.node["hostname"], "id": h.node["uuid"], "disabled_reason": Value::Null},
    });
    if let (Some(v), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    v
}

/// Lists the nodes (admins).
#[utoipa::path(get, path = "/v2.1/os-hypervisors", tag = "hypervisors",
    security(("token" = [])),
    responses((status = 200, description = "{\"hypervisors\": [{id, hypervisor_hostname, state, status}]}", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_hypervisors(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let all = app::list(&ctx, &auth, false).await?;
    Ok(Json(
        json!({"hypervisors": all.iter().map(brief).collect::<Vec<_>>()}),
    ))
}

/// Lists the nodes with their capacity and use (admins).
#[utoipa::path(get, path = "/v2.1/os-hypervisors/detail", tag = "hypervisors",
    security(("token" = [])),
    responses((status = 200, description = "{\"hypervisors\": [{..., vcpus, vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used, running_vms, service}]}", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_hypervisors_detail(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let all = app::list(&ctx, &auth, true).await?;
    Ok(Json(
        json!({"hypervisors": all.iter().map(detail).collect::<Vec<_>>()}),
    ))
}

/// Shows one node with its capacity and use (admins).
#[utoipa::path(get, path = "/v2.1/os-hypervisors/{hypervisor_id}", tag = "hypervisors",
    params(("hypervisor_id" = String, Path, description = "The node's uuid")),
    security(("token" = [])),
    responses((status = 200, description = "{\"hypervisor\": {...}}", body = Object),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such node")))]
pub async fn show_hypervisor(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(hypervisor_id): Path<String>,
) -> Result<Json<Value>, Error> {
    let h = app::show(&ctx, &auth, &hypervisor_id).await?;
    Ok(Json(json!({"hypervisor": detail(&h)})))
}
