//! Client changes as named operations (the admin API, the developer portal and Try it call
//! these; nothing else writes `client:` records). Records stay in KV on both backends (every
//! location reads them); the guarantees (docs/consistency.md, "Clients"):
//!
//! - **Deletion is final.** [`delete`] first writes the permanent `client_deleted:` tombstone,
//!   then removes the record and its owner index entry. Every reader reads the tombstone with
//!   the record in one bulk read (`store::clients::get`), so the client, and with it every
//!   grant (each use of a grant reads its client), is gone once `delete` has answered, even
//!   if a racing edit writes the record back afterwards: [`update`] re-reads the tombstone
//!   after its write and removes what it wrote, answering "gone".
//! - **A rotation is never lost.** [`rotate_secret`] writes the secret's hash to its own key,
//!   read with the record in the same bulk read; edits write the record only. So an edit
//!   racing a rotation cannot bring the old secret back, on both backends.
//! - **Edits merge.** [`update`] applies its change to the record as it is when the change
//!   runs (re-read, not the copy the request began with), so an edit and an added Try-it
//!   callback each change only their own fields. KV has no compare-and-set, so after writing,
//!   an edit reads the record again: if a racing edit wrote over it (its change no longer
//!   shows), it applies its change again to what is there now, up to [`REAPPLY`] times, and
//!   answers 503 (retry) rather than report a change that was lost.

use super::{AppClaim, State};
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::model::Client;
use crate::oauth::client_registry as registry;
use crate::store::{clients, keys, put_json, Store};

/// Most portal applications one developer may have (exact on the durable backend).
pub const MAX_APPS_PER_USER: usize = 25;

/// Registers a new client (a fresh random id, so nothing can have deleted it yet). A portal
/// application is counted in its owner's object first, once per form `submission`.
pub async fn create(
    store: &impl Store,
    state: &impl State,
    client: &Client,
    submission: Option<&str>,
    now: u64,
) -> Result<AppClaim, OAuthError> {
    if let (Some(owner), Some(form)) = (&client.owner_sub, submission) {
        let claim = state
            .claim_app(owner, &client.client_id, form, MAX_APPS_PER_USER, now)
            .await?;
        if claim != AppClaim::Claimed {
            return Ok(claim);
        }
    }
    if let Some(owner) = &client.owner_sub {
        // Index first: a client that exists is always listed for its owner.
        store
            .put(&keys::owner_client(owner, &client.client_id), "", None)
            .await?;
    }
    put_json(store, &keys::client(&client.client_id), client, None).await?;
    Ok(AppClaim::Claimed)
}

/// How often an edit is applied again after a racing edit wrote over it.
pub const REAPPLY: usize = 3;

/// Changes one client: `change` gets the current record and returns the new one (or its own
/// error, then nothing is written); it must set fields, so that applying it again to a record
/// that already shows it changes nothing. `None` when the client does not exist or was
/// deleted, also when the deletion raced this write.
pub async fn update<E>(
    store: &impl Store,
    client_id: &str,
    change: impl Fn(&Client) -> Result<Client, E>,
) -> Result<Option<Result<Client, E>>, OAuthError> {
    let Some(mut current) = clients::get(store, client_id).await? else {
        return Ok(None);
    };
    for _ in 0..=REAPPLY {
        let updated = match change(&current) {
            Ok(c) => c,
            Err(e) => return Ok(Some(Err(e))),
        };
        put_json(store, &keys::client(client_id), &updated, None).await?;
        if clients::is_deleted(store, client_id).await? {
            // A deletion answered between our read and our write: take back what we wrote
            // (best effort; readers ignore it anyway because of the tombstone).
            let _ = store.delete(&keys::client(client_id)).await;
            return Ok(None);
        }
        // Read again: a racing edit that read before our write and wrote after it has
        // written over our change. Still there (or included by a later edit): done.
        let Some(now) = clients::get(store, client_id).await? else {
            return Ok(None);
        };
        match change(&now) {
            Ok(again) if same_fields(&again, &now) => return Ok(Some(Ok(now))),
            Ok(_) => current = now,
            Err(e) => return Ok(Some(Err(e))),
        }
    }
    Err(OAuthError::unavailable(format!(
        "client {client_id}: edits kept writing over this one"
    )))
}

/// Equal but for when they were last changed.
fn same_fields(a: &Client, b: &Client) -> bool {
    a == &Client {
        updated_at: a.updated_at,
        ..b.clone()
    }
}

/// Gives a confidential client a new secret (only its hash is kept) and returns the secret
/// with the client: `Ok(None)` when the client is gone, also when a deletion raced this. The
/// hash goes to its own key, `client_secret:`, which nothing else writes: an edit racing the
/// rotation cannot restore the old secret, and the new one works as soon as this answers.
pub async fn rotate_secret(
    store: &impl Store,
    crypto: &impl Crypto,
    client_id: &str,
    now: u64,
) -> Result<Option<(Client, String)>, OAuthError> {
    let Some(mut client) = clients::get(store, client_id).await? else {
        return Ok(None);
    };
    let secret = registry::rotate_secret(crypto, &mut client, now)?;
    let hash = client.secret_hash.clone().unwrap_or_default();
    store
        .put(&keys::client_secret(client_id), &hash, None)
        .await?;
    if clients::is_deleted(store, client_id).await? {
        let _ = store.delete(&keys::client_secret(client_id)).await;
        return Ok(None);
    }
    Ok(Some((client, secret)))
}

/// Deletes a client for good, and with it every grant it holds: every use of a grant (code
/// exchange, refresh, introspection, listings) needs the client, so none works once the
/// tombstone is written, whatever their number; their rows expire with their TTL.
pub async fn delete(
    store: &impl Store,
    state: &impl State,
    client: &Client,
) -> Result<(), OAuthError> {
    let id = &client.client_id;
    store.put(&keys::client_deleted(id), "", None).await?;
    // Tidying only: the tombstone already decides. A racing edit may have written the record
    // within this second (KV then refuses the delete); the tombstone still hides it.
    let _ = store.delete(&keys::client(id)).await;
    let _ = store.delete(&keys::client_secret(id)).await;
    if let Some(owner) = &client.owner_sub {
        let _ = store.delete(&keys::owner_client(owner, id)).await;
        state.release_app(owner, id).await?;
    }
    Ok(())
}

/// Deletes the portal applications `sub` registered (the account is being deleted): at most
/// [`clients::MAX_OWNER_LISTING`], so bounded per request.
pub async fn delete_owned(
    store: &impl Store,
    state: &impl State,
    sub: &str,
) -> Result<usize, OAuthError> {
    let owned = clients::list_for_owner(store, sub).await?;
    for client in &owned {
        delete(store, state, client).await?;
    }
    Ok(owned.len())
}
