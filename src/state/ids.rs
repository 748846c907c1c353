//! The shapes of the opaque strings the state layer hands out, and refresh-token derivation.
//!
//! - Authorization code: `{locator}.{secret}` on the durable backend (the locator names the
//!   user's object), `{secret}` on KV. Stored as the hash of the whole string.
//! - Refresh token: `{grant_id}.{generation}.{secret}`. Successive secrets of one grant are
//!   derived: `secret(n+1) = HMAC-SHA256(chain_key, secret(n))` (base64url). So a retired
//!   token of any generation is recognised (derive forward and compare with the current
//!   hash: reuse detection, RFC 9700 §4.14.2) and, within `REFRESH_REUSE_GRACE`, the
//!   successor of the previous token can be handed out again, with only hashes at rest.
//! - Grant id: on KV `{client tag}{pair tag}{unix seconds, 9 hex}{random}` (see
//!   [`kv_grant_id`]), `{locator}.{sequence}` on the durable backend; either way a total order
//!   for the grant cap.

use crate::b64::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest opaque token or id we accept: anything longer is not ours, and is never used to
/// build a storage key (KV keys are limited to 512 bytes).
pub const MAX_TOKEN_LEN: usize = 256;

/// Most generations a retired refresh token is derived forward to recognise it.
pub const MAX_DERIVATION_STEPS: u64 = 2_000;

/// `secret(n+1)` from `secret(n)`.
pub fn successor(chain_key: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(chain_key.as_bytes()).expect("any key length");
    mac.update(secret.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Only characters our ids and secrets use (base64url, hex and the `.` separator).
pub fn is_token_text(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A number as we write it: decimal digits, no sign, no leading zero (but "0"). Every number
/// inside a token, id or cursor is read with this, so each has exactly one spelling: a
/// refresh token with a zero added to its generation is not the same token (issue 18).
pub fn canonical_u64(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let padded = text.len() > 1 && text.starts_with('0');
    if !digits || padded {
        return None;
    }
    text.parse().ok()
}

/// [`canonical_u64`] within `i64` (SQLite's integers).
pub fn canonical_i64(text: &str) -> Option<i64> {
    canonical_u64(text).and_then(|n| i64::try_from(n).ok())
}

/// A refresh token's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshParts<'a> {
    pub grant_id: &'a str,
    pub generation: u64,
    pub secret: &'a str,
}

pub fn refresh_token(grant_id: &str, generation: u64, secret: &str) -> String {
    format!("{grant_id}.{generation}.{secret}")
}

pub fn parse_refresh(token: &str) -> Option<RefreshParts<'_>> {
    if !is_token_text(token) {
        return None;
    }
    let mut parts = token.rsplitn(3, '.');
    let secret = parts.next()?;
    let generation = canonical_u64(parts.next()?)?;
    let grant_id = parts.next()?;
    (!grant_id.is_empty() && !secret.is_empty()).then_some(RefreshParts {
        grant_id,
        generation,
        secret,
    })
}

/// Whether `secret` at `generation` is a genuine token of the chain whose current token
/// (`current_generation`) hashes to `current_hash`: the steps it takes to get there, or
/// `None` (not of this chain, from the future, or too old to check).
pub fn steps_to_current(
    chain_key: &str,
    secret: &str,
    generation: u64,
    current_generation: u64,
    current_hash: &str,
) -> Option<u64> {
    let steps = current_generation.checked_sub(generation)?;
    if steps > MAX_DERIVATION_STEPS {
        return None;
    }
    let mut s = secret.to_string();
    for _ in 0..steps {
        s = successor(chain_key, &s);
    }
    crate::token::opaque::matches_hash(&s, current_hash).then_some(steps)
}

/// How a presented refresh token relates to its grant's chain.
pub enum Standing {
    Current,
    /// The previous token, rotated `since` seconds ago: a retry or a second tab.
    Previous {
        since: u64,
    },
    /// Older, or previous outside the grace window: reuse.
    Retired,
}

/// Locates a presented token in its chain (`None`: not a token of this grant).
pub fn standing(
    chain_key: &str,
    refresh_hash: &str,
    generation: u64,
    rotated_at: u64,
    token: &RefreshParts<'_>,
    now: u64,
) -> Option<Standing> {
    let steps = steps_to_current(
        chain_key,
        token.secret,
        token.generation,
        generation,
        refresh_hash,
    )?;
    Some(match steps {
        0 => Standing::Current,
        1 => Standing::Previous {
            since: now.saturating_sub(rotated_at),
        },
        _ => Standing::Retired,
    })
}

/// A durable grant id's parts: the user's object id and the grant's sequence number there.
pub fn durable_grant(grant_id: &str) -> Option<(&str, i64)> {
    let (object, seq) = grant_id.split_once('.')?;
    Some((object, canonical_i64(seq)?))
}

/// Characters of a tag in a KV grant id (66 bits of SHA-256).
const TAG_LEN: usize = 11;

fn tag(text: &str) -> String {
    crate::token::opaque::hash(text)[..TAG_LEN].to_string()
}

/// The start every KV grant id of `client_id` shares: its grants list by the prefix
/// `grant:{tag}` (the admin listing), with no index key of their own.
pub fn kv_client_tag(client_id: &str) -> String {
    tag(client_id)
}

/// The start every KV grant id of (`client_id`, `sub`) shares: the client's tag, then one
/// of the pair (not of `sub` alone, so ids do not link one user across clients). Listing
/// `grant:{prefix}` gives the pair's grants in creation order, for the cap.
pub fn kv_pair_prefix(client_id: &str, sub: &str) -> String {
    // Client ids never contain `:` (A-Z a-z 0-9 - _), so the pair is unambiguous.
    format!("{}{}", tag(client_id), tag(&format!("{client_id}:{sub}")))
}

/// A KV-backend grant id: the pair's prefix, the creation second, then random bits (ties
/// broken by them). So the grant's one key `grant:{id}` also indexes it per client and
/// per user and client, and a refresh token or `gid` claim alone still names it.
pub fn kv_grant_id(client_id: &str, sub: &str, now: u64, nonce: &str) -> String {
    format!("{}{now:09x}{nonce}", kv_pair_prefix(client_id, sub))
}

#[cfg(test)]
mod tests {

    #[test]
    fn numbers_in_tokens_have_one_spelling() {
        for (text, want) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("10", Some(10)),
            ("07", None),
            ("00", None),
            ("+7", None),
            ("-7", None),
            (" 7", None),
            ("", None),
            ("1e3", None),
            ("18446744073709551616", None),
        ] {
            assert_eq!(canonical_u64(text), want, "{text:?}");
        }
        assert!(parse_refresh("g.1.s").is_some());
        assert!(parse_refresh("g.01.s").is_none());
        assert_eq!(durable_grant("obj.12"), Some(("obj", 12)));
        assert_eq!(durable_grant("obj.012"), None);
    }

    use super::*;
    use crate::token::opaque::hash;

    #[test]
    fn refresh_tokens_round_trip_with_dotted_grant_ids() {
        let t = refresh_token("abc.42", 7, "s3cret");
        let p = parse_refresh(&t).unwrap();
        assert_eq!(
            (p.grant_id, p.generation, p.secret),
            ("abc.42", 7, "s3cret")
        );
        assert!(parse_refresh("abc.x.s").is_none());
        assert!(parse_refresh("nodots").is_none());
        assert!(parse_refresh("a.1.s\"").is_none());
        assert!(parse_refresh(&"a".repeat(300)).is_none());
    }

    #[test]
    fn a_retired_token_is_recognised_by_deriving_forward() {
        let s0 = "first";
        let s1 = successor("k", s0);
        let s2 = successor("k", &s1);
        assert_eq!(steps_to_current("k", s0, 0, 2, &hash(&s2)), Some(2));
        assert_eq!(steps_to_current("k", &s2, 2, 2, &hash(&s2)), Some(0));
        assert_eq!(steps_to_current("other", s0, 0, 2, &hash(&s2)), None);
        assert_eq!(steps_to_current("k", s0, 3, 2, &hash(&s2)), None);
        assert_eq!(steps_to_current("k", "forged", 0, 2, &hash(&s2)), None);
    }

    #[test]
    fn kv_grant_ids_sort_by_creation_second_under_their_pairs_prefix() {
        let early = kv_grant_id("app", "ann", 1_800_000_000, "zzz");
        let late = kv_grant_id("app", "ann", 1_800_000_001, "AAA");
        assert!(early < late);
        let pair = kv_pair_prefix("app", "ann");
        assert!(early.starts_with(&pair) && pair.starts_with(&kv_client_tag("app")));
        assert!(!kv_grant_id("app", "bob", 1_800_000_000, "x").starts_with(&pair));
        assert!(!kv_grant_id("other", "ann", 1_800_000_000, "x").starts_with(&pair));
        // One user's tag differs between clients: ids do not link them.
        assert_ne!(
            &kv_pair_prefix("a", "ann")[11..],
            &kv_pair_prefix("b", "ann")[11..]
        );
        assert!(is_token_text(&early) && early.len() <= 64);
    }
}
