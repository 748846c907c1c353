//! The per-user Durable Object's logic, over its SQLite database ([`Sql`]). Plain Rust:
//! natively it runs on SQLite in memory (`durable::native`), in the Worker on the object's
//! storage (`worker::durable`).
//!
//! Every operation here is synchronous from its first read to its last write: the object
//! processes one such run at a time, so each transition is atomic with respect to every
//! other request for this user. That is the whole concurrency argument.

mod apps;
mod codes;
mod grants;
mod sessions;

use super::ops::{Answer, Call, Op, Reply};
use super::sql::{Sql, SqlValue};
use crate::state::StateError;

/// The tables (docs/storage.md describes them). Scopes are space-separated text.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS codes (hash TEXT PRIMARY KEY, sub TEXT NOT NULL, \
     client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scopes TEXT NOT NULL, \
     challenge TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, \
     grant_seq INTEGER, sign_in TEXT, resource TEXT)",
    "CREATE TABLE IF NOT EXISTS grants (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
     client_id TEXT NOT NULL, sub TEXT NOT NULL, scopes TEXT NOT NULL, \
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, refresh_hash TEXT NOT NULL, \
     generation INTEGER NOT NULL, rotated_at INTEGER NOT NULL, chain_key TEXT NOT NULL, \
     sign_in TEXT, resource TEXT)",
    "CREATE INDEX IF NOT EXISTS grants_by_client ON grants (client_id, seq)",
    "CREATE TABLE IF NOT EXISTS consents (client_id TEXT PRIMARY KEY, scopes TEXT NOT NULL, \
     expires_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answered_requests (request_id TEXT PRIMARY KEY, \
     expires_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS attempts (at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS apps (client_id TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS listings (client_id TEXT PRIMARY KEY, generation INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rotation_attempts (seq INTEGER PRIMARY KEY, \
     attempt TEXT NOT NULL, at INTEGER NOT NULL)",
    // Login sessions (`sessions.rs`): `record` is the `Session` as JSON.
    "CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL, \
     expires_at INTEGER NOT NULL, record TEXT NOT NULL)",
];

/// Columns added after the tables were first made: (table, column, its type). A new object
/// has them from `SCHEMA`; an object made before gets them when it next starts (the new column
/// is `NULL` in its old rows).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // OpenID Connect: the sign-in a code and its grant rest on (`state::SignIn`, as JSON).
    ("codes", "sign_in", "TEXT"),
    ("grants", "sign_in", "TEXT"),
    // RFC 8707: the resource named at authorize, the grant's tokens' `aud`.
    ("codes", "resource", "TEXT"),
    ("grants", "resource", "TEXT"),
];

/// Creates the tables if this object has none yet, and adds the columns it lacks (run when the
/// object starts).
pub fn migrate(db: &impl Sql) -> Result<(), String> {
    for statement in SCHEMA {
        db.exec(statement, &[])?;
    }
    for (table, column, kind) in ADDED_COLUMNS {
        // A statement naming a missing column fails; that failure is the answer.
        let present = db.exec(&format!("SELECT {column} FROM {table} LIMIT 0"), &[]);
        if present.is_err() {
            db.exec(
                &format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"),
                &[],
            )?;
        }
    }
    Ok(())
}

/// Runs one call. Never awaits.
pub fn handle(db: &impl Sql, call: Call) -> Answer {
    let object = call.object.as_str();
    match call.op {
        Op::IssueCode { code, consent } => codes::issue(db, object, code, consent).map(Reply::Code),
        Op::ExchangeCode(x) => codes::exchange(db, object, x).map(Reply::Issued),
        Op::Rotate(r) => grants::rotate(db, object, r).map(Reply::Issued),
        Op::FindRefresh { token, now } => {
            grants::find_refresh(db, object, &token, now).map(Reply::Grant)
        }
        Op::RevokeRefresh { token, client_id } => {
            grants::revoke_refresh(db, object, &token, &client_id).map(Reply::Flag)
        }
        Op::GetGrant { seq, now } => grants::get(db, object, seq, now).map(Reply::Grant),
        Op::RevokeGrant { seq } => grants::revoke(db, seq).map(Reply::Flag),
        Op::RevokeUser { client_id } => {
            grants::revoke_user(db, client_id.as_deref()).map(Reply::Count)
        }
        Op::ListGrants {
            after,
            limit,
            now,
            client_id,
            generation,
        } => match client_id {
            None => grants::list(db, object, after, limit, now, None),
            Some(c) => grants::list_for_listing(db, object, &c, generation, limit, now),
        }
        .map(Reply::Grants),
        Op::AttemptsExhausted { max, window, now } => {
            let seen = exec(
                db,
                "SELECT COUNT(*) FROM attempts WHERE at > ?",
                &[now.saturating_sub(window).into()],
            )?;
            Ok(Reply::Flag(first_int(&seen) >= i64::from(max)))
        }
        Op::CountAttempt { max, window, now } => {
            count_attempt(db, max, window, now).map(Reply::Flag)
        }
        Op::ClearAttempts => exec(db, "DELETE FROM attempts", &[]).map(|_| Reply::Done),
        Op::ClaimApp {
            client_id,
            submission,
            limit,
            expires_at,
        } => apps::claim(db, &client_id, &submission, limit, expires_at).map(Reply::Claim),
        Op::ReleaseApp { client_id } => apps::release(db, &client_id).map(|()| Reply::Done),
        Op::ClaimSubmission {
            submission,
            expires_at,
        } => apps::claim_submission(db, &submission, expires_at).map(Reply::Flag),
        Op::StartSession { hash, session } => {
            sessions::start(db, &hash, &session).map(|()| Reply::Done)
        }
        Op::FindSession { hash, now } => sessions::find(db, &hash, now).map(Reply::Session),
        Op::EndSession { hash } => sessions::end(db, &hash).map(Reply::Flag),
        Op::EndAllSessions { now } => sessions::end_all(db, now).map(Reply::Count),
        Op::IssueCodeInSession { hash, request } => {
            sessions::issue_code(db, object, &hash, request).map(Reply::SessionCode)
        }
    }
}

/// How long after counting an attempt an object checks whether it holds anything else: the
/// attempt window (15 minutes) and a minute.
pub const IDLE_CHECK_SECONDS: u64 = crate::state::throttle::WINDOW_SECONDS + 60;

/// What an object does when its alarm rings.
#[derive(Debug, PartialEq, Eq)]
pub enum Idle {
    /// Nothing left but expired attempts: delete the object's storage, so the object no
    /// longer exists (one is made for every email anyone tries to sign in with).
    Remove,
    /// Attempts still count: look again then.
    CheckAgainIn(u64),
    /// A user's object with codes, grants or consents: keep it.
    Keep,
}

/// Drops expired attempts, then decides whether anything is left ([`Idle`]). Every table
/// but `attempts` is looked at, whatever later versions add.
pub fn idle(db: &impl Sql, now: u64) -> Result<Idle, StateError> {
    let window = crate::state::throttle::WINDOW_SECONDS;
    exec(
        db,
        "DELETE FROM attempts WHERE at <= ?",
        &[now.saturating_sub(window).into()],
    )?;
    let tables = exec(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'attempts' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
        &[],
    )?;
    for table in tables {
        let name = table.first().map(SqlValue::text).unwrap_or_default();
        if !exec(db, &format!("SELECT 1 FROM \"{name}\" LIMIT 1"), &[])?.is_empty() {
            return Ok(Idle::Keep);
        }
    }
    let oldest = exec(db, "SELECT MIN(at) FROM attempts", &[])?;
    match oldest.first().and_then(|r| r.first()) {
        Some(SqlValue::Int(at)) => {
            let due = (*at as u64 + window).saturating_sub(now) + 1;
            Ok(Idle::CheckAgainIn(due))
        }
        _ => Ok(Idle::Remove),
    }
}

/// One sign-in attempt, if fewer than `max` happened within `window` seconds.
fn count_attempt(db: &impl Sql, max: u32, window: u64, now: u64) -> Result<bool, StateError> {
    exec(
        db,
        "DELETE FROM attempts WHERE at <= ?",
        &[now.saturating_sub(window).into()],
    )?;
    let seen = exec(db, "SELECT COUNT(*) FROM attempts", &[])?;
    if first_int(&seen) >= i64::from(max) {
        return Ok(false);
    }
    exec(db, "INSERT INTO attempts (at) VALUES (?)", &[now.into()])?;
    Ok(true)
}

pub(crate) fn exec(
    db: &impl Sql,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<super::sql::Row>, StateError> {
    db.exec(sql, params).map_err(StateError::Failed)
}

pub(crate) fn first_int(rows: &[super::sql::Row]) -> i64 {
    rows.first()
        .and_then(|r| r.first())
        .map_or(0, SqlValue::int)
}

/// Scopes as stored (space-separated) and back.
pub(crate) fn scopes_text(scopes: &[String]) -> SqlValue {
    SqlValue::Text(scopes.join(" "))
}

/// An `openid` code's or grant's sign-in as stored (`NULL` without one) and back.
pub(crate) fn sign_in_value(sign_in: Option<&crate::state::SignIn>) -> SqlValue {
    sign_in.map_or(SqlValue::Null, |s| SqlValue::Text(s.to_text()))
}

pub(crate) fn sign_in_of(value: &SqlValue) -> Option<crate::state::SignIn> {
    crate::state::SignIn::from_text(&value.text())
}

/// An optional text column (NULL when absent).
pub(crate) fn opt_text(value: &SqlValue) -> Option<String> {
    match value {
        SqlValue::Null => None,
        other => Some(other.text()),
    }
}

pub(crate) fn text_or_null(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::from)
}

pub(crate) fn scopes_of(value: &SqlValue) -> Vec<String> {
    value
        .text()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::durable::native::object_db;
    use crate::state::throttle::WINDOW_SECONDS;

    #[test]
    fn an_object_made_before_a_column_existed_gets_it_and_migrating_again_changes_nothing() {
        let db = object_db();
        for (table, column, _) in ADDED_COLUMNS {
            db.exec(&format!("ALTER TABLE {table} DROP COLUMN {column}"), &[])
                .unwrap();
            assert!(db
                .exec(&format!("SELECT {column} FROM {table}"), &[])
                .is_err());
        }
        migrate(&db).unwrap();
        migrate(&db).unwrap();
        for (table, column, _) in ADDED_COLUMNS {
            assert!(db
                .exec(&format!("SELECT {column} FROM {table}"), &[])
                .is_ok());
        }
    }

    #[test]
    fn objects_made_before_resource_indicators_gain_the_column_and_migrate_again_cleanly() {
        let db = crate::state::durable::native::empty_db();
        // The tables as they were before issue 16.
        for table in [
            "CREATE TABLE codes (hash TEXT PRIMARY KEY, sub TEXT NOT NULL, client_id TEXT NOT \
             NULL, redirect_uri TEXT NOT NULL, scopes TEXT NOT NULL, challenge TEXT NOT NULL, \
             expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, grant_seq INTEGER)",
            "CREATE TABLE grants (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT \
             NULL, sub TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL, \
             expires_at INTEGER NOT NULL, refresh_hash TEXT NOT NULL, generation INTEGER NOT \
             NULL, rotated_at INTEGER NOT NULL, chain_key TEXT NOT NULL)",
        ] {
            db.exec(table, &[]).unwrap();
        }
        migrate(&db).unwrap();
        migrate(&db).unwrap();
        for table in ["codes", "grants"] {
            let sql = format!("SELECT resource FROM {table}");
            assert!(db.exec(&sql, &[]).unwrap().is_empty());
        }
    }

    #[test]
    fn an_object_left_with_expired_attempts_only_is_removed() {
        let db = object_db();
        let t = 1_800_000_000;
        assert!(count_attempt(&db, 10, WINDOW_SECONDS, t).unwrap());
        assert!(count_attempt(&db, 10, WINDOW_SECONDS, t + 100).unwrap());
        // The oldest attempt still counts: look again when it expires.
        assert_eq!(
            idle(&db, t + IDLE_CHECK_SECONDS - 200).unwrap(),
            Idle::CheckAgainIn(WINDOW_SECONDS - (IDLE_CHECK_SECONDS - 200) + 1)
        );
        assert_eq!(idle(&db, t + 100 + WINDOW_SECONDS).unwrap(), Idle::Remove);
    }

    #[test]
    fn a_users_object_with_anything_else_is_kept() {
        let db = object_db();
        exec(
            &db,
            "INSERT INTO consents (client_id, scopes, expires_at) VALUES ('c', 'read', 1)",
            &[],
        )
        .unwrap();
        assert_eq!(idle(&db, 1_900_000_000).unwrap(), Idle::Keep);
    }
}
