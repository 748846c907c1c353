//! Typed reads of client records. Every change goes through `state::clients` (named
//! operations with their guarantees); this module only reads, and writes nothing.
//!
//! A deleted client stays deleted: its `client_deleted:` tombstone is read with the record in
//! ONE bulk KV read (`Store::get_many`), so honouring it costs no extra operation, and a
//! record a racing edit wrote back after the deletion is never served.

use super::{keys, Store};
use crate::error::OAuthError;
use crate::json_codec::decode;
use crate::model::Client;

/// Most owner index entries read for one developer: the per-developer limit (25) with room
/// for what KV's uncounted creations may add (docs/consistency.md). The listing is bounded
/// whatever the index holds.
pub const MAX_OWNER_LISTING: usize = 40;

pub async fn get(store: &impl Store, client_id: &str) -> Result<Option<Client>, OAuthError> {
    // A URL names a client metadata document: the cached copy the Worker fetched.
    if crate::oauth::client_document::is_document_id(client_id) {
        return Ok(crate::oauth::client_document::cached(store, client_id)
            .await?
            .and_then(Result::ok));
    }
    if !is_plausible_client_id(client_id) {
        return Ok(None);
    }
    let record = keys::client(client_id);
    let tombstone = keys::client_deleted(client_id);
    let secret = keys::client_secret(client_id);
    let mut found = store
        .get_many(&[&record, &tombstone, &secret])
        .await?
        .into_iter();
    let (Some(Some(text)), Some(None)) = (found.next(), found.next()) else {
        return Ok(None);
    };
    let mut client: Client = decode(&text)
        .map_err(|e| OAuthError::server(format!("corrupt record at {record}: {e}")))?;
    if let Some(Some(rotated)) = found.next() {
        // A rotated secret lives in its own key (`state::clients::rotate_secret`).
        client.secret_hash = Some(rotated);
    }
    Ok(Some(client))
}

/// Whether `client_id` was deleted (its tombstone is written), read fresh.
pub async fn is_deleted(store: &impl Store, client_id: &str) -> Result<bool, OAuthError> {
    Ok(store.get(&keys::client_deleted(client_id)).await?.is_some())
}

/// The clients registered by one portal user, ordered by id (at most [`MAX_OWNER_LISTING`]).
pub async fn list_for_owner(store: &impl Store, sub: &str) -> Result<Vec<Client>, OAuthError> {
    let prefix = keys::owner_clients_prefix(sub);
    let mut out = Vec::new();
    let page = store.list(&prefix, None, MAX_OWNER_LISTING).await?;
    for key in page.keys {
        let id = key.strip_prefix(&prefix).unwrap_or_default();
        // The owner check guards against a stale index entry for a re-used id.
        if let Some(c) = get(store, id).await? {
            if c.owner_sub.as_deref() == Some(sub) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Up to `limit` clients after `cursor`, ordered by id, and the cursor of the next page.
pub async fn list_page(
    store: &impl Store,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<Client>, Option<String>), OAuthError> {
    let page = store.list(keys::CLIENT_PREFIX, cursor, limit).await?;
    let mut clients = Vec::new();
    for key in &page.keys {
        // A client deleted between the listing and the read (or whose record a racing edit
        // wrote back after its deletion) is skipped.
        let id = key.strip_prefix(keys::CLIENT_PREFIX).unwrap_or_default();
        if let Some(client) = get(store, id).await? {
            clients.push(client);
        }
    }
    Ok((clients, page.cursor))
}

/// Client ids we issue are short URL-safe strings; anything else cannot exist, so we do not
/// spend a KV read (or build a key) from arbitrary attacker input.
fn is_plausible_client_id(id: &str) -> bool {
    crate::oauth::identifiers::is_client_id(id)
}
