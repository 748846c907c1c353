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
    put_json(store, &keys::client(&client.client_id), client, None).await
}

pub async fn delete(store: &impl Store, client_id: &str) -> Result<(), OAuthError> {
    store.delete(&keys::client(client_id)).await?;
    Ok(())
}

/// All clients, ordered by id.
pub async fn list(store: &impl Store) -> Result<Vec<Client>, OAuthError> {
    let mut clients = Vec::new();
    for key in list_all(store, keys::CLIENT_PREFIX).await? {
        // A client deleted between the listing and the read is simply skipped.
        if let Some(client) = get_json::<Client>(store, &key).await? {
            clients.push(client);
        }
    }
    Ok(clients)
}

/// Client ids we issue are short URL-safe strings; anything else cannot exist, so we do not
/// spend a KV read (or build a key) from arbitrary attacker input.
fn is_plausible_client_id(id: &str) -> bool {
    crate::oauth::identifiers::is_client_id(id)
}
