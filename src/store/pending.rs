//! Pending authorizations: the request a consent page was shown for, until the user decides.
//! Never rewritten or deleted (KV refuses a second write to a key within a second, and users
//! do answer that fast): the decision is made once by the state layer, which records the
//! answered request id (`CodeConsent::Approved`); the record expires with its TTL.

use super::{get_json, keys, put_json, ttl_until, Store};
use crate::error::OAuthError;
use crate::model::PendingAuthorization;

pub async fn put(
    store: &impl Store,
    request_id: &str,
    pending: &PendingAuthorization,
    now: u64,
) -> Result<(), OAuthError> {
    let ttl = ttl_until(pending.expires_at, now);
    put_json(
        store,
        &keys::pending_authorization(request_id),
        pending,
        Some(ttl),
    )
    .await
}

/// The pending request, if it exists and has not expired.
pub async fn find(
    store: &impl Store,
    request_id: &str,
    now: u64,
) -> Result<Option<PendingAuthorization>, OAuthError> {
    if request_id.is_empty() || request_id.len() > 64 {
        return Ok(None);
    }
    let key = keys::pending_authorization(request_id);
    let pending = get_json::<PendingAuthorization>(store, &key).await?;
    Ok(pending.filter(|p| p.expires_at > now))
}
