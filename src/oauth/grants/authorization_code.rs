//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6).
//!
//! The code is marked redeemed before the request is checked further, so a wrong
//! `redirect_uri` or `code_verifier` consumes it (an attacker gets one guess). A second
//! redemption revokes the grant the first one created (RFC 6749 §4.1.2).

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::model::{Client, Grant};
use crate::oauth::params::Params;
use crate::oauth::{issue, pkce};
use crate::store::{grants, Store};
use crate::token::opaque;

pub async fn exchange<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let code = params.require("code")?;
    let code_hash = opaque::hash(code);
    let invalid = || OAuthError::invalid_grant("Invalid or expired authorization code");
    let mut record = grants::get_code(ctx.store, &code_hash)
        .await?
        .ok_or_else(invalid)?;
    if record.expires_at <= ctx.now {
        return Err(invalid());
    }
    // Bound to the client it was issued to; another client learns nothing and changes nothing.
    if record.client_id != client.client_id {
        return Err(invalid());
    }
    if record.redeemed {
        grants::revoke_grant_by_id(ctx.store, &record.grant_id).await?;
        return Err(OAuthError::invalid_grant(
            "Authorization code was already used; the tokens issued for it are revoked",
        ));
    }
    record.redeemed = true;
    grants::put_code(ctx.store, &code_hash, &record, ctx.now).await?;

    // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
    if params.get("redirect_uri") != Some(record.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = params.get("code_verifier").unwrap_or("");
    if pkce::validate_verifier(verifier).is_err() || !pkce::verify(verifier, &record.code_challenge)
    {
        return Err(OAuthError::invalid_grant("Invalid code_verifier"));
    }

    // Consent withdrawn since the code was issued (connected apps, logout with revoke): the code
    // must not bring the grant back.
    let consent = grants::get_consent(ctx.store, &record.sub, &record.client_id).await?;
    if !consent.is_some_and(|c| record.scopes.iter().all(|s| c.scopes.contains(s))) {
        return Err(OAuthError::invalid_grant(
            "The user withdrew consent for this client",
        ));
    }
    let scopes = super::still_allowed(&record.scopes, client, ctx.config)?;
    grants::make_room_for_grant(ctx.store, &record.sub, &record.client_id).await?;

    let grant = Grant {
        grant_id: record.grant_id.clone(),
        client_id: record.client_id.clone(),
        sub: record.sub.clone(),
        scopes: scopes.clone(),
        created_at: ctx.now,
        refresh_hash: None,
        expires_at: ctx.now + ctx.config.refresh_token_ttl,
    };
    issue::token_response(ctx, grant, &scopes).await
}
