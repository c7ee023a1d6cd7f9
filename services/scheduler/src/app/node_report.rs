//! What agents report over the bus, turned into the same operations the
//! REST paths run: a registration finds (or, for the first node of a
//! site, creates) the site by name, then registers the node as desired
//! state; a heartbeat refreshes it.

use virga_common::Error;
use virga_protocol::scheduler::{DeviceReport, InventoryReport, NodeCall, Registered, SiteRef};
use virga_service::ServiceContext;

use super::inventory::Inventory;
use super::node::{self, Device, Heartbeat, Registration};
use super::site::{self, KINDS, SiteSpec};
use crate::db::{provider, site as site_db};

fn inventory(r: &InventoryReport) -> Inventory {
    Inventory {
        total: r.total,
        reserved: r.reserved,
        min_unit: r.min_unit,
        max_unit: r.max_unit,
        step_size: r.step_size,
        allocation_ratio: r.allocation_ratio,
    }
}

fn device(d: &DeviceReport) -> Device {
    Device {
        name: d.name.clone(),
        inventories: d
            .inventories
            .iter()
            .map(|(c, i)| (c.clone(), inventory(i)))
            .collect(),
        traits: d.traits.clone(),
    }
}

/// The site named `s.name`, created on first sight.
async fn site_of(ctx: &ServiceContext, s: &SiteRef) -> Result<String, Error> {
    if !KINDS.contains(&s.kind.as_str()) {
        return Err(Error::BadRequest(format!(
            "site kind {:?} is not one of {}",
            s.kind,
            KINDS.join(", ")
        )));
    }
    for attempt in 0..2 {
        let filter = provider::Filter {
            name: Some(s.name.clone()),
            ..provider::Filter::default()
        };
        if let Some(p) = provider::list(ctx.db(), &filter).await?.into_iter().next() {
            if site_db::find(ctx.db(), &p.uuid).await?.is_none() {
                return Err(Error::Conflict(format!(
                    "{} names a resource provider that is not a site",
                    s.name
                )));
            }
            return Ok(p.uuid);
        }
        let spec = SiteSpec {
            name: s.name.clone(),
            kind: s.kind.clone(),
            region: s.region.clone(),
            location: None,
        };
        match site::create(ctx, spec).await {
            Ok((m, _)) => return Ok(m.uuid),
            // Another node of the same new site got there first.
            Err(Error::CodedConflict { .. }) if attempt == 0 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict(format!(
        "site {} keeps changing; retry",
        s.name
    )))
}

/// Handles one agent message; a registration's reply.
pub async fn handle(ctx: &ServiceContext, call: NodeCall) -> Result<Option<Registered>, Error> {
    match call {
        NodeCall::Register {
            node: uuid,
            site,
            hostname,
            kind,
            arch,
            labels,
            inventories,
            traits,
            devices,
            facts,
        } => {
            let uuid = uuid::Uuid::parse_str(&uuid)
                .map_err(|_| Error::BadRequest(format!("node {uuid:?} is not a uuid")))?
                .to_string();
            if !KINDS.contains(&kind.as_str()) || !node::ARCHES.iter().any(|(a, _)| *a == arch) {
                return Err(Error::BadRequest(format!(
                    "node kind {kind:?} or arch {arch:?} is not known"
                )));
            }
            let site = site_of(ctx, &site).await?;
            let reg = Registration {
                site: site.clone(),
                hostname,
                kind,
                arch,
                labels,
                inventories: inventories
                    .iter()
                    .map(|(c, i)| (c.clone(), inventory(i)))
                    .collect(),
                traits,
                devices: devices.iter().map(device).collect(),
                facts: facts.map_or(serde_json::Value::Null, |f| {
                    serde_json::to_value(f).expect("facts serialize")
                }),
            };
            for (class, inv) in reg
                .inventories
                .iter()
                .chain(reg.devices.iter().flat_map(|d| d.inventories.iter()))
            {
                inv.check(class)?;
            }
            node::register(ctx, &uuid, reg).await?;
            Ok(Some(Registered { node: uuid, site }))
        }
        NodeCall::Heartbeat {
            node: uuid,
            load,
            images,
            layers,
        } => {
            let hb = Heartbeat {
                load,
                images,
                layers,
            };
            node::heartbeat(ctx, &uuid, hb).await?;
            Ok(None)
        }
    }
}
