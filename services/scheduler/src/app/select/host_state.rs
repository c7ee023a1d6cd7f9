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
use virga_db::sea_orm::{DatabaseConnection, TransactionTrait};

use crate::app::capacity;
use crate::app::inventory::Inventory;
use crate::db::{inventory, node, provider, provider_trait, site};

/// One provider's facts: a node itself or one of its devices.
#[derive(Debug, Clone, Default)]
pub struct Provider {
    pub uuid: String,
    pub traits: BTreeSet<String>,
    /// Class → (inventory, what is used of it).
    pub inventories: BTreeMap<String, (Inventory, i64)>,
}

impl Provider {
    /// Whether it can take all of `resources` and has the traits.
    pub fn takes(
        &self,
        resources: &BTreeMap<String, i64>,
        required: &BTreeSet<String>,
        forbidden: &BTreeSet<String>,
    ) -> bool {
        required.iter().all(|t| self.traits.contains(t))
            && !forbidden.iter().any(|t| self.traits.contains(t))
            && resources.iter().all(|(class, amount)| {
                self.inventories
                    .get(class)
                    .is_some_and(|(inv, used)| capacity::fits(inv, *used, *amount))
            })
    }

    /// Its free share of VCPU and MEMORY_MB (averaged where present)
    /// after taking `resources`; 0 when it has neither.
    pub fn free_share(&self, resources: &BTreeMap<String, i64>) -> f64 {
        let mut parts = Vec::with_capacity(2);
        for class in ["VCPU", "MEMORY_MB"] {
            let Some((inv, used)) = self.inventories.get(class) else {
                continue;
            };
            let cap = capacity::capacity(inv) as f64;
            if cap > 0.0 {
                let want = resources.get(class).copied().unwrap_or(0) as f64;
                parts.push(((cap - *used as f64 - want) / cap).max(0.0));
            }
        }
        if parts.is_empty() {
            0.0
        } else {
            parts.iter().sum::<f64>() / parts.len() as f64
        }
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
        let txn = db.begin().await.map_err(Error::internal)?;
        let nodes = node::list(&txn, None).await?;
        let sites: HashMap<String, Arc<site::Model>> = site::list(&txn, None, None)
            .await?
            .into_iter()
            .map(|s| (s.uuid.clone(), Arc::new(s)))
            .collect();
        let providers = provider::list(&txn, &provider::Filter::default()).await?;
        let mut facts: HashMap<String, Provider> = providers
            .iter()
            .map(|p| {
                let f = Provider {
                    uuid: p.uuid.clone(),
                    ..Provider::default()
                };
                (p.uuid.clone(), f)
            })
            .collect();
        for i in inventory::all(&txn).await? {
            if let Some(f) = facts.get_mut(&i.provider_uuid) {
                f.inventories
                    .insert(i.resource_class.clone(), (Inventory::of(&i), i.used));
            }
        }
        for t in provider_trait::all(&txn).await? {
            if let Some(f) = facts.get_mut(&t.provider_uuid) {
                f.traits.insert(t.trait_name);
            }
        }
        txn.commit().await.map_err(Error::internal)?;
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
                if let Some((_, used)) = prov.inventories.get_mut(class) {
                    *used += amount;
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
