//! Verifies edge-oauth access tokens inside any Cloudflare Worker that serves an API.
//!
//! The provider signs RFC 9068 access tokens (`typ: at+jwt`) with ES256 (default), RS256 or
//! EdDSA and publishes its public keys at `{issuer}/.well-known/jwks.json`. A [`Verifier`]:
//! - takes the token from the `Authorization: Bearer` header only (RFC 6750 §2.1);
//! - fetches the JWKS from the issuer (or through a service binding), caches it in isolate
//!   memory for its `Cache-Control: max-age`, and refetches on an unknown `kid` at most once per
//!   [`jwks::MIN_FETCH_INTERVAL`]; until keys first load, a failed fetch makes requests answer
//!   503 with `Retry-After` for [`jwks::FETCH_FAILURE_BACKOFF`] seconds without fetching again;
//! - verifies the signature with WebCrypto, accepting only the algorithm of the key named by
//!   `kid` (RFC 8725 §3.1);
//! - checks `typ`, `iss`, `aud`, `exp`, `iat` (and `nbf`) with a small clock skew;
//! - optionally consults the provider's revocation markers in its KV, all in ONE bulk `get`
//!   ([`revocation`]): the token's `jti`, its grant (`gid`), its client, its user and its
//!   user's grant of the client; each is seen once the provider's KV write has propagated
//!   (at once in its location, elsewhere within ~60 s);
//! - checks the scopes the route requires;
//! - and words refusals per RFC 6750 §3 ([`AuthError::response`]): no token → 401 with
//!   `WWW-Authenticate: Bearer realm="..."`; a bad, expired, foreign or revoked token → 401
//!   `error="invalid_token"`; a missing scope → 403 `error="insufficient_scope"` with `scope`.
//!
//! The rules are plain Rust and run natively (`cargo test`); only the `worker` module, built
//! for wasm32, touches the runtime.
//!
//! # A complete Worker
//!
//! `Cargo.toml`: `edge-verifier`, `worker = "0.8"`, `serde_json`. `wrangler.toml`: vars
//! `ISSUER` (and `AUDIENCE` when the provider sets `ACCESS_TOKEN_AUDIENCE`), optionally a
//! service binding `OAUTH` to the provider Worker and its KV namespace as `OAUTH_KV`.
//!
//! ```rust,ignore
//! use edge_verifier::worker::WorkerSources;
//! use edge_verifier::{Config, Verifier};
//! use std::rc::Rc;
//! use worker::{event, Context, Env, Method, Request, Response, Result};
//!
//! thread_local! {
//!     // One verifier per isolate: it holds the JWKS cache.
//!     static VERIFIER: std::cell::OnceCell<Rc<Verifier>> = const { std::cell::OnceCell::new() };
//! }
//!
//! fn verifier(env: &Env) -> Rc<Verifier> {
//!     VERIFIER.with(|v| {
//!         v.get_or_init(|| {
//!             let issuer = env.var("ISSUER").map(|v| v.to_string()).unwrap_or_default();
//!             let audience = env.var("AUDIENCE").map(|v| v.to_string()).unwrap_or(issuer.clone());
//!             Rc::new(Verifier::new(
//!                 Config::new(issuer, audience)
//!                     .realm("photos-api")
//!                     .resource_metadata("https://photos.example/.well-known/oauth-protected-resource")
//!                     .check_revocation(true),
//!             ))
//!         })
//!         .clone()
//!     })
//! }
//!
//! #[event(fetch)]
//! async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
//!     let required: &[&str] = match (req.method(), req.path().as_str()) {
//!         (Method::Get, "/api/v1/galleries") => &["galleries:read"],
//!         (Method::Post, "/api/v1/galleries") => &["galleries:write"],
//!         _ => return Response::error("Not found", 404),
//!     };
//!     let verifier = verifier(&env);
//!     // The JWKS through the service binding, the revocation list in the provider's KV.
//!     let sources = WorkerSources::from_env(&env, Some("OAUTH"), Some("OAUTH_KV"));
//!     match verifier.authorize(&req, &sources, required).await {
//!         Ok(claims) => Response::from_json(&serde_json::json!({
//!             "sub": claims.sub, "client_id": claims.client_id, "scope": claims.scope(),
//!         })),
//!         // 400/401/403 with WWW-Authenticate and a JSON body, or 503 if keys are unreachable.
//!         Err(error) => verifier.refuse(&error),
//!     }
//! }
//! ```
//!
//! `examples/gallery-api` in this repository is a full API built this way.
//!
//! # Outside the Worker
//!
//! [`Verifier::verify`] takes the platform through [`SignatureVerifier`] and [`Sources`], and
//! the time as an argument; `native::NativeEs256` verifies ES256 natively. Refusals map to
//! responses the same way everywhere:
//!
//! ```
//! use edge_verifier::AuthError;
//!
//! let refusal = AuthError::InsufficientScope("galleries:write".into());
//! let r = refusal.response("photos-api", None);
//! assert_eq!(r.status, 403);
//! assert!(r.headers.contains(&(
//!     "www-authenticate",
//!     "Bearer realm=\"photos-api\", error=\"insufficient_scope\", error_description=\"The \
//!      access token lacks the scope this request needs: galleries:write\", scope=\"galleries:write\""
//!         .to_string()
//! )));
//! ```

pub mod claims;
pub mod error;
pub mod jwks;
pub mod jws;
pub mod revocation;
mod verifier;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod worker;

pub use claims::AccessClaims;
pub use error::{AuthError, ErrorResponse};
pub use jwks::{Alg, Jwk};
pub use verifier::{Config, JwksResponse, SignatureVerifier, Sources, Verifier};
