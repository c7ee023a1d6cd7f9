//! The node kinds the request accepts (`idc`, `mec`, `aio`, `gateway`).

use super::super::spec::{Context, Host, Spec};
use super::Filter;

pub struct NodeKind;

impl Filter for NodeKind {
    fn name(&self) -> &'static str {
        "node_kind"
    }

    fn passes(&self, spec: &Spec, host: &Host, _: &Context) -> bool {
        spec.node_kinds.is_empty() || spec.node_kinds.contains(&host.node.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn kinds() {
        let cx = context();
        let h = host("n1");
        assert!(NodeKind.passes(&Spec::default(), &h, &cx), "any");
        let mut spec = Spec {
            node_kinds: vec!["mec".into(), "idc".into()],
            ..Spec::default()
        };
        assert!(NodeKind.passes(&spec, &h, &cx));
        spec.node_kinds = vec!["gateway".into()];
        assert!(!NodeKind.passes(&spec, &h, &cx));
    }
}
