//! Revocations that edge APIs see. The provider's own checks (introspection, refresh) read
//! grant state; an edge API verifying a JWT (`crates/edge-verifier`) reads only KV, in ONE
//! bulk `get` per request of: `revoked_jti:{jti}`, `revoked_grant:{gid}`,
//! `revoked_client:{client_id}`, `revoked_user:{b64(sub)}` and `revoked_pair:{b64(sub)}:{client_id}`.
//! Each revocation path writes the one marker that covers what it revoked, after the state
//! transition, for as long as an access token it covers can still be accepted.
//!
//! Ordering (a user who revokes an app and re-authorizes it in the same second must get a
//! working token): the time markers hold the revocation's instant in milliseconds, and tokens
//! carry `iat_ms` (`oauth::issue`); a token issued at or before the marker is dead. Grant and
//! client markers need no time: a grant id or client id is never live again once revoked.
//!
//! A marker that cannot be written is a 503 with `Retry-After` (the revocation itself has
//! happened, and repeating the request repeats the marker write); never a 500.

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::state::ids;
use crate::store::{keys, Store, MIN_TTL_SECONDS};

/// Slack past the access-token life: edge APIs accept `exp` with 30 s of clock skew.
const EDGE_LEEWAY: u64 = 60;

fn ttl<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> u64 {
    ctx.config
        .access_token_ttl
        .saturating_add(EDGE_LEEWAY)
        .max(MIN_TTL_SECONDS)
}

async fn put<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    key: &str,
    value: &str,
) -> Result<(), OAuthError> {
    ctx.store
        .put(key, value, Some(ttl(ctx)))
        .await
        .map_err(|e| {
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "The revocation is done but not yet visible to every API; retry",
            )
            .with_debug(format!("revocation marker: {}", e.0))
        })
}

/// Every access token of one grant (RFC 7009 revocation of its refresh token, refresh-token
/// reuse, an admin revoking the grant).
pub async fn grant_revoked<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    grant_id: &str,
) -> Result<(), OAuthError> {
    put(ctx, &keys::revoked_grant(grant_id), "").await
}

/// The grant a refresh token names, if it is one of ours in shape.
pub async fn refresh_token_revoked<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    refresh_token: &str,
) -> Result<(), OAuthError> {
    match ids::parse_refresh(refresh_token) {
        Some(parts) => grant_revoked(ctx, parts.grant_id).await,
        None => Ok(()),
    }
}

/// Every access token of a deleted client.
pub async fn client_revoked<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client_id: &str,
) -> Result<(), OAuthError> {
    put(ctx, &keys::revoked_client(client_id), "").await
}

/// Every access token `sub` gave so far (revoke-all, account deletion).
pub async fn user_revoked<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
) -> Result<(), OAuthError> {
    put(ctx, &keys::revoked_user(sub), &ctx.now_ms.to_string()).await
}

/// Every access token `sub` gave `client_id` so far ("revoke access").
pub async fn pair_revoked<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    client_id: &str,
) -> Result<(), OAuthError> {
    put(
        ctx,
        &keys::revoked_pair(sub, client_id),
        &ctx.now_ms.to_string(),
    )
    .await
}
