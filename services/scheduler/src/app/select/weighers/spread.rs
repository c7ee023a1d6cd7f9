//! Spread or pack: the node's free share after the placement. With a
//! positive weight the emptiest node wins (spread: fewer noisy
//! neighbours, more headroom); with a negative one the fullest (pack:
//! whole nodes stay free, for large instances or powering off).

use virga_common::config::WeightsConfig;

use super::super::spec::{Context, Host, Spec};
use super::Weigher;

pub struct Spread;

impl Weigher for Spread {
    fn name(&self) -> &'static str {
        "spread"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.spread
    }

    fn score(&self, _: &Spec, host: &Host, _: &Context) -> f64 {
        host.free_share
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::filters::fixture::{context, host};
    use super::super::weigh;
    use super::*;

    #[test]
    fn spread_and_pack() {
        let (mut empty, mut full) = (host("a"), host("b"));
        (empty.free_share, full.free_share) = (0.9, 0.1);
        let hosts = [empty, full];
        let spec = Spec::default();
        let only = |spread| WeightsConfig {
            image_locality: 0.0,
            distance: 0.0,
            spread,
            network_quality: 0.0,
            soft_affinity: 0.0,
            soft_anti_affinity: 0.0,
        };
        assert_eq!(
            weigh(&spec, &hosts, &only(1.0), &context()),
            vec![1.0, 0.0],
            "spread prefers a"
        );
        assert_eq!(
            weigh(&spec, &hosts, &only(-1.0), &context()),
            vec![-1.0, 0.0],
            "pack prefers b"
        );
    }
}
