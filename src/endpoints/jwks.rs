//! `GET /.well-known/jwks.json`: the public signing keys (RFC 7517 §5).
//!
//! Cached briefly: verifiers refetch when they meet an unknown `kid`, and rotation publishes
//! a new key before it signs anything, so a short max-age is enough.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::http::Response;
use crate::store::Store;

pub fn handle<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Response {
    Response::json(200, &ctx.config.signing_keys.jwks())
        .set_header("content-type", "application/jwk-set+json")
        .with_header(
            "cache-control",
            "public, max-age=300, stale-while-revalidate=60",
        )
}
