//! Client registry: `/api/admin/clients[/{client_id}[/secret]]`, RFC 7591 field names.
//!
//! The client secret is returned on creation and on rotation only; at rest there is just its
//! SHA-256 hash.

use super::authorize;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::endpoints::json::{object_body, JsonObject};
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::http::{Method, Request, Response};
use crate::model::Client;
use crate::oauth::client_metadata::{self as meta, metadata_error};
use crate::oauth::client_registry::{self as registry, Draft};
use crate::oauth::oidc::client as oidc_client;
use crate::oauth::params::Params;
use crate::state::clients as client_ops;
use crate::store::{clients, Store};
use serde_json::{json, Value};

/// `GET` lists clients (`?owner_sub=` those one portal user registered); `POST` registers one (201).
pub async fn collection<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    if req.method == Method::Get {
        let query = Params::from_query(&req.query)?;
        let (limit, cursor) = super::page_query(&query)?;
        let (found, next) = match query.get("owner_sub") {
            // At most 25 per developer (the portal's limit): one page.
            Some(sub) => (clients::list_for_owner(ctx.store, sub).await?, None),
            None => clients::list_page(ctx.store, cursor, limit).await?,
        };
        let list: Vec<Value> = found.iter().map(view).collect();
        return Ok(Response::json(
            200,
            &json!({ "clients": list, "next_cursor": next }),
        ));
    }
    let body = object_body(req)?;
    let draft = draft(&body)?;
    oidc_client::validate_id_token_alg(
        draft.id_token_signed_response_alg.clone(),
        &ctx.config.signing_keys,
    )?;
    let mut client = registry::build(
        draft,
        &ctx.config.scopes,
        registry::new_client_id(ctx.crypto)?,
        None,
        ctx.now,
    )?;
    let secret = registry::new_secret(ctx.crypto, &mut client, ctx.now)?;
    // Admin clients have no owner: not counted, no form id.
    client_ops::create(ctx.store, &ctx.state(), &client, None, ctx.now).await?;
    Ok(Response::json(201, &with_secret(view(&client), secret)).no_store())
}

/// `GET`, `PATCH` (only the fields present change) or `DELETE` one client.
pub async fn item<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    let client = find(ctx, client_id).await?;
    match req.method {
        Method::Delete => {
            crate::oauth::revocation::client_revoked(ctx, &client.client_id).await?;
            client_ops::delete(ctx.store, &ctx.state(), &client).await?;
            Ok(Response::new(204))
        }
        Method::Patch => {
            let body = object_body(req)?;
            // Validated against what we read, then applied to the record as it is now.
            apply_patch(ctx, client, &body)?;
            let changed = client_ops::update(ctx.store, client_id, |current| {
                apply_patch(ctx, current.clone(), &body)
            })
            .await?;
            match changed {
                Some(updated) => Ok(Response::json(200, &view(&updated?))),
                None => Err(gone(client_id)),
            }
        }
        _ => Ok(Response::json(200, &view(&client))),
    }
}

/// `POST .../secret`: a new secret, returned once; the old one stops working at once.
pub async fn rotate_secret<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    match client_ops::rotate_secret(ctx.store, ctx.crypto, client_id, ctx.now).await? {
        Some((client, secret)) => {
            Ok(Response::json(200, &with_secret(view(&client), Some(secret))).no_store())
        }
        None => Err(gone(client_id)),
    }
}

async fn find<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>, id: &str) -> Result<Client, OAuthError> {
    clients::get(ctx.store, id).await?.ok_or_else(|| gone(id))
}

fn gone(id: &str) -> OAuthError {
    OAuthError::not_found(format!("No client with client_id {}", quoted(id)))
}

/// Type errors in metadata fields are RFC 7591 `invalid_client_metadata`.
fn field<T>(r: Result<T, OAuthError>) -> Result<T, OAuthError> {
    r.map_err(|e| match e.code {
        ErrorCode::InvalidRequest => metadata_error(e.description),
        _ => e,
    })
}

/// The body of a registration as a draft; wrong JSON types are `invalid_client_metadata`.
pub fn draft(body: &JsonObject) -> Result<Draft, OAuthError> {
    Ok(Draft {
        client_name: field(body.opt_str("client_name"))?,
        description: field(body.opt_str("description"))?,
        logo_uri: field(body.opt_str("logo_uri"))?,
        client_uri: field(body.opt_str("client_uri"))?,
        redirect_uris: field(body.opt_str_array("redirect_uris"))?,
        scope: field(body.opt_str("scope"))?,
        token_endpoint_auth_method: field(body.opt_str("token_endpoint_auth_method"))?,
        grant_types: field(body.opt_str_array("grant_types"))?,
        post_logout_redirect_uris: field(body.opt_str_array("post_logout_redirect_uris"))?,
        id_token_signed_response_alg: field(body.opt_str("id_token_signed_response_alg"))?,
    })
}

fn apply_patch<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    mut client: Client,
    body: &JsonObject,
) -> Result<Client, OAuthError> {
    if body.has("client_id") || body.has("client_secret") {
        return Err(metadata_error(
            "client_id and client_secret cannot be changed (rotate the secret with POST .../secret)",
        ));
    }
    if body.has("client_name") {
        let name = field(body.opt_str("client_name"))?.unwrap_or_default();
        client.client_name = meta::validate_name(&name)?;
    }
    if body.has("description") {
        client.description = meta::validate_description(field(body.opt_str("description"))?)?;
    }
    if body.has("logo_uri") {
        client.logo_uri = meta::validate_web_url("logo_uri", field(body.opt_str("logo_uri"))?)?;
    }
    if body.has("client_uri") {
        client.client_uri =
            meta::validate_web_url("client_uri", field(body.opt_str("client_uri"))?)?;
    }
    if body.has("redirect_uris") {
        let uris = field(body.opt_str_array("redirect_uris"))?.unwrap_or_default();
        client.redirect_uris = meta::validate_redirect_uris(uris)?;
    }
    if body.has("scope") {
        let scope = field(body.opt_str("scope"))?.unwrap_or_default();
        client.scopes = meta::validate_scope(&scope, &ctx.config.scopes)?;
    }
    if body.has("post_logout_redirect_uris") {
        let uris = field(body.opt_str_array("post_logout_redirect_uris"))?.unwrap_or_default();
        client.post_logout_redirect_uris = oidc_client::validate_post_logout_uris(uris)?;
    }
    if body.has("id_token_signed_response_alg") {
        let alg = field(body.opt_str("id_token_signed_response_alg"))?;
        client.id_token_signed_response_alg =
            oidc_client::validate_id_token_alg(alg, &ctx.config.signing_keys)?;
    }
    // The platform vouches for the application (the consent page stops saying "not verified").
    if let Some(verified) = field(body.opt_bool("verified"))? {
        client.verified = Some(verified);
    }
    if let Some(m) = field(body.opt_str("token_endpoint_auth_method"))? {
        let method = meta::validate_auth_method(&m)?;
        // Switching between public and confidential changes what the client must hold; a new
        // registration makes that explicit instead of silently minting or dropping a secret.
        if method.is_confidential() != client.is_confidential() {
            return Err(metadata_error(
                "token_endpoint_auth_method cannot change between public (\"none\") and confidential; register a new client",
            ));
        }
        client.token_endpoint_auth_method = method;
    }
    if body.has("grant_types") {
        let types = field(body.opt_str_array("grant_types"))?.unwrap_or_default();
        client.client_credentials = meta::validate_grant_types(&types, client.is_confidential())?;
    }
    client.updated_at = ctx.now;
    Ok(client)
}

/// The client as the API shows it (RFC 7591 §3.2.1). Never includes the secret hash.
pub fn view(client: &Client) -> Value {
    let mut v = json!({
        "client_id": client.client_id,
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "scope": client.scopes.join(" "),
        "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        "grant_types": meta::grant_types(client.client_credentials),
        "response_types": ["code"],
        "client_id_issued_at": client.created_at,
        "updated_at": client.updated_at,
        "verified": client.is_verified(),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    for (name, value) in [
        ("description", &client.description),
        ("logo_uri", &client.logo_uri),
        ("client_uri", &client.client_uri),
        ("owner_sub", &client.owner_sub),
        (
            "id_token_signed_response_alg",
            &client.id_token_signed_response_alg,
        ),
    ] {
        if let Some(value) = value {
            obj.insert(name.into(), Value::String(value.clone()));
        }
    }
    if !client.post_logout_redirect_uris.is_empty() {
        obj.insert(
            "post_logout_redirect_uris".into(),
            json!(client.post_logout_redirect_uris),
        );
    }
    if client.is_confidential() {
        // RFC 7591 §3.2.1: 0 means the secret does not expire.
        obj.insert("client_secret_expires_at".into(), json!(0));
    }
    v
}

fn with_secret(mut view: Value, secret: Option<String>) -> Value {
    if let (Some(secret), Some(obj)) = (secret, view.as_object_mut()) {
        obj.insert("client_secret".into(), Value::String(secret));
    }
    view
}
