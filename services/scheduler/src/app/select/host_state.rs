//! What `select` knows of every node, in memory (Nova's `HostState`):
//! each registered node with its site, its own inventories and traits,
//! its devices (child providers) with theirs, and what its agent last
//! reported. A snapshot is loaded whole from the database in one read
//! transaction; claims then keep its usage current (`apply_usage`) and
//! heartbeats its reports (`apply_node`). It only guides the choice: a
//! claim still checks and takes the room in the database, so a stale
//! snapshot costs a retry on the next node, never an over-commit.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;

use super::names::{self, Name};
use crate::app::capacity;
use crate::app::inventory::Inventory;
use crate::db::{inventory, node, provider, provider_trait, site};

/// One inventory of a provider, with what is used of it.
#[derive(Debug, Clone)]
pub struct Stock {
    pub class: Name,
    pub inv: Inventory,
    pub used: i64,
}

/// One provider's facts: a node itself or one of its devices.
#[derive(Debug, Clone, Default)]
pub struct Provider {
    pub uuid: String,
    /// Sorted.
    pub traits: Box<[Name]>,
    pub inventories: Vec<Stock>,
}

/// What one provider must take and have, in interned names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Need {
    pub resources: Vec<(Name, i64)>,
    pub required: Vec<Name>,
    pub forbidden: Vec<Name>,
}

impl Need {
    /// `None` when it names a class or trait no provider ever had, so no
    /// provider can take it.
    pub fn of(
        resources: &BTreeMap<String, i64>,
        required: &BTreeSet<String>,
        forbidden: &BTreeSet<String>,
    ) -> Option<Need> {
        let resources = resources
            .iter()
            .map(|(c, n)| Name::find(c).map(|c| (c, *n)))
            .collect::<Option<_>>()?;
        let required = required
            .iter()
            .map(|t| Name::find(t))
            .collect::<Option<_>>()?;
        let forbidden = forbidden.iter().filter_map(|t| Name::find(t)).collect();
        Some(Need {
            resources,
            required,
            forbidden,
        })
    }
}

/// The classes whose free share `free_share` averages.
fn share_classes() -> [Name; 2] {
    static CLASSES: std::sync::OnceLock<[Name; 2]> = std::sync::OnceLock::new();
    *CLASSES.get_or_init(|| [Name::of("VCPU"), Name::of("MEMORY_MB")])
}

impl Provider {
    pub fn new<'a>(
        uuid: &str,
        traits: impl IntoIterator<Item = &'a str>,
        inventories: impl IntoIterator<Item = (&'a str, Inventory, i64)>,
    ) -> Provider {
        Provider {
            uuid: uuid.to_owned(),
            traits: names::sorted(traits),
            inventories: inventories
                .into_iter()
                .map(|(c, inv, used)| Stock {
                    class: Name::of(c),
                    inv,
                    used,
                })
                .collect(),
        }
    }

    fn stock(&self, class: Name) -> Option<&Stock> {
        self.inventories.iter().find(|s| s.class == class)
    }

    fn has(&self, t: &Name) -> bool {
        self.traits.binary_search(t).is_ok()
    }

    /// Whether it can take all of the need's resources and has its traits.
    pub fn takes(&self, need: &Need) -> bool {
        need.required.iter().all(|t| self.has(t))
            && !need.forbidden.iter().any(|t| self.has(t))
            && need.resources.iter().all(|(class, amount)| {
                self.stock(*class)
                    .is_some_and(|s| capacity::fits(&s.inv, s.used, *amount))
            })
    }

    /// Its free share of VCPU and MEMORY_MB (averaged where present)
    /// after taking the need's resources; 0 when it has neither.
    pub fn free_share(&self, need: &Need) -> f64 {
        let (mut sum, mut parts) = (0.0, 0);
        for class in share_classes() {
            let Some(s) = self.stock(class) else {
                continue;
            };
            let cap = capacity::capacity(&s.inv) as f64;
            if cap > 0.0 {
                let want = need
                    .resources
                    .iter()
                    .find(|(c, _)| *c == class)
                    .map_or(0, |(_, n)| *n) as f64;
                sum += ((cap - s.used as f64 - want) / cap).max(0.0);
                parts += 1;
            }
        }
        if parts == 0 { 0.0 } else { sum / parts as f64 }
    }
}

/// A registered node as `select` sees it.
#[derive(Debug, Clone)]
pub struct NodeState {
    pub node: Arc<node::Model>,
    pub site: Arc<site::Model>,
    /// Image ids and layer digests its cache holds (parsed once).
    pub images: Arc<BTreeSet<String>>,
    pub layers: Arc<BTreeSet<String>>,
    pub own: Provider,
    pub devices: Vec<Provider>,
}

impl NodeState {
    pub fn new(
        n: node::Model,
        site: Arc<site::Model>,
        own: Provider,
        devices: Vec<Provider>,
    ) -> Self {
        NodeState {
            images: Arc::new(serde_json::from_str(&n.images).unwrap_or_default()),
            layers: Arc::new(serde_json::from_str(&n.layers).unwrap_or_default()),
            node: Arc::new(n),
            site,
            own,
            devices,
        }
    }

    fn reported(&mut self, n: node::Model) {
        let (site, own) = (self.site.clone(), std::mem::take(&mut self.own));
        *self = NodeState::new(n, site, own, std::mem::take(&mut self.devices));
    }
}

/// Every registered node, as of `loaded_at` plus what was applied since.
#[derive(Debug)]
pub struct Snapshot {
    pub loaded_at: Instant,
    pub nodes: Vec<NodeState>,
    /// Provider uuid (a node's or a device's) → (node index, device index).
    index: HashMap<String, (usize, Option<usize>)>,
    /// Site uuid → its nodes' indexes.
    by_site: HashMap<String, Vec<usize>>,
    /// Image id → the indexes of the nodes that hold it.
    holders: HashMap<String, BTreeSet<usize>>,
}

impl Snapshot {
    /// Reads every node, site, provider, inventory and trait at once.
    pub async fn load(db: &DatabaseConnection) -> Result<Snapshot, Error> {
        let started = Instant::now();
        let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
        let nodes = node::list(&txn, None).await?;
        let sites: HashMap<String, Arc<site::Model>> = site::list(&txn, None, None)
            .await?
            .into_iter()
            .map(|s| (s.uuid.clone(), Arc::new(s)))
            .collect();
        let providers = provider::list(&txn, &provider::Filter::default()).await?;
        let mut invs: HashMap<String, Vec<inventory::Model>> = HashMap::new();
        for i in inventory::all(&txn).await? {
            invs.entry(i.provider_uuid.clone()).or_default().push(i);
        }
        let mut traits: HashMap<String, Vec<String>> = HashMap::new();
        for t in provider_trait::all(&txn).await? {
            traits
                .entry(t.provider_uuid)
                .or_default()
                .push(t.trait_name);
        }
        txn.commit().await.map_err(Error::internal)?;
        let mut facts: HashMap<String, Provider> = providers
            .iter()
            .map(|p| {
                let ts = traits
                    .get(&p.uuid)
                    .into_iter()
                    .flatten()
                    .map(String::as_str);
                let is = invs.get(&p.uuid).into_iter().flatten();
                let is = is.map(|i| (i.resource_class.as_str(), Inventory::of(i), i.used));
                (p.uuid.clone(), Provider::new(&p.uuid, ts, is))
            })
            .collect();
        let mut children: HashMap<String, Vec<Provider>> = HashMap::new();
        for p in &providers {
            if let Some(parent) = &p.parent_uuid
                && let Some(f) = facts.get(&p.uuid)
            {
                children.entry(parent.clone()).or_default().push(f.clone());
            }
        }
        let mut states = Vec::with_capacity(nodes.len());
        for n in nodes {
            let (Some(own), Some(s)) = (facts.remove(&n.uuid), sites.get(&n.site_uuid)) else {
                continue;
            };
            let devices = children.remove(&n.uuid).unwrap_or_default();
            states.push(NodeState::new(n, s.clone(), own, devices));
        }
        let snap = Snapshot::of(states);
        tracing::debug!(
            nodes = snap.nodes.len(),
            ms = started.elapsed().as_millis() as u64,
            "host state loaded"
        );
        Ok(snap)
    }

    /// A snapshot of these nodes, indexed.
    pub fn of(nodes: Vec<NodeState>) -> Snapshot {
        let mut snap = Snapshot {
            loaded_at: Instant::now(),
            nodes: Vec::with_capacity(nodes.len()),
            index: HashMap::new(),
            by_site: HashMap::new(),
            holders: HashMap::new(),
        };
        for state in nodes {
            let at = snap.nodes.len();
            snap.index.insert(state.own.uuid.clone(), (at, None));
            for (d, dev) in state.devices.iter().enumerate() {
                snap.index.insert(dev.uuid.clone(), (at, Some(d)));
            }
            for img in state.images.iter() {
                snap.holders.entry(img.clone()).or_default().insert(at);
            }
            let site = state.site.uuid.clone();
            snap.by_site.entry(site).or_default().push(at);
            snap.nodes.push(state);
        }
        snap
    }

    /// The indexes of the nodes of a site.
    pub fn of_site(&self, site: &str) -> &[usize] {
        self.by_site.get(site).map_or(&[], Vec::as_slice)
    }

    /// The indexes of the nodes whose cache holds an image.
    pub fn holders(&self, image: &str) -> impl Iterator<Item = usize> + '_ {
        self.holders.get(image).into_iter().flatten().copied()
    }

    /// Adds `delta` (provider → class → amount, negative to give back) to
    /// what is used, for the providers it knows.
    pub fn apply_usage(&mut self, delta: &BTreeMap<String, BTreeMap<String, i64>>) {
        for (p, classes) in delta {
            let Some(&(n, d)) = self.index.get(p) else {
                continue;
            };
            let node = &mut self.nodes[n];
            let prov = match d {
                None => &mut node.own,
                Some(d) => &mut node.devices[d],
            };
            for (class, amount) in classes {
                let Some(class) = Name::find(class) else {
                    continue;
                };
                if let Some(s) = prov.inventories.iter_mut().find(|s| s.class == class) {
                    s.used += amount;
                }
            }
        }
    }

    /// Takes a node's latest report (heartbeat); false when the node is
    /// not in the snapshot or moved site, so it must be reloaded.
    pub fn apply_node(&mut self, n: node::Model) -> bool {
        match self.index.get(&n.uuid) {
            Some(&(i, None)) if self.nodes[i].node.site_uuid == n.site_uuid => {
                for img in self.nodes[i].images.iter() {
                    if let Some(h) = self.holders.get_mut(img) {
                        h.remove(&i);
                    }
                }
                self.nodes[i].reported(n);
                for img in self.nodes[i].images.iter() {
                    self.holders.entry(img.clone()).or_default().insert(i);
                }
                true
            }
            _ => false,
        }
    }
}
