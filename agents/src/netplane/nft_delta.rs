//! The filter's changes between two plans, as one `nft -f` input: new
//! remote groups get their sets and changed ones only the elements that
//! came or went; ports gone lose their map elements and chains, ports
//! changed have their chains flushed and written again, new ports get
//! chains and elements; sets no rule admits any more go last. Other ports
//! are not touched, so one more port costs the same on a node with ten
//! ports or a thousand, and a guest joining a group adds one element on
//! each node instead of rewriting every chain that admits the group. It
//! assumes the kernel holds what the previous apply wrote; if it does not,
//! nft refuses the whole transaction and the caller writes the tables
//! whole instead.

use std::fmt::Write;

use virga_protocol::network::{Ethertype, NodeNetwork, PortFilter};

use super::nft::{
    Indexes, PortChains, RulesetError, TABLE, assign, elements, filtered, group_set, group_sets,
    port_chains, set_type,
};

fn chains_of(p: &PortFilter, index: Option<&u32>) -> Result<PortChains, RulesetError> {
    index
        .and_then(|i| port_chains(p, *i))
        .ok_or_else(|| RulesetError::BadDevice {
            port_id: p.port_id.clone(),
            device: p.device.clone(),
        })
}

/// The changes from `previous` (written with `indexes`) to `plan`;
/// returns the script (empty when nothing changed) and the indexes now.
pub fn changes(
    previous: &NodeNetwork,
    plan: &NodeNetwork,
    indexes: &Indexes,
) -> Result<(String, Indexes), RulesetError> {
    let idx = assign(&plan.ports, indexes)?;
    let old = filtered(&previous.ports);
    let new = filtered(&plan.ports);
    let old_sets = group_sets(previous);
    let new_sets = group_sets(plan);
    let mut out = String::new();
    // Sets first: the chains written below may name them.
    for (group, (v4, v6)) in &new_sets {
        let before = old_sets.get(group);
        for (ethertype, now, was) in [
            (Ethertype::IPv4, v4, before.map(|b| &b.0)),
            (Ethertype::IPv6, v6, before.map(|b| &b.1)),
        ] {
            let name = group_set(ethertype, group);
            let gone: Vec<&String> = was.into_iter().flat_map(|w| w.difference(now)).collect();
            let came: Vec<&String> = match was {
                Some(w) => now.difference(w).collect(),
                None => {
                    let _ = writeln!(out, "add set inet {TABLE} {name} {}", set_type(ethertype));
                    now.iter().collect()
                }
            };
            if !gone.is_empty() {
                let _ = writeln!(out, "delete element inet {TABLE} {name} {}", elements(gone));
            }
            if !came.is_empty() {
                let _ = writeln!(out, "add element inet {TABLE} {name} {}", elements(came));
            }
        }
    }
    for (id, o) in &old {
        if new.get(id) == Some(o) {
            continue;
        }
        let c = chains_of(o, indexes.get(*id))?;
        for (family, map, key, _) in c.map_entries() {
            let _ = writeln!(out, "delete element {family} {TABLE} {map} {{ {key} }}");
        }
        let verb = if new.contains_key(id) {
            "flush"
        } else {
            "delete"
        };
        for (family, name, _) in c.chains() {
            let _ = writeln!(out, "{verb} chain {family} {TABLE} {name}");
        }
    }
    for (id, p) in &new {
        if old.get(id) == Some(p) {
            continue;
        }
        let c = chains_of(p, idx.get(*id))?;
        for (family, name, rules) in c.chains() {
            if !old.contains_key(id) {
                let _ = writeln!(out, "add chain {family} {TABLE} {name}");
            }
            for r in rules {
                let _ = writeln!(out, "add rule {family} {TABLE} {name} {r}");
            }
        }
        for (family, map, key, chain) in c.map_entries() {
            let _ = writeln!(
                out,
                "add element {family} {TABLE} {map} {{ {key} : jump {chain} }}"
            );
        }
    }
    // Sets last: no chain names them any more.
    for group in old_sets.keys().filter(|g| !new_sets.contains_key(*g)) {
        for ethertype in [Ethertype::IPv4, Ethertype::IPv6] {
            let _ = writeln!(
                out,
                "delete set inet {TABLE} {}",
                group_set(ethertype, group)
            );
        }
    }
    Ok((out, idx))
}
