//! The `ensure` a server's node is sent: the whole desired state (spec,
//! image and where to fetch it, ports, power), rebuilt from the server's
//! record for every change, since an agent applies desired states, not
//! steps.

use serde_json::Value;
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, ImageRef, ImageSource, InstanceSpec, PortSpec, Power};
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use crate::db::instance;

/// The image as the node's cache knows it: what the caller saw (`seen`:
/// the service's own user may not see a private image) and where the
/// node may fetch it now.
async fn image_ref(ctx: &ServiceContext, id: &str, seen: &Value) -> Result<ImageRef, Error> {
    let path = format!("/v2/images/{id}/locations");
    let locs = peer::call(ctx, As::Service, "image", Method::GET, &path, None, &[]).await?;
    let sources = match locs.status {
        200 => locs
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(ImageSource {
                    store: l["metadata"]["store"].as_str()?.to_owned(),
                    url: l["url"].as_str()?.to_owned(),
                })
            })
            .collect(),
        // Deleted since: a node that holds it still builds from its cache.
        404 => vec![],
        s => {
            return Err(Error::Unavailable(format!(
                "the image service answered {s}"
            )));
        }
    };
    Ok(ImageRef {
        id: id.to_owned(),
        disk_format: seen["disk_format"].as_str().unwrap_or("raw").to_owned(),
        sha256: seen["os_hash_value"].as_str().map(str::to_owned),
        arch: seen["architecture"].as_str().map(str::to_owned),
        size: seen["size"].as_u64(),
        sources,
    })
}

/// The `ensure` for the server as its record stands, at `generation`.
pub async fn ensure(
    ctx: &ServiceContext,
    server: &instance::Model,
    generation: i64,
    power: Power,
) -> Result<AgentCommand, Error> {
    let seen: Value = serde_json::from_str(&server.image).unwrap_or(Value::Null);
    // A moved server's disk came from the image it travelled in.
    let image = match seen["disk"]["id"].as_str() {
        Some(disk) => {
            let mut r = image_ref(ctx, disk, &seen["disk"]).await?;
            r.arch = seen["architecture"].as_str().map(str::to_owned);
            r
        }
        None => image_ref(ctx, &server.image_id, &seen).await?,
    };
    let ports: Vec<Value> = serde_json::from_str(&server.network_info).unwrap_or_default();
    let spec = InstanceSpec {
        uuid: server.id.clone(),
        name: server.name.clone(),
        vcpus: u32::try_from(server.vcpus).unwrap_or(1),
        memory_mb: u64::try_from(server.memory_mb).unwrap_or(0),
        disk_gb: u64::try_from(server.root_gb).unwrap_or(0),
        image,
        ports: ports
            .iter()
            .map(|p| PortSpec {
                id: p["id"].as_str().unwrap_or_default().to_owned(),
                mac: p["mac"].as_str().unwrap_or_default().to_owned(),
                bridge: p["bridge"].as_str().map(str::to_owned),
            })
            .collect(),
        metadata: serde_json::from_str(&server.metadata).unwrap_or_default(),
        user_data: server.user_data.clone(),
        build: seen["build"].as_u64().unwrap_or(0),
    };
    Ok(AgentCommand::Ensure {
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        generation: u64::try_from(generation).unwrap_or(0),
        spec: Box::new(spec),
        power,
    })
}
