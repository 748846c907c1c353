//! Throttling password guessing at the built-in login: failed sign-ins are counted per account
//! and per client address in KV; past the limit, sign-in is refused for the rest of the window
//! without running the (deliberately expensive) password KDF.
//!
//! KV counts are approximate across locations (no atomic increment), which is enough to turn
//! unlimited guessing into a handful per window. The flip side, an attacker locking an account
//! out for 15 minutes by failing on purpose, is the usual trade-off of per-account limits.

use crate::error::OAuthError;
use crate::store::{keys, Store};
use crate::token::opaque;

/// Failed sign-ins allowed per account within the window.
pub const MAX_ACCOUNT_FAILURES: u32 = 10;
/// Failed sign-ins allowed per client address within the window (several users may share one).
pub const MAX_ADDRESS_FAILURES: u32 = 50;
/// Seconds a failure is remembered (from the latest one).
pub const WINDOW_SECONDS: u64 = 900;

/// What a sign-in attempt is counted against.
pub struct Subjects {
    account: String,
    address: Option<String>,
}

impl Subjects {
    pub fn new(email: &str, address: Option<&str>) -> Subjects {
        Subjects {
            account: keys::login_failures(&opaque::hash(&format!("account:{email}"))),
            address: address.map(|a| keys::login_failures(&opaque::hash(&format!("address:{a}")))),
        }
    }
}

/// Failures counted under `key` so far (also the admin-token throttle's count).
pub async fn count(store: &impl Store, key: &str) -> Result<u32, OAuthError> {
    Ok(store
        .get(key)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Whether sign-in is paused for this account or address.
pub async fn is_locked(store: &impl Store, s: &Subjects) -> Result<bool, OAuthError> {
    if count(store, &s.account).await? >= MAX_ACCOUNT_FAILURES {
        return Ok(true);
    }
    match &s.address {
        Some(key) => Ok(count(store, key).await? >= MAX_ADDRESS_FAILURES),
        None => Ok(false),
    }
}

pub async fn record_failure(store: &impl Store, s: &Subjects) -> Result<(), OAuthError> {
    for key in std::iter::once(&s.account).chain(s.address.as_ref()) {
        add_failure(store, key).await?;
    }
    Ok(())
}

/// Counts one more failure under `key`, for [`WINDOW_SECONDS`] from now.
pub async fn add_failure(store: &impl Store, key: &str) -> Result<(), OAuthError> {
    let n = count(store, key).await?.saturating_add(1);
    store.put(key, &n.to_string(), Some(WINDOW_SECONDS)).await?;
    Ok(())
}

/// A successful sign-in clears the account's count (not the address's: one good password
/// must not reset guessing against other accounts from the same place).
pub async fn clear_account(store: &impl Store, s: &Subjects) -> Result<(), OAuthError> {
    store.delete(&s.account).await?;
    Ok(())
}
