//! `Store` on Workers KV.

use super::meter::{bump, Meter};
use crate::store::{cache, ListPage, Store, StoreError};

pub struct KvStore<'a> {
    kv: worker::kv::KvStore,
    meter: &'a Meter,
}

impl<'a> KvStore<'a> {
    pub fn new(kv: worker::kv::KvStore, meter: &'a Meter) -> KvStore<'a> {
        KvStore { kv, meter }
    }
}

fn kv_error(op: &str, key: &str, e: impl std::fmt::Display) -> StoreError {
    // Keys hold hashes and ids, never raw secrets, so naming them in logs is safe.
    StoreError(format!("KV {op} {key}: {e}"))
}

impl Store for KvStore<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let cached = cache::caches(key);
        let (now, epoch) = (worker::Date::now().as_millis() as f64, cache::epoch());
        if cached {
            if let Some(value) = cache::get(key, now) {
                return Ok(Some(value));
            }
        }
        bump(&self.meter.kv_reads);
        let value = self
            .kv
            .get(key)
            .text()
            .await
            .map_err(|e| kv_error("get", key, e))?;
        if let (true, Some(value)) = (cached, &value) {
            cache::put(key, value, now, epoch);
        }
        Ok(value)
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        cache::forget(key);
        bump(&self.meter.kv_writes);
        let mut put = self
            .kv
            .put(key, value)
            .map_err(|e| kv_error("put", key, e))?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        let done = put.execute().await.map_err(|e| kv_error("put", key, e));
        cache::forget(key);
        done
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        cache::forget(key);
        bump(&self.meter.kv_writes);
        let done = self
            .kv
            .delete(key)
            .await
            .map_err(|e| kv_error("delete", key, e));
        cache::forget(key);
        done
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        bump(&self.meter.kv_lists);
        let mut list = self
            .kv
            .list()
            .prefix(prefix.to_string())
            .limit(limit.clamp(1, 1000) as u64);
        if let Some(cursor) = cursor {
            list = list.cursor(cursor.to_string());
        }
        let page = list
            .execute()
            .await
            .map_err(|e| kv_error("list", prefix, e))?;
        Ok(ListPage {
            keys: page.keys.into_iter().map(|k| k.name).collect(),
            cursor: if page.list_complete {
                None
            } else {
                page.cursor
            },
        })
    }
}
