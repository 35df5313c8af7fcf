//! One seeded appeal as a channel delivers it: channel, type, category, the words of a real
//! appeal moved to where it is placed, a position inside the stored areas for most, and the
//! citizen's contact.

use chrono::{DateTime, Utc};
use hotline_core::domain::text::{Detail, PhoneNumber, ShortText, Title};
use hotline_core::domain::{AppealType, Channel, Urgency};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::ticket::NewAppeal;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::texts::{self, Message, Vocab};
use super::world::World;

const CHANNELS: &[(Channel, f64)] = &[
    (Channel::Phone, 0.60),
    (Channel::Web, 0.15),
    (Channel::App, 0.12),
    (Channel::MiniProgram, 0.10),
    (Channel::Open311, 0.03),
];

const TYPES: &[(AppealType, f64)] = &[
    (AppealType::Complaint, 0.30),
    (AppealType::Help, 0.28),
    (AppealType::Consult, 0.27),
    (AppealType::Suggestion, 0.07),
    (AppealType::Report, 0.05),
    (AppealType::Praise, 0.03),
];

/// Where and about what the ticket is, for routing it.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub district: Option<usize>,
    pub street: Option<UnitId>,
    /// The first-level category name.
    pub top: Option<String>,
}

pub struct Draft {
    pub at: DateTime<Utc>,
    pub appeal: NewAppeal,
    pub hints: Hints,
}

/// What a burst is about: one hot matter at one spot.
pub struct Matter {
    message: usize,
    district: usize,
    street: Option<UnitId>,
    lat: f64,
    lon: f64,
    category: Option<CategoryId>,
    appeal_type: AppealType,
}

fn weighted<T: Copy>(rng: &mut StdRng, options: &[(T, f64)]) -> T {
    let mut x = rng.random::<f64>() * options.iter().map(|(_, w)| w).sum::<f64>();
    for (v, w) in options {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    options[options.len() - 1].0
}

/// How often a channel's appeals carry a position (phones rarely, apps mostly): ~70 % overall.
fn position_share(c: Channel) -> f64 {
    match c {
        Channel::Phone => 0.6,
        Channel::Web => 0.75,
        Channel::App | Channel::MiniProgram => 0.9,
        Channel::Open311 => 1.0,
    }
}

/// A position in district `d` (in one of its streets half of the time), and that street.
fn place(w: &World, rng: &mut StdRng, d: usize) -> Option<((f64, f64), Option<UnitId>)> {
    let district = w.districts.get(d)?;
    let streets: Vec<UnitId> = district
        .streets
        .iter()
        .copied()
        .filter(|s| w.streets.get(s).is_some_and(|st| st.shape.is_some()))
        .collect();
    let in_street = rng
        .random_bool(0.5)
        .then(|| streets.choose(rng).copied())
        .flatten();
    let pos = match in_street.and_then(|s| w.streets.get(&s)?.shape.as_ref()) {
        Some(shape) => shape.sample(rng)?,
        None => district.shape.as_ref()?.sample(rng)?,
    };
    Some((pos, w.street_at(d, pos.0, pos.1)))
}

fn address(w: &World, v: &Vocab, rng: &mut StdRng, h: &Hints) -> Option<String> {
    let district = w.districts.get(h.district?)?;
    let street = h.street.and_then(|s| w.streets.get(&s));
    let spot = street
        .and_then(|s| v.places.get(&s.code))
        .and_then(|p| p.choose(rng));
    Some(format!(
        "{}{}{}",
        district.name,
        street.map_or("", |s| s.name.as_str()),
        spot.map_or("", String::as_str)
    ))
}

/// What is decided about an appeal before its words.
struct Facts {
    channel: Channel,
    appeal_type: AppealType,
    category_id: Option<CategoryId>,
    position: Option<(f64, f64)>,
    hints: Hints,
}

fn build(
    w: &World,
    v: &Vocab,
    rng: &mut StdRng,
    at: DateTime<Utc>,
    m: &Message,
    f: Facts,
) -> anyhow::Result<Draft> {
    let Facts {
        channel,
        appeal_type,
        category_id,
        position,
        hints,
    } = f;
    let (title, detail) = match hints.district.and_then(|d| w.districts.get(d)) {
        Some(d) => (
            texts::localize(&m.title, &w.district_names, &d.name),
            texts::localize(
                if channel == Channel::Phone {
                    &m.summary
                } else {
                    &m.detail
                },
                &w.district_names,
                &d.name,
            ),
        ),
        None => (m.title.clone(), m.detail.clone()),
    };
    let detail = if channel == Channel::Phone {
        format!("来电人反映：{detail}")
    } else {
        detail
    };
    let text = |s: &str| ShortText::parse(s).ok();
    let address = position
        .and_then(|_| address(w, v, rng, &hints))
        .and_then(|a| text(&a));
    let citizen_name = rng.random_bool(0.35).then(|| texts::citizen_name(rng));
    let gives_phone = if channel == Channel::Open311 {
        0.5
    } else {
        0.97
    };
    let phone = rng.random_bool(gives_phone).then(|| texts::mobile(rng));
    let appeal = NewAppeal {
        channel,
        appeal_type,
        urgency: if rng.random_bool(0.03) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        category_id,
        title: Title::parse(&title).map_err(|e| anyhow::anyhow!("seed title: {e}"))?,
        detail: Detail::parse(&detail).map_err(|e| anyhow::anyhow!("seed detail: {e}"))?,
        address,
        latitude: position.map(|p| p.0),
        longitude: position.map(|p| p.1),
        citizen_name: citizen_name.and_then(|n| text(&n)),
        citizen_phone: phone.and_then(|p| PhoneNumber::parse(&p).ok()),
        citizen_id_number: None,
    };
    Ok(Draft { at, appeal, hints })
}

/// An everyday appeal received at `at`.
pub fn regular(w: &World, v: &Vocab, rng: &mut StdRng, at: DateTime<Utc>) -> anyhow::Result<Draft> {
    let m = v
        .messages
        .choose(rng)
        .ok_or_else(|| anyhow::anyhow!("no demo appeals"))?;
    let category_id = w.categories.draw(rng, m.category.as_deref());
    let mut hints = Hints {
        top: m.category.clone(),
        ..Hints::default()
    };
    let channel = weighted(rng, CHANNELS);
    let mut position = None;
    if w.has_areas()
        && rng.random_bool(position_share(channel))
        && let Some(d) = w.pick_district(rng)
        && let Some((pos, street)) = place(w, rng, d)
    {
        position = Some(pos);
        hints.district = Some(d);
        hints.street = street;
    }
    if hints.district.is_none() {
        let named = w
            .district_names
            .iter()
            .position(|n| m.title.contains(n.as_str()) || m.detail.contains(n.as_str()));
        hints.district = named.or_else(|| {
            rng.random_bool(0.45)
                .then(|| w.pick_district(rng))
                .flatten()
        });
    }
    let facts = Facts {
        channel,
        appeal_type: weighted(rng, TYPES),
        category_id,
        position,
        hints,
    };
    build(w, v, rng, at, m, facts)
}

/// What a burst is about: a hot matter, at a spot of a street (or district) with an area.
pub fn matter(w: &World, v: &Vocab, rng: &mut StdRng) -> Option<Matter> {
    let message = rng.random_range(0..v.hot.len().max(1));
    let d = w.pick_district(rng)?;
    let ((lat, lon), street) = place(w, rng, d)?;
    let top = v.hot.get(message).and_then(|m| m.category.clone());
    Some(Matter {
        message,
        district: d,
        street,
        lat,
        lon,
        category: w.categories.draw(rng, top.as_deref()),
        appeal_type: if rng.random_bool(0.7) {
            AppealType::Complaint
        } else {
            AppealType::Help
        },
    })
}

/// One appeal of a burst: the same matter, a few hundred metres around the same spot.
pub fn burst(
    w: &World,
    v: &Vocab,
    rng: &mut StdRng,
    at: DateTime<Utc>,
    m: &Matter,
) -> anyhow::Result<Draft> {
    let message = v
        .hot
        .get(m.message)
        .ok_or_else(|| anyhow::anyhow!("no hot appeals"))?;
    let shape = m
        .street
        .and_then(|s| w.streets.get(&s)?.shape.as_ref())
        .or_else(|| w.districts.get(m.district)?.shape.as_ref());
    let position = shape.map(|s| s.near(rng, m.lat, m.lon, 0.003));
    let hints = Hints {
        district: Some(m.district),
        street: m.street,
        top: message.category.clone(),
    };
    let facts = Facts {
        channel: weighted(rng, CHANNELS),
        appeal_type: m.appeal_type,
        category_id: m.category,
        position,
        hints,
    };
    build(w, v, rng, at, message, facts)
}
