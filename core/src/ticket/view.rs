//! The ticket as API answers and pages show it: personal data masked, labels in Chinese beside
//! the codes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::text::{mask_id_number, mask_phone};
use crate::domain::{AppealType, Channel, Urgency};
use crate::ids::{CategoryId, TicketId, TicketNumber, UnitId, UserId};
use crate::ticket::{ExtensionState, Rating, Status, Ticket};
use crate::time_limit::WarningLevel;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    pub id: TicketId,
    pub number: TicketNumber,
    /// Only in the answer that registers the ticket and to centre staff: the citizen's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub appeal_type_label: &'static str,
    pub urgency: Urgency,
    pub category_id: Option<CategoryId>,
    pub title: String,
    pub detail: String,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub citizen_name: Option<String>,
    /// Masked: 138****8000.
    pub citizen_phone: Option<String>,
    /// Masked: 110***********002X.
    pub citizen_id_number: Option<String>,
    pub status: Status,
    pub status_label: &'static str,
    pub centre_id: UnitId,
    pub main_unit_id: Option<UnitId>,
    pub co_unit_ids: Vec<UnitId>,
    pub chain: Vec<UnitId>,
    pub extension: ExtensionState,
    pub extension_days: Option<i32>,
    pub supervised: bool,
    /// How many times the ticket was supervised; each escalated one level higher.
    pub supervision_count: i32,
    /// The unit the latest supervision escalated to.
    pub escalated_unit_id: Option<UnitId>,
    pub reply: Option<String>,
    pub rating: Option<Rating>,
    pub rating_comment: Option<String>,
    pub resolution: Option<String>,
    pub merged_into: Option<TicketId>,
    pub return_count: i32,
    pub redo_count: i32,
    /// Returned twice or more: the shift lead rules, and no unit that returned it gets it again
    /// automatically (the ping-pong guard).
    pub needs_shift_lead: bool,
    pub received_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub visited_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub sign_deadline: Option<DateTime<Utc>>,
    pub handle_deadline: Option<DateTime<Utc>>,
    pub return_deadline: Option<DateTime<Utc>>,
    /// The return visit is due by then (after the reply).
    pub visit_deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// The colour of the handling clock now (green, yellow, red, overdue), when it runs.
    pub warning: Option<WarningLevel>,
    pub created_by: Option<UserId>,
    pub erasure_requested: bool,
    pub erased_at: Option<DateTime<Utc>>,
    /// Who has claimed the ticket to work it now (认领), and since when.
    pub claimed_by: Option<UserId>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl TicketView {
    pub fn new(
        t: &Ticket,
        show_query_code: bool,
        warning: Option<WarningLevel>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: t.id,
            number: t.number.clone(),
            query_code: show_query_code.then(|| t.query_code.as_str().to_owned()),
            channel: t.channel,
            appeal_type: t.appeal_type,
            appeal_type_label: t.appeal_type.label_zh(),
            urgency: t.urgency,
            category_id: t.category_id,
            title: t.title.clone(),
            detail: t.detail.clone(),
            address: t.address.clone(),
            latitude: t.latitude,
            longitude: t.longitude,
            citizen_name: t.citizen_name.clone(),
            citizen_phone: t.citizen_phone.as_deref().map(mask_phone),
            citizen_id_number: t.citizen_id_number.as_deref().map(mask_id_number),
            status: t.status,
            status_label: t.status.label_zh(),
            centre_id: t.centre_id,
            main_unit_id: t.main_unit_id,
            co_unit_ids: t.co_unit_ids.clone(),
            chain: t.chain.clone(),
            extension: t.extension,
            extension_days: t.extension_days,
            supervised: t.supervised,
            supervision_count: t.supervision_count,
            escalated_unit_id: t.escalated_unit_id,
            reply: t.reply.clone(),
            rating: t.rating,
            rating_comment: t.rating_comment.clone(),
            resolution: t.resolution.clone(),
            merged_into: t.merged_into,
            return_count: t.return_count,
            redo_count: t.redo_count,
            needs_shift_lead: t.needs_shift_lead(),
            received_at: t.received_at,
            dispatched_at: t.dispatched_at,
            signed_at: t.signed_at,
            replied_at: t.replied_at,
            visited_at: t.visited_at,
            closed_at: t.closed_at,
            suspended_at: t.suspended_at,
            sign_deadline: t.sign_deadline,
            handle_deadline: t.handle_deadline,
            return_deadline: t.return_deadline,
            visit_deadline: t.visit_deadline,
            overdue: t.is_overdue(now),
            warning,
            created_by: t.created_by,
            erasure_requested: t.erasure_requested,
            erased_at: t.erased_at,
            claimed_by: t.claimed_by,
            claimed_at: t.claimed_at,
            version: t.version,
            updated_at: t.updated_at,
        }
    }
}
