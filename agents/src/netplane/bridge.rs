//! A Linux bridge per network, with the segment's device on it (a VXLAN
//! device, a VLAN device or the flat physical interface), and the ports'
//! devices plugged in. What the node has is compared with the plan and
//! changed only where it differs; bridges and segment devices of networks
//! no longer planned are removed. One network's failure does not stop the
//! others.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Deserialize;
use virga_protocol::network::{NetworkPlan, PortFilter, Segment};

use super::host::{Host, Link, NetplaneError};
use super::names;

/// The IANA VXLAN port.
const VXLAN_PORT: &str = "4789";

/// Applies the networks' bridges and segments and plugs the ports.
pub fn apply(
    host: &Host,
    networks: &[NetworkPlan],
    ports: &[PortFilter],
    errors: &mut Vec<NetplaneError>,
) -> Result<(), NetplaneError> {
    let links = host.links(None)?;
    let by_name: HashMap<&str, &Link> = links.iter().map(|l| (l.ifname.as_str(), l)).collect();
    let mut keep = BTreeSet::new();
    for n in networks {
        match network(host, &by_name, n) {
            Ok(owned) => keep.extend(owned),
            Err(e) => {
                // Keep what it has: a half-applied network is repaired on
                // the next pass, a removed one cuts its guests off.
                keep.insert(names::bridge(&n.network_id).unwrap_or_default());
                keep.insert(names::vxlan(&n.network_id).unwrap_or_default());
                keep.insert(names::vlan(&n.network_id).unwrap_or_default());
                errors.push(e);
            }
        }
    }
    plug_into(host, &by_name, &keep, ports, errors);
    for l in &links {
        let ours = ["vbr", "vvx", "vvl"]
            .iter()
            .any(|r| l.ifname.starts_with(r));
        if ours
            && !keep.contains(&l.ifname)
            && let Err(e) = host.ip(&["link", "del", "dev", &l.ifname])
        {
            errors.push(e);
        }
    }
    Ok(())
}

/// Plugs the ports' devices into their networks' bridges (the bridges
/// the networks already have: nothing else changes).
pub fn plug(
    host: &Host,
    networks: &[NetworkPlan],
    ports: &[PortFilter],
    errors: &mut Vec<NetplaneError>,
) -> Result<(), NetplaneError> {
    let links = host.links(None)?;
    let by_name: HashMap<&str, &Link> = links.iter().map(|l| (l.ifname.as_str(), l)).collect();
    let keep: BTreeSet<String> = networks
        .iter()
        .filter_map(|n| names::bridge(&n.network_id).ok())
        .collect();
    plug_into(host, &by_name, &keep, ports, errors);
    Ok(())
}

fn plug_into(
    host: &Host,
    by_name: &HashMap<&str, &Link>,
    keep: &BTreeSet<String>,
    ports: &[PortFilter],
    errors: &mut Vec<NetplaneError>,
) {
    for p in ports.iter().filter(|p| !p.network_id.is_empty()) {
        let Ok(br) = names::bridge(&p.network_id) else {
            continue;
        };
        if let Some(l) = by_name.get(p.device.as_str())
            && (l.master.as_deref() != Some(br.as_str()) || !l.is_up())
            && keep.contains(&br)
            && let Err(e) = host.ip(&["link", "set", "dev", &p.device, "master", &br, "up"])
        {
            errors.push(e);
        }
    }
}

/// One network: its bridge and segment; returns the device names it owns.
fn network(
    host: &Host,
    links: &HashMap<&str, &Link>,
    n: &NetworkPlan,
) -> Result<Vec<String>, NetplaneError> {
    let br = names::bridge(&n.network_id)?;
    let mtu = n.mtu.to_string();
    if !links.contains_key(br.as_str()) {
        host.ip(&["link", "add", "name", &br, "type", "bridge"])?;
        quiet_ipv6(host, &br)?;
    }
    host.ip(&["link", "set", "dev", &br, "mtu", &mtu, "up"])?;
    let mut owned = vec![br.clone()];
    let dev = match &n.segment {
        Segment::Vxlan { vni, peers } => {
            let name = names::vxlan(&n.network_id)?;
            vxlan(host, links.get(name.as_str()).copied(), &name, *vni)?;
            flood_to(host, &name, peers)?;
            owned.push(name.clone());
            name
        }
        Segment::Vlan {
            physical_network,
            vlan_id,
        } => {
            let phys = physical(host, physical_network)?;
            let name = names::vlan(&n.network_id)?;
            let existing = links.get(name.as_str());
            let same = existing.is_some_and(|l| {
                l.data("id").and_then(|v| v.as_u64()) == Some(u64::from(*vlan_id))
            });
            if existing.is_some() && !same {
                host.ip(&["link", "del", "dev", &name])?;
            }
            if !same {
                let id = vlan_id.to_string();
                host.ip(&[
                    "link", "add", "link", phys, "name", &name, "type", "vlan", "id", &id,
                ])?;
                quiet_ipv6(host, &name)?;
            }
            owned.push(name.clone());
            name
        }
        Segment::Flat { physical_network } => physical(host, physical_network)?.to_owned(),
    };
    host.ip(&["link", "set", "dev", &dev, "mtu", &mtu, "master", &br, "up"])?;
    Ok(owned)
}

fn physical<'h>(host: &'h Host, name: &str) -> Result<&'h str, NetplaneError> {
    host.physical
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| NetplaneError::Plan(format!("no interface for physical network {name:?}")))
}

/// The node takes no IPv6 addresses or router advertisements from tenant
/// networks.
fn quiet_ipv6(host: &Host, dev: &str) -> Result<(), NetplaneError> {
    host.sysctl(None, &format!("net.ipv6.conf.{dev}.disable_ipv6=1"))
}

/// The VXLAN device with this VNI over the node's tunnel address,
/// recreated when either differs.
fn vxlan(host: &Host, existing: Option<&Link>, name: &str, vni: u32) -> Result<(), NetplaneError> {
    let local = host
        .tunnel_ip
        .ok_or_else(|| NetplaneError::Plan("VXLAN needs the node's tunnel address".into()))?;
    let same = existing.is_some_and(|l| {
        l.data("id").and_then(|v| v.as_u64()) == Some(u64::from(vni))
            && l.data("local").and_then(|v| v.as_str()) == Some(local.to_string().as_str())
    });
    if existing.is_some() && !same {
        host.ip(&["link", "del", "dev", name])?;
    }
    if !same {
        let (vni, local) = (vni.to_string(), local.to_string());
        host.ip(&[
            "link", "add", name, "type", "vxlan", "id", &vni, "local", &local, "dstport",
            VXLAN_PORT,
        ])?;
        quiet_ipv6(host, name)?;
    }
    Ok(())
}

/// Broadcast and unknown unicast go to every peer (head-end replication:
/// all-zero FDB entries); the device learns where each MAC lives.
fn flood_to(host: &Host, dev: &str, peers: &[IpAddr]) -> Result<(), NetplaneError> {
    #[derive(Deserialize)]
    struct Fdb {
        mac: String,
        #[serde(default)]
        dst: Option<String>,
    }
    let entries: Vec<Fdb> = host.json(None, "bridge", &["-j", "fdb", "show", "dev", dev])?;
    let have: BTreeSet<String> = entries
        .into_iter()
        .filter(|e| e.mac == "00:00:00:00:00:00")
        .filter_map(|e| e.dst)
        .collect();
    let want: BTreeSet<String> = peers.iter().map(IpAddr::to_string).collect();
    const ZERO: &str = "00:00:00:00:00:00";
    for peer in want.difference(&have) {
        host.run_in(
            None,
            "bridge",
            &["fdb", "append", ZERO, "dev", dev, "dst", peer],
            None,
        )?;
    }
    for gone in have.difference(&want) {
        host.run_in(
            None,
            "bridge",
            &["fdb", "del", ZERO, "dev", dev, "dst", gone],
            None,
        )?;
    }
    Ok(())
}
