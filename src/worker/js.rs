//! Calling methods of runtime objects (the KV binding, Durable Object stubs, responses)
//! directly.
//!
//! Why not workers-rs's wrappers: its KV builders convert options and listings with
//! serde-wasm-bindgen and format numbers, and its `RequestInit` serializes Cloudflare's `cf`
//! options; together about 20 KB of the bundle for what is a few property reads here.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `target[name](...args)`, awaited when it returns a promise.
pub async fn call(target: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, String> {
    let method: Function = get(target, name)?
        .dyn_into()
        .map_err(|_| format!("{name} is not a function"))?;
    let result = match args {
        [] => method.call0(target),
        [a] => method.call1(target, a),
        [a, b] => method.call2(target, a, b),
        [a, b, c] => method.call3(target, a, b, c),
        _ => return Err(format!("{name}: too many arguments")),
    }
    .map_err(|e| error_text(&e))?;
    match result.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(|e| error_text(&e)),
        Err(value) => Ok(value),
    }
}

/// `target[name]`.
pub fn get(target: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(|e| error_text(&e))
}

/// A plain object with these members.
pub fn object(members: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in members {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object.into()
}

/// What a thrown value says: an `Error`'s message, or the value as a string.
pub fn error_text(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error
        .as_string()
        .unwrap_or_else(|| "unknown JavaScript error".to_string())
}
