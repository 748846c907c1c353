//! Login sessions in KV, keyed by the hash of the cookie's random id: the KV backend's, and on
//! the durable backend those started before sessions moved into the users' objects
//! (`durable::object::sessions`; a cookie value without an object id names one of these).
//! Endpoints reach them through `State` (`start_session`, `find_session`, ...). Guarantee: an
//! ended session is refused at once in the location that ended it, and everywhere within
//! KV's propagation (about 60 s); its grants are revoked separately (`State::revoke_user`),
//! exactly, when the sign-out asks for it.
//!
//! A user has at most [`MAX_SESSIONS_PER_USER`] live sessions: a sign-in beyond that ends
//! the oldest (its `user_session:` index key sorts by creation second). So ending all of a
//! user's sessions is bounded by the cap, not by how often they signed in, and fits one
//! Worker request (1000 storage operations) whatever the user did.

use crate::error::{ErrorCode, OAuthError};
use crate::model::Session;
use crate::oauth::oidc;
use crate::state::{CodeConsent, CodeInSession, SessionCode, State, StateResult};
use crate::store::{get_json, keys, put_json, Store};

/// Most live sessions (browsers) one user keeps; the oldest ends to make room.
pub const MAX_SESSIONS_PER_USER: usize = 20;

/// Most surplus sessions one sign-in ends (two deletes each). Sign-ins racing across
/// locations may leave a few beyond the cap; later sign-ins take them back down.
const MAX_ENDED_PER_SIGN_IN: usize = 20;

/// Most sessions one end-all request ends (two deletes each, far below 1000 operations).
/// Only sign-ins racing past the cap can leave more; the caller is then told to retry.
const MAX_ENDED_PER_REQUEST: usize = 200;

/// The live session stored under `hash` (its cookie's hash).
pub async fn find_hashed(
    store: &impl Store,
    hash: &str,
    now: u64,
) -> Result<Option<Session>, OAuthError> {
    Ok(get_json::<Session>(store, &keys::session(hash))
        .await?
        .filter(|s| s.expires_at > now))
}

/// `State::issue_code_in_session` for a session read from KV: the code (remembered consent)
/// once the session is known, in a second step.
pub async fn issue_in_found(
    state: &impl State,
    session: Option<Session>,
    hash: &str,
    request: CodeInSession,
) -> StateResult<SessionCode> {
    let Some(session) = session.filter(|s| s.created_at >= request.signed_in_after) else {
        return Ok(SessionCode {
            session: None,
            code: None,
        });
    };
    let mut code = request.code;
    code.sub = session.sub.clone();
    code.sign_in = oidc::sign_in(&code.scopes, hash, &session, request.nonce.as_deref());
    let code = state.issue_code(code, CodeConsent::Remembered).await?;
    Ok(SessionCode {
        session: Some(session),
        code,
    })
}

/// Stores a new session under `hash`, first ending the user's oldest beyond the cap. The
/// index entry is written before the session: a sign-in that fails between the two leaves an
/// entry without a session (ignored: ending it deletes nothing, and it expires), never a
/// session that ending all sessions would miss.
pub async fn start(
    store: &impl Store,
    hash: &str,
    session: &Session,
    ttl: u64,
) -> Result<(), OAuthError> {
    make_room(store, &session.sub).await?;
    let index = keys::user_session(&session.sub, session.created_at, hash);
    store.put(&index, "", Some(ttl)).await?;
    put_json(store, &keys::session(hash), session, Some(ttl)).await?;
    Ok(())
}

/// Ends the oldest of `sub`'s sessions so that the new one is within the cap: one list of
/// the user's index (bounded by the cap), a few deletes.
async fn make_room(store: &impl Store, sub: &str) -> Result<(), OAuthError> {
    let prefix = keys::user_sessions_prefix(sub);
    let page = store.list(&prefix, None, 1000).await?;
    let excess = (page.keys.len() + 1).saturating_sub(MAX_SESSIONS_PER_USER);
    // Index keys sort by creation second: the first are the oldest.
    for key in page.keys.iter().take(excess.min(MAX_ENDED_PER_SIGN_IN)) {
        // Best effort: KV refuses a delete of a key written this same second (a burst of
        // sign-ins); that session then ends at the next sign-in or at its TTL.
        let _ = end(store, key, &key[prefix.len()..]).await;
    }
    Ok(())
}

/// The session id hash an index key ends with (`{second}.{hash}`).
fn hash_of(entry: &str) -> &str {
    entry.split_once('.').map_or(entry, |(_, hash)| hash)
}

/// Ends the session an index key names: the session first, so that a failure leaves the
/// index key for the next attempt.
async fn end(store: &impl Store, index_key: &str, entry: &str) -> Result<(), OAuthError> {
    store.delete(&keys::session(hash_of(entry))).await?;
    store.delete(index_key).await?;
    Ok(())
}

/// Ends one session (sign-out, or a sign-in replacing the browser's session).
pub async fn delete(store: &impl Store, hash: &str, session: &Session) -> Result<(), OAuthError> {
    store.delete(&keys::session(hash)).await?;
    let index = keys::user_session(&session.sub, session.created_at, hash);
    store.delete(&index).await?;
    Ok(())
}

/// Ends every session of a user (platform logout, account deletion). Returns how many were
/// ended. The cap keeps them under [`MAX_ENDED_PER_REQUEST`]; should racing sign-ins have
/// left more, those ended stay ended and the answer is "retry" (503), never a half-done
/// success.
pub async fn delete_all_for(store: &impl Store, sub: &str) -> Result<usize, OAuthError> {
    let prefix = keys::user_sessions_prefix(sub);
    let page = store.list(&prefix, None, MAX_ENDED_PER_REQUEST).await?;
    for key in &page.keys {
        end(store, key, &key[prefix.len()..]).await?;
    }
    if page.cursor.is_some() {
        return Err(OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "The user has more sessions than one request ends; those ended stay ended, retry",
        ));
    }
    Ok(page.keys.len())
}
