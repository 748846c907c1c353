//! The Worker side: WebCrypto (`crypto.subtle`, native code in workerd) for signatures, the
//! JWKS over `fetch` or a service binding, the revocation list in the provider's KV, and
//! conversion of refusals to `worker::Response`.

use crate::jwks::{Alg, Jwk, MAX_JWKS_BYTES};
use crate::verifier::{JwksResponse, SignatureVerifier, Sources, Verifier};
use crate::{AccessClaims, AuthError};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key_data: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = verify, catch)]
    fn subtle_verify(
        algorithm: &JsValue,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;
}

/// An imported key and the parameters `verify` needs, built once per key.
struct Imported {
    params: serde_json::Map<String, serde_json::Value>,
    key: JsValue,
    verify_params: JsValue,
}

thread_local! {
    // Imported keys, per isolate, by kid; a different key under a known kid (rotation that
    // reused a kid) is imported anew. Importing costs more than verifying.
    static KEYS: RefCell<HashMap<String, Rc<Imported>>> = RefCell::new(HashMap::new());
}

fn object(pairs: &[(&str, &str)]) -> JsValue {
    let obj = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    obj.into()
}

/// (importKey parameters, verify parameters) per algorithm.
fn params(alg: Alg) -> (JsValue, JsValue) {
    match alg {
        Alg::ES256 => (
            object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        ),
        Alg::RS256 => (
            object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            object(&[("name", "RSASSA-PKCS1-v1_5")]),
        ),
        Alg::EdDSA => (
            object(&[("name", "Ed25519")]),
            object(&[("name", "Ed25519")]),
        ),
    }
}

async fn call(promise: Result<Promise, JsValue>) -> Result<JsValue, String> {
    let promise = promise.map_err(|e| format!("{e:?}"))?;
    JsFuture::from(promise).await.map_err(|e| format!("{e:?}"))
}

/// [`SignatureVerifier`] on the runtime's WebCrypto.
pub struct WebCrypto;

async fn import(key: &Jwk) -> Result<Rc<Imported>, String> {
    let cached = KEYS.with(|k| k.borrow().get(&key.kid).cloned());
    if let Some(imported) = cached.filter(|i| i.params == key.params) {
        return Ok(imported);
    }
    let (import_params, verify_params) = params(key.alg);
    let material = serde_json::Value::Object(key.params.clone()).to_string();
    let jwk = js_sys::JSON::parse(&material).map_err(|e| format!("{e:?}"))?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let crypto_key = call(import_key("jwk", &jwk, &import_params, false, &usages))
        .await
        .map_err(|e| format!("importKey {}: {e}", key.kid))?;
    let imported = Rc::new(Imported {
        params: key.params.clone(),
        key: crypto_key,
        verify_params,
    });
    KEYS.with(|k| k.borrow_mut().insert(key.kid.clone(), imported.clone()));
    Ok(imported)
}

impl SignatureVerifier for WebCrypto {
    async fn verify(&self, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        let imported = import(key).await?;
        // Copies in JS-owned buffers: handed views into the wasm memory, workerd's WebCrypto
        // costs ~100 µs more per call (measured with scripts/bench-gallery.mjs).
        let ok = call(subtle_verify(
            &imported.verify_params,
            &imported.key,
            &Uint8Array::from(signature),
            &Uint8Array::from(message),
        ))
        .await?;
        Ok(ok.as_bool() == Some(true))
    }
}

/// The JWKS and revocation list as a Worker reaches them.
pub struct WorkerSources {
    /// A service binding to the provider Worker; `None` fetches `jwks_uri` over the network.
    pub provider: Option<worker::Fetcher>,
    /// The provider's KV namespace (the raw binding: workers-rs has no bulk `get`), for the
    /// revocation markers.
    pub revocations: Option<JsValue>,
}

impl WorkerSources {
    /// Reads the optional bindings by name: a service binding to the provider and its KV.
    pub fn from_env(env: &worker::Env, service: Option<&str>, kv: Option<&str>) -> WorkerSources {
        WorkerSources {
            provider: service.and_then(|name| env.service(name).ok()),
            revocations: kv
                .and_then(|name| Reflect::get(env, &JsValue::from_str(name)).ok())
                .filter(|b| b.is_object()),
        }
    }
}

impl Sources for WorkerSources {
    async fn fetch_jwks(&self, jwks_uri: &str) -> Result<JwksResponse, String> {
        let mut response = match &self.provider {
            Some(service) => service.fetch(jwks_uri, None).await,
            None => {
                let url = worker::Url::parse(jwks_uri).map_err(|e| format!("jwks_uri: {e}"))?;
                worker::Fetch::Url(url).send().await
            }
        }
        .map_err(|e| format!("GET {jwks_uri}: {e}"))?;
        if response.status_code() != 200 {
            return Err(format!("GET {jwks_uri}: status {}", response.status_code()));
        }
        let cache_control = response.headers().get("cache-control").ok().flatten();
        let body = response
            .text()
            .await
            .map_err(|e| format!("GET {jwks_uri}: {e}"))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("GET {jwks_uri}: document too large"));
        }
        Ok(JwksResponse {
            body,
            cache_control,
        })
    }

    async fn read_markers(&self, keys: &[String]) -> Result<Vec<Option<String>>, String> {
        let Some(kv) = &self.revocations else {
            return Err("revocation checks are on but no KV namespace is bound".into());
        };
        // `KV.get([k1, k2, ...], "text")`: one operation, a Map of key -> value or null.
        let get = Reflect::get(kv, &JsValue::from_str("get"))
            .map_err(|e| format!("KV get: {e:?}"))?
            .dyn_into::<js_sys::Function>()
            .map_err(|_| "KV get is not a function".to_string())?;
        let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
        let promise = get
            .call2(kv, &list, &JsValue::from_str("text"))
            .map_err(|e| format!("KV bulk get: {e:?}"))?
            .dyn_into::<Promise>()
            .map_err(|_| "KV bulk get returned no promise".to_string())?;
        let map: js_sys::Map = JsFuture::from(promise)
            .await
            .map_err(|e| format!("KV bulk get: {e:?}"))?
            .dyn_into()
            .map_err(|_| "KV bulk get returned no Map".to_string())?;
        Ok(keys
            .iter()
            .map(|k| map.get(&JsValue::from_str(k)).as_string())
            .collect())
    }
}

/// Seconds since the epoch from `Date.now()` (`SystemTime` panics on wasm32).
pub fn now() -> u64 {
    worker::Date::now().as_millis() / 1000
}

impl Verifier {
    /// Verifies the request's `Authorization: Bearer` token and the scopes it needs.
    pub async fn authorize(
        &self,
        req: &worker::Request,
        sources: &WorkerSources,
        required: &[&str],
    ) -> Result<AccessClaims, AuthError> {
        let authorization = req.headers().get("authorization").ok().flatten();
        self.verify(
            &WebCrypto,
            sources,
            authorization.as_deref(),
            required,
            now(),
        )
        .await
    }

    /// The refusal as a `worker::Response` (status, `WWW-Authenticate`, JSON body).
    pub fn refuse(&self, error: &AuthError) -> worker::Result<worker::Response> {
        if let AuthError::Unavailable(detail) = error {
            worker::console_error!("token verification unavailable: {detail}");
        }
        let parts = self.error_response(error);
        let headers = worker::Headers::new();
        for (name, value) in &parts.headers {
            headers.set(name, value)?;
        }
        Ok(worker::Response::ok(parts.body)?
            .with_status(parts.status)
            .with_headers(headers))
    }
}
