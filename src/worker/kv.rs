//! `Store` on Workers KV.

use crate::store::{ListPage, Store, StoreError};

pub struct KvStore {
    kv: worker::kv::KvStore,
}

impl KvStore {
    pub fn new(kv: worker::kv::KvStore) -> KvStore {
        KvStore { kv }
    }
}

fn kv_error(op: &str, key: &str, e: impl std::fmt::Display) -> StoreError {
    // Keys hold hashes and ids, never raw secrets, so naming them in logs is safe.
    StoreError(format!("KV {op} {key}: {e}"))
}

impl Store for KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.kv
            .get(key)
            .text()
            .await
            .map_err(|e| kv_error("get", key, e))
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        let mut put = self
            .kv
            .put(key, value)
            .map_err(|e| kv_error("put", key, e))?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(|e| kv_error("put", key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv
            .delete(key)
            .await
            .map_err(|e| kv_error("delete", key, e))
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
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
