//! KV backend: portal applications counted by listing the owner index, one-time forms as
//! `submission:` keys. KV has no compare-and-set: parallel creations in one location may pass
//! the limit by those that list before the others write, and a form sent twice at the same
//! instant may act twice (docs/consistency.md). The durable backend makes both exact.

use crate::state::{AppClaim, StateResult, SUBMISSION_TTL};
use crate::store::{keys, Store};
use crate::token::opaque;

pub async fn claim(
    store: &impl Store,
    sub: &str,
    submission: &str,
    limit: usize,
) -> StateResult<AppClaim> {
    let key = keys::submission(sub, &opaque::hash(submission));
    if store.get(&key).await?.is_some() {
        return Ok(AppClaim::Repeat);
    }
    // One page of `limit + 1` keys is enough to know whether the limit is reached.
    let owned = store
        .list(&keys::owner_clients_prefix(sub), None, limit + 1)
        .await?;
    if owned.keys.len() >= limit {
        return Ok(AppClaim::Full);
    }
    store.put(&key, "", Some(SUBMISSION_TTL)).await?;
    Ok(AppClaim::Claimed)
}

pub async fn claim_submission(
    store: &impl Store,
    sub: &str,
    submission: &str,
) -> StateResult<bool> {
    let key = keys::submission(sub, &opaque::hash(submission));
    if store.get(&key).await?.is_some() {
        return Ok(false);
    }
    store.put(&key, "", Some(SUBMISSION_TTL)).await?;
    Ok(true)
}
