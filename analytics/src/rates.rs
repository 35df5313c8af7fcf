//! The official rates (三率 and the rest) from rollup sums, and unit rankings. Each rate is a
//! fraction of tickets; a rate whose denominator is zero is `None` (no data), never 0 % or 100 %.
//!
//! | rate | formula |
//! |---|---|
//! | 响应率 response | signed for by the sign-for deadline / dispatched |
//! | 解决率 resolution | closed and not rated 不满意 / closed |
//! | 满意率 satisfaction | (满意 + 基本满意) / rated |
//! | 按时办结率 on time | replied by the handling deadline / replied |
//! | 退单率 return | returned at least once / dispatched |
//! | 重办率 redo | ordered redone at least once / dispatched |
//! | 延期率 extension | given an extension / dispatched |
//! | 平均办理时长 average handling time | working hours from dispatch to reply, summed / replied with a known time |
//!
//! A ticket counts for the unit it is with now (or last was) and for the day it was received.
//! The ranking score is `0.1 × response + 0.45 × resolution + 0.45 × satisfaction` over the rates
//! a unit has (the weights renormalised when one is missing), so answering well counts far more
//! than signing fast.

use serde::Serialize;

use crate::facts::Measures;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rates {
    pub tickets: i64,
    pub dispatched: i64,
    pub response: Option<f64>,
    pub resolution: Option<f64>,
    pub satisfaction: Option<f64>,
    pub on_time: Option<f64>,
    pub return_rate: Option<f64>,
    pub redo: Option<f64>,
    pub extension: Option<f64>,
    /// Working hours.
    pub average_handling_hours: Option<f64>,
    /// The appeals that read negative (舆情), a fraction of all.
    pub negative: Option<f64>,
    /// The mean sentiment score in [-1, 1].
    pub sentiment: Option<f64>,
    /// The ranking score in [0, 1] (see the module's note).
    pub score: Option<f64>,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Weights of the ranking score: response, resolution, satisfaction.
const WEIGHTS: [f64; 3] = [0.1, 0.45, 0.45];

fn score(parts: [Option<f64>; 3]) -> Option<f64> {
    let (sum, weight) = parts
        .iter()
        .zip(WEIGHTS)
        .filter_map(|(p, w)| p.map(|p| (p * w, w)))
        .fold((0.0, 0.0), |(s, t), (p, w)| (s + p, t + w));
    (weight > 0.0).then(|| sum / weight)
}

pub fn rates(m: &Measures) -> Rates {
    let response = ratio(m.signed_in_time, m.dispatched);
    let resolution = ratio(m.resolved, m.closed);
    let satisfaction = ratio(m.satisfied, m.rated);
    Rates {
        tickets: m.tickets,
        dispatched: m.dispatched,
        response,
        resolution,
        satisfaction,
        on_time: ratio(m.replied_in_time, m.replied),
        return_rate: ratio(m.returned, m.dispatched),
        redo: ratio(m.redone, m.dispatched),
        extension: ratio(m.extended, m.dispatched),
        average_handling_hours: ratio(m.handling_minutes, m.handled.saturating_mul(60)),
        negative: ratio(m.negative, m.tickets),
        sentiment: ratio(m.sentiment_milli, m.tickets.saturating_mul(1000)),
        score: score([response, resolution, satisfaction]),
    }
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub rank: usize,
    pub key: String,
    pub name: String,
    pub rates: Rates,
}

/// Ranks `(key, name, sums)` by score, best first; ties by more tickets, then by key. Lines with
/// no score come last, unranked (rank 0).
pub fn rank(lines: Vec<(String, String, Measures)>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = lines
        .into_iter()
        .map(|(key, name, m)| Ranked {
            rank: 0,
            key,
            name,
            rates: rates(&m),
        })
        .collect();
    out.sort_by(|a, b| {
        let sa = a.rates.score.unwrap_or(-1.0);
        let sb = b.rates.score.unwrap_or(-1.0);
        sb.total_cmp(&sa)
            .then(b.rates.tickets.cmp(&a.rates.tickets))
            .then(a.key.cmp(&b.key))
    });
    let mut next = 1;
    for r in &mut out {
        if r.rates.score.is_some() {
            r.rank = next;
            next += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    /// Ten tickets worked out by hand: 8 dispatched, 6 signed in time, 5 replied (4 in time,
    /// 600 working minutes in all), 4 closed of which 1 rated 不满意, 4 rated (2 满意, 1 基本满意),
    /// 1 returned, 1 redone, 2 extended.
    #[test]
    fn rates_follow_their_formulas() {
        let m = Measures {
            tickets: 10,
            dispatched: 8,
            signed: 7,
            signed_in_time: 6,
            replied: 5,
            replied_in_time: 4,
            closed: 4,
            resolved: 3,
            rated: 4,
            satisfied: 3,
            returned: 1,
            redone: 1,
            extended: 2,
            handled: 5,
            handling_minutes: 600,
            negative: 3,
            sentiment_milli: -1500,
        };
        let r = rates(&m);
        assert!(close(r.response, 0.75));
        assert!(close(r.resolution, 0.75));
        assert!(close(r.satisfaction, 0.75));
        assert!(close(r.on_time, 0.8));
        assert!(close(r.return_rate, 0.125));
        assert!(close(r.redo, 0.125));
        assert!(close(r.extension, 0.25));
        assert!(close(r.average_handling_hours, 2.0));
        assert!(close(r.negative, 0.3));
        assert!(close(r.sentiment, -0.15));
        assert!(close(r.score, 0.75));
    }

    #[test]
    fn no_denominator_is_no_rate_and_weights_renormalise() {
        let m = Measures {
            tickets: 2,
            dispatched: 2,
            signed_in_time: 1,
            ..Measures::default()
        };
        let r = rates(&m);
        assert_eq!(
            (r.resolution, r.satisfaction, r.on_time),
            (None, None, None)
        );
        assert!(
            close(r.score, 0.5),
            "only the response rate counts: {:?}",
            r.score
        );
        assert_eq!(rates(&Measures::default()).score, None);
    }

    #[test]
    fn ranking_puts_the_best_score_first_and_unscored_last() {
        let good = Measures {
            tickets: 4,
            dispatched: 4,
            signed_in_time: 4,
            closed: 4,
            resolved: 4,
            rated: 4,
            satisfied: 4,
            ..Measures::default()
        };
        let poor = Measures {
            satisfied: 1,
            resolved: 2,
            ..good
        };
        let none = Measures {
            tickets: 9,
            ..Measures::default()
        };
        let r = rank(vec![
            ("b".into(), "乙".into(), poor),
            ("n".into(), "无".into(), none),
            ("a".into(), "甲".into(), good),
        ]);
        let order: Vec<(&str, usize)> = r.iter().map(|x| (x.key.as_str(), x.rank)).collect();
        assert_eq!(order, [("a", 1), ("b", 2), ("n", 0)]);
    }
}
