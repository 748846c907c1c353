//! The Worker entry point: configuration from vars, routing, token verification through
//! `edge-verifier`, the body read with a size limit, and KV for the data.
//!
//! Bindings: `GALLERY_KV` (this API's data), `OAUTH_KV` (the provider's namespace: the
//! revocation list), optionally `OAUTH` (a service binding to the provider; the JWKS is then
//! fetched through it instead of over the network). Vars: `ISSUER`, `RESOURCE` (this API's
//! URL), optional `AUDIENCE` (default: the issuer), `JWKS_URI`, `CHECK_REVOCATION` (`true`).
//! `/mcp` has its own verifier: its tokens must have `aud` = `{RESOURCE}/mcp` (RFC 8707, the
//! resource MCP clients name), so a token for the REST API or another API is refused there.

use crate::api::{self, Input, Reply, Store};
use crate::mcp::Outcome;
use crate::metadata;
use crate::model::MAX_BODY;
use crate::routes::{self, NoRoute, Route};
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
    /// For `/mcp`: audience and `resource_metadata` are the MCP endpoint's.
    mcp_verifier: Verifier,
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
    // Tokens for the provider's default audience, or for this API by its RFC 8707 resource
    // URI (its origin, as its protected-resource metadata names it).
    let also = (audience != resource).then(|| resource.clone());
    let mut config = Config::new(issuer.clone(), audience)
        .realm("gallery-api")
        .resource_metadata(metadata::url(&resource))
        .check_revocation(check_revocation);
    let mcp_resource = format!("{resource}{}", routes::MCP_PATH);
    let mut mcp_config = Config::new(issuer.clone(), mcp_resource)
        .realm("gallery-api")
        .resource_metadata(format!("{resource}{}", routes::MCP_METADATA_PATH))
        .check_revocation(check_revocation);
    if let Some(also) = also {
        config = config.also_accept_audience(also);
    }
    if let Some(jwks_uri) = var("JWKS_URI") {
        config = config.jwks_uri(jwks_uri.clone());
        mcp_config = mcp_config.jwks_uri(jwks_uri);
    }
    let s = Rc::new(Settings {
        verifier: Verifier::new(config),
        mcp_verifier: Verifier::new(mcp_config),
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
                "Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id",
            )?;
            headers.set("access-control-max-age", "600")?;
            return Ok(Response::empty()?.with_status(204).with_headers(headers));
        }
    };
    match route {
        Route::Mcp => return mcp(req, &env, &settings).await,
        Route::McpMetadata => {
            let mcp_resource = format!("{}{}", settings.resource, routes::MCP_PATH);
            let doc = metadata::mcp_document(&mcp_resource, &settings.issuer);
            return respond(
                Reply::new(200, doc),
                &[("cache-control", "public, max-age=3600")],
            );
        }
        _ => {}
    }
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

/// `POST /mcp`: the token must be for `{RESOURCE}/mcp`; each tool checks its scope.
async fn mcp(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let sources = WorkerSources::from_env(env, Some(PROVIDER_SERVICE), Some(PROVIDER_KV));
    let verifier = &settings.mcp_verifier;
    let claims = match verifier.authorize(&req, &sources, &[]).await {
        Ok(claims) => claims,
        Err(error) => {
            let mut response = verifier.refuse(&error)?;
            cors(response.headers_mut())?;
            return Ok(response);
        }
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(reply) => return respond(reply, &[]),
    };
    let store = Kv(env.kv(DATA_KV)?);
    let outcome = crate::mcp::handle(
        &body,
        &claims,
        edge_verifier::worker::now(),
        &new_id,
        &store,
    )
    .await;
    match outcome {
        Outcome::Json(body) => respond(Reply::new(200, body), &[]),
        Outcome::Invalid(body) => respond(Reply::new(400, body), &[]),
        Outcome::Accepted => {
            let headers = Headers::new();
            cors(&headers)?;
            Ok(Response::empty()?.with_status(202).with_headers(headers))
        }
        Outcome::NeedsScope(scope) => {
            let error = edge_verifier::AuthError::InsufficientScope(scope.to_string());
            let mut response = verifier.refuse(&error)?;
            cors(response.headers_mut())?;
            Ok(response)
        }
    }
}
