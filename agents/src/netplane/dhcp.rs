//! A DHCP server per network that this node serves: a namespace of its own
//! holding the DHCP port (a veth whose other end is on the network's
//! bridge) and a dnsmasq bound to it. The server is started when missing,
//! restarted when its configuration changes and told to reread its hosts
//! (SIGHUP) when only they change; servers of networks no longer planned
//! are stopped and their namespaces removed.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use virga_protocol::network::{DhcpPlan, NetworkPlan};

use super::daemon::{self, write};
use super::dnsmasq;
use super::host::{Host, NetplaneError};
use super::names;
use super::veth::{self, Leg};

/// Applies the DHCP servers of `networks` and removes the others.
pub fn apply(
    host: &Host,
    networks: &[NetworkPlan],
    errors: &mut Vec<NetplaneError>,
) -> Result<(), NetplaneError> {
    let mut keep = BTreeSet::new();
    for n in networks {
        let Some(plan) = &n.dhcp else { continue };
        if let Ok(ns) = names::dhcp_namespace(&host.ns_prefix, &n.network_id) {
            keep.insert(ns);
        }
        if let Err(e) = server(host, n, plan) {
            errors.push(e);
        }
    }
    let prefix = format!("{}dhcp-", host.ns_prefix);
    for ns in host.namespaces(&prefix)? {
        if keep.contains(&ns) {
            continue;
        }
        let dir = dir(host, &ns[prefix.len()..]);
        daemon::stop(&dir, DNSMASQ);
        if let Err(e) = host.remove_namespace(&ns) {
            errors.push(e);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Only the hosts of running servers changed: rewrites them and tells
/// each server to reread (a server not running is set up whole).
pub fn hosts(
    host: &Host,
    networks: &[NetworkPlan],
    errors: &mut Vec<NetplaneError>,
) -> Result<(), NetplaneError> {
    for n in networks {
        let Some(plan) = &n.dhcp else { continue };
        let dir = dir(host, &n.network_id);
        let result = match daemon::running(&dir, DNSMASQ) {
            Some(pid) => write(&dir.join("hosts"), &dnsmasq::hosts(plan)).map(|changed| {
                if changed {
                    daemon::reload(pid);
                }
            }),
            None => server(host, n, plan),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Ok(())
}

const DNSMASQ: &str = "dnsmasq";

fn dir(host: &Host, network_id: &str) -> PathBuf {
    host.state_dir.join("dhcp").join(network_id)
}

/// An address with its subnet's prefix length (`10.0.0.2/24`).
fn with_prefix(ip: IpAddr, cidr: &str) -> Option<String> {
    let net: ipnet::IpNet = cidr.parse().ok()?;
    Some(format!("{ip}/{}", net.prefix_len()))
}

fn server(host: &Host, n: &NetworkPlan, plan: &DhcpPlan) -> Result<(), NetplaneError> {
    let ns = names::dhcp_namespace(&host.ns_prefix, &n.network_id)?;
    let inner = names::dhcp_inner(&plan.port_id)?;
    host.ensure_namespace(&ns)?;
    // The namespace holds one DHCP port: another port's leftovers go.
    veth::prune(host, &ns, &["ns-"], &BTreeSet::from([inner.clone()]))?;
    let want: BTreeSet<String> = plan
        .subnets
        .iter()
        .filter_map(|s| with_prefix(s.address, &s.cidr))
        .collect();
    let leg = Leg {
        ns: &ns,
        outer: &names::dhcp_outer(&plan.port_id)?,
        inner: &inner,
        bridge: &names::bridge(&n.network_id)?,
        mac: &plan.mac,
        mtu: n.mtu,
    };
    veth::plug(host, &leg, &want)?;
    let dir = dir(host, &n.network_id);
    daemon::ensure_dir(&dir)?;
    let conf = dnsmasq::config(&dir, &inner, plan, n.mtu);
    let conf_changed = write(&dir.join("dnsmasq.conf"), &conf)?;
    let hosts_changed = write(&dir.join("hosts"), &dnsmasq::hosts(plan))?;
    match daemon::running(&dir, DNSMASQ) {
        Some(pid) if conf_changed => {
            daemon::stop_pid(pid);
            start(host, &ns, &dir)
        }
        Some(pid) if hosts_changed => {
            daemon::reload(pid);
            Ok(())
        }
        Some(_) => Ok(()),
        None => start(host, &ns, &dir),
    }
}

fn start(host: &Host, ns: &str, dir: &Path) -> Result<(), NetplaneError> {
    let conf = format!("--conf-file={}", dir.join("dnsmasq.conf").display());
    let pid = format!("--pid-file={}", dir.join("pid").display());
    // dnsmasq forks into the background once it is serving.
    host.run_in(Some(ns), "dnsmasq", &[&conf, &pid], None)
        .map(|_| ())
}
