//! Client records in isolate memory for a few seconds (used by the Worker's KV store,
//! `worker/kv.rs`). Every authorize, token, refresh and introspection request reads its
//! client; most of them find it here instead of in KV. Fetched client metadata documents
//! (`client_doc:`) too: a request naming one reads it twice (the Worker's prefetch, then the
//! endpoint), and their KV entries change only when they expire or are fetched again.
//!
//! Bounded staleness (docs/consistency.md): a write or delete of a client through this isolate
//! drops the entry at once, so this isolate reads its own writes; another isolate may use the
//! previous record (a deleted client, a rotated secret) for up to [`TTL_MS`] more. KV itself
//! shows a change in other locations only within about 60 s. Absent clients are not cached,
//! so a new client is usable at once.

use crate::store::keys::{
    CLIENT_DELETED_PREFIX, CLIENT_DOCUMENT_PREFIX, CLIENT_PREFIX, CLIENT_SECRET_PREFIX,
};
use std::cell::{Cell, RefCell};

/// How long an entry is served without asking KV.
pub const TTL_MS: f64 = 5_000.0;

/// Entries at most; the oldest goes when full (client ids come from requests, so an attacker
/// presenting many must not grow it without bound). Searched linearly: a few µs at most.
const MAX_ENTRIES: usize = 64;

thread_local! {
    /// (key, record, read at): a few entries, searched in order.
    static ENTRIES: RefCell<Vec<(String, String, f64)>> = const { RefCell::new(Vec::new()) };
    /// Bumped by every `forget`: a read that a write overlapped must not be cached.
    static WRITES: Cell<u64> = const { Cell::new(0) };
}

/// Taken before a KV read and given back to [`put`].
pub fn epoch() -> u64 {
    WRITES.with(Cell::get)
}

/// Whether records under `key` are cached at all. An entry may also be a bulk read of a
/// client and its tombstone, keyed by their keys joined with `\n`.
pub fn caches(key: &str) -> bool {
    key.starts_with(CLIENT_PREFIX)
        || key.starts_with(CLIENT_DELETED_PREFIX)
        || key.starts_with(CLIENT_SECRET_PREFIX)
        || key.starts_with(CLIENT_DOCUMENT_PREFIX)
}

/// Whether the entry `entry` (one key, or several joined with `\n`) includes `key`.
fn covers(entry: &str, key: &str) -> bool {
    entry.split('\n').any(|k| k == key)
}

/// The record under `key` if it was read within [`TTL_MS`] of `now_ms`.
pub fn get(key: &str, now_ms: f64) -> Option<String> {
    ENTRIES.with(|e| {
        let mut entries = e.borrow_mut();
        let i = entries.iter().position(|(k, _, _)| k == key)?;
        let (_, value, at) = &entries[i];
        if now_ms - *at < TTL_MS && now_ms >= *at {
            return Some(value.clone());
        }
        entries.remove(i);
        None
    })
}

/// Remembers a record read from KV at `now_ms`, unless a write of this isolate overlapped the
/// read (begun at `epoch`): the value may predate it.
pub fn put(key: &str, value: &str, now_ms: f64, epoch: u64) {
    if WRITES.with(Cell::get) != epoch {
        return;
    }
    ENTRIES.with(|e| {
        let mut entries = e.borrow_mut();
        entries.retain(|(k, _, _)| k != key);
        if entries.len() >= MAX_ENTRIES {
            entries.remove(0);
        }
        entries.push((key.to_string(), value.to_string(), now_ms));
    });
}

/// Forgets `key`: this isolate is writing or deleting it (called before and after the write,
/// so that no read overlapping it is cached).
pub fn forget(key: &str) {
    if caches(key) {
        WRITES.with(|w| w.set(w.get() + 1));
        ENTRIES.with(|e| e.borrow_mut().retain(|(k, _, _)| !covers(k, key)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "client:abc";

    #[test]
    fn serves_a_client_record_until_it_is_stale() {
        assert!(caches(KEY) && !caches("session:abc"));
        let document = crate::store::keys::client_document("https://app.example/c.json");
        assert!(caches(&document) && !caches("code:abc") && !caches("grant:abc"));
        put(KEY, "v1", 1_000.0, epoch());
        assert_eq!(get(KEY, 1_000.0).as_deref(), Some("v1"));
        assert_eq!(get(KEY, 1_000.0 + TTL_MS - 1.0).as_deref(), Some("v1"));
        assert_eq!(get(KEY, 1_000.0 + TTL_MS), None);
        // A clock that went backwards does not extend an entry either.
        put(KEY, "v1", 1_000.0, epoch());
        assert_eq!(get(KEY, 999.0), None);
    }

    #[test]
    fn a_write_in_this_isolate_drops_the_entry_and_any_overlapping_read() {
        put(KEY, "v1", 0.0, epoch());
        forget(KEY);
        assert_eq!(get(KEY, 1.0), None);
        // A read that began before a write finished may have seen the old record.
        let before = epoch();
        forget(KEY);
        put(KEY, "old", 2.0, before);
        assert_eq!(get(KEY, 3.0), None);
        // Keys that are never cached do not disturb reads in flight.
        let e = epoch();
        forget("session:abc");
        put(KEY, "v2", 4.0, e);
        assert_eq!(get(KEY, 5.0).as_deref(), Some("v2"));
    }

    #[test]
    fn a_bulk_entry_goes_when_any_of_its_keys_is_written() {
        // A client read with its tombstone and rotated secret is one entry.
        let joined = "client:b\nclient_deleted:b\nclient_secret:b";
        for written in ["client:b", "client_deleted:b", "client_secret:b"] {
            put(joined, "[]", 0.0, epoch());
            assert!(get(joined, 1.0).is_some());
            forget(written);
            assert_eq!(get(joined, 1.0), None, "{written}");
        }
    }

    #[test]
    fn stays_bounded() {
        for i in 0..(MAX_ENTRIES * 3) {
            put(&format!("client:{i}"), "v", 0.0, epoch());
        }
        assert!(ENTRIES.with(|e| e.borrow().len()) <= MAX_ENTRIES);
    }
}
