//! Minting the token response (RFC 6749 §5.1): an RFC 9068 access token beside the refresh
//! token the state layer issued.

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::oauth::oidc::{self, id_token};
use crate::state::{GrantView, IssuedGrant};
use crate::store::Store;
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
    /// Absent for a machine token (`client_credentials`): it belongs to no grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<&'a str>,
    /// `iat` in milliseconds: edge APIs order it against a user's revocation time
    /// (`oauth::revocation`), so a token issued in the revocation's second, after it, lives.
    pub iat_ms: u64,
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
    scope: &'a str,
    /// OpenID Connect Core §3.1.3.3: with every response whose scope holds `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// Which grant a token response answers: only a code's ID token carries the `nonce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    Code,
    Refresh,
}

/// Signs an access token for `scopes` of `grant`.
pub async fn access_token<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    grant: &GrantView,
    scopes: &[String],
) -> Result<String, OAuthError> {
    let subject = Subject {
        sub: &grant.sub,
        client_id: &grant.client_id,
        grant_id: Some(&grant.grant_id),
        resource: grant.resource.as_deref(),
    };
    sign_access_token(ctx, subject, scopes).await
}

/// Whom an access token is for: a user's grant, or a client acting for itself.
pub struct Subject<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
    pub grant_id: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// Signs an RFC 9068 access token; `aud` is the resource, else `ACCESS_TOKEN_AUDIENCE`.
pub async fn sign_access_token<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    subject: Subject<'_>,
    scopes: &[String],
) -> Result<String, OAuthError> {
    let claims = AccessClaims {
        iss: &ctx.config.issuer,
        sub: subject.sub,
        aud: crate::oauth::resource::audience(subject.resource, ctx.config),
        client_id: subject.client_id,
        scope: scopes.join(" "),
        iat: ctx.now,
        exp: ctx.now + ctx.config.access_token_ttl,
        jti: opaque::random_b64(ctx.crypto, 16)?,
        gid: subject.grant_id,
        iat_ms: ctx.now_ms,
    };
    jwt::sign(
        ctx.crypto,
        ctx.config.signing_keys.active(),
        jwt::ACCESS_TOKEN_TYP,
        &claims,
    )
    .await
}

/// The token response for a grant the state layer just issued or rotated: a new access
/// token for its scopes and the refresh token it returned, with `Cache-Control: no-store`.
/// The refresh token keeps the grant's full scope (RFC 6749 §6); a narrower request
/// narrows only the access token.
pub async fn token_response<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &crate::model::Client,
    issued: IssuedGrant,
    answering: Answering,
) -> Result<Response, OAuthError> {
    let access_token = access_token(ctx, &issued.grant, &issued.scopes).await?;
    let scope = issued.scopes.join(" ");
    let id_token = match &issued.grant.sign_in {
        Some(sign_in) if oidc::is_openid(&issued.scopes) => {
            let key = oidc::id_token_key(ctx.config, oidc::client::id_token_alg(client))?;
            let input = id_token::IdTokenInput {
                issuer: &ctx.config.issuer,
                grant: &issued.grant,
                sign_in,
                scopes: &issued.scopes,
                access_token: &access_token,
                with_nonce: answering == Answering::Code,
                now: ctx.now,
                ttl: ctx.config.access_token_ttl,
            };
            Some(id_token::sign(ctx.crypto, key, input).await?)
        }
        _ => None,
    };
    let body = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ctx.config.access_token_ttl,
        refresh_token: issued.refresh_token,
        scope: &scope,
        id_token,
    };
    Ok(Response::json(200, &body).no_store())
}
