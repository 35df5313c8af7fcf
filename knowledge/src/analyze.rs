//! How text becomes search terms, the same way for an article and for a query, so that the
//! ways citizens type still meet the words officials write:
//!
//! - normalised first: NFKC (full width → half width), lower case, traditional → simplified;
//! - `words`: jieba's search-mode words (the synonym list's terms added to its dictionary),
//!   without function words;
//! - `grams`: pairs of adjacent Han characters, so a word jieba cuts differently, or one wrong
//!   character (a shape typo: 公积全), still leaves most of the text matching;
//! - `concepts`: the synonym group of every synonym-list term in the text (百姓体: 老板不给钱 and
//!   欠薪 both mean 拖欠工资), spelt as the group's official term;
//! - `syllables`: pairs of adjacent toneless pinyin syllables of the Han text (gong_ji, ji_jin), so
//!   a homophone typo (公基金) matches, and typed pinyin (`gongjijin`) matches too;
//! - `word_pinyin`: each word's pinyin run together (`shebao`), and `initials`: each word's
//!   initials (`gjj`) and the initials of short character runs (`sbk`), for the title and tags.
//!
//! Latin letters in a query are read as pinyin when they split into valid syllables, and as
//! initials otherwise.

use std::collections::HashSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use jieba_rs::Jieba;
use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;

/// Words that carry no meaning for search (question words, pronouns, particles).
const STOPWORDS: &[&str] = &[
    "的",
    "了",
    "是",
    "我",
    "我们",
    "你",
    "您",
    "你们",
    "他",
    "她",
    "他们",
    "它",
    "在",
    "有",
    "和",
    "与",
    "及",
    "或",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "嘛",
    "怎么",
    "怎么办",
    "怎样",
    "如何",
    "什么",
    "哪里",
    "哪儿",
    "哪些",
    "哪个",
    "可以",
    "能",
    "能否",
    "能不能",
    "可不可以",
    "需要",
    "要",
    "请问",
    "请",
    "一下",
    "这个",
    "那个",
    "这",
    "那",
    "就",
    "都",
    "也",
    "还",
    "又",
    "被",
    "把",
    "给",
    "对",
    "向",
    "从",
    "到",
    "为",
    "为什么",
    "很",
    "太",
    "非常",
    "现在",
    "已经",
    "一个",
    "个",
    "些",
    "自己",
    "吗",
    "么",
    "着",
    "过",
    "会",
    "去",
    "来",
    "让",
    "该",
    "应该",
    "还是",
    "但是",
    "而且",
    "因为",
    "所以",
    "如果",
    "一直",
    "问",
    "想",
    "想问",
    "知道",
    "情况",
    "问题",
    "办",
    "谁",
    "多少",
    "几",
    "里",
    "上",
    "下",
    "中",
    "等",
    "之",
    "其",
    "而",
    "并",
    "于",
    "以",
    "后",
    "前",
    "时",
    "时候",
    "没",
    "不",
    "没有",
    "是否",
    "有没有",
    "可",
    "得",
    "地",
    "啥",
];

/// One group of the synonym list: the official term first, then what citizens say for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup {
    pub terms: Vec<String>,
}

/// A line of the synonym list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synonyms line {line}: {reason}")]
pub struct SynonymError {
    pub line: usize,
    pub reason: String,
}

/// Parses the synonym list: one group per line, terms separated by `,` (or `，`), the official
/// term first; `#` starts a comment; blank lines are skipped. A group needs two terms.
pub fn parse_synonyms(text: &str) -> Result<Vec<SynonymGroup>, SynonymError> {
    let mut groups = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let terms: Vec<String> = line
            .split([',', '，'])
            .map(|t| normalise(t.trim()))
            .filter(|t| !t.is_empty())
            .collect();
        if terms.len() < 2 {
            return Err(SynonymError {
                line: i + 1,
                reason: "a group needs the official term and at least one other".into(),
            });
        }
        if let Some(long) = terms.iter().find(|t| t.chars().count() > 20) {
            return Err(SynonymError {
                line: i + 1,
                reason: format!("the term {long} is longer than 20 characters"),
            });
        }
        groups.push(SynonymGroup { terms });
    }
    Ok(groups)
}

/// NFKC (full width → half width), lower case, traditional → simplified.
pub fn normalise(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    fast2s::convert(&folded)
}

pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// The toneless pinyin of one Han character (ü written `v`, as keyboards type it).
fn syllable(c: char) -> Option<String> {
    c.to_pinyin().map(|p| p.plain().replace('ü', "v"))
}

/// Every toneless syllable there is, from the pinyin table itself.
fn syllables() -> &'static HashSet<String> {
    static ALL: OnceLock<HashSet<String>> = OnceLock::new();
    ALL.get_or_init(|| {
        ('\u{4E00}'..='\u{9FFF}')
            .filter_map(syllable)
            .collect::<HashSet<_>>()
    })
}

/// Splits typed pinyin into syllables (`gongjijin` → gong ji jin), preferring fewer, longer
/// syllables; `None` when it does not split into valid syllables.
pub fn split_pinyin(s: &str) -> Option<Vec<String>> {
    let all = syllables();
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 || !chars.iter().all(char::is_ascii_lowercase) {
        return None;
    }
    // best[i]: the fewest syllables covering chars[..i], and where the last one starts.
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for end in 1..=n {
        for start in end.saturating_sub(6)..end {
            let Some((count, _)) = best[start] else {
                continue;
            };
            let piece: String = chars[start..end].iter().collect();
            if all.contains(&piece) && best[end].is_none_or(|(c, _)| count + 1 < c) {
                best[end] = Some((count + 1, start));
            }
        }
    }
    best[n]?;
    let mut out = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        out.push(chars[start..end].iter().collect());
        end = start;
    }
    out.reverse();
    Some(out)
}

/// The terms of one text, by kind; each list keeps repeats (term frequency counts).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Terms {
    pub words: Vec<String>,
    pub grams: Vec<String>,
    /// Single Han characters (kept for titles and tags: a shape typo in a two-character word,
    /// 渣士车 for 渣土车, leaves no pair in common, but its rare characters still match).
    pub chars: Vec<String>,
    pub concepts: Vec<String>,
    pub syllables: Vec<String>,
    pub word_pinyin: Vec<String>,
    pub initials: Vec<String>,
}

/// The analyzer: jieba with the synonym terms in its dictionary, and the synonym matcher.
pub struct Analyzer {
    jieba: Jieba,
    synonyms: Vec<SynonymGroup>,
    matcher: Option<AhoCorasick>,
    /// For each matcher pattern, its group.
    pattern_group: Vec<usize>,
    /// The Han terms' syllables (` she bao ka `), to find a term a query writes with a
    /// homophone typo (社宝卡, 公基金); and each pattern's group.
    sound_matcher: Option<AhoCorasick>,
    sound_group: Vec<usize>,
    stop: HashSet<&'static str>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("synonym_groups", &self.synonyms.len())
            .finish_non_exhaustive()
    }
}

impl Analyzer {
    pub fn new(synonyms: Vec<SynonymGroup>, extra_words: &[String]) -> Self {
        let mut jieba = Jieba::new();
        let mut patterns = Vec::new();
        let mut pattern_group = Vec::new();
        for (g, group) in synonyms.iter().enumerate() {
            for t in &group.terms {
                if t.chars().count() >= 2 && t.chars().all(is_han) {
                    jieba.add_word(t, Some(20_000), None);
                }
                patterns.push(t.clone());
                pattern_group.push(g);
            }
        }
        for w in extra_words {
            let w = normalise(w);
            if w.chars().count() >= 2 && w.chars().all(is_han) {
                jieba.add_word(&w, Some(20_000), None);
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        let mut sounds = Vec::new();
        let mut sound_group = Vec::new();
        for (g, group) in synonyms.iter().enumerate() {
            for t in &group.terms {
                if t.chars().count() >= 2 && t.chars().all(is_han) {
                    sounds.push(sound(t));
                    sound_group.push(g);
                }
            }
        }
        let sound_matcher = AhoCorasick::new(&sounds)
            .ok()
            .filter(|_| !sounds.is_empty());
        Self {
            jieba,
            synonyms,
            matcher,
            pattern_group,
            sound_matcher,
            sound_group,
            stop: STOPWORDS.iter().copied().collect(),
        }
    }

    pub fn synonyms(&self) -> &[SynonymGroup] {
        &self.synonyms
    }

    fn is_stop(&self, w: &str) -> bool {
        self.stop.contains(w)
    }

    /// The official terms of the synonym groups that `text` (normalised) mentions.
    fn concepts(&self, text: &str, out: &mut Vec<String>) {
        let Some(m) = &self.matcher else { return };
        for hit in m.find_iter(text) {
            let g = self.pattern_group[hit.pattern().as_usize()];
            out.push(self.synonyms[g].terms[0].clone());
        }
    }

    /// A Han run cut at its function words: 老板不给钱怎么办 → 老板, 给钱. Character pairs and
    /// pinyin are taken within pieces, so 怎么办 in a question does not make every question
    /// alike.
    fn pieces(&self, run: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        for w in self.jieba.cut(run, true) {
            if self.is_stop(w) {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            } else {
                cur.push_str(w);
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// The groups whose terms a Han run sounds like but does not spell (a homophone typo:
    /// 社宝卡 sounds as 社保卡), once each.
    fn sounds_like(&self, run: &str, spelt: &[String], out: &mut Vec<String>) {
        let Some(m) = &self.sound_matcher else { return };
        let heard = sound(run);
        for hit in m.find_overlapping_iter(&heard) {
            let term = &self.synonyms[self.sound_group[hit.pattern().as_usize()]].terms[0];
            if !spelt.contains(term) && !out.contains(term) {
                out.push(term.clone());
            }
        }
    }

    /// Jieba's search-mode words of one Han run, without function words.
    fn words_of(&self, run: &str, out: &mut Vec<String>) {
        for w in self.jieba.cut_for_search(run, true) {
            if !self.is_stop(w) {
                out.push(w.to_owned());
            }
        }
    }

    /// The terms of an article's text. `short` (title, tags) also gets word pinyin and initials.
    pub fn document(&self, text: &str, short: bool) -> Terms {
        let text = normalise(text);
        let mut t = Terms::default();
        self.concepts(&text, &mut t.concepts);
        for run in han_runs(&text) {
            self.words_of(&run, &mut t.words);
            for piece in self.pieces(&run) {
                grams(&piece, &mut t.grams);
                pinyin_pairs(&piece, &mut t.syllables);
                if short {
                    t.chars.extend(piece.chars().map(String::from));
                    for w in self.jieba.cut(&piece, true) {
                        if let Some((py, ini)) = word_pinyin(w) {
                            t.word_pinyin.push(py);
                            t.initials.push(ini);
                        }
                    }
                    run_initials(&piece, &mut t.initials);
                }
            }
        }
        for w in latin_words(&text) {
            t.words.push(w);
        }
        t
    }

    /// The terms of a query: its Han text as a document's, its Latin letters as pinyin or
    /// initials.
    pub fn query(&self, text: &str) -> Terms {
        let text = normalise(text);
        let mut t = Terms::default();
        self.concepts(&text, &mut t.concepts);
        let mut heard = Vec::new();
        for run in han_runs(&text) {
            self.sounds_like(&run, &t.concepts, &mut heard);
            self.words_of(&run, &mut t.words);
            for piece in self.pieces(&run) {
                grams(&piece, &mut t.grams);
                pinyin_pairs(&piece, &mut t.syllables);
                t.chars.extend(piece.chars().map(String::from));
                for w in self.jieba.cut(&piece, true) {
                    if let Some((py, _)) = word_pinyin(w) {
                        t.word_pinyin.push(py);
                    }
                }
            }
        }
        t.concepts.extend(heard);
        let chunks = latin_words(&text);
        let mut typed: Vec<String> = Vec::new();
        for chunk in &chunks {
            match split_pinyin(chunk) {
                Some(s) if chunk.chars().any(|c| "aeiouv".contains(c)) => {
                    t.word_pinyin.push(chunk.clone());
                    if s.len() > 1 {
                        // Typed words may run several together (`shebaoka`): each pair too.
                        for pair in s.windows(2) {
                            t.word_pinyin.push(pair.concat());
                        }
                    }
                    typed.extend(s);
                }
                _ if chunk.chars().count() <= 8
                    && chunk.chars().all(|c| c.is_ascii_lowercase()) =>
                {
                    t.initials.push(chunk.clone());
                    let c: Vec<char> = chunk.chars().collect();
                    for n in 2..c.len().min(4) {
                        for w in c.windows(n) {
                            t.initials.push(w.iter().collect());
                        }
                    }
                }
                _ => t.words.push(chunk.clone()),
            }
        }
        for pair in typed.windows(2) {
            t.syllables.push(format!("{}_{}", pair[0], pair[1]));
        }
        t
    }
}

/// The runs of Han characters of a normalised text.
fn han_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_han(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// The runs of ASCII letters and digits of a normalised text.
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The syllables of a Han text between spaces, with a space at each end: ` she bao ka `, so a
/// match starts and ends on syllable boundaries.
fn sound(han: &str) -> String {
    let mut out = String::from(" ");
    for s in han.chars().filter_map(syllable) {
        out.push_str(&s);
        out.push(' ');
    }
    out
}

/// Adjacent character pairs of a Han run (a single character stands alone).
fn grams(run: &str, out: &mut Vec<String>) {
    let c: Vec<char> = run.chars().collect();
    if c.len() == 1 {
        out.push(run.to_owned());
    }
    for w in c.windows(2) {
        out.push(w.iter().collect());
    }
}

/// Adjacent syllable pairs of a Han run: `gong_ji ji_jin`.
fn pinyin_pairs(run: &str, out: &mut Vec<String>) {
    let s: Vec<String> = run.chars().filter_map(syllable).collect();
    for w in s.windows(2) {
        out.push(format!("{}_{}", w[0], w[1]));
    }
}

/// A word's pinyin run together and its initials: (`gongjijin`, `gjj`).
fn word_pinyin(word: &str) -> Option<(String, String)> {
    if !word.chars().all(is_han) {
        return None;
    }
    let s: Vec<String> = word.chars().filter_map(syllable).collect();
    if s.is_empty() {
        return None;
    }
    let ini = s.iter().filter_map(|x| x.chars().next()).collect();
    Some((s.concat(), ini))
}

/// The initials of the run's 2-, 3- and 4-character windows: 社保卡 → sb, bk, sbk.
fn run_initials(run: &str, out: &mut Vec<String>) {
    let ini: Vec<char> = run
        .chars()
        .filter_map(syllable)
        .filter_map(|s| s.chars().next())
        .collect();
    for n in 2..=4 {
        for w in ini.windows(n) {
            out.push(w.iter().collect());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may fail loudly
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        let groups = parse_synonyms(
            "# comment\n拖欠工资,欠薪,老板不给钱\n社会保险，社保\n\n住房公积金,公积金,gjj\n",
        )
        .unwrap();
        Analyzer::new(groups, &[])
    }

    #[test]
    fn normalises_width_case_and_script() {
        assert_eq!(normalise("ＧＪＪ 公積金提取"), "gjj 公积金提取");
    }

    #[test]
    fn splits_typed_pinyin() {
        assert_eq!(
            split_pinyin("gongjijin"),
            Some(vec!["gong".into(), "ji".into(), "jin".into()])
        );
        assert_eq!(
            split_pinyin("shebaoka"),
            Some(vec!["she".into(), "bao".into(), "ka".into()])
        );
        assert_eq!(split_pinyin("gjj"), None);
        assert_eq!(split_pinyin("lvse"), Some(vec!["lv".into(), "se".into()]));
    }

    #[test]
    fn homophones_share_syllables() {
        let a = analyzer();
        let doc = a.document("住房公积金提取", true);
        let typo = a.query("公基金怎么提取");
        assert!(typo.syllables.iter().any(|s| s == "gong_ji"));
        assert!(typo.syllables.iter().all(|s| s.contains('_')));
        let shared = typo
            .syllables
            .iter()
            .filter(|s| doc.syllables.contains(s))
            .count();
        assert!(shared >= 3, "{:?} {:?}", typo.syllables, doc.syllables);
    }

    #[test]
    fn typed_pinyin_and_initials_meet_the_title() {
        let a = analyzer();
        let doc = a.document("社保卡丢了怎么补办", true);
        let q = a.query("shebaoka buban");
        assert!(
            q.syllables.iter().any(|s| doc.syllables.contains(s)),
            "{q:?}"
        );
        let q = a.query("sbk");
        assert_eq!(q.initials[0], "sbk");
        assert!(doc.initials.contains(&"sbk".to_owned()), "{doc:?}");
        assert!(q.words.is_empty() && q.grams.is_empty());
    }

    #[test]
    fn synonyms_become_the_official_term() {
        let a = analyzer();
        assert_eq!(a.query("老板不给钱怎么办").concepts, vec!["拖欠工资"]);
        assert_eq!(
            a.document("关于欠薪的投诉", false).concepts,
            vec!["拖欠工资"]
        );
        assert_eq!(a.query("社保断缴").concepts, vec!["社会保险"]);
    }

    #[test]
    fn a_term_written_with_a_homophone_typo_is_still_its_concept() {
        let a = analyzer();
        assert_eq!(a.query("公基金怎么取").concepts, vec!["住房公积金"]);
        assert_eq!(a.query("社宝断缴").concepts, vec!["社会保险"]);
        // Spelt right, it is found once, not twice.
        assert_eq!(a.query("公积金").concepts, vec!["住房公积金"]);
        // Typed pinyin is not matched by sound: across its guessed syllable boundaries it
        // found wrong terms more often than right ones (the evaluation fell).
        assert!(a.query("gongjijin tiqu").concepts.is_empty());
        // Articles are written right: the sound is only heard in queries.
        assert!(a.document("公基金", false).concepts.is_empty());
    }

    #[test]
    fn function_words_are_not_terms() {
        let a = analyzer();
        let q = a.query("我想问一下怎么办");
        assert!(!q.words.iter().any(|w| w == "怎么办" || w == "我"), "{q:?}");
    }

    #[test]
    fn a_bad_synonym_line_is_named() {
        let e = parse_synonyms("拖欠工资,欠薪\n只有一个\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
