//! The nodes the request names (a move to a chosen host: Nova's
//! requested destination) or rules out (the node a server moves from:
//! Nova's `ignore_hosts`).

use super::super::spec::{Context, Host, Spec};
use super::Filter;

pub struct Node;

impl Filter for Node {
    fn name(&self) -> &'static str {
        "node"
    }

    fn passes(&self, spec: &Spec, host: &Host, _: &Context) -> bool {
        let uuid = &host.node.uuid;
        (spec.nodes.is_empty() || spec.nodes.contains(uuid)) && !spec.ignore_nodes.contains(uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn named_and_ignored() {
        let cx = context();
        let h = host("n1");
        assert!(Node.passes(&Spec::default(), &h, &cx), "any");
        let named = |n: &[&str], ignored: &[&str]| Spec {
            nodes: n.iter().map(|s| s.to_string()).collect(),
            ignore_nodes: ignored.iter().map(|s| s.to_string()).collect(),
            ..Spec::default()
        };
        assert!(Node.passes(&named(&["n1", "n2"], &[]), &h, &cx));
        assert!(!Node.passes(&named(&["n2"], &[]), &h, &cx));
        assert!(!Node.passes(&named(&[], &["n1"]), &h, &cx));
        assert!(Node.passes(&named(&[], &["n2"]), &h, &cx));
        assert!(
            !Node.passes(&named(&["n1"], &["n1"]), &h, &cx),
            "ignoring wins"
        );
    }
}
