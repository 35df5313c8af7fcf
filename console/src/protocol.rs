//! The wire protocol, version 1: JSON text frames. Every message is an object with `"v": 1` and a
//! `"type"`. The README ("Agent console: the websocket protocol") is the reference; this module
//! is its one implementation on the server.

use hotline_core::ids::TicketId;
use serde::Deserialize;
use serde_json::{Value, json};

/// The protocol version this server speaks.
pub const VERSION: u64 = 1;

/// Close code: the consumer let more than `buffer` messages pile up.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// The server is shutting down (RFC 6455 "going away"): reconnect (to another node) and resume.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: no frame from the client for two heartbeat intervals.
pub const CLOSE_HEARTBEAT: u16 = 4000;
/// Close code: the session ended (logout, password change, deactivated account).
pub const CLOSE_SESSION_ENDED: u16 = 4001;
/// Close code (the standard "policy violation"): too many bad messages in a short time.
pub const CLOSE_POLICY: u16 = 1008;

/// Bad messages within [`BAD_WINDOW`] before the connection is closed with [`CLOSE_POLICY`].
pub const MAX_BAD_MESSAGES: u32 = 10;
pub const BAD_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// The largest message a client may send.
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// A client message, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Subscribe {
        topics: Vec<String>,
    },
    Unsubscribe {
        topics: Vec<String>,
    },
    Resume {
        after: i64,
    },
    Ping,
    /// The user's state: online, on_call, after_call_work or away.
    Presence {
        state: crate::presence::State,
    },
    /// The connection views a ticket (stops editing it, if it was).
    Viewing {
        ticket_id: TicketId,
    },
    /// The connection edits a ticket (and so views it).
    Editing {
        ticket_id: TicketId,
    },
    /// The connection neither views nor edits the ticket any more.
    Leave {
        ticket_id: TicketId,
    },
}

/// A client message with the correlation id it carried (echoed in the reply).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: Option<Value>,
    pub message: ClientMessage,
}

/// Why a message was refused: the `error` message's code, field and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// False for failures that are not the client's fault (they do not count towards closing).
    pub counts: bool,
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: "invalid_field",
            field: Some(field.into()),
            message: message.into(),
            counts: true,
        }
    }

    pub fn new(code: &'static str, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            field,
            message: message.into(),
            counts: true,
        }
    }

    pub fn internal() -> Self {
        Self {
            code: "internal",
            field: None,
            message: "the server could not do that now; try again".into(),
            counts: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsBody {
    topics: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    after: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    state: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketBody {
    ticket_id: String,
}

fn ticket_of(v: Value) -> Result<TicketId, Refusal> {
    body::<TicketBody>(v)?
        .ticket_id
        .parse()
        .map_err(|_| Refusal::invalid("ticket_id", "a ticket id is a UUID"))
}

fn body<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names the unknown or missing field in its message; the path is where it was.
        let field = if path == "." {
            field_in_message(&inner).unwrap_or_default()
        } else {
            path
        };
        Refusal::invalid(field, inner)
    })
}

/// The field serde's message names (`unknown field `x``, `missing field `x``).
fn field_in_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

/// Parses one text frame. The refusal carries the id when the message had a usable one.
pub fn parse(text: &str) -> Result<Request, (Option<Value>, Refusal)> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        (
            None,
            Refusal::new("malformed_message", None, format!("not JSON: {e}")),
        )
    })?;
    let Value::Object(mut map) = value else {
        return Err((
            None,
            Refusal::new("malformed_message", None, "a message is a JSON object"),
        ));
    };
    let id = match map.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 64 => Some(Value::String(s)),
        Some(n @ Value::Number(_)) => Some(n),
        Some(_) => {
            return Err((
                None,
                Refusal::invalid(
                    "id",
                    "must be a number or a string of at most 64 characters",
                ),
            ));
        }
    };
    let fail = |r: Refusal| (id.clone(), r);
    match map.remove("v") {
        None => return Err(fail(Refusal::invalid("v", "missing: send \"v\": 1"))),
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => {}
        Some(other) => {
            return Err(fail(Refusal::new(
                "unsupported_version",
                Some("v".into()),
                format!("this server speaks protocol version {VERSION}, not {other}"),
            )));
        }
    }
    let kind = match map.remove("type") {
        Some(Value::String(s)) => s,
        None => return Err(fail(Refusal::invalid("type", "missing"))),
        Some(_) => return Err(fail(Refusal::invalid("type", "must be a string"))),
    };
    let rest = Value::Object(map);
    let message = match kind.as_str() {
        "subscribe" => ClientMessage::Subscribe {
            topics: body::<TopicsBody>(rest).map_err(fail)?.topics,
        },
        "unsubscribe" => ClientMessage::Unsubscribe {
            topics: body::<TopicsBody>(rest).map_err(fail)?.topics,
        },
        "resume" => {
            let after = body::<ResumeBody>(rest).map_err(fail)?.after;
            if after < 0 {
                return Err(fail(Refusal::invalid("after", "must be 0 or more")));
            }
            ClientMessage::Resume { after }
        }
        "ping" => {
            body::<EmptyBody>(rest).map_err(fail)?;
            ClientMessage::Ping
        }
        "presence" => {
            let state = body::<PresenceBody>(rest).map_err(fail)?.state;
            let state = crate::presence::State::parse(&state).ok_or_else(|| {
                fail(Refusal::invalid(
                    "state",
                    format!("must be {}", crate::presence::State::NAMES),
                ))
            })?;
            ClientMessage::Presence { state }
        }
        "viewing" => ClientMessage::Viewing {
            ticket_id: ticket_of(rest).map_err(fail)?,
        },
        "editing" => ClientMessage::Editing {
            ticket_id: ticket_of(rest).map_err(fail)?,
        },
        "leave" => ClientMessage::Leave {
            ticket_id: ticket_of(rest).map_err(fail)?,
        },
        other => {
            return Err(fail(Refusal::invalid(
                "type",
                format!(
                    "unknown message type {other:?}: expected subscribe, unsubscribe, resume, ping, presence, viewing, editing or leave"
                ),
            )));
        }
    };
    Ok(Request { id, message })
}

fn with_id(mut v: Value, id: Option<&Value>) -> String {
    if let (Some(id), Value::Object(map)) = (id, &mut v) {
        map.insert("id".into(), id.clone());
    }
    v.to_string()
}

pub fn error(id: Option<&Value>, r: &Refusal) -> String {
    with_id(
        json!({"v": VERSION, "type": "error", "code": r.code, "field": r.field, "message": r.message}),
        id,
    )
}

pub fn subscribed(id: Option<&Value>, topics: &[String]) -> String {
    with_id(
        json!({"v": VERSION, "type": "subscribed", "topics": topics}),
        id,
    )
}

pub fn pong(id: Option<&Value>, last_seq: i64) -> String {
    with_id(
        json!({"v": VERSION, "type": "pong", "last_seq": last_seq, "at": chrono::Utc::now()}),
        id,
    )
}

pub fn presence_set(id: Option<&Value>, state: crate::presence::State) -> String {
    with_id(
        json!({"v": VERSION, "type": "presence_set", "state": state.as_str()}),
        id,
    )
}

/// The tickets the connection views or edits now.
pub fn watching(id: Option<&Value>, tickets: &[(TicketId, bool)]) -> String {
    let list: Vec<Value> = tickets
        .iter()
        .map(|(t, editing)| json!({"ticket_id": t, "mode": if *editing { "editing" } else { "viewing" }}))
        .collect();
    with_id(
        json!({"v": VERSION, "type": "watching", "tickets": list}),
        id,
    )
}

pub fn reload(id: Option<&Value>, after: i64, last_seq: i64, limit: i64) -> String {
    with_id(
        json!({"v": VERSION, "type": "reload", "after": after, "last_seq": last_seq,
            "reason": format!("more than {limit} events since seq {after}: reload the queues over the API, then go on live")}),
        id,
    )
}

pub fn resumed(id: Option<&Value>, after: i64, last_seq: i64, replayed: usize) -> String {
    with_id(
        json!({"v": VERSION, "type": "resumed", "after": after, "last_seq": last_seq, "replayed": replayed}),
        id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_type() {
        let r = parse(r#"{"v":1,"type":"subscribe","topics":["queue:me"],"id":7}"#).unwrap();
        assert_eq!(r.id, Some(json!(7)));
        assert_eq!(
            r.message,
            ClientMessage::Subscribe {
                topics: vec!["queue:me".into()]
            }
        );
        let r = parse(r#"{"v":1,"type":"resume","after":12}"#).unwrap();
        assert_eq!(r.message, ClientMessage::Resume { after: 12 });
        assert_eq!(
            parse(r#"{"v":1,"type":"ping"}"#).unwrap().message,
            ClientMessage::Ping
        );
    }

    #[test]
    fn names_the_field_of_a_bad_message() {
        let field = |s: &str| parse(s).unwrap_err().1.field;
        assert_eq!(field(r#"{"type":"ping"}"#), Some("v".into()));
        assert_eq!(field(r#"{"v":2,"type":"ping"}"#), Some("v".into()));
        assert_eq!(field(r#"{"v":1}"#), Some("type".into()));
        assert_eq!(field(r#"{"v":1,"type":"jump"}"#), Some("type".into()));
        assert_eq!(
            field(r#"{"v":1,"type":"subscribe","topics":["a",3]}"#),
            Some("topics[1]".into())
        );
        assert_eq!(
            field(r#"{"v":1,"type":"subscribe"}"#),
            Some("topics".into())
        );
        assert_eq!(
            field(r#"{"v":1,"type":"resume","after":-1}"#),
            Some("after".into())
        );
        assert_eq!(
            field(r#"{"v":1,"type":"resume","after":"x"}"#),
            Some("after".into())
        );
        assert_eq!(
            field(r#"{"v":1,"type":"ping","extra":1}"#),
            Some("extra".into())
        );
        let (_, r) = parse("not json").unwrap_err();
        assert_eq!(r.code, "malformed_message");
        assert_eq!(
            field(r#"{"v":1,"type":"presence","state":"offline"}"#),
            Some("state".into())
        );
        assert_eq!(field(r#"{"v":1,"type":"presence"}"#), Some("state".into()));
        assert_eq!(
            field(r#"{"v":1,"type":"viewing","ticket_id":"42"}"#),
            Some("ticket_id".into())
        );
        assert_eq!(
            field(r#"{"v":1,"type":"editing","ticket_id":7}"#),
            Some("ticket_id".into())
        );
    }

    #[test]
    fn echoes_the_id() {
        let (id, _) = parse(r#"{"v":1,"type":"jump","id":"a1"}"#).unwrap_err();
        assert_eq!(id, Some(json!("a1")));
        let text = pong(id.as_ref(), 5);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["id"], "a1");
        assert_eq!(v["type"], "pong");
    }
}
