//! `Crypto` on the runtime's WebCrypto (`crypto.subtle`), which runs natively in workerd.
//! Imported keys are cached per isolate, so a signature costs one `sign` call.

use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::token::keys::{Alg, SigningKey};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
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

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
    fn subtle_sign(
        algorithm: &JsValue,
        key: &JsValue,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = verify, catch)]
    fn subtle_verify(
        algorithm: &JsValue,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveBits, catch)]
    fn derive_bits(algorithm: &JsValue, key: &JsValue, length: u32) -> Result<Promise, JsValue>;
}

thread_local! {
    static KEY_CACHE: RefCell<BTreeMap<(String, bool), JsValue>> = const { RefCell::new(BTreeMap::new()) };
}

pub struct WebCrypto;

fn js_error(what: &str, e: JsValue) -> OAuthError {
    OAuthError::server(format!("WebCrypto {what}: {}", super::js::error_text(&e)))
}

async fn call(what: &str, promise: Result<Promise, JsValue>) -> Result<JsValue, OAuthError> {
    let promise = promise.map_err(|e| js_error(what, e))?;
    JsFuture::from(promise).await.map_err(|e| js_error(what, e))
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&obj, &JsValue::from_str(k), v);
    }
    obj.into()
}

/// (import parameters, sign/verify parameters) for each algorithm.
fn params(alg: Alg) -> (JsValue, JsValue) {
    let s = JsValue::from_str;
    match alg {
        Alg::ES256 => (
            object(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))]),
            object(&[("name", s("ECDSA")), ("hash", s("SHA-256"))]),
        ),
        Alg::RS256 => (
            object(&[("name", s("RSASSA-PKCS1-v1_5")), ("hash", s("SHA-256"))]),
            object(&[("name", s("RSASSA-PKCS1-v1_5"))]),
        ),
        Alg::EdDSA => (
            object(&[("name", s("Ed25519"))]),
            object(&[("name", s("Ed25519"))]),
        ),
    }
}

/// The key members WebCrypto needs, without `alg`/`use`/`kid` (naming conventions differ).
fn jwk_for_import(jwk: &Map<String, Value>) -> Result<JsValue, OAuthError> {
    let members: Map<String, Value> = jwk
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alg" | "use" | "kid" | "key_ops" | "ext"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    js_sys::JSON::parse(&Value::Object(members).to_string()).map_err(|e| js_error("jwk", e))
}

async fn crypto_key(key: &SigningKey, private: bool) -> Result<JsValue, OAuthError> {
    let cache_key = (key.kid.clone(), private);
    if let Some(k) = KEY_CACHE.with(|c| c.borrow().get(&cache_key).cloned()) {
        return Ok(k);
    }
    let jwk = if private {
        key.private_jwk
            .as_ref()
            .ok_or_else(|| OAuthError::server(format!("key {} has no private part", key.kid)))?
    } else {
        &key.public_jwk
    };
    let usages = Array::of1(&JsValue::from_str(if private { "sign" } else { "verify" }));
    let (import_params, _) = params(key.alg);
    let imported = call(
        "importKey",
        import_key("jwk", &jwk_for_import(jwk)?, &import_params, false, &usages),
    )
    .await?;
    KEY_CACHE.with(|c| c.borrow_mut().insert(cache_key, imported.clone()));
    Ok(imported)
}

impl Crypto for WebCrypto {
    async fn sign(&self, key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, OAuthError> {
        let crypto_key = crypto_key(key, true).await?;
        let (_, sign_params) = params(key.alg);
        // A copy in a fresh JS buffer, not a view into wasm memory: in the edge-verifier this
        // measured ~70 us less per verify in workerd (docs/performance.md).
        let data = Uint8Array::from(message);
        let signature = call("sign", subtle_sign(&sign_params, &crypto_key, &data)).await?;
        Ok(Uint8Array::new(&signature).to_vec())
    }

    async fn verify(
        &self,
        key: &SigningKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, OAuthError> {
        let crypto_key = crypto_key(key, false).await?;
        let (_, verify_params) = params(key.alg);
        let ok = call(
            "verify",
            subtle_verify(
                &verify_params,
                &crypto_key,
                &Uint8Array::from(signature),
                &Uint8Array::from(message),
            ),
        )
        .await?;
        Ok(ok.as_bool() == Some(true))
    }

    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], OAuthError> {
        let usages = Array::of1(&JsValue::from_str("deriveBits"));
        let base = call(
            "importKey",
            import_key(
                "raw",
                &Uint8Array::from(password).into(),
                &object(&[("name", JsValue::from_str("PBKDF2"))]),
                false,
                &usages,
            ),
        )
        .await?;
        let derive_params = object(&[
            ("name", JsValue::from_str("PBKDF2")),
            ("hash", JsValue::from_str("SHA-256")),
            ("salt", Uint8Array::from(salt).into()),
            ("iterations", JsValue::from_f64(iterations as f64)),
        ]);
        let bits = call("deriveBits", derive_bits(&derive_params, &base, 256)).await?;
        let mut out = [0u8; 32];
        let bytes = Uint8Array::new(&bits);
        if bytes.length() != 32 {
            return Err(OAuthError::server("PBKDF2 returned the wrong length"));
        }
        bytes.copy_to(&mut out);
        Ok(out)
    }

    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), OAuthError> {
        getrandom::fill(buf).map_err(|e| OAuthError::server(format!("rng: {e}")))
    }
}
