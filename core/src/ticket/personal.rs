//! The citizen's personal data on a ticket: who may see it in full (each time an audit event),
//! correcting contact details, and deletion after the ticket ends (statistics are kept).

use crate::domain::text::{PhoneNumber, ShortText};
use crate::domain::{Actor, Role};
use crate::ticket::TransitionError;
use crate::ticket::action::ActionKind;
use crate::ticket::change::Change;
use crate::ticket::state::Ticket;

/// A masked value a role may ask to see in full.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PersonalField {
    CitizenPhone,
    CitizenIdNumber,
}

/// When a change ends the ticket and the citizen asked for deletion, the deletion follows at once.
pub fn with_erasure(t: &Ticket, change: Change) -> Vec<Change> {
    let ends = matches!(
        change,
        Change::AnsweredDirectly { .. }
            | Change::Closed { .. }
            | Change::MergedInto { .. }
            | Change::Withdrawn { .. }
    );
    if ends && t.erasure_requested && t.erased_at.is_none() {
        vec![change, Change::PersonalDataErased]
    } else {
        vec![change]
    }
}

fn refuse(reason: &'static str) -> TransitionError {
    TransitionError::Forbidden {
        action: ActionKind::Close,
        reason,
    }
}

/// Who needs a full value: the centre (to call back) and the staff of the unit handling it.
pub fn decide_view(
    t: &Ticket,
    field: PersonalField,
    actor: &Actor,
) -> Result<Change, TransitionError> {
    let allowed = match actor {
        Actor::Staff { role, unit, .. } => {
            role.is_centre_staff() || (role.is_unit_staff() && t.main_unit_id == Some(unit.id))
        }
        _ => false,
    };
    if !allowed {
        return Err(refuse(
            "only the centre and the handling unit see personal data in full",
        ));
    }
    let present = match field {
        PersonalField::CitizenPhone => t.citizen_phone.is_some(),
        PersonalField::CitizenIdNumber => t.citizen_id_number.is_some(),
    };
    if !present {
        return Err(TransitionError::Invalid {
            field: "field",
            reason: "the ticket holds no such value".into(),
        });
    }
    Ok(Change::PersonalDataViewed {
        field: field.to_string(),
    })
}

/// The citizen (proven by number + query code) or the centre corrects the contact details.
pub fn decide_correct_contact(
    t: &Ticket,
    name: Option<&ShortText>,
    phone: Option<&PhoneNumber>,
    actor: &Actor,
) -> Result<Change, TransitionError> {
    let allowed = matches!(actor, Actor::Citizen)
        || actor
            .role()
            .is_some_and(|r| matches!(r, Role::Agent | Role::Dispatcher));
    if !allowed {
        return Err(refuse(
            "contact details are corrected by the citizen or the centre",
        ));
    }
    if t.erased_at.is_some() {
        return Err(TransitionError::Invalid {
            field: "citizen_phone",
            reason: "the personal data of this ticket has been deleted".into(),
        });
    }
    if name.is_none() && phone.is_none() {
        return Err(TransitionError::Invalid {
            field: "citizen_phone",
            reason: "give a name or a phone number to correct".into(),
        });
    }
    Ok(Change::ContactCorrected {
        citizen_name: name.map(|n| n.as_str().to_owned()),
        citizen_phone: phone.map(|p| p.as_str().to_owned()),
    })
}

/// The citizen asks for deletion: at once if the ticket has ended, otherwise when it ends.
pub fn decide_erasure(t: &Ticket, actor: &Actor) -> Result<Vec<Change>, TransitionError> {
    let allowed = matches!(actor, Actor::Citizen)
        || actor
            .role()
            .is_some_and(|r| matches!(r, Role::Agent | Role::Dispatcher));
    if !allowed {
        return Err(refuse(
            "deletion is asked for by the citizen or the centre on their behalf",
        ));
    }
    if t.erasure_requested || t.erased_at.is_some() {
        return Err(TransitionError::InvalidState {
            action: ActionKind::Close,
            status: t.status,
            detail: Some("deletion has already been asked for"),
        });
    }
    let mut changes = vec![Change::ErasureRequested];
    if t.status.is_terminal() {
        changes.push(Change::PersonalDataErased);
    }
    Ok(changes)
}
