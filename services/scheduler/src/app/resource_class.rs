//! Resource classes: the standard ones (os-resource-classes' names, fixed
//! here) and operators' `CUSTOM_*` ones (an edge site's NPU, a camera
//! feed), which inventories may use once created.

use virga_common::Error;
use virga_service::ServiceContext;

use crate::db::{inventory, resource_class as db};

/// os-resource-classes' standard classes.
pub const STANDARD: [&str; 21] = [
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
];

/// `CUSTOM_` and then capitals, digits and underscores (Placement's rule).
pub fn is_custom_name(name: &str) -> bool {
    name.len() <= 255
        && name.strip_prefix("CUSTOM_").is_some_and(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Every class, standard first.
pub async fn list(ctx: &ServiceContext) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = STANDARD.iter().map(|s| s.to_string()).collect();
    out.extend(db::all(ctx.db()).await?);
    Ok(out)
}

pub async fn exists(ctx: &ServiceContext, name: &str) -> Result<bool, Error> {
    Ok(STANDARD.contains(&name) || (is_custom_name(name) && db::exists(ctx.db(), name).await?))
}

pub async fn get(ctx: &ServiceContext, name: &str) -> Result<String, Error> {
    if exists(ctx, name).await? {
        Ok(name.to_owned())
    } else {
        Err(Error::NotFound {
            kind: "resource class",
            id: name.to_owned(),
        })
    }
}

/// Creates a custom class; 409 when it exists.
pub async fn create(ctx: &ServiceContext, name: &str) -> Result<(), Error> {
    if !ensure(ctx, name).await? {
        return Err(Error::Conflict(format!(
            "Conflicting resource class already exists: {name}"
        )));
    }
    Ok(())
}

/// Creates a custom class unless it exists; whether it was created.
pub async fn ensure(ctx: &ServiceContext, name: &str) -> Result<bool, Error> {
    if !is_custom_name(name) {
        return Err(Error::BadRequest(format!(
            "JSON does not validate: '{name}' does not match '^CUSTOM_[A-Z0-9_]+$'"
        )));
    }
    let created = db::create(ctx.db(), name).await?;
    if created {
        tracing::info!(resource_class = %name, "custom resource class created");
    }
    Ok(created)
}

/// Renames a custom class (Placement 1.2 to 1.6); the inventories and
/// allocations of the class keep their amounts under the new name.
pub async fn rename(ctx: &ServiceContext, old: &str, new: &str) -> Result<(), Error> {
    if !is_custom_name(new) {
        return Err(Error::BadRequest(format!(
            "JSON does not validate: '{new}' does not match '^CUSTOM_[A-Z0-9_]+$'"
        )));
    }
    if STANDARD.contains(&old) {
        return Err(Error::BadRequest(format!(
            "Cannot update standard resource class {old}"
        )));
    }
    get(ctx, old).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !db::create(&txn, new).await? {
        return Err(Error::Conflict(format!(
            "Resource class already exists: {new}"
        )));
    }
    db::move_uses(&txn, old, new).await?;
    if !db::delete(&txn, old).await? {
        // Renamed or deleted meanwhile: as if it had not been there.
        return Err(Error::NotFound {
            kind: "resource class",
            id: old.to_owned(),
        });
    }
    txn.commit().await.map_err(Error::internal)?;
    super::select::cache::changed(ctx);
    tracing::info!(from = %old, to = %new, "custom resource class renamed");
    Ok(())
}

/// Deletes a custom class no inventory uses.
pub async fn delete(ctx: &ServiceContext, name: &str) -> Result<(), Error> {
    if STANDARD.contains(&name) {
        return Err(Error::BadRequest(format!(
            "Cannot delete standard resource class {name}"
        )));
    }
    get(ctx, name).await?;
    if inventory::uses_class(ctx.db(), name).await? {
        return Err(Error::Conflict(format!(
            "Unable to delete resource class {name}. Class is in use in inventory."
        )));
    }
    db::delete(ctx.db(), name).await?;
    Ok(())
}
