//! `grant_type=refresh_token` (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): every use returns a new refresh token and retires the old one;
//! presenting a retired one revokes the whole grant.
//!
//! A refused request (wrong client, wider scope) changes nothing. Two refreshes of one token
//! racing each other are discussed in `docs/consistency.md`: at most one resulting chain
//! survives, and using the other revokes the grant.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::model::Client;
use crate::oauth::params::Params;
use crate::oauth::{issue, scope};
use crate::store::{grants, Store};
use crate::token::opaque;

pub async fn exchange<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let token = params.require("refresh_token")?;
    let hash = opaque::hash(token);
    let invalid = || OAuthError::invalid_grant("Invalid or expired refresh token");
    let mut record = grants::get_refresh(ctx.store, &hash)
        .await?
        .ok_or_else(invalid)?;
    if record.client_id != client.client_id || record.expires_at <= ctx.now {
        return Err(invalid());
    }
    let grant = grants::get_grant(ctx.store, &record.grant_id)
        .await?
        .ok_or_else(invalid)?;
    // A retired token, or one that is not the grant's current token (the loser of a race),
    // means two parties hold the chain: end it for both.
    if record.rotated || grant.refresh_hash.as_deref() != Some(hash.as_str()) {
        grants::revoke_grant(ctx.store, &grant).await?;
        return Err(OAuthError::invalid_grant(
            "Refresh token was already used; the grant is revoked",
        ));
    }
    let allowed = super::still_allowed(&grant.scopes, client, ctx.config)?;
    let scopes = narrowed_scope(params, &allowed)?;
    record.rotated = true;
    grants::put_refresh(ctx.store, &hash, &record, ctx.now).await?;
    issue::token_response(ctx, grant, &scopes).await
}

/// RFC 6749 §6: an optional `scope` may narrow what was granted, never widen it.
fn narrowed_scope(params: &Params, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    let Some(text) = params.get("scope") else {
        return Ok(granted.to_vec());
    };
    let requested = scope::parse_scope(text).map_err(OAuthError::invalid_scope)?;
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {} was not granted; a refresh may only narrow the scope",
            crate::error::quoted(extra)
        )));
    }
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    // Keep the granted order.
    Ok(granted
        .iter()
        .filter(|s| requested.contains(s))
        .cloned()
        .collect())
}
