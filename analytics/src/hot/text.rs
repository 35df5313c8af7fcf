//! Words and places of one appeal: jieba segmentation with part-of-speech tags, stop words and
//! appeal boilerplate removed, and place names rebuilt from the fragments jieba cuts them into.

use std::sync::LazyLock;

use jieba_rs::{Jieba, Tag};
use rustc_hash::FxHashSet;

/// Loading the dictionary takes a noticeable fraction of a second; do it once per process.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Function words, plus the words every appeal uses whatever it is about (greetings, forms of
/// address, "please solve it"). Left in, they would make unrelated appeals look alike.
const STOP_WORDS: &str = "的 了 是 在 和 与 及 或 也 都 就 还 又 而 但 但是 可是 而且 并且 如果 因为 所以 \
虽然 虽说 即使 由于 为了 关于 对于 对 把 被 让 给 向 从 到 于 以 为 按 按照 根据 通过 等 等等 这 那 \
这个 那个 这些 那些 这样 那样 这种 那种 这里 那里 这边 什么 怎么 怎么办 为什么 如何 哪里 哪些 多少 \
我 我们 你 你们 您 他 他们 她 它 它们 自己 大家 本人 有 没有 没 无 不 不是 是否 能否 可以 能 能够 \
会 要 应该 应 需要 必须 已经 已 正在 现在 目前 之前 以后 之后 以前 一直 一下 一些 一个 一次 一样 \
其他 其中 很多 许多 所有 各种 每天 一天 还是 只是 不能 不要 得到 进行 出现 存在 甚至 非常 特别 \
真的 实在 到底 究竟 难道 其实 而是 然后 以及 此 该 本 其 吗 呢 吧 啊 呀 嘛 哦 整个 附近 周边 \
您好 你好 请问 请 领导 尊敬 书记 市长 局长 区长 省长 县长 主任 各位 领导干部 同志 谢谢 感谢 \
此致 敬礼 希望 问题 反映 反应 相关 相关部门 有关部门 部门 政府 市政府 市民 群众 老百姓 百姓 \
情况 投诉 举报 咨询 请求 要求 强烈要求 恳请 敬请 麻烦 帮忙 帮助 解决 处理 尽快 及时 落实 关注 \
重视 调查 回复 答复 诉求 建议 严重 影响 生活 正常 无法 根本 管理 工作 知道 觉得 认为 感觉 看到 \
发现 表示 告诉 说 问 想 今年 去年 时候 时间 期间 小时 最近 近期 长期 每年 多次 几年 年 月 日 \
一名 范围 范围内 事情 方面 原因 办法 地方 结果 希望能 是不是 有没有 怎样 居民 业主 住户";

/// Tags of words that never carry the matter: pronouns, prepositions, conjunctions, particles,
/// adverbs, numerals, measure words, interjections, onomatopoeia and locality words (上, 内).
const DROPPED_TAGS: &[&str] = &[
    "r", "p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "y", "d", "m", "mq", "q", "e", "o", "f",
];

static STOPS: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

/// How fine a place is. Appeals about one matter share their finest places; coarser levels only
/// rule out appeals from different districts or cities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Level {
    Province,
    City,
    County,
    Town,
    /// A compound, road, school, village, hospital...: where the matter actually is.
    Fine,
}

/// Endings that make a word a place, with their level. Longer endings come first so that 街道
/// wins over 道.
const SUFFIXES: &[(&str, Level)] = &[
    ("街道", Level::Town),
    ("小区", Level::Fine),
    ("社区", Level::Fine),
    ("花园", Level::Fine),
    ("家园", Level::Fine),
    ("公寓", Level::Fine),
    ("大厦", Level::Fine),
    ("广场", Level::Fine),
    ("学校", Level::Fine),
    ("学院", Level::Fine),
    ("院校", Level::Fine),
    ("大学", Level::Fine),
    ("中学", Level::Fine),
    ("小学", Level::Fine),
    ("幼儿园", Level::Fine),
    ("医院", Level::Fine),
    ("卫生院", Level::Fine),
    ("市场", Level::Fine),
    ("公园", Level::Fine),
    ("省", Level::Province),
    ("市", Level::City),
    ("州", Level::City),
    ("区", Level::County),
    ("县", Level::County),
    ("镇", Level::Town),
    ("乡", Level::Town),
    ("村", Level::Fine),
    ("苑", Level::Fine),
    ("园", Level::Fine),
    ("府", Level::Fine),
    ("城", Level::Fine),
    ("湾", Level::Fine),
    ("路", Level::Fine),
    ("街", Level::Fine),
    ("巷", Level::Fine),
    ("桥", Level::Fine),
    ("站", Level::Fine),
];

/// Words with a place ending that name no particular place (城市, 全区, 我市, 学校 alone...).
const GENERIC_PLACES: &str = "城市 全市 我市 本市 该市 市里 超市 门市 上市 城区 全区 本区 该区 \
地区 社区 小区 园区 辖区 景区 校区 山区 郊区 市区 片区 街区 区域 县城 全县 本县 该县 县里 全省 \
本省 外省 我省 各省 省里 全国 道路 马路 公路 思路 线路 出路 网路 铁路 学校 学院 院校 大学 中学 \
小学 医院 公园 花园 家园 校园 乐园 农村 乡村 村里 村村 新村 乡镇 城乡 城镇 车站 网站 站点 省城 \
进城 新城 老城 政府 公园 菜园 果园 家乡 老乡 下乡 回乡 套路 走路 一路 半路 水路 电路 退路 门路 \
销路 修路 让路 带路 长城 古城 京城 京城 影城 商城 开发区 新校区 老校区 本村 全村 该村";

/// Endings of facilities and offices that are what an appeal is about (the 公交站 to be built,
/// the 垃圾站 that smells) or whom it is addressed to (市政府), not where it is.
const GENERIC_ENDINGS: &[&str] = &[
    "政府", "公交站", "加油站", "垃圾站", "充电站", "收费站", "中转站", "地铁站", "火车站",
    "汽车站", "派出所", "委员会", "管理局", "家乡", "老乡", "下乡", "回乡",
];

static GENERIC: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| GENERIC_PLACES.split_whitespace().collect());

/// At most this many characters of name in front of a place ending (万科魅力之城 is six).
const MAX_CORE_CHARS: usize = 8;
/// Characters of function words; see `is_name_part`.
const FUNCTION_CHARS: &str = "有在去到内问向往找住买来从是的了和与对给被把让也都就还又我你他们这那";
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
    /// Two mentions of a fine place are the same place when one contains the other's core, so
    /// that 万科魅力之城小区, 魅力之城小区 and 魅力之城 agree while 阳光小区 and 幸福小区 do not.
    /// A core of two characters must match exactly: 阳光小区 and 阳光花园 are not one compound.
    pub(crate) fn same_as(&self, other: &Place) -> bool {
        if self.level != other.level {
            return false;
        }
        if self.name == other.name {
            return true;
        }
        self.level == Level::Fine && (self.within(other) || other.within(self))
    }

    /// Whether this place's core, if long enough to be telling, is part of `other`'s name.
    pub(crate) fn within(&self, other: &Place) -> bool {
        self.core.chars().count() >= MIN_MATCHED_CORE && other.name.contains(self.core.as_str())
    }
}

/// A word that can tell one matter from another.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    pub(crate) word: String,
    /// Characters before it in its text.
    pub(crate) at: usize,
    /// A dictionary word inside a longer term (油烟 of 油烟味).
    pub(crate) inner: bool,
}

/// The words and places of one piece of text (a title or a detail).
#[derive(Debug, Default)]
pub(crate) struct Analysed {
    pub(crate) terms: Vec<Term>,
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
    let tags = JIEBA.tag(text, true);
    let mut out = Analysed::default();
    // A token that ended a place stops the next place's backward walk, so that 劳动东路 in
    // "A5区劳动东路" does not swallow the district.
    let mut ended = vec![false; tags.len()];
    let mut in_place = vec![false; tags.len()];
    for (i, tag) in tags.iter().enumerate() {
        if let Some(last) = out.places.last_mut().filter(|p| i > 0 && ended[i - 1] && p.level == Level::Fine)
            && SUFFIXES.iter().any(|(s, l)| *s == tag.word && *l == Level::Fine)
        {
            // 魅力之城 + 小区: a bare ending right after a place extends it rather than starting
            // a nameless one.
            last.core = std::mem::take(&mut last.name);
            last.name = format!("{}{}", last.core, tag.word);
            ended[i] = true;
            in_place[i] = true;
        } else if let Some((start, place)) = place_ending_at(&tags, i, &ended) {
            ended[i] = true;
            in_place[start..=i].iter_mut().for_each(|f| *f = true);
            out.places.push(place);
        }
    }
    let mut at = 0;
    for (tag, placed) in tags.iter().zip(in_place) {
        if !placed && keep_as_term(tag) {
            out.terms.push(Term { word: tag.word.to_owned(), at, inner: false });
            add_inner(&mut out.terms, tag.word, at);
        }
        at += tag.word.chars().count();
    }
    out
}

/// 油烟味 and 油烟机 are about 油烟, 烧烤店 about 烧烤: the dictionary words inside a longer word
/// are extra, lighter terms, so that the two ways of saying it still meet.
fn add_inner(terms: &mut Vec<Term>, word: &str, at: usize) {
    let chars: Vec<char> = word.chars().collect();
    for width in 2..chars.len() {
        for window in chars.windows(width) {
            let inner: String = window.iter().collect();
            if JIEBA.has_word(&inner) && !STOPS.contains(inner.as_str()) {
                terms.push(Term { word: inner, at, inner: true });
            }
        }
    }
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
        || matches!(tag.tag, "vn" | "a" | "an" | "l" | "i");
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
        (Level::Fine, _) => (MAX_CORE_TOKENS, MAX_CORE_CHARS),
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
    let min_core = if level == Level::Fine { 2 } else { 1 };
    if core_chars < min_core
        || GENERIC.contains(name.as_str())
        || GENERIC_ENDINGS.iter().any(|e| name.ends_with(e))
    {
        return None;
    }
    let core: String = name.chars().take(core_chars).collect();
    // A core made only of digits or Latin letters (the 3 of 3路) is a number, not a name, below
    // the district level.
    if level == Level::Fine && core.chars().all(|c| c.is_ascii_alphanumeric()) {
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
        assert!(!names("本小区临街居民楼下").iter().any(|p| p.ends_with("小区")));
    }

    #[test]
    fn variants_of_one_place_match_and_different_places_do_not() {
        let place = |t: &str| {
            analyse(t).places.into_iter().find(|p| p.level == Level::Fine).unwrap_or_else(|| {
                panic!("no fine place in {t}");
            })
        };
        let a = place("万科魅力之城小区的业主");
        let b = place("劳动东路魅力之城小区");
        assert!(a.same_as(&b));
        assert!(!place("阳光小区路灯不亮").same_as(&place("幸福小区路灯不亮")));
    }

    #[test]
    fn boilerplate_is_not_a_term() {
        let terms: Vec<String> =
            analyse("领导您好，希望相关部门尽快解决这个问题，谢谢！").terms.into_iter().map(|t| t.word).collect();
        assert!(terms.is_empty(), "{terms:?}");
    }
}
