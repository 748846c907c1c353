//! Counting sign-in attempts (password guessing).
//!
//! Each attempt is counted *before* the password is checked, so the limit bounds how many
//! passwords are evaluated, not how many failures were recorded after the fact. A successful
//! sign-in clears the account's count: the owner proved they know the password, and
//! otherwise an attacker could keep the real user locked out by failing on purpose between
//! the user's sign-ins. The address count is not cleared (one good password must not reset
//! guessing against other accounts from the same place).
//!
//! Per account: exact on the durable backend (the account's object counts); on KV each
//! attempt is its own KV key (no key is written twice, which KV would refuse within a
//! second) and the count is a bounded listing: parallel attempts in one location may
//! overshoot by the few that list before the others write. Per address (both backends, KV,
//! approximate abuse control): only failures are counted, so a busy shared address (an
//! office, a mobile network) is not locked out by its successful sign-ins.

use super::StateResult;
use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::store::{keys, Store};
use crate::token::opaque;

/// Attempts evaluated per account within the window.
pub const MAX_ACCOUNT_ATTEMPTS: u32 = 10;
/// Attempts evaluated per client address within the window (several users may share one).
pub const MAX_ADDRESS_ATTEMPTS: u32 = 50;
/// Seconds an attempt is remembered.
pub const WINDOW_SECONDS: u64 = 900;

/// The throttle key of an account (lower-cased email) or an address.
pub fn account_key(email: &str) -> String {
    opaque::hash(&format!("account:{email}"))
}

pub fn address_key(address: &str) -> String {
    opaque::hash(&format!("address:{address}"))
}

/// Counts one attempt against `subject` if it has fewer than `max` in the window. Attempt
/// keys carry their second, so a later clear (a marker with its own second) can discount
/// them without deleting each (a delete is a write KV may refuse within the same second).
pub async fn kv_count(store: &impl Store, subject: &str, max: u32, now: u64) -> StateResult<bool> {
    if kv_counted(store, subject).await? >= max as usize {
        return Ok(false);
    }
    kv_record(store, subject, now).await?;
    Ok(true)
}

/// Attempts (or failures) recorded against `subject` since its last clear.
pub async fn kv_counted(store: &impl Store, subject: &str) -> StateResult<usize> {
    let prefix = keys::login_failures(&format!("{subject}:"));
    let cleared_at: u64 = store
        .get(&keys::login_cleared(subject))
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let seen = store.list(&prefix, None, 1000).await?;
    Ok(seen
        .keys
        .iter()
        .filter(|k| attempt_second(&k[prefix.len()..]) >= cleared_at)
        .count())
}

/// One more attempt (or failure) against `subject`: its own key, never a rewrite.
pub async fn kv_record(store: &impl Store, subject: &str, now: u64) -> StateResult<()> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| super::StateError::Failed(e.to_string()))?;
    let prefix = keys::login_failures(&format!("{subject}:"));
    let key = format!("{prefix}{now:09x}{}", B64.encode(nonce));
    store.put(&key, "", Some(WINDOW_SECONDS)).await?;
    Ok(())
}

fn attempt_second(suffix: &str) -> u64 {
    suffix
        .get(..9)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// Attempts up to this second no longer count. Best effort: if KV refuses a second clear in
/// the same second, the count stays higher, which is the safe side.
pub async fn kv_clear(store: &impl Store, account: &str, now: u64) -> StateResult<()> {
    let key = keys::login_cleared(account);
    let _ = store
        .put(&key, &(now + 1).to_string(), Some(WINDOW_SECONDS))
        .await;
    Ok(())
}
