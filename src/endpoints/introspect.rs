//! `POST /api/oauth/introspect` (RFC 7662). Only confidential clients may ask (a public client
//! gets 401), and only about their own tokens unless configured in `RESOURCE_SERVERS`.
//! Anything not active, unknown or not the caller's to see is exactly `{"active": false}`.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::{access_token, client_auth, params::Params};
use crate::store::{grants, Store};
use crate::token::opaque;
use serde_json::{json, Value};

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let params = Params::from_body(req, &[])?;
    let client = client_auth::from_request(ctx.store, req, &params).await?;
    if !client.is_confidential() {
        return Err(OAuthError::invalid_client().with_debug("public clients cannot introspect"));
    }
    let token = params.require("token")?;
    let may_see = |owner: &str| {
        owner == client.client_id || ctx.config.resource_servers.contains(&client.client_id)
    };
    let answer = match params.get("token_type_hint") {
        Some("refresh_token") => match refresh(ctx, token, &may_see).await? {
            Some(v) => Some(v),
            None => access(ctx, token, &may_see).await?,
        },
        _ => match access(ctx, token, &may_see).await? {
            Some(v) => Some(v),
            None => refresh(ctx, token, &may_see).await?,
        },
    };
    Ok(Response::json(200, &answer.unwrap_or_else(|| json!({"active": false}))).no_store())
}

async fn access<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    token: &str,
    may_see: &dyn Fn(&str) -> bool,
) -> Result<Option<Value>, OAuthError> {
    let Some(claims) = access_token::verified_claims(ctx, token).await? else {
        return Ok(None);
    };
    if !may_see(access_token::claim(&claims, "client_id"))
        || !access_token::is_active(ctx, &claims).await?
    {
        return Ok(None);
    }
    let c = |n: &str| claims.get(n).cloned().unwrap_or(Value::Null);
    Ok(Some(json!({
        "active": true,
        "scope": c("scope"), "client_id": c("client_id"), "sub": c("sub"),
        "exp": c("exp"), "iat": c("iat"), "iss": c("iss"), "aud": c("aud"), "jti": c("jti"),
        "token_type": "Bearer",
    })))
}

async fn refresh<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    token: &str,
    may_see: &dyn Fn(&str) -> bool,
) -> Result<Option<Value>, OAuthError> {
    let hash = opaque::hash(token);
    let Some(record) = grants::get_refresh(ctx.store, &hash).await? else {
        return Ok(None);
    };
    if record.rotated || record.expires_at <= ctx.now || !may_see(&record.client_id) {
        return Ok(None);
    }
    let Some(grant) = grants::get_grant(ctx.store, &record.grant_id).await? else {
        return Ok(None);
    };
    if grant.refresh_hash.as_deref() != Some(hash.as_str()) {
        return Ok(None);
    }
    Ok(Some(json!({
        "active": true,
        "scope": record.scopes.join(" "), "client_id": record.client_id, "sub": record.sub,
        "exp": record.expires_at, "iat": record.issued_at, "iss": ctx.config.issuer,
        "token_type": "refresh_token",
    })))
}
