//! Average-linkage agglomerative clustering over a sparse similarity graph, with cannot-link
//! pairs.
//!
//! Average linkage (the mean similarity over all cross pairs, a missing pair counting as 0) does
//! not chain the way single linkage does: one appeal that mentions both the 油烟 of one compound
//! and the 噪音 of another cannot glue the two groups together. Pairs that name incompatible
//! places are never in one cluster, however similar their words.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// A candidate merge in the heap: the best average first, then the lowest ids, so that the
/// result does not depend on hash order.
#[derive(Debug, PartialEq)]
struct Merge {
    average: f64,
    a: usize,
    b: usize,
}

impl Eq for Merge {}

impl Ord for Merge {
    fn cmp(&self, other: &Self) -> Ordering {
        self.average
            .total_cmp(&other.average)
            .then_with(|| other.a.cmp(&self.a))
            .then_with(|| other.b.cmp(&self.b))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A cluster's members and the sum of their vectors.
struct Group {
    members: Vec<usize>,
    sum: FxHashMap<u32, f64>,
}

/// Σ over all cross pairs of the pair's dot product, which is the dot product of the sums.
fn cross(a: &FxHashMap<u32, f64>, b: &FxHashMap<u32, f64>) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter_map(|(k, v)| large.get(k).map(|w| v * w))
        .sum()
}

/// Clusters the items whose similarity is the dot product of their `vectors`. Two clusters are
/// compared only when some pair in `neighbours` links them (the blocking), but then on their
/// exact average similarity over all |A|·|B| cross pairs. They merge while that average is at
/// least `threshold` and `compatible` holds for every cross pair. Returns the clusters (indices
/// ascending), in the order of their smallest member.
pub(crate) fn average_linkage(
    vectors: &[&[(u32, f64)]],
    neighbours: &[(usize, usize)],
    threshold: f64,
    compatible: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    let n = vectors.len();
    // Cluster ids: 0..n are the items; every merge makes a new id and retires its two parts, so a
    // heap entry whose parts are both alive is never stale.
    let mut groups: Vec<Option<Group>> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Some(Group {
                members: vec![i],
                sum: v.iter().copied().collect(),
            })
        })
        .collect();
    let mut links: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut heap = BinaryHeap::new();
    for &(i, j) in neighbours {
        if i < j && j < n {
            links[i].push(j);
            links[j].push(i);
            if let (Some(a), Some(b)) = (&groups[i], &groups[j]) {
                let average = cross(&a.sum, &b.sum);
                if average >= threshold {
                    heap.push(Merge {
                        average,
                        a: i,
                        b: j,
                    });
                }
            }
        }
    }
    while let Some(Merge { a, b, .. }) = heap.pop() {
        let (Some(left), Some(right)) = (&groups[a], &groups[b]) else {
            continue;
        };
        if !left
            .members
            .iter()
            .all(|&i| right.members.iter().all(|&j| compatible(i, j)))
        {
            continue;
        }
        let (Some(left), Some(right)) = (groups[a].take(), groups[b].take()) else {
            continue;
        };
        let (mut big, small) = if left.sum.len() >= right.sum.len() {
            (left, right)
        } else {
            (right, left)
        };
        for (k, v) in small.sum {
            *big.sum.entry(k).or_insert(0.0) += v;
        }
        big.members.extend(small.members);
        big.members.sort_unstable();
        let id = groups.len();
        let mut others: Vec<usize> = std::mem::take(&mut links[a]);
        others.append(&mut links[b]);
        others.retain(|&o| o != a && o != b && groups[o].is_some());
        others.sort_unstable();
        others.dedup();
        for &other in &others {
            let Some(group) = &groups[other] else {
                continue;
            };
            let average =
                cross(&big.sum, &group.sum) / (big.members.len() * group.members.len()) as f64;
            if average >= threshold {
                heap.push(Merge {
                    average,
                    a: other,
                    b: id,
                });
            }
            links[other].push(id);
        }
        links.push(others);
        groups.push(Some(big));
    }
    let mut out: Vec<Vec<usize>> = groups.into_iter().flatten().map(|g| g.members).collect();
    out.sort_unstable_by_key(|c| c.first().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit vectors whose pairwise dot products are the given similarities: item i gets weight
    /// on a private axis and √s on an axis it shares with j.
    fn vectors(n: usize, pairs: &[(usize, usize, f64)]) -> Vec<Vec<(u32, f64)>> {
        let mut v: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        for (k, &(i, j, s)) in pairs.iter().enumerate() {
            let axis = u32::try_from(n + k).unwrap_or(u32::MAX);
            v[i].push((axis, s.sqrt()));
            v[j].push((axis, s.sqrt()));
        }
        v
    }

    fn run(n: usize, pairs: &[(usize, usize, f64)], threshold: f64) -> Vec<Vec<usize>> {
        let v = vectors(n, pairs);
        let refs: Vec<&[(u32, f64)]> = v.iter().map(Vec::as_slice).collect();
        let links: Vec<(usize, usize)> = pairs.iter().map(|&(i, j, _)| (i, j)).collect();
        average_linkage(&refs, &links, threshold, |_, _| true)
    }

    #[test]
    fn average_linkage_does_not_chain() {
        // 0-1 and 2-3 are tight pairs; 1-2 is a single strong bridge. Single linkage would join
        // all four; the average over the 4 cross pairs (0.6 / 4) stays below the threshold.
        let got = run(4, &[(0, 1, 0.9), (2, 3, 0.9), (1, 2, 0.6)], 0.3);
        assert_eq!(got, vec![vec![0, 1], vec![2, 3]]);
        // A threshold below the bridge's average joins them: the test can fail.
        let got = run(4, &[(0, 1, 0.9), (2, 3, 0.9), (1, 2, 0.6)], 0.1);
        assert_eq!(got, vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn unlinked_pairs_count_at_their_real_similarity() {
        // 0-1 are neighbours (0.6); 2 is linked to 0 only (0.5) but as similar to 1 (0.5),
        // which was never listed as a pair: the average of 2 against {0, 1} is 0.5, not 0.25.
        let v = vectors(3, &[(0, 1, 0.6), (0, 2, 0.5), (1, 2, 0.5)]);
        let refs: Vec<&[(u32, f64)]> = v.iter().map(Vec::as_slice).collect();
        let got = average_linkage(&refs, &[(0, 1), (0, 2)], 0.4, |_, _| true);
        assert_eq!(got, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn cannot_link_pairs_stay_apart() {
        let v = vectors(3, &[(0, 1, 0.9), (1, 2, 0.9), (0, 2, 0.9)]);
        let refs: Vec<&[(u32, f64)]> = v.iter().map(Vec::as_slice).collect();
        let apart = |i: usize, j: usize| (i.min(j), i.max(j)) != (0, 2);
        let got = average_linkage(&refs, &[(0, 1), (1, 2), (0, 2)], 0.3, apart);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(!got.iter().any(|c| c.contains(&0) && c.contains(&2)));
    }
}
