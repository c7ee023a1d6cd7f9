//! Network quality: sites with a better measured link to the centre
//! rank higher (usable bandwidth per millisecond of latency); they fetch
//! images faster and stay manageable. Unmeasured sites score 0.

use virga_common::config::WeightsConfig;

use super::super::spec::{Context, Host, Spec};
use super::Weigher;

pub struct NetworkQuality;

impl Weigher for NetworkQuality {
    fn name(&self) -> &'static str {
        "network_quality"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.network_quality
    }

    fn score(&self, _: &Spec, host: &Host, _: &Context) -> f64 {
        let s = &host.site;
        match (s.latency_ms, s.bandwidth_mbps, s.packet_loss) {
            (Some(l), Some(b), Some(p)) => b * (1.0 - p / 100.0) / (1.0 + l),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::filters::fixture::{context, host};
    use super::*;

    #[test]
    fn better_links_rank_higher() {
        let spec = Spec::default();
        let mut good = host("a");
        let s = std::sync::Arc::make_mut(&mut good.site);
        (s.latency_ms, s.bandwidth_mbps, s.packet_loss) = (Some(5.0), Some(1000.0), Some(0.0));
        let mut lossy = host("b");
        let s = std::sync::Arc::make_mut(&mut lossy.site);
        (s.latency_ms, s.bandwidth_mbps, s.packet_loss) = (Some(5.0), Some(1000.0), Some(50.0));
        let mut far = host("c");
        let s = std::sync::Arc::make_mut(&mut far.site);
        (s.latency_ms, s.bandwidth_mbps, s.packet_loss) = (Some(80.0), Some(1000.0), Some(0.0));
        let (g, l, f, u) = (
            NetworkQuality.score(&spec, &good, &context()),
            NetworkQuality.score(&spec, &lossy, &context()),
            NetworkQuality.score(&spec, &far, &context()),
            NetworkQuality.score(&spec, &host("d"), &context()),
        );
        assert!(g > l && l > f && f > u, "{g} {l} {f} {u}");
    }
}
