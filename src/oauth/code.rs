//! Issuing authorization codes (RFC 6749 §4.1.2): opaque, 256 random bits, stored by hash
//! with a short TTL, bound to client, redirect URI, user, granted scopes and PKCE challenge.
//! The state layer issues them together with the consent that allows them.

use super::authorize_request::redirect_url;
use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::state::{CodeConsent, NewCode, State};
use crate::store::Store;
use crate::token::opaque;

pub struct CodeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub sub: &'a str,
    pub scopes: Vec<String>,
}

/// Issues a code if `consent` allows it and returns the redirect URL that delivers it to the
/// client; `None` when it does not (remembered consent not covering, or a consent form
/// answered already).
pub async fn issue<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    request: CodeRequest<'_>,
    consent: CodeConsent,
) -> Result<Option<String>, OAuthError> {
    let code = NewCode {
        sub: request.sub.to_string(),
        client_id: request.client_id.to_string(),
        redirect_uri: request.redirect_uri.to_string(),
        scopes: request.scopes,
        code_challenge: request.code_challenge.to_string(),
        secret: opaque::new_secret(ctx.crypto)?,
        id_nonce: opaque::random_b64(ctx.crypto, 9)?,
        now: ctx.now,
        expires_at: ctx.now + ctx.config.auth_code_ttl,
    };
    let Some(code) = ctx.state().issue_code(code, consent).await? else {
        return Ok(None);
    };
    Ok(Some(redirect_url(
        request.redirect_uri,
        &[("code", &code)],
        request.state,
        &ctx.config.issuer,
    )))
}
