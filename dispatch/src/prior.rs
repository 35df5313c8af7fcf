//! The category tree as evidence: the words of each first-level class's second- and third-level
//! names (安全隐患, 园林绿化环卫 → 园林, 绿化, 环卫, …), found in an appeal's text, give one
//! feature per class. An appeal of a kind the labelled data lacks still names its matter in the
//! tree's words, so the class is recognised from the tree rather than from examples.

use std::collections::BTreeMap;

use crate::features::{Sparse, jieba, normalise};
use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

/// Names that say nothing of the matter.
const EMPTY_NAMES: [&str; 2] = ["其他", "其他污染"];

/// The tree's words with, for each, its share in each class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prior {
    /// The words, each with `(class index, share)`: the share of the tree's names containing the
    /// word that belong to that class (the shares of a word sum to one).
    pub words: Vec<(String, Vec<(u32, f32)>)>,
    /// The size of the feature values, against the unit-length TF-IDF vector.
    pub scale: f32,
    #[serde(skip)]
    matcher: Option<AhoCorasick>,
}

impl Prior {
    /// The words of the `tree`'s names under `classes`: each second- and third-level name cut by
    /// jieba into words of two or more characters; a word weighs in each class by the share of
    /// the names containing it that are of that class.
    pub fn fit(tree: &[CategoryPath], classes: &[String], scale: f32) -> Self {
        let mut names: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for path in tree {
            let Some(c) = classes.iter().position(|x| *x == path.level1) else {
                continue;
            };
            for name in [&path.level2, &path.level3] {
                if EMPTY_NAMES.contains(&name.as_str()) {
                    continue;
                }
                let of = names.entry(normalise(name)).or_default();
                if !of.contains(&c) {
                    of.push(c);
                }
            }
        }
        let mut counts: BTreeMap<String, Vec<f32>> = BTreeMap::new();
        for (name, of) in &names {
            let mut seen: Vec<&str> = jieba()
                .cut_for_search(name, true)
                .into_iter()
                .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphanumeric))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                let n = counts
                    .entry(w.to_owned())
                    .or_insert_with(|| vec![0.0; classes.len()]);
                // A name under two classes counts half in each.
                for c in of {
                    n[*c] += 1.0 / of.len() as f32;
                }
            }
        }
        let words = counts
            .into_iter()
            .map(|(w, n)| {
                let total: f32 = n.iter().sum();
                let shares = n
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x > 0.0)
                    .map(|(c, x)| (c as u32, x / total))
                    .collect();
                (w, shares)
            })
            .collect();
        let mut p = Self {
            words,
            scale,
            matcher: None,
        };
        p.rebuild();
        p
    }

    /// Scales each word by its rarity in `texts` (appeals, no labels needed): `ln((1 + n) /
    /// (1 + df))`, the IDF without its constant, so a word most appeals use (工作, 希望, 时间)
    /// weighs next to nothing and a specific one (噪音, 招生) fully.
    pub fn weigh_by_rarity(&mut self, texts: &[String]) {
        let mut df = vec![0usize; self.words.len()];
        for t in texts {
            for i in self.found(t) {
                df[i] += 1;
            }
        }
        let n = texts.len() as f32;
        for ((_, of), d) in self.words.iter_mut().zip(df) {
            let idf = ((1.0 + n) / (1.0 + d as f32)).ln();
            for (_, x) in of.iter_mut() {
                *x *= idf;
            }
        }
    }

    /// Builds the matcher of the words (after deserialising).
    pub fn rebuild(&mut self) {
        self.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(self.words.iter().map(|(w, _)| w.as_str()))
            .ok();
    }

    /// The indices of the words found in `text` (each once, ascending).
    pub fn found(&self, text: &str) -> Vec<usize> {
        self.found_in_normalised(&normalise(text))
    }

    /// [`Prior::found`] in a text already [`normalise`]d.
    pub fn found_in_normalised(&self, text: &str) -> Vec<usize> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        let mut found: Vec<usize> = m
            .find_overlapping_iter(text)
            .map(|hit| hit.pattern().as_usize())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Per class, the sum of the shares of the `found` words.
    pub fn evidence(&self, found: &[usize], classes: usize) -> Vec<f32> {
        let mut e = vec![0.0f32; classes];
        for i in found {
            for (c, share) in &self.words[*i].1 {
                if let Some(x) = e.get_mut(*c as usize) {
                    *x += share;
                }
            }
        }
        e
    }

    /// Appends the evidence of the `found` words to `x` as features `offset..offset + classes`:
    /// `scale × ln(1 + evidence)`, sublinear like the term frequencies.
    pub fn extend(&self, x: &mut Sparse, found: &[usize], classes: usize, offset: usize) {
        for (c, e) in self.evidence(found, classes).into_iter().enumerate() {
            if e > 0.0 {
                x.push(((offset + c) as u32, self.scale * e.ln_1p()));
            }
        }
    }
}

/// One leaf of the official category tree, with the names above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryPath {
    pub level1: String,
    pub level2: String,
    pub level3: String,
}

/// The leaves of the category tree's CSV (columns level1, level2, level3).
pub fn category_paths(csv_text: &str) -> Result<Vec<CategoryPath>, csv::Error> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        if let (Some(l1), Some(l2), Some(l3)) = (rec.get(0), rec.get(1), rec.get(2)) {
            out.push(CategoryPath {
                level1: l1.trim().to_owned(),
                level2: l2.trim().to_owned(),
                level3: l3.trim().to_owned(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, b: &str, c: &str) -> CategoryPath {
        CategoryPath {
            level1: a.into(),
            level2: b.into(),
            level3: c.into(),
        }
    }

    #[test]
    fn words_of_the_tree_weigh_by_their_share() {
        let classes = vec!["城乡建设".to_owned(), "环境保护".to_owned()];
        let tree = [
            row("城乡建设", "城市建设和市政管理", "园林绿化"),
            row("城乡建设", "城市建设和市政管理", "其他"),
            row("城乡建设", "安全生产", "安全生产管理"),
            row("环境保护", "环保管理", "环境执法"),
            row("政法", "治安管理", "园林盗窃"),
        ];
        let p = Prior::fit(&tree, &classes, 1.0);
        let share = |w: &str| p.words.iter().find(|(x, _)| x == w).map(|(_, s)| s.clone());
        assert_eq!(share("其他"), None, "an empty name is no evidence");
        assert_eq!(
            share("园林"),
            Some(vec![(0, 1.0)]),
            "政法 is not a class here"
        );
        assert!(
            share("园林绿化").is_some(),
            "a long word and its parts: {:?}",
            p.words
        );
        // 管理: two names of 城乡建设 (市政管理, 安全生产管理), one of 环境保护 (环保管理).
        let m = share("管理").unwrap();
        assert_eq!(m.len(), 2);
        assert!((m[0].1 - 2.0 / 3.0).abs() < 1e-6 && (m[1].1 - 1.0 / 3.0).abs() < 1e-6);
        // 园林 (once, however often), 园林绿化, 绿化, and 管理 by its shares.
        let e = p.evidence(&p.found("小区园林绿化无人管理，园林荒废"), 2);
        assert!((e[0] - (3.0 + 2.0 / 3.0)).abs() < 1e-5, "{e:?}");
        assert!((e[1] - 1.0 / 3.0).abs() < 1e-5, "{e:?}");
        assert_eq!(p.evidence(&p.found("公司拖欠工资"), 2), vec![0.0, 0.0]);
        let mut x: Sparse = vec![(0, 1.0)];
        p.extend(&mut x, &p.found("ＨＪ环境执法"), 2, 10);
        assert_eq!(x.len(), 2, "环境保护 only: {x:?}");
        assert_eq!(x[1].0, 11);
        assert!((x[1].1 - 2.0f32.ln_1p()).abs() < 1e-6, "{x:?}");
    }
}
