//! Login sessions, keyed by the hash of the cookie's random id: in KV on both backends
//! (read on every page, from every location). Starting and ending sessions are the named
//! operations here. Guarantee: an ended session is refused at once in the location that
//! ended it, and everywhere within KV's propagation (about 60 s); its grants are revoked
//! separately (`State::revoke_user`), exactly, when the sign-out asks for it.

use crate::error::OAuthError;
use crate::model::Session;
use crate::store::{get_json, keys, list_all, put_json, Store};
use crate::token::opaque;

/// Looks up the session a cookie value names; expired or unknown → `None`.
pub async fn find(
    store: &impl Store,
    session_id: &str,
    now: u64,
) -> Result<Option<(String, Session)>, OAuthError> {
    if session_id.is_empty() || session_id.len() > 128 {
        return Ok(None);
    }
    let hash = opaque::hash(session_id);
    Ok(get_json::<Session>(store, &keys::session(&hash))
        .await?
        .filter(|s| s.expires_at > now)
        .map(|s| (hash, s)))
}

pub async fn put(
    store: &impl Store,
    hash: &str,
    session: &Session,
    ttl: u64,
) -> Result<(), OAuthError> {
    put_json(store, &keys::session(hash), session, Some(ttl)).await?;
    store
        .put(&keys::user_session(&session.sub, hash), "", Some(ttl))
        .await?;
    Ok(())
}

pub async fn delete(store: &impl Store, hash: &str, sub: &str) -> Result<(), OAuthError> {
    store.delete(&keys::session(hash)).await?;
    store.delete(&keys::user_session(sub, hash)).await?;
    Ok(())
}

/// Ends every session of a user (platform logout). Returns how many were ended.
pub async fn delete_all_for(store: &impl Store, sub: &str) -> Result<usize, OAuthError> {
    let prefix = keys::user_session(sub, "");
    let index = list_all(store, &prefix).await?;
    for key in &index {
        let hash = &key[prefix.len()..];
        store.delete(&keys::session(hash)).await?;
        store.delete(key).await?;
    }
    Ok(index.len())
}
