//! Notices: who gets which message about a ticket, rendered from the templates and queued in
//! the outbox in the caller's transaction. A unit's notices go to the unit's mailbox (`email` of
//! the org unit) and to its administrators' addresses (unit admins; dispatchers of a centre).
//! Messages carry the ticket's number, title and deadlines, never the citizen's name or number.

use chrono::{DateTime, Utc};
use hotline_core::StoreError;
use hotline_core::db::DbConn;
use hotline_core::domain::Role;
use hotline_core::ids::UnitId;
use hotline_core::store::{units, users};
use hotline_core::ticket::Ticket;
use serde_json::{Value, json};

use super::outbox::{self, NewMessage};
use super::templates::{NoticeKind, Templates};

/// Turns notices into outbox rows. Present only when mail is configured.
pub struct Notices {
    templates: Templates,
    /// The part after `@` of every Message-ID.
    domain: String,
    /// The staff pages' address (`https://hotline.example`), for links; None: no links.
    site_url: Option<String>,
}

/// China time, as the notices show it.
pub fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// "2天3小时", "5小时20分钟": a duration as a person reads it.
pub fn span_zh(d: chrono::TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}分钟"),
        (0, h) => format!("{h}小时{mins}分钟"),
        (d, h) => format!("{d}天{h}小时"),
    }
}

/// Who gets a unit's notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The unit's mailbox and its administrators.
    Unit,
    /// Its administrators only, or the mailbox when none has an address (the daily digest).
    Admins,
}

fn sanitize(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

impl Notices {
    /// `from` is the sender's address (`名称 <noreply@hotline.example>`), whose domain names the
    /// Message-IDs.
    pub fn new(from: &str, site_url: Option<String>) -> Result<Self, minijinja::Error> {
        let address = from
            .rsplit_once('<')
            .map_or(from, |(_, a)| a.trim_end_matches('>'));
        let domain = address
            .rsplit_once('@')
            .map_or("hotline.invalid", |(_, d)| d)
            .trim()
            .to_owned();
        Ok(Self {
            templates: Templates::new()?,
            domain,
            site_url: site_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
        })
    }

    /// The domain of the Message-IDs (other modules queue their own messages with it).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn link(&self, path: &str) -> Option<String> {
        self.site_url.as_ref().map(|u| format!("{u}{path}"))
    }

    /// What every ticket template may show of the ticket.
    pub fn ticket_context(&self, t: &Ticket) -> Value {
        json!({
            "number": t.number.as_str(),
            "title": sanitize(&t.title),
            "appeal_type": t.appeal_type.label_zh(),
            "urgent": t.urgency == hotline_core::domain::Urgency::Urgent,
            "status": t.status.label_zh(),
            "address": t.address.as_deref().map(sanitize),
            "sign_deadline": t.sign_deadline.map(china_time),
            "handle_deadline": t.handle_deadline.map(china_time),
            "link": self.link(&format!("/tickets/{}", t.id)),
        })
    }

    /// The addresses of `unit`'s notices, sorted, without duplicates.
    pub fn recipients(
        conn: &mut DbConn,
        unit: UnitId,
        audience: Audience,
    ) -> Result<(units::Unit, Vec<String>), StoreError> {
        let u = units::get(conn, unit)?;
        let mut admins: Vec<String> = users::list(conn, Some(&[unit]))?
            .into_iter()
            .filter(|x| x.active && matches!(x.role, Role::UnitAdmin | Role::Dispatcher))
            .filter_map(|x| x.email)
            .collect();
        if audience == Audience::Unit || admins.is_empty() {
            admins.extend(u.email.clone());
        }
        admins.sort();
        admins.dedup();
        Ok((u, admins))
    }

    /// Renders `kind` for each unit of `to` (its name added to `ctx` as `unit`) and queues one
    /// message per unit that has an address. `key` makes the message unique (with the unit).
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &self,
        conn: &mut DbConn,
        kind: NoticeKind,
        ticket: Option<&Ticket>,
        to: &[(UnitId, Value)],
        audience: Audience,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut messages = Vec::new();
        for (unit, ctx) in to {
            let (u, recipients) = Self::recipients(conn, *unit, audience)?;
            if recipients.is_empty() {
                continue;
            }
            let mut ctx = ctx.clone();
            if let Value::Object(m) = &mut ctx {
                m.insert("unit".into(), json!({"name": u.name}));
                if let Some(t) = ticket {
                    m.insert("ticket".into(), self.ticket_context(t));
                }
            }
            let rendered = self.templates.render(kind, &ctx).map_err(|e| {
                StoreError::Corrupt(format!("notice template {}: {e:#}", kind.as_str()))
            })?;
            messages.push(NewMessage {
                dedupe_key: format!("{key}:{unit}"),
                kind: kind.as_str(),
                ticket_id: ticket.map(|t| t.id),
                unit_id: Some(*unit),
                recipients,
                subject: rendered.subject,
                body: rendered.body,
            });
        }
        outbox::enqueue(conn, messages, &self.domain, now)
    }
}
