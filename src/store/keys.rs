//! The KV key layout, in one place. `docs/storage.md` documents each prefix, its value and TTL;
//! keep the two in step. Secrets appear only as hashes (`token::opaque::hash`).
//!
//! KV refuses keys over 512 bytes (UTF-8), and a refused key is a 500. Endpoints validate
//! identifiers where they enter, but the keys are also bounded here, whatever the input: every
//! variable part longer than [`MAX_PART_BYTES`] is replaced by `~` + base64url(SHA-256(part))
//! (44 bytes). `~` is outside the alphabets of our ids and of base64url, so a hashed part
//! never equals a stored short one; the longest key is under 490 bytes.

use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::token::opaque;
use std::borrow::Cow;

/// Workers KV's limit on a key's length, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 512;

/// Longest variable key part kept as it is (ids we issue are at most 64 bytes).
pub const MAX_PART_BYTES: usize = 128;

/// Longest `sub` base64url-encoded in a key (340 bytes encoded; the longest key stays < 512).
const MAX_SUB_BYTES_ENCODED: usize = 255;

fn bounded(part: &str) -> Cow<'_, str> {
    if part.len() <= MAX_PART_BYTES {
        Cow::Borrowed(part)
    } else {
        Cow::Owned(format!("~{}", opaque::hash(part)))
    }
}

/// A `sub` inside a composite key, base64url-encoded: delegated-login subjects are arbitrary
/// strings, and a `:` in one must not make `user_session:{a}:` a prefix of another user's keys.
/// Subjects over 255 bytes (multibyte ones: a delegated `sub` may be 255 characters, up to
/// 1020 bytes) are hashed instead; shorter ones keep the encoding their keys always had.
fn sub_part(sub: &str) -> String {
    if sub.len() <= MAX_SUB_BYTES_ENCODED {
        B64.encode(sub.as_bytes())
    } else {
        format!("~{}", opaque::hash(sub))
    }
}

pub const CLIENT_PREFIX: &str = "client:";

/// `client:{client_id}` → `Client`, no TTL.
pub fn client(client_id: &str) -> String {
    format!("{CLIENT_PREFIX}{}", bounded(client_id))
}

/// `client_deleted:{client_id}` → "", no TTL: the client was deleted, for good. Read with the
/// client record in one bulk read; every reader and writer of the client honours it.
pub const CLIENT_DELETED_PREFIX: &str = "client_deleted:";

/// `client_doc:{hash(url)}` → a fetched client metadata document, as `{"client": Client}` or
/// `{"error": "..."}`; TTL from its `Cache-Control` within [300 s, 86400 s], failures 60 s
/// (`oauth::client_document`).
pub fn client_document(url: &str) -> String {
    format!("{CLIENT_DOCUMENT_PREFIX}{}", opaque::hash(url))
}

pub const CLIENT_DOCUMENT_PREFIX: &str = "client_doc:";

pub fn client_deleted(client_id: &str) -> String {
    format!("{CLIENT_DELETED_PREFIX}{}", bounded(client_id))
}

/// `client_secret:{client_id}` → the SHA-256 (base64url) of the client's current secret, once
/// it was rotated: the rotation writes this key alone, so an edit of the record racing it
/// cannot bring the old secret back. Read with the record in the same bulk read.
pub const CLIENT_SECRET_PREFIX: &str = "client_secret:";

pub fn client_secret(client_id: &str) -> String {
    format!("{CLIENT_SECRET_PREFIX}{}", bounded(client_id))
}

/// `submission:{b64(sub)}:{hash(id)}` → the result, KV backend: a portal form (creation,
/// rotation) with this one-time submission id was acted on.
pub fn submission(sub: &str, id_hash: &str) -> String {
    format!("submission:{}:{}", sub_part(sub), bounded(id_hash))
}

/// `owner_client:{b64(sub)}:` prefix: the portal lists (and counts) a developer's clients.
pub fn owner_clients_prefix(sub: &str) -> String {
    format!("owner_client:{}:", sub_part(sub))
}

/// `owner_client:{b64(sub)}:{client_id}` → "", no TTL (deleted with the client).
pub fn owner_client(sub: &str, client_id: &str) -> String {
    format!("{}{}", owner_clients_prefix(sub), bounded(client_id))
}

pub const USER_PREFIX: &str = "user:";

/// `user:{sub}` → `User`, no TTL.
pub fn user(sub: &str) -> String {
    format!("{USER_PREFIX}{}", bounded(sub))
}

/// `user_email:{lower-cased email}` → sub, no TTL.
pub fn user_email(email: &str) -> String {
    format!("user_email:{}", bounded(email))
}

/// `session:{hash(session id)}` → `Session`, TTL `SESSION_TTL`.
pub fn session(session_hash: &str) -> String {
    format!("session:{}", bounded(session_hash))
}

/// `user_session:{b64(sub)}:{created_at, 10 digits}.{hash(session id)}` → "", TTL
/// `SESSION_TTL`: a user's sessions, oldest first, to cap them at sign-in and end them all
/// at platform logout (`state::sessions`).
pub fn user_session(sub: &str, created_at: u64, session_hash: &str) -> String {
    format!(
        "{}{created_at:010}.{}",
        user_sessions_prefix(sub),
        bounded(session_hash)
    )
}

/// Prefix of a user's `user_session:` keys.
pub fn user_sessions_prefix(sub: &str) -> String {
    format!("user_session:{}:", sub_part(sub))
}

/// `user_revoked:{b64(sub)}` → unix second, TTL 366 days (KV backend): the user's last
/// revoke-all. Grants created, codes issued and consents given at or before it are dead.
pub fn user_revoked(sub: &str) -> String {
    format!("user_revoked:{}", sub_part(sub))
}

/// `authreq:{request id}` → `PendingAuthorization`, TTL 600 s.
pub fn pending_authorization(request_id: &str) -> String {
    format!("authreq:{}", bounded(request_id))
}

/// `answered_request:{request id}` → "", TTL 600 s (KV backend): the consent form of this
/// pending authorization was answered; a second answer gets no code.
pub fn answered_request(request_id: &str) -> String {
    format!("answered_request:{}", bounded(request_id))
}

/// `code:{hash(code)}` → KV backend code record, TTL `AUTH_CODE_TTL`. Written once.
pub fn code(code_hash: &str) -> String {
    format!("code:{}", bounded(code_hash))
}

/// `grant:{grant id}` → KV backend grant record (first refresh-token hash, chain key), TTL
/// until the grant expires. Rewritten only to extend its lifetime. Grant ids start with
/// their client's and pair's tags (`state::ids::kv_grant_id`), so `grant:{tag}` prefixes
/// list a client's grants, or one user's with one client.
pub fn grant(grant_id: &str) -> String {
    format!("grant:{}", bounded(grant_id))
}

/// `refresh_gen:{grant id}:{generation}` → `{hash, at}` (KV backend): the refresh token of
/// that generation (≥ 1), written once by the rotation that issued it. Its presence also
/// says the previous generation was rotated.
pub fn refresh_generation(grant_id: &str, generation: u64) -> String {
    format!("refresh_gen:{}:{generation}", bounded(grant_id))
}

/// `grant_revoked:{grant id}` → "", TTL `REFRESH_TOKEN_TTL` (KV backend): written when a
/// grant is revoked or its code is consumed without one, never removed. A refresh racing
/// the revocation may rewrite `grant:` but cannot remove this, so the grant stays dead.
pub fn grant_revoked(grant_id: &str) -> String {
    format!("grant_revoked:{}", bounded(grant_id))
}

/// `user_client:{b64(sub)}:{client id}` → the second until which it lives (KV backend): the
/// clients a user has grants with, listed by prefix to reach their grants (`grant:` keys of
/// the pair's prefix). Written when missing or shorter-lived than a new or extended grant,
/// for twice a grant's lifetime: about once per lifetime, not once per grant.
pub fn user_client(sub: &str, client_id: &str) -> String {
    format!("{}{}", user_clients_prefix(sub), bounded(client_id))
}

/// Prefix of a user's `user_client:` keys.
pub fn user_clients_prefix(sub: &str) -> String {
    format!("user_client:{}:", sub_part(sub))
}

/// `client_grant:{client id}:{grant id}` → `ClientGrantEntry` JSON (sub, scopes, times): a
/// client's grants, for the admin listing (durable backend; KV lists `grant:` keys).
pub fn client_grant(client_id: &str, grant_id: &str) -> String {
    format!("client_grant:{}:{}", bounded(client_id), bounded(grant_id))
}

/// `consent:{b64(sub)}:{client id}` → `Consent`, TTL `REFRESH_TOKEN_TTL` (rewritten when an
/// approval adds scopes).
pub fn consent(sub: &str, client_id: &str) -> String {
    format!("consent:{}:{}", sub_part(sub), bounded(client_id))
}

/// `assertion_jti:{hash(jti)}` → "", TTL until the assertion expires (≥ 60 s): replay
/// protection. Callers pass the hash.
pub fn assertion_jti(jti: &str) -> String {
    format!("assertion_jti:{}", bounded(jti))
}

/// `revoked_jti:{jti}` → "", TTL the access token's remaining life (≥ 60 s): RFC 7009
/// revocation of a stateless access token. Edge APIs may consult it.
pub fn revoked_jti(jti: &str) -> String {
    format!("revoked_jti:{}", bounded(jti))
}

/// `revoked_grant:{grant id}` → "", TTL the access-token life (≥ 60 s): every access token
/// of the grant is revoked. Written by `oauth::revocation` on both backends, read by edge APIs
/// (`crates/edge-verifier`), never by the provider.
pub fn revoked_grant(grant_id: &str) -> String {
    format!("revoked_grant:{}", bounded(grant_id))
}

/// `revoked_client:{client id}` → "", TTL the access-token life: the client was deleted.
pub fn revoked_client(client_id: &str) -> String {
    format!("revoked_client:{}", bounded(client_id))
}

/// `revoked_user:{b64(sub)}` → unix milliseconds, TTL the access-token life: access tokens of
/// `sub` issued (`iat_ms`) at or before it are revoked (revoke-all, account deletion).
pub fn revoked_user(sub: &str) -> String {
    format!("revoked_user:{}", sub_part(sub))
}

/// `revoked_pair:{b64(sub)}:{client id}` → unix milliseconds, TTL the access-token life: the
/// same for the tokens `sub` gave one client ("revoke access", logout revoking one app).
pub fn revoked_pair(sub: &str, client_id: &str) -> String {
    format!("revoked_pair:{}:{}", sub_part(sub), bounded(client_id))
}

/// `login_failures:{hash(account or address)}:{second}{random}` → "", TTL 900 s: one key per
/// sign-in attempt (password-guessing throttle; counted by listing the prefix).
pub fn login_failures(subject_hash: &str) -> String {
    format!("login_failures:{}", bounded(subject_hash))
}

/// `login_cleared:{hash(account)}` → the second from which attempts count again, TTL 900 s:
/// written by a successful sign-in (KV backend).
pub fn login_cleared(subject_hash: &str) -> String {
    format!("login_cleared:{}", bounded(subject_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_in_a_sub_cannot_make_one_users_prefix_cover_anothers_keys() {
        let alice_prefix = user_sessions_prefix("alice");
        assert!(!user_session("alice:x", 1, "h").starts_with(&alice_prefix));
        assert!(!user_client("alice:x", "c").starts_with(&user_clients_prefix("alice")));
        assert_ne!(consent("a:b", "c"), consent("a", "b:c"));
    }

    #[test]
    fn no_key_exceeds_kvs_512_bytes_whatever_the_input() {
        let long_ascii = "x".repeat(10_000);
        let multibyte = "\u{e9}".repeat(255); // a delegated-login sub of 510 bytes
        let emoji = "\u{1f600}".repeat(100);
        for part in [long_ascii.as_str(), multibyte.as_str(), emoji.as_str()] {
            let keys = [
                client(part),
                user(part),
                user_email(part),
                session(part),
                user_session(part, u64::MAX, part),
                user_revoked(part),
                pending_authorization(part),
                code(part),
                grant(part),
                client_grant(part, part),
                consent(part, part),
                assertion_jti(part),
                revoked_jti(part),
                login_failures(part),
                grant_revoked(part),
                user_client(part, part),
                revoked_grant(part),
                revoked_client(part),
                revoked_user(part),
                revoked_pair(part, part),
            ];
            for key in keys {
                assert!(key.len() <= MAX_KEY_BYTES, "{} bytes: {key}", key.len());
            }
        }
    }

    #[test]
    fn short_parts_are_kept_and_long_subs_stay_distinct() {
        assert_eq!(client("abc"), "client:abc");
        assert_eq!(user_client("ab", "c"), "user_client:YWI:c");
        let (a, b) = ("\u{e9}".repeat(255), format!("{}e", "\u{e9}".repeat(254)));
        assert_ne!(user_session(&a, 1, "h"), user_session(&b, 1, "h"));
        // A hashed sub's prefix cannot cover another user's keys either.
        assert!(!user_session(&b, 1, "h").starts_with(&user_sessions_prefix(&a)));
    }
}
