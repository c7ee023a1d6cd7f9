//! The `[scheduler]` section: when a node counts as gone, how long an
//! unconfirmed claim holds, and how much each weigher counts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// A node not heard from for this long is excluded from scheduling
    /// and listed as down.
    pub node_stale_secs: u64,
    /// How long a claim `select` made holds unless the caller confirms
    /// it; then its resources return (a crashed caller leaks nothing).
    pub claim_ttl_secs: u64,
    /// How old `select`'s in-memory view of the nodes may grow before it
    /// is read again in the background. Changes made through this
    /// scheduler are seen at once; this bounds how long one made through
    /// another scheduler process may go unseen.
    pub host_cache_secs: u64,
    /// Each weigher's multiplier; 0 turns it off. Scores are normalised
    /// to 0..1 across the candidates before they are multiplied.
    pub weights: WeightsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightsConfig {
    /// Prefer nodes, then sites, that already hold the image (or most of
    /// a container image's layers).
    pub image_locality: f64,
    /// Prefer nodes near the request's location.
    pub distance: f64,
    /// Positive: spread (prefer the most free room); negative: pack.
    pub spread: f64,
    /// Prefer sites with a better measured link to the centre.
    pub network_quality: f64,
    /// A `soft-affinity` group: prefer nodes with more of its members.
    pub soft_affinity: f64,
    /// A `soft-anti-affinity` group: prefer nodes with fewer of them.
    pub soft_anti_affinity: f64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            node_stale_secs: 60,
            claim_ttl_secs: 300,
            host_cache_secs: 5,
            weights: WeightsConfig::default(),
        }
    }
}

impl Default for WeightsConfig {
    fn default() -> Self {
        WeightsConfig {
            image_locality: 2.0,
            distance: 1.0,
            spread: 1.0,
            network_quality: 0.5,
            // Above spread's, distance's and network quality's together,
            // so a group's preference holds unless the image's locality
            // outweighs it too.
            soft_affinity: 3.0,
            soft_anti_affinity: 3.0,
        }
    }
}

impl SchedulerConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if self.node_stale_secs < 1 {
            return Err((
                "scheduler.node_stale_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if self.claim_ttl_secs < 1 {
            return Err((
                "scheduler.claim_ttl_secs".into(),
                "must be at least 1".into(),
            ));
        }
        let w = &self.weights;
        for (k, v) in [
            ("image_locality", w.image_locality),
            ("distance", w.distance),
            ("spread", w.spread),
            ("network_quality", w.network_quality),
            ("soft_affinity", w.soft_affinity),
            ("soft_anti_affinity", w.soft_anti_affinity),
        ] {
            if !v.is_finite() {
                return Err((
                    format!("scheduler.weights.{k}"),
                    "must be a finite number".into(),
                ));
            }
        }
        Ok(())
    }
}
