//! Persistence: a small key-value trait shaped like Workers KV.
//!
//! Values are JSON strings. Every key the provider writes is listed in `keys.rs` and in
//! `docs/storage.md` (prefix, value, TTL). `MemoryStore` behaves like KV (TTL expiry, TTLs
//! under 60 s refused) so native tests catch what production would reject.

pub mod cache;
pub mod clients;
pub mod faults;
pub mod keys;
pub mod memory;
pub mod pending;
pub mod users;

pub use memory::MemoryStore;

use crate::error::OAuthError;
use crate::json_codec::{decode, FromJson};
use serde::Serialize;

/// Workers KV refuses `expirationTtl` below 60 seconds.
pub const MIN_TTL_SECONDS: u64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl StoreError {
    /// A listing refused as a bad request. The only input of ours a caller controls there is
    /// the cursor (KV refuses cursors it did not hand out), so it is the caller's error.
    pub fn refuses_cursor(&self) -> bool {
        self.0.starts_with("KV list ") && self.0.contains(" 400 ")
    }
}

/// What a caller is told when storage refuses their cursor.
pub const CURSOR_REFUSED: &str =
    "cursor must be the next_cursor of a previous page (start again without it)";

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> OAuthError {
        if e.refuses_cursor() {
            return OAuthError::invalid_request(CURSOR_REFUSED)
                .with_debug(format!("store: {}", e.0));
        }
        // Any other failed KV call (429 for a second write to one key within a second, 5xx,
        // a network error): the call did not happen or its outcome is unknown, and every
        // caller is written so that the same request, retried, completes (docs/consistency.md).
        OAuthError::unavailable(format!("store: {}", e.0))
    }
}

/// A TTL for a record that must live until `expires_at`, never under KV's minimum.
pub fn ttl_until(expires_at: u64, now: u64) -> u64 {
    expires_at.saturating_sub(now).max(MIN_TTL_SECONDS)
}

/// One page of a prefix listing.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub keys: Vec<String>,
    /// Set when more keys follow; pass it back to get the next page.
    pub cursor: Option<String>,
}

/// The storage the core needs. Futures are not `Send`: the Worker runtime is single-threaded.
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// `ttl_seconds` must be `None` or at least [`MIN_TTL_SECONDS`].
    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>)
        -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Several keys in ONE storage operation (Workers KV `get([keys], "text")`, at most 100
    /// keys), in the order asked. Used where a record and its marker must be read together
    /// without a second round trip (a client and its deletion tombstone). The default reads
    /// them one by one (test stores that do not care).
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }
    /// Up to `limit` (at most 1000) keys under `prefix` in key order, after `cursor`.
    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError>;
}

/// Reads a JSON record. A record that no longer parses is reported, not silently dropped.
pub async fn get_json<T: FromJson>(store: &impl Store, key: &str) -> Result<Option<T>, OAuthError> {
    match store.get(key).await? {
        None => Ok(None),
        Some(text) => decode(&text)
            .map(Some)
            .map_err(|e| OAuthError::server(format!("corrupt record at {key}: {e}"))),
    }
}

pub async fn put_json<T: Serialize>(
    store: &impl Store,
    key: &str,
    value: &T,
    ttl_seconds: Option<u64>,
) -> Result<(), OAuthError> {
    let text = serde_json::to_string(value)
        .map_err(|e| OAuthError::server(format!("serialize {key}: {e}")))?;
    store.put(key, &text, ttl_seconds).await?;
    Ok(())
}

/// Every key under `prefix`, following cursors.
pub async fn list_all(store: &impl Store, prefix: &str) -> Result<Vec<String>, OAuthError> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list(prefix, cursor.as_deref(), 1000).await?;
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(keys),
        }
    }
}
