//! One websocket connection: reads the client's messages, writes what the hub queued for it,
//! pings, and closes with a documented code when the client is silent, too slow, misbehaving or
//! signed out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use hotline_core::http::Caller;
use hotline_core::ids::TicketId;
use hotline_core::store::{events, presence as presence_store, sessions, tickets, users};
use hotline_core::workflow::Hotline;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::Console;
use crate::feed;
use crate::hub::{Conn, NOT_AN_EVENT, Outgoing};
use crate::presence;
use crate::protocol::{self, ClientMessage, Refusal};
use crate::topics::{self, Target, Targets, Topic};

/// How long one write may take before the consumer counts as too slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the loop ends.
enum End {
    /// The client went away or closed; nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

struct Connection {
    console: Arc<Console>,
    hotline: Hotline,
    caller: Caller,
    session: Session,
    conn: Arc<Conn>,
    topics: BTreeMap<Topic, Target>,
    /// Events up to here were sent (live events at or below it are not sent again).
    floor: i64,
    bad: u32,
    bad_since: Instant,
    /// The tickets this connection views (false) or edits (true).
    watching: BTreeMap<TicketId, bool>,
}

/// The most tickets one connection may view or edit at once.
const MAX_WATCHING: usize = 20;

/// Takes the connection out of the hub, and releases its presence, however the task ends.
struct Unregister(Arc<Console>, u64);

impl Drop for Unregister {
    fn drop(&mut self) {
        self.0.hub.unregister(self.1);
        self.0.presence.disconnect(self.1);
    }
}

pub async fn run(
    console: Arc<Console>,
    hotline: Hotline,
    caller: Caller,
    session: Session,
    stream: AggregatedMessageStream,
) {
    let (conn, rx) = console.hub.register(&caller.scope, console.config.buffer);
    let _guard = Unregister(console.clone(), conn.id);
    console.presence.connect(conn.id, caller.user.id).await;
    let mut c = Connection {
        console,
        hotline,
        caller,
        session,
        conn,
        topics: BTreeMap::new(),
        floor: 0,
        bad: 0,
        bad_since: Instant::now(),
        watching: BTreeMap::new(),
    };
    let end = c.serve(stream, rx).await;
    if let End::Close(code, reason) = end {
        let reason = CloseReason {
            code: CloseCode::Other(code),
            description: Some(reason.into()),
        };
        let session = c.session;
        // A consumer that stopped reading may not take even the close frame: give up then.
        let _ = tokio::time::timeout(Duration::from_secs(1), session.close(Some(reason))).await;
    }
}

impl Connection {
    async fn serve(
        &mut self,
        mut stream: AggregatedMessageStream,
        mut rx: mpsc::Receiver<Outgoing>,
    ) -> End {
        let hello = json!({
            "v": protocol::VERSION,
            "type": "hello",
            "protocol": protocol::VERSION,
            "user": {
                "id": self.caller.user.id,
                "username": self.caller.user.username,
                "display_name": self.caller.user.display_name,
                "role": self.caller.user.role,
                "unit_id": self.caller.unit.id,
                "unit_name": self.caller.unit_name,
            },
            "heartbeat_seconds": self.console.config.heartbeat.as_secs_f64(),
            "last_seq": self.console.hub.last_seq(),
            "replay_limit": self.console.config.replay_limit,
            "buffer": self.console.config.buffer,
        });
        if let Err(e) = self.send(hello.to_string().into()).await {
            return e;
        }
        let heartbeat = self.console.config.heartbeat;
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        let mut heard = Instant::now();
        let mut checked = Instant::now();
        let mut going_away = self.console.hub.going_away();
        loop {
            tokio::select! {
                biased;
                () = self.conn.kill.notified() => return too_slow(),
                _ = going_away.wait_for(|away| *away) => {
                    return End::Close(protocol::CLOSE_GOING_AWAY, "server shutting down");
                }
                msg = stream.recv() => {
                    let Some(Ok(msg)) = msg else { return End::Gone };
                    heard = Instant::now();
                    if let Err(e) = self.on_message(msg).await {
                        return e;
                    }
                }
                out = rx.recv() => {
                    let Some(out) = out else { return End::Gone };
                    if out.seq == NOT_AN_EVENT {
                        if let Err(e) = self.send(out.text).await {
                            return e;
                        }
                    } else if out.seq > self.floor {
                        self.floor = out.seq;
                        if let Err(e) = self.send(out.text).await {
                            return e;
                        }
                    }
                }
                _ = ticks.tick() => {
                    if heard.elapsed() > heartbeat * 2 + Duration::from_millis(500) {
                        return End::Close(protocol::CLOSE_HEARTBEAT, "heartbeat timeout");
                    }
                    if checked.elapsed() >= self.console.config.session_check {
                        checked = Instant::now();
                        if !self.session_live().await {
                            return End::Close(protocol::CLOSE_SESSION_ENDED, "session ended");
                        }
                    }
                    if self.session.ping(b"").await.is_err() {
                        return End::Gone;
                    }
                }
            }
        }
    }

    /// Writes one text frame; a write that cannot finish in time, or a hub that gave up on us
    /// meanwhile, counts as too slow.
    async fn send(&mut self, text: ByteString) -> Result<(), End> {
        tokio::select! {
            r = tokio::time::timeout(SEND_TIMEOUT, self.session.text(text)) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(End::Gone),
                Err(_) => Err(too_slow()),
            },
            () = self.conn.kill.notified() => Err(too_slow()),
        }
    }

    async fn on_message(&mut self, msg: AggregatedMessage) -> Result<(), End> {
        match msg {
            AggregatedMessage::Text(text) => self.on_text(&text).await,
            AggregatedMessage::Binary(_) => {
                let r = Refusal::new(
                    "malformed_message",
                    None,
                    "binary frames are not part of the protocol: send JSON text",
                );
                self.refuse(None, r).await
            }
            AggregatedMessage::Ping(bytes) => {
                self.session.pong(&bytes).await.map_err(|_| End::Gone)
            }
            AggregatedMessage::Pong(_) => Ok(()),
            AggregatedMessage::Close(_) => Err(End::Close(1000, "bye")),
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), End> {
        let req = match protocol::parse(text) {
            Ok(r) => r,
            Err((id, r)) => return self.refuse(id.as_ref(), r).await,
        };
        let id = req.id.as_ref();
        let answer = match req.message {
            ClientMessage::Ping => Ok(protocol::pong(id, self.console.hub.last_seq())),
            ClientMessage::Subscribe { topics } => {
                return match self.subscribe(id, topics).await {
                    Ok((text, new)) => {
                        self.send(text.into()).await?;
                        self.snapshots(&new).await
                    }
                    Err(r) => self.refuse(id, r).await,
                };
            }
            ClientMessage::Presence { state } => {
                self.console
                    .presence
                    .set_state(self.caller.user.id, state)
                    .await;
                Ok(protocol::presence_set(id, state))
            }
            ClientMessage::Viewing { ticket_id } => self.watch(id, ticket_id, false).await,
            ClientMessage::Editing { ticket_id } => self.watch(id, ticket_id, true).await,
            ClientMessage::Leave { ticket_id } => {
                if self.watching.remove(&ticket_id).is_some() {
                    self.console.presence.leave(self.conn.id, ticket_id).await;
                }
                Ok(self.watching_text(id))
            }
            ClientMessage::Unsubscribe { topics } => self.unsubscribe(id, &topics),
            ClientMessage::Resume { after } => return self.resume(id, after).await,
        };
        match answer {
            Ok(text) => self.send(text.into()).await,
            Err(r) => self.refuse(id, r).await,
        }
    }

    /// Answers a bad message with an `error`; closes only when they keep coming.
    async fn refuse(&mut self, id: Option<&Value>, r: Refusal) -> Result<(), End> {
        if r.counts {
            if self.bad_since.elapsed() > protocol::BAD_WINDOW {
                self.bad = 0;
                self.bad_since = Instant::now();
            }
            self.bad += 1;
        }
        self.send(protocol::error(id, &r).into()).await?;
        if self.bad >= protocol::MAX_BAD_MESSAGES {
            return Err(End::Close(protocol::CLOSE_POLICY, "too many bad messages"));
        }
        Ok(())
    }

    fn topic_names(&self) -> Vec<String> {
        self.topics.keys().map(ToString::to_string).collect()
    }

    fn apply_topics(&self) {
        let targets = Targets::of(self.topics.values());
        self.console.hub.set_targets(self.conn.id, targets);
    }

    fn watching_text(&self, id: Option<&Value>) -> String {
        let list: Vec<(TicketId, bool)> = self.watching.iter().map(|(t, e)| (*t, *e)).collect();
        protocol::watching(id, &list)
    }

    /// Views or edits a ticket the caller may see.
    async fn watch(
        &mut self,
        id: Option<&Value>,
        ticket: TicketId,
        editing: bool,
    ) -> Result<String, Refusal> {
        if !self.watching.contains_key(&ticket) && self.watching.len() >= MAX_WATCHING {
            return Err(Refusal::invalid(
                "ticket_id",
                format!(
                    "a connection views or edits at most {MAX_WATCHING} tickets: leave one first"
                ),
            ));
        }
        if self.watching.get(&ticket) == Some(&editing) {
            return Ok(self.watching_text(id));
        }
        let scope = self.caller.scope.clone();
        let visible = self
            .hotline
            .db
            .run(move |c| match tickets::get_visible(c, ticket, &scope) {
                Ok(_) => Ok(true),
                Err(hotline_core::StoreError::NotFound(_)) => Ok(false),
                Err(e) => Err(e),
            })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "console: reading a ticket failed");
                Refusal::internal()
            })?;
        if !visible {
            return Err(Refusal::new(
                "not_found",
                Some("ticket_id".into()),
                format!("no ticket {ticket}"),
            ));
        }
        self.watching.insert(ticket, editing);
        self.console
            .presence
            .watch(self.conn.id, self.caller.user.id, ticket, editing)
            .await;
        Ok(self.watching_text(id))
    }

    /// After a subscribe: who is present among what the new topics select, and who views or
    /// edits each newly subscribed ticket.
    async fn snapshots(&mut self, new: &[Target]) -> Result<(), End> {
        let targets = Targets::of(new);
        let people_wanted = targets.wants_presence();
        let tickets: Vec<TicketId> = targets.tickets.iter().copied().collect();
        if !people_wanted && tickets.is_empty() {
            return Ok(());
        }
        let cutoff = self.console.presence.cutoff();
        let read = self
            .hotline
            .db
            .run(move |c| {
                let people = if people_wanted {
                    presence_store::present(c, None, cutoff)?
                } else {
                    Vec::new()
                };
                let mut watched = Vec::with_capacity(tickets.len());
                for t in tickets {
                    watched.push((t, presence_store::watchers(c, t, cutoff)?));
                }
                Ok::<_, hotline_core::StoreError>((people, watched))
            })
            .await;
        let (people, watched) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "console: reading presence failed");
                return self.refuse(None, Refusal::internal()).await;
            }
        };
        if people_wanted {
            let mine = presence::selected(&people, &self.conn.scope, &targets);
            self.send(presence::presence_message(true, &mine)).await?;
        }
        for (t, w) in &watched {
            self.send(presence::watchers_message(*t, w)).await?;
        }
        Ok(())
    }

    /// Adds topics; answers with the `subscribed` text and the targets that are new.
    async fn subscribe(
        &mut self,
        id: Option<&Value>,
        topics: Vec<String>,
    ) -> Result<(String, Vec<Target>), Refusal> {
        let caller = self.caller.clone();
        let resolved = self
            .hotline
            .db
            .run(move |c| topics::resolve(c, &caller, &topics))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "console: resolving topics failed");
                Refusal::internal()
            })??;
        let new = resolved
            .iter()
            .filter(|(t, _)| !self.topics.contains_key(t))
            .count();
        if self.topics.len() + new > self.console.config.max_topics {
            return Err(Refusal::invalid(
                "topics",
                format!(
                    "a connection holds at most {} topics",
                    self.console.config.max_topics
                ),
            ));
        }
        let added: Vec<Target> = resolved
            .iter()
            .filter(|(t, _)| !self.topics.contains_key(t))
            .map(|(_, target)| *target)
            .collect();
        self.topics.extend(resolved);
        self.apply_topics();
        Ok((protocol::subscribed(id, &self.topic_names()), added))
    }

    fn unsubscribe(&mut self, id: Option<&Value>, topics: &[String]) -> Result<String, Refusal> {
        let mut parsed = Vec::with_capacity(topics.len());
        for (i, raw) in topics.iter().enumerate() {
            parsed
                .push(Topic::parse(raw).map_err(|r| Refusal::invalid(format!("topics[{i}]"), r))?);
        }
        for t in &parsed {
            self.topics.remove(t);
        }
        self.apply_topics();
        Ok(protocol::subscribed(id, &self.topic_names()))
    }

    /// Replays from the event table what the current topics select after `after`, or asks the
    /// client to reload when that is more than the replay limit.
    async fn resume(&mut self, id: Option<&Value>, after: i64) -> Result<(), End> {
        let limit = self.console.config.replay_limit;
        let scope = self.caller.scope.clone();
        let page = self
            .hotline
            .db
            .run(move |c| {
                let page = feed::replay(c, after, limit + 1, &scope)?;
                Ok::<_, hotline_core::StoreError>((page, events::last_seq(c)?))
            })
            .await;
        let (page, table_last) = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "console: replay failed");
                return self.refuse(id, Refusal::internal()).await;
            }
        };
        let last_seq = self.console.hub.last_seq().max(table_last);
        // Ahead of the table: the client's state is not from this database (a restore).
        let ahead = after > table_last;
        if ahead || i64::try_from(page.len()).unwrap_or(i64::MAX) > limit {
            self.floor = self.floor.max(last_seq);
            return self
                .send(protocol::reload(id, after, last_seq, limit).into())
                .await;
        }
        let targets = Targets::of(self.topics.values());
        let mut replayed = 0;
        for p in page {
            if targets.selects(p.ticket_id, &p.holders) && self.conn.scope.sees(&p.involved) {
                self.send(p.text).await?;
                replayed += 1;
            }
            self.floor = self.floor.max(p.seq);
        }
        self.floor = self.floor.max(after);
        self.send(protocol::resumed(id, after, last_seq, replayed).into())
            .await
    }

    /// True unless the session behind this connection ended or its account was deactivated.
    async fn session_live(&self) -> bool {
        let hash = self.caller.token_hash.clone();
        let user = self.caller.user.id;
        let live = self
            .hotline
            .db
            .run(move |c| {
                let now = hotline_core::db::now();
                Ok::<_, hotline_core::StoreError>(
                    sessions::find_live(c, &hash, now)?.is_some() && users::get(c, user)?.active,
                )
            })
            .await;
        // A database hiccup is no reason to drop every console.
        live.unwrap_or(true)
    }
}

fn too_slow() -> End {
    End::Close(
        protocol::CLOSE_TOO_SLOW,
        "too slow: the outgoing buffer is full",
    )
}
