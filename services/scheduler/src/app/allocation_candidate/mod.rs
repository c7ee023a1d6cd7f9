//! Allocation candidates (`GET /allocation_candidates`): every way the
//! providers can satisfy a request right now, each ready to claim with
//! `PUT /allocations`, plus a summary of the providers involved.
//!
//! A request is one or more groups. The unnumbered group's resources may
//! come from several providers of one tree (from 1.29; before, from one
//! provider), and its required traits from any of them. A suffixed group
//! (1.25) takes all its resources from one provider, which has all its
//! traits. Every provider of one candidate is in one tree, except
//! sharing providers (`MISC_SHARES_VIA_AGGREGATE`: a site's shared
//! storage), which serve every tree with a member in one of their
//! aggregates. `member_of` holds for a provider in the aggregate or whose
//! tree's root is (for a sharing provider, the root it serves). With
//! `group_policy=isolate` suffixed groups use different providers;
//! `same_subtree` (1.36) keeps groups under one of their providers.
//!
//! The reads are set-based (`db::candidate`): one query per requested
//! class, then one per kind of fact for all the providers found.

mod search;

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_service::ServiceContext;

use super::capacity;
use super::inventory::Inventory;
use crate::db::candidate as db;

/// Provider → class → amount: one candidate, as a claim would send it.
pub type Allocation = BTreeMap<String, BTreeMap<String, i64>>;

/// Candidates generated at most, whatever the limit: a wide, symmetric
/// tree asked for many groups has more combinations than are useful.
pub const MAX_CANDIDATES: usize = 10_000;

/// One request group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// `""` for the unnumbered group, else its suffix (`1`, `_GPU`).
    pub suffix: String,
    pub resources: BTreeMap<String, i64>,
    /// Traits the provider(s) must have.
    pub required: BTreeSet<String>,
    /// 1.39: of each set, at least one trait the provider(s) must have.
    pub required_any: Vec<BTreeSet<String>>,
    /// Traits the provider(s) must not have.
    pub forbidden: BTreeSet<String>,
    /// Each inner list: be in at least one of these aggregates.
    pub member_of: Vec<Vec<String>>,
    /// 1.32: in none of these aggregates (neither it nor its root).
    pub not_member_of: BTreeSet<String>,
    /// 1.31: only providers in the tree of this provider (`find` turns
    /// it into the tree's root; an unknown provider's tree is empty).
    pub in_tree: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Policy {
    #[default]
    None,
    Isolate,
}

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub groups: Vec<Group>,
    pub policy: Policy,
    pub limit: Option<usize>,
    /// 1.29: the unnumbered group may spread over a tree.
    pub nested: bool,
    /// 1.35: traits the root of a candidate's tree must have, and must not.
    pub root_required: BTreeSet<String>,
    pub root_forbidden: BTreeSet<String>,
    /// 1.36: for each set of group suffixes, the providers serving them
    /// must include one that is an ancestor of (or is) all the others.
    pub same_subtree: Vec<BTreeSet<String>>,
}

/// What a candidate's provider has and holds.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Class → (capacity, used).
    pub resources: BTreeMap<String, (i64, i64)>,
    pub traits: BTreeSet<String>,
    pub parent: Option<String>,
    pub root: String,
}

/// Group suffix → the providers that serve it, per candidate.
pub type Mapping = BTreeMap<String, BTreeSet<String>>;

#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub allocations: Vec<Allocation>,
    /// For each allocation, which providers serve which group.
    pub mappings: Vec<Mapping>,
    pub summaries: BTreeMap<String, Summary>,
}

/// What the search knows of the providers it found.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// (provider, class) → what is still free.
    pub free: BTreeMap<(String, String), i64>,
    pub root: BTreeMap<String, String>,
    /// Each provider's parent, for providers whose whole trees were read
    /// (resourceless groups, `same_subtree`).
    pub parent: BTreeMap<String, String>,
    pub traits: BTreeMap<String, BTreeSet<String>>,
    pub aggregates: BTreeMap<String, BTreeSet<String>>,
    /// Sharing providers (`MISC_SHARES_VIA_AGGREGATE`) among those found,
    /// with the roots of the trees they serve.
    pub anchors: BTreeMap<String, BTreeSet<String>>,
}

impl Facts {
    /// Whether `p`, serving the tree of `root`, is in an aggregate of
    /// each clause (itself or through that root).
    fn member_at(&self, p: &str, root: &str, clauses: &[Vec<String>]) -> bool {
        let none = BTreeSet::new();
        let mine = self.aggregates.get(p).unwrap_or(&none);
        let roots = self.aggregates.get(root).unwrap_or(&none);
        clauses
            .iter()
            .all(|any| any.iter().any(|a| mine.contains(a) || roots.contains(a)))
    }

    /// Whether `p` or the root it serves is in any of `aggs`.
    fn in_any_at(&self, p: &str, root: &str, aggs: &BTreeSet<String>) -> bool {
        [p, root].iter().any(|x| {
            self.aggregates
                .get(*x)
                .is_some_and(|mine| mine.iter().any(|a| aggs.contains(a)))
        })
    }

    /// The roots whose trees `p` can serve: its own, and for a sharing
    /// provider those of its aggregates' members.
    pub(crate) fn roots_of<'a>(&'a self, p: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let own = self.root.get(p).map(String::as_str).unwrap_or(p);
        let shared = self
            .anchors
            .get(p)
            .into_iter()
            .flatten()
            .map(String::as_str);
        std::iter::once(own).chain(shared.filter(move |r| *r != own))
    }

    pub(crate) fn is_sharing(&self, p: &str) -> bool {
        self.anchors.contains_key(p)
    }

    /// Whether `a` is `p` or one of its ancestors.
    pub(crate) fn encloses(&self, a: &str, p: &str) -> bool {
        let mut at = Some(p);
        while let Some(x) = at {
            if x == a {
                return true;
            }
            at = self.parent.get(x).map(String::as_str);
        }
        false
    }

    pub(crate) fn traits_ok(&self, providers: &[&str], g: &Group) -> bool {
        let none = BTreeSet::new();
        let all: BTreeSet<&String> = providers
            .iter()
            .flat_map(|p| self.traits.get(*p).unwrap_or(&none))
            .collect();
        g.required.iter().all(|t| all.contains(t))
            && g.required_any
                .iter()
                .all(|any| any.iter().any(|t| all.contains(t)))
            && !g.forbidden.iter().any(|t| all.contains(t))
    }
}

/// Checks the classes and traits named exist (400 naming them).
pub async fn validate(ctx: &ServiceContext, groups: &[Group]) -> Result<(), Error> {
    for g in groups {
        for class in g.resources.keys() {
            if !super::resource_class::exists(ctx, class).await? {
                return Err(Error::BadRequest(format!(
                    "Invalid resource class in resources parameter: {class}"
                )));
            }
        }
        let named: Vec<String> = g
            .required
            .iter()
            .chain(g.required_any.iter().flatten())
            .chain(&g.forbidden)
            .cloned()
            .collect();
        let unknown = super::traits::unknown(ctx, &named).await?;
        if !unknown.is_empty() {
            return Err(super::traits::no_such(&unknown));
        }
    }
    Ok(())
}

pub async fn find(ctx: &ServiceContext, req: &Request) -> Result<Candidates, Error> {
    validate(ctx, &req.groups).await?;
    let root_traits: Vec<String> = req
        .root_required
        .iter()
        .chain(&req.root_forbidden)
        .cloned()
        .collect();
    let unknown = super::traits::unknown(ctx, &root_traits).await?;
    if !unknown.is_empty() {
        return Err(super::traits::no_such(&unknown));
    }
    let mut req = req.clone();
    for g in &mut req.groups {
        if let Some(p) = &g.in_tree
            && let Some(root) = super::resource_provider::root_of(ctx, p).await?
        {
            g.in_tree = Some(root);
        }
    }
    let req = &req;
    let db = ctx.db();
    let mut facts = Facts::default();
    // Per group, per class: the providers that could take the amount.
    let mut fits: Vec<BTreeMap<String, BTreeSet<String>>> = Vec::new();
    for g in &req.groups {
        let mut per = BTreeMap::new();
        for (class, amount) in &g.resources {
            let mut ok = BTreeSet::new();
            for m in db::fitting(db, class, *amount).await? {
                let used = m.used;
                let inv = Inventory::of(&m);
                if capacity::check(class, &m.provider_uuid, &inv, used, *amount).is_ok() {
                    facts.free.insert(
                        (m.provider_uuid.clone(), class.clone()),
                        capacity::capacity(&inv) - used,
                    );
                    ok.insert(m.provider_uuid);
                }
            }
            per.insert(class.clone(), ok);
        }
        fits.push(per);
    }
    let found: Vec<String> = fits
        .iter()
        .flat_map(|per| per.values().flatten().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for p in db::providers(db, &found).await? {
        facts.root.insert(p.uuid, p.root_uuid);
    }
    let sharing = db::sharing(db, &found.iter().map(String::as_str).collect()).await?;
    if !sharing.is_empty() {
        facts.anchors = db::anchors(db, &sharing).await?;
    }
    let mut with_roots: BTreeSet<String> = found.iter().cloned().collect();
    with_roots.extend(facts.root.values().cloned());
    with_roots.extend(facts.anchors.values().flatten().cloned());
    // A resourceless group (1.36) may be served by any provider of the
    // trees found, and `same_subtree` needs their shape: read them whole.
    let whole_trees = !req.same_subtree.is_empty();
    if whole_trees {
        let roots: Vec<String> = facts
            .root
            .values()
            .chain(facts.anchors.values().flatten())
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for p in db::trees(db, &roots).await? {
            if let Some(parent) = p.parent_uuid {
                facts.parent.insert(p.uuid.clone(), parent);
            }
            facts.root.insert(p.uuid.clone(), p.root_uuid);
            with_roots.insert(p.uuid);
        }
    }
    let with_roots: Vec<String> = with_roots.into_iter().collect();
    // Only what some group (or root_required) asks about is read.
    if !root_traits.is_empty() || whole_trees {
        facts.traits = db::traits(db, &with_roots).await?;
    } else if req
        .groups
        .iter()
        .any(|g| !g.required.is_empty() || !g.required_any.is_empty() || !g.forbidden.is_empty())
    {
        facts.traits = db::traits(db, &found).await?;
    }
    if req
        .groups
        .iter()
        .any(|g| !g.member_of.is_empty() || !g.not_member_of.is_empty())
    {
        facts.aggregates = db::aggregates(db, &with_roots).await?;
    }

    let (allocations, mappings): (Vec<_>, Vec<_>) =
        search::run(req, &fits, &facts).into_iter().unzip();
    let summaries = summarize(ctx, req, &allocations).await?;
    Ok(Candidates {
        allocations,
        mappings,
        summaries,
    })
}

/// The providers of the candidates (from 1.29 every provider of their
/// trees), with capacity, usage, traits and place in the tree.
async fn summarize(
    ctx: &ServiceContext,
    req: &Request,
    allocations: &[Allocation],
) -> Result<BTreeMap<String, Summary>, Error> {
    let db = ctx.db();
    let named: Vec<String> = allocations
        .iter()
        .flat_map(|a| a.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = db::providers(db, &named).await?;
    if req.nested {
        let roots: Vec<String> = rows
            .iter()
            .map(|p| p.root_uuid.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        rows = db::trees(db, &roots).await?;
    }
    let uuids: Vec<String> = rows.iter().map(|p| p.uuid.clone()).collect();
    let mut out: BTreeMap<String, Summary> = rows
        .into_iter()
        .map(|p| {
            let s = Summary {
                parent: p.parent_uuid,
                root: p.root_uuid,
                ..Summary::default()
            };
            (p.uuid, s)
        })
        .collect();
    for m in db::inventories(db, &uuids).await? {
        let used = m.used;
        if let Some(s) = out.get_mut(&m.provider_uuid) {
            let cap = capacity::capacity(&Inventory::of(&m));
            s.resources.insert(m.resource_class, (cap, used));
        }
    }
    for (p, traits) in db::traits(db, &uuids).await? {
        if let Some(s) = out.get_mut(&p) {
            s.traits = traits;
        }
    }
    Ok(out)
}
