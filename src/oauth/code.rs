//! Issuing authorization codes (RFC 6749 §4.1.2): opaque, 256 random bits, stored by hash
//! with a short TTL, bound to client, redirect URI, user, granted scopes and PKCE challenge.
//! The state layer issues them together with the consent that allows them.

use super::authorize_request::redirect_url;
use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::state::{CodeConsent, CodeInSession, NewCode, State};
use crate::store::Store;
use crate::token::opaque;

pub struct CodeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub sub: &'a str,
    pub scopes: Vec<String>,
    /// The sign-in an `openid` code rests on (`oauth::oidc::sign_in`); `None` otherwise.
    pub sign_in: Option<crate::state::SignIn>,
    /// RFC 8707 resource named at authorize (`oauth::resource`).
    pub resource: Option<String>,
}

/// A code for the browser's session (authorize without a page): the session and the user
/// come from storage in the same step as the code (`State::issue_code_in_session`).
pub struct SessionCodeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub resource: Option<String>,
    /// OIDC `max_age`: a session signed in earlier counts as none.
    pub signed_in_after: u64,
}

/// What [`issue_in_session`] found: the session, if live, and the redirect URL delivering a
/// code when the remembered consent covered the request.
pub struct InSession {
    pub session: Option<crate::model::Session>,
    pub redirect: Option<String>,
}

/// A secret derived from `input` with a key only this deployment has (the active signing
/// key's private part): the same request sent again derives the same secret, which is what
/// makes a retry after a lost answer get the same result, while the secret stays
/// unguessable from `input`. Used for the code of a consent form (from its request id) and
/// for a code's first refresh token (from the code). Only hashes of either are stored.
pub fn derived_secret<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    purpose: &str,
    input: &str,
) -> Result<String, OAuthError> {
    use hmac::{Hmac, Mac};
    let key = ctx
        .config
        .signing_keys
        .active()
        .private_jwk
        .as_ref()
        .and_then(|jwk| jwk.get("d"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| OAuthError::server("the active signing key has no private part"))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
        .map_err(|_| OAuthError::server("derivation key"))?;
    mac.update(b"edge-oauth ");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(input.as_bytes());
    Ok(crate::b64::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The session `at` names and, if the remembered consent covers the request, a code for it.
pub async fn issue_in_session<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    at: &crate::state::SessionAt,
    request: SessionCodeRequest<'_>,
) -> Result<InSession, OAuthError> {
    let code = NewCode {
        // Filled in from the session by storage.
        sub: String::new(),
        client_id: request.client_id.to_string(),
        redirect_uri: request.redirect_uri.to_string(),
        scopes: request.scopes,
        code_challenge: request.code_challenge.to_string(),
        secret: opaque::new_secret(ctx.crypto)?,
        id_nonce: opaque::random_b64(ctx.crypto, 9)?,
        now: ctx.now,
        expires_at: ctx.now + ctx.config.auth_code_ttl,
        sign_in: None,
        resource: request.resource,
    };
    let found = ctx
        .state()
        .issue_code_in_session(
            at,
            CodeInSession {
                code,
                nonce: request.nonce,
                signed_in_after: request.signed_in_after,
            },
        )
        .await?;
    let redirect = found.code.map(|code| {
        redirect_url(
            request.redirect_uri,
            &[("code", &code)],
            request.state,
            &ctx.config.issuer,
        )
    });
    Ok(InSession {
        session: found.session,
        redirect,
    })
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
        secret: match &consent {
            CodeConsent::Approved { request_id, .. } => {
                derived_secret(ctx, "consent form code", request_id)?
            }
            CodeConsent::Remembered => opaque::new_secret(ctx.crypto)?,
        },
        id_nonce: opaque::random_b64(ctx.crypto, 9)?,
        now: ctx.now,
        expires_at: ctx.now + ctx.config.auth_code_ttl,
        sign_in: request.sign_in,
        resource: request.resource,
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
