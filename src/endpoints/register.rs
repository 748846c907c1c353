//! `POST /api/oauth/register`: RFC 7591 dynamic client registration, when
//! `DYNAMIC_REGISTRATION=open` (otherwise `404`, and the metadata does not advertise it).
//!
//! Anyone may register, so only public clients (PKCE, no secret) are created: a confidential
//! one would hand a secret to whoever asked, which proves nothing. The field rules are the
//! admin API's (`client_registry`); a missing `token_endpoint_auth_method` means `none` here
//! (RFC 7591 §2's default, `client_secret_basic`, is not on offer), a missing `scope` the whole
//! catalog. The client is an ordinary one (admin listing, deletion), created through
//! `state::clients` and marked unverified on the consent page. At most 10 registrations per
//! minute per address: the Worker checks the rate-limiting binding before this runs
//! (`worker::mod`).

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::endpoints::admin::clients::draft;
use crate::endpoints::json::object_body;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::oauth::client_metadata::{grant_types, metadata_error};
use crate::oauth::client_registry as registry;
use crate::state::clients as client_ops;
use crate::store::Store;
use serde_json::json;

pub const PATH: &str = "/api/oauth/register";

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    if !ctx.config.dynamic_registration {
        return Err(OAuthError::not_found(format!("No endpoint at {PATH}")));
    }
    let mut draft = draft(&object_body(req)?)?;
    match draft.token_endpoint_auth_method.as_deref() {
        None | Some("none") => draft.token_endpoint_auth_method = Some("none".into()),
        Some(_) => {
            return Err(metadata_error(
                "Only public clients may register here: token_endpoint_auth_method must be none (PKCE, no secret)",
            ))
        }
    }
    // As the admin API: an algorithm the provider has no key for would fail every sign-in.
    crate::oauth::oidc::client::validate_id_token_alg(
        draft.id_token_signed_response_alg.clone(),
        &ctx.config.signing_keys,
    )?;
    if draft.scope.is_none() {
        draft.scope = Some(ctx.config.scopes.names().collect::<Vec<_>>().join(" "));
    }
    let mut client = registry::build(
        draft,
        &ctx.config.scopes,
        registry::new_client_id(ctx.crypto)?,
        None,
        ctx.now,
    )?;
    // Nobody vouches for a self-registered client: the consent page says so.
    client.verified = Some(false);
    client_ops::create(ctx.store, &ctx.state(), &client, None, ctx.now).await?;
    // RFC 7591 §3.2.1: the registered metadata with `client_id` and `client_id_issued_at`;
    // absent members are omitted, never `null` (clients validate this document strictly,
    // and need `redirect_uris` echoed). A `Value`, not a derived struct: smaller bundle.
    let mut body = json!({
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "scope": client.scopes.join(" "),
        "token_endpoint_auth_method": "none",
        "grant_types": grant_types(false),
        "response_types": ["code"],
    });
    for (name, value) in [
        ("client_uri", &client.client_uri),
        ("logo_uri", &client.logo_uri),
    ] {
        if let Some(value) = value {
            body[name] = json!(value);
        }
    }
    if !client.post_logout_redirect_uris.is_empty() {
        body["post_logout_redirect_uris"] = json!(client.post_logout_redirect_uris);
    }
    if let Some(alg) = &client.id_token_signed_response_alg {
        body["id_token_signed_response_alg"] = json!(alg);
    }
    Ok(Response::json(201, &body).no_store())
}

/// The answer when an address registered too often (the Worker's rate limit).
pub fn too_many() -> OAuthError {
    OAuthError::new(
        ErrorCode::TooManyRequests,
        "Too many registrations from this address; retry in a minute",
    )
}
