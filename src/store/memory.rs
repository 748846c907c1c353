//! An in-memory `Store` that behaves like Workers KV, for native tests.
//!
//! TTLs under 60 s and keys over 512 bytes are refused exactly as KV refuses them, entries
//! expire by a clock the test owns (`advance`), and listings come in pages with a cursor.

use super::{keys::MAX_KEY_BYTES, ListPage, Store, StoreError, MIN_TTL_SECONDS};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

const PAGE_SIZE: usize = 1000;

#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, (String, Option<u64>)>>,
    now: Cell<u64>,
    page_size: Cell<Option<usize>>,
}

impl MemoryStore {
    /// A store whose clock starts at `now` (unix seconds).
    pub fn new(now: u64) -> MemoryStore {
        let store = MemoryStore::default();
        store.now.set(now);
        store
    }

    pub fn now(&self) -> u64 {
        self.now.get()
    }

    /// Moves the store's clock forward, expiring what is due.
    pub fn advance(&self, seconds: u64) {
        self.now.set(self.now.get() + seconds);
    }

    /// Smaller pages, so tests can exercise cursor handling.
    pub fn set_page_size(&self, size: usize) {
        self.page_size.set(Some(size.max(1)));
    }

    /// Number of live (unexpired) keys.
    pub fn len(&self) -> usize {
        let now = self.now.get();
        self.entries
            .borrow()
            .values()
            .filter(|(_, exp)| exp.is_none_or(|e| e > now))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All live keys, for tests that check what is stored at rest.
    pub fn dump(&self) -> Vec<(String, String)> {
        let now = self.now.get();
        self.entries
            .borrow()
            .iter()
            .filter(|(_, (_, exp))| exp.is_none_or(|e| e > now))
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }
}

/// KV answers 414 for a key (or list prefix) longer than 512 UTF-8 bytes.
fn check_key(op: &str, key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError(format!(
            "KV {op} failed: 414 UTF-8 encoded length of {} exceeds key length limit of {MAX_KEY_BYTES}.",
            key.len()
        )));
    }
    Ok(())
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_key("GET", key)?;
        let now = self.now.get();
        let entries = self.entries.borrow();
        Ok(match entries.get(key) {
            Some((value, exp)) if exp.is_none_or(|e| e > now) => Some(value.clone()),
            _ => None,
        })
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        check_key("PUT", key)?;
        if let Some(ttl) = ttl {
            if ttl < MIN_TTL_SECONDS {
                return Err(StoreError(format!(
                    "KV PUT failed: 400 Invalid expiration_ttl of {ttl}. Expiration TTL must be at least {MIN_TTL_SECONDS}."
                )));
            }
        }
        let expires = ttl.map(|t| self.now.get() + t);
        self.entries
            .borrow_mut()
            .insert(key.to_string(), (value.to_string(), expires));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key("DELETE", key)?;
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        check_key("LIST", prefix)?;
        let now = self.now.get();
        let page_size = self.page_size.get().unwrap_or(PAGE_SIZE);
        let entries = self.entries.borrow();
        let mut keys: Vec<String> = entries
            .iter()
            .filter(|(k, (_, exp))| k.starts_with(prefix) && exp.is_none_or(|e| e > now))
            .filter(|(k, _)| cursor.is_none_or(|c| k.as_str() > c))
            .map(|(k, _)| k.clone())
            .take(page_size + 1)
            .collect();
        let cursor = if keys.len() > page_size {
            keys.truncate(page_size);
            keys.last().cloned()
        } else {
            None
        };
        Ok(ListPage { keys, cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::list_all;
    use futures_executor::block_on;

    #[test]
    fn ttl_under_sixty_seconds_is_refused_like_kv() {
        let store = MemoryStore::new(1_000);
        let err = block_on(store.put("k", "v", Some(59))).unwrap_err();
        assert!(err.0.contains("at least 60"));
        assert!(block_on(store.put("k", "v", Some(60))).is_ok());
    }

    #[test]
    fn keys_over_512_bytes_are_refused_like_kv() {
        let store = MemoryStore::new(0);
        let ok = "k".repeat(MAX_KEY_BYTES);
        let long = "\u{e9}".repeat(MAX_KEY_BYTES / 2 + 1); // 257 characters, 514 bytes
        assert!(block_on(store.put(&ok, "v", None)).is_ok());
        let err = block_on(store.put(&long, "v", None)).unwrap_err();
        assert!(err.0.contains("414"), "{}", err.0);
        assert!(block_on(store.get(&long)).is_err());
        assert!(block_on(store.delete(&long)).is_err());
        assert!(block_on(store.list(&long, None)).is_err());
    }

    #[test]
    fn entry_expires_when_clock_passes_ttl() {
        let store = MemoryStore::new(1_000);
        block_on(store.put("k", "v", Some(60))).unwrap();
        store.advance(59);
        assert_eq!(block_on(store.get("k")).unwrap().as_deref(), Some("v"));
        store.advance(1);
        assert_eq!(block_on(store.get("k")).unwrap(), None);
    }

    #[test]
    fn entry_without_ttl_never_expires() {
        let store = MemoryStore::new(0);
        block_on(store.put("k", "v", None)).unwrap();
        store.advance(10 * 365 * 86_400);
        assert!(block_on(store.get("k")).unwrap().is_some());
    }

    #[test]
    fn delete_removes_entry() {
        let store = MemoryStore::new(0);
        block_on(store.put("k", "v", None)).unwrap();
        block_on(store.delete("k")).unwrap();
        assert_eq!(block_on(store.get("k")).unwrap(), None);
    }

    #[test]
    fn list_pages_through_prefix_and_skips_expired() {
        let store = MemoryStore::new(0);
        store.set_page_size(2);
        for i in 0..5 {
            block_on(store.put(&format!("a:{i}"), "v", None)).unwrap();
        }
        block_on(store.put("a:short", "v", Some(60))).unwrap();
        block_on(store.put("b:0", "v", None)).unwrap();
        let first = block_on(store.list("a:", None)).unwrap();
        assert_eq!(first.keys.len(), 2);
        assert!(first.cursor.is_some());
        store.advance(60);
        let all = block_on(list_all(&store, "a:")).unwrap();
        assert_eq!(all, vec!["a:0", "a:1", "a:2", "a:3", "a:4"]);
    }
}
