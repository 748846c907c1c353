//! A KV store whose writes under one key prefix fail while `failing` is set: an outage in the
//! middle of an operation, after its earlier steps succeeded. In-process tests drive the core
//! against it with [`FlakyWrites::handle`], a second passing between requests.

use super::inprocess::Harness;
use edge_oauth::app::{handle, Ctx};
use edge_oauth::http::{Request, Response};
use edge_oauth::store::{ListPage, MemoryStore, Store, StoreError};
use futures_executor::block_on;
use std::cell::Cell;

pub struct FlakyWrites {
    pub inner: MemoryStore,
    pub failing: Cell<bool>,
    prefix: &'static str,
}

impl FlakyWrites {
    /// A fresh store at the harness's time whose writes of keys starting with `prefix` fail
    /// while `failing` is set.
    pub fn new(h: &Harness, prefix: &'static str) -> Self {
        FlakyWrites {
            inner: MemoryStore::new(h.store.now()),
            failing: Cell::new(false),
            prefix,
        }
    }

    /// Handles `req` with the harness's configuration, objects and crypto over this store,
    /// then moves its clock one second (KV's limit of one write per key per second).
    pub fn handle(&self, h: &Harness, req: &Request) -> Response {
        let ctx = Ctx {
            config: &h.config,
            store: self,
            objects: &h.objects,
            crypto: &h.crypto,
            now: self.inner.now(),
            now_ms: self.inner.now() * 1000,
        };
        let response = block_on(handle(&ctx, req, &|_| {}));
        self.inner.advance(1);
        response
    }
}

impl Store for FlakyWrites {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        if self.failing.get() && key.starts_with(self.prefix) {
            return Err(StoreError("KV PUT failed: 503 Service Unavailable".into()));
        }
        self.inner.put(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        self.inner.list(prefix, cursor, limit).await
    }
}
