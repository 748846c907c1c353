//! The Worker entry point: the only code that touches the Workers runtime. It converts the
//! request, supplies KV, WebCrypto and the clock, and hands everything to `app::handle`.

mod convert;
mod document;
mod durable;
mod js;
mod kv;
mod meter;
mod webcrypto;

use crate::app::{self, Ctx};
use crate::config::Config;
use crate::error::OAuthError;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{console_error, event, web_sys, Context, Env, Response, Result};

const KV_BINDING: &str = "OAUTH_KV";

thread_local! {
    // The environment is fixed for the life of an isolate, so the validated config is cached.
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

fn config(env: &Env) -> std::result::Result<Rc<Config>, String> {
    if let Some(config) = CONFIG.with(|c| c.borrow().clone()) {
        return Ok(config);
    }
    let lookup = |name: &str| env.secret(name).ok().map(|v| v.to_string());
    let config = Rc::new(Config::from_lookup(lookup).map_err(|e| e.to_string())?);
    CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
    Ok(config)
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    let config = match config(&env) {
        Ok(config) => config,
        Err(message) => {
            // The log names the variable; callers only learn that the provider is misconfigured.
            console_error!("{message}");
            let error = OAuthError {
                description: "The provider is misconfigured; its log names the setting to fix"
                    .into(),
                ..OAuthError::server(message)
            };
            return convert::to_worker(error.to_response());
        }
    };
    let request = match convert::from_worker(req).await {
        Ok(request) => request,
        // Refused before routing (e.g. 413): the same headers the pipeline adds, and CORS so a
        // browser client can read the error.
        Err(error) => {
            let response = error
                .with_cors()
                .to_response()
                .with_header("x-content-type-options", "nosniff");
            return convert::to_worker(response);
        }
    };
    if let Some(refused) = registration_limit(&env, &config, &request).await {
        return convert::to_worker(refused);
    }
    let meter = meter::Meter::default();
    let store = kv::KvStore::new(&env, KV_BINDING, &meter).map_err(worker::Error::RustError)?;
    // The binding is needed only on the durable backend; without it every call is refused.
    let namespace = env.durable_object(durable::BINDING).ok();
    let objects = durable::WorkerObjects(namespace, &meter);
    let now_ms = worker::Date::now().as_millis();
    document::prefetch(&env, &config, &store, &request, now_ms / 1000).await;
    let ctx = Ctx {
        config: &config,
        store: &store,
        objects: &objects,
        crypto: &webcrypto::WebCrypto,
        now: now_ms / 1000,
        now_ms,
    };
    let mut response = app::handle(&ctx, &request, &|line| console_error!("{line}")).await;
    if env.var("COST_HEADER").is_ok_and(|v| v.to_string() == "1") {
        response = response.with_header("x-storage-ops", &meter.header());
    }
    convert::to_worker(response)
}

/// Binding of the Workers rate limiter for dynamic registration (wrangler.toml `[[ratelimits]]`,
/// 10 per 60 s).
const REGISTRATION_LIMIT: &str = "REGISTRATION_LIMIT";

/// RFC 7591 registration is open to anyone: at most 10 per minute per address (an IPv6
/// address by its /64), counted by the runtime's rate limiter before the endpoint runs.
/// Without the binding nothing is registered (fail closed).
async fn registration_limit(
    env: &Env,
    config: &Config,
    request: &crate::http::Request,
) -> Option<crate::http::Response> {
    use crate::endpoints::register;
    if !config.dynamic_registration
        || request.method != crate::http::Method::Post
        || request.path != register::PATH
    {
        return None;
    }
    let key =
        crate::state::throttle::address_subject(request.header("cf-connecting-ip").unwrap_or(""));
    let allowed = rate_limit(env, REGISTRATION_LIMIT, &key).await;
    let refused = match allowed {
        Ok(true) => return None,
        Ok(false) => register::too_many(),
        Err(e) => {
            console_error!("dynamic registration: rate limiter {REGISTRATION_LIMIT}: {e}");
            OAuthError::unavailable("Registration is unavailable right now")
        }
    };
    let response = refused.with_cors().to_response();
    Some(
        response
            // The limiter's period (the 429's default names the sign-in throttle's window).
            .set_header("retry-after", "60")
            .with_header("x-content-type-options", "nosniff"),
    )
}

/// `env[binding].limit({key})` → `success`, called directly (workers-rs's wrapper goes
/// through serde-wasm-bindgen, about 20 KB of the bundle; see `js`).
pub(crate) async fn rate_limit(
    env: &Env,
    binding: &str,
    key: &str,
) -> std::result::Result<bool, String> {
    let limiter = js::get(env.as_ref(), binding)?;
    if !limiter.is_object() {
        return Err(format!("the {binding} binding is missing"));
    }
    let options = js::object(&[("key", key.into())]);
    let outcome = js::call(&limiter, "limit", &[&options]).await?;
    Ok(js::get(&outcome, "success")?.as_bool() == Some(true))
}
