#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Listing and scope on both backends: pages and filters return each ticket once, and the
//! scopes of the org tree hide what lies outside them.

mod common;
mod storage_support;

use AppealType::{Complaint, Consult};
use Urgency::Normal;
use chrono::{DateTime, Utc};
use common::Backend;
use hotline_core::StoreError;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ids::TicketId;
use hotline_core::scope::Scope;
use hotline_core::store::{events, tickets};
use hotline_core::ticket::{Action, Status};
use storage_support::{china, desk, dispatch, monday_10, stored};

async fn list_pages_and_filters(backend: Backend) {
    let (_t, d) = desk(backend);
    let tm = &d.team;
    let mut received = Vec::new();
    for (i, minute) in [0, 0, 0, 5, 5, 10, 10].into_iter().enumerate() {
        d.at(china(11, 23, 10, minute));
        let kind = if i % 2 == 0 { Complaint } else { Consult };
        received.push(d.receive(kind, Normal).await);
    }
    d.at(china(11, 23, 10, 15));
    for i in [0, 3, 5] {
        d.act(&tm.dispatcher, received[i].id, dispatch(&tm.a2))
            .await;
    }
    d.act(&tm.a2, received[3].id, Action::Sign).await;
    // 14:00: the two unsigned tickets are past their sign-for deadline (13:45).
    let now = china(11, 23, 14, 0);

    let mut c = d.db().get().expect("conn");
    let mut expected: Vec<(DateTime<Utc>, TicketId)> =
        received.iter().map(|t| (t.received_at, t.id)).collect();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<TicketId> = expected.into_iter().map(|(_, id)| id).collect();
    let all = Scope::All;
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = tickets::list(
            &mut c,
            &tickets::TicketFilter::default(),
            &all,
            cursor.as_ref(),
            3,
            now,
        )
        .expect("page");
        assert!(page.len() <= 3);
        paged.extend(page.iter().map(|t| t.id));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(
        paged, expected,
        "newest first, ties by id, every ticket once across pages"
    );

    let ids = |c: &mut hotline_core::DbConn, f: tickets::TicketFilter| -> Vec<TicketId> {
        let mut v: Vec<TicketId> = tickets::list(c, &f, &all, None, 100, now)
            .expect("list")
            .0
            .iter()
            .map(|t| t.id)
            .collect();
        v.sort();
        v
    };
    let of = |idx: &[usize]| -> Vec<TicketId> {
        let mut v: Vec<TicketId> = idx.iter().map(|i| received[*i].id).collect();
        v.sort();
        v
    };
    let f = tickets::TicketFilter::default;
    assert_eq!(
        ids(
            &mut c,
            tickets::TicketFilter {
                statuses: vec![Status::Received],
                ..f()
            }
        ),
        of(&[1, 2, 4, 6])
    );
    assert_eq!(
        ids(
            &mut c,
            tickets::TicketFilter {
                main_unit_id: Some(tm.a2.unit.id),
                ..f()
            }
        ),
        of(&[0, 3, 5])
    );
    assert_eq!(
        ids(
            &mut c,
            tickets::TicketFilter {
                appeal_type: Some(Consult),
                ..f()
            }
        ),
        of(&[1, 3, 5])
    );
    assert_eq!(
        ids(
            &mut c,
            tickets::TicketFilter {
                overdue: true,
                ..f()
            }
        ),
        of(&[0, 5])
    );
    let overdue_in_memory: Vec<TicketId> = {
        let mut v: Vec<TicketId> = received
            .iter()
            .map(|t| stored(d.db(), t.id))
            .filter(|t| t.is_overdue(now))
            .map(|t| t.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        overdue_in_memory,
        of(&[0, 5]),
        "the query and Ticket::is_overdue agree"
    );
    let window = tickets::TicketFilter {
        received_from: Some(china(11, 23, 10, 5)),
        received_to: Some(china(11, 23, 10, 10)),
        ..f()
    };
    assert_eq!(
        ids(&mut c, window),
        of(&[3, 4]),
        "from inclusive, to exclusive"
    );
    let number = received[4].number.as_str().to_owned();
    assert_eq!(
        ids(
            &mut c,
            tickets::TicketFilter {
                number: Some(number),
                ..f()
            }
        ),
        of(&[4])
    );
}
both_backends!(list_pages_and_filters, list_pages_and_filters);

async fn visibility_follows_the_org_tree(backend: Backend) {
    let (_t, d) = desk(backend);
    let tm = &d.team;
    let a1_scope = tm.a1.scope.clone();
    assert!(
        matches!(a1_scope, Scope::Units(_)),
        "A1区 staff see only A1区"
    );
    let in_a2 = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, in_a2, dispatch(&tm.a2)).await;
    let in_a1 = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, in_a1, dispatch(&tm.a1)).await;
    d.h.bus.sequence_now(d.db()).await.expect("sequence");

    let mut c = d.db().get().expect("conn");
    let not_found = |r: Result<_, StoreError>| matches!(r, Err(StoreError::NotFound("ticket")));
    assert!(
        not_found(tickets::get_visible(&mut c, in_a2, &a1_scope)),
        "A1区 does not see A2区's ticket"
    );
    assert_eq!(
        tickets::get_visible(&mut c, in_a1, &a1_scope)
            .expect("own")
            .id,
        in_a1
    );
    assert!(
        not_found(tickets::get_visible(&mut c, in_a2, &tm.street.scope)),
        "not yet passed down"
    );
    assert!(tickets::get_visible(&mut c, in_a2, &tm.a2.scope).is_ok());
    drop(c);

    d.act(&tm.a2, in_a2, Action::Sign).await;
    d.act(
        &tm.a2,
        in_a2,
        Action::PassDown {
            to: tm.street.unit.clone(),
            note: None,
        },
    )
    .await;
    d.h.bus.sequence_now(d.db()).await.expect("sequence");
    let mut c = d.db().get().expect("conn");
    assert_eq!(
        tickets::get_visible(&mut c, in_a2, &tm.street.scope)
            .expect("street")
            .id,
        in_a2
    );
    assert!(not_found(tickets::get_visible(&mut c, in_a2, &a1_scope)));

    let filter = tickets::TicketFilter::default();
    let list = |c: &mut hotline_core::DbConn, scope: &Scope| -> Vec<TicketId> {
        let (page, next) = tickets::list(c, &filter, scope, None, 50, monday_10()).expect("list");
        assert!(next.is_none());
        page.into_iter().map(|t| t.id).collect()
    };
    assert_eq!(list(&mut c, &a1_scope), [in_a1]);
    assert_eq!(list(&mut c, &tm.street.scope), [in_a2]);
    let mut both = list(&mut c, &tm.dispatcher.scope);
    both.sort();
    let mut expected = vec![in_a1, in_a2];
    expected.sort();
    assert_eq!(both, expected);

    let seen = |c: &mut hotline_core::DbConn, scope: &Scope| -> Vec<TicketId> {
        events::after(c, 0, 1000, scope)
            .expect("events")
            .into_iter()
            .map(|e| e.event.ticket_id)
            .collect()
    };
    let a1_events = seen(&mut c, &a1_scope);
    assert_eq!(
        a1_events,
        [in_a1, in_a1],
        "A1区 sees the events of its ticket only"
    );
    assert_eq!(
        seen(&mut c, &tm.street.scope).len(),
        4,
        "the street sees the whole history of its ticket"
    );
    assert_eq!(seen(&mut c, &Scope::All).len(), 6);
}
both_backends!(
    visibility_follows_the_org_tree,
    visibility_follows_the_org_tree
);
