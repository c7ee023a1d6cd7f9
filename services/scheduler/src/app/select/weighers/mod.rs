//! Weighers: each gives every candidate a raw score (higher is better);
//! scores are normalised to 0..1 across the candidates (min to max) and
//! multiplied by the weigher's configured weight
//! (`scheduler.weights.*`), so no weigher dominates by its units. Each
//! is one small file and unit-tested there.

mod distance;
mod image_locality;
mod network_quality;
mod soft_affinity;
mod spread;

use virga_common::config::WeightsConfig;

use super::spec::{Context, Host, Spec};

pub trait Weigher: Send + Sync {
    fn name(&self) -> &'static str;
    /// The weight it gets from the configuration.
    fn weight(&self, w: &WeightsConfig) -> f64;
    fn score(&self, spec: &Spec, host: &Host, cx: &Context) -> f64;
}

pub fn all() -> Vec<Box<dyn Weigher>> {
    vec![
        Box::new(image_locality::ImageLocality),
        Box::new(distance::Distance),
        Box::new(spread::Spread),
        Box::new(network_quality::NetworkQuality),
        Box::new(soft_affinity::SoftAffinity),
        Box::new(soft_affinity::SoftAntiAffinity),
    ]
}

/// Min-max normalised scores (all 0 when they are equal).
pub fn normalise(raw: &[f64]) -> Vec<f64> {
    let min = raw.iter().copied().fold(f64::INFINITY, f64::min);
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    raw.iter()
        .map(|x| {
            if max > min {
                (x - min) / (max - min)
            } else {
                0.0
            }
        })
        .collect()
}

/// Each host's total weight, in the hosts' order.
pub fn weigh(spec: &Spec, hosts: &[Host], w: &WeightsConfig, cx: &Context) -> Vec<f64> {
    let mut total = vec![0.0; hosts.len()];
    for weigher in all() {
        let weight = weigher.weight(w);
        if weight == 0.0 {
            continue;
        }
        let raw: Vec<f64> = hosts.iter().map(|h| weigher.score(spec, h, cx)).collect();
        for (t, n) in total.iter_mut().zip(normalise(&raw)) {
            *t += weight * n;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised() {
        assert_eq!(normalise(&[1.0, 3.0, 2.0]), vec![0.0, 1.0, 0.5]);
        assert_eq!(normalise(&[5.0, 5.0]), vec![0.0, 0.0]);
        assert!(normalise(&[]).is_empty());
    }
}
