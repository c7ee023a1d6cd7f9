//! Virga's scheduling (`POST /scheduler/v1/select`): from a request spec
//! to claimed nodes. The in-memory host cache (`cache`, `host_state`)
//! gives the nodes with room and the right traits and devices (`hosts`);
//! `filters` drop those that are down, of the wrong kind or site, too
//! far, or against the group's policy; `weighers` rank a sample of the
//! rest; then each instance is claimed on the best node that
//! still fits (a lost race moves to the next), as a reservation that
//! expires unless confirmed (`claim`).

pub mod batch;
pub mod cache;
pub mod claim;
pub mod filters;
pub mod geo;
pub mod host_state;
pub mod hosts;
pub mod names;
pub mod spec;
pub mod weighers;

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_service::ServiceContext;

use super::allocation_candidate::{Allocation, Group};
use crate::db::reservation;
use cache::HostCache;
use spec::{Context, Spec};

/// One instance placed.
#[derive(Debug, Clone)]
pub struct Selection {
    pub consumer: String,
    pub node: String,
    pub site: String,
    pub allocation: Allocation,
    /// None: confirmed at once.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub selections: Vec<Selection>,
    /// The next best nodes, for a caller that must retry elsewhere.
    pub alternates: Vec<String>,
}

/// Alternates returned at most.
const ALTERNATES: usize = 5;

/// Candidates weighed per request (see `hosts`).
const SAMPLE: usize = 1000;

/// Unknown classes or traits are the caller's mistake (400 naming them),
/// not a reason no node fits.
async fn validate(ctx: &ServiceContext, spec: &Spec) -> Result<(), Error> {
    let node = Group {
        resources: spec.resources.clone(),
        required: spec.required.clone(),
        forbidden: spec.forbidden.clone(),
        ..Group::default()
    };
    let devices = spec.devices.iter().map(|d| Group {
        resources: d.resources.clone(),
        required: d.required.clone(),
        ..Group::default()
    });
    let groups: Vec<Group> = std::iter::once(node).chain(devices).collect();
    super::allocation_candidate::validate(ctx, &groups).await
}

pub async fn select(ctx: &ServiceContext, spec: &Spec) -> Result<Outcome, Error> {
    validate(ctx, spec).await?;
    // Expired claims go first, so their room counts.
    claim::reap_soon(ctx).await?;
    let mut cx = Context {
        now: Utc::now(),
        stale_secs: ctx.config().scheduler.node_stale_secs,
        group_nodes: Default::default(),
    };
    if let Some((g, _)) = &spec.group {
        for node in reservation::group_nodes(ctx.db(), g).await? {
            *cx.group_nodes.entry(node).or_default() += 1;
        }
    }
    let filters = filters::all();
    let hosts::Found { hosts, report } = HostCache::of(ctx)
        .read(ctx, |snap| hosts::find(snap, spec, &filters, &cx, SAMPLE))
        .await?;
    let w = &ctx.config().scheduler.weights;
    let mut weights = weighers::weigh(spec, &hosts, w, &cx);
    // Equal weights go by uuid, so a choice between the same nodes is
    // repeatable (which nodes are weighed is random already).
    let better = |weights: &[f64], a: &usize, b: &usize| {
        weights[*b]
            .total_cmp(&weights[*a])
            .then_with(|| hosts[*a].node.uuid.cmp(&hosts[*b].node.uuid))
    };
    // Only the best few are usually tried: those are sorted first, the
    // rest only if claims get that far.
    let mut order: Vec<usize> = (0..hosts.len()).collect();
    let head = (spec.consumers.len() + ALTERNATES + 8).min(order.len());
    if head < order.len() {
        order.select_nth_unstable_by(head, |a, b| better(&weights, a, b));
    }
    order[..head].sort_by(|a, b| better(&weights, a, b));
    let mut tail_sorted = head == order.len();
    let affinity = filters.iter().find(|f| f.name() == "affinity");
    let soft = spec.group.as_ref().is_some_and(|g| g.1.is_soft());
    let mut out = Outcome::default();
    for (i, consumer) in spec.consumers.iter().enumerate() {
        // A soft group's weights change with each member placed: every
        // instance is weighed anew, as Nova does.
        if soft && i > 0 {
            weights = weighers::weigh(spec, &hosts, w, &cx);
            order.sort_by(|a, b| better(&weights, a, b));
            tail_sorted = true;
        }
        let mut placed = None;
        for k in 0..order.len() {
            if k == head && !tail_sorted {
                order[head..].sort_by(|a, b| better(&weights, a, b));
                tail_sorted = true;
            }
            let h = &hosts[order[k]];
            // This request's own earlier picks count for its group.
            if spec.group.is_some() && affinity.is_some_and(|f| !f.passes(spec, h, &cx)) {
                continue;
            }
            let allocation = hosts::allocation(spec, h);
            if let Some(expires_at) = claim::claim(ctx, spec, consumer, h, &allocation).await? {
                placed = Some(Selection {
                    consumer: consumer.clone(),
                    node: h.node.uuid.clone(),
                    site: h.site.uuid.clone(),
                    allocation,
                    expires_at,
                });
                break;
            }
        }
        let Some(sel) = placed else {
            let done: Vec<String> = out.selections.iter().map(|s| s.consumer.clone()).collect();
            claim::release(ctx, &done).await?;
            return Err(Error::CodedConflict {
                code: "virga.no_valid_node",
                message: format!(
                    "No valid node was found for instance {} of {}: {}.",
                    out.selections.len() + 1,
                    spec.consumers.len(),
                    report.join(", ")
                ),
            });
        };
        if spec.group.is_some() {
            *cx.group_nodes.entry(sel.node.clone()).or_default() += 1;
        }
        out.selections.push(sel);
    }
    let chosen: Vec<&String> = out.selections.iter().map(|s| &s.node).collect();
    for &i in &order {
        let n = &hosts[i].node.uuid;
        if out.alternates.len() < ALTERNATES && !chosen.contains(&n) && !out.alternates.contains(n)
        {
            out.alternates.push(n.clone());
        }
    }
    tracing::info!(placed = out.selections.len(), candidates = %report.join(", "), "scheduled");
    Ok(out)
}
