//! Login sessions inside the user's object (durable backend). The cookie names the object
//! (`{object id}.{secret}`) and the object keeps the session under the hash of the cookie's
//! value. So the object decides, exactly, whether a session is live: an ended session is
//! refused at once everywhere, and authorize checks the session and issues its code in one
//! call (no KV read). At most [`MAX_SESSIONS_PER_USER`] per user; a sign-in beyond that
//! ends the oldest, in the same step.

use super::codes;
use super::{exec, first_int};
use crate::model::Session;
use crate::oauth::oidc;
use crate::state::durable::sql::Sql;
use crate::state::sessions::MAX_SESSIONS_PER_USER;
use crate::state::{CodeConsent, CodeInSession, SessionCode, StateError};

/// Stores a session (a repeat of the same call stores it again, unchanged), drops expired
/// ones, and ends the oldest beyond the cap.
pub fn start(db: &impl Sql, hash: &str, session: &Session) -> Result<(), StateError> {
    let now = session.created_at;
    exec(
        db,
        "DELETE FROM sessions WHERE expires_at <= ?",
        &[now.into()],
    )?;
    let record = serde_json::to_string(session).map_err(|e| StateError::Failed(e.to_string()))?;
    exec(
        db,
        "INSERT OR REPLACE INTO sessions (hash, created_at, expires_at, record) \
         VALUES (?, ?, ?, ?)",
        &[
            hash.into(),
            session.created_at.into(),
            session.expires_at.into(),
            record.into(),
        ],
    )?;
    // The newest MAX stay, newest by insertion (a REPLACE takes a new rowid), not by the
    // Worker's clock: isolates' clocks differ, and a sign-in must never evict itself.
    exec(
        db,
        "DELETE FROM sessions WHERE rowid NOT IN (SELECT rowid FROM sessions \
         ORDER BY rowid DESC LIMIT ?)",
        &[(MAX_SESSIONS_PER_USER as u64).into()],
    )?;
    Ok(())
}

/// The live session stored under `hash`.
pub fn find(db: &impl Sql, hash: &str, now: u64) -> Result<Option<Session>, StateError> {
    let rows = exec(
        db,
        "SELECT record FROM sessions WHERE hash = ? AND expires_at > ?",
        &[hash.into(), now.into()],
    )?;
    match rows.first().and_then(|r| r.first()) {
        Some(record) => crate::json_codec::decode(&record.text())
            .map(Some)
            .map_err(|e| StateError::Failed(format!("stored session: {e}"))),
        None => Ok(None),
    }
}

/// Ends one session; `false` when there was none.
pub fn end(db: &impl Sql, hash: &str) -> Result<bool, StateError> {
    let before = count(db)?;
    exec(db, "DELETE FROM sessions WHERE hash = ?", &[hash.into()])?;
    Ok(count(db)? < before)
}

/// Ends every session of the user; how many were live at `now` (expired rows not yet swept
/// go too, uncounted).
pub fn end_all(db: &impl Sql, now: u64) -> Result<usize, StateError> {
    let live = first_int(&exec(
        db,
        "SELECT COUNT(*) FROM sessions WHERE expires_at > ?",
        &[now.into()],
    )?);
    exec(db, "DELETE FROM sessions", &[])?;
    Ok(live as usize)
}

fn count(db: &impl Sql) -> Result<i64, StateError> {
    Ok(first_int(&exec(db, "SELECT COUNT(*) FROM sessions", &[])?))
}

/// Authorize without a page: the session under `hash`, if live and signed in at or after
/// `signed_in_after`, and a code if the remembered consent covers the request; the code
/// carries the session's user and, for `openid`, its sign-in (OIDC Core §2).
pub fn issue_code(
    db: &impl Sql,
    object: &str,
    hash: &str,
    request: CodeInSession,
) -> Result<SessionCode, StateError> {
    let mut code = request.code;
    let Some(session) =
        find(db, hash, code.now)?.filter(|s| s.created_at >= request.signed_in_after)
    else {
        return Ok(SessionCode {
            session: None,
            code: None,
        });
    };
    code.sub = session.sub.clone();
    code.sign_in = oidc::sign_in(&code.scopes, hash, &session, request.nonce.as_deref());
    let issued = codes::issue(db, object, code, CodeConsent::Remembered)?;
    Ok(SessionCode {
        session: Some(session),
        code: issued,
    })
}
