//! Typed access to client records.

use super::{get_json, keys, list_all, put_json, Store};
use crate::error::OAuthError;
use crate::model::Client;

pub async fn get(store: &impl Store, client_id: &str) -> Result<Option<Client>, OAuthError> {
    if !is_plausible_client_id(client_id) {
        return Ok(None);
    }
    get_json(store, &keys::client(client_id)).await
}

pub async fn put(store: &impl Store, client: &Client) -> Result<(), OAuthError> {
    if let Some(owner) = &client.owner_sub {
        // Index first: a client that exists is always listed for its owner.
        let key = keys::owner_client(owner, &client.client_id);
        store.put(&key, "", None).await?;
    }
    put_json(store, &keys::client(&client.client_id), client, None).await
}

/// Removes the client record and its owner index entry (grants: see `client_registry::delete`).
pub async fn delete(store: &impl Store, client: &Client) -> Result<(), OAuthError> {
    store.delete(&keys::client(&client.client_id)).await?;
    if let Some(owner) = &client.owner_sub {
        store
            .delete(&keys::owner_client(owner, &client.client_id))
            .await?;
    }
    Ok(())
}

/// The clients registered by one portal user, ordered by id.
pub async fn list_for_owner(store: &impl Store, sub: &str) -> Result<Vec<Client>, OAuthError> {
    let prefix = keys::owner_clients_prefix(sub);
    let mut out = Vec::new();
    for key in list_all(store, &prefix).await? {
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
        // A client deleted between the listing and the read is simply skipped.
        if let Some(client) = get_json::<Client>(store, key).await? {
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
