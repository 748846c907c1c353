//! `Store` on Workers KV, through the binding's own methods (`get`, `put`, `delete`, `list`).

use super::js;
use super::meter::{bump, Meter};
use crate::store::{cache, ListPage, Store, StoreError};
use wasm_bindgen::JsValue;

pub struct KvStore<'a> {
    kv: JsValue,
    meter: &'a Meter,
}

impl<'a> KvStore<'a> {
    /// The namespace bound as `binding` in `env`.
    pub fn new(env: &worker::Env, binding: &str, meter: &'a Meter) -> Result<KvStore<'a>, String> {
        let kv = js::get(env.as_ref(), binding)?;
        if !kv.is_object() {
            return Err(format!("the {binding} KV binding is missing"));
        }
        Ok(KvStore { kv, meter })
    }
}

fn kv_error(op: &str, key: &str, e: String) -> StoreError {
    // Keys hold hashes and ids, never raw secrets, so naming them in logs is safe.
    StoreError(format!("KV {op} {key}: {e}"))
}

impl Store for KvStore<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        // Only client records are cached: the clock is read for those alone.
        let cached =
            cache::caches(key).then(|| (worker::Date::now().as_millis() as f64, cache::epoch()));
        if let Some((now, _)) = cached {
            if let Some(value) = cache::get(key, now) {
                return Ok(Some(value));
            }
        }
        bump(&self.meter.kv_reads);
        let value = js::call(&self.kv, "get", &[&key.into(), &"text".into()])
            .await
            .map_err(|e| kv_error("get", key, e))?
            .as_string();
        if let (Some((now, epoch)), Some(value)) = (cached, &value) {
            cache::put(key, value, now, epoch);
        }
        Ok(value)
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, StoreError> {
        // A client and its tombstone are cached together, as one answer (`store::cache`).
        let joined = keys.join("\n");
        let cached = keys
            .first()
            .is_some_and(|k| cache::caches(k))
            .then(|| (worker::Date::now().as_millis() as f64, cache::epoch()));
        if let Some((now, _)) = cached {
            if let Some(v) = cache::get(&joined, now) {
                if let Ok(values) = crate::json_codec::decode::<Vec<Option<String>>>(&v) {
                    return Ok(values);
                }
            }
        }
        // One KV operation: `get([keys], "text")` answers a Map of key to value (or null).
        bump(&self.meter.kv_reads);
        let list = js_sys::Array::new();
        for key in keys {
            list.push(&JsValue::from_str(key));
        }
        let fail = |e: String| kv_error("get", &joined, e);
        let map: js_sys::Map = js::call(&self.kv, "get", &[&list.into(), &"text".into()])
            .await
            .map_err(fail)?
            .into();
        let values: Vec<Option<String>> = keys
            .iter()
            .map(|k| map.get(&JsValue::from_str(k)).as_string())
            .collect();
        // Only an existing record is cached (an absent client is not: a new one is usable at once).
        if let (Some((now, epoch)), Some(Some(_))) = (cached, values.first()) {
            if let Ok(text) = serde_json::to_string(&values) {
                cache::put(&joined, &text, now, epoch);
            }
        }
        Ok(values)
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), StoreError> {
        cache::forget(key);
        bump(&self.meter.kv_writes);
        let options = match ttl {
            Some(ttl) => js::object(&[("expirationTtl", JsValue::from_f64(ttl as f64))]),
            None => js::object(&[]),
        };
        let done = js::call(&self.kv, "put", &[&key.into(), &value.into(), &options])
            .await
            .map(drop)
            .map_err(|e| kv_error("put", key, e));
        cache::forget(key);
        done
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        cache::forget(key);
        bump(&self.meter.kv_writes);
        let done = js::call(&self.kv, "delete", &[&key.into()])
            .await
            .map(drop)
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
        let mut options = vec![
            ("prefix", JsValue::from_str(prefix)),
            ("limit", JsValue::from_f64(limit.clamp(1, 1000) as f64)),
        ];
        if let Some(cursor) = cursor {
            options.push(("cursor", JsValue::from_str(cursor)));
        }
        let fail = |e: String| kv_error("list", prefix, e);
        let page = js::call(&self.kv, "list", &[&js::object(&options)])
            .await
            .map_err(fail)?;
        // `{keys: [{name, expiration?, metadata?}], list_complete, cursor?}`
        let keys = js_sys::Array::from(&js::get(&page, "keys").map_err(fail)?);
        let mut names = Vec::with_capacity(keys.length() as usize);
        for entry in keys.iter() {
            let name = js::get(&entry, "name").map_err(fail)?;
            names.push(
                name.as_string()
                    .ok_or_else(|| fail("a key without a name".into()))?,
            );
        }
        let complete = js::get(&page, "list_complete").map_err(fail)?.as_bool() != Some(false);
        Ok(ListPage {
            keys: names,
            cursor: if complete {
                None
            } else {
                js::get(&page, "cursor").map_err(fail)?.as_string()
            },
        })
    }
}
