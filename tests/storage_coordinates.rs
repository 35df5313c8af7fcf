#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Coordinates at full precision survive the event payload's JSON bit for bit, so a ticket's row
//! stays exactly the fold of its events (a float read back one unit in the last place off would
//! make `hotline rebuild` report the row as differing). On both backends.

mod common;
mod storage_support;

use common::Backend;
use hotline_core::domain::{AppealType, Urgency};
use storage_support::{appeal, assert_replays, desk};

async fn coordinates_read_back_exactly(backend: Backend) {
    let (_t, desk) = desk(backend);
    // 60 positions with all seventeen significant digits, spread over the demo's city.
    for k in 0..60_u32 {
        let mut a = appeal(AppealType::Help, Urgency::Normal);
        let f = f64::from(k);
        a.latitude = Some(28.0 + (f * 0.618_033_988_749_894_8).fract() * 0.3);
        a.longitude = Some(112.8 + (f * 0.414_213_562_373_095_1).fract() * 0.4);
        let t = desk
            .h
            .receive(desk.team.agent.actor.clone(), desk.team.centre, a.clone())
            .await
            .unwrap();
        assert_eq!((t.latitude, t.longitude), (a.latitude, a.longitude));
        assert_replays(desk.db(), t.id);
    }
}

both_backends!(
    full_precision_coordinates_replay_exactly,
    coordinates_read_back_exactly
);
