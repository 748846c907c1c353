//! Issuing authorization codes (RFC 6749 §4.1.2): opaque, 256 random bits, stored by hash
//! with a short TTL, bound to client, redirect URI, user, granted scopes, PKCE challenge and
//! the grant it will create.

use super::authorize_request::redirect_url;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::model::AuthCode;
use crate::store::{grants, Store};
use crate::token::opaque;

pub struct CodeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub sub: &'a str,
    pub scopes: Vec<String>,
}

/// Stores a new code and returns the redirect URL that delivers it to the client.
pub async fn issue<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    request: CodeRequest<'_>,
) -> Result<String, OAuthError> {
    let code = opaque::new_secret(ctx.crypto)?;
    let record = AuthCode {
        client_id: request.client_id.to_string(),
        redirect_uri: request.redirect_uri.to_string(),
        sub: request.sub.to_string(),
        scopes: request.scopes,
        code_challenge: request.code_challenge.to_string(),
        grant_id: opaque::random_b64(ctx.crypto, 16)?,
        expires_at: ctx.now + ctx.config.auth_code_ttl,
        redeemed: false,
    };
    grants::put_code(ctx.store, &opaque::hash(&code), &record, ctx.now).await?;
    Ok(redirect_url(
        request.redirect_uri,
        &[("code", &code)],
        request.state,
        &ctx.config.issuer,
    ))
}
