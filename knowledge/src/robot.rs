//! The citizens' Q&A robot: what it says to one question, given what the search found.
//!
//! A search engine's scores rank articles but mean nothing across queries (a pinyin query scores
//! a tenth of a Chinese one; an off-topic question still finds *something*). So the robot's
//! confidence is not the score: it is how much of the question the best article speaks about,
//! measured with the same analysis the search uses and the same for either engine:
//!
//! - the question's units are its words (jieba, without function words, so 怎么办 counts for
//!   nothing), typed pinyin words and typed initials (`gjj`), each weighted by its length;
//! - a word is covered when the article's title, tags or body have it, or in part by the share
//!   of its toneless syllable pairs the article has (a homophone or shape typo, 公基金, still
//!   counts); a synonym-list term in the question (老板不给钱) is covered when the article
//!   speaks of the same concept (拖欠工资);
//! - coverage = covered units / all units (weighted by their length), 0 to 1;
//! - confidence = coverage × (1 + lead) / 2, where lead = 1 − (second score / first score):
//!   an article that covers the question and stands clear of the next is trusted most.
//!
//! Then [`decide`] answers with the best article when it is confident, asks which one was meant
//! when the two best are about as good, and hands off to a person when the question is asked
//! for ("转人工") or nothing is good enough.

use std::collections::HashSet;

use serde::Serialize;

use crate::analyze::{Analyzer, normalise};
use crate::engine::SearchDoc;

/// When the robot answers, asks back or hands off (the defaults are tuned on the shipped query
/// set and off-topic questions: README, "The Q&A robot").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Below this confidence the robot does not answer: it hands off.
    pub answer_at: f32,
    /// Two answers are "close" when both cover at least this much of the question…
    pub clarify_coverage: f32,
    /// …the second's coverage is within this of the first's…
    pub close_coverage: f32,
    /// …and its search score is at least this share of the first's.
    pub close_score: f32,
    /// The most answers a clarifying question offers.
    pub options: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            answer_at: 0.35,
            clarify_coverage: 0.6,
            close_coverage: 0.1,
            close_score: 0.9,
            options: 3,
        }
    }
}

/// An article the search found, with how much of the question it covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub slug: String,
    pub title: String,
    pub score: f32,
    pub coverage: f32,
}

/// Why the robot gives the conversation to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::AsRefStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HandoffReason {
    /// The citizen asked for a person.
    Asked,
    /// The best answer covers too little of the question.
    LowConfidence,
    /// The search found nothing.
    NoMatch,
    /// The search engine could not be reached: a person answers rather than nobody.
    SearchDown,
}

impl HandoffReason {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Asked => "群众要求转人工",
            Self::LowConfidence => "机器人没有把握",
            Self::NoMatch => "知识库没有找到答案",
            Self::SearchDown => "知识库暂时无法检索",
        }
    }
}

/// What the robot does with one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Answer {
        best: Candidate,
        confidence: f32,
    },
    /// Two or more answers are about as good: ask which is meant.
    Clarify(Vec<Candidate>),
    Handoff(HandoffReason),
}

/// The words with which a citizen asks for a person rather than the robot.
const ASK_FOR_PERSON: &[&str] = &[
    "转人工",
    "人工服务",
    "人工客服",
    "找人工",
    "要人工",
    "接人工",
    "真人",
    "人工坐席",
    "找客服",
    "zhuanrengong",
    "rengong",
];

/// Whether the citizen asks for a person (a short message naming one; a long question that
/// mentions 人工 in passing is still a question).
pub fn asks_for_person(text: &str) -> bool {
    let t: String = normalise(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    t.chars().count() <= 12 && ASK_FOR_PERSON.iter().any(|w| t.contains(w))
}

/// How much of `question` the article `doc` speaks about (0 to 1; see the module comment).
pub fn coverage(analyzer: &Analyzer, question: &str, doc: &SearchDoc) -> f32 {
    let head = format!("{} {}", doc.title, doc.tags.join(" "));
    let short = analyzer.document(&head, true);
    let body = analyzer.document(&doc.body, false);
    let has = |list: &[String], x: &str| list.iter().any(|y| y == x);
    let doc_syllables: HashSet<&str> = short
        .syllables
        .iter()
        .chain(&body.syllables)
        .map(String::as_str)
        .collect();
    let doc_words: HashSet<&str> = short
        .words
        .iter()
        .chain(&body.words)
        .map(String::as_str)
        .collect();
    let text = normalise(question);
    let q = analyzer.query(&text);
    // The syllable pairs the question's synonym terms stand for, covered by the article's
    // concept (老板不给钱 in the question, 拖欠工资 in the article).
    let mut by_concept: HashSet<String> = HashSet::new();
    for group in analyzer.synonyms() {
        let official = group.terms[0].as_str();
        if !has(&q.concepts, official)
            || !(has(&short.concepts, official) || has(&body.concepts, official))
        {
            continue;
        }
        for term in group.terms.iter().filter(|t| text.contains(t.as_str())) {
            by_concept.extend(analyzer.query(term).syllables);
        }
    }
    let pairs_found = |pairs: &[String]| -> f32 {
        if pairs.is_empty() {
            return 0.0;
        }
        let found = pairs
            .iter()
            .filter(|p| doc_syllables.contains(p.as_str()) || by_concept.contains(p.as_str()))
            .count();
        found as f32 / pairs.len() as f32
    };
    let mut weight = 0.0_f32;
    let mut covered = 0.0_f32;
    let mut seen = HashSet::new();
    for w in q.words.iter().filter(|w| seen.insert(w.as_str())) {
        let chars = w.chars().count();
        let han = w.chars().all(crate::analyze::is_han);
        let credit = if doc_words.contains(w.as_str()) {
            1.0
        } else if han && chars >= 2 {
            pairs_found(&analyzer.query(w).syllables)
        } else {
            0.0
        };
        weight += chars as f32;
        covered += credit * chars as f32;
    }
    // Typed pinyin (its syllable pairs) and typed initials.
    for chunk in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|c| !c.is_empty())
    {
        match crate::analyze::split_pinyin(chunk) {
            Some(s) if s.len() >= 2 && chunk.chars().any(|c| "aeiouv".contains(c)) => {
                let pairs: Vec<String> =
                    s.windows(2).map(|p| format!("{}_{}", p[0], p[1])).collect();
                weight += s.len() as f32;
                covered += pairs_found(&pairs) * s.len() as f32;
            }
            Some(s) if s.len() == 1 => {}
            _ if has(&q.initials, chunk) => {
                let n = chunk.len() as f32;
                weight += n;
                if has(&short.initials, chunk) {
                    covered += n;
                }
            }
            _ => {}
        }
    }
    if weight == 0.0 {
        return 0.0;
    }
    covered / weight
}

/// The confidence in the search's best article: how much of the question it covers, scaled
/// down to half when the next article scores as well (coverage × (1 + lead) / 2, with lead =
/// 1 − second score / first score).
pub fn confidence(coverage: f32, score: f32, next_score: Option<f32>) -> f32 {
    let lead = match next_score {
        Some(n) if score > 0.0 => (1.0 - n / score).clamp(0.0, 1.0),
        Some(_) => 0.0,
        None => 1.0,
    };
    coverage * (0.5 + 0.5 * lead)
}

/// What to do with a question, given the candidates in the search's order.
pub fn decide(question: &str, candidates: &[Candidate], p: &Policy) -> Decision {
    if asks_for_person(question) {
        return Decision::Handoff(HandoffReason::Asked);
    }
    let Some(top) = candidates.first() else {
        return Decision::Handoff(HandoffReason::NoMatch);
    };
    if top.coverage >= p.clarify_coverage {
        let mut close: Vec<Candidate> = candidates
            .iter()
            .filter(|c| {
                c.coverage >= p.clarify_coverage
                    && c.coverage >= top.coverage - p.close_coverage
                    && c.score >= top.score * p.close_score
            })
            .cloned()
            .collect();
        if close.len() >= 2 {
            close.truncate(p.options);
            return Decision::Clarify(close);
        }
    }
    let c = confidence(top.coverage, top.score, candidates.get(1).map(|n| n.score));
    if c >= p.answer_at {
        Decision::Answer {
            best: top.clone(),
            confidence: c,
        }
    } else {
        Decision::Handoff(HandoffReason::LowConfidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(slug: &str, score: f32, coverage: f32) -> Candidate {
        Candidate {
            slug: slug.into(),
            title: slug.into(),
            score,
            coverage,
        }
    }

    #[test]
    fn a_person_is_asked_for_in_a_short_message_only() {
        assert!(asks_for_person("转人工"));
        assert!(asks_for_person("我要人工客服！"));
        assert!(asks_for_person("  轉人工  ")); // traditional characters too
        assert!(!asks_for_person("公积金怎么提取"));
        assert!(!asks_for_person(
            "我想问一下单位不给交社保的话能不能找人工智能方面的人帮忙"
        ));
    }

    #[test]
    fn confidence_is_coverage_scaled_by_the_lead() {
        assert_eq!(confidence(0.8, 100.0, None), 0.8);
        assert_eq!(confidence(0.8, 100.0, Some(100.0)), 0.4);
        assert!((confidence(0.8, 100.0, Some(50.0)) - 0.6).abs() < 1e-6);
    }

    #[test]
    fn the_decision_follows_confidence_and_closeness() {
        let p = Policy::default();
        assert_eq!(
            decide("转人工", &[c("a", 100.0, 1.0)], &p),
            Decision::Handoff(HandoffReason::Asked)
        );
        assert_eq!(
            decide("随便问问", &[], &p),
            Decision::Handoff(HandoffReason::NoMatch)
        );
        // Covers little of the question.
        assert_eq!(
            decide("x", &[c("a", 100.0, 0.3), c("b", 20.0, 0.3)], &p),
            Decision::Handoff(HandoffReason::LowConfidence)
        );
        // Covers it, but the next article scores as well and covers nothing.
        assert_eq!(
            decide("x", &[c("a", 100.0, 0.6), c("b", 99.0, 0.1)], &p),
            Decision::Handoff(HandoffReason::LowConfidence)
        );
        assert_eq!(
            decide("x", &[c("a", 100.0, 0.9), c("b", 50.0, 0.9)], &p),
            Decision::Answer {
                best: c("a", 100.0, 0.9),
                confidence: 0.9 * 0.75
            }
        );
        // Two as good as each other make a question.
        assert_eq!(
            decide(
                "x",
                &[c("a", 100.0, 0.9), c("b", 95.0, 0.85), c("d", 20.0, 0.9)],
                &p
            ),
            Decision::Clarify(vec![c("a", 100.0, 0.9), c("b", 95.0, 0.85)])
        );
    }
}
