//! Checking an access token we issued: signature with our keys, our issuer, expiry, the
//! revocation list (RFC 7009) and whether its grant still exists. Used by introspection and
//! revocation.

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::state::{GrantView, State};
use crate::store::{keys, Store, MIN_TTL_SECONDS};
use crate::token::jwt;
use serde_json::{Map, Value};

/// The claims of a token whose signature and issuer check out (it may still be expired or
/// revoked: see [`is_active`]).
pub async fn verified_claims<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    token: &str,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let Ok(verified) = jwt::verify(ctx.crypto, &ctx.config.signing_keys, token).await? else {
        return Ok(None);
    };
    let ours = verified.header.get("typ").and_then(Value::as_str) == Some(jwt::ACCESS_TOKEN_TYP)
        && verified.claims.get("iss").and_then(Value::as_str) == Some(ctx.config.issuer.as_str());
    Ok(ours.then_some(verified.claims))
}

pub fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> &'a str {
    claims.get(name).and_then(Value::as_str).unwrap_or("")
}

pub fn exp(claims: &Map<String, Value>) -> u64 {
    claims.get("exp").and_then(Value::as_u64).unwrap_or(0)
}

/// A machine token (`client_credentials`) is signed without `gid`: it names no user and has
/// no grant.
pub fn is_machine_token(claims: &Map<String, Value>) -> bool {
    !claims.contains_key("gid")
}

/// Unexpired, not on the revocation list, its client still registered, its grant live.
pub async fn is_active<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    claims: &Map<String, Value>,
) -> Result<bool, OAuthError> {
    // A machine token has no grant: it lives until it expires, is revoked by `jti`, or its
    // client is deleted.
    if is_machine_token(claims) {
        return live_token(ctx, claims).await;
    }
    Ok(active_grant(ctx, claims).await?.is_some())
}

/// Unexpired, not on the revocation list, and its client still registered.
async fn live_token<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    claims: &Map<String, Value>,
) -> Result<bool, OAuthError> {
    let jti = claim(claims, "jti");
    if exp(claims) <= ctx.now || jti.is_empty() || jti.len() > 64 {
        return Ok(false);
    }
    if ctx.store.get(&keys::revoked_jti(jti)).await?.is_some() {
        return Ok(false);
    }
    // A deleted client's tokens die with it (no per-grant work at deletion). A client named
    // by a metadata document cannot be deleted, and its cached copy may have expired.
    let client_id = claim(claims, "client_id");
    Ok(crate::oauth::client_document::is_document_id(client_id)
        || crate::store::clients::get(ctx.store, client_id)
            .await?
            .is_some())
}

/// The live grant of an active user token ([`is_active`]); `None` when the token is not active
/// (a revoked grant, a deleted user's grants, a deleted client, a revoked or expired token) or
/// has no grant (a machine token).
pub async fn active_grant<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    claims: &Map<String, Value>,
) -> Result<Option<GrantView>, OAuthError> {
    if is_machine_token(claims) || !live_token(ctx, claims).await? {
        return Ok(None);
    }
    let grant = ctx.state().get_grant(claim(claims, "gid"), ctx.now).await?;
    // The token's own `sub` and client must be the grant's (a token is minted from it).
    Ok(
        grant
            .filter(|g| g.sub == claim(claims, "sub") && g.client_id == claim(claims, "client_id")),
    )
}

/// Puts the token's `jti` on the revocation list for the rest of its life.
pub async fn revoke<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    claims: &Map<String, Value>,
) -> Result<(), OAuthError> {
    let jti = claim(claims, "jti");
    let remaining = exp(claims).saturating_sub(ctx.now);
    if remaining == 0 || jti.is_empty() || jti.len() > 64 {
        return Ok(());
    }
    let ttl = remaining.max(MIN_TTL_SECONDS);
    ctx.store
        .put(&keys::revoked_jti(jti), "", Some(ttl))
        .await?;
    Ok(())
}
