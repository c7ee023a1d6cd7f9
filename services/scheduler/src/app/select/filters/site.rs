//! The sites, regions and site kinds the request accepts (its
//! availability zone, in Nova's words).

use super::super::spec::{Context, Host, Spec};
use super::Filter;

pub struct Site;

impl Filter for Site {
    fn name(&self) -> &'static str {
        "site"
    }

    fn passes(&self, spec: &Spec, host: &Host, _: &Context) -> bool {
        let any = |list: &[String], v: &String| list.is_empty() || list.contains(v);
        any(&spec.sites, &host.site.uuid)
            && any(&spec.regions, &host.site.region)
            && any(&spec.site_kinds, &host.site.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{context, host};
    use super::*;

    #[test]
    fn sites_regions_kinds() {
        let cx = context();
        let h = host("n1");
        assert!(Site.passes(&Spec::default(), &h, &cx));
        let spec = |sites: &[&str], regions: &[&str], kinds: &[&str]| Spec {
            sites: sites.iter().map(|s| s.to_string()).collect(),
            regions: regions.iter().map(|s| s.to_string()).collect(),
            site_kinds: kinds.iter().map(|s| s.to_string()).collect(),
            ..Spec::default()
        };
        assert!(Site.passes(&spec(&["s1", "s2"], &[], &[]), &h, &cx));
        assert!(!Site.passes(&spec(&["s2"], &[], &[]), &h, &cx));
        assert!(Site.passes(&spec(&[], &["eu"], &["idc"]), &h, &cx));
        assert!(!Site.passes(&spec(&[], &["us"], &[]), &h, &cx));
        assert!(!Site.passes(&spec(&[], &[], &["mec"]), &h, &cx));
    }
}
