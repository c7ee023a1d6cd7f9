//! A network's dnsmasq configuration, written from its DHCP plan: DHCPv4
//! and DHCPv6 answer only the hosts the plan names (`static` ranges), with
//! the addresses the network service allocated; IPv6 subnets get router
//! advertisements for SLAAC and stateless DHCPv6 (with a router lifetime of
//! 0: the DHCP server is not the subnet's router). No DNS service (port 0):
//! guests get the subnet's name servers.

use std::fmt::Write;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use virga_protocol::network::{DhcpPlan, DhcpSubnet, Ipv6Mode};

/// How long a lease lasts; hosts are static, so renewals always succeed.
const LEASE: &str = "86400s";

/// A subnet's prefix (`None` for what is not one: left out).
fn network(cidr: &str) -> Option<IpNet> {
    cidr.parse::<IpNet>().ok()
}

fn in_subnet(ip: IpAddr, s: &DhcpSubnet) -> bool {
    network(&s.cidr).is_some_and(|n| n.contains(&ip))
}

/// `dnsmasq.conf` for the server on `iface`, keeping its files in `dir`.
pub fn config(dir: &Path, iface: &str, plan: &DhcpPlan, mtu: u32) -> String {
    let mut c = String::new();
    let dir = dir.display();
    let _ = writeln!(
        c,
        "# Written by the Virga agent; replaced whole when the plan changes."
    );
    for line in [
        "no-resolv",
        "no-hosts",
        "no-poll",
        "port=0",
        "bind-interfaces",
        "except-interface=lo",
        "dhcp-authoritative",
        "leasefile-ro",
    ] {
        let _ = writeln!(c, "{line}");
    }
    let _ = writeln!(c, "interface={iface}");
    let _ = writeln!(c, "dhcp-hostsfile={dir}/hosts");
    let _ = writeln!(c, "log-facility={dir}/log");
    let mut ra = false;
    for (i, s) in plan.subnets.iter().enumerate() {
        let Some(prefix) = network(&s.cidr) else {
            continue;
        };
        let (net, len) = (prefix.addr(), prefix.prefix_len());
        let tag = format!("s{i}");
        match net {
            IpAddr::V4(_) => {
                let _ = writeln!(
                    c,
                    "dhcp-range=set:{tag},{net},static,{},{LEASE}",
                    prefix.netmask()
                );
                match s.gateway {
                    Some(gw) => {
                        let _ = writeln!(c, "dhcp-option=tag:{tag},option:router,{gw}");
                    }
                    None => {
                        let _ = writeln!(c, "dhcp-option=tag:{tag},option:router");
                    }
                }
                if !s.host_routes.is_empty() {
                    // With classless routes, clients ignore the router
                    // option (RFC 3442): the default route goes in too.
                    let mut routes: Vec<String> = s
                        .host_routes
                        .iter()
                        .filter(|r| network(&r.destination).is_some())
                        .map(|r| format!("{},{}", r.destination, r.nexthop))
                        .collect();
                    if let Some(gw) = s.gateway {
                        routes.push(format!("0.0.0.0/0,{gw}"));
                    }
                    let _ = writeln!(
                        c,
                        "dhcp-option=tag:{tag},option:classless-static-route,{}",
                        routes.join(",")
                    );
                }
                let dns: Vec<String> = s
                    .dns_nameservers
                    .iter()
                    .filter(|d| d.is_ipv4())
                    .map(IpAddr::to_string)
                    .collect();
                if !dns.is_empty() {
                    let _ = writeln!(
                        c,
                        "dhcp-option=tag:{tag},option:dns-server,{}",
                        dns.join(",")
                    );
                }
                let _ = writeln!(c, "dhcp-option-force=tag:{tag},option:mtu,{mtu}");
            }
            IpAddr::V6(_) => {
                let mode = match s.ipv6_mode {
                    Some(Ipv6Mode::Slaac) => "ra-only",
                    Some(Ipv6Mode::Dhcpv6Stateless) => "ra-stateless",
                    Some(Ipv6Mode::Dhcpv6Stateful) => "static",
                    // No mode: addresses come from outside OpenStack.
                    None => continue,
                };
                ra = true;
                let _ = writeln!(c, "dhcp-range=set:{tag},{net},{mode},{len},{LEASE}");
                let dns: Vec<String> = s
                    .dns_nameservers
                    .iter()
                    .filter(|d| d.is_ipv6())
                    .map(|d| format!("[{d}]"))
                    .collect();
                if !dns.is_empty() {
                    let _ = writeln!(
                        c,
                        "dhcp-option=tag:{tag},option6:dns-server,{}",
                        dns.join(",")
                    );
                }
            }
        }
    }
    if ra {
        let _ = writeln!(c, "enable-ra");
        // MTU, 10 s between advertisements, router lifetime 0.
        let _ = writeln!(c, "ra-param={iface},mtu:{mtu},10,0");
    }
    c
}

/// The hosts file: each port's MAC with its IPv4 address and its
/// DHCPv6-stateful address (SLAAC addresses the guest forms itself).
pub fn hosts(plan: &DhcpPlan) -> String {
    let mut out = String::new();
    for h in plan
        .hosts
        .iter()
        .filter(|h| virga_common::mac::parse(&h.mac).is_some())
    {
        let served = |ip: &IpAddr| {
            plan.subnets.iter().any(|s| {
                in_subnet(*ip, s) && (ip.is_ipv4() || s.ipv6_mode == Some(Ipv6Mode::Dhcpv6Stateful))
            })
        };
        let mut fields = vec![h.mac.to_ascii_lowercase()];
        if let Some(v4) = h.ips.iter().find(|ip| ip.is_ipv4() && served(ip)) {
            fields.push(v4.to_string());
        }
        if let Some(v6) = h.ips.iter().find(|ip| ip.is_ipv6() && served(ip)) {
            fields.push(format!("[{v6}]"));
        }
        if fields.len() == 1 {
            continue;
        }
        if let Some(name) = h.hostname.as_deref().filter(|n| {
            !n.is_empty()
                && n.len() <= 63
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }) {
            fields.push(name.to_owned());
        }
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}
