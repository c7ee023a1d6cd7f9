//! Neutron's list query string: filters (`attr=value`, repeated for "any
//! of"), `fields` (repeated), `sort_key` / `sort_dir` pairs, `limit`,
//! `marker` and `page_reverse`; and the `<collection>_links` it answers
//! with.

use serde_json::{Value, json};
use virga_common::Error;

use crate::app::listing::{ListQuery, Sort};

/// The largest page served when a caller asks for more (or for none).
pub const MAX_LIMIT: u64 = 1000;

/// Parses the pairs; `filterable` names the attributes a filter may use,
/// `sortable` the sort keys.
pub fn parse(
    pairs: &[(String, String)],
    filterable: &[&str],
    sortable: &[&str],
) -> Result<ListQuery, Error> {
    let mut q = ListQuery::default();
    let mut keys = Vec::new();
    let mut dirs = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "fields" => q.fields.extend(v.split(',').map(str::to_owned)),
            "sort_key" => keys.push(v.clone()),
            "sort_dir" => dirs.push(v.clone()),
            "limit" => {
                let bad = || {
                    Error::BadRequest(format!(
                        "Bad limit request: Limit must be an integer 0 or greater and not '{v}'."
                    ))
                };
                let n: i64 = v.parse().map_err(|_| bad())?;
                if n < 0 {
                    return Err(bad());
                }
                // 0 means no limit, as in Neutron; a page is capped anyway.
                q.limit = Some(if n == 0 {
                    MAX_LIMIT
                } else {
                    (n as u64).min(MAX_LIMIT)
                });
            }
            "marker" => q.marker = Some(v.clone()),
            "page_reverse" => q.page_reverse = parse_bool("page_reverse", v)?,
            // Neutron's clients add these; they change nothing here.
            "verbose" => {}
            attr => {
                if !filterable.contains(&attr) {
                    return Err(Error::BadRequest(format!(
                        "['{attr}'] is invalid attribute for filtering"
                    )));
                }
                match q.filters.iter_mut().find(|(a, _)| a == attr) {
                    Some((_, values)) => values.push(v.clone()),
                    None => q.filters.push((attr.to_owned(), vec![v.clone()])),
                }
            }
        }
    }
    if !dirs.is_empty() && dirs.len() != keys.len() {
        return Err(Error::BadRequest(
            "The number of sort_keys and sort_dirs must be same".into(),
        ));
    }
    for (i, key) in keys.into_iter().enumerate() {
        if !sortable.contains(&key.as_str()) {
            return Err(Error::BadRequest(format!(
                "['{key}'] is invalid attribute for sort_keys"
            )));
        }
        let ascending = match dirs.get(i).map(String::as_str) {
            None | Some("asc") => true,
            Some("desc") => false,
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "['{other}'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"
                )));
            }
        };
        q.sort.push(Sort { key, ascending });
    }
    Ok(q)
}

/// Neutron's booleans in queries and bodies: true/false, 1/0, any case.
pub fn parse_bool(attr: &str, v: &str) -> Result<bool, Error> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::BadRequest(format!(
            "Invalid input for {attr}. Reason: '{v}' cannot be converted to boolean."
        ))),
    }
}

/// Keeps only the asked fields of each item (all when none were asked).
pub fn select_fields(mut item: Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return item;
    }
    if let Value::Object(map) = &mut item {
        map.retain(|k, _| fields.iter().any(|f| f == k));
    }
    item
}

/// The `<collection>_links` of a page, when a limit is in effect.
fn links(
    base: &str,
    pairs: &[(String, String)],
    q: &ListQuery,
    first_id: Option<&str>,
    last_id: Option<&str>,
    count: usize,
) -> Vec<Value> {
    let Some(limit) = q.limit else {
        return Vec::new();
    };
    let keep: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "marker" | "page_reverse" | "limit"))
        .cloned()
        .collect();
    let href = |marker: &str, reverse: bool| {
        let mut p = keep.clone();
        p.push(("limit".into(), limit.to_string()));
        p.push(("marker".into(), marker.to_owned()));
        if reverse {
            p.push(("page_reverse".into(), "True".into()));
        }
        format!("{base}?{}", virga_common::pagination::query_string(&p))
    };
    // Neutron's rule: a short page going forwards has no next, a short
    // page going backwards no previous; every other page has both.
    let short = (count as u64) < limit;
    let (want_next, want_previous) = (!short || q.page_reverse, !short || !q.page_reverse);
    let mut out = Vec::new();
    if want_next && let Some(last) = last_id {
        out.push(json!({"rel": "next", "href": href(last, false)}));
    }
    if want_previous && let Some(first) = first_id {
        out.push(json!({"rel": "previous", "href": href(first, true)}));
    }
    out
}

/// The `fields` of a show request (other parameters are ignored there).
fn fields_only(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "fields")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned))
        .collect()
}

/// A list answer: `{"<collection>": [...], "<collection>_links": [...]}`
/// from (id, full view) pairs, each cut to the asked `fields`.
pub fn page(
    collection: &str,
    path: &str,
    pairs: &[(String, String)],
    q: &ListQuery,
    items: Vec<(String, Value)>,
) -> Value {
    let links = links(
        path,
        pairs,
        q,
        items.first().map(|(id, _)| id.as_str()),
        items.last().map(|(id, _)| id.as_str()),
        items.len(),
    );
    let views: Vec<Value> = items
        .into_iter()
        .map(|(_, v)| select_fields(v, &q.fields))
        .collect();
    let mut out = json!({ collection: views });
    if !links.is_empty() {
        out[format!("{collection}_links")] = Value::Array(links);
    }
    out
}

/// A shown item cut to the `fields` of a show request.
pub fn shown(item: Value, pairs: &[(String, String)]) -> Value {
    select_fields(item, &fields_only(pairs))
}
