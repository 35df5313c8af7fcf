//! Words and places of one appeal: jieba segmentation with part-of-speech tags, stop words and
//! appeal boilerplate removed, and place names rebuilt from the fragments jieba cuts them into.

use std::sync::LazyLock;

use jieba_rs::{Jieba, Tag};
use rustc_hash::FxHashSet;

use super::lexicon::{
    DROPPED_TAGS, FUNCTION_CHARS, GENERIC_ENDINGS, GENERIC_PLACES, STOP_WORDS, SUFFIXES, TIME_WORDS,
};

/// Loading the dictionary takes a noticeable fraction of a second; do it once per process.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

static STOPS: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

static GENERIC: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| GENERIC_PLACES.split_whitespace().collect());

/// How fine a place is. Appeals about one matter share their finest places; coarser levels only
/// rule out appeals from different districts or cities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Level {
    Province,
    City,
    County,
    Town,
    /// A road or street: where street matters (路灯, 井盖, 积水) are, and on the way to a site.
    Road,
    /// A compound, school, village, hospital, market...: where the matter actually is.
    Site,
}

impl Level {
    /// The levels compared by name containment (万科魅力之城小区 is 魅力之城小区).
    pub(crate) fn is_fine(self) -> bool {
        matches!(self, Level::Road | Level::Site)
    }
}

/// At most this many characters of name in front of a place ending (万科魅力之城 is six).
const MAX_CORE_CHARS: usize = 8;
/// Shorter cores only match exactly.
const MIN_MATCHED_CORE: usize = 3;
/// At most this many jieba fragments are glued in front of a place ending.
const MAX_CORE_TOKENS: usize = 4;

/// A place named in an appeal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Place {
    pub(crate) name: String,
    pub(crate) level: Level,
    /// The name without its ending (魅力之城 of 魅力之城小区); what variants are matched on.
    pub(crate) core: String,
}

impl Place {
    /// Two mentions of a site or road are the same place when their cores are equal or one core
    /// ends with the other (a developer's or district's name in front): 万科魅力之城小区,
    /// 魅力之城小区 and 魅力之城 agree, while 阳光小区 and 幸福小区 do not, nor 东方公馆 and
    /// 东方华府 (one core a prefix of the other: another compound of the same name family). A
    /// core of two characters must match exactly: 阳光小区 and 阳光花园 are not one compound.
    pub(crate) fn same_as(&self, other: &Place) -> bool {
        if self.level != other.level {
            return false;
        }
        if self.name == other.name {
            return true;
        }
        self.level.is_fine() && (self.within(other) || other.within(self))
    }

    /// Whether this place's core, if long enough to be telling, ends `other`'s core.
    pub(crate) fn within(&self, other: &Place) -> bool {
        self.core.chars().count() >= MIN_MATCHED_CORE && other.core.ends_with(&self.core)
    }
}

/// The words and places of one piece of text (a title or a detail).
#[derive(Debug, Default)]
pub(crate) struct Analysed {
    pub(crate) terms: Vec<String>,
    pub(crate) places: Vec<Place>,
}

/// How rare a word is in general Chinese: ln(total / frequency) over jieba's dictionary (whose
/// frequencies sum to about 6.0e7); a word jieba does not know counts as seen once.
pub(crate) fn background_idf(word: &str) -> f64 {
    const DICTIONARY_TOTAL: f64 = 60_101_964.0;
    (DICTIONARY_TOTAL / JIEBA.suggest_freq(word).max(1) as f64).ln()
}

/// Segments `text` and keeps what can tell one matter from another. The words that make up a
/// place name are not terms: the place is compared on its own (see `places`), so that two
/// different matters at one compound do not look alike through the compound's name.
pub(crate) fn analyse(text: &str) -> Analysed {
    let tags: Vec<Tag<'_>> = code_segments(text)
        .flat_map(|part| JIEBA.tag(part, true))
        .collect();
    let mut out = Analysed::default();
    // A token that ended a place stops the next place's backward walk, so that 劳动东路 in
    // "A5区劳动东路" does not swallow the district.
    let mut ended = vec![false; tags.len()];
    let mut in_place = vec![false; tags.len()];
    for (i, tag) in tags.iter().enumerate() {
        if let Some(last) = out
            .places
            .last_mut()
            .filter(|p| i > 0 && ended[i - 1] && p.level == Level::Site)
            && SUFFIXES
                .iter()
                .any(|(s, l)| *s == tag.word && *l == Level::Site)
        {
            // 魅力之城 + 小区: a bare ending right after a place extends it rather than starting
            // a nameless one. The core stays 魅力之, the distinctive part: a core with an ending
            // of its own would make 名城小区广场 contain every 某某名城小区.
            last.name.push_str(tag.word);
            ended[i] = true;
            in_place[i] = true;
        } else if let Some((start, place)) = place_ending_at(&tags, i, &ended) {
            ended[i] = true;
            in_place[start..=i].iter_mut().for_each(|f| *f = true);
            out.places.push(place);
        }
    }
    for (tag, placed) in tags.iter().zip(in_place) {
        if !placed && keep_as_term(tag) {
            out.terms.push(tag.word.to_owned());
        }
    }
    out
}

/// Splits the text after each coded district or city (A5区, K3县, A市: how this data set names
/// them). jieba does not know the codes and glues the ending to the next name (A1|区悦府,
/// A2|区南托), which would lose both places.
fn code_segments(text: &str) -> impl Iterator<Item = &str> {
    let mut cuts = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(_, c)) in chars.iter().enumerate() {
        if !matches!(c, '省' | '市' | '区' | '县') || k == 0 {
            continue;
        }
        // Walk back over digits to a Latin letter: "A5区", "K3县", "A市".
        let mut j = k;
        while j > 0 && chars[j - 1].1.is_ascii_digit() {
            j -= 1;
        }
        let coded = j > 0 && chars[j - 1].1.is_ascii_alphabetic();
        if let Some(&(next, _)) = chars.get(k + 1).filter(|_| coded) {
            cuts.push(next);
        }
    }
    let mut start = 0;
    cuts.into_iter()
        .chain(std::iter::once(text.len()))
        .filter_map(move |end| {
            let part = text.get(start..end);
            start = end;
            part.filter(|p| !p.is_empty())
        })
}

fn is_wordy(word: &str) -> bool {
    word.chars().all(|c| c.is_alphanumeric()) && word.chars().any(|c| !c.is_ascii_digit())
}

fn keep_as_term(tag: &Tag<'_>) -> bool {
    tag.word.chars().count() >= 2
        && is_wordy(tag.word)
        && !DROPPED_TAGS.contains(&tag.tag)
        && !STOPS.contains(tag.word)
}

/// Whether a fragment can be part of a proper name in front of a place ending.
fn is_name_part(tag: &Tag<'_>) -> bool {
    if tag.word == "之" {
        // 魅力之城: jieba tags 之 as a particle, but inside names it is common.
        return true;
    }
    let name_tag = matches!(tag.tag, "n" | "nr" | "ns" | "nz" | "nt" | "nrt" | "eng" | "j" | "x")
        || tag.tag.starts_with('n')
        || matches!(tag.tag, "vn" | "a" | "an" | "l" | "i" | "s")
        // 春天 of 春天公馆 is tagged as a time word; 今天 and 凌晨 are not names.
        || (tag.tag == "t" && !TIME_WORDS.contains(&tag.word));
    // Words jieba does not know (tag x) are often a name (帝景) but as often a function word
    // glued to its neighbour (内有, 日去).
    let glued = tag.tag == "x" && tag.word.chars().any(|c| FUNCTION_CHARS.contains(c));
    name_tag
        && !glued
        && tag.word.chars().all(|c| c.is_alphanumeric())
        && !STOPS.contains(tag.word)
        && !GENERIC.contains(tag.word)
}

fn suffix_of(word: &str) -> Option<(&'static str, Level)> {
    SUFFIXES.iter().copied().find(|(s, _)| word.ends_with(s))
}

/// If token `i` ends with a place ending, the place it completes with the fragments before it,
/// and the index of its first fragment.
fn place_ending_at(tags: &[Tag<'_>], i: usize, ended: &[bool]) -> Option<(usize, Place)> {
    let word = tags.get(i)?.word;
    // 走路 and 进城 end like places but are verbs.
    if !word.chars().all(|c| c.is_alphanumeric()) || tags[i].tag.starts_with('v') {
        return None;
    }
    let (suffix, level) = suffix_of(word)?;
    let own_core = word.chars().count() - suffix.chars().count();
    // District and city names are one word (西地省, 岳麓区) or a code and a bare ending (A5 + 区);
    // anything longer in front of a coarse ending is a sentence (专程去A5区), not a name.
    let (max_tokens, max_chars) = match (level, own_core) {
        (Level::Road | Level::Site, _) => (MAX_CORE_TOKENS, MAX_CORE_CHARS),
        (_, 0) => (1, MAX_CORE_CHARS),
        (_, 1) => return None,
        _ => (0, 0),
    };
    let mut core_chars = own_core;
    let mut start = i;
    // A word that is a whole place name by itself (东路) may still take a name in front
    // (劳动 + 东路), but a generic one (学校) needs it.
    while start > 0 && i - start < max_tokens {
        let prev = &tags[start - 1];
        if ended[start - 1] || !is_name_part(prev) {
            break;
        }
        let n = prev.word.chars().count();
        if core_chars + n > max_chars {
            break;
        }
        core_chars += n;
        start -= 1;
    }
    let name: String = tags[start..=i].iter().map(|t| t.word).collect();
    let min_core = if level.is_fine() { 2 } else { 1 };
    if core_chars < min_core
        || GENERIC.contains(name.as_str())
        || GENERIC_ENDINGS.iter().any(|e| name.ends_with(e))
    {
        return None;
    }
    let core: String = name.chars().take(core_chars).collect();
    // A core made only of digits or Latin letters (the 3 of 3路) is a number, not a name, below
    // the district level.
    if level.is_fine() && core.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((start, Place { name, level, core }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        analyse(text).places.into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn place_names_are_rebuilt_from_fragments() {
        let got = names("A5区劳动东路魅力之城小区临街门面烧烤夜宵摊");
        assert!(got.contains(&"A5区".to_owned()), "{got:?}");
        assert!(got.contains(&"劳动东路".to_owned()), "{got:?}");
        assert!(got.contains(&"魅力之城小区".to_owned()), "{got:?}");
        assert!(
            !names("本小区临街居民楼下")
                .iter()
                .any(|p| p.ends_with("小区"))
        );
    }

    #[test]
    fn variants_of_one_place_match_and_different_places_do_not() {
        let place = |t: &str| {
            analyse(t)
                .places
                .into_iter()
                .find(|p| p.level == Level::Site)
                .unwrap_or_else(|| {
                    panic!("no fine place in {t}");
                })
        };
        let a = place("万科魅力之城小区的业主");
        let b = place("劳动东路魅力之城小区");
        assert!(a.same_as(&b) && b.same_as(&a));
        assert!(place("魅力之城商铺").same_as(&b));
        assert!(!place("阳光小区路灯不亮").same_as(&place("幸福小区路灯不亮")));
        assert!(!place("万科东方公馆").same_as(&place("万科东方华府小区")));
        assert!(!place("南塘小区").same_as(&place("南塘小学")));
    }

    #[test]
    fn coded_districts_are_cut_from_the_next_name() {
        let got = names("A1区悦府小区门口，A4区翠湖名城");
        assert!(
            got.contains(&"A1区".to_owned()) && got.contains(&"A4区".to_owned()),
            "{got:?}"
        );
        assert!(!got.iter().any(|p| p.starts_with('区')), "{got:?}");
    }

    #[test]
    fn boilerplate_is_not_a_term() {
        let terms = analyse("领导您好，希望相关部门尽快解决这个问题，谢谢！").terms;
        assert!(terms.is_empty(), "{terms:?}");
    }
}
