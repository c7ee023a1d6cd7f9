//! From the host cache to candidates: registered nodes whose own
//! provider takes the request's resources and traits, whose devices
//! (child providers) take each requested device, a different device for
//! each, and which pass every filter. Nodes are examined in a random
//! order (those at sites holding the image first) until enough are
//! found: weighing every node of a large cloud costs more than it gains
//! (Nova weighs Placement's `max_placement_results`), and random picks
//! keep concurrent callers from all racing for the same best node.

use std::collections::{BTreeMap, BTreeSet};

use super::filters::Filter;
use super::host_state::{Need, NodeState, Provider, Snapshot};
use super::spec::{Context, Host, Spec};
use crate::app::allocation_candidate::Allocation;

/// The candidates found, and how many nodes had room and how many each
/// filter kept of those examined (for the "no valid node" report).
#[derive(Debug, Default)]
pub struct Found {
    pub hosts: Vec<Host>,
    pub report: Vec<String>,
}

/// Up to `want` nodes of the snapshot that can take `spec` now and pass
/// `filters`.
pub fn find(
    snap: &Snapshot,
    spec: &Spec,
    filters: &[Box<dyn Filter>],
    cx: &Context,
    want: usize,
) -> Found {
    let holding: BTreeSet<&str> = spec
        .image_id
        .iter()
        .flat_map(|img| snap.holders(img))
        .map(|i| snap.nodes[i].site.uuid.as_str())
        .collect();
    let mut hosts = Vec::with_capacity(want.min(snap.nodes.len()));
    let (mut room, mut kept) = (0, vec![0; filters.len()]);
    let needs = Needs::of(spec);
    // Whether to go on after examining node `i`.
    let mut examine = |i: usize| -> bool {
        let n = &snap.nodes[i];
        let Some(needs) = &needs else {
            return false;
        };
        let Some(devices) = fits(n, needs) else {
            return true;
        };
        room += 1;
        let h = Host {
            node: n.node.clone(),
            site: n.site.clone(),
            images: spec.image_id.as_ref().map(|_| n.images.clone()),
            layers: (!spec.layers.is_empty()).then(|| n.layers.clone()),
            devices,
            free_share: n.own.free_share(&needs.node),
            site_has_image: holding.contains(n.site.uuid.as_str()),
        };
        for (k, f) in filters.iter().enumerate() {
            if !f.passes(spec, &h, cx) {
                return true;
            }
            kept[k] += 1;
        }
        hosts.push(h);
        hosts.len() < want
    };
    let wanted_sites: Vec<&str> = spec.sites.iter().map(String::as_str).collect();
    let first = holding
        .iter()
        .filter(|s| wanted_sites.is_empty() || wanted_sites.contains(s));
    let mut more = first.flat_map(|s| snap.of_site(s)).all(|&i| examine(i));
    if more && !wanted_sites.is_empty() {
        let rest = wanted_sites.iter().filter(|s| !holding.contains(*s));
        more = rest.flat_map(|s| snap.of_site(s)).all(|&i| examine(i));
    }
    if more && wanted_sites.is_empty() {
        let n = snap.nodes.len();
        let at_holding = |i: &usize| holding.contains(snap.nodes[*i].site.uuid.as_str());
        random_order(n).filter(|i| !at_holding(i)).all(examine);
    }
    let mut report = vec![format!("{room} with room")];
    for (f, k) in filters.iter().zip(&kept) {
        report.push(format!("{} kept {k}", f.name()));
    }
    Found { hosts, report }
}

/// Every index below `n` once, in a random order: a random start and a
/// random step coprime with `n` (no list of `n` to shuffle).
fn random_order(n: usize) -> impl Iterator<Item = usize> {
    let mut seed = [0u8; 16];
    let _ = getrandom::fill(&mut seed);
    let start = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default()) as usize;
    let mut step = u64::from_le_bytes(seed[8..].try_into().unwrap_or_default()) as usize;
    let m = n.max(1);
    step = step % m + 1;
    while gcd(step, m) != 1 {
        step += 1;
    }
    (0..n).map(move |k| (start % m + k * step) % m)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A spec's needs of a node and of each device, resolved once per walk;
/// `None` when no provider can meet them.
struct Needs {
    node: Need,
    devices: Vec<Need>,
}

impl Needs {
    fn of(spec: &Spec) -> Option<Needs> {
        let none = BTreeSet::new();
        Some(Needs {
            node: Need::of(&spec.resources, &spec.required, &spec.forbidden)?,
            devices: spec
                .devices
                .iter()
                .map(|d| Need::of(&d.resources, &d.required, &none))
                .collect::<Option<_>>()?,
        })
    }
}

/// The devices `n` would use, if it can meet `needs`.
fn fits(n: &NodeState, needs: &Needs) -> Option<Vec<String>> {
    if !n.own.takes(&needs.node) {
        return None;
    }
    let mut chosen = Vec::with_capacity(needs.devices.len());
    if !choose(&n.devices, &needs.devices, &mut chosen) {
        return None;
    }
    Some(
        chosen
            .into_iter()
            .map(|i| n.devices[i].uuid.clone())
            .collect(),
    )
}

/// Assigns a distinct device to each wanted one, backtracking (a node
/// has a handful of devices, a request fewer).
fn choose(have: &[Provider], want: &[Need], chosen: &mut Vec<usize>) -> bool {
    let Some(w) = want.get(chosen.len()) else {
        return true;
    };
    for (i, d) in have.iter().enumerate() {
        if chosen.contains(&i) || !d.takes(w) {
            continue;
        }
        chosen.push(i);
        if choose(have, want, chosen) {
            return true;
        }
        chosen.pop();
    }
    false
}

/// What a claim of `spec` on `host` allocates: the node's own resources
/// from the node, each device's from the device chosen for it.
pub fn allocation(spec: &Spec, host: &Host) -> Allocation {
    let mut out: Allocation = BTreeMap::new();
    if !spec.resources.is_empty() {
        out.insert(host.node.uuid.clone(), spec.resources.clone());
    }
    for (uuid, d) in host.devices.iter().zip(&spec.devices) {
        if !d.resources.is_empty() {
            out.insert(uuid.clone(), d.resources.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::names::Name;
    use super::*;
    use crate::app::inventory::Inventory;

    fn provider(uuid: &str, class: &str, total: i64, used: i64, traits: &[&str]) -> Provider {
        let inv = Inventory {
            total,
            reserved: 0,
            min_unit: 1,
            max_unit: total,
            step_size: 1,
            allocation_ratio: 1.0,
        };
        Provider::new(uuid, traits.iter().copied(), [(class, inv, used)])
    }

    fn need(class: &str, n: i64, required: &[&str], forbidden: &[&str]) -> Need {
        let set = |t: &[&str]| t.iter().map(|t| t.to_string()).collect::<BTreeSet<_>>();
        Need::of(
            &BTreeMap::from([(class.to_string(), n)]),
            &set(required),
            &set(forbidden),
        )
        .expect("interned by the providers made first")
    }

    fn want(class: &str, n: i64, required: &[&str]) -> Need {
        need(class, n, required, &[])
    }

    /// Sites s0..s2 of ten nodes each with 4 VCPU; s1's n1-3 holds
    /// `img`; s2's nodes are full.
    fn cloud() -> Snapshot {
        use super::super::filters::fixture::host;
        use std::sync::Arc;
        let mut nodes = Vec::new();
        for site in 0..3 {
            let mut s = (*host("x").site).clone();
            s.uuid = format!("s{site}");
            let s = Arc::new(s);
            for i in 0..10 {
                let mut n = (*host("x").node).clone();
                n.uuid = format!("n{site}-{i}");
                n.site_uuid = s.uuid.clone();
                if site == 1 && i == 3 {
                    n.images = r#"["img"]"#.into();
                }
                let used = if site == 2 { 4 } else { 0 };
                let own = provider(&n.uuid, "VCPU", 4, used, &[]);
                nodes.push(NodeState::new(n, s.clone(), own, Vec::new()));
            }
        }
        Snapshot::of(nodes)
    }

    #[test]
    fn found_image_first_then_random_until_enough() {
        use super::super::filters::{all, fixture::context};
        let snap = cloud();
        let (filters, cx) = (all(), context());
        let spec = |image: Option<&str>, sites: &[&str]| Spec {
            resources: [("VCPU".to_string(), 1)].into(),
            image_id: image.map(String::from),
            sites: sites.iter().map(|s| s.to_string()).collect(),
            ..Spec::default()
        };
        let found = find(&snap, &spec(None, &[]), &filters, &cx, 100);
        assert_eq!(found.hosts.len(), 20, "s2 is full");
        assert_eq!(found.report[0], "20 with room");
        assert_eq!(found.report[1], "health kept 20");
        let found = find(&snap, &spec(Some("img"), &[]), &filters, &cx, 5);
        assert_eq!(found.hosts.len(), 5, "stops once it has enough");
        assert!(
            found
                .hosts
                .iter()
                .all(|h| h.site.uuid == "s1" && h.site_has_image),
            "the site holding the image comes first"
        );
        let found = find(&snap, &spec(Some("img"), &["s0"]), &filters, &cx, 100);
        assert_eq!(found.hosts.len(), 10);
        assert!(found.hosts.iter().all(|h| h.site.uuid == "s0"));
        let found = find(&snap, &spec(None, &["s2"]), &filters, &cx, 100);
        assert!(found.hosts.is_empty());
        assert_eq!(found.report[0], "0 with room");
        let a = find(&snap, &spec(None, &[]), &filters, &cx, 3);
        let b = find(&snap, &spec(None, &[]), &filters, &cx, 3);
        let ids = |f: &Found| {
            f.hosts
                .iter()
                .map(|h| h.node.uuid.clone())
                .collect::<Vec<_>>()
        };
        assert!(
            ids(&a) != ids(&b) || ids(&a) != ids(&find(&snap, &spec(None, &[]), &filters, &cx, 3)),
            "a random pick"
        );
    }

    #[test]
    fn random_order_visits_each_once() {
        for n in [0, 1, 2, 12, 97, 1000] {
            let mut seen: Vec<usize> = random_order(n).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        let a: Vec<usize> = random_order(1000).take(20).collect();
        let b: Vec<usize> = random_order(1000).take(20).collect();
        assert_ne!(a, b, "two walks differ");
    }

    #[test]
    fn devices_are_distinct_and_backtracked() {
        // The first device fits both wants; only giving it to the second
        // leaves the first a device with the trait it needs.
        let have = [
            provider("gpu-a", "PGPU", 1, 0, &["CUSTOM_A", "CUSTOM_B"]),
            provider("gpu-b", "PGPU", 1, 0, &["CUSTOM_B"]),
        ];
        let mut chosen = Vec::new();
        assert!(choose(
            &have,
            &[
                want("PGPU", 1, &["CUSTOM_B"]),
                want("PGPU", 1, &["CUSTOM_A"])
            ],
            &mut chosen
        ));
        assert_eq!(chosen, vec![1, 0]);
        let mut chosen = Vec::new();
        assert!(
            !choose(
                &have,
                &[
                    want("PGPU", 1, &[]),
                    want("PGPU", 1, &[]),
                    want("PGPU", 1, &[])
                ],
                &mut chosen
            ),
            "two devices cannot serve three wants"
        );
        let full = [provider("gpu-c", "PGPU", 1, 1, &[])];
        assert!(!choose(&full, &[want("PGPU", 1, &[])], &mut Vec::new()));
    }

    #[test]
    fn node_traits_and_room() {
        let p = provider("n", "VCPU", 8, 6, &["HW_ARCH_X86_64"]);
        let _ = (Name::of("HW_ARCH_AARCH64"), Name::of("PGPU"));
        assert!(p.takes(&need("VCPU", 2, &["HW_ARCH_X86_64"], &[])));
        assert!(!p.takes(&need("VCPU", 3, &[], &[])), "no room");
        assert!(!p.takes(&need("VCPU", 1, &["HW_ARCH_AARCH64"], &[])));
        assert!(!p.takes(&need("VCPU", 1, &[], &["HW_ARCH_X86_64"])));
        assert!(!p.takes(&need("PGPU", 1, &[], &[])));
        assert!((p.free_share(&need("VCPU", 1, &[], &[])) - 0.125).abs() < 1e-9);
        let never = BTreeSet::from(["CUSTOM_NO_PROVIDER_EVER_HAD_IT".to_string()]);
        assert!(
            Need::of(&BTreeMap::new(), &never, &BTreeSet::new()).is_none(),
            "a trait no provider has: nothing takes it"
        );
        assert!(
            Need::of(&BTreeMap::new(), &BTreeSet::new(), &never).is_some(),
            "forbidding it rules nothing out"
        );
    }
}
