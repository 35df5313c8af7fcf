//! Registered client apps and WeChat mini-programs, and how their requests are signed.
//!
//! A client sends four headers with every request:
//! - `X-Client-Id`: the id `hotline admin client create` printed;
//! - `X-Timestamp`: Unix seconds; requests more than 5 minutes off the server's clock are refused;
//! - `X-Nonce`: 8–64 characters `[A-Za-z0-9_-]`, never reused (a reused nonce is refused);
//! - `X-Signature`: lower-case hex of HMAC-SHA256(secret, METHOD "\n" PATH "\n" TIMESTAMP "\n"
//!   NONCE "\n" hex(SHA-256(body))), PATH with its query string.
//!
//! The secret is never stored: it is HMAC(deployment secret key, client id and a stored salt),
//! so a database dump gives no secrets; rotating the deployment key reissues every secret.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use hotline_core::StoreError;
use hotline_core::auth::token::{TokenKey, constant_time_eq, random_token};
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::domain::Channel;
use sha2::{Digest, Sha256};

use crate::error::IntakeError;
use crate::schema::{api_clients, client_nonces};

/// How far a request's timestamp may be from the server's clock.
pub const WINDOW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    pub id: String,
    pub name: String,
    pub channel: Channel,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The client's secret, derived from the deployment key.
pub fn secret(key: &TokenKey, client_id: &str, salt: &str) -> String {
    key.hash(&format!("api-client\n{client_id}\n{salt}"))
}

/// Registers a client; returns it and its secret (shown once).
pub fn create(
    conn: &mut DbConn,
    key: &TokenKey,
    name: &str,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(ApiClient, String), IntakeError> {
    if !matches!(channel, Channel::App | Channel::MiniProgram) {
        return Err(IntakeError::invalid("channel", "app or mini_program"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(IntakeError::invalid("name", "1 to 100 characters"));
    }
    let id = format!("cli_{}", &random_token()[..20].replace(['-', '_'], "x"));
    let salt = random_token();
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::id.eq(&id),
            api_clients::name.eq(name),
            api_clients::channel.eq(channel.to_string()),
            api_clients::salt.eq(&salt),
            api_clients::active.eq(true),
            api_clients::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    let client = ApiClient {
        id: id.clone(),
        name: name.to_owned(),
        channel,
        active: true,
        created_at: now,
    };
    Ok((client, secret(key, &id, &salt)))
}

fn find(conn: &mut DbConn, id: &str) -> Result<Option<(ApiClient, String)>, IntakeError> {
    let row: Option<(String, String, String, String, bool, chrono::NaiveDateTime)> =
        api_clients::table
            .find(id)
            .select((
                api_clients::id,
                api_clients::name,
                api_clients::channel,
                api_clients::salt,
                api_clients::active,
                api_clients::created_at,
            ))
            .first(conn)
            .optional()?;
    row.map(|(id, name, channel, salt, active, created)| {
        let channel = channel
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("api_clients.channel {channel:?}")))?;
        Ok((
            ApiClient {
                id,
                name,
                channel,
                active,
                created_at: from_db(created),
            },
            salt,
        ))
    })
    .transpose()
}

/// How long a node trusts a client's row once read: a client retired is refused by every node
/// within this many seconds.
pub const CLIENT_CACHE_SECS: u64 = 10;
/// The most clients a node keeps (then it forgets them all and reads again).
const CLIENTS_KEPT: usize = 10_000;

/// Registered clients as recently read, so that a busy app's requests do not each read its row.
/// Only active clients are kept; an unknown or retired id is read every time.
pub struct ClientCache {
    ttl: std::time::Duration,
    kept: std::sync::Mutex<HashMap<String, (std::time::Instant, ApiClient, String)>>,
}

impl Default for ClientCache {
    fn default() -> Self {
        Self::new(std::time::Duration::from_secs(CLIENT_CACHE_SECS))
    }
}

impl ClientCache {
    /// Keeps a client's row for `ttl` after reading it.
    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            ttl,
            kept: std::sync::Mutex::default(),
        }
    }

    /// The client `id` and its salt, if registered.
    pub async fn find(
        &self,
        db: &hotline_core::Db,
        id: &str,
    ) -> Result<Option<(ApiClient, String)>, IntakeError> {
        let lock = || {
            self.kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((at, client, salt)) = lock().get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(Some((client.clone(), salt.clone())));
        }
        let owned = id.to_owned();
        let found = db.run(move |c| find(c, &owned)).await?;
        let mut kept = lock();
        match &found {
            Some((client, salt)) if client.active => {
                if kept.len() >= CLIENTS_KEPT {
                    kept.clear();
                }
                kept.insert(
                    id.to_owned(),
                    (std::time::Instant::now(), client.clone(), salt.clone()),
                );
            }
            _ => {
                kept.remove(id);
            }
        }
        Ok(found)
    }
}

/// The signed headers of a request.
#[derive(Debug, Clone)]
pub struct Signed<'a> {
    pub client_id: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub signature: &'a str,
}

/// The string a client signs.
pub fn string_to_sign(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{method}\n{path}\n{timestamp}\n{nonce}\n{}",
        hex(&Sha256::digest(body))
    )
}

/// Signs a request the way clients must (used by the tests and the load generator).
pub fn sign(
    secret: &str,
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign(method, path, timestamp, nonce, body).as_bytes());
            hex(&mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Checks a signed request (client, timestamp window, nonce form, signature) and returns the
/// client. The nonce is spent with the appeal, in its transaction: see [`spend_nonce`].
pub fn verify(
    found: Option<(ApiClient, String)>,
    key: &TokenKey,
    signed: &Signed<'_>,
    method: &str,
    path: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<ApiClient, IntakeError> {
    let Some((client, salt)) = found.filter(|(c, _)| c.active) else {
        return Err(IntakeError::Unsigned(
            "unknown or retired client (X-Client-Id)",
        ));
    };
    let ts: i64 = signed
        .timestamp
        .parse()
        .map_err(|_| IntakeError::Unsigned("X-Timestamp must be Unix seconds"))?;
    if (now.timestamp() - ts).abs() > WINDOW_SECS {
        return Err(IntakeError::Unsigned(
            "the request is older than 5 minutes (or the client's clock is off): sign it again",
        ));
    }
    let nonce_ok = (8..=64).contains(&signed.nonce.len())
        && signed
            .nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !nonce_ok {
        return Err(IntakeError::Unsigned(
            "X-Nonce must be 8 to 64 of [A-Za-z0-9_-]",
        ));
    }
    let expected = sign(
        &secret(key, &client.id, &salt),
        method,
        path,
        signed.timestamp,
        signed.nonce,
        body,
    );
    if !constant_time_eq(&expected, &signed.signature.to_ascii_lowercase()) {
        return Err(IntakeError::Unsigned(
            "the signature does not match (X-Signature)",
        ));
    }
    Ok(client)
}

/// What [`spend_nonce`] calls a nonce seen before (`StoreError::AlreadyExists`), so that the
/// refusal can travel out of the appeal's transaction; [`nonce_refusal`] turns it into the 401.
pub const NONCE_USED: &str = "this X-Nonce";

/// Records `nonce` as used by `client_id`; refuses one seen before. Called in the transaction
/// that stores the appeal, so a request is either stored with its nonce spent or not at all.
pub fn spend_nonce(
    conn: &mut DbConn,
    client_id: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let inserted = diesel::insert_into(client_nonces::table)
        .values((
            client_nonces::client_id.eq(client_id),
            client_nonces::nonce.eq(nonce),
            client_nonces::seen_at.eq(to_db(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(StoreError::AlreadyExists {
            what: NONCE_USED,
            field: "X-Nonce",
        }),
        Err(e) => Err(e.into()),
    }
}

/// The refusal of a request whose nonce was already spent.
pub fn nonce_used() -> IntakeError {
    IntakeError::Unsigned("this X-Nonce was already used: sign the request again")
}

/// A reused nonce, however deep it was found, is the client's signing error (401).
pub fn nonce_refusal(e: IntakeError) -> IntakeError {
    match e {
        IntakeError::Workflow(hotline_core::workflow::WorkflowError::Store(
            StoreError::AlreadyExists {
                what: NONCE_USED, ..
            },
        )) => nonce_used(),
        other => other,
    }
}
