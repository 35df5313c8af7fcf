//! The sentiment scorer against labelled appeals (`tests/fixtures/sentiment.csv`: excerpts of
//! the demo appeals and replies, and written examples of negation, intensity, praise,
//! consultations and mixed feelings), plus the behaviours the method promises.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use hotline_analytics::sentiment::{Polarity, analyze};
use proptest::prelude::*;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentiment.csv");
const LABELS: [Polarity; 3] = [Polarity::Negative, Polarity::Neutral, Polarity::Positive];

fn examples() -> Vec<(String, Polarity)> {
    let mut reader = csv::Reader::from_path(FIXTURE).expect("the fixture opens");
    reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed row");
            let label = record[1]
                .parse::<Polarity>()
                .expect("label is negative|neutral|positive");
            (record[0].to_owned(), label)
        })
        .collect()
}

fn index(p: Polarity) -> usize {
    LABELS.iter().position(|l| *l == p).unwrap_or(0)
}

#[test]
fn labelled_appeals_are_classified_with_at_least_85_percent_accuracy() {
    let examples = examples();
    assert!(examples.len() >= 90, "{} examples", examples.len());
    let mut confusion = [[0usize; 3]; 3];
    let mut misses = Vec::new();
    for (text, label) in &examples {
        let got = analyze(text);
        confusion[index(*label)][index(got.polarity)] += 1;
        if got.polarity != *label {
            misses.push(format!(
                "  want {label}, got {} ({:+.2}): {text}",
                got.polarity, got.score
            ));
        }
    }
    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let accuracy = correct as f64 / examples.len() as f64;
    println!("confusion matrix (rows: label, columns: predicted)");
    println!(
        "{:>10} {:>9} {:>9} {:>9}",
        "", "negative", "neutral", "positive"
    );
    for (i, row) in confusion.iter().enumerate() {
        println!(
            "{:>10} {:>9} {:>9} {:>9}",
            LABELS[i].to_string(),
            row[0],
            row[1],
            row[2]
        );
    }
    println!("accuracy {correct}/{} = {accuracy:.3}", examples.len());
    println!("misses:\n{}", misses.join("\n"));
    assert!(accuracy >= 0.85, "accuracy {accuracy:.3}");
}

#[test]
fn satisfied_is_positive_and_dissatisfied_negative() {
    assert_eq!(analyze("满意").polarity, Polarity::Positive);
    assert_eq!(analyze("不满意").polarity, Polarity::Negative);
    assert_eq!(analyze("对处理结果满意").polarity, Polarity::Positive);
    assert_eq!(analyze("对处理结果不满意").polarity, Polarity::Negative);
}

#[test]
fn intensity_orders_the_scores() {
    let plain = analyze("不满意").score;
    assert!(
        analyze("非常不满意").score < plain,
        "非常不满意 is more negative than 不满意"
    );
    assert!(analyze("很不满意").score < plain);
    let mild = analyze("有点不满意").score;
    assert!(mild > plain && mild < 0.0, "有点 weakens: {mild}");
    assert!(analyze("非常满意").score > analyze("满意").score);
}

#[test]
fn negation_before_intensity_weakens_rather_than_flips_fully() {
    let softened = analyze("不太满意");
    assert_eq!(softened.polarity, Polarity::Negative);
    assert!(softened.score > analyze("不满意").score);
    assert_eq!(analyze("不是很满意").score, softened.score);
}

#[test]
fn double_negation_is_not_negative() {
    assert_ne!(analyze("没有不满意").polarity, Polarity::Negative);
    assert_ne!(analyze("没有不满意的地方").polarity, Polarity::Negative);
    assert!(analyze("没有不满意").score > 0.0);
}

#[test]
fn unresolved_matters_are_negative() {
    for text in [
        "问题没有解决",
        "一直得不到解决",
        "至今未解决",
        "投诉无门",
        "处理不及时",
    ] {
        assert_eq!(analyze(text).polarity, Polarity::Negative, "{text}");
    }
}

#[test]
fn consultations_are_neutral() {
    for text in [
        "请问公积金怎么提取？",
        "请问公积金怎么提取？谢谢！",
        "咨询一下居住证的办理流程。",
        "希望能尽快回复，谢谢。",
        "这样收费合理吗？",
    ] {
        let s = analyze(text);
        assert_eq!(s.polarity, Polarity::Neutral, "{text}: {s:?}");
    }
}

#[test]
fn empty_text_is_neutral_zero() {
    for text in ["", "   ", "\n\n", "，。！？", "12345"] {
        let s = analyze(text);
        assert_eq!((s.score, s.polarity), (0.0, Polarity::Neutral), "{text:?}");
        assert!(s.negative_terms.is_empty() && s.positive_terms.is_empty());
    }
}

#[test]
fn terms_explain_the_score() {
    let s = analyze("物业乱收费，投诉无门，非常愤怒！不过社区网格员很热情。");
    assert!(s.negative_terms.iter().any(|t| t == "乱收费"), "{s:?}");
    assert!(s.negative_terms.iter().any(|t| t == "非常愤怒"), "{s:?}");
    assert!(s.positive_terms.iter().any(|t| t == "很热情"), "{s:?}");
    assert_eq!(s.polarity, Polarity::Negative);
}

#[test]
fn sentiment_serialises_with_snake_case_polarity() {
    let json = serde_json::to_value(analyze("非常满意")).expect("serialises");
    assert_eq!(json["polarity"], "positive");
    assert!(json["score"].as_f64().is_some_and(|s| s > 0.0));
}

proptest! {
    #[test]
    fn the_score_is_bounded_and_agrees_with_the_polarity(text in "\\PC{0,80}") {
        let s = analyze(&text);
        prop_assert!(s.score.is_finite() && (-1.0..=1.0).contains(&s.score), "{}", s.score);
        prop_assert_eq!(s.polarity, Polarity::of_score(s.score));
    }

    #[test]
    fn appeal_like_strings_are_bounded(
        words in proptest::collection::vec(
            proptest::sample::select(vec![
                "非常", "不", "没有", "满意", "不满意", "太", "差", "很", "有点", "严重", "扰民", "解决了",
                "感谢", "希望", "吗", "，", "！", "？", "。", "但是", "虽然", "好几天", "投诉无门",
            ]),
            0..60,
        )
    ) {
        let s = analyze(&words.concat());
        prop_assert!(s.score.is_finite() && (-1.0..=1.0).contains(&s.score), "{}", s.score);
    }
}
