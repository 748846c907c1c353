//! Fetching client metadata documents (`oauth::client_document`) from the Worker: `fetch` with
//! a 5 s timeout (`AbortSignal.timeout`, which also ends a body that trickles), no redirect
//! followed, and at most 5 KiB read from the body stream (the rest is cancelled, never read).
//! Only URLs `client_document::check_url` allows are fetched; an `await` here holds up only
//! the request that needs the document.

use super::js;
use crate::config::Config;
use crate::http::{Method, Request};
use crate::oauth::client_document::{self, Fetched, MAX_BYTES, TIMEOUT_MS};
use crate::oauth::params::Params;
use crate::store::Store;
use wasm_bindgen::{JsCast, JsValue};

/// Whether `haystack` holds `needle` (a byte search, cheaper than parsing).
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The URL `client_id` of a request that needs its client (authorize, token, revoke), if any.
/// A byte search comes first, so a request with a registered client_id is not parsed twice.
fn document_id(request: &Request) -> Option<String> {
    let url_id = |text: &[u8]| {
        holds(text, b"client_id=http")
            || holds(text, b"\"client_id\":\"http")
            || holds(text, b"\"client_id\": \"http")
    };
    let id = match (&request.method, request.path.as_str()) {
        (Method::Get, "/api/oauth/authorize") if url_id(request.query.as_bytes()) => {
            form_urlencoded::parse(request.query.as_bytes())
                .find(|(k, _)| k == "client_id")
                .map(|(_, v)| v.into_owned())
        }
        (Method::Post, "/api/oauth/token" | "/api/oauth/revoke") if url_id(&request.body) => {
            Params::from_body(request, crate::oauth::resource::REPEATABLE)
                .ok()?
                .get("client_id")
                .map(str::to_string)
        }
        _ => None,
    }?;
    client_document::is_document_id(&id).then_some(id)
}

/// Binding of the Workers rate limiter for fetching documents not cached yet (wrangler.toml
/// `[[ratelimits]]`, 30 per 60 s per address): anyone can name any URL, and each new one costs
/// an outbound fetch and a KV write.
const FETCH_LIMIT: &str = "DOCUMENT_FETCH_LIMIT";

/// Makes sure the document a request names is cached (fetched now unless it is). Errors are
/// cached as refusals; storage failures are left to the endpoint, which reads the cache. An
/// address over the fetch limit (or a deployment without the binding) fetches nothing: the
/// endpoint then finds no document and says it could not be fetched.
pub async fn prefetch(
    env: &worker::Env,
    config: &Config,
    store: &impl Store,
    request: &Request,
    now: u64,
) {
    let Some(url) = document_id(request) else {
        return;
    };
    if client_document::check_url(&url, config.client_metadata_documents).is_err() {
        return; // the endpoint explains the refusal
    }
    if !matches!(client_document::cached(store, &url).await, Ok(None)) {
        return;
    }
    let address = request.header("cf-connecting-ip").unwrap_or("");
    let key = format!("doc:{}", crate::state::throttle::address_subject(address));
    match super::rate_limit(env, FETCH_LIMIT, &key).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            worker::console_error!("client metadata documents: rate limiter {FETCH_LIMIT}: {e}");
            return;
        }
    }
    let fetched = fetch(&url).await;
    let _ = client_document::remember(store, &url, fetched, &config.scopes, now).await;
}

async fn fetch(url: &str) -> Fetched {
    let global: JsValue = js_sys::global().into();
    let abort = js::get(&global, "AbortSignal")?;
    let signal = js::call(&abort, "timeout", &[&JsValue::from_f64(TIMEOUT_MS as f64)]).await?;
    let headers = js::object(&[("accept", "application/json".into())]);
    let init = js::object(&[
        ("redirect", "manual".into()),
        ("signal", signal),
        ("headers", headers),
    ]);
    let response = js::call(&global, "fetch", &[&url.into(), &init])
        .await
        .map_err(|e| format!("no answer within {} s ({e})", TIMEOUT_MS / 1000))?;
    let status = js::get(&response, "status")?.as_f64().unwrap_or(0.0) as u16;
    if (300..400).contains(&status) || status == 0 {
        return Err("it answered with a redirect, which is not followed".into());
    }
    if status != 200 {
        return Err(format!("it answered HTTP {status}"));
    }
    let headers = js::get(&response, "headers")?;
    let cache_control = js::call(&headers, "get", &[&"cache-control".into()])
        .await?
        .as_string();
    let body = js::get(&response, "body")?;
    let mut out = Vec::new();
    if body.is_null() || body.is_undefined() {
        return Ok((out, cache_control));
    }
    let reader = js::call(&body, "getReader", &[]).await?;
    loop {
        let chunk = js::call(&reader, "read", &[]).await.map_err(|e| {
            format!(
                "the body did not arrive within {} s ({e})",
                TIMEOUT_MS / 1000
            )
        })?;
        if js::get(&chunk, "done")?.as_bool() == Some(true) {
            break;
        }
        let bytes: js_sys::Uint8Array = js::get(&chunk, "value")?
            .dyn_into()
            .map_err(|_| "unexpected body chunk".to_string())?;
        if out.len() + bytes.length() as usize > MAX_BYTES {
            let _ = js::call(&reader, "cancel", &[]).await;
            return Err(format!("the document is larger than {MAX_BYTES} bytes"));
        }
        out.extend(bytes.to_vec());
    }
    Ok((out, cache_control))
}
