//! Network segments: checking the provider attributes an admin gives
//! (`flat` / `vlan` on a configured physical network, `vxlan`), giving a
//! tenant network a free VXLAN id, and the MTU each type leaves.

use virga_common::Error;
use virga_common::config::NetworkConfig;
use virga_db::sea_orm::ConnectionTrait;

use super::network::Segment;
use crate::db::network::{self, Model};

/// A checked segment; `segmentation_id` is `None` when one is to be given out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub network_type: String,
    pub physical_network: String,
    pub segmentation_id: Option<i32>,
}

const VXLAN_OVERHEAD: i32 = 50;

pub fn mtu(cfg: &NetworkConfig, network_type: &str) -> i32 {
    match network_type {
        "vxlan" => cfg.physical_mtu - VXLAN_OVERHEAD,
        _ => cfg.physical_mtu,
    }
}

fn bad(msg: String) -> Error {
    Error::BadRequest(format!("Invalid input for operation: {msg}."))
}

pub fn resolve(cfg: &NetworkConfig, given: Option<&Segment>) -> Result<Resolved, Error> {
    let Some(s) = given else {
        return Ok(Resolved {
            network_type: "vxlan".into(),
            physical_network: String::new(),
            segmentation_id: None,
        });
    };
    let physnet = |t: &str| -> Result<String, Error> {
        match &s.physical_network {
            None => Err(bad(format!(
                "physical_network required for {t} provider network"
            ))),
            Some(p) if !cfg.physical_networks.contains(p) => Err(bad(format!(
                "physical_network '{p}' unknown for {t} provider network"
            ))),
            Some(p) => Ok(p.clone()),
        }
    };
    match s.network_type.as_deref() {
        Some("flat") => {
            if s.segmentation_id.is_some() {
                return Err(bad(
                    "segmentation_id prohibited for flat provider network".into()
                ));
            }
            Ok(Resolved {
                network_type: "flat".into(),
                physical_network: physnet("flat")?,
                segmentation_id: Some(0),
            })
        }
        Some("vlan") => {
            let p = physnet("VLAN")?;
            match s.segmentation_id {
                Some(id) if (1..=4094).contains(&id) => Ok(Resolved {
                    network_type: "vlan".into(),
                    physical_network: p,
                    segmentation_id: Some(id),
                }),
                Some(id) => Err(bad(format!(
                    "segmentation_id out of range (1 through 4094), got {id}"
                ))),
                None => Err(bad(
                    "segmentation_id required for VLAN provider network".into()
                )),
            }
        }
        Some("vxlan") => {
            if s.physical_network.is_some() {
                return Err(bad(
                    "provider:physical_network specified for VXLAN network".into()
                ));
            }
            match s.segmentation_id {
                Some(id) if !(1..=16_777_215).contains(&id) => Err(bad(format!(
                    "segmentation_id out of range (1 through 16777215), got {id}"
                ))),
                id => Ok(Resolved {
                    network_type: "vxlan".into(),
                    physical_network: String::new(),
                    segmentation_id: id,
                }),
            }
        }
        Some(other) => Err(bad(format!("network_type value '{other}' not supported"))),
        None => Err(bad("network_type required".into())),
    }
}

/// A VNI for a tenant network: random in the range (so concurrent
/// creations rarely collide), or after many collisions the lowest free.
pub async fn pick_vni(
    db: &impl ConnectionTrait,
    cfg: &NetworkConfig,
    attempt: u32,
) -> Result<i32, Error> {
    let (lo, hi) = (cfg.vxlan_vni_min, cfg.vxlan_vni_max);
    if attempt < 8 {
        let span = (hi - lo + 1) as u64;
        return Ok(lo + (getrandom::u64().map_err(Error::internal)? % span) as i32);
    }
    let mut taken = network::taken_segments(db, "vxlan", "", lo, hi).await?;
    taken.sort_unstable();
    let mut want = lo;
    for t in taken {
        if t > want {
            break;
        }
        want = t + 1;
    }
    if want > hi {
        return Err(Error::Unavailable(
            "Unable to create the network. No project network is available for allocation.".into(),
        ));
    }
    Ok(want)
}

/// The 409 for a segment another network holds, in Neutron's words.
pub fn in_use(m: &Model) -> Error {
    let message = match m.network_type.as_str() {
        "flat" => format!(
            "Unable to create the flat network. Physical network {} is in use.",
            m.physical_network
        ),
        "vlan" => format!(
            "Unable to create the network. The VLAN {} on physical network {} is in use.",
            m.segmentation_id, m.physical_network
        ),
        _ => format!(
            "Unable to create the network. The tunnel ID {} is in use.",
            m.segmentation_id
        ),
    };
    let code = match m.network_type.as_str() {
        "flat" => "FlatNetworkInUse",
        "vlan" => "VlanIdInUse",
        _ => "TunnelIdInUse",
    };
    super::coded(code, message)
}
