//! One diesel codebase on PostgreSQL and SQLite: a `MultiConnection` enum, one schema, one pool.
//! Diesel is synchronous, so async callers go through [`Db::run`] / [`Db::write`], which run the
//! work on tokio's blocking pool inside the caller's tracing span.

pub mod schema;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{ErrorCode, HasErrorCode};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// A key no other application on the database is likely to use, for `pg_advisory_lock`.
const MIGRATION_LOCK: i64 = 0x3132_3334_354d_4947; // "12345MIG"

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Pg(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Storage failures, said as what they mean to a caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{what} already exists")]
    AlreadyExists {
        what: &'static str,
        field: &'static str,
    },
    #[error("the ticket changed meanwhile: it is now at version {current}")]
    VersionConflict { current: i32 },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("database unavailable")]
    Unavailable(#[source] r2d2::PoolError),
    #[error("database error")]
    Db(#[from] diesel::result::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("background task failed")]
    Join(#[from] tokio::task::JoinError),
}

impl StoreError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl HasErrorCode for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Self::VersionConflict { .. } => ErrorCode::VersionConflict,
            Self::Invalid { .. } => ErrorCode::InvalidField,
            Self::Unavailable(_)
            | Self::Db(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            )) => ErrorCode::Unavailable,
            Self::Db(_) | Self::Corrupt(_) | Self::Migration(_) | Self::Join(_) => {
                ErrorCode::Internal
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::AlreadyExists { field, .. } | Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::VersionConflict { current } => Some(serde_json::json!({ "version": current })),
            _ => None,
        }
    }
}

/// Where the data lives: `postgres://…` / `postgresql://…`, or a SQLite file (`sqlite://PATH`,
/// `sqlite:PATH` or a plain path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    pub url: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self {
                backend: Backend::Postgres,
                url: url.to_owned(),
            };
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self {
            backend: Backend::Sqlite,
            url: path.to_owned(),
        }
    }

    /// The URL without its password, for logs and pages.
    pub fn redacted(&self) -> String {
        if self.backend != Backend::Postgres {
            return self.url.clone();
        }
        let Some((scheme, rest)) = self.url.split_once("://") else {
            return self.url.clone();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }
}

pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend {
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url.url)?;
                c.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(c))
            }
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.url.url)?;
                // The busy timeout first, so the other pragmas wait for a lock rather than fail.
                // FULL: an acknowledged appeal survives power loss, as on PostgreSQL. WAL was
                // switched on once in `Db::connect`; it is a property of the file.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Inserts those of `keyed` (a `Vec` of `(key, insertable row)`) that conflict with no row already
/// there (`ON CONFLICT DO NOTHING`) and returns the keys of the rows that went in; `returning`
/// selects the key's columns. Rows go in in key order, so that concurrent transactions inserting
/// the same keys take their locks in the same order and cannot deadlock.
#[macro_export]
macro_rules! insert_absent {
    ($conn:expr, $table:expr, $keyed:expr, $returning:expr) => {{
        let mut keyed = $keyed;
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        match $conn {
            $crate::db::DbConn::Pg(_) if keyed.is_empty() => Ok(::std::collections::HashSet::new()),
            $crate::db::DbConn::Pg(c) => {
                let rows: Vec<_> = keyed.into_iter().map(|(_, r)| r).collect();
                ::diesel::RunQueryDsl::get_results(
                    ::diesel::insert_into($table)
                        .values(rows)
                        .on_conflict_do_nothing()
                        .returning($returning),
                    c,
                )
                .map(|v| v.into_iter().collect::<::std::collections::HashSet<_>>())
            }
            $crate::db::DbConn::Sqlite(c) => keyed.into_iter().try_fold(
                ::std::collections::HashSet::new(),
                |mut went_in, (k, r)| {
                    let n = ::diesel::RunQueryDsl::execute(
                        ::diesel::insert_into($table)
                            .values(r)
                            .on_conflict_do_nothing(),
                        c,
                    )?;
                    if n == 1 {
                        went_in.insert(k);
                    }
                    Ok(went_in)
                },
            ),
        }
    }};
}

/// Inserts `rows` (a `Vec` of insertable values) into `table` and returns how many went in: in
/// one statement on PostgreSQL, where each statement is a round trip; one per row on SQLite, where
/// a statement costs no round trip (diesel's batch insert does not span both backends).
#[macro_export]
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConn::Pg(_) if rows.is_empty() => Ok(0),
            $crate::db::DbConn::Pg(c) => {
                ::diesel::RunQueryDsl::execute(::diesel::insert_into($table).values(rows), c)
            }
            $crate::db::DbConn::Sqlite(c) => rows.into_iter().try_fold(0usize, |n, r| {
                ::diesel::RunQueryDsl::execute(::diesel::insert_into($table).values(r), c)
                    .map(|k| n + k)
            }),
        }
    }};
}

/// The connection pool and what it needs to know about its backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// SQLite takes one writer at a time; taking turns in-process avoids SQLITE_BUSY on upgrade
    /// from a read to a write transaction. Unused on PostgreSQL.
    sqlite_writer: Arc<Mutex<()>>,
}

impl Db {
    /// Opens a pool of at most `max_size` connections (SQLite files are created on demand).
    pub fn connect(url: &DbUrl, max_size: u32) -> Result<Self, StoreError> {
        if url.backend == Backend::Sqlite {
            // Switching the journal mode needs the file to itself: do it once, before the pool
            // opens its connections.
            let mut c = SqliteConnection::establish(&url.url)
                .map_err(|e| StoreError::Migration(format!("cannot open {}: {e}", url.url)))?;
            c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(max_size.max(1))
            // Connections are opened inside `get`, which waits for them, never ahead of need in
            // r2d2's background threads: a process that exits (a CLI command, a finished server)
            // must not be half-way through a libpq connect, which crashes it intermittently.
            .min_idle(Some(0))
            // No `SELECT 1` round trip before every checkout: under load it was one statement
            // in four of an appeal. A connection the server dropped fails its next statement,
            // r2d2 then discards it (`has_broken`), and that request is answered 503.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })
            .map_err(StoreError::Unavailable)?;
        Ok(Self {
            pool,
            backend: url.backend,
            sqlite_writer: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (CLI commands, background threads).
    pub fn get(&self) -> Result<PooledConn, StoreError> {
        self.pool.get().map_err(StoreError::Unavailable)
    }

    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    pub fn max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// Applies pending migrations; returns the versions applied. Several nodes starting at once
    /// on PostgreSQL take turns through an advisory lock.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.get()?;
        let applied = match &mut *conn {
            DbConn::Pg(c) => {
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let r = c
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect())
                    .map_err(|e| StoreError::Migration(e.to_string()));
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                r?
            }
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(|e| StoreError::Migration(e.to_string()))?,
        };
        Ok(applied)
    }

    /// True when the database is reachable and every migration is applied.
    pub fn is_ready(&self) -> Result<bool, StoreError> {
        let mut conn = self.get()?;
        let pending = match &mut *conn {
            DbConn::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
            DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        };
        pending
            .map(|p| !p)
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Runs read work on the blocking pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(StoreError::Unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(StoreError::from)?
    }

    /// Runs `f` in one transaction on the blocking pool; commits when it returns Ok.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            db.write_blocking(f)
        })
        .await
        .map_err(StoreError::from)?
    }

    /// [`Db::write`] for synchronous callers.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = self.get()?;
        let _turn = match self.backend {
            Backend::Sqlite => Some(
                self.sqlite_writer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            Backend::Postgres => None,
        };
        let conn: &mut DbConn = &mut conn;
        conn.transaction(f)
    }
}

/// Timestamps are stored as UTC without a zone (portable); these convert at the storage edge.
pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The current time at the precision both backends keep (microseconds), so that what is written
/// and what is read back compare equal.
pub fn now() -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    let t = Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_hide_passwords() {
        let pg = DbUrl::parse("postgres://app:s3cret@db.example:5432/hotline");
        assert_eq!(pg.backend, Backend::Postgres);
        assert_eq!(pg.redacted(), "postgres://app:***@db.example:5432/hotline");
        let trust = DbUrl::parse("postgresql://postgres@127.0.0.1/test");
        assert_eq!(trust.redacted(), "postgresql://postgres@127.0.0.1/test");
        assert_eq!(DbUrl::parse("sqlite://data/h.db").url, "data/h.db");
        assert_eq!(DbUrl::parse("data/h.db").backend, Backend::Sqlite);
    }
}
