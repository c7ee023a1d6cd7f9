//! Server groups: with affinity every member goes to the node the group
//! already uses (any node for the first); with anti-affinity never to a
//! node it uses. The soft policies pass everywhere: weighers rank them.

use super::super::spec::{Context, GroupPolicy, Host, Spec};
use super::Filter;

pub struct Affinity;

impl Filter for Affinity {
    fn name(&self) -> &'static str {
        "affinity"
    }

    fn passes(&self, spec: &Spec, host: &Host, cx: &Context) -> bool {
        let used = cx.group_nodes.contains_key(&host.node.uuid);
        match spec.group.as_ref().map(|g| g.1) {
            None => true,
            Some(GroupPolicy::Affinity) => cx.group_nodes.is_empty() || used,
            Some(GroupPolicy::AntiAffinity) => !used,
            Some(GroupPolicy::SoftAffinity | GroupPolicy::SoftAntiAffinity) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn policies() {
        let mut cx = context();
        let (a, b) = (host("a"), host("b"));
        let spec = |p| Spec {
            group: Some(("g".into(), p)),
            ..Spec::default()
        };
        let aff = spec(GroupPolicy::Affinity);
        let anti = spec(GroupPolicy::AntiAffinity);
        assert!(
            Affinity.passes(&aff, &a, &cx) && Affinity.passes(&aff, &b, &cx),
            "first member: any"
        );
        assert!(Affinity.passes(&anti, &a, &cx));
        cx.group_nodes.insert("a".into(), 1);
        assert!(Affinity.passes(&aff, &a, &cx));
        assert!(!Affinity.passes(&aff, &b, &cx), "affinity keeps to a");
        assert!(!Affinity.passes(&anti, &a, &cx), "anti-affinity avoids a");
        assert!(Affinity.passes(&anti, &b, &cx));
        assert!(Affinity.passes(&Spec::default(), &b, &cx), "no group");
        for soft in [GroupPolicy::SoftAffinity, GroupPolicy::SoftAntiAffinity] {
            assert!(Affinity.passes(&spec(soft), &a, &cx), "{soft:?}: weighed");
            assert!(Affinity.passes(&spec(soft), &b, &cx), "{soft:?}: weighed");
        }
    }
}
