//! `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata.
//! Lists only endpoints that exist; grows as endpoints arrive.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::http::Response;
use crate::store::Store;
use serde_json::json;

pub fn document<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> serde_json::Value {
    let c = ctx.config;
    let scopes: Vec<&str> = c.scopes.names().collect();
    let mut document = json!({
        "issuer": c.issuer,
        "authorization_endpoint": c.url("/api/oauth/authorize"),
        "token_endpoint": c.url("/api/oauth/token"),
        "revocation_endpoint": c.url("/api/oauth/revoke"),
        "introspection_endpoint": c.url("/api/oauth/introspect"),
        "jwks_uri": c.url("/.well-known/jwks.json"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        // RFC 9207: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        // RFC 7009 §2.1: public clients may revoke their own tokens.
        "revocation_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        // RFC 7662 §2.1: only confidential clients may introspect.
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post"],
    });
    if c.client_metadata_documents != crate::oauth::client_document::Mode::Off {
        document["client_id_metadata_document_supported"] = true.into();
    }
    // RFC 8414 §2: advertised only when registration is open (RFC 7591).
    if c.dynamic_registration {
        document["registration_endpoint"] = c.url(super::register::PATH).into();
    }
    document
}

pub fn handle<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Response {
    Response::json(200, &document(ctx)).with_header("cache-control", "public, max-age=3600")
}
