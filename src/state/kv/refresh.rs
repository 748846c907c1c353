//! Refresh tokens on KV: rotation with reuse detection and the grace window, and no key
//! written twice. A rotation from generation g writes one new key, `refresh_gen:{grant}:{g+1}`
//! (the successor's hash); `grant:` is rewritten only when its lifetime must be extended (at
//! most once per half lifetime). So a client may refresh right after the code exchange, or
//! twice within a second, without KV refusing a second write to one key.
//!
//! Per refresh: the grant, its revocation marker, the presented generation's record and the
//! next one's (4 reads); one write.

use super::grants;
use super::records::{KvGrant, RefreshGeneration};
use crate::oauth::grants::rules;
use crate::state::{ids, GrantView, IssuedGrant, RefreshRotation, Refusal, StateResult};
use crate::store::{get_json, keys, put_json, Store};
use crate::token::opaque;

/// The stored hash and time of generation `g` of a grant's refresh tokens.
async fn generation(
    store: &impl Store,
    grant: &KvGrant,
    g: u64,
) -> StateResult<Option<RefreshGeneration>> {
    if g == 0 {
        return Ok(Some(RefreshGeneration {
            hash: grant.refresh_hash.clone(),
            at: grant.created_at,
            attempt: None,
        }));
    }
    Ok(get_json(store, &keys::refresh_generation(&grant.grant_id, g)).await?)
}

/// A token of this grant whose secret matches its generation's stored hash.
async fn genuine(
    store: &impl Store,
    grant: &KvGrant,
    parts: &ids::RefreshParts<'_>,
) -> StateResult<bool> {
    Ok(generation(store, grant, parts.generation)
        .await?
        .is_some_and(|g| opaque::matches_hash(parts.secret, &g.hash)))
}

/// Seconds in which a rotation whose answer was lost may be repeated by the same request.
const REPEAT_WINDOW: u64 = 60;

pub async fn rotate(store: &impl Store, r: RefreshRotation) -> StateResult<IssuedGrant> {
    let parts = ids::parse_refresh(&r.refresh_token).ok_or(Refusal::InvalidRefreshToken)?;
    let mut grant = grants::live(store, parts.grant_id, r.now)
        .await?
        .filter(|g| g.client_id == r.client_id)
        .ok_or(Refusal::InvalidRefreshToken)?;
    if !genuine(store, &grant, &parts).await? {
        return Err(Refusal::InvalidRefreshToken.into());
    }
    let next = parts.generation + 1;
    let secret = ids::successor(&grant.chain_key, parts.secret);
    // Already rotated: a retry within the grace while its successor is still current gets
    // that successor again; anything else is reuse (RFC 9700 §4.14.2).
    let repeat = match generation(store, &grant, next).await? {
        None => false,
        Some(successor) => {
            let since = r.now.saturating_sub(successor.at);
            let in_grace = r.grace > 0 && since <= r.grace;
            // The same request repeated after its answer was lost.
            let repeated =
                r.attempt.is_some() && successor.attempt == r.attempt && since <= REPEAT_WINDOW;
            if !(in_grace || repeated) || generation(store, &grant, next + 1).await?.is_some() {
                grants::revoke(store, &grant).await?;
                return Err(Refusal::RefreshReused.into());
            }
            true
        }
    };
    // Refusals below change nothing.
    let allowed = rules::still_allowed(&grant.scopes, &r.allowed_scopes)?;
    let scopes = rules::narrow(r.requested_scopes.as_deref(), &allowed)?;
    rules::check_resource(r.resource.as_deref(), grant.resource.as_deref())?;
    if !repeat {
        // Extending first: a refused write there leaves the token unrotated (retry works).
        extend(store, &mut grant, &r).await?;
        let record = RefreshGeneration {
            hash: opaque::hash(&secret),
            at: r.now,
            attempt: r.attempt.clone(),
        };
        let key = keys::refresh_generation(&grant.grant_id, next);
        put_json(store, &key, &record, Some(r.refresh_ttl.max(60))).await?;
    }
    Ok(IssuedGrant {
        grant: grant.view(),
        refresh_token: ids::refresh_token(&grant.grant_id, next, &secret),
        scopes,
        listing: None,
        evicted: Vec::new(),
    })
}

/// A refresh keeps the grant alive `REFRESH_TOKEN_TTL` from now; its record is rewritten
/// only when less than half of that is left.
async fn extend(store: &impl Store, grant: &mut KvGrant, r: &RefreshRotation) -> StateResult<()> {
    if grant.expires_at >= r.now + r.refresh_ttl / 2 {
        return Ok(());
    }
    grant.expires_at = r.now + r.refresh_ttl;
    grants::put(store, grant, r.refresh_ttl, r.now).await
}

/// The grant of a current refresh token (introspection).
pub async fn find(store: &impl Store, token: &str, now: u64) -> StateResult<Option<GrantView>> {
    let Some(parts) = ids::parse_refresh(token) else {
        return Ok(None);
    };
    let Some(grant) = grants::live(store, parts.grant_id, now).await? else {
        return Ok(None);
    };
    let current = genuine(store, &grant, &parts).await?
        && generation(store, &grant, parts.generation + 1)
            .await?
            .is_none();
    Ok(current.then(|| grant.view()))
}

/// RFC 7009 §2.1: revoking a refresh token revokes its grant. Any token of the chain counts
/// (a client revoking with a token a retry already rotated still means "log me out").
pub async fn revoke(store: &impl Store, token: &str, client_id: &str) -> StateResult<bool> {
    let Some(parts) = ids::parse_refresh(token) else {
        return Ok(false);
    };
    let Some(grant) = grants::read(store, parts.grant_id).await? else {
        return Ok(false);
    };
    let ours = grant.client_id == client_id && genuine(store, &grant, &parts).await?;
    if ours {
        grants::revoke(store, &grant).await?;
    }
    Ok(ours)
}
