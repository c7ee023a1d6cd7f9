//! Checks on the shape of the rule-reference graph: no cycles (oslo would
//! recurse until Python's stack limit) and no chain deep enough to threaten
//! the stack during enforcement.

use crate::check::Check;

/// Longest chain of `rule:` references allowed; real policies stay under 5.
pub(crate) const MAX_DEPTH: usize = 32;

pub(crate) enum Shape {
    Ok,
    /// Rule indices around a cycle, the first repeated at the end.
    Cycle(Vec<usize>),
    /// A rule whose reference chain exceeds [`MAX_DEPTH`].
    TooDeep(usize),
}

/// Depth-first search over all rules, iterative so the check itself cannot
/// overflow the stack on a pathological file.
pub(crate) fn check(rules: &[Check]) -> Shape {
    let edges: Vec<Vec<usize>> = rules
        .iter()
        .map(|c| {
            let mut out = Vec::new();
            c.references(&mut out);
            out
        })
        .collect();
    // None: unvisited; Some(None): on the current path; Some(Some(d)): done,
    // with d the length of the longest reference chain below it.
    let mut depth: Vec<Option<Option<usize>>> = vec![None; rules.len()];
    for root in 0..rules.len() {
        if depth[root].is_some() {
            continue;
        }
        // (rule, next edge to follow)
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        depth[root] = Some(None);
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if let Some(&child) = edges[node].get(*next) {
                *next += 1;
                match depth[child] {
                    None => {
                        depth[child] = Some(None);
                        path.push((child, 0));
                    }
                    Some(None) => {
                        let from = path.iter().position(|&(n, _)| n == child).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].iter().map(|&(n, _)| n).collect();
                        cycle.push(child);
                        return Shape::Cycle(cycle);
                    }
                    Some(Some(_)) => {}
                }
                continue;
            }
            let below = edges[node]
                .iter()
                .filter_map(|&c| depth[c].flatten())
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            if below > MAX_DEPTH {
                return Shape::TooDeep(node);
            }
            depth[node] = Some(Some(below));
            path.pop();
        }
    }
    Shape::Ok
}
