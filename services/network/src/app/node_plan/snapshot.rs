//! What plans are made from, read in the sync's transaction: the known
//! nodes, the ports that nodes carry (bound guest ports, DHCP ports, the
//! ports of routers and floating IPs) with their networks, subnets,
//! addresses and security groups, routers and floating IPs.
//!
//! It reads whole tables: simple and consistent, and fine for the
//! thousands of ports of an edge deployment; a sync per change of many
//! thousands would want incremental plans.

use std::collections::{BTreeSet, HashMap};

use virga_common::Error;
use virga_db::sea_orm::sea_query::ExprTrait;
use virga_db::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::{
    floating_ip, internal, ip_allocation, network, network_node, port, router, security_group,
    security_group_rule, subnet,
};

/// Group members' addresses by (group, IPv6?).
pub type Members = HashMap<(String, bool), Vec<String>>;

pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub networks: HashMap<String, network::Model>,
    pub subnets: HashMap<String, subnet::Model>,
    /// Ports bound to a node or owned by the network service.
    pub ports: Vec<port::Model>,
    /// Port id → (subnet id, address).
    pub ips: HashMap<String, Vec<(String, String)>>,
    /// Port id → its security groups.
    pub port_groups: HashMap<String, Vec<String>>,
    /// Security group id → its rules.
    pub rules: HashMap<String, Vec<security_group_rule::Model>>,
    pub routers: Vec<router::Model>,
    /// Port id → (router id, port type).
    pub router_ports: HashMap<String, (String, String)>,
    pub floating_ips: Vec<floating_ip::Model>,
}

/// A node as plans need it.
pub struct Node {
    pub node_id: String,
    pub tunnel_ip: Option<String>,
    pub physical_networks: Vec<String>,
}

impl Snapshot {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Snapshot, Error> {
        let mut nodes: Vec<Node> = network_node::all(db)
            .await?
            .into_iter()
            .map(|n| Node {
                physical_networks: serde_json::from_str(&n.physical_networks).unwrap_or_default(),
                node_id: n.node_id,
                tunnel_ip: n.tunnel_ip,
            })
            .collect();
        nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        let ports: Vec<port::Model> = port::Entity::find()
            .filter(
                port::Column::BindingHostId
                    .ne("")
                    .or(port::Column::DeviceOwner.starts_with("network:")),
            )
            .all(db)
            .await
            .map_err(internal)?;
        let ids: Vec<String> = ports.iter().map(|p| p.id.clone()).collect();
        let mut ips: HashMap<String, Vec<(String, String)>> = ip_allocation::of_ports(db, &ids)
            .await?
            .into_iter()
            .map(|(port, held)| {
                let pairs = held.into_iter().map(|a| (a.subnet_id, a.ip_address));
                (port, pairs.collect())
            })
            .collect();
        let port_groups: HashMap<String, Vec<String>> = security_group::of_ports(db, &ids)
            .await?
            .into_iter()
            .collect();
        let groups: BTreeSet<String> = port_groups.values().flatten().cloned().collect();
        let groups: Vec<String> = groups.into_iter().collect();
        let mut rules: HashMap<String, Vec<security_group_rule::Model>> =
            security_group_rule::of_groups(db, &groups)
                .await?
                .into_iter()
                .collect();
        for list in rules.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let networks = network::Entity::find()
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        let subnets = subnet::Entity::find()
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let mut routers = router::Entity::find().all(db).await.map_err(internal)?;
        routers.sort_by(|a, b| a.id.cmp(&b.id));
        let router_ports = router::port::Entity::find()
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|p| (p.port_id, (p.router_id, p.port_type)))
            .collect();
        let mut floating_ips = floating_ip::Entity::find()
            .all(db)
            .await
            .map_err(internal)?;
        floating_ips.sort_by(|a, b| a.id.cmp(&b.id));
        let mut ports = ports;
        ports.sort_by(|a, b| a.id.cmp(&b.id));
        for list in ips.values_mut() {
            list.sort();
        }
        Ok(Snapshot {
            nodes,
            networks,
            subnets,
            ports,
            ips,
            port_groups,
            rules,
            routers,
            router_ports,
            floating_ips,
        })
    }

    /// A router's ports: its interfaces, and its gateway when asked.
    pub fn router_legs<'a>(
        &'a self,
        router_id: &'a str,
        with_gateway: bool,
    ) -> impl Iterator<Item = &'a port::Model> + 'a {
        self.ports.iter().filter(move |p| {
            self.router_ports.get(&p.id).is_some_and(|(r, kind)| {
                r == router_id && (with_gateway || kind != router::GATEWAY)
            })
        })
    }

    /// Every security group's members' addresses, by group and IP
    /// version (`true`: IPv6), sorted: made once per plan build, not once
    /// per rule.
    pub fn members(&self) -> Members {
        let mut out: Members = HashMap::new();
        for (port, groups) in &self.port_groups {
            for (_, ip) in self.ips.get(port).into_iter().flatten() {
                for g in groups {
                    out.entry((g.clone(), ip.contains(':')))
                        .or_default()
                        .push(ip.clone());
                }
            }
        }
        for list in out.values_mut() {
            list.sort();
            list.dedup();
        }
        out
    }
}
