//! The intake's HTTP doors.

pub mod appeals;
pub mod attachments;
pub mod open311;

use actix_web::{HttpRequest, web};
use hotline_core::ids::UnitId;
use hotline_core::workflow::Hotline;
use tokio::sync::OnceCell;

use crate::error::IntakeError;
use crate::ratelimit::RateLimits;

/// What the intake routes share (registered as `web::Data<Intake>`).
pub struct Intake {
    pub limits: RateLimits,
    /// The code of the centre that receives online appeals (None: the only city centre).
    pub centre_code: Option<String>,
    centre: OnceCell<UnitId>,
    batcher: crate::batch::Batcher,
    /// Registered app clients as recently read.
    pub clients: crate::clients::ClientCache,
}

impl Intake {
    pub fn new(limits: RateLimits, centre_code: Option<String>) -> Self {
        Self {
            limits,
            centre_code,
            centre: OnceCell::new(),
            batcher: crate::batch::Batcher::default(),
            clients: crate::clients::ClientCache::default(),
        }
    }

    /// The receiving centre, looked up once the org tree is there.
    pub async fn centre(&self, hotline: &Hotline) -> Result<UnitId, IntakeError> {
        self.centre
            .get_or_try_init(|| async {
                let code = self.centre_code.clone();
                hotline
                    .db
                    .run(move |c| crate::submit::resolve_centre(c, code.as_deref()))
                    .await
            })
            .await
            .copied()
    }
}

impl Intake {
    /// Stores an appeal as a ticket, exactly once, together with the appeals that arrive with it
    /// (see `batch`): the contract of [`crate::submit::submit`].
    pub async fn submit<R>(
        &self,
        hotline: &Hotline,
        sub: crate::submit::Submission,
        render: R,
    ) -> Result<crate::submit::Outcome, IntakeError>
    where
        R: Fn(&hotline_core::ticket::Ticket) -> crate::submit::Answer + Send + Sync + 'static,
    {
        self.batcher
            .submit(hotline, sub, std::sync::Arc::new(render))
            .await
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(appeals::configure)
        .configure(attachments::configure)
        .configure(open311::configure)
        .configure(crate::portal::configure);
}

/// The address a request came from (the peer; a proxy in front should be configured to pass the
/// client's own address, which later issues may honour).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// A header's value as text.
pub fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}
