//! `POST /api/oauth/introspect` (RFC 7662). Only confidential clients may ask (a public client
//! gets 401), and only about their own tokens unless configured in `RESOURCE_SERVERS`.
//! Anything not active, unknown or not the caller's to see is exactly `{"active": false}`.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::{access_token, client_auth, params::Params};
use crate::state::State;
use crate::store::Store;
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
    let Some(grant) = ctx.state().find_refresh(token, ctx.now).await? else {
        return Ok(None);
    };
    if !may_see(&grant.client_id)
        || crate::store::clients::get(ctx.store, &grant.client_id)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    Ok(Some(json!({
        "active": true,
        "scope": grant.scopes.join(" "), "client_id": grant.client_id, "sub": grant.sub,
        "exp": grant.expires_at, "iat": grant.created_at, "iss": ctx.config.issuer,
        "token_type": "refresh_token",
    })))
}
