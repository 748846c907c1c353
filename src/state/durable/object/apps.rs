//! A developer's applications and one-time portal forms, in the developer's own object: the
//! count behind the per-developer limit and "a re-submitted form acts once" are each one
//! synchronous step here, so they are exact at any concurrency.

use super::{exec, first_int};
use crate::state::{AppClaim, StateError};

/// Records `client_id` as one of this user's applications, made by the form `submission`:
/// `Repeat` if that form was already acted on, `Full` if the user has `limit` already.
pub fn claim(
    db: &impl super::Sql,
    client_id: &str,
    submission: &str,
    limit: usize,
    expires_at: u64,
) -> Result<AppClaim, StateError> {
    if !claim_submission(db, submission, expires_at)? {
        return Ok(AppClaim::Repeat);
    }
    let count = first_int(&exec(db, "SELECT COUNT(*) FROM apps", &[])?);
    if count >= limit as i64 {
        // The form did nothing: it may be sent again once an application is deleted.
        exec(
            db,
            "DELETE FROM answered_requests WHERE request_id = ?",
            &[submission_key(submission).into()],
        )?;
        return Ok(AppClaim::Full);
    }
    exec(
        db,
        "INSERT OR IGNORE INTO apps (client_id) VALUES (?)",
        &[client_id.into()],
    )?;
    Ok(AppClaim::Claimed)
}

/// The application is gone: it no longer counts.
pub fn release(db: &impl super::Sql, client_id: &str) -> Result<(), StateError> {
    exec(
        db,
        "DELETE FROM apps WHERE client_id = ?",
        &[client_id.into()],
    )
    .map(drop)
}

/// `true` the first time `submission` is seen (until `expires_at`).
pub fn claim_submission(
    db: &impl super::Sql,
    submission: &str,
    expires_at: u64,
) -> Result<bool, StateError> {
    let key = submission_key(submission);
    let seen = exec(
        db,
        "SELECT 1 FROM answered_requests WHERE request_id = ?",
        &[key.clone().into()],
    )?;
    if !seen.is_empty() {
        return Ok(false);
    }
    exec(
        db,
        "INSERT INTO answered_requests (request_id, expires_at) VALUES (?, ?)",
        &[key.into(), expires_at.into()],
    )?;
    Ok(true)
}

/// Form ids share the consent forms' table under their own prefix.
fn submission_key(submission: &str) -> String {
    format!("form:{submission}")
}
