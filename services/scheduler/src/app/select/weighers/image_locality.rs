//! Image locality: a node that holds the image scores 1 (no download at
//! all); for a container image, the share of its layers the node holds
//! (shared base layers save storage and start-up time); a node whose
//! site already has it on another node scores 0.5 (a LAN copy, not a WAN
//! one).

use virga_common::config::WeightsConfig;

use super::super::spec::{Context, Host, Spec};
use super::Weigher;

pub struct ImageLocality;

impl Weigher for ImageLocality {
    fn name(&self) -> &'static str {
        "image_locality"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.image_locality
    }

    fn score(&self, spec: &Spec, host: &Host, _: &Context) -> f64 {
        let whole = spec
            .image_id
            .as_ref()
            .is_some_and(|i| host.images.as_ref().is_some_and(|h| h.contains(i)));
        if whole {
            return 1.0;
        }
        let layers = if spec.layers.is_empty() {
            0.0
        } else {
            let held = |l: &String| host.layers.as_ref().is_some_and(|h| h.contains(l));
            let n = spec.layers.iter().filter(|l| held(l)).count();
            n as f64 / spec.layers.len() as f64
        };
        let site = if host.site_has_image { 0.5 } else { 0.0 };
        layers.max(site)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::filters::fixture::{context, host};
    use super::*;

    #[test]
    fn whole_layers_site() {
        let spec = Spec {
            image_id: Some("img".into()),
            layers: vec![
                "sha256:a".into(),
                "sha256:b".into(),
                "sha256:c".into(),
                "sha256:d".into(),
            ],
            ..Spec::default()
        };
        let mut h = host("n1");
        assert_eq!(ImageLocality.score(&spec, &h, &context()), 0.0);
        h.site_has_image = true;
        assert_eq!(
            ImageLocality.score(&spec, &h, &context()),
            0.5,
            "at the site"
        );
        h.layers = Some(std::sync::Arc::new(
            ["sha256:a", "sha256:b", "sha256:c"]
                .map(String::from)
                .into(),
        ));
        assert_eq!(
            ImageLocality.score(&spec, &h, &context()),
            0.75,
            "3 of 4 layers"
        );
        h.images = Some(std::sync::Arc::new(["img".to_string()].into()));
        assert_eq!(ImageLocality.score(&spec, &h, &context()), 1.0);
        assert_eq!(
            ImageLocality.score(&Spec::default(), &host("n2"), &context()),
            0.0
        );
    }
}
