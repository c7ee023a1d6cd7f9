//! Ports that routers and floating IPs own: made inside their owner's
//! transaction, and changed only through their owner.

use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_service::ServiceContext;

use super::attrs::{random_mac, show_mac};
use super::{PortDoc, docs, ip_key};
use crate::app::fixed_ips::{self, IpRequest};
use crate::db::now;
use crate::db::port::{self, Model};

/// A port a router or a floating IP owns, made inside the caller's
/// transaction (which checked what needs checking): no security groups,
/// no port security, no quota of the project's own.
pub(crate) async fn create_owned(
    db: &impl ConnectionTrait,
    ctx: &ServiceContext,
    network_id: &str,
    project: &str,
    device_owner: &str,
    device_id: &str,
    requests: Option<&[IpRequest]>,
) -> Result<PortDoc, Error> {
    let at = now();
    let mut m = Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project.to_owned(),
        name: String::new(),
        description: String::new(),
        created_at: at,
        updated_at: at,
        revision_number: 0,
        network_id: network_id.to_owned(),
        mac_address: String::new(),
        admin_state_up: true,
        status: "DOWN".into(),
        device_id: device_id.to_owned(),
        device_owner: device_owner.to_owned(),
        port_security_enabled: false,
        binding_host_id: String::new(),
        binding_vnic_type: "normal".into(),
        binding_profile: "{}".into(),
        allowed_address_pairs: "[]".into(),
    };
    let mut mac = [0u8; 6];
    for attempt in 0.. {
        mac = random_mac(&ctx.config().network.base_mac)?;
        m.mac_address = show_mac(mac);
        match port::insert(db, m.clone()).await? {
            port::Inserted::Yes => break,
            port::Inserted::NoNetwork => return Err(Error::not_found("Network", network_id)),
            port::Inserted::MacTaken if attempt < 16 => continue,
            port::Inserted::MacTaken => {
                return Err(Error::Unavailable("No free MAC address was found.".into()));
            }
        }
    }
    let router = device_owner.starts_with("network:router");
    let mut ips = fixed_ips::take(db, network_id, &m.id, mac, requests, &[], router).await?;
    ips.sort_by_key(|(_, ip)| ip_key(ip));
    Ok(PortDoc {
        model: m,
        fixed_ips: ips,
        security_groups: Vec::new(),
    })
}

/// The ports by id, with their addresses (for routers' and floating IPs'
/// views).
pub(crate) async fn docs_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<PortDoc>, Error> {
    docs(db, port::find_many(db, ids).await?).await
}

/// Owners whose ports only their owner's API changes.
pub const SERVICE_OWNERS: &[&str] = &[
    crate::db::router::INTERFACE,
    crate::db::router::GATEWAY,
    "network:floatingip",
];
