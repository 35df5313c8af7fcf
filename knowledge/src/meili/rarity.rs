//! How rare the terms are, as the server last counted them: each term of a query costs the
//! server a search, so the ones known to be common are not sent and the rest are sent most
//! telling first. Counts are kept a minute (another node's writes change them slowly) and
//! forgotten on this engine's own writes; a term not yet counted is sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::fields::Probe;

const KEEP: Duration = Duration::from_secs(60);
const MAX_TERMS: usize = 100_000;

/// The weight of a term's match: how rare it is among `n` articles (as the embedded engine's).
pub fn idf(df: usize, n: usize) -> f32 {
    (1.0 + n.saturating_sub(df) as f32 / (df as f32 + 0.5)).ln()
}

/// A term in more than a quarter of the articles tells them apart little.
pub fn common(df: usize, n: usize) -> bool {
    df * 4 > n && n >= 20
}

#[derive(Debug, Default)]
struct Counts {
    since: Option<Instant>,
    /// The number of articles.
    n: Option<usize>,
    /// (term, fields) → articles matching.
    df: HashMap<(String, &'static str), usize>,
}

#[derive(Debug, Default)]
pub struct Rarity(Mutex<Counts>);

fn key(p: &Probe) -> (String, &'static str) {
    (p.text.clone(), p.on[0])
}

impl Rarity {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        let mut c = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.since.is_none_or(|s| s.elapsed() > KEEP) || c.df.len() > MAX_TERMS {
            *c = Counts {
                since: Some(Instant::now()),
                ..Counts::default()
            };
        }
        f(&mut c)
    }

    pub fn forget(&self) {
        self.with(|c| *c = Counts::default());
    }

    /// The number of articles, when known.
    pub fn size(&self) -> Option<usize> {
        self.with(|c| c.n)
    }

    pub fn note_size(&self, n: usize) {
        self.with(|c| c.n = Some(n));
    }

    pub fn note(&self, p: &Probe, df: usize) {
        self.with(|c| c.df.insert(key(p), df));
    }

    /// The probes worth sending, in their order, at most `max`: those known to match nothing
    /// or to be common are left out (ordering by how rare the known ones are was tried: more
    /// pairs and characters crowded out words, and the evaluation fell).
    pub fn choose(&self, probes: Vec<Probe>, max: usize) -> Vec<Probe> {
        self.with(|c| {
            probes
                .into_iter()
                .filter(|p| match (c.df.get(&key(p)), c.n) {
                    (Some(&df), Some(n)) => df > 0 && !common(df, n),
                    _ => true,
                })
                .take(max)
                .collect()
        })
    }
}
