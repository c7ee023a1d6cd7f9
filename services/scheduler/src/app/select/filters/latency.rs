//! A latency budget: the site must be within `max_latency_ms` estimated
//! round trip of the request's location (`geo::rtt_ms`). A site with no
//! known location cannot promise a budget and is left out.

use super::super::geo;
use super::super::spec::{Context, Host, Spec};
use super::Filter;

pub struct Latency;

impl Filter for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn passes(&self, spec: &Spec, host: &Host, _: &Context) -> bool {
        let Some(near) = spec.near else { return true };
        let Some(budget) = near.max_latency_ms else {
            return true;
        };
        match (host.site.latitude, host.site.longitude) {
            (Some(lat), Some(lon)) => {
                geo::rtt_ms((near.latitude, near.longitude), (lat, lon)) <= budget
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::spec::Near;
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn budget() {
        let cx = context();
        let h = host("n1"); // Paris
        let london = |budget| Spec {
            near: Some(Near {
                latitude: 51.5074,
                longitude: -0.1278,
                max_latency_ms: budget,
            }),
            ..Spec::default()
        };
        assert!(Latency.passes(&london(None), &h, &cx), "no budget");
        assert!(Latency.passes(&london(Some(10.0)), &h, &cx), "~5 ms");
        assert!(!Latency.passes(&london(Some(3.0)), &h, &cx));
        let mut nowhere = host("n2");
        std::sync::Arc::make_mut(&mut nowhere.site).latitude = None;
        assert!(!Latency.passes(&london(Some(100.0)), &nowhere, &cx));
    }
}
