//! The `[network]` section: the segments tenant networks get, the
//! physical networks provider networks may use, MTUs and Neutron's
//! per-subnet limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// The VXLAN ids (VNIs) tenant networks are given, inclusive.
    pub vxlan_vni_min: i32,
    pub vxlan_vni_max: i32,
    /// The physical networks (a bridge or NIC on every node of that name)
    /// that `flat` and `vlan` provider networks may name.
    pub physical_networks: Vec<String>,
    /// The MTU of the physical networks; a VXLAN network's is 50 less.
    pub physical_mtu: i32,
    /// DNS servers a subnet may list (Neutron's `max_dns_nameservers`).
    pub max_dns_nameservers: usize,
    /// Host routes a subnet may list (Neutron's `max_subnet_host_routes`).
    pub max_subnet_host_routes: usize,
    /// The first three bytes of the MACs ports are given.
    pub base_mac: String,
    /// What a project may own when no admin set its quota; -1 unlimited.
    pub quota: NetworkQuotaConfig,
}

/// Neutron's default quotas.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkQuotaConfig {
    pub network: i64,
    pub subnet: i64,
    pub port: i64,
    pub security_group: i64,
    pub security_group_rule: i64,
    pub router: i64,
    pub floatingip: i64,
}

impl Default for NetworkQuotaConfig {
    fn default() -> Self {
        NetworkQuotaConfig {
            network: 100,
            subnet: 100,
            port: 500,
            security_group: 10,
            security_group_rule: 100,
            router: 10,
            floatingip: 50,
        }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            vxlan_vni_min: 1,
            vxlan_vni_max: 16_777_215,
            physical_networks: vec!["physnet1".into()],
            physical_mtu: 1500,
            max_dns_nameservers: 5,
            max_subnet_host_routes: 20,
            base_mac: "fa:16:3e".into(),
            quota: NetworkQuotaConfig::default(),
        }
    }
}

impl NetworkConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if !(1 <= self.vxlan_vni_min
            && self.vxlan_vni_min <= self.vxlan_vni_max
            && self.vxlan_vni_max <= 16_777_215)
        {
            return Err((
                "network.vxlan_vni_min".into(),
                "the VNI range must lie in 1..=16777215 with min <= max".into(),
            ));
        }
        if !(576..=65535).contains(&self.physical_mtu) {
            return Err((
                "network.physical_mtu".into(),
                "must be between 576 and 65535".into(),
            ));
        }
        let bytes: Vec<&str> = self.base_mac.split(':').collect();
        let hex = |b: &&str| b.len() == 2 && u8::from_str_radix(b, 16).is_ok();
        if bytes.len() != 3 || !bytes.iter().all(hex) {
            return Err((
                "network.base_mac".into(),
                "must be three hex bytes, like fa:16:3e".into(),
            ));
        }
        if u8::from_str_radix(bytes[0], 16).unwrap_or(1) & 1 == 1 {
            return Err((
                "network.base_mac".into(),
                "must be a unicast prefix (the first byte even)".into(),
            ));
        }
        let q = &self.quota;
        for (k, v) in [
            ("network", q.network),
            ("subnet", q.subnet),
            ("port", q.port),
            ("security_group", q.security_group),
            ("security_group_rule", q.security_group_rule),
            ("router", q.router),
            ("floatingip", q.floatingip),
        ] {
            if v < -1 {
                return Err((
                    format!("network.quota.{k}"),
                    "must be -1 (unlimited) or more".into(),
                ));
            }
        }
        if let Some(bad) = self
            .physical_networks
            .iter()
            .find(|p| p.is_empty() || p.len() > 64)
        {
            return Err((
                "network.physical_networks".into(),
                format!("'{bad}' must be 1 to 64 characters"),
            ));
        }
        Ok(())
    }
}
