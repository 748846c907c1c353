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
    opaque::hash(&format!("address:{}", address_subject(address)))
}

/// What a per-address limit counts: an IPv4 address as it is, an IPv6 address by its /64
/// (one subscriber's prefix: anyone holding one can use any of its 2^64 addresses, so
/// counting them one by one would not limit anything), an IPv4-mapped IPv6 address as its
/// IPv4 address. Anything else (absent locally, or not an address) as given.
pub fn address_subject(address: &str) -> String {
    use std::net::IpAddr;
    match address.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => address.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_by_subscriber() {
        let cases = [
            ("203.0.113.7", "203.0.113.7"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
            ("2001:0db8:0001:0002::1", "2001:db8:1:2::/64"),
            ("2001:DB8:1:2:ffff::9", "2001:db8:1:2::/64"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("", ""),
            ("not an address", "not an address"),
        ];
        for (address, subject) in cases {
            assert_eq!(address_subject(address), subject, "{address}");
        }
        // Two addresses of one /64 share a count; the next /64 does not.
        assert_eq!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:3::1")
        );
        assert_eq!(
            address_key("::ffff:198.51.100.1"),
            address_key("198.51.100.1")
        );
    }
}
