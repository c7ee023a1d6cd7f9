//! The filter's changes between two sets of ports, as one `nft -f` input:
//! ports gone lose their map elements and chains, ports changed have their
//! chains flushed and written again, new ports get chains and elements.
//! Other ports are not touched, so one more port costs the same on a node
//! with ten ports or a thousand. It assumes the kernel holds what the
//! previous apply wrote; if it does not, nft refuses the whole transaction
//! and the caller writes the tables whole instead.

use std::fmt::Write;

use virga_protocol::network::PortFilter;

use super::nft::{Indexes, PortChains, RulesetError, TABLE, assign, filtered, port_chains};

fn chains_of(p: &PortFilter, index: Option<&u32>) -> Result<PortChains, RulesetError> {
    index
        .and_then(|i| port_chains(p, *i))
        .ok_or_else(|| RulesetError::BadDevice {
            port_id: p.port_id.clone(),
            device: p.device.clone(),
        })
}

/// Every chain of a port: (family, name, rules).
fn each(c: &PortChains) -> [(&'static str, &str, &[String]); 4] {
    [
        ("bridge", c.in_chain.as_str(), c.in_rules.as_slice()),
        ("bridge", c.out_chain.as_str(), c.out_rules.as_slice()),
        ("inet", c.from_chain.as_str(), c.from_rules.as_slice()),
        ("inet", c.to_chain.as_str(), c.to_rules.as_slice()),
    ]
}

/// The changes from `previous_ports` (written with `previous` indexes) to
/// `ports`; returns the script (empty when nothing changed) and the
/// indexes now.
pub fn changes(
    previous_ports: &[PortFilter],
    ports: &[PortFilter],
    previous: &Indexes,
) -> Result<(String, Indexes), RulesetError> {
    let idx = assign(ports, previous)?;
    let old = filtered(previous_ports);
    let new = filtered(ports);
    let mut out = String::new();
    for (id, o) in &old {
        if new.get(id) == Some(o) {
            continue;
        }
        let c = chains_of(o, previous.get(*id))?;
        let _ = writeln!(
            out,
            "delete element bridge {TABLE} in_ports {{ {} }}",
            c.device
        );
        let _ = writeln!(
            out,
            "delete element bridge {TABLE} out_ports {{ {} }}",
            c.device
        );
        let _ = writeln!(
            out,
            "delete element inet {TABLE} from_marks {{ {} }}",
            c.high()
        );
        let _ = writeln!(
            out,
            "delete element inet {TABLE} to_marks {{ {} }}",
            c.low()
        );
        let verb = if new.contains_key(id) {
            "flush"
        } else {
            "delete"
        };
        for (family, name, _) in each(&c) {
            let _ = writeln!(out, "{verb} chain {family} {TABLE} {name}");
        }
    }
    for (id, p) in &new {
        if old.get(id) == Some(p) {
            continue;
        }
        let c = chains_of(p, idx.get(*id))?;
        for (family, name, rules) in each(&c) {
            if !old.contains_key(id) {
                let _ = writeln!(out, "add chain {family} {TABLE} {name}");
            }
            for r in rules {
                let _ = writeln!(out, "add rule {family} {TABLE} {name} {r}");
            }
        }
        let _ = writeln!(
            out,
            "add element bridge {TABLE} in_ports {{ {} : jump {} }}",
            c.device, c.in_chain
        );
        let _ = writeln!(
            out,
            "add element bridge {TABLE} out_ports {{ {} : jump {} }}",
            c.device, c.out_chain
        );
        let _ = writeln!(
            out,
            "add element inet {TABLE} from_marks {{ {} : jump {} }}",
            c.high(),
            c.from_chain
        );
        let _ = writeln!(
            out,
            "add element inet {TABLE} to_marks {{ {} : jump {} }}",
            c.low(),
            c.to_chain
        );
    }
    Ok((out, idx))
}
