//! The sender: leases due messages from the outbox, hands each to the SMTP server (lettre), and
//! marks it sent once the server accepted it. A failed try is retried with exponential backoff;
//! after the last one, or at once when the server refuses for good (a 5xx answer), the message
//! is dead and waits for an operator (`hotline admin outbox`).
//!
//! Sending is an external effect, so it cannot commit with the row: a sender that dies after the
//! server accepted a message and before the row is marked sends it again when its lease runs
//! out. Every message keeps its outbox row's Message-ID on every try, so such a duplicate is
//! recognisable (and dropped by servers and clients that deduplicate on it).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hotline_core::workflow::Now;
use hotline_core::{Db, StoreError};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::outbox::{self, Message};

/// How the sender reaches the SMTP server and how hard it tries.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From mailbox, e.g. `12345热线 <noreply@hotline.example>`.
    pub from: String,
    /// STARTTLS after connecting (submission, port 587).
    pub starttls: bool,
    /// TLS from the first byte (port 465). Neither: plain SMTP, for a relay on a trusted network.
    pub tls: bool,
    /// Tries before a message is dead.
    pub max_attempts: i32,
    /// Wait after the first failed try; doubled after each further one, up to `retry_max`.
    pub retry_base: TimeDelta,
    pub retry_max: TimeDelta,
    /// Per SMTP command.
    pub timeout: Duration,
    /// Messages leased per round.
    pub batch: i64,
    /// The name this host gives in EHLO; None: its address literal (`[127.0.0.1]`).
    pub hello_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail.from: {0}")]
    From(String),
    #[error("mail.smtp_host: {0}")]
    Transport(#[from] lettre::transport::smtp::Error),
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

pub struct Sender {
    db: Db,
    now: Now,
    cfg: MailConfig,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// This sender's lease name.
    owner: String,
}

/// The wait after `attempts` failed tries.
pub fn backoff(cfg: &MailConfig, attempts: i32) -> TimeDelta {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
    let wait = cfg.retry_base * 2_i32.saturating_pow(doublings);
    wait.min(cfg.retry_max)
}

impl Sender {
    pub fn new(db: Db, now: Now, cfg: MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let host = cfg.smtp_host.as_str();
        let builder = if cfg.tls {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host)?
        } else if cfg.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        let mut builder = builder.port(cfg.smtp_port).timeout(Some(cfg.timeout));
        if let Some(name) = cfg.hello_name.as_ref().filter(|n| !n.trim().is_empty()) {
            builder = builder.hello_name(ClientId::Domain(name.trim().to_owned()));
        }
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self {
            db,
            now,
            from,
            transport: builder.build(),
            owner: uuid::Uuid::new_v4().to_string(),
            cfg,
        })
    }

    fn build(
        &self,
        m: &Message,
        files: &[outbox::NewAttachment],
    ) -> Result<lettre::Message, String> {
        let to: Mailboxes = m
            .recipients
            .join(", ")
            .parse()
            .map_err(|e: lettre::address::AddressError| format!("recipients: {e}"))?;
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .subject(m.subject.clone())
            .message_id(Some(m.message_id.clone()));
        for mailbox in to {
            b = b.to(mailbox);
        }
        if files.is_empty() {
            return b
                .header(ContentType::TEXT_PLAIN)
                .body(m.body.clone())
                .map_err(|e| e.to_string());
        }
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(m.body.clone()));
        for f in files {
            let kind = ContentType::parse(&f.content_type)
                .map_err(|e| format!("attachment {}: {e}", f.name))?;
            parts = parts.singlepart(Attachment::new(f.name.clone()).body(f.bytes.clone(), kind));
        }
        b.multipart(parts).map_err(|e| e.to_string())
    }

    /// Sends one message; Err(error, permanent) when it was not accepted.
    async fn deliver(&self, m: &Message) -> Result<(), (String, bool)> {
        let id = m.id.clone();
        let files = self
            .db
            .run(move |c| outbox::attachments(c, &id))
            .await
            .map_err(|e| (e.to_string(), false))?;
        let message = self.build(m, &files).map_err(|e| (e, true))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err((e.to_string(), e.is_permanent())),
        }
    }

    /// Sends what is due now: one lease of up to `batch` messages.
    pub async fn send_due(&self) -> Result<SendReport, StoreError> {
        let now = self.now.get();
        // Long enough for every message of the lease to time out in turn.
        let per = TimeDelta::from_std(self.cfg.timeout).unwrap_or(TimeDelta::seconds(60));
        let until = now + per * (i32::try_from(self.cfg.batch).unwrap_or(50) * 4 + 4);
        let (owner, limit) = (self.owner.clone(), self.cfg.batch);
        let leased = self
            .db
            .write(move |c| outbox::lease_due(c, &owner, now, until, limit))
            .await?;
        let mut report = SendReport::default();
        for m in leased {
            let result = self.deliver(&m).await;
            let done_at: DateTime<Utc> = self.now.get();
            let (id, owner) = (m.id.clone(), self.owner.clone());
            match result {
                Ok(()) => {
                    self.db
                        .write(move |c| outbox::mark_sent(c, &id, &owner, done_at))
                        .await?;
                    report.sent += 1;
                }
                Err((error, permanent)) => {
                    let attempts = m.attempts + 1;
                    let retry = (!permanent && attempts < self.cfg.max_attempts)
                        .then(|| done_at + backoff(&self.cfg, attempts));
                    tracing::warn!(message = %m.message_id, attempts, permanent, error = %error,
                        "mail not sent{}", if retry.is_some() { "; will retry" } else { "; dead" });
                    if retry.is_some() {
                        report.retrying += 1;
                    } else {
                        report.dead += 1;
                    }
                    self.db
                        .write(move |c| outbox::mark_failed(c, &id, &owner, &error, retry))
                        .await?;
                }
            }
        }
        Ok(report)
    }

    /// Sends until the task is dropped, looking for due messages every `poll`.
    pub async fn run(self, poll: Duration) {
        loop {
            match self.send_due().await {
                Ok(r) if r.sent + r.retrying + r.dead > 0 => {
                    tracing::info!(
                        sent = r.sent,
                        retrying = r.retrying,
                        dead = r.dead,
                        "mail round"
                    );
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail round failed"),
            }
            tokio::time::sleep(poll).await;
        }
    }
}
