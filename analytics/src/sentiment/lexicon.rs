//! The word lists behind [`super::analyze`] and the segmenter that knows them.
//!
//! The lists are plain UTF-8 files under `analytics/data/sentiment/`, compiled in with
//! `include_str!` so the binary needs no data directory at run time. Every multi-character entry
//! is also added to jieba's dictionary: a lexicon word must come out of the segmenter whole
//! ("投诉无门", "辛苦了"), or the scorer would never see it.

use std::sync::LazyLock;

use jieba_rs::Jieba;
use rustc_hash::{FxHashMap, FxHashSet};

const POSITIVE: &str = include_str!("../../data/sentiment/positive.txt");
const NEGATIVE: &str = include_str!("../../data/sentiment/negative.txt");
const NEGATION: &str = include_str!("../../data/sentiment/negation.txt");
const INTENSITY: &str = include_str!("../../data/sentiment/intensity.txt");
const IRREALIS: &str = include_str!("../../data/sentiment/irrealis.txt");
const NEUTRAL: &str = include_str!("../../data/sentiment/neutral.txt");

/// What one segmented piece of a clause means to the scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Role {
    /// A sentiment word with its signed weight (praise > 0, complaint < 0).
    Sentiment(f64),
    /// Flips the sentiment words that follow within the window.
    Negation,
    /// Multiplies the sentiment words that follow within the window.
    Intensity(f64),
    /// A word that is an intensifier when a sentiment word follows it within the window
    /// ("严重影响", "严重污染") and a sentiment word of its own otherwise ("问题很严重").
    Dual { intensity: f64, sentiment: f64 },
    /// A wish, request, question or condition: positive words after it are not praise.
    Irrealis,
}

/// All word lists, keyed by word.
pub(super) struct Lexicon {
    roles: FxHashMap<&'static str, Role>,
    /// The words of `neutral.txt`, never split into list words.
    neutral: FxHashSet<&'static str>,
    /// The longest entry in characters, the bound of the decomposition search.
    longest: usize,
}

pub(super) static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::load);

/// jieba with its default dictionary plus every multi-character lexicon word, and the words of
/// `neutral.txt` that shield a sentiment character inside them (好几天 is not 好 + 几天).
pub(super) static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    let mut words: Vec<&str> = LEXICON
        .roles
        .keys()
        .chain(&LEXICON.neutral)
        .copied()
        .collect();
    // Shorter words first: each word's suggested frequency is computed against the dictionary as
    // it stands, so a longer word added after its prefix ("不满" then "不满意") still wins.
    words.sort_by_key(|w| (w.chars().count(), *w));
    for word in words {
        if word.chars().count() > 1 {
            jieba.add_word(word, None, None);
        }
    }
    jieba
});

/// One entry of a list file: the word and its weight, if the line gives one.
pub(super) type Entry = (&'static str, Option<f64>);

/// Parses one line of a list file: `word`, or `word<TAB>weight`, `#` starts a comment.
/// `Ok(None)` is a blank or comment line.
pub(super) fn parse_line(line: &'static str) -> Result<Option<Entry>, String> {
    let content = line.split('#').next().unwrap_or("").trim();
    if content.is_empty() {
        return Ok(None);
    }
    let mut fields = content.split('\t').map(str::trim).filter(|f| !f.is_empty());
    let word = fields.next().unwrap_or("");
    if word.chars().any(char::is_whitespace) {
        return Err(format!(
            "{line:?}: a word with a space (separate the weight with a TAB)"
        ));
    }
    let weight = match fields.next() {
        None => None,
        Some(w) => match w.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Some(v),
            _ => return Err(format!("{line:?}: the weight must be a positive number")),
        },
    };
    if fields.next().is_some() {
        return Err(format!("{line:?}: more than two fields"));
    }
    Ok(Some((word, weight)))
}

/// The entries of a list file; malformed lines are skipped here (the lexicon tests reject them).
pub(super) fn entries(text: &'static str) -> impl Iterator<Item = Entry> {
    text.lines()
        .filter_map(|line| parse_line(line).ok().flatten())
}

/// The list files by name, for the tests that check them.
#[cfg(test)]
const FILES: [(&str, &str); 6] = [
    ("positive.txt", POSITIVE),
    ("negative.txt", NEGATIVE),
    ("negation.txt", NEGATION),
    ("intensity.txt", INTENSITY),
    ("irrealis.txt", IRREALIS),
    ("neutral.txt", NEUTRAL),
];

impl Lexicon {
    fn load() -> Self {
        let mut roles: FxHashMap<&'static str, Role> = FxHashMap::default();
        for (word, weight) in entries(POSITIVE) {
            roles.insert(word, Role::Sentiment(weight.unwrap_or(1.0)));
        }
        for (word, weight) in entries(NEGATIVE) {
            roles.insert(word, Role::Sentiment(-weight.unwrap_or(1.0)));
        }
        for (word, _) in entries(NEGATION) {
            roles.insert(word, Role::Negation);
        }
        for (word, weight) in entries(INTENSITY) {
            let intensity = weight.unwrap_or(1.0);
            // A word in both a sentiment list and the intensity list plays either part,
            // decided by its neighbours when a clause is scored.
            let role = match roles.get(word) {
                Some(Role::Sentiment(sentiment)) => Role::Dual {
                    intensity,
                    sentiment: *sentiment,
                },
                _ => Role::Intensity(intensity),
            };
            roles.insert(word, role);
        }
        for (word, _) in entries(IRREALIS) {
            roles.insert(word, Role::Irrealis);
        }
        let neutral = entries(NEUTRAL).map(|(w, _)| w).collect();
        let longest = roles.keys().map(|w| w.chars().count()).max().unwrap_or(1);
        Lexicon {
            roles,
            neutral,
            longest,
        }
    }

    /// The role of a whole word, if it is in a list.
    pub(super) fn role(&self, word: &str) -> Option<Role> {
        self.roles.get(word).copied()
    }

    /// Splits a token that is not in any list into pieces when some of them are list words:
    /// jieba's own dictionary has compounds such as "不方便", "及时处理" or "不太" that the
    /// lists spell as parts. Each piece is the longest list word or dictionary word (two
    /// characters or more, `is_word`) at its position, a list word winning a tie; the compound is
    /// left alone (`None`) when it is a word of `neutral.txt`, when a character is left over (满意度 is a noun, not 满意 + 度; 负责人
    /// is not 负责 + 人) or when no piece is a list word. The dictionary words are part of the
    /// competition so that 不好意思 (an apology) splits as 不好 + 意思 and is left alone,
    /// rather than read as 不 + 好 + 意思.
    pub(super) fn decompose<'a>(
        &self,
        token: &'a str,
        is_word: impl Fn(&str) -> bool,
    ) -> Option<Vec<(&'a str, Option<Role>)>> {
        if self.role(token).is_some() || self.neutral.contains(token) {
            return None;
        }
        let bounds: Vec<usize> = token
            .char_indices()
            .map(|(i, _)| i)
            .chain([token.len()])
            .collect();
        let chars = bounds.len() - 1;
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < chars {
            // A piece is never the whole token, or nothing would be split.
            let limit = if at == 0 { chars - 1 } else { chars - at };
            let slice = |len: usize| &token[bounds[at]..bounds[at + len]];
            let listed = (1..=self.longest.min(limit))
                .rev()
                .find(|&len| self.role(slice(len)).is_some());
            let known = (2..=limit).rev().find(|&len| is_word(slice(len)));
            let (len, role) = match (listed, known) {
                (Some(l), Some(k)) if k > l => (k, None),
                (Some(l), _) => (l, self.role(slice(l))),
                (None, Some(k)) => (k, None),
                (None, None) => return None,
            };
            pieces.push((slice(len), role));
            at += len;
        }
        pieces
            .iter()
            .any(|(_, role)| role.is_some())
            .then_some(pieces)
    }
}

#[cfg(test)]
impl Lexicon {
    /// The split of a list word into other list words only, if it has one (不满意 → 不 + 满意).
    fn decompose_listed(&self, word: &'static str) -> Option<Vec<(&'static str, Role)>> {
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain([word.len()])
            .collect();
        let chars = bounds.len() - 1;
        let (mut at, mut parts) = (0, Vec::new());
        while at < chars {
            let limit = if at == 0 { chars - 1 } else { chars - at };
            let len = (1..=limit)
                .rev()
                .find(|&l| self.role(&word[bounds[at]..bounds[at + l]]).is_some())?;
            let piece = &word[bounds[at]..bounds[at + len]];
            parts.push((piece, self.role(piece)?));
            at += len;
        }
        Some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_are_well_formed() {
        for (name, text) in FILES {
            for line in text.lines() {
                assert!(parse_line(line).is_ok(), "{name}: {:?}", parse_line(line));
            }
            // The intensity list is word<TAB>weight on every line.
            if name == "intensity.txt" {
                assert!(
                    entries(text).all(|(_, w)| w.is_some()),
                    "{name}: a line without weight"
                );
            }
        }
    }

    #[test]
    fn no_word_is_in_two_incompatible_lists() {
        let words = |text| entries(text).map(|(w, _)| w).collect::<Vec<_>>();
        let lists = [
            words(POSITIVE),
            words(NEGATIVE),
            words(NEGATION),
            words(IRREALIS),
            words(NEUTRAL),
        ];
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for list in &lists {
            let mut own: FxHashSet<&str> = FxHashSet::default();
            for word in list {
                assert!(own.insert(word), "{word} twice in one list");
                assert!(!seen.contains(word), "{word} in two lists");
            }
            seen.extend(own);
        }
        // Only sentiment words may also be intensifiers (严重); a negation or an irrealis marker
        // that is also an intensifier would be ambiguous.
        for (word, _) in entries(INTENSITY) {
            let clash = lists[2..].iter().any(|list| list.contains(&word));
            assert!(
                !clash,
                "{word} is an intensifier and a negation, irrealis or neutral word"
            );
        }
    }

    #[test]
    fn no_entry_spells_out_a_degree_word() {
        // 很满意 as one entry would dodge the rule that softens 不是很满意.
        for (word, role) in &LEXICON.roles {
            let Role::Sentiment(_) = role else { continue };
            let Some(parts) = LEXICON.decompose_listed(word) else {
                continue;
            };
            let first = parts.first().map(|(_, role)| *role);
            assert!(
                !matches!(first, Some(Role::Intensity(_))),
                "{word} starts with a degree word"
            );
        }
    }

    #[test]
    fn the_lexicon_has_a_few_hundred_entries() {
        let total: usize = FILES.iter().map(|(_, text)| entries(text).count()).sum();
        assert!((400..=1000).contains(&total), "{total} entries");
    }

    #[test]
    fn jieba_keeps_lexicon_words_whole() {
        for word in [
            "投诉无门",
            "辛苦了",
            "不作为",
            "不满意",
            "乱收费",
            "没有解决",
            "严重影响",
        ] {
            let text = format!("他们{word}。");
            assert!(
                JIEBA.cut(&text, false).contains(&word),
                "{word}: {:?}",
                JIEBA.cut(&text, false)
            );
        }
    }

    #[test]
    fn compounds_decompose_into_list_words() {
        let split = |t| {
            let parts = LEXICON.decompose(t, |w| JIEBA.has_word(w));
            parts.map(|p| p.iter().map(|(w, _)| *w).collect::<Vec<_>>())
        };
        assert_eq!(split("不热情"), Some(vec!["不", "热情"]));
        assert_eq!(split("及时处理"), Some(vec!["及时", "处理"]));
        assert_eq!(split("处理及时"), Some(vec!["处理", "及时"]));
        assert_eq!(split("不太"), Some(vec!["不", "太"]));
        assert_eq!(split("不方便"), None, "a list word is not split");
        assert_eq!(split("满意度"), None);
        assert_eq!(split("负责人"), None);
        assert_eq!(split("不好意思"), None, "an apology, not 不 + 好");
        assert_eq!(split("更好"), None, "a neutral word");
    }
}
