//! The places of a batch: mentions of one place under several names (万科魅力之城小区,
//! 魅力之城小区, 魅力之城) share one id, so that "names the same place" is a set intersection
//! and a place vector.

use rustc_hash::FxHashMap;

use super::text::{Level, Place};

/// The levels at which two appeals naming different places cannot be about one matter. The
/// province is left out: nearly every appeal names the same one in passing.
pub(crate) const CONFLICT_LEVELS: [Level; 5] = [
    Level::Site,
    Level::Road,
    Level::Town,
    Level::County,
    Level::City,
];

/// The place ids of one appeal, per level of [`CONFLICT_LEVELS`], sorted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keys(pub(crate) [Vec<u32>; 5]);

impl Keys {
    /// The ids of the sites and roads.
    pub(crate) fn fine(&self) -> impl Iterator<Item = u32> + '_ {
        self.0[0].iter().chain(&self.0[1]).copied()
    }

    /// At some level both name places and none of them agree (阳光小区 against 幸福小区, A2区
    /// against A5区). Naming no place at a level is compatible with anything there.
    pub(crate) fn conflict(&self, other: &Keys) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| {
            !a.is_empty() && !b.is_empty() && !a.iter().any(|x| b.binary_search(x).is_ok())
        })
    }
}

impl Keys {
    /// The keys of an appeal from its places and their ids (see [`assign`]).
    pub(crate) fn new(places: &[Place], ids: &[Option<u32>]) -> Keys {
        let mut keys = Keys::default();
        for (place, id) in places.iter().zip(ids) {
            let slot = CONFLICT_LEVELS.iter().position(|l| *l == place.level);
            if let (Some(slot), Some(id)) = (slot, id) {
                keys.0[slot].push(*id);
            }
        }
        for slot in &mut keys.0 {
            slot.sort_unstable();
            slot.dedup();
        }
        keys
    }
}

/// Gives every mention an id: names at one level that are the same place (see
/// [`Place::same_as`]) get one id, transitively. Returns, per document, the id of each of its
/// places (None at the levels that are not compared).
pub(crate) fn assign(docs: &[&[Place]]) -> Vec<Vec<Option<u32>>> {
    let mut names: Vec<&Place> = docs
        .iter()
        .flat_map(|d| d.iter())
        .filter(|p| CONFLICT_LEVELS.contains(&p.level))
        .collect();
    names.sort_by(|a, b| (a.level, &a.name).cmp(&(b.level, &b.name)));
    names.dedup_by(|a, b| a.level == b.level && a.name == b.name);
    let mut parent: Vec<usize> = (0..names.len()).collect();
    // Cores are only compared when they share the shorter one's first two characters, found
    // through an index of every two-character window of every core: linear in the number of
    // names instead of quadratic.
    let mut windows: FxHashMap<(char, char), Vec<usize>> = FxHashMap::default();
    for (i, place) in names.iter().enumerate().filter(|(_, p)| p.level.is_fine()) {
        let chars: Vec<char> = place.core.chars().collect();
        let mut seen: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        seen.sort_unstable();
        seen.dedup();
        for key in seen {
            windows.entry(key).or_default().push(i);
        }
    }
    for (i, place) in names.iter().enumerate().filter(|(_, p)| p.level.is_fine()) {
        let mut core = place.core.chars();
        let (Some(first), Some(second)) = (core.next(), core.next()) else {
            continue;
        };
        for &j in windows.get(&(first, second)).map_or(&[][..], Vec::as_slice) {
            if i != j && place.within(names[j]) {
                union(&mut parent, i, j);
            }
        }
    }
    let mut ids: FxHashMap<(Level, &str), u32> = FxHashMap::default();
    let mut root_ids: FxHashMap<usize, u32> = FxHashMap::default();
    for (i, place) in names.iter().enumerate() {
        let root = find(&mut parent, i);
        let next = u32::try_from(root_ids.len()).unwrap_or(u32::MAX);
        let id = *root_ids.entry(root).or_insert(next);
        ids.insert((place.level, place.name.as_str()), id);
    }
    docs.iter()
        .map(|places| {
            places
                .iter()
                .map(|p| ids.get(&(p.level, p.name.as_str())).copied())
                .collect()
        })
        .collect()
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    // The smaller root wins, so ids do not depend on the order of the unions.
    let (lo, hi) = (ra.min(rb), ra.max(rb));
    parent[hi] = lo;
}
