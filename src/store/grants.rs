//! Typed access to pending authorizations, codes, grants, refresh tokens and consents.
//!
//! KV has no transactions or compare-and-set: each function here is a plain read or write,
//! and `docs/consistency.md` explains what that means for single use and rotation.

use super::{get_json, keys, put_json, Store, MIN_TTL_SECONDS};
use crate::error::OAuthError;
use crate::model::{AuthCode, Consent, Grant, PendingAuthorization, RefreshToken};

/// A TTL for a record that must live until `expires_at`, never under KV's minimum.
pub fn ttl_until(expires_at: u64, now: u64) -> u64 {
    expires_at.saturating_sub(now).max(MIN_TTL_SECONDS)
}

pub async fn put_pending(
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

pub async fn take_pending(
    store: &impl Store,
    request_id: &str,
    now: u64,
) -> Result<Option<PendingAuthorization>, OAuthError> {
    if request_id.is_empty() || request_id.len() > 64 {
        return Ok(None);
    }
    let key = keys::pending_authorization(request_id);
    let pending = get_json::<PendingAuthorization>(store, &key).await?;
    // Single use: a consent form can be submitted once.
    if pending.is_some() {
        store.delete(&key).await?;
    }
    Ok(pending.filter(|p| p.expires_at > now))
}

pub async fn get_code(store: &impl Store, code_hash: &str) -> Result<Option<AuthCode>, OAuthError> {
    get_json(store, &keys::code(code_hash)).await
}

pub async fn put_code(
    store: &impl Store,
    code_hash: &str,
    code: &AuthCode,
    now: u64,
) -> Result<(), OAuthError> {
    let ttl = ttl_until(code.expires_at, now);
    put_json(store, &keys::code(code_hash), code, Some(ttl)).await
}

pub async fn get_grant(store: &impl Store, grant_id: &str) -> Result<Option<Grant>, OAuthError> {
    if grant_id.is_empty() || grant_id.len() > 64 {
        return Ok(None);
    }
    get_json(store, &keys::grant(grant_id)).await
}

/// Writes the grant and its indexes (user's connected apps, client's grants).
pub async fn put_grant(store: &impl Store, grant: &Grant, now: u64) -> Result<(), OAuthError> {
    let ttl = Some(ttl_until(grant.expires_at, now));
    put_json(store, &keys::grant(&grant.grant_id), grant, ttl).await?;
    store
        .put(
            &keys::user_grant(&grant.sub, &grant.grant_id),
            &grant.client_id,
            ttl,
        )
        .await?;
    store
        .put(
            &keys::client_grant(&grant.client_id, &grant.grant_id),
            &grant.sub,
            ttl,
        )
        .await?;
    Ok(())
}

/// Revokes a grant: its current refresh token stops working, its access tokens stop being
/// active at introspection, and it disappears from the user's connected apps.
pub async fn revoke_grant(store: &impl Store, grant: &Grant) -> Result<(), OAuthError> {
    if let Some(hash) = &grant.refresh_hash {
        store.delete(&keys::refresh(hash)).await?;
    }
    store.delete(&keys::grant(&grant.grant_id)).await?;
    store
        .delete(&keys::user_grant(&grant.sub, &grant.grant_id))
        .await?;
    store
        .delete(&keys::client_grant(&grant.client_id, &grant.grant_id))
        .await?;
    Ok(())
}

pub async fn revoke_grant_by_id(store: &impl Store, grant_id: &str) -> Result<bool, OAuthError> {
    match get_grant(store, grant_id).await? {
        Some(grant) => {
            revoke_grant(store, &grant).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

pub async fn get_refresh(
    store: &impl Store,
    token_hash: &str,
) -> Result<Option<RefreshToken>, OAuthError> {
    get_json(store, &keys::refresh(token_hash)).await
}

pub async fn put_refresh(
    store: &impl Store,
    token_hash: &str,
    token: &RefreshToken,
    now: u64,
) -> Result<(), OAuthError> {
    let ttl = ttl_until(token.expires_at, now);
    put_json(store, &keys::refresh(token_hash), token, Some(ttl)).await
}

pub async fn get_consent(
    store: &impl Store,
    sub: &str,
    client_id: &str,
) -> Result<Option<Consent>, OAuthError> {
    get_json(store, &keys::consent(sub, client_id)).await
}

pub async fn put_consent(
    store: &impl Store,
    sub: &str,
    client_id: &str,
    consent: &Consent,
    ttl: u64,
) -> Result<(), OAuthError> {
    put_json(store, &keys::consent(sub, client_id), consent, Some(ttl)).await
}

pub async fn delete_consent(
    store: &impl Store,
    sub: &str,
    client_id: &str,
) -> Result<(), OAuthError> {
    store.delete(&keys::consent(sub, client_id)).await?;
    Ok(())
}

/// Grants found through an index prefix (`user_grant:{sub}:` or `client_grant:{id}:`).
/// Index entries whose grant is gone are skipped.
async fn list_by_index(store: &impl Store, prefix: &str) -> Result<Vec<Grant>, OAuthError> {
    let mut out = Vec::new();
    for key in super::list_all(store, prefix).await? {
        if let Some(grant) = get_grant(store, &key[prefix.len()..]).await? {
            out.push(grant);
        }
    }
    out.sort_by_key(|g| g.created_at);
    Ok(out)
}

pub async fn list_for_user(store: &impl Store, sub: &str) -> Result<Vec<Grant>, OAuthError> {
    list_by_index(store, &keys::user_grant(sub, "")).await
}

pub async fn list_for_client(
    store: &impl Store,
    client_id: &str,
) -> Result<Vec<Grant>, OAuthError> {
    list_by_index(store, &keys::client_grant(client_id, "")).await
}

/// Revokes every grant `sub` gave `client_id` (or every grant of `sub` when `None`) and
/// forgets the matching remembered consents, so the next request asks again.
pub async fn revoke_user_grants(
    store: &impl Store,
    sub: &str,
    client_id: Option<&str>,
) -> Result<usize, OAuthError> {
    let mut revoked = 0;
    for grant in list_for_user(store, sub).await? {
        if client_id.is_none_or(|c| c == grant.client_id) {
            revoke_grant(store, &grant).await?;
            delete_consent(store, sub, &grant.client_id).await?;
            revoked += 1;
        }
    }
    match client_id {
        Some(c) => delete_consent(store, sub, c).await?,
        // Also consents with no live grant yet (a code not redeemed): nothing may skip the page.
        None => {
            for key in super::list_all(store, &keys::consent(sub, "")).await? {
                store.delete(&key).await?;
            }
        }
    }
    Ok(revoked)
}

/// Most live grants one user may have with one client (one per device or browser that went
/// through the flow). Older ones are revoked beyond that, which keeps revoking "all of a
/// user's grants" to a bounded number of KV operations.
pub const MAX_GRANTS_PER_CLIENT: usize = 10;

/// Revokes the oldest grants of (`sub`, `client_id`) so a new one fits under the limit.
pub async fn make_room_for_grant(
    store: &impl Store,
    sub: &str,
    client_id: &str,
) -> Result<(), OAuthError> {
    let existing: Vec<Grant> = list_for_user(store, sub)
        .await?
        .into_iter()
        .filter(|g| g.client_id == client_id)
        .collect();
    let excess = (existing.len() + 1).saturating_sub(MAX_GRANTS_PER_CLIENT);
    // `list_for_user` sorts by creation, oldest first.
    for grant in existing.iter().take(excess) {
        revoke_grant(store, grant).await?;
    }
    Ok(())
}
