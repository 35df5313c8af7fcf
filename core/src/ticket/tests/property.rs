//! Property: random action sequences by random actors follow the DESIGN's transition table,
//! and every ticket replays from its events to the same state.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::*;

/// The transition table as the DESIGN's closed loop states it, written independently of
/// `from_statuses` so the property checks the code against the design, not against itself.
#[allow(clippy::match_like_matches_macro)] // one row per status reads as the table it is
fn design_allows(from: Status, kind: ActionKind) -> bool {
    use ActionKind as A;
    use Status as S;
    match (from, kind) {
        (S::Received, A::Answer | A::Dispatch | A::Withdraw | A::Merge | A::Supervise) => true,
        (S::Dispatched, A::Sign | A::Return | A::Merge | A::Supervise) => true,
        (
            S::Handling,
            A::PassDown
            | A::Return
            | A::Suspend
            | A::Reply
            | A::RequestExtension
            | A::ApproveExtension
            | A::DenyExtension
            | A::Merge
            | A::Supervise,
        ) => true,
        (S::Returned, A::Rule | A::Merge | A::Supervise) => true,
        (
            S::Suspended,
            A::Resume | A::ApproveExtension | A::DenyExtension | A::Merge | A::Supervise,
        ) => true,
        (S::Replied, A::ReturnVisit | A::Rate | A::Redo | A::Supervise) => true,
        (S::Visited, A::Rate | A::Redo | A::Close | A::Supervise) => true,
        _ => false,
    }
}

fn status_after(kind: ActionKind) -> &'static [Status] {
    use ActionKind as A;
    use Status as S;
    match kind {
        A::Answer | A::Close => &[S::Closed],
        A::Dispatch | A::PassDown | A::Rule | A::Redo => &[S::Dispatched],
        A::Sign | A::Resume => &[S::Handling],
        A::Return => &[S::Handling, S::Returned],
        A::Suspend => &[S::Suspended],
        A::Reply => &[S::Replied],
        A::ReturnVisit => &[S::Visited],
        A::Withdraw => &[S::Withdrawn],
        A::Merge => &[S::Merged],
        // These record something without moving the ticket.
        A::RequestExtension | A::ApproveExtension | A::DenyExtension | A::Rate | A::Supervise => {
            &[]
        }
    }
}

fn action_of(kind: ActionKind, tree: &Tree, unit_pick: u8, days: u32) -> Option<Action> {
    let units = [
        &tree.district,
        &tree.street,
        &tree.community,
        &tree.department,
        &tree.other_district,
        &tree.centre,
    ];
    let u = units[usize::from(unit_pick) % units.len()].clone();
    let r = reason("理由");
    Some(match kind {
        ActionKind::Answer => Action::Answer {
            answer: r,
            article: None,
        },
        ActionKind::Dispatch => Action::Dispatch {
            main: u,
            co: vec![],
            note: None,
        },
        ActionKind::Sign => Action::Sign,
        ActionKind::PassDown => Action::PassDown { to: u, note: None },
        ActionKind::Return => Action::Return { reason: r },
        ActionKind::Rule => Action::Rule {
            ruling: r,
            decision: if unit_pick.is_multiple_of(2) {
                Ruling::SendBack
            } else {
                Ruling::Redispatch {
                    main: u,
                    co: vec![],
                }
            },
        },
        ActionKind::RequestExtension => Action::RequestExtension { days, reason: r },
        ActionKind::ApproveExtension => Action::ApproveExtension {
            days: None,
            note: None,
        },
        ActionKind::DenyExtension => Action::DenyExtension { reason: r },
        ActionKind::Suspend => Action::Suspend { reason: r },
        ActionKind::Resume => Action::Resume,
        ActionKind::Reply => Action::Reply { reply: r },
        ActionKind::ReturnVisit => Action::ReturnVisit {
            reached: true,
            note: None,
        },
        ActionKind::Rate => Action::Rate {
            rating: [
                Rating::Satisfied,
                Rating::BasicallySatisfied,
                Rating::Dissatisfied,
            ][usize::from(unit_pick) % 3],
            comment: None,
        },
        ActionKind::Redo => Action::Redo { reason: r },
        ActionKind::Supervise => Action::Supervise { reason: r },
        ActionKind::Withdraw => Action::Withdraw { reason: r },
        ActionKind::Close => Action::Close { resolution: r },
        // Merging takes two tickets: covered by its own test.
        ActionKind::Merge => return None,
    })
}

fn check_replay(w: &Worked) -> Result<(), TestCaseError> {
    prop_assert_eq!(&w.replayed(), &w.ticket);
    prop_assert_eq!(w.ticket.version as usize, w.events.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Each step either asks for an action the state offers someone (most steps, so histories
    /// reach deep into the loop) or for any action at all by anyone (so refusals are exercised).
    /// A ticket that ends is checked and replaced by a fresh one.
    #[test]
    fn random_histories_follow_the_table_and_replay_to_the_row(
        steps in proptest::collection::vec(
            (0u8..8, any::<u8>(), 0u8..6, 0u32..14, 0u8..10), 1..120)
    ) {
        let tree = tree();
        let actors = [
            staff(Role::Agent, &tree.centre),
            staff(Role::Dispatcher, &tree.centre),
            staff(Role::UnitHandler, &tree.district),
            staff(Role::UnitAdmin, &tree.street),
            staff(Role::UnitHandler, &tree.community),
            staff(Role::UnitHandler, &tree.department),
            staff(Role::Leader, &tree.centre),
            staff(Role::Admin, &tree.centre),
        ];
        let mut w = Worked::receive(&tree, AppealType::Complaint);
        for (who, pick, unit_pick, days, mode) in steps {
            let offered = (0..actors.len())
                .map(|i| (usize::from(who) + i) % actors.len())
                .find_map(|i| {
                    let kinds = available_actions(&w.ticket, &actors[i]);
                    (!kinds.is_empty()).then_some((i, kinds))
                });
            let (actor, kind) = match offered {
                Some((i, kinds)) if mode < 8 => (&actors[i], kinds[usize::from(pick) % kinds.len()]),
                _ => {
                    let all: Vec<ActionKind> = ActionKind::iter().collect();
                    (&actors[usize::from(who)], all[usize::from(pick) % all.len()])
                }
            };
            let Some(action) = action_of(kind, &tree, unit_pick, days) else { continue };
            let before = w.ticket.clone();
            match w.act(actor, action) {
                Ok(()) => {
                    prop_assert!(design_allows(before.status, kind),
                        "{kind} accepted from {}", before.status);
                    let after = status_after(kind);
                    if after.is_empty() {
                        prop_assert_eq!(w.ticket.status, before.status);
                    } else {
                        prop_assert!(after.contains(&w.ticket.status),
                            "{kind} led to {}", w.ticket.status);
                    }
                    prop_assert_eq!(w.ticket.version, before.version + 1);
                }
                Err(_) => prop_assert_eq!(&w.ticket, &before),
            }
            // Invariants of every state.
            let t = &w.ticket;
            if matches!(t.status, Status::Dispatched | Status::Handling | Status::Suspended) {
                prop_assert_eq!(t.chain.last().copied(), t.main_unit_id);
            }
            if t.status == Status::Suspended {
                prop_assert!(t.suspended_at.is_some());
            }
            check_replay(&w)?;
            if t.status.is_terminal() {
                prop_assert!(t.closed_at.is_some());
                for a in &actors {
                    prop_assert!(available_actions(t, a).is_empty());
                }
                w = Worked::receive(&tree, AppealType::Complaint);
            }
        }
        check_replay(&w)?;
    }
}
