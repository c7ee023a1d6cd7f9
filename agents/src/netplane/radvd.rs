//! IPv6 router advertisements from a router's namespace (radvd, as
//! Neutron runs it): on each interface leg with IPv6 subnets the router
//! announces itself as the default router, with each subnet's prefix for
//! SLAAC / stateless DHCPv6 and the managed / other flags its
//! `ipv6_ra_mode` asks for. The DHCP server's own advertisements carry a
//! router lifetime of 0, so guests route through the router, not it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use virga_protocol::network::{Ipv6Mode, RouterPlan};

use super::daemon;
use super::host::{Host, NetplaneError};
use super::names;

const RADVD: &str = "radvd";

/// The router's radvd state directory.
pub fn dir(host: &Host, router_id: &str) -> PathBuf {
    host.state_dir.join("router").join(router_id)
}

fn on(yes: bool) -> &'static str {
    if yes { "on" } else { "off" }
}

/// `radvd.conf` for the router; `None` when no leg has anything to
/// advertise.
pub fn config(r: &RouterPlan, mtus: &HashMap<&str, u32>) -> Result<Option<String>, NetplaneError> {
    let mut c = String::new();
    for leg in r.interfaces.iter().filter(|l| !l.advertise.is_empty()) {
        let iface = names::router_inner(&leg.port_id, false)?;
        let modes: Vec<Option<Ipv6Mode>> = leg.advertise.iter().map(|a| a.mode).collect();
        let managed = modes.contains(&Some(Ipv6Mode::Dhcpv6Stateful));
        let other = managed || modes.contains(&Some(Ipv6Mode::Dhcpv6Stateless));
        let _ = writeln!(c, "interface {iface}\n{{");
        let _ = writeln!(c, "    AdvSendAdvert on;");
        let _ = writeln!(c, "    MinRtrAdvInterval 3;");
        let _ = writeln!(c, "    MaxRtrAdvInterval 10;");
        if let Some(mtu) = mtus.get(leg.network_id.as_str()) {
            let _ = writeln!(c, "    AdvLinkMTU {mtu};");
        }
        let _ = writeln!(c, "    AdvManagedFlag {};", on(managed));
        let _ = writeln!(c, "    AdvOtherConfigFlag {};", on(other));
        let mut dns: BTreeSet<&std::net::IpAddr> = BTreeSet::new();
        for a in &leg.advertise {
            dns.extend(a.dns_nameservers.iter().filter(|d| d.is_ipv6()));
            let Some(mode) = a.mode else { continue };
            let Ok(prefix) = a.cidr.parse::<ipnet::Ipv6Net>() else {
                continue;
            };
            let auto = matches!(mode, Ipv6Mode::Slaac | Ipv6Mode::Dhcpv6Stateless);
            let _ = writeln!(c, "    prefix {prefix}\n    {{");
            let _ = writeln!(c, "        AdvOnLink on;");
            let _ = writeln!(c, "        AdvAutonomous {};", on(auto));
            let _ = writeln!(c, "    }};");
        }
        if !dns.is_empty() {
            let dns: Vec<String> = dns.iter().map(ToString::to_string).collect();
            let _ = writeln!(c, "    RDNSS {}\n    {{\n    }};", dns.join(" "));
        }
        let _ = writeln!(c, "}};");
    }
    Ok((!c.is_empty()).then(|| {
        format!("# Written by the Virga agent; replaced whole when the plan changes.\n{c}")
    }))
}

/// Runs radvd in namespace `ns` with `conf`, or stops it when there is
/// nothing to advertise.
pub fn apply(host: &Host, ns: &str, dir: &Path, conf: Option<&str>) -> Result<(), NetplaneError> {
    let Some(conf) = conf else {
        stop(dir);
        return Ok(());
    };
    daemon::ensure_dir(dir)?;
    let changed = daemon::write(&dir.join("radvd.conf"), conf)?;
    match daemon::running(dir, RADVD) {
        Some(pid) if changed => {
            daemon::reload(pid);
            Ok(())
        }
        Some(_) => Ok(()),
        None => {
            let conf = dir.join("radvd.conf").display().to_string();
            let pid = dir.join("pid").display().to_string();
            let log = dir.join("log").display().to_string();
            // radvd forks into the background once its configuration is
            // read; logs to a file (no syslog on every node).
            host.run_in(
                Some(ns),
                RADVD,
                &["-C", &conf, "-p", &pid, "-m", "logfile", "-l", &log],
                None,
            )
            .map(|_| ())
        }
    }
}

/// Stops the router's radvd and forgets its files.
pub fn stop(dir: &Path) {
    daemon::stop(dir, RADVD);
    let _ = std::fs::remove_dir_all(dir);
}
