//! The Worker entry point: configuration from vars, routing, token verification through
//! `edge-verifier`, the body read with a size limit, and KV for the data.
//!
//! Bindings: `GALLERY_KV` (this API's data), `OAUTH_KV` (the provider's namespace: the
//! revocation list), optionally `OAUTH` (a service binding to the provider; the JWKS is then
//! fetched through it instead of over the network). Vars: `ISSUER`, `RESOURCE` (this API's
//! URL), optional `AUDIENCE` (default: the issuer), `JWKS_URI`, `CHECK_REVOCATION` (`true`).

use crate::api::{self, Input, Reply, Store};
use crate::metadata;
use crate::model::MAX_BODY;
use crate::routes::{self, NoRoute};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edge_verifier::worker::WorkerSources;
use edge_verifier::{Config, Verifier};
use futures_util::StreamExt;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{console_error, event, Context, Env, Headers, Method, Request, Response, Result};

const DATA_KV: &str = "GALLERY_KV";
const PROVIDER_KV: &str = "OAUTH_KV";
const PROVIDER_SERVICE: &str = "OAUTH";

struct Settings {
    verifier: Verifier,
    issuer: String,
    resource: String,
}

thread_local! {
    // Per isolate: the validated settings and the verifier with its JWKS cache.
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

fn settings(env: &Env) -> std::result::Result<Rc<Settings>, String> {
    if let Some(s) = SETTINGS.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let var = |name: &str| {
        env.var(name)
            .ok()
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
    };
    let url = |name: &str| {
        let v = var(name).ok_or(format!("{name} is not set"))?;
        if !(v.starts_with("https://") || v.starts_with("http://")) || v.ends_with('/') {
            return Err(format!(
                "{name} must be an http(s) URL without a trailing slash"
            ));
        }
        Ok(v)
    };
    let issuer = url("ISSUER")?;
    let resource = url("RESOURCE")?;
    let audience = var("AUDIENCE").unwrap_or_else(|| issuer.clone());
    let check_revocation = match var("CHECK_REVOCATION").as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err("CHECK_REVOCATION must be true or false".into()),
    };
    let mut config = Config::new(issuer.clone(), audience)
        .realm("gallery-api")
        .resource_metadata(metadata::url(&resource))
        .check_revocation(check_revocation);
    if let Some(jwks_uri) = var("JWKS_URI") {
        config = config.jwks_uri(jwks_uri);
    }
    let s = Rc::new(Settings {
        verifier: Verifier::new(config),
        issuer,
        resource,
    });
    SETTINGS.with(|c| *c.borrow_mut() = Some(s.clone()));
    Ok(s)
}

struct Kv(worker::kv::KvStore);

impl Store for Kv {
    async fn get(&self, key: &str) -> std::result::Result<Option<String>, String> {
        self.0.get(key).text().await.map_err(|e| e.to_string())
    }

    async fn put(&self, key: &str, value: &str) -> std::result::Result<(), String> {
        self.0
            .put(key, value)
            .map_err(|e| e.to_string())?
            .execute()
            .await
            .map_err(|e| e.to_string())
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 12];
    // Only fails without a random source, which workerd always has.
    let _ = getrandom::fill(&mut bytes);
    B64.encode(bytes)
}

/// CORS for browser apps: tokens travel in a header, never in cookies, so any origin may call.
fn cors(headers: &Headers) -> Result<()> {
    headers.set("access-control-allow-origin", "*")?;
    headers.set("access-control-expose-headers", "WWW-Authenticate")
}

fn respond(reply: Reply, extra: &[(&str, &str)]) -> Result<Response> {
    if let Some(detail) = &reply.log {
        console_error!("{detail}");
    }
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    cors(&headers)?;
    Ok(Response::ok(reply.body.to_string())?
        .with_status(reply.status)
        .with_headers(headers))
}

/// The body, refused past `MAX_BODY` without reading the rest.
async fn read_body(req: &mut Request) -> std::result::Result<Vec<u8>, Reply> {
    let too_large = || {
        api::error(
            413,
            "invalid_request",
            &format!("The body is larger than {MAX_BODY} bytes"),
        )
    };
    let declared = req.headers().get("content-length").ok().flatten();
    if declared
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let Ok(mut stream) = req.stream() else {
        return Ok(body); // no body
    };
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| api::error(400, "invalid_request", "The body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let settings = match settings(&env) {
        Ok(s) => s,
        Err(message) => {
            console_error!("invalid configuration: {message}");
            let e = api::error(
                500,
                "server_error",
                "The API is misconfigured; its log names the setting to fix",
            );
            return respond(e, &[]);
        }
    };
    let method = req.method();
    let route = match routes::route(method.as_ref(), &req.path()) {
        Ok(route) => route,
        Err(NoRoute::NotFound) => {
            return respond(api::error(404, "not_found", "No such endpoint"), &[])
        }
        Err(NoRoute::MethodNotAllowed { allow }) => {
            let e = api::error(405, "method_not_allowed", &format!("Use one of: {allow}"));
            return respond(e, &[("allow", allow)]);
        }
        Err(NoRoute::Preflight { allow }) => {
            let headers = Headers::new();
            cors(&headers)?;
            headers.set("access-control-allow-methods", allow)?;
            headers.set(
                "access-control-allow-headers",
                "Authorization, Content-Type",
            )?;
            headers.set("access-control-max-age", "600")?;
            return Ok(Response::empty()?.with_status(204).with_headers(headers));
        }
    };
    let Some(scope) = route.scope() else {
        let doc = metadata::document(&settings.resource, &settings.issuer);
        return respond(
            Reply::new(200, doc),
            &[("cache-control", "public, max-age=3600")],
        );
    };
    let sources = WorkerSources::from_env(&env, Some(PROVIDER_SERVICE), Some(PROVIDER_KV));
    let claims = match settings.verifier.authorize(&req, &sources, &[scope]).await {
        Ok(claims) => claims,
        Err(error) => {
            let mut response = settings.verifier.refuse(&error)?;
            cors(response.headers_mut())?;
            return Ok(response);
        }
    };
    let body = if method == Method::Post {
        match read_body(&mut req).await {
            Ok(body) => body,
            Err(reply) => return respond(reply, &[]),
        }
    } else {
        Vec::new()
    };
    let content_type = req.headers().get("content-type").ok().flatten();
    let input = Input {
        content_type: content_type.as_deref(),
        body: &body,
        now: edge_verifier::worker::now(),
        new_id: &new_id,
    };
    let store = Kv(env.kv(DATA_KV)?);
    respond(api::handle(route, &claims, &input, &store).await, &[])
}
