//! Soft server groups (Nova's microversion 2.15): with `soft-affinity`
//! the node holding the most of the group's members wins, with
//! `soft-anti-affinity` the one holding the fewest; any node passes the
//! filters, so a group that cannot keep together (or apart) still gets
//! placed. The counts include this request's own picks so far.

use virga_common::config::WeightsConfig;

use super::super::spec::{Context, GroupPolicy, Host, Spec};
use super::Weigher;

fn members(spec: &Spec, host: &Host, cx: &Context, policy: GroupPolicy) -> f64 {
    match &spec.group {
        Some((_, p)) if *p == policy => {
            cx.group_nodes.get(&host.node.uuid).copied().unwrap_or(0) as f64
        }
        _ => 0.0,
    }
}

pub struct SoftAffinity;

impl Weigher for SoftAffinity {
    fn name(&self) -> &'static str {
        "soft_affinity"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.soft_affinity
    }

    fn score(&self, spec: &Spec, host: &Host, cx: &Context) -> f64 {
        members(spec, host, cx, GroupPolicy::SoftAffinity)
    }
}

pub struct SoftAntiAffinity;

impl Weigher for SoftAntiAffinity {
    fn name(&self) -> &'static str {
        "soft_anti_affinity"
    }

    fn weight(&self, w: &WeightsConfig) -> f64 {
        w.soft_anti_affinity
    }

    fn score(&self, spec: &Spec, host: &Host, cx: &Context) -> f64 {
        -members(spec, host, cx, GroupPolicy::SoftAntiAffinity)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::filters::fixture::{context, host};
    use super::super::weigh;
    use super::*;

    #[test]
    fn members_attract_or_repel() {
        let hosts = [host("a"), host("b"), host("c")];
        let mut cx = context();
        cx.group_nodes.insert("a".into(), 2);
        cx.group_nodes.insert("b".into(), 1);
        let spec = |p| Spec {
            group: Some(("g".into(), p)),
            ..Spec::default()
        };
        let only = WeightsConfig {
            image_locality: 0.0,
            distance: 0.0,
            spread: 0.0,
            network_quality: 0.0,
            soft_affinity: 1.0,
            soft_anti_affinity: 1.0,
        };
        assert_eq!(
            weigh(&spec(GroupPolicy::SoftAffinity), &hosts, &only, &cx),
            vec![1.0, 0.5, 0.0],
            "the most members first"
        );
        assert_eq!(
            weigh(&spec(GroupPolicy::SoftAntiAffinity), &hosts, &only, &cx),
            vec![0.0, 0.5, 1.0],
            "the fewest first"
        );
        for hard in [GroupPolicy::Affinity, GroupPolicy::AntiAffinity] {
            assert_eq!(
                weigh(&spec(hard), &hosts, &only, &cx),
                vec![0.0; 3],
                "{hard:?}: filtered, not weighed"
            );
        }
        assert_eq!(weigh(&Spec::default(), &hosts, &only, &cx), vec![0.0; 3]);
    }
}
