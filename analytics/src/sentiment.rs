//! Sentiment (舆情) of an appeal: a score in [-1, 1] from a Chinese lexicon, with negation,
//! degree words, requests and contrast handled.
//!
//! # Method
//!
//! 1. **Lexicons.** Five word lists under `analytics/data/sentiment/`, compiled in:
//!    `positive.txt` and `negative.txt` (sentiment words with an optional weight, default 1;
//!    politeness formulas such as 谢谢 weigh 0.1), `negation.txt` (不, 没有, 未, 并非, 得不到 …),
//!    `intensity.txt` (word and weight: 非常 2.0, 很 1.5, 有点 0.7, 稍微 0.6 …) and
//!    `irrealis.txt` (希望, 请, 能否, 是否, 如何 …). Words already negated in their own
//!    characters (不满意, 没有解决, 不作为) are negative words in their own right. A sixth list,
//!    `neutral.txt`, holds words that only look sentimental (好几, 差不多, 不好意思); they are
//!    added to the segmenter so that the 好 or 差 inside them is never read alone.
//! 2. **Clauses and sentences.** The text is cut into clauses at ，,：:、~ and at the sentence
//!    ends 。.！!？?；;… and line breaks. The ！ and ？ that end a sentence count for each of
//!    its clauses.
//! 3. **Segmentation.** Each clause is segmented with jieba (default dictionary plus every
//!    list word, no HMM), and punctuation-only tokens are dropped. A token in no list that
//!    splits into list words and dictionary words with nothing left over (jieba's 不热情,
//!    及时处理, 不太) is split into them, unless it is in `neutral.txt`; two neighbouring tokens
//!    that together make a list word are joined (彻底解决 + 了 → 彻底 + 解决了). So 不满意
//!    scores the same whether jieba keeps it whole (one negative word, −1) or not (不 + 满意, −1).
//! 4. **Each sentiment word** of weight `w` looks back at most 3 tokens within its clause for
//!    modifiers (a sentiment word in between does not stop the look-back: 没有及时解决 negates
//!    both 及时 and 解决):
//!    * intensifiers *before* the first negation multiply: `I` = their product, capped at 3
//!      (非常不满意 = 2 × −1 = −2, 很不满意 = −1.5);
//!    * intensifiers *after* a negation soften instead of strengthening: each one multiplies by
//!      0.5 (不太满意 = 不是很满意 = −0.5, weaker than 不满意 = −1);
//!    * with `n` negations: `n = 0` keeps `w`; odd `n` flips a positive word fully (不及时 = −1)
//!      but a negative word only to `−0.5·w` (没有不满意, 不危险: litotes is faint praise);
//!      even `n ≥ 2` keeps the sign at half weight (不是不及时 = +0.5).
//!    * 严重 is both a negative word and an intensifier: it intensifies when a sentiment word
//!      follows within the window, and is a negative word otherwise.
//! 5. **Irrealis.** A positive contribution after an irrealis marker in the same sentence (not
//!    one right after 的, which is a noun: 你的建议很好), or in a sentence ending in a question
//!    mark, is multiplied by 0.1: 希望及时处理 and 收费合理吗 name a wish, not a good
//!    experience. Negative contributions are not damped (a complaint phrased as a request or a
//!    rhetorical question is still a complaint).
//! 6. **Emphasis.** Each ！ ending the sentence (at most 2) adds 0.3 to a multiplier of the
//!    sentence's contributions; each ？ (at most 2) adds 0.2 to the multiplier of its negative
//!    ones (为什么一直不解决？).
//! 7. **Contrast.** A clause that opens with 但是/但/可是/可/然而/不过/只是 weighs 1.5, one that
//!    opens with 虽然/虽/尽管/虽说 weighs 0.5: the point of "虽然…但是…" is after the turn.
//! 8. **Aggregation.** The contributions are summed over all clauses into `S`, and squashed:
//!    `score = S / (|S| + 1)`, in (−1, 1); an empty text scores 0. One plain 满意 gives 0.5.
//! 9. **Polarity.** `score ≥ 0.2` is positive, `score ≤ −0.2` negative, neutral in between
//!    (|S| < 0.25: a politeness formula or a wished-for good alone stays neutral).
//!
//! `negative_terms` and `positive_terms` are the phrases that contributed (the modifiers and
//! the word, as written: "非常不满意", "没有及时"), by the sign of their contribution.

mod lexicon;

use lexicon::{JIEBA, LEXICON, Role};
use serde::{Deserialize, Serialize};

/// The polarity of an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(strum::Display, strum::EnumString, strum::AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

impl Polarity {
    /// The label leaders read: 负面 / 中性 / 正面.
    pub fn label_zh(self) -> &'static str {
        match self {
            Polarity::Negative => "负面",
            Polarity::Neutral => "中性",
            Polarity::Positive => "正面",
        }
    }

    /// The polarity of a score, by the documented thresholds (±[`POLARITY_THRESHOLD`]).
    pub fn of_score(score: f64) -> Self {
        if score >= POLARITY_THRESHOLD {
            Polarity::Positive
        } else if score <= -POLARITY_THRESHOLD {
            Polarity::Negative
        } else {
            Polarity::Neutral
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sentiment {
    /// In [-1, 1]; negative is unhappy.
    pub score: f64,
    pub polarity: Polarity,
    /// The phrases that pulled the score down, in order of appearance, without repeats.
    pub negative_terms: Vec<String>,
    /// The phrases that pulled the score up.
    pub positive_terms: Vec<String>,
}

/// `|score|` at or above this is positive or negative.
pub const POLARITY_THRESHOLD: f64 = 0.2;
/// How many tokens before a sentiment word its modifiers may stand.
const WINDOW: usize = 3;
/// `k` of the squashing function `S / (|S| + k)`.
const SQUASH_K: f64 = 1.0;
/// What each intensifier after a negation multiplies by (不太满意).
const SOFTEN: f64 = 0.5;
/// The weight kept by a negated negative word, or a doubly negated one (没有不满意).
const LITOTES: f64 = 0.5;
/// The weight kept by a positive word in a wish, request or question.
const IRREALIS: f64 = 0.1;
/// The cap on the product of intensifiers (太太太差劲).
const MAX_INTENSITY: f64 = 3.0;
/// What each ！ ending a clause adds to its multiplier, and each ？ to its negative one.
const EXCLAIM_STEP: f64 = 0.3;
const QUESTION_STEP: f64 = 0.2;
/// At most this many marks of each kind count.
const MAX_MARKS: usize = 2;
const ADVERSATIVE: [&str; 7] = ["但是", "但", "可是", "可", "然而", "不过", "只是"];
const CONCESSIVE: [&str; 4] = ["虽然", "虽", "尽管", "虽说"];
const ADVERSATIVE_WEIGHT: f64 = 1.5;
const CONCESSIVE_WEIGHT: f64 = 0.5;

/// Scores one text (an appeal's title and detail, a reply, a return-visit note).
pub fn analyze(text: &str) -> Sentiment {
    let mut terms = Terms::default();
    let mut total = 0.0;
    // An irrealis marker reaches to the end of its sentence (希望政府提前规划，尽快解决).
    let mut irrealis = false;
    for clause in clauses(text) {
        total += score_clause(&clause, &mut irrealis, &mut terms);
        irrealis &= !clause.ends_sentence;
    }
    let score = squash(total);
    Sentiment {
        score,
        polarity: Polarity::of_score(score),
        negative_terms: terms.negative,
        positive_terms: terms.positive,
    }
}

/// `S / (|S| + k)`: odd, monotone, bounded by 1; non-finite sums (impossible with finite
/// weights, but cheap to guard) give 0.
fn squash(sum: f64) -> f64 {
    if sum.is_finite() {
        (sum / (sum.abs() + SQUASH_K)).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

#[derive(Default)]
struct Terms {
    negative: Vec<String>,
    positive: Vec<String>,
}

impl Terms {
    fn add(&mut self, term: &str, value: f64) {
        let list = if value < 0.0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        if !list.iter().any(|t| t == term) {
            list.push(term.to_owned());
        }
    }
}

/// A clause, the marks that ended its sentence, and whether it ends that sentence.
struct Clause<'a> {
    text: &'a str,
    exclaims: usize,
    questions: usize,
    ends_sentence: bool,
}

fn is_delimiter(c: char) -> bool {
    is_sentence_end(c) || matches!(c, '，' | ',' | '：' | ':' | '、' | '~' | '～')
}

fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '。' | '.' | '！' | '!' | '？' | '?' | '；' | ';' | '…' | '\n' | '\r'
    )
}

fn clauses(text: &str) -> Vec<Clause<'_>> {
    let mut out: Vec<Clause<'_>> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if !is_delimiter(c) {
            start = start.or(Some(i));
            continue;
        }
        if let Some(s) = start.take() {
            out.push(Clause {
                text: &text[s..i],
                exclaims: 0,
                questions: 0,
                ends_sentence: false,
            });
        }
        // Marks before the first clause have nothing to end or emphasise.
        if let Some(last) = out.last_mut() {
            last.exclaims += usize::from(matches!(c, '！' | '!'));
            last.questions += usize::from(matches!(c, '？' | '?'));
            last.ends_sentence |= is_sentence_end(c);
        }
    }
    if let Some(s) = start {
        out.push(Clause {
            text: &text[s..],
            exclaims: 0,
            questions: 0,
            ends_sentence: true,
        });
    }
    if let Some(last) = out.last_mut() {
        last.ends_sentence = true;
    }
    // The marks that end a sentence speak for all of its clauses.
    let mut marks = (0, 0);
    for clause in out.iter_mut().rev() {
        if clause.ends_sentence {
            marks = (clause.exclaims, clause.questions);
        }
        (clause.exclaims, clause.questions) = marks;
    }
    out
}

/// A scored piece of a clause: its byte span in the clause and its role, if any.
struct Piece {
    start: usize,
    end: usize,
    role: Option<Role>,
}

/// Segments a clause into pieces, splitting unknown compounds made of list words and joining
/// neighbours that make a list word together.
fn pieces(clause: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut offset = 0;
    for token in JIEBA.cut(clause, false) {
        let start = offset;
        // jieba's tokens cover the clause in order, so a running offset locates them.
        offset += token.len();
        if !token.chars().any(char::is_alphanumeric) {
            continue;
        }
        // 彻底解决 + 了: jieba's compound split off the 了 of the list word 解决了.
        if let Some(last) = out.last_mut().filter(|p| p.end == start)
            && let Some(role) = LEXICON.role(&clause[last.start..offset])
        {
            *last = Piece {
                start: last.start,
                end: offset,
                role: Some(role),
            };
            continue;
        }
        if let Some(role) = LEXICON.role(token) {
            out.push(Piece {
                start,
                end: offset,
                role: Some(role),
            });
        } else if let Some(parts) = LEXICON.decompose(token, |w| JIEBA.has_word(w)) {
            let mut at = start;
            for (word, role) in parts {
                out.push(Piece {
                    start: at,
                    end: at + word.len(),
                    role,
                });
                at += word.len();
            }
        } else {
            out.push(Piece {
                start,
                end: offset,
                role: None,
            });
        }
    }
    out
}

/// The signed weight of the piece at `i` if it acts as a sentiment word there.
fn sentiment_at(pieces: &[Piece], i: usize) -> Option<f64> {
    match pieces[i].role? {
        Role::Sentiment(w) => Some(w),
        Role::Dual { sentiment, .. } => {
            let follows = pieces[i + 1..]
                .iter()
                .take(WINDOW)
                .any(|p| matches!(p.role, Some(Role::Sentiment(_) | Role::Dual { .. })));
            (!follows).then_some(sentiment)
        }
        _ => None,
    }
}

/// The contribution of the sentiment word at `i` of weight `w` with the modifiers before it,
/// and the index of the first modifier that applied.
fn modified(pieces: &[Piece], i: usize, w: f64) -> (f64, usize) {
    let mut outer = 1.0;
    let mut inner = 1.0;
    let mut negations = 0usize;
    let mut first = i;
    for (j, piece) in pieces
        .iter()
        .enumerate()
        .take(i)
        .skip(i.saturating_sub(WINDOW))
    {
        let intensity = match piece.role {
            Some(Role::Negation) => {
                negations += 1;
                first = first.min(j);
                continue;
            }
            Some(Role::Intensity(x)) => x,
            // A Dual word before a sentiment word within the window is its intensifier.
            Some(Role::Dual { intensity, .. }) => intensity,
            _ => continue,
        };
        first = first.min(j);
        if negations == 0 {
            outer *= intensity;
        } else {
            inner *= SOFTEN;
        }
    }
    let base = match negations {
        0 => w,
        n if n % 2 == 1 && w > 0.0 => -w * inner,
        n if n % 2 == 1 => -w * LITOTES * inner,
        _ => w * LITOTES * inner,
    };
    (base * outer.min(MAX_INTENSITY), first)
}

fn score_clause(clause: &Clause<'_>, irrealis: &mut bool, terms: &mut Terms) -> f64 {
    let pieces = pieces(clause.text);
    let Some(head) = pieces.first() else {
        return 0.0;
    };
    let opening = &clause.text[head.start..head.end];
    let discourse = if ADVERSATIVE.contains(&opening) {
        ADVERSATIVE_WEIGHT
    } else if CONCESSIVE.contains(&opening) {
        CONCESSIVE_WEIGHT
    } else {
        1.0
    };
    let exclaim = 1.0 + EXCLAIM_STEP * clause.exclaims.min(MAX_MARKS) as f64;
    let question = QUESTION_STEP * clause.questions.min(MAX_MARKS) as f64;
    let mut total = 0.0;
    for i in 0..pieces.len() {
        if pieces[i].role == Some(Role::Irrealis) {
            // After 的 the marker is a noun (你的建议很好), not a wish.
            let noun = i > 0 && &clause.text[pieces[i - 1].start..pieces[i - 1].end] == "的";
            *irrealis |= !noun;
            continue;
        }
        let Some(w) = sentiment_at(&pieces, i) else {
            continue;
        };
        let (mut value, first) = modified(&pieces, i, w);
        if value > 0.0 {
            let wished = *irrealis || clause.questions > 0;
            value *= exclaim * if wished { IRREALIS } else { 1.0 };
        } else {
            value *= exclaim + question;
        }
        value *= discourse;
        terms.add(&clause.text[pieces[first].start..pieces[i].end], value);
        total += value;
    }
    total
}

#[cfg(test)]
mod tests;
