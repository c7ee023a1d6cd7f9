//! A cheap check that the kernel still holds the filter the agent wrote:
//! the verdict maps' elements, the remote groups' set elements and the
//! chain names of both `virga` tables, listed (three `nft -j list` runs)
//! and compared with what the plan gives. The periodic pass writes the
//! filter whole only when they differ, so a node with hundreds of ports
//! does not re-parse them all every tick to find nothing changed. Edits
//! to the rules inside a chain are not seen here; the pass still writes
//! the filter whole now and then (`super::reconcile`) for those.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use virga_protocol::network::{Ethertype, NodeNetwork};

use super::Host;
use super::host::NetplaneError;
use super::nft::{Indexes, PortChains, TABLE, all_chains, assign, group_set, group_sets};

/// What the check compares: map elements (family, map) → key → chain, set
/// elements by set name, and chain names (family, name).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Held {
    pub maps: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub sets: BTreeMap<String, BTreeSet<String>>,
    pub chains: BTreeSet<(String, String)>,
}

/// The filter `plan` gives with `indexes` (as [`super::nft::ruleset_with`]
/// writes it); `None` when it cannot be written at all.
pub fn expected(plan: &NodeNetwork, indexes: &Indexes) -> Option<Held> {
    let idx = assign(&plan.ports, indexes).ok()?;
    let parts = all_chains(&plan.ports, &idx).ok()?;
    let mut held = Held::default();
    for (family, map) in PortChains::MAPS {
        held.maps
            .insert((family.into(), map.into()), BTreeMap::new());
    }
    for c in &parts {
        for (family, map, key, chain) in c.map_entries() {
            // Keys as nft lists them: names unquoted, marks in decimal.
            let key = match key.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?.to_string(),
                None => key.trim_matches('"').to_owned(),
            };
            held.maps
                .entry((family.into(), map.into()))
                .or_default()
                .insert(key, chain.to_owned());
        }
        for (family, name, _) in c.chains() {
            held.chains.insert((family.into(), name.to_owned()));
        }
    }
    held.chains.insert(("bridge".into(), "ports".into()));
    held.chains.insert(("inet".into(), "forward".into()));
    for (group, (v4, v6)) in group_sets(plan) {
        held.sets.insert(group_set(Ethertype::IPv4, &group), v4);
        held.sets.insert(group_set(Ethertype::IPv6, &group), v6);
    }
    Some(held)
}

/// `nft -j list` output: objects keyed by kind (`map`, `set`, `chain`,
/// `metainfo`, ...).
#[derive(Deserialize)]
struct Listing {
    nftables: Vec<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Named {
    family: String,
    table: String,
    name: String,
    #[serde(default)]
    elem: Vec<serde_json::Value>,
}

/// A listed element as [`expected`] writes it: a set's address, or a
/// map's key and the chain it jumps to.
fn element(v: &serde_json::Value) -> Option<(String, Option<String>)> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        serde_json::Value::Array(pair) if pair.len() == 2 => Some((
            text(&pair[0])?,
            Some(pair[1]["jump"]["target"].as_str()?.to_owned()),
        )),
        other => Some((text(other)?, None)),
    }
}

/// What the kernel holds in the `virga` tables now.
pub fn held(host: &Host) -> Result<Held, NetplaneError> {
    let mut held = Held::default();
    for what in ["maps", "sets", "chains"] {
        let listing: Listing = host.json(None, "nft", &["-j", "list", what])?;
        for (kind, object) in listing.nftables.into_iter().flatten() {
            let Ok(o) = serde_json::from_value::<Named>(object) else {
                continue;
            };
            if o.table != TABLE {
                continue;
            }
            match kind.as_str() {
                "map" => {
                    let elements = held.maps.entry((o.family, o.name)).or_default();
                    for (key, chain) in o.elem.iter().filter_map(element) {
                        elements.insert(key, chain.unwrap_or_default());
                    }
                }
                "set" if o.family == "inet" => {
                    let elements = held.sets.entry(o.name).or_default();
                    elements.extend(o.elem.iter().filter_map(element).map(|(a, _)| a));
                }
                "chain" => {
                    held.chains.insert((o.family, o.name));
                }
                _ => {}
            }
        }
    }
    Ok(held)
}

/// Whether the kernel holds the filter of `plan` with `indexes` (a
/// listing that fails counts as not).
pub fn holds(host: &Host, plan: &NodeNetwork, indexes: &Indexes) -> bool {
    match (expected(plan, indexes), held(host)) {
        (Some(want), Ok(have)) => want == have,
        _ => false,
    }
}
