//! Flavors: who sees which (public ones, and private ones shared with the
//! caller's project; admins all), listing with Nova's filters, sorting
//! and paging, and the admin-only create and delete.

use std::cmp::Ordering;

use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::input;
use crate::db::flavor::{self, Filter, Model, Taken, Visibility};
use crate::db::{flavor_access, now};

pub const KIND: &str = "Flavor";
/// The most items a page holds (Nova's `[api] max_limit`).
pub const MAX_LIMIT: usize = 1000;

/// Whether the caller is a cloud admin (sees every flavor).
pub fn is_admin(auth: &Auth) -> bool {
    auth.allows("context_is_admin", &Target::new())
}

/// The flavor, if the caller may see it; else 404.
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = flavor::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    if m.is_public || is_admin(auth) {
        return Ok(m);
    }
    match auth.claims().project_id() {
        Some(p) if flavor_access::has(ctx.db(), id, p).await? => Ok(m),
        _ => Err(Error::not_found(KIND, id)),
    }
}

/// A listing's query, as given.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub is_public: Option<String>,
    pub min_ram: Option<String>,
    pub min_disk: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub limit: Option<String>,
    pub marker: Option<String>,
}

impl ListQuery {
    /// From query pairs (the last of a repeated one counts; others are
    /// ignored, as Nova does before 2.75).
    pub fn from_pairs(pairs: &[(String, String)]) -> ListQuery {
        let mut q = ListQuery::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "is_public" => &mut q.is_public,
                "minRam" => &mut q.min_ram,
                "minDisk" => &mut q.min_disk,
                "sort_key" => &mut q.sort_key,
                "sort_dir" => &mut q.sort_dir,
                "limit" => &mut q.limit,
                "marker" => &mut q.marker,
                _ => continue,
            };
            *slot = Some(v.clone());
        }
        q
    }
}

fn min_filter(name: &str, v: &Option<String>) -> Result<Option<i32>, Error> {
    v.as_deref()
        .map(|s| {
            s.parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Error::BadRequest(format!("Invalid {name} filter [{s}]")))
        })
        .transpose()
}

/// The page size asked for (at most [`MAX_LIMIT`]).
pub fn limit(v: &Option<String>) -> Result<usize, Error> {
    let Some(s) = v else { return Ok(MAX_LIMIT) };
    let n: i64 = s
        .parse()
        .map_err(|_| Error::BadRequest("limit param must be an integer".into()))?;
    if n < 0 {
        return Err(Error::BadRequest("limit param must be positive".into()));
    }
    Ok(if n == 0 {
        MAX_LIMIT
    } else {
        (n as usize).min(MAX_LIMIT)
    })
}

type Compare = fn(&Model, &Model) -> Ordering;

/// The order a `sort_key` names; `None` for one Nova does not sort by.
fn sort_key(key: &str) -> Option<Compare> {
    Some(match key {
        "flavorid" => |a, b| a.id.cmp(&b.id),
        // Nova's internal id: the order flavors were made in.
        "id" | "created_at" => |a, b| a.created_at.cmp(&b.created_at),
        "updated_at" => |a, b| a.updated_at.cmp(&b.updated_at),
        "name" => |a, b| a.name.cmp(&b.name),
        "memory_mb" => |a, b| a.memory_mb.cmp(&b.memory_mb),
        "vcpus" => |a, b| a.vcpus.cmp(&b.vcpus),
        "root_gb" => |a, b| a.root_gb.cmp(&b.root_gb),
        "ephemeral_gb" => |a, b| a.ephemeral_gb.cmp(&b.ephemeral_gb),
        "swap" => |a, b| a.swap.cmp(&b.swap),
        "rxtx_factor" => |a, b| a.rxtx_factor.total_cmp(&b.rxtx_factor),
        "is_public" => |a, b| a.is_public.cmp(&b.is_public),
        "disabled" => |a, b| a.disabled.cmp(&b.disabled),
        "description" => |a, b| a.description.cmp(&b.description),
        _ => return None,
    })
}

/// One page of the flavors the caller may list, and whether it is full
/// (then a next link follows).
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    q: &ListQuery,
) -> Result<(Vec<Model>, usize), Error> {
    let project = auth.claims().project_id().map(str::to_owned);
    let (visibility, enabled_only) = if is_admin(auth) {
        let v = match q
            .is_public
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Visibility::PublicOr(project),
            Some("none") => Visibility::All,
            Some(s) => match input::boolean("is_public", &Value::String(s.into())) {
                Ok(true) => Visibility::PublicOr(project),
                Ok(false) => Visibility::Private,
                Err(_) => {
                    return Err(Error::BadRequest(format!("Invalid is_public filter [{s}]")));
                }
            },
        };
        (v, false)
    } else {
        (Visibility::PublicOr(project), true)
    };
    let filter = Filter {
        visibility,
        min_ram: min_filter("minRam", &q.min_ram)?,
        min_disk: min_filter("minDisk", &q.min_disk)?,
        enabled_only,
    };
    let desc = match q.sort_dir.as_deref().unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(Error::BadRequest(
                "Unknown sort direction, must be 'desc' or 'asc'".into(),
            ));
        }
    };
    let compare = sort_key(q.sort_key.as_deref().unwrap_or("flavorid"))
        .ok_or_else(|| Error::BadRequest("Sort key supplied is invalid.".into()))?;
    let limit = limit(&q.limit)?;
    let mut rows = flavor::list(ctx.db(), &filter).await?;
    rows.sort_by(|a, b| {
        let o = compare(a, b);
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| a.id.cmp(&b.id))
    });
    let start = match &q.marker {
        Some(m) => {
            rows.iter()
                .position(|f| &f.id == m)
                .ok_or_else(|| Error::BadRequest(format!("marker [{m}] not found")))?
                + 1
        }
        None => 0,
    };
    Ok((rows.into_iter().skip(start).take(limit).collect(), limit))
}

/// A flavor to create, checked.
#[derive(Debug, Clone)]
pub struct NewFlavor {
    pub id: Option<String>,
    pub name: String,
    pub ram: i32,
    pub vcpus: i32,
    pub disk: i32,
    pub ephemeral: i32,
    pub swap: i32,
    pub rxtx_factor: f64,
    pub is_public: bool,
}

const CREATE: &[&str] = &[
    "name",
    "id",
    "ram",
    "vcpus",
    "disk",
    "OS-FLV-EXT-DATA:ephemeral",
    "swap",
    "rxtx_factor",
    "os-flavor-access:is_public",
];

fn flavor_id(v: &Value) -> Result<Option<String>, Error> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) => s,
        _ => {
            return Err(input::invalid(
                "id",
                v,
                format!("{v} is not of type 'string', 'null'"),
            ));
        }
    };
    let ok = (1..=255).contains(&s.chars().count())
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ' ' | '_' | '-'));
    if !ok {
        return Err(input::invalid(
            "id",
            v,
            format!("'{s}' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"),
        ));
    }
    Ok(Some(s.clone()))
}

fn rxtx(v: &Value) -> Result<f64, Error> {
    let bad = || input::invalid("rxtx_factor", v, format!("{v} is not a positive number"));
    let n = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s)
            if !s.is_empty()
                && s.split_once('.')
                    .map_or(s.as_str(), |(a, _)| a)
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            s.parse::<f64>().map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    if !(n > 0.0 && n <= 3.40282e38) {
        return Err(bad());
    }
    Ok(n)
}

/// Checks a create body (`{"flavor": {...}}`).
pub fn parse_create(body: &Value) -> Result<NewFlavor, Error> {
    let f = input::object(body, "flavor", CREATE)?;
    let opt = |k: &str, min: i64| -> Result<i32, Error> {
        f.get(k).map_or(Ok(0), |v| input::integer(k, v, min))
    };
    Ok(NewFlavor {
        name: input::name("name", input::required(f, "name")?)?,
        id: f.get("id").map(flavor_id).transpose()?.flatten(),
        ram: input::integer("ram", input::required(f, "ram")?, 1)?,
        vcpus: input::integer("vcpus", input::required(f, "vcpus")?, 1)?,
        disk: input::integer("disk", input::required(f, "disk")?, 0)?,
        ephemeral: opt("OS-FLV-EXT-DATA:ephemeral", 0)?,
        swap: opt("swap", 0)?,
        rxtx_factor: f.get("rxtx_factor").map_or(Ok(1.0), rxtx)?,
        is_public: f.get("os-flavor-access:is_public").map_or(Ok(true), |v| {
            input::boolean("os-flavor-access:is_public", v)
        })?,
    })
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewFlavor) -> Result<Model, Error> {
    auth.enforce("os_compute_api:os-flavor-manage:create", &Target::new())?;
    let at = now();
    let m = Model {
        id: new
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: new.name.clone(),
        memory_mb: new.ram,
        vcpus: new.vcpus,
        root_gb: new.disk,
        ephemeral_gb: new.ephemeral,
        swap: new.swap,
        rxtx_factor: new.rxtx_factor,
        is_public: new.is_public,
        disabled: false,
        description: None,
        created_at: at,
        updated_at: at,
    };
    match flavor::insert(ctx.db(), m).await? {
        Ok(m) => {
            tracing::info!(flavor = %m.id, name = %m.name, "flavor created");
            Ok(m)
        }
        Err(Taken::Id) => Err(Error::Conflict(format!(
            "Flavor with ID {} already exists.",
            new.id.unwrap_or_default()
        ))),
        Err(Taken::Name) => Err(Error::Conflict(format!(
            "Flavor with name {} already exists.",
            new.name
        ))),
    }
}

pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("os_compute_api:os-flavor-manage:delete", &Target::new())?;
    if !flavor::delete(ctx.db(), id).await? {
        return Err(Error::not_found(KIND, id));
    }
    tracing::info!(flavor = %id, "flavor deleted");
    Ok(())
}
