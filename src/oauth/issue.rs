//! Minting the token response (RFC 6749 §5.1): an RFC 9068 access token and a new refresh
//! token for a grant.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::model::{Grant, RefreshToken};
use crate::store::{grants, Store};
use crate::token::{jwt, opaque};
use serde::Serialize;

/// RFC 9068 §2.2 claims, plus `gid`: the grant, so revoking it deactivates the token.
#[derive(Serialize)]
pub struct AccessClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub client_id: &'a str,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub gid: &'a str,
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
    scope: &'a str,
}

/// Signs an access token for `scopes` of `grant`.
pub async fn access_token<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    grant: &Grant,
    scopes: &[String],
) -> Result<String, OAuthError> {
    let claims = AccessClaims {
        iss: &ctx.config.issuer,
        sub: &grant.sub,
        aud: &ctx.config.access_token_audience,
        client_id: &grant.client_id,
        scope: scopes.join(" "),
        iat: ctx.now,
        exp: ctx.now + ctx.config.access_token_ttl,
        jti: opaque::random_b64(ctx.crypto, 16)?,
        gid: &grant.grant_id,
    };
    jwt::sign(
        ctx.crypto,
        ctx.config.signing_keys.active(),
        jwt::ACCESS_TOKEN_TYP,
        &claims,
    )
    .await
}

/// Issues an access token for `scopes` and a fresh refresh token for `grant` (stored by hash;
/// the grant remembers which one is current), writes the grant, and returns the token
/// response with `Cache-Control: no-store`. The refresh token always carries the grant's full
/// scope (RFC 6749 §6); a narrower `scopes` narrows only the access token.
pub async fn token_response<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    mut grant: Grant,
    scopes: &[String],
) -> Result<Response, OAuthError> {
    let access_token = access_token(ctx, &grant, scopes).await?;
    let refresh_token = opaque::new_secret(ctx.crypto)?;
    let refresh_hash = opaque::hash(&refresh_token);
    let expires_at = ctx.now + ctx.config.refresh_token_ttl;
    let record = RefreshToken {
        grant_id: grant.grant_id.clone(),
        client_id: grant.client_id.clone(),
        sub: grant.sub.clone(),
        scopes: grant.scopes.clone(),
        issued_at: ctx.now,
        expires_at,
        rotated: false,
    };
    grants::put_refresh(ctx.store, &refresh_hash, &record, ctx.now).await?;
    grant.refresh_hash = Some(refresh_hash);
    grant.expires_at = grant.expires_at.max(expires_at);
    grants::put_grant(ctx.store, &grant, ctx.now).await?;
    let scope = scopes.join(" ");
    let body = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ctx.config.access_token_ttl,
        refresh_token,
        scope: &scope,
    };
    Ok(Response::json(200, &body).no_store())
}
