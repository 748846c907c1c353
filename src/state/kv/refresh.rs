//! Refresh tokens on KV: rotation with reuse detection and the grace window; one read of the
//! grant and its marker, one write of the grant per refresh.

use super::grants;
use super::records::KvGrant;
use crate::oauth::grants::rules;
use crate::state::ids::{standing, Standing};
use crate::state::{ids, GrantView, IssuedGrant, RefreshRotation, Refusal, StateResult};
use crate::store::{keys, put_json, ttl_until, Store};
use crate::token::opaque;

pub async fn rotate(store: &impl Store, r: RefreshRotation) -> StateResult<IssuedGrant> {
    let parts = ids::parse_refresh(&r.refresh_token).ok_or(Refusal::InvalidRefreshToken)?;
    let mut grant = grants::live(store, parts.grant_id, r.now)
        .await?
        .filter(|g| g.client_id == r.client_id)
        .ok_or(Refusal::InvalidRefreshToken)?;
    let position = standing(
        &grant.chain_key,
        &grant.refresh_hash,
        grant.generation,
        grant.rotated_at,
        &parts,
        r.now,
    )
    .ok_or(Refusal::InvalidRefreshToken)?;
    let repeat = match position {
        Standing::Current => false,
        Standing::Previous { since } if r.grace > 0 && since <= r.grace => true,
        _ => {
            grants::revoke(store, &grant, r.now).await?;
            return Err(Refusal::RefreshReused.into());
        }
    };
    // Refusals below change nothing.
    let allowed = rules::still_allowed(&grant.scopes, &r.allowed_scopes)?;
    let scopes = rules::narrow(r.requested_scopes.as_deref(), &allowed)?;
    let secret = ids::successor(&grant.chain_key, parts.secret);
    let generation = parts.generation + 1;
    if !repeat {
        grant.refresh_hash = opaque::hash(&secret);
        grant.generation = generation;
        grant.rotated_at = r.now;
        grant.expires_at = r.now + r.refresh_ttl;
        put_grant(store, &grant, r.now).await?;
        if grant.indexed_until < r.now + r.refresh_ttl / 2 {
            grant.indexed_until = grant.expires_at;
            grants::write_indexes(store, &grant, r.now).await?;
        }
    }
    Ok(IssuedGrant {
        grant: grant.view(),
        refresh_token: ids::refresh_token(&grant.grant_id, generation, &secret),
        scopes,
    })
}

async fn put_grant(store: &impl Store, grant: &KvGrant, now: u64) -> StateResult<()> {
    let ttl = ttl_until(grant.expires_at, now);
    put_json(store, &keys::grant(&grant.grant_id), grant, Some(ttl)).await?;
    Ok(())
}

/// The grant of a current refresh token (introspection).
pub async fn find(store: &impl Store, token: &str, now: u64) -> StateResult<Option<GrantView>> {
    let Some(parts) = ids::parse_refresh(token) else {
        return Ok(None);
    };
    let Some(grant) = grants::live(store, parts.grant_id, now).await? else {
        return Ok(None);
    };
    let current = parts.generation == grant.generation
        && opaque::matches_hash(parts.secret, &grant.refresh_hash);
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
    let ours = grant.client_id == client_id
        && ids::steps_to_current(
            &grant.chain_key,
            parts.secret,
            parts.generation,
            grant.generation,
            &grant.refresh_hash,
        )
        .is_some();
    if ours {
        grants::revoke(store, &grant, grant.created_at).await?;
    }
    Ok(ours)
}
