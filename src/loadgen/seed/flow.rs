//! The closed loop as it usually goes, step by step from the ticket's status: the centre answers
//! or dispatches, the unit signs (or returns), passes down, suspends, asks for more time and
//! replies, the centre visits, records the rating and closes or orders a redo. The shares are
//! the README's (see `hotline loadgen seed`).

use chrono::Duration;
use hotline_core::domain::text::Reason;
use hotline_core::domain::{Actor, AppealType, UnitRef};
use hotline_core::ticket::{Action, Rating, ReplayError, Ruling, Status};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::story::{Flow, Stop, Story};
use super::texts;

/// More steps than any history takes; a bound against a loop of redos and returns.
const MAX_STEPS: usize = 60;

pub fn reason(s: &str) -> Result<Reason, Stop> {
    Reason::parse(s).map_err(|_| Stop::Refused)
}

/// Takes steps until the ticket ends or its next step lies in the future.
pub fn run(s: &mut Story<'_>) -> Result<(), ReplayError> {
    for _ in 0..MAX_STEPS {
        let step = match s.t.status {
            Status::Received => at_centre(s),
            Status::Dispatched => waiting_for_sign(s),
            Status::Returned => ruling(s),
            Status::Handling => handling(s),
            Status::Suspended => resume(s),
            Status::Replied => replied(s),
            Status::Visited => visited(s),
            Status::Closed | Status::Merged | Status::Withdrawn => return Ok(()),
        };
        match step {
            Ok(()) => {}
            Err(Stop::Later) => return Ok(()),
            Err(Stop::Refused) if s.refused < 4 => {}
            Err(Stop::Refused) => return Ok(()),
            Err(Stop::Broken(e)) => return Err(e),
        }
    }
    Ok(())
}

fn rating(s: &mut Story<'_>) -> Rating {
    let x: f64 = s.rng.random();
    if x < 0.70 {
        Rating::Satisfied
    } else if x < 0.90 {
        Rating::BasicallySatisfied
    } else {
        Rating::Dissatisfied
    }
}

fn unit(s: &Story<'_>, id: Option<hotline_core::ids::UnitId>) -> Option<UnitRef> {
    id.and_then(|id| s.w.refs.get(&id).cloned())
}

/// Where the centre sends it: the street or district where it is, or the city department of its
/// category.
fn route(s: &mut Story<'_>) -> Option<UnitRef> {
    let (w, top) = (s.w, s.hints.top.clone());
    let r: f64 = s.rng.random();
    let id = match (s.hints.street, s.hints.district) {
        (Some(st), _) if r < 0.35 => Some(st),
        (_, Some(d)) if r < 0.78 => w.districts.get(d).map(|d| d.id),
        (None, None) if r < 0.45 => w
            .pick_district(s.rng)
            .and_then(|d| w.districts.get(d))
            .map(|d| d.id),
        _ => None,
    };
    let id = id
        .or_else(|| w.department(s.rng, top.as_deref()))
        .or_else(|| w.districts.first().map(|d| d.id));
    unit(s, id)
}

/// Another unit than the one that returned it.
fn reroute(s: &mut Story<'_>) -> Option<UnitRef> {
    let current = s.t.main_unit_id;
    let (w, top) = (s.w, s.hints.top.clone());
    let mut options = vec![w.department(s.rng, top.as_deref())];
    options.push(
        s.hints
            .district
            .and_then(|d| w.districts.get(d))
            .map(|d| d.id),
    );
    options.push(
        w.pick_district(s.rng)
            .and_then(|d| w.districts.get(d))
            .map(|d| d.id),
    );
    options.push(w.department(s.rng, None));
    let id = options.into_iter().flatten().find(|u| Some(*u) != current);
    unit(s, id)
}

fn at_centre(s: &mut Story<'_>) -> Flow {
    let agent = s.agent.clone();
    let received = s.t.received_at;
    if s.chance(0.01) {
        let when = received + s.minutes(10, 180);
        return s.act(
            &Actor::Citizen,
            when,
            Action::Withdraw {
                reason: reason(texts::WITHDRAW)?,
            },
        );
    }
    let when = s.centre_time(received);
    let answered = match s.t.appeal_type {
        AppealType::Consult => s.chance(0.65).then(|| texts::answer(s.rng)),
        AppealType::Praise => s.chance(0.5).then_some(texts::PRAISE_ANSWER),
        _ => None,
    };
    if let Some(answer) = answered {
        let answer = reason(answer)?;
        return s.act(
            &agent,
            when,
            Action::Answer {
                answer,
                article: None,
            },
        );
    }
    let main = route(s).ok_or(Stop::Refused)?;
    let co = if s.chance(0.05) {
        let other = s.w.department(s.rng, None).filter(|u| *u != main.id);
        unit(s, other).into_iter().collect()
    } else {
        Vec::new()
    };
    let note = if s.chance(0.2) {
        Some(reason(texts::DISPATCH_NOTE)?)
    } else {
        None
    };
    let who = if s.chance(0.8) { agent } else { s.dispatcher() };
    s.act(&who, when, Action::Dispatch { main, co, note })
}

fn waiting_for_sign(s: &mut Story<'_>) -> Flow {
    let start = s.last();
    if !s.turn.return_considered {
        s.turn.return_considered = true;
        let p = if s.t.return_count == 0 { 0.06 } else { 0.02 };
        if s.chance(p) {
            // Without a calendar for the period there is no window: the machine allows it.
            let deadline = s.t.return_deadline.unwrap_or(start + Duration::days(1));
            let when = s.unit_time(start, Some(deadline), Duration::hours(8), 1.0, 1);
            if when < deadline {
                let r = reason(texts::return_reason(s.rng))?;
                return s.unit_act(when, Action::Return { reason: r });
            }
        }
    }
    let when = s.unit_time(start, s.t.sign_deadline, Duration::hours(2), 0.95, 8);
    s.unit_act(when, Action::Sign)
}

fn ruling(s: &mut Story<'_>) -> Flow {
    let dispatcher = s.dispatcher();
    let when = s.last() + s.minutes(10, 240);
    let (ruling, decision) = match s.chance(0.7).then(|| reroute(s)).flatten() {
        Some(main) => (
            texts::REDISPATCH,
            Ruling::Redispatch {
                main,
                co: Vec::new(),
            },
        ),
        None => (texts::SEND_BACK, Ruling::SendBack),
    };
    let ruling = reason(ruling)?;
    s.act(&dispatcher, when, Action::Rule { ruling, decision })
}

/// The unit below the handling one it passes the ticket to: a district government mostly to
/// the street where it is, sometimes to its own department; a street now and then to a community.
fn pass_target(s: &mut Story<'_>) -> Option<UnitRef> {
    let main = s.t.main_unit_id?;
    let w = s.w;
    if s.t.return_count > 0 {
        return None;
    }
    if let Some(d) = w.districts.iter().position(|d| d.id == main) {
        let r: f64 = s.rng.random();
        let id = if r < 0.55 {
            let own = s
                .hints
                .street
                .filter(|st| w.districts[d].streets.contains(st));
            own.or_else(|| w.districts[d].streets.choose(s.rng).copied())
        } else if r < 0.65 {
            w.district_department(d, s.hints.top.as_deref())
        } else {
            None
        };
        return unit(s, id);
    }
    let street = w.streets.get(&main)?;
    let id = s
        .chance(0.1)
        .then(|| street.communities.choose(s.rng).copied())
        .flatten();
    unit(s, id)
}

fn handling(s: &mut Story<'_>) -> Flow {
    let start = s.last();
    let deadline = s.t.handle_deadline;
    if !s.turn.pass_considered {
        s.turn.pass_considered = true;
        if let Some(to) = pass_target(s) {
            let when = s.unit_time(start, None, Duration::hours(6), 1.0, 1);
            let note = if s.chance(0.5) {
                Some(reason(texts::PASS_DOWN_NOTE)?)
            } else {
                None
            };
            return s.unit_act(when, Action::PassDown { to, note });
        }
    }
    if !s.once.suspend {
        s.once.suspend = true;
        if s.chance(0.04) {
            let when = s.unit_time(start, deadline, Duration::days(3), 1.0, 4);
            let r = reason(texts::suspend_reason(s.rng))?;
            return s.unit_act(when, Action::Suspend { reason: r });
        }
    }
    if !s.once.extension {
        s.once.extension = true;
        let max =
            hotline_core::ticket::Clock::max_extension_days(s.clock, s.t.appeal_type, s.t.urgency);
        if let (Some(max), Some(d)) = (max, deadline)
            && max >= 1
            && d > start
            && s.chance(0.06)
        {
            return extension(s, start, d, max);
        }
    }
    if !s.once.supervise {
        s.once.supervise = true;
        if s.chance(0.02) {
            let dispatcher = s.dispatcher();
            let when = start + s.minutes(60, 48 * 60);
            let r = reason(texts::SUPERVISE)?;
            return s.act(&dispatcher, when, Action::Supervise { reason: r });
        }
    }
    let when = s.unit_time(start, deadline, Duration::days(5), 0.94, 120);
    let unit_name =
        s.t.main_unit_id
            .map_or("承办单位", |u| s.w.name(u))
            .to_owned();
    let text = texts::reply(s.v, s.rng, &s.t.title, &unit_name);
    s.unit_act(
        when,
        Action::Reply {
            reply: reason(&text)?,
        },
    )
}

/// The unit asks for more time before the deadline; a dispatcher decides within hours.
fn extension(
    s: &mut Story<'_>,
    start: chrono::DateTime<chrono::Utc>,
    deadline: chrono::DateTime<chrono::Utc>,
    max: u32,
) -> Flow {
    let span = (deadline - start).num_seconds() as f64;
    let f = s.rng.random_range(0.4..0.85);
    let when = s
        .clock
        .working(start + Duration::seconds((span * f) as i64));
    if when >= deadline {
        return Ok(());
    }
    let days = s.rng.random_range(1..=max).max(max.min(3));
    let r = reason(texts::extension_reason(s.rng))?;
    s.unit_act(when, Action::RequestExtension { days, reason: r })?;
    let dispatcher = s.dispatcher();
    let when = s.last() + s.minutes(20, 360);
    if s.chance(0.8) {
        let fewer = s.chance(0.2).then(|| s.rng.random_range(1..=days));
        let note = Some(reason(texts::EXTENSION_APPROVED)?);
        s.act(
            &dispatcher,
            when,
            Action::ApproveExtension { days: fewer, note },
        )
    } else {
        let r = reason(texts::EXTENSION_DENIED)?;
        s.act(&dispatcher, when, Action::DenyExtension { reason: r })
    }
}

fn resume(s: &mut Story<'_>) -> Flow {
    let when = s.clock.working(s.last() + s.minutes(4 * 60, 72 * 60));
    let who = if s.chance(0.9) {
        s.handler()?
    } else {
        s.dispatcher()
    };
    s.act(&who, when, Action::Resume)
}

fn replied(s: &mut Story<'_>) -> Flow {
    if !s.turn.rating_considered {
        s.turn.rating_considered = true;
        // Some citizens rate on the portal before anyone calls; their 不满意 orders a redo.
        if s.t.rating.is_none() && s.t.redo_count < 2 && s.chance(0.15) {
            let when = s.last() + s.minutes(60, 48 * 60);
            let rating = rating(s);
            return s.act(
                &Actor::Citizen,
                when,
                Action::Rate {
                    rating,
                    comment: None,
                },
            );
        }
    }
    let agent = s.agent.clone();
    let start = s.last();
    let when = s.unit_time(start, s.t.visit_deadline, Duration::days(1), 0.92, 72);
    let reached = s.chance(0.95);
    s.once.reached = reached;
    let note = if reached {
        "已电话回访市民，了解办理情况。"
    } else {
        texts::VISIT_MISSED
    };
    let note = Some(reason(note)?);
    s.act(&agent, when, Action::ReturnVisit { reached, note })
}

fn visited(s: &mut Story<'_>) -> Flow {
    let agent = s.agent.clone();
    let start = s.last();
    if s.t.rating.is_none() && s.once.reached {
        let rating = rating(s);
        let comment = Some(reason(&texts::visit_note(rating.label_zh()))?);
        let when = start + s.minutes(1, 10);
        return s.act(&agent, when, Action::Rate { rating, comment });
    }
    let rated = s.t.rating;
    if rated == Some(Rating::Dissatisfied) && s.t.redo_count < 2 && s.chance(0.5) {
        let when = start + s.minutes(10, 24 * 60);
        return s.act(
            &agent,
            when,
            Action::Redo {
                reason: reason(texts::REDO)?,
            },
        );
    }
    let resolution = match rated {
        None => texts::CLOSE_MISSED.to_owned(),
        Some(Rating::Dissatisfied) => texts::CLOSE_UNSATISFIED.to_owned(),
        Some(r) => texts::close_resolution(r.label_zh()),
    };
    let when = s.clock.working(start + s.minutes(5, 24 * 60));
    s.act(
        &agent,
        when,
        Action::Close {
            resolution: reason(&resolution)?,
        },
    )
}
