//! Worker request/response ⇄ the core's plain `http` types.

use crate::app::payload_too_large;
use crate::error::OAuthError;
use crate::http::{Method, Request, Response, MAX_BODY_BYTES};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::web_sys;

/// Reads the request, refusing bodies over the limit before buffering them when the size is
/// declared, and after reading when it is not (chunked). Takes the runtime's request as it
/// comes: `worker::Request` would read its `cf` object, which costs the isolate more CPU than
/// the rest of the conversion and is never used here.
pub async fn from_worker(req: web_sys::Request) -> Result<Request, OAuthError> {
    let url = req.url();
    let (path, query) = path_and_query(&url);
    let headers = worker::Headers(req.headers());
    let declared: Option<usize> = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(payload_too_large());
    }
    let method = Method::parse(&req.method());
    let unreadable = |e: JsValue| {
        OAuthError::invalid_request(format!(
            "Could not read body: {}",
            super::js::error_text(&e)
        ))
    };
    let body = match (&method, declared) {
        (Method::Get | Method::Head, _) => Vec::new(),
        // HTTP framing delivers exactly the declared length, already checked against the
        // limit: one read instead of a stream (cheaper in the isolate).
        (_, Some(_)) => {
            let buffer = JsFuture::from(req.array_buffer().map_err(unreadable)?)
                .await
                .map_err(unreadable)?;
            let bytes = js_sys::Uint8Array::new(&buffer);
            // Framing already bounds it; checked again so the limit never rests on that alone.
            if bytes.length() as usize > MAX_BODY_BYTES {
                return Err(payload_too_large());
            }
            bytes.to_vec()
        }
        _ => read_limited(&mut worker::Request::from(req)).await?,
    };
    Ok(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers: headers
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    })
}

/// Reads the body chunk by chunk and stops as soon as it passes the limit, so an undeclared
/// (chunked) upload cannot make the isolate buffer it whole.
async fn read_limited(req: &mut worker::Request) -> Result<Vec<u8>, OAuthError> {
    use futures_util::StreamExt;
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new()); // no body at all
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| OAuthError::invalid_request(format!("Could not read body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(payload_too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Converts a response. A header the runtime refuses (a value that is not a valid header) is
/// a bug of ours: it becomes a logged 500, not a thrown exception that kills the request.
pub fn to_worker(response: Response) -> worker::Result<worker::Response> {
    let headers = worker::Headers::new();
    for (name, value) in &response.headers {
        if let Err(e) = headers.append(name, value) {
            worker::console_error!("refused response header {name}: {e}");
            return to_worker(OAuthError::server("invalid response header").to_response());
        }
    }
    // A 204/304 must have a null body, which `from_bytes` would not give.
    let out = if response.body.is_empty() {
        worker::Response::empty()?
    } else {
        worker::Response::from_bytes(response.body)?
    };
    Ok(out.with_status(response.status).with_headers(headers))
}

/// The path and query of the absolute URL the runtime gives a request (already in WHATWG
/// serialised form: `scheme://authority/path?query`, never a fragment).
fn path_and_query(url: &str) -> (&str, &str) {
    let after_authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let without_fragment = after_authority.split('#').next().unwrap_or("/");
    without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""))
}
