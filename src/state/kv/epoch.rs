//! Revoke-all on KV in one write, whatever the user has: `user_revoked:{sub}` holds the
//! second of the user's last revoke-all (its epoch). Grants created, codes issued and
//! consents given at or before it are dead; every use of one reads the epoch (one read).
//!
//! Second granularity, made exact for what has read it: something created in the same
//! second as a revoke-all but before it is dead with it; a write that has read the epoch
//! happened after the revocation, so it stamps itself `epoch + 1` at least ([`stamp`]) and
//! lives. A later revoke-all always moves the epoch forward, so it kills those too.

use super::grants::MARKER_TTL;
use crate::state::StateResult;
use crate::store::{keys, Store};

/// The user's epoch; 0 when they never revoked all.
pub async fn read(store: &impl Store, sub: &str) -> StateResult<u64> {
    let value = store.get(&keys::user_revoked(sub)).await?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// The time to record for something created at `now` by a request that read `epoch`.
pub fn stamp(epoch: u64, now: u64) -> u64 {
    now.max(epoch.saturating_add(1))
}

/// Revokes everything `sub` has so far: moves the epoch to `now`, or past the stored one
/// (a second revoke-all must also kill what was stamped after the first). One read, one
/// write. The marker outlives every grant it kills (`MARKER_TTL`).
pub async fn advance(store: &impl Store, sub: &str, now: u64) -> StateResult<u64> {
    let epoch = stamp(read(store, sub).await?, now);
    let value = epoch.to_string();
    store
        .put(&keys::user_revoked(sub), &value, Some(MARKER_TTL))
        .await?;
    Ok(epoch)
}
