//! `GET /.well-known/openid-configuration`: OpenID Connect Discovery 1.0 §3.
//!
//! The RFC 8414 document (`metadata`) with the OpenID Connect members added, so the two agree
//! on every member they share by construction; same caching and CORS.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::http::Response;
use crate::oauth::oidc;
use crate::store::Store;
use serde_json::{json, Value};

/// Claims the provider can put in an ID token (Discovery §3 `claims_supported`).
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "azp",
    "iat",
    "exp",
    "auth_time",
    "nonce",
    "at_hash",
    "sid",
    "name",
    "picture",
    "email",
    "email_verified",
];

pub fn document<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Value {
    let mut doc = super::metadata::document(ctx);
    let algs: Vec<&str> = ctx
        .config
        .signing_keys
        .signing_algs()
        .into_iter()
        .filter(|a| oidc::ID_TOKEN_ALGS.contains(a))
        .collect();
    let members = json!({
        "userinfo_endpoint": ctx.config.url(super::userinfo::PATH),
        // OpenID Connect RP-Initiated Logout 1.0 §2.1.
        "end_session_endpoint": ctx.config.url("/api/oauth/logout"),
        // Discovery §3: pairwise subjects are not offered; `sub` is the account's id.
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "claims_supported": CLAIMS_SUPPORTED,
        // Core §3.1.2.1 (`oauth::oidc::prompt`).
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        // Core §6: request objects are refused (`request_not_supported`,
        // `request_uri_not_supported`); Discovery §3 defaults the latter to true, so say so.
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    if let (Value::Object(doc), Value::Object(members)) = (&mut doc, members) {
        doc.extend(members);
    }
    doc
}

pub fn handle<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Response {
    Response::json(200, &document(ctx)).with_header("cache-control", "public, max-age=3600")
}
