//! An in-memory `Store` that behaves like Workers KV, for native tests, faithful where bugs
//! hide:
//! - TTLs under 60 s and keys over 512 bytes are refused exactly as KV refuses them;
//! - a second write (put or delete) to one key within the same second is refused, like KV's
//!   limit of one write per second per key (`allow_rapid_writes` turns it off);
//! - more than 1000 operations in one request fail, like the Workers limit (`begin_request`
//!   starts a request's count);
//! - reads can be stale for a set delay, like another location (`serve_stale_for`);
//! - entries expire by a clock the test owns (`advance`), and listings come in pages;
//! - calls can fail at a set rate before they run (`inject_faults`), as KV calls sometimes do.

use super::{keys::MAX_KEY_BYTES, ListPage, Store, StoreError, MIN_TTL_SECONDS};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

const PAGE_SIZE: usize = 1000;
/// Marks the cursors this store hands out (KV refuses cursors it did not issue).
const CURSOR_TAG: &str = "mc1:";
/// Storage operations one Worker request may make.
pub const MAX_OPS_PER_REQUEST: usize = 1000;

#[derive(Clone)]
struct Entry {
    value: Option<String>,
    expires: Option<u64>,
    /// What a stale reader still sees, and when this write happened.
    previous: Option<String>,
    written_at: u64,
}

#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, Entry>>,
    now: Cell<u64>,
    page_size: Cell<Option<usize>>,
    rapid_writes: Cell<bool>,
    ops: Cell<usize>,
    stale_for: Cell<u64>,
    /// Operations by kind since the store was made: (reads, writes, lists).
    counts: Cell<(usize, usize, usize)>,
    faults: super::faults::Faults,
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

    /// Accepts any number of writes to one key per second (for tests about something else).
    pub fn allow_rapid_writes(&self) {
        self.rapid_writes.set(true);
    }

    /// Starts counting a new request's operations.
    pub fn begin_request(&self) {
        self.ops.set(0);
    }

    /// Reads see the value from before any write younger than `seconds`.
    pub fn serve_stale_for(&self, seconds: u64) {
        self.stale_for.set(seconds);
    }

    /// From now on each call fails with probability `rate` before it runs (a KV 503, or for a
    /// third of the failed writes a 429), in a sequence fixed by `seed`.
    pub fn inject_faults(&self, rate: f64, seed: u64) {
        self.faults.set(rate, seed);
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> usize {
        self.faults.injected()
    }

    /// (reads, writes, lists) so far.
    pub fn op_counts(&self) -> (usize, usize, usize) {
        self.counts.get()
    }

    fn live(&self, e: &Entry) -> bool {
        e.value.is_some() && e.expires.is_none_or(|x| x > self.now.get())
    }

    /// Number of live (unexpired) keys.
    pub fn len(&self) -> usize {
        self.entries
            .borrow()
            .values()
            .filter(|e| self.live(e))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All live keys, for tests that check what is stored at rest.
    pub fn dump(&self) -> Vec<(String, String)> {
        self.entries
            .borrow()
            .iter()
            .filter(|(_, e)| self.live(e))
            .map(|(k, e)| (k.clone(), e.value.clone().unwrap_or_default()))
            .collect()
    }

    fn count(&self, kind: usize, key: &str) -> Result<(), StoreError> {
        let n = self.ops.get() + 1;
        self.ops.set(n);
        let (mut r, mut w, mut l) = self.counts.get();
        match kind {
            0 => r += 1,
            1 => w += 1,
            _ => l += 1,
        }
        self.counts.set((r, w, l));
        if n > MAX_OPS_PER_REQUEST {
            return Err(StoreError(format!(
                "Too many API requests by single Worker invocation ({n} > {MAX_OPS_PER_REQUEST})"
            )));
        }
        let op = ["GET", "WRITE", "LIST"][kind.min(2)];
        check_key(op, key)?;
        if self.faults.hit() {
            let why = if kind == 1 && self.faults.injected().is_multiple_of(3) {
                "429 Too Many Requests"
            } else {
                "503 Service Unavailable"
            };
            return Err(StoreError(format!(
                "KV {op} failed: {why} (injected fault)"
            )));
        }
        Ok(())
    }

    fn write(
        &self,
        key: &str,
        value: Option<String>,
        expires: Option<u64>,
    ) -> Result<(), StoreError> {
        self.count(1, key)?;
        let now = self.now.get();
        let mut entries = self.entries.borrow_mut();
        let previous = entries.get(key).filter(|e| self.live(e));
        if !self.rapid_writes.get() && previous.is_some_and(|e| e.written_at == now) {
            return Err(StoreError(format!(
                "KV PUT failed: 429 Too Many Requests (a second write to {key} within one second)"
            )));
        }
        let previous = previous.and_then(|e| e.value.clone());
        entries.insert(
            key.to_string(),
            Entry {
                value,
                expires,
                previous,
                written_at: now,
            },
        );
        Ok(())
    }
}

impl MemoryStore {
    /// One key's value as a reader sees it (stale for `serve_stale_for`), uncounted.
    fn read(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_key("GET", key)?;
        let entries = self.entries.borrow();
        let Some(e) = entries.get(key) else {
            return Ok(None);
        };
        if self.stale_for.get() > 0 && self.now.get() < e.written_at + self.stale_for.get() {
            return Ok(e.previous.clone());
        }
        Ok(self.live(e).then(|| e.value.clone()).flatten())
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
        self.count(0, key)?;
        self.read(key)
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, StoreError> {
        // One operation, like KV's bulk get; each key is read as `get` reads it.
        self.count(0, keys.first().copied().unwrap_or(""))?;
        keys.iter().map(|k| self.read(k)).collect()
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        if let Some(ttl) = ttl {
            if ttl < MIN_TTL_SECONDS {
                return Err(StoreError(format!(
                    "KV PUT failed: 400 Invalid expiration_ttl of {ttl}. Expiration TTL must be at least {MIN_TTL_SECONDS}."
                )));
            }
        }
        let expires = ttl.map(|t| self.now.get() + t);
        self.write(key, Some(value.to_string()), expires)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        if !self.entries.borrow().get(key).is_some_and(|e| self.live(e)) {
            // Deleting nothing is still an operation, but not a write to a live key.
            return self.count(1, key);
        }
        self.write(key, None, None)
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        self.count(2, prefix)?;
        // Like KV, a cursor is opaque: only one this store handed out is accepted.
        let after = match cursor {
            None => None,
            Some(c) => Some(
                c.strip_prefix(CURSOR_TAG)
                    .ok_or_else(|| StoreError(format!("KV list {prefix}: 400 invalid cursor")))?,
            ),
        };
        let page_size = self
            .page_size
            .get()
            .unwrap_or(PAGE_SIZE)
            .min(limit.clamp(1, PAGE_SIZE));
        let entries = self.entries.borrow();
        let mut keys: Vec<String> = entries
            .iter()
            .filter(|(k, e)| k.starts_with(prefix) && self.live(e))
            .filter(|(k, _)| after.is_none_or(|c| k.as_str() > c))
            .map(|(k, _)| k.clone())
            .take(page_size + 1)
            .collect();
        let cursor = if keys.len() > page_size {
            keys.truncate(page_size);
            keys.last().map(|k| format!("{CURSOR_TAG}{k}"))
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
        assert!(block_on(store.list(&long, None, 10)).is_err());
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
        store.advance(1);
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
        let first = block_on(store.list("a:", None, 1000)).unwrap();
        assert_eq!(first.keys.len(), 2);
        assert!(first.cursor.is_some());
        store.advance(60);
        let all = block_on(list_all(&store, "a:")).unwrap();
        assert_eq!(all, vec!["a:0", "a:1", "a:2", "a:3", "a:4"]);
    }

    #[test]
    fn a_second_write_to_one_key_within_a_second_is_refused_like_kv() {
        let store = MemoryStore::new(0);
        block_on(store.put("k", "1", None)).unwrap();
        assert!(block_on(store.put("k", "2", None))
            .unwrap_err()
            .0
            .contains("429"));
        assert!(block_on(store.delete("k")).is_err());
        store.advance(1);
        block_on(store.put("k", "2", None)).unwrap();
        block_on(store.put("other", "1", None)).unwrap();
    }

    #[test]
    fn a_request_past_a_thousand_operations_fails() {
        let store = MemoryStore::new(0);
        store.begin_request();
        for _ in 0..MAX_OPS_PER_REQUEST {
            block_on(store.get("k")).unwrap();
        }
        assert!(block_on(store.get("k")).is_err());
        store.begin_request();
        assert!(block_on(store.get("k")).is_ok());
    }

    #[test]
    fn stale_reads_show_the_previous_value_for_the_delay() {
        let store = MemoryStore::new(0);
        block_on(store.put("k", "old", None)).unwrap();
        store.advance(100);
        store.serve_stale_for(60);
        block_on(store.put("k", "new", None)).unwrap();
        assert_eq!(block_on(store.get("k")).unwrap().as_deref(), Some("old"));
        store.advance(60);
        assert_eq!(block_on(store.get("k")).unwrap().as_deref(), Some("new"));
    }
}
