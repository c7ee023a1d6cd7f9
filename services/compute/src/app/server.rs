//! Servers: create (checked against the caller's view of flavors, images
//! and key pairs, within the project's quota, then built by the create
//! saga), show, list and delete (the delete saga).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use virga_common::Error;
use virga_policy::Target;
use virga_protocol::agent::AgentCommand;
use virga_service::ServiceContext;
use virga_service::auth::Auth;
use virga_service::peer::{self, As, Method};

use super::saga::{self, CREATE, DELETE, create, delete};
use super::server_input::{NetworkRequest, NewServer};
use super::server_state::{self, Action, power, task, vm};
use super::versions::Microversion;
use super::{flavor, key_pair, quota_set, server_group};
use crate::db::instance::{self, Model};
use crate::db::instance_action::{self, Asked};
use crate::db::{instance_saga, now};

pub const KIND: &str = "Instance";

pub fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

/// Nova's 404 for a server.
fn missing(id: &str) -> Error {
    Error::Missing {
        kind: KIND,
        message: format!("Instance {id} could not be found."),
    }
}

/// The server locked in `txn` (see [`instance::lock`]), unless it is
/// deleted: 404.
pub async fn lock_live(
    txn: &impl virga_db::sea_orm::ConnectionTrait,
    id: &str,
) -> Result<Model, Error> {
    instance::lock(txn, id)
        .await?
        .filter(|m| m.vm_state != vm::DELETED)
        .ok_or_else(|| missing(id))
}

/// The server, if the caller may see it (another project's: 404).
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    visible_as(ctx, auth, id, false).await
}

/// [`visible`], and a deleted one to its project too when `deleted` (its
/// instance actions from 2.21); admins see deleted ones always.
pub async fn visible_as(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    deleted: bool,
) -> Result<Model, Error> {
    let missing = || missing(id);
    let m = instance::find(ctx.db(), id).await?.ok_or_else(missing)?;
    if m.vm_state == vm::DELETED && !deleted && !flavor::is_admin(auth) {
        return Err(missing());
    }
    if !auth.allows("os_compute_api:servers:show", &target(&m.project_id)) {
        return Err(missing());
    }
    Ok(m)
}

/// Asks `node`'s agent `cmd` (a call: the console log, an NMI) and
/// waits up to 15 s for its answer.
pub async fn call_node(
    ctx: &ServiceContext,
    node: &str,
    cmd: &AgentCommand,
) -> Result<Value, virga_bus::BusError> {
    let (method, args) = virga_protocol::to_parts(cmd);
    ctx.bus()
        .call(
            &virga_protocol::agent::topic(node),
            &method,
            args,
            &virga_bus::Context::default(),
            std::time::Duration::from_secs(15),
        )
        .await
}

/// The request's id (`x-openstack-request-id`), the key of its instance
/// action.
pub fn request_id(auth: &Auth) -> String {
    auth.request_id().map_or_else(
        || virga_common::RequestId::new().to_string(),
        ToString::to_string,
    )
}

/// The caller asking `action` of the server `m` under `request_id`.
pub fn asked<'a>(auth: &'a Auth, m: &'a Model, request_id: &'a str, action: &'a str) -> Asked<'a> {
    Asked {
        instance: &m.id,
        request_id,
        action,
        user_id: auth.claims().user_id(),
        project_id: auth.claims().project_id().unwrap_or(&m.project_id),
    }
}

/// What a node needs of the image to build from it, as the caller saw
/// it, and the build (each rebuild makes the disk afresh).
pub fn seen_image(img: &Value, build: u64) -> Value {
    json!({
        "disk_format": img["disk_format"], "os_hash_value": img["os_hash_value"],
        "size": img["size"], "architecture": img["architecture"], "build": build,
    })
}

/// 400 unless the image is active and fits a flavor of `ram` MiB and a
/// root disk of `disk` GiB (0: the image's own size).
pub fn image_fits(img: &Value, id: &str, ram: i64, disk: i64) -> Result<(), Error> {
    if img["status"] != "active" {
        return Err(bad(format!("Image {id} is not active.")));
    }
    if img["min_ram"].as_i64().unwrap_or(0) > ram {
        return Err(bad("Flavor's memory is too small for requested image."));
    }
    let size_gb = img["size"].as_u64().unwrap_or(0).div_ceil(1 << 30);
    if disk > 0
        && (img["min_disk"].as_i64().unwrap_or(0) > disk
            || size_gb > u64::try_from(disk).unwrap_or(0))
    {
        return Err(bad("Flavor's disk is too small for requested image."));
    }
    Ok(())
}

fn bad(message: impl Into<String>) -> Error {
    Error::BadRequest(message.into())
}

/// The image as the caller sees it (Nova asks Glance with the user's token).
pub async fn image(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Value, Error> {
    let path = format!("/v2/images/{id}");
    let r = peer::call(
        ctx,
        As::Caller(auth),
        "image",
        Method::GET,
        &path,
        None,
        &[],
    )
    .await?;
    match r.status {
        200 => Ok(r.body),
        404 => Err(bad(format!("Image {id} could not be found."))),
        s => Err(Error::Unavailable(format!(
            "The image service answered {s}."
        ))),
    }
}

/// `path` at the network service as the caller sees it: its body, or
/// `missing` as a 400 when the caller sees no such thing.
async fn seen(
    ctx: &ServiceContext,
    auth: &Auth,
    path: &str,
    missing: String,
) -> Result<Value, Error> {
    let got = peer::call(
        ctx,
        As::Caller(auth),
        "network",
        Method::GET,
        path,
        None,
        &[],
    )
    .await?;
    match got.status {
        200 => Ok(got.body),
        404 => Err(bad(missing)),
        s => Err(Error::Unavailable(format!(
            "The network service answered {s}."
        ))),
    }
}

/// The security groups named (by name or id, as the caller sees its
/// project's): `[{id, name}]`. An unknown name is 400, one that names
/// several groups 409 (Nova's messages).
async fn security_groups(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    names: &[String],
) -> Result<Value, Error> {
    if names.is_empty() {
        return Ok(json!([]));
    }
    let path = format!("/v2.0/security-groups?project_id={project}");
    let all = seen(ctx, auth, &path, String::new()).await?;
    let all = all["security_groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in names {
        let found: Vec<&Value> = all
            .iter()
            .filter(|g| g["name"] == n.as_str() || g["id"] == n.as_str())
            .collect();
        match found.as_slice() {
            [] => {
                return Err(bad(format!(
                    "Security group {n} not found for project {project}."
                )));
            }
            [g] => out.push(json!({"id": g["id"], "name": g["name"]})),
            _ => {
                return Err(Error::Conflict(format!(
                    "Multiple security groups found matching '{n}'. Use an ID to be more specific."
                )));
            }
        }
    }
    Ok(json!(out))
}

/// The networks the server gets when none are asked for (Nova 2.1 with
/// Neutron): the one the project has (its own or, lacking those, a shared
/// one); none when there is none; 409 when it is ambiguous.
async fn available_network(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<Vec<NetworkRequest>, Error> {
    // One listing of what the caller sees, split as Nova's two queries are.
    let seen = seen(ctx, auth, "/v2.0/networks", String::new()).await?;
    let all = seen["networks"].as_array().cloned().unwrap_or_default();
    let own: Vec<&Value> = all
        .iter()
        .filter(|n| n["project_id"] == project && n["shared"] != true)
        .collect();
    let shared: Vec<&Value> = all.iter().filter(|n| n["shared"] == true).collect();
    let ids: Vec<&str> = own
        .iter()
        .chain(shared.iter())
        .filter_map(|n| n["id"].as_str())
        .collect();
    match ids.as_slice() {
        [] => Ok(vec![]),
        [one] => Ok(vec![NetworkRequest {
            uuid: Some((*one).to_owned()),
            port: None,
            fixed_ip: None,
        }]),
        _ => Err(Error::Conflict(
            "Multiple possible networks found, use a Network ID to be more specific.".into(),
        )),
    }
}

/// The networks and ports asked for, as the caller sees them (their own
/// and shared networks, their own unused ports); none asked: the one
/// available.
async fn check_networks(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    asked: Vec<NetworkRequest>,
    count: u32,
) -> Result<Vec<NetworkRequest>, Error> {
    if asked.is_empty() {
        return available_network(ctx, auth, project).await;
    }
    for r in &asked {
        if let Some(p) = &r.port {
            if count > 1 {
                return Err(bad(
                    "Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.",
                ));
            }
            let path = format!("/v2.0/ports/{p}");
            let port = seen(ctx, auth, &path, format!("Port id {p} could not be found.")).await?;
            if port["port"]["device_id"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
            {
                return Err(Error::Conflict(format!("Port {p} is still in use.")));
            }
        } else if let Some(n) = &r.uuid {
            let path = format!("/v2.0/networks/{n}");
            seen(ctx, auth, &path, format!("Network {n} could not be found.")).await?;
        }
    }
    Ok(asked)
}

/// The site an availability zone names.
async fn site(ctx: &ServiceContext, zone: &str) -> Result<String, Error> {
    super::site::find(ctx, zone)
        .await?
        .ok_or_else(|| bad("The requested availability zone is not available"))
}

/// How many of `per` fit under each limit beside `used`; the first
/// resource short of `want` names the 403.
/// The flavor as a server keeps it (a flavor changed or deleted later
/// does not change the server).
pub async fn flavor_doc(
    ctx: &ServiceContext,
    fl: &crate::db::flavor::Model,
) -> Result<Value, Error> {
    let specs = crate::db::flavor_extra_spec::of(ctx.db(), &fl.id).await?;
    Ok(json!({
        "id": fl.id, "name": fl.name, "vcpus": fl.vcpus, "ram": fl.memory_mb,
        "disk": fl.root_gb, "ephemeral": fl.ephemeral_gb, "swap": fl.swap,
        "extra_specs": specs,
    }))
}

/// The quotas a create counts against, in the order of `fitting`'s
/// usage and per-server amounts.
const COUNTED: [&str; 3] = ["instances", "cores", "ram"];

pub(crate) fn fitting(
    limits: &BTreeMap<String, i64>,
    used: (i64, i64, i64),
    per: (i64, i64, i64),
    want: (u32, u32),
) -> Result<u32, Error> {
    let mut n = want.1;
    for (name, used, per) in [
        (COUNTED[0], used.0, per.0),
        (COUNTED[1], used.1, per.1),
        (COUNTED[2], used.2, per.2),
    ] {
        let limit = limits.get(name).copied().unwrap_or(-1);
        if limit < 0 || per == 0 {
            continue;
        }
        let room = u32::try_from(((limit - used) / per).max(0)).unwrap_or(u32::MAX);
        if room < want.0 {
            return Err(Error::Forbidden(format!(
                "Quota exceeded for {name}: Requested {}, but already used {used} of {limit} {name}",
                i64::from(want.0) * per
            )));
        }
        n = n.min(room);
    }
    Ok(n)
}

/// What a create made: its servers and its reservation id.
pub struct Created {
    pub servers: Vec<Model>,
    pub reservation_id: String,
}

pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    mut new: NewServer,
) -> Result<Created, Error> {
    let project = auth
        .claims()
        .project_id()
        .ok_or_else(|| Error::Forbidden("A project-scoped token is required.".into()))?
        .to_owned();
    auth.enforce("os_compute_api:servers:create", &target(&project))?;
    let fl = flavor::visible(ctx, auth, &new.flavor_ref)
        .await
        .map_err(|_| bad(format!("Flavor {} could not be found.", new.flavor_ref)))?;
    if fl.disabled {
        return Err(bad("Flavor is disabled."));
    }
    let img = image(ctx, auth, &new.image_ref).await?;
    image_fits(
        &img,
        &new.image_ref,
        i64::from(fl.memory_mb),
        i64::from(fl.root_gb),
    )?;
    let key = match &new.key_name {
        Some(k) => Some(
            key_pair::get(ctx, auth, k, None)
                .await
                .map_err(|_| bad("Invalid key_name provided."))?,
        ),
        None => None,
    };
    if let Some(g) = &new.group {
        server_group::get(ctx, auth, g)
            .await
            .map_err(|_| bad(format!("Invalid server group {g}")))?;
    }
    let wanted = std::mem::take(&mut new.networks);
    let networks = check_networks(ctx, auth, &project, wanted, new.max_count).await?;
    let groups = security_groups(ctx, auth, &project, &new.security_groups).await?;
    let site = match &new.availability_zone {
        Some(z) => Some(site(ctx, z).await?),
        None => None,
    };
    let flavor_doc = flavor_doc(ctx, &fl).await?;
    let limits = quota_set::limits(ctx, &project).await?;
    let per = (1, i64::from(fl.vcpus), i64::from(fl.memory_mb));
    // A project without limits has nothing to count (a sum over all its
    // servers, twice per create).
    let limited = COUNTED
        .iter()
        .any(|k| limits.get(*k).is_some_and(|l| *l >= 0));
    let used = if limited {
        instance::usage(ctx.db(), &project).await?
    } else {
        (0, 0, 0)
    };
    let n = fitting(&limits, used, per, (new.min_count, new.max_count))?;
    let reservation_id = format!("r-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let at = now();
    let deadline = at
        + chrono::Duration::seconds(
            i64::try_from(ctx.config().compute.build_timeout_secs).unwrap_or(i64::MAX),
        );
    let request_id = request_id(auth);
    let start = json!({ "site": site, "request_id": request_id, "near": new.near });
    let seen = seen_image(&img, 0).to_string();
    let mut servers = Vec::new();
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    for i in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let name = if n > 1 {
            format!("{}-{}", new.name, i + 1)
        } else {
            new.name.clone()
        };
        let m = instance::insert(
            &txn,
            Model {
                id: id.clone(),
                project_id: project.clone(),
                user_id: auth.claims().user_id().to_owned(),
                name,
                description: new.description.clone(),
                reservation_id: reservation_id.clone(),
                launch_index: i32::try_from(i).unwrap_or(0),
                flavor_id: fl.id.clone(),
                flavor: flavor_doc.to_string(),
                vcpus: fl.vcpus,
                memory_mb: i64::from(fl.memory_mb),
                root_gb: fl.root_gb,
                image_id: new.image_ref.clone(),
                image: seen.clone(),
                key_name: key.as_ref().map(|k| k.name.clone()),
                key_data: key.as_ref().map(|k| k.public_key.clone()),
                user_data: new.user_data.clone(),
                metadata: json!(new.metadata).to_string(),
                networks: json!(networks).to_string(),
                network_info: "[]".into(),
                security_groups: groups.to_string(),
                availability_zone: new.availability_zone.clone(),
                server_group_id: new.group.clone(),
                node_id: None,
                site_id: None,
                vm_state: vm::BUILDING.into(),
                task_state: Some(task::SCHEDULING.into()),
                power_state: power::NOSTATE,
                generation: 0,
                locked: false,
                locked_by: None,
                locked_reason: None,
                fault: None,
                created_at: at,
                updated_at: at,
                launched_at: None,
                deleted_at: None,
            },
        )
        .await?;
        if let Some(g) = &new.group {
            crate::db::server_group::add_member(&txn, g, &id).await?;
        }
        instance_saga::put(
            &txn,
            saga::row(&id, CREATE, create::CLAIM, start.clone(), deadline),
        )
        .await?;
        let asked = asked(auth, &m, &request_id, "create");
        instance_action::start(&txn, &asked, Some(create::EVENT), None, false).await?;
        servers.push(m);
    }
    // Rechecked with the rows in: a concurrent create may have taken room.
    if limited {
        let now_used = instance::usage(&txn, &project).await?;
        let before = (
            now_used.0 - i64::from(n),
            now_used.1 - i64::from(n) * per.1,
            now_used.2 - i64::from(n) * per.2,
        );
        fitting(&limits, before, per, (n, n))?;
    }
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(reservation = %reservation_id, servers = n, "servers accepted");
    let ids: Vec<String> = servers.iter().map(|m| m.id.clone()).collect();
    saga::fresh(ctx, &ids);
    saga::kick(ctx, ids);
    Ok(Created {
        servers,
        reservation_id,
    })
}

/// Deletes the server: the delete saga takes over from whatever it was
/// under; a server already being deleted is left to that.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("os_compute_api:servers:delete", &target(&m.project_id))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let mut m = lock_live(&txn, id).await?;
    server_state::check_lock(&m, flavor::is_admin(auth))?;
    server_state::check(&m, Action::Delete)?;
    if m.task_state.as_deref() == Some(task::DELETING) {
        return Ok(());
    }
    m.task_state = Some(task::DELETING.into());
    m.updated_at = now();
    let rid = request_id(auth);
    let asked = asked(auth, &m, &rid, "delete");
    instance_action::start(
        &txn,
        &asked,
        Some(delete::EVENT),
        m.node_id.as_deref(),
        false,
    )
    .await?;
    instance::update(&txn, m).await?;
    instance_saga::put(
        &txn,
        saga::row(
            id,
            DELETE,
            delete::DESTROY,
            json!({"request_id": rid}),
            saga::never(),
        ),
    )
    .await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(instance = %id, "server delete accepted");
    saga::kick(ctx, vec![id.to_owned()]);
    Ok(())
}

/// Renames the server (Nova's 2.1 update: `name`; the access addresses
/// and disk config are accepted and not kept, as Virga has none).
/// Renames a server (2.19: or describes it; a `null` description clears
/// it).
pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: &Value,
    at: Microversion,
) -> Result<Model, Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("os_compute_api:servers:update", &target(&m.project_id))?;
    let mut keys = vec!["name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"];
    keys.extend(at.at_least(19).then_some("description"));
    let o = super::input::object(body, "server", &keys)?;
    let name = o
        .get("name")
        .map(|n| super::input::name("name", n))
        .transpose()?;
    let description = o
        .get("description")
        .map(super::input::description)
        .transpose()?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let mut m = lock_live(&txn, id).await?;
    if let Some(n) = name {
        m.name = n;
        m.updated_at = now();
    }
    if let Some(d) = description {
        m.description = d;
        m.updated_at = now();
    }
    let m = instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    Ok(m)
}

/// A listing's query, as given.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub all_tenants: bool,
    pub project_id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub changes_since: Option<String>,
    pub deleted: bool,
    pub limit: Option<String>,
    pub marker: Option<String>,
    /// Only those on this site (its uuid).
    pub site: Option<String>,
}

/// The caller's servers (admins: `all_tenants`), newest first, a page.
pub async fn list(ctx: &ServiceContext, auth: &Auth, q: &ListQuery) -> Result<Vec<Model>, Error> {
    let admin = flavor::is_admin(auth);
    let own = auth.claims().project_id().map(str::to_owned);
    let project = match (admin && q.all_tenants, &q.project_id) {
        (true, p) => p.clone(),
        (false, Some(p)) if admin => Some(p.clone()),
        _ => Some(
            own.clone()
                .ok_or_else(|| Error::Forbidden("A project-scoped token is required.".into()))?,
        ),
    };
    if let Some(p) = &project {
        auth.enforce("os_compute_api:servers:index", &target(p))?;
    }
    let mut f = instance::Filter {
        project,
        include_deleted: admin && q.deleted,
        site: q.site.clone(),
        ..Default::default()
    };
    if let Some(s) = &q.status {
        let states = server_state::vm_states_of(s).unwrap_or(&[]);
        f.vm_states = states.iter().map(|s| (*s).to_owned()).collect();
        if f.vm_states.is_empty() {
            return Ok(vec![]);
        }
    }
    if let Some(c) = &q.changes_since {
        let t = chrono::DateTime::parse_from_rfc3339(c)
            .map(|t| t.with_timezone(&chrono::Utc))
            .or_else(|_| {
                chrono::NaiveDateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.f")
                    .map(|t| t.and_utc())
            })
            .map_err(|_| bad(format!("Invalid input for query parameters changes-since. Value: {c}. '{c}' is not a 'date-time'")))?;
        f.changed_since = Some(t);
        f.include_deleted = true;
        f.vm_states.clear();
    }
    if let Some(m) = &q.marker {
        let row = visible(ctx, auth, m)
            .await
            .map_err(|_| bad(format!("marker [{m}] not found")))?;
        f.after = Some((row.created_at, row.id));
    }
    let limit = match &q.limit {
        None => 1000,
        Some(l) => l
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("limit param must be positive"))?
            .min(1000),
    };
    let Some(name) = &q.name else {
        return instance::list(ctx.db(), &f, limit).await;
    };
    // Nova's name filter is a regular expression, searched, any case;
    // matched here, page after page, until the page is full.
    let re = regex::RegexBuilder::new(name)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|_| {
            bad(format!(
                "Invalid input for query parameters name. Value: {name}."
            ))
        })?;
    let mut out = Vec::new();
    loop {
        let rows = instance::list(ctx.db(), &f, 1000).await?;
        let Some(last) = rows.last() else {
            return Ok(out);
        };
        f.after = Some((last.created_at, last.id.clone()));
        let last_page = rows.len() < 1000;
        out.extend(rows.into_iter().filter(|m| re.is_match(&m.name)));
        if out.len() as u64 >= limit {
            out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            return Ok(out);
        }
        if last_page {
            return Ok(out);
        }
    }
}
