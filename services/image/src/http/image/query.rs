//! Reading a list query as Glance does: `in:` lists, `gt:`-style time
//! comparisons, repeatable `tag`, both sort syntaxes, and any other
//! parameter as an exact match on an extra property.

use virga_common::Error;
use virga_db::sea_orm::Order;

use crate::db::listing::{ImageFilter, Op, SortKey};

pub const DEFAULT_LIMIT: u64 = 25;
pub const MAX_LIMIT: u64 = 1000;

pub struct Parsed {
    pub filter: ImageFilter,
    pub sort: Vec<(SortKey, Order)>,
    pub limit: u64,
    pub marker: Option<String>,
}

fn bad(msg: String) -> Error {
    Error::BadRequest(msg)
}

fn boolean(k: &str, v: &str) -> Result<bool, Error> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(format!(
            "Invalid value for '{k}': {v} is not true or false."
        ))),
    }
}

/// `v` or `in:a,b,"c,d"`; any other `op:` is refused (as Glance does).
fn values(k: &str, v: &str) -> Result<Vec<String>, Error> {
    match v.split_once(':') {
        None => Ok(vec![v.to_owned()]),
        Some(("in", list)) => Ok(split_quoted(list)),
        Some((op, _)) => Err(bad(format!("Invalid operator '{op}' for '{k}'."))),
    }
}

fn split_quoted(list: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn time(k: &str, v: &str) -> Result<(Op, chrono::DateTime<chrono::Utc>), Error> {
    let (op, at) = match v.split_once(':') {
        Some((op @ ("gt" | "gte" | "lt" | "lte" | "eq" | "neq"), at)) => (op, at),
        _ => ("eq", v),
    };
    let op = match op {
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "neq" => Op::Neq,
        _ => Op::Eq,
    };
    let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|_| {
        bad(format!(
            "Invalid value for '{k}': {at} is not an ISO 8601 time."
        ))
    })?;
    Ok((op, at.with_timezone(&chrono::Utc)))
}

fn sort_key(k: &str) -> Result<SortKey, Error> {
    SortKey::parse(k).ok_or_else(|| bad(format!("Invalid sort key: {k}.")))
}

fn dir(d: &str) -> Result<Order, Error> {
    match d {
        "asc" => Ok(Order::Asc),
        "desc" => Ok(Order::Desc),
        _ => Err(bad(format!("Invalid sort direction: {d}."))),
    }
}

pub fn parse(pairs: &[(String, String)]) -> Result<Parsed, Error> {
    let mut f = ImageFilter {
        member_status: "accepted".into(),
        ..Default::default()
    };
    let (mut limit, mut marker) = (DEFAULT_LIMIT, None);
    let (mut keys, mut dirs, mut sort) = (Vec::new(), Vec::new(), None);
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse::<u64>()
                    .map_err(|_| bad(format!("Invalid limit: {v}.")))?
                    .min(MAX_LIMIT)
            }
            "marker" => marker = Some(v.clone()),
            "sort_key" => keys.push(sort_key(v)?),
            "sort_dir" => dirs.push(dir(v)?),
            "sort" => sort = Some(v.clone()),
            "name" => f.names.extend(values(k, v)?),
            "status" => f.statuses.extend(values(k, v)?),
            "id" => f.ids.extend(values(k, v)?),
            "disk_format" => f.disk_formats.extend(values(k, v)?),
            "container_format" => f.container_formats.extend(values(k, v)?),
            "visibility" => match v.as_str() {
                "public" | "private" | "shared" | "community" | "all" => {
                    f.visibility = Some(v.clone())
                }
                _ => return Err(bad(format!("Invalid visibility value: {v}"))),
            },
            "member_status" => match v.as_str() {
                "pending" | "accepted" | "rejected" | "all" => f.member_status = v.clone(),
                _ => return Err(bad(format!("Invalid status value: {v}"))),
            },
            "owner" => f.owner = Some(v.clone()),
            "tag" => f.tags.push(v.clone()),
            "protected" => f.protected = Some(boolean(k, v)?),
            "os_hidden" => f.os_hidden = boolean(k, v)?,
            "size_min" | "size_max" => {
                let n = v
                    .parse::<i64>()
                    .map_err(|_| bad(format!("Invalid value for '{k}': {v}.")))?;
                if k == "size_min" {
                    f.size_min = Some(n)
                } else {
                    f.size_max = Some(n)
                }
            }
            "created_at" => f.created_at.push(time(k, v)?),
            "updated_at" => f.updated_at.push(time(k, v)?),
            "changes-since" => {
                return Err(bad(
                    "The 'changes-since' filter is no longer available on v2.".into(),
                ));
            }
            _ => f.properties.push((k.clone(), v.clone())),
        }
    }
    let mut order = match sort {
        Some(_) if !keys.is_empty() || !dirs.is_empty() => {
            return Err(bad(
                "The 'sort' parameter cannot be combined with sort_key or sort_dir.".into(),
            ));
        }
        Some(s) => s
            .split(',')
            .map(|part| match part.split_once(':') {
                Some((k, d)) => Ok((sort_key(k)?, dir(d)?)),
                None => Ok((sort_key(part)?, Order::Desc)),
            })
            .collect::<Result<Vec<_>, Error>>()?,
        None => {
            if dirs.len() > 1 && dirs.len() != keys.len() {
                return Err(bad(
                    "The number of sort_dir values must match sort_key.".into()
                ));
            }
            let d = |i: usize| dirs.get(i).or(dirs.first()).cloned().unwrap_or(Order::Desc);
            keys.iter().enumerate().map(|(i, k)| (*k, d(i))).collect()
        }
    };
    // Glance's tie-breakers, so the order (and so the marker) is total.
    for k in [SortKey::CreatedAt, SortKey::Id] {
        if !order.iter().any(|(o, _)| *o == k) {
            order.push((k, Order::Desc));
        }
    }
    Ok(Parsed {
        filter: f,
        sort: order,
        limit,
        marker,
    })
}
