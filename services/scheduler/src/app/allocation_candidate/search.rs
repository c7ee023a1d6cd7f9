//! The combination search: within each tree, every assignment of the
//! request's slots to providers that fits, depth first, deduplicated,
//! stopping at the limit.

use std::collections::{BTreeMap, BTreeSet};

use super::{Allocation, Facts, MAX_CANDIDATES, Mapping, Policy, Request};

/// Classes and amounts one slot's provider supplies.
type Classes<'a> = Vec<(&'a str, i64)>;

/// A choice to make: one provider for `classes` of group `group`.
struct Slot<'a> {
    group: usize,
    classes: Classes<'a>,
    /// Whether this slot alone stands for its group (its provider must
    /// have the group's traits itself).
    whole_group: bool,
    /// Root → the providers of that tree that could serve.
    options: BTreeMap<&'a str, Vec<&'a str>>,
}

/// Candidate allocations for `req`, given each group's providers by
/// class, each with which providers serve which group.
pub(crate) fn run(
    req: &Request,
    fits: &[BTreeMap<String, BTreeSet<String>>],
    facts: &Facts,
) -> Vec<(Allocation, Mapping)> {
    let slots = slots(req, fits, facts);
    // Trees every slot can be served from.
    let mut roots: Option<BTreeSet<&str>> = None;
    for s in &slots {
        let here: BTreeSet<&str> = s.options.keys().copied().collect();
        roots = Some(match roots {
            None => here,
            Some(r) => r.intersection(&here).copied().collect(),
        });
    }
    let cap = req.limit.unwrap_or(MAX_CANDIDATES).min(MAX_CANDIDATES);
    let mut search = Search {
        req,
        facts,
        slots: &slots,
        chosen: Vec::new(),
        out: Vec::new(),
        seen: BTreeSet::new(),
        cap,
    };
    let none = BTreeSet::new();
    let root_ok = |root: &&str| {
        let has = facts.traits.get(*root).unwrap_or(&none);
        req.root_required.iter().all(|t| has.contains(t))
            && !req.root_forbidden.iter().any(|t| has.contains(t))
    };
    // Sorted, so a limit is repeatable.
    for root in roots.unwrap_or_default().into_iter().filter(root_ok) {
        if search.out.len() >= cap {
            break;
        }
        search.descend(root);
    }
    search.out
}

fn slots<'a>(
    req: &'a Request,
    fits: &'a [BTreeMap<String, BTreeSet<String>>],
    facts: &'a Facts,
) -> Vec<Slot<'a>> {
    let mut out = Vec::new();
    for (i, (g, per)) in req.groups.iter().zip(fits).enumerate() {
        // Whether `p` may serve this group in the tree of `root`. A
        // sharing provider serves its aggregates' trees, except when the
        // group names its tree (`in_tree`).
        let usable = |p: &str, root: &str| {
            let own = facts.root.get(p).map(String::as_str).unwrap_or(p);
            facts.member_at(p, root, &g.member_of)
                && !facts.in_any_at(p, root, &g.not_member_of)
                && g.in_tree.as_deref().is_none_or(|t| t == own && t == root)
        };
        // The unnumbered group spreads over a tree from 1.29, and over a
        // provider and sharing providers always (Placement 1.10's shared
        // storage).
        let spread = g.suffix.is_empty() && (req.nested || !facts.anchors.is_empty());
        let mut parts: Vec<(Classes, BTreeSet<&str>)> = Vec::new();
        if g.resources.is_empty() {
            // 1.36: one provider of the trees found with the group's
            // traits and aggregates; it takes nothing.
            let ps = facts.root.keys().map(String::as_str);
            parts.push((
                Vec::new(),
                ps.filter(|p| facts.traits_ok(&[p], g)).collect(),
            ));
        } else if spread {
            for (class, amount) in &g.resources {
                let ps = per[class].iter().map(String::as_str);
                parts.push((vec![(class.as_str(), *amount)], ps.collect()));
            }
        } else {
            let mut all: Option<BTreeSet<&str>> = None;
            for class in g.resources.keys() {
                let here: BTreeSet<&str> = per[class].iter().map(String::as_str).collect();
                all = Some(match all {
                    None => here,
                    Some(a) => a.intersection(&here).copied().collect(),
                });
            }
            let ps = all.unwrap_or_default().into_iter();
            let classes = g.resources.iter().map(|(c, n)| (c.as_str(), *n)).collect();
            parts.push((classes, ps.filter(|p| facts.traits_ok(&[p], g)).collect()));
        }
        for (classes, providers) in parts {
            let mut options: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for p in providers {
                for root in facts.roots_of(p).filter(|r| usable(p, r)) {
                    options.entry(root).or_default().push(p);
                }
            }
            out.push(Slot {
                group: i,
                classes,
                whole_group: !spread,
                options,
            });
        }
    }
    out
}

struct Search<'a> {
    req: &'a Request,
    facts: &'a Facts,
    slots: &'a [Slot<'a>],
    chosen: Vec<&'a str>,
    out: Vec<(Allocation, Mapping)>,
    /// Placement tells candidates apart by allocation and mapping both.
    seen: BTreeSet<(Allocation, Mapping)>,
    cap: usize,
}

impl<'a> Search<'a> {
    fn descend(&mut self, root: &'a str) {
        if self.out.len() >= self.cap {
            return;
        }
        let i = self.chosen.len();
        if i == self.slots.len() {
            return self.complete();
        }
        let slot = &self.slots[i];
        let Some(options) = slot.options.get(root) else {
            return;
        };
        for &p in options {
            if self.isolated_clash(slot, p) {
                continue;
            }
            self.chosen.push(p);
            if self.fits() {
                self.descend(root);
            }
            self.chosen.pop();
        }
    }

    /// With `isolate`, two suffixed groups never share a provider.
    fn isolated_clash(&self, slot: &Slot, p: &str) -> bool {
        let suffixed = |s: &Slot| !self.req.groups[s.group].suffix.is_empty();
        self.req.policy == Policy::Isolate
            && suffixed(slot)
            && self
                .chosen
                .iter()
                .zip(self.slots)
                .any(|(q, s)| *q == p && s.group != slot.group && suffixed(s))
    }

    /// Whether the amounts chosen so far fit together.
    fn fits(&self) -> bool {
        let mut sum: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for (p, s) in self.chosen.iter().zip(self.slots) {
            for (class, n) in &s.classes {
                *sum.entry((p, class)).or_insert(0) += n;
            }
        }
        sum.iter().all(|((p, c), n)| {
            self.facts
                .free
                .get(&(p.to_string(), c.to_string()))
                .is_some_and(|free| n <= free)
        })
    }

    fn complete(&mut self) {
        // A spread group's traits hold for its providers together.
        for (gi, g) in self.req.groups.iter().enumerate() {
            let spread: Vec<&str> = self
                .chosen
                .iter()
                .zip(self.slots)
                .filter(|(_, s)| s.group == gi && !s.whole_group)
                .map(|(p, _)| *p)
                .collect();
            if !spread.is_empty() && !self.facts.traits_ok(&spread, g) {
                return;
            }
            // Before 1.29 a tree gives one provider (sharing ones aside).
            let local: BTreeSet<&&str> = spread
                .iter()
                .filter(|p| !self.facts.is_sharing(p))
                .collect();
            if !self.req.nested && local.len() > 1 {
                return;
            }
        }
        let mut a = Allocation::new();
        for (p, s) in self.chosen.iter().zip(self.slots) {
            for (class, n) in &s.classes {
                *a.entry(p.to_string())
                    .or_default()
                    .entry(class.to_string())
                    .or_insert(0) += n;
            }
        }
        let mut m = Mapping::new();
        for (p, s) in self.chosen.iter().zip(self.slots) {
            let suffix = self.req.groups[s.group].suffix.clone();
            m.entry(suffix).or_default().insert(p.to_string());
        }
        if !self.same_subtrees(&m) {
            return;
        }
        if self.seen.insert((a.clone(), m.clone())) {
            self.out.push((a, m));
        }
    }

    /// 1.36: each `same_subtree` set's providers include one that
    /// encloses all the others.
    fn same_subtrees(&self, m: &Mapping) -> bool {
        self.req.same_subtree.iter().all(|set| {
            let ps: BTreeSet<&str> = set
                .iter()
                .filter_map(|suffix| m.get(suffix))
                .flatten()
                .map(String::as_str)
                .collect();
            ps.iter()
                .any(|a| ps.iter().all(|p| self.facts.encloses(a, p)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Group;
    use super::*;

    fn group(suffix: &str, resources: &[(&str, i64)], required: &[&str]) -> Group {
        Group {
            suffix: suffix.into(),
            resources: resources.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            required: required.iter().map(|t| t.to_string()).collect(),
            ..Group::default()
        }
    }

    /// A site `s` with nodes `n1`, `n2` (4 VCPU free each) and a GPU `g1`
    /// under `n1`; `lone` is a root of its own with 8 VCPU.
    fn facts() -> Facts {
        let mut f = Facts::default();
        for (p, root) in [
            ("s", "s"),
            ("n1", "s"),
            ("n2", "s"),
            ("g1", "s"),
            ("lone", "lone"),
        ] {
            f.root.insert(p.into(), root.into());
        }
        for (p, c, n) in [
            ("n1", "VCPU", 4),
            ("n2", "VCPU", 4),
            ("g1", "VGPU", 1),
            ("lone", "VCPU", 8),
        ] {
            f.free.insert((p.into(), c.into()), n);
        }
        f.traits
            .insert("g1".into(), ["CUSTOM_NPU".to_string()].into());
        f.traits
            .insert("n2".into(), ["HW_CPU_X86_AVX2".to_string()].into());
        f.aggregates
            .insert("s".into(), ["site-agg".to_string()].into());
        f
    }

    /// Each group's per-class providers: those with enough free.
    fn fits(req: &Request, f: &Facts) -> Vec<BTreeMap<String, BTreeSet<String>>> {
        req.groups
            .iter()
            .map(|g| {
                g.resources
                    .iter()
                    .map(|(c, n)| {
                        let ps = f
                            .free
                            .iter()
                            .filter(|((_, fc), free)| fc == c && *free >= n)
                            .map(|((p, _), _)| p.clone())
                            .collect();
                        (c.clone(), ps)
                    })
                    .collect()
            })
            .collect()
    }

    fn run_(req: &Request) -> Vec<Vec<(String, String, i64)>> {
        run_on(&facts(), req)
    }

    fn run_on(f: &Facts, req: &Request) -> Vec<Vec<(String, String, i64)>> {
        run(req, &fits(req, f), f)
            .into_iter()
            .map(|(a, _)| {
                a.into_iter()
                    .flat_map(|(p, r)| r.into_iter().map(move |(c, n)| (p.clone(), c, n)))
                    .collect()
            })
            .collect()
    }

    fn t(p: &str, c: &str, n: i64) -> (String, String, i64) {
        (p.into(), c.into(), n)
    }

    #[test]
    fn one_group_each_provider_with_room() {
        let req = Request {
            groups: vec![group("", &[("VCPU", 4)], &[])],
            ..Request::default()
        };
        assert_eq!(
            run_(&req),
            vec![
                vec![t("lone", "VCPU", 4)],
                vec![t("n1", "VCPU", 4)],
                vec![t("n2", "VCPU", 4)]
            ]
        );
        let limited = Request {
            limit: Some(1),
            ..req
        };
        assert_eq!(run_(&limited).len(), 1);
    }

    #[test]
    fn required_and_forbidden_traits() {
        let mut g = group("", &[("VCPU", 1)], &["HW_CPU_X86_AVX2"]);
        let req = Request {
            groups: vec![g.clone()],
            ..Request::default()
        };
        assert_eq!(run_(&req), vec![vec![t("n2", "VCPU", 1)]]);
        g.required.clear();
        g.forbidden.insert("HW_CPU_X86_AVX2".into());
        let req = Request {
            groups: vec![g],
            ..Request::default()
        };
        assert_eq!(run_(&req).len(), 2, "lone and n1");
    }

    #[test]
    fn groups_sharing_a_provider_must_fit_together() {
        let groups = vec![
            group("1", &[("VCPU", 3)], &[]),
            group("2", &[("VCPU", 3)], &[]),
        ];
        let req = Request {
            groups: groups.clone(),
            ..Request::default()
        };
        let got = run_(&req);
        assert!(
            got.contains(&vec![t("lone", "VCPU", 6)]),
            "8 free holds 3 + 3"
        );
        assert!(got.contains(&vec![t("n1", "VCPU", 3), t("n2", "VCPU", 3)]));
        assert!(
            !got.iter().any(|a| a == &vec![t("n1", "VCPU", 6)]),
            "4 free does not"
        );
        let isolated = Request {
            groups,
            policy: Policy::Isolate,
            ..Request::default()
        };
        let got = run_(&isolated);
        assert_eq!(
            got,
            vec![
                vec![t("n1", "VCPU", 3), t("n2", "VCPU", 3)],
                vec![t("n1", "VCPU", 3), t("n2", "VCPU", 3)]
            ],
            "distinct providers; group 1 on n1 or on n2 are two candidates (their mappings differ)"
        );
    }

    #[test]
    fn nested_spreads_the_unnumbered_group_over_one_tree() {
        let g = group("", &[("VCPU", 2), ("VGPU", 1)], &["CUSTOM_NPU"]);
        let flat = Request {
            groups: vec![g.clone()],
            ..Request::default()
        };
        assert!(run_(&flat).is_empty(), "no single provider has both");
        let nested = Request {
            groups: vec![g],
            nested: true,
            ..Request::default()
        };
        assert_eq!(
            run_(&nested),
            vec![
                vec![t("g1", "VGPU", 1), t("n1", "VCPU", 2)],
                vec![t("g1", "VGPU", 1), t("n2", "VCPU", 2)]
            ],
            "the GPU's trait counts for the group; lone's tree has no VGPU"
        );
    }

    #[test]
    fn member_of_holds_through_the_root() {
        let mut g = group("", &[("VCPU", 1)], &[]);
        g.member_of = vec![vec!["site-agg".into(), "other".into()]];
        let req = Request {
            groups: vec![g.clone()],
            ..Request::default()
        };
        assert_eq!(run_(&req).len(), 2, "n1 and n2 are in the site's aggregate");
        g.member_of.push(vec!["other".into()]);
        let req = Request {
            groups: vec![g],
            ..Request::default()
        };
        assert!(run_(&req).is_empty(), "every member_of must hold");
    }

    #[test]
    fn sharing_providers_serve_their_aggregates_trees() {
        // `ss`, shared storage, is in the aggregate of the site and the
        // lone box (the anchors the database gives).
        let mut f = facts();
        f.root.insert("ss".into(), "ss".into());
        f.free.insert(("ss".into(), "DISK_GB".into()), 100);
        let served = ["s", "lone", "ss"].map(String::from);
        f.anchors.insert("ss".into(), served.into());
        let both = group("", &[("VCPU", 1), ("DISK_GB", 10)], &[]);
        let flat = Request {
            groups: vec![both.clone()],
            ..Request::default()
        };
        let want = vec![
            vec![t("lone", "VCPU", 1), t("ss", "DISK_GB", 10)],
            vec![t("n1", "VCPU", 1), t("ss", "DISK_GB", 10)],
            vec![t("n2", "VCPU", 1), t("ss", "DISK_GB", 10)],
        ];
        assert_eq!(run_on(&f, &flat), want, "before 1.29 too");
        let nested = Request {
            groups: vec![both],
            nested: true,
            ..Request::default()
        };
        assert_eq!(run_on(&f, &nested), want);
        let disk = Request {
            groups: vec![group("1", &[("DISK_GB", 10)], &[])],
            ..Request::default()
        };
        assert_eq!(
            run_on(&f, &disk),
            vec![vec![t("ss", "DISK_GB", 10)]],
            "one candidate, however many trees it serves"
        );
        let mut tree = group("", &[("VCPU", 1), ("DISK_GB", 10)], &[]);
        tree.in_tree = Some("lone".into());
        let in_tree = Request {
            groups: vec![tree],
            ..Request::default()
        };
        assert!(
            run_on(&f, &in_tree).is_empty(),
            "in_tree leaves sharing providers out"
        );
        let mut agg = group("", &[("VCPU", 1), ("DISK_GB", 10)], &[]);
        agg.member_of = vec![vec!["site-agg".into()]];
        let member = Request {
            groups: vec![agg],
            ..Request::default()
        };
        assert_eq!(
            run_on(&f, &member).len(),
            2,
            "n1 and n2 through their root; ss serving the site's tree counts as the site's"
        );
    }

    /// A compute node `cn` with two NUMA cells (4 VCPU each, the
    /// `HW_NUMA_ROOT` trait); `numa1` has an FPGA `fpga`.
    fn numa() -> Facts {
        let mut f = Facts::default();
        for (p, parent) in [("numa0", "cn"), ("numa1", "cn"), ("fpga", "numa1")] {
            f.parent.insert(p.into(), parent.into());
        }
        for p in ["cn", "numa0", "numa1", "fpga"] {
            f.root.insert(p.into(), "cn".into());
        }
        for (p, c, n) in [
            ("numa0", "VCPU", 4),
            ("numa1", "VCPU", 4),
            ("fpga", "FPGA", 1),
        ] {
            f.free.insert((p.into(), c.into()), n);
        }
        for p in ["numa0", "numa1"] {
            f.traits
                .insert(p.into(), ["HW_NUMA_ROOT".to_string()].into());
        }
        f
    }

    /// A candidate as (provider, class, amount) and (group, provider) lists.
    type Flat = (Vec<(String, String, i64)>, Vec<(String, String)>);

    fn mapped(req: &Request) -> Vec<Flat> {
        let f = numa();
        run(req, &fits(req, &f), &f)
            .into_iter()
            .map(|(a, m)| {
                let a = a
                    .into_iter()
                    .flat_map(|(p, r)| r.into_iter().map(move |(c, n)| (p.clone(), c, n)))
                    .collect();
                let m = m
                    .into_iter()
                    .flat_map(|(g, ps)| ps.into_iter().map(move |p| (g.clone(), p)))
                    .collect();
                (a, m)
            })
            .collect()
    }

    fn m(g: &str, p: &str) -> (String, String) {
        (g.into(), p.into())
    }

    #[test]
    fn same_subtree_keeps_groups_under_one_provider() {
        let groups = vec![
            group("_C", &[("VCPU", 1)], &[]),
            group("_A", &[("FPGA", 1)], &[]),
        ];
        let free = Request {
            groups: groups.clone(),
            ..Request::default()
        };
        assert_eq!(mapped(&free).len(), 2, "VCPU from either cell");
        let same = Request {
            groups,
            same_subtree: vec![["_C".to_string(), "_A".to_string()].into()],
            ..Request::default()
        };
        assert_eq!(
            mapped(&same),
            vec![(
                vec![t("fpga", "FPGA", 1), t("numa1", "VCPU", 1)],
                vec![m("_A", "fpga"), m("_C", "numa1")]
            )],
            "numa1 encloses the FPGA; numa0 and the FPGA have only cn above both"
        );
    }

    #[test]
    fn a_resourceless_group_maps_a_provider_and_takes_nothing() {
        let req = Request {
            groups: vec![
                group("_NUMA", &[], &["HW_NUMA_ROOT"]),
                group("_A", &[("FPGA", 1)], &[]),
            ],
            same_subtree: vec![["_NUMA".to_string(), "_A".to_string()].into()],
            ..Request::default()
        };
        assert_eq!(
            mapped(&req),
            vec![(
                vec![t("fpga", "FPGA", 1)],
                vec![m("_A", "fpga"), m("_NUMA", "numa1")]
            )]
        );
        let isolated = Request {
            groups: vec![
                group("_C", &[("VCPU", 1)], &[]),
                group("_NUMA", &[], &["HW_NUMA_ROOT"]),
            ],
            same_subtree: vec![["_NUMA".to_string(), "_C".to_string()].into()],
            policy: Policy::Isolate,
            ..Request::default()
        };
        assert!(
            mapped(&isolated).is_empty(),
            "a resourceless group counts for isolate: the cell would serve both"
        );
        let shared = Request {
            policy: Policy::None,
            ..isolated
        };
        assert_eq!(mapped(&shared).len(), 2, "each cell serves both groups");
    }
}
