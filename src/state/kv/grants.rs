//! Grants on KV: creation with their index keys, revocation (marker first), listings.

use super::records::{ClientGrantEntry, KvCode, KvGrant};
use crate::state::{ids, CodeExchange, GrantView, Page, StateResult};
use crate::store::{get_json, keys, put_json, ttl_until, Store};
use crate::token::opaque;

/// The grant a redeemed code creates, with its first refresh token.
pub fn new_grant(code: &KvCode, scopes: Vec<String>, x: &CodeExchange) -> (KvGrant, String) {
    let expires_at = x.now + x.refresh_ttl;
    let token = ids::refresh_token(&code.grant_id, 0, &x.refresh_secret);
    let grant = KvGrant {
        grant_id: code.grant_id.clone(),
        client_id: code.client_id.clone(),
        sub: code.sub.clone(),
        scopes,
        created_at: x.now,
        expires_at,
        refresh_hash: opaque::hash(&x.refresh_secret),
        chain_key: x.chain_key.clone(),
        indexed_until: expires_at,
    };
    (grant, token)
}

/// The grant record, revoked or not (for replay detection).
pub async fn read(store: &impl Store, grant_id: &str) -> StateResult<Option<KvGrant>> {
    if !ids::is_token_text(grant_id) {
        return Ok(None);
    }
    Ok(get_json(store, &keys::grant(grant_id)).await?)
}

/// The grant if it is live: present, unexpired, and not marked revoked.
pub async fn live(store: &impl Store, grant_id: &str, now: u64) -> StateResult<Option<KvGrant>> {
    let Some(grant) = read(store, grant_id).await?.filter(|g| g.expires_at > now) else {
        return Ok(None);
    };
    if store.get(&keys::grant_revoked(grant_id)).await?.is_some() {
        return Ok(None);
    }
    Ok(Some(grant))
}

/// Writes a new grant and its index keys (each written once).
pub async fn create(store: &impl Store, grant: &KvGrant, now: u64) -> StateResult<()> {
    put_json(
        store,
        &keys::grant(&grant.grant_id),
        grant,
        Some(ttl_until(grant.expires_at, now)),
    )
    .await?;
    write_indexes(store, grant, now).await
}

pub async fn write_indexes(store: &impl Store, grant: &KvGrant, now: u64) -> StateResult<()> {
    let ttl = Some(ttl_until(grant.indexed_until, now));
    let user_key = keys::user_grant(&grant.sub, &grant.client_id, &grant.grant_id);
    store.put(&user_key, "", ttl).await?;
    let entry = ClientGrantEntry {
        sub: grant.sub.clone(),
        scopes: grant.scopes.clone(),
        created_at: grant.created_at,
        expires_at: grant.indexed_until,
    };
    let client_key = keys::client_grant(&grant.client_id, &grant.grant_id);
    put_json(store, &client_key, &entry, ttl).await?;
    Ok(())
}

/// How long a revocation marker lives: longer than any grant a refresh racing the revocation
/// could write back (`REFRESH_TOKEN_TTL` is at most 365 days), so the grant cannot outlive it.
pub const MARKER_TTL: u64 = 366 * 86_400;

/// The marker that makes a revocation final (see `keys::grant_revoked`).
pub async fn mark_revoked(store: &impl Store, grant_id: &str) -> StateResult<()> {
    store
        .put(&keys::grant_revoked(grant_id), "", Some(MARKER_TTL))
        .await?;
    Ok(())
}

/// Revocation: the marker first (from then on no use succeeds), then the records go.
pub async fn revoke(store: &impl Store, grant: &KvGrant) -> StateResult<()> {
    mark_revoked(store, &grant.grant_id).await?;
    store.delete(&keys::grant(&grant.grant_id)).await?;
    store
        .delete(&keys::user_grant(
            &grant.sub,
            &grant.client_id,
            &grant.grant_id,
        ))
        .await?;
    store
        .delete(&keys::client_grant(&grant.client_id, &grant.grant_id))
        .await?;
    Ok(())
}

/// Revokes a grant by id; `false` when there is none. A code's grant id that has no grant yet
/// still gets the marker (its code is then dead).
pub async fn revoke_by_id(store: &impl Store, grant_id: &str) -> StateResult<bool> {
    match read(store, grant_id).await? {
        Some(grant) => {
            revoke(store, &grant).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Revokes `sub`'s grants (to one client or all) and forgets the matching consents.
pub async fn revoke_user(
    store: &impl Store,
    sub: &str,
    client_id: Option<&str>,
) -> StateResult<usize> {
    // Consent first: a code issued before this cannot create a grant after it.
    match client_id {
        Some(c) => store.delete(&keys::consent(sub, c)).await?,
        None => {
            for key in crate::store::list_all(store, &keys::consent(sub, "")).await? {
                store.delete(&key).await?;
            }
        }
    }
    let prefix = match client_id {
        Some(c) => keys::user_grant(sub, c, ""),
        None => keys::user_grants_prefix(sub),
    };
    let mut revoked = 0;
    for key in crate::store::list_all(store, &prefix).await? {
        let grant_id = key.rsplit(':').next().unwrap_or("");
        if revoke_by_id(store, grant_id).await? {
            revoked += 1; // its index key went with it
        } else {
            store.delete(&key).await?; // an index entry whose grant expired
        }
    }
    Ok(revoked)
}

pub async fn list_for_user(
    store: &impl Store,
    sub: &str,
    cursor: Option<&str>,
    limit: usize,
    now: u64,
) -> StateResult<Page<GrantView>> {
    list_live(store, &keys::user_grants_prefix(sub), cursor, limit, now).await
}

pub async fn list_for_client(
    store: &impl Store,
    client_id: &str,
    cursor: Option<&str>,
    limit: usize,
    now: u64,
) -> StateResult<Page<GrantView>> {
    list_live(
        store,
        &keys::client_grant(client_id, ""),
        cursor,
        limit,
        now,
    )
    .await
}

/// One KV list page of index keys (ending in the grant id), keeping the live grants. A page
/// may hold fewer than `limit` (revoked or expired entries are skipped); `cursor` goes on.
async fn list_live(
    store: &impl Store,
    prefix: &str,
    cursor: Option<&str>,
    limit: usize,
    now: u64,
) -> StateResult<Page<GrantView>> {
    let page = store.list(prefix, cursor, limit).await?;
    let mut items = Vec::new();
    for key in &page.keys {
        if let Some(grant) = live(store, key.rsplit(':').next().unwrap_or(""), now).await? {
            items.push(grant.view());
        }
    }
    Ok(Page {
        items,
        cursor: page.cursor,
    })
}
