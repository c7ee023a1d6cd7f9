//! Distance: nearer the request's location is better (negated estimated
//! round trip); a site with no location ranks last. No location in the
//! request: no preference.

use virga_common::config::WeightsConfig;

use super::super::geo;
use super::super::spec::{Context, Host, Spec};
use super::Weigher;

pub struct Distance;

impl Weigher for Distance {
    fn name(&self) -> &'static str {
        "distance"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.distance
    }

    fn score(&self, spec: &Spec, host: &Host, _: &Context) -> f64 {
        let Some(near) = spec.near else { return 0.0 };
        match (host.site.latitude, host.site.longitude) {
            (Some(lat), Some(lon)) => -geo::rtt_ms((near.latitude, near.longitude), (lat, lon)),
            // Farther than anything on Earth (~300 ms).
            _ => -1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::filters::fixture::{context, host};
    use super::super::super::spec::Near;
    use super::*;

    #[test]
    fn nearer_is_better() {
        let spec = Spec {
            near: Some(Near {
                latitude: 51.5,
                longitude: -0.12,
                max_latency_ms: None,
            }),
            ..Spec::default()
        };
        let paris = host("n1");
        let mut berlin = host("n2");
        let s = std::sync::Arc::make_mut(&mut berlin.site);
        (s.latitude, s.longitude) = (Some(52.52), Some(13.405));
        let mut unknown = host("n3");
        std::sync::Arc::make_mut(&mut unknown.site).latitude = None;
        let (p, b, u) = (
            Distance.score(&spec, &paris, &context()),
            Distance.score(&spec, &berlin, &context()),
            Distance.score(&spec, &unknown, &context()),
        );
        assert!(p > b && b > u, "{p} {b} {u}");
        assert_eq!(Distance.score(&Spec::default(), &paris, &context()), 0.0);
    }
}
