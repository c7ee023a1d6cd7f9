//! Only nodes that are up: heard from within `node_stale_secs`, not
//! disabled for maintenance, not forced down.

use super::super::spec::{Context, Host, Spec};
use super::Filter;
use crate::app::node::state;

pub struct Health;

impl Filter for Health {
    fn name(&self) -> &'static str {
        "health"
    }

    fn passes(&self, _: &Spec, host: &Host, cx: &Context) -> bool {
        state(&host.node, cx.stale_secs, cx.now) == "up"
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn up_only() {
        let (spec, cx) = (Spec::default(), context());
        let mut h = host("n1");
        assert!(Health.passes(&spec, &h, &cx), "heard 30 s ago");
        std::sync::Arc::make_mut(&mut h.node).last_seen =
            Some(cx.now - chrono::Duration::seconds(61));
        assert!(!Health.passes(&spec, &h, &cx), "silent past the threshold");
        std::sync::Arc::make_mut(&mut h.node).last_seen = None;
        assert!(!Health.passes(&spec, &h, &cx), "never heard");
        let mut d = host("n2");
        std::sync::Arc::make_mut(&mut d.node).disabled = true;
        assert!(!Health.passes(&spec, &d, &cx), "disabled");
        let mut f = host("n3");
        std::sync::Arc::make_mut(&mut f.node).forced_down = true;
        assert!(!Health.passes(&spec, &f, &cx), "forced down");
    }
}
