//! The suggestion panel of the ticket page (智能派单建议): for a ticket its reader may dispatch
//! (or re-dispatch after a return), the ranked units with their confidence, the explanation, and
//! one form per unit that dispatches to it in one click (the same action form as the page's own,
//! with the CSRF token and the version the page was rendered from).

use actix_web::web;
use hotline_core::auth::Permission;
use hotline_core::http::Caller;
use hotline_core::ticket::{ActionKind, Ticket};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use hotline_dispatch::routing::suggestion::Source;
use serde::Serialize;

use crate::dispatching::Dispatching;

#[derive(Debug, Serialize)]
struct PanelUnit {
    id: String,
    name: String,
    percent: u32,
    from_rule: bool,
    rule: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Panel {
    /// The action the one-click forms post: `dispatch`, or `rule` (re-dispatch after a return).
    action: &'static str,
    units: Vec<PanelUnit>,
    explanation: Vec<String>,
    manual: bool,
    percent: u32,
    threshold_percent: u32,
    place: Option<String>,
    pass_down: Option<String>,
}

fn percent(p: f32) -> u32 {
    // A probability in 0–1, shown as a whole percentage.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = (p.clamp(0.0, 1.0) * 100.0).round() as u32;
    p
}

/// The panel, when the caller may dispatch the ticket now and may ask for suggestions.
pub async fn panel(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    t: &Ticket,
    actions: &[ActionKind],
) -> Result<Option<Panel>, ApiError> {
    let action = if actions.contains(&ActionKind::Dispatch) {
        "dispatch"
    } else if actions.contains(&ActionKind::Rule) {
        "rule"
    } else {
        return Ok(None);
    };
    if caller.require(Permission::SuggestDispatch).is_err() {
        return Ok(None);
    }
    let (t, d) = (t.clone(), dispatching.clone());
    let s = hotline
        .db
        .run(move |c| d.suggester.for_ticket(c, &t))
        .await
        .map_err(|e: StoreError| ApiError::from(e))?;
    Ok(Some(Panel {
        action,
        units: s
            .units
            .iter()
            .map(|u| PanelUnit {
                id: u.unit.id.to_string(),
                name: u.unit.name.clone(),
                percent: percent(u.confidence),
                from_rule: u.source == Source::Rule,
                rule: u.rule.clone(),
                category: u.category.clone(),
            })
            .collect(),
        explanation: s.explanation.clone(),
        manual: s.manual,
        percent: percent(s.confidence),
        threshold_percent: percent(s.threshold),
        place: s.place.as_ref().map(|p| match &p.district {
            Some(d) if d.id != p.unit.id => format!("{}（{}）", p.unit.name, d.name),
            _ => p.unit.name.clone(),
        }),
        pass_down: s.pass_down.as_ref().map(|u| u.name.clone()),
    }))
}
