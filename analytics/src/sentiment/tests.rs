//! Unit tests of the scorer's internals; the labelled examples are in `tests/sentiment.rs`.

use super::*;

/// The sum of contributions (before squashing) of one clause given as explicit tokens, so a
/// test can fix the segmentation instead of depending on jieba's choice.
fn raw(tokens: &[&str]) -> f64 {
    let text: String = tokens.concat();
    let mut at = 0;
    let pieces: Vec<Piece> = tokens
        .iter()
        .map(|t| {
            let start = at;
            at += t.len();
            Piece {
                start,
                end: at,
                role: LEXICON.role(t),
            }
        })
        .collect();
    let mut total = 0.0;
    for i in 0..pieces.len() {
        if let Some(w) = sentiment_at(&pieces, i) {
            total += modified(&pieces, i, w).0;
        }
    }
    assert!(!text.is_empty());
    total
}

#[test]
fn a_negated_word_scores_the_same_whole_or_split() {
    assert_eq!(raw(&["不满意"]), raw(&["不", "满意"]));
    assert_eq!(raw(&["很", "不满意"]), raw(&["很", "不", "满意"]));
    assert_eq!(raw(&["没有", "不满意"]), raw(&["没有", "不", "满意"]));
}

#[test]
fn negation_before_intensity_softens_intensity_before_negation_strengthens() {
    assert_eq!(raw(&["满意"]), 1.0);
    assert_eq!(raw(&["不", "满意"]), -1.0);
    assert_eq!(raw(&["不", "太", "满意"]), -0.5);
    assert_eq!(raw(&["不是", "很", "满意"]), -0.5);
    assert_eq!(raw(&["非常", "不", "满意"]), -2.0);
}

#[test]
fn a_negated_negative_word_is_faint_praise() {
    assert_eq!(raw(&["没有", "不满意"]), 0.5);
    assert_eq!(raw(&["不", "危险"]), 0.5);
    assert_eq!(raw(&["不是", "不", "及时"]), 0.5);
}

#[test]
fn negation_reaches_over_a_sentiment_word_within_the_window() {
    assert_eq!(raw(&["没有", "及时", "解决"]), -1.0 - 0.6);
    // Beyond three tokens the negation no longer applies.
    assert_eq!(raw(&["不", "去", "那里", "看", "满意"]), 1.0);
}

#[test]
fn intensity_is_capped() {
    assert_eq!(raw(&["太", "太", "太", "差劲"]), -1.2 * MAX_INTENSITY);
}

#[test]
fn severe_intensifies_or_complains_by_its_neighbours() {
    assert_eq!(raw(&["严重", "扰民"]), -1.2 * 1.8);
    assert_eq!(raw(&["问题", "很", "严重"]), -1.5);
}

#[test]
fn clauses_split_at_punctuation_and_count_marks() {
    let c = clauses("！开头，太差了！！！真的吗？还行");
    let texts: Vec<&str> = c.iter().map(|c| c.text).collect();
    assert_eq!(texts, ["开头", "太差了", "真的吗", "还行"]);
    let marks: Vec<_> = c
        .iter()
        .map(|c| (c.exclaims, c.questions, c.ends_sentence))
        .collect();
    // The sentence's closing marks count for its first clause too.
    assert_eq!(
        marks,
        [(3, 0, false), (3, 0, true), (0, 1, true), (0, 0, true)]
    );
    assert!(clauses("，。！？\n").is_empty());
}

#[test]
fn wishes_and_questions_damp_praise_but_not_complaints() {
    assert!(analyze("希望及时处理").score < POLARITY_THRESHOLD);
    assert!(analyze("这样收费合理吗？").score < POLARITY_THRESHOLD);
    assert!(analyze("希望不要再扰民了").score < POLARITY_THRESHOLD);
    assert!(analyze("希望政府提前规划，尽快解决，方便群众。").score < POLARITY_THRESHOLD);
    assert!(analyze("希望政府提前规划。问题解决了，很方便。").score >= POLARITY_THRESHOLD);
    assert!(
        analyze("你的建议很好。").score >= POLARITY_THRESHOLD,
        "建议 after 的 is a noun"
    );
    assert!(analyze("为什么一直不解决？").score <= -POLARITY_THRESHOLD);
}

#[test]
fn the_clause_after_a_turn_carries_the_point() {
    assert_eq!(
        analyze("感谢你们的回复，但是问题还是没有解决").polarity,
        Polarity::Negative
    );
    assert_eq!(
        analyze("虽然等了很久，但问题最终解决了").polarity,
        Polarity::Positive
    );
}

#[test]
fn terms_are_the_phrases_as_written() {
    let s = analyze("非常不满意，没有及时处理，态度倒是很热情。");
    assert_eq!(s.negative_terms, ["非常不满意", "没有及时"]);
    assert_eq!(s.positive_terms, ["很热情"]);
}

#[test]
fn polarity_labels_and_names() {
    assert_eq!(Polarity::Negative.label_zh(), "负面");
    assert_eq!(Polarity::Neutral.label_zh(), "中性");
    assert_eq!(Polarity::Positive.label_zh(), "正面");
    assert_eq!(Polarity::Positive.to_string(), "positive");
    assert_eq!("neutral".parse::<Polarity>().ok(), Some(Polarity::Neutral));
    assert_eq!(
        serde_json::to_string(&Polarity::Negative).ok().as_deref(),
        Some("\"negative\"")
    );
}

#[test]
fn squash_is_bounded_and_odd() {
    for s in [0.0, 0.25, 1.0, 10.0, 1e300, f64::MAX] {
        assert!((0.0..1.0).contains(&squash(s)) || squash(s) == 1.0);
        assert_eq!(squash(-s), -squash(s));
    }
    assert_eq!(squash(f64::NAN), 0.0);
    assert_eq!(squash(1.0), 0.5);
}
