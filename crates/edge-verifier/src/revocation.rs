//! The provider's revocation markers, read in ONE bulk KV `get` per request (Workers KV reads
//! up to 100 keys in one operation). The provider (`src/oauth/revocation.rs`) writes:
//! - `revoked_jti:{jti}` (RFC 7009 revocation of this access token),
//! - `revoked_grant:{gid}` (its grant: refresh token revoked or reused, admin revocation),
//! - `revoked_client:{client_id}` (the application was deleted),
//! - `revoked_user:{b64url(sub)}` → milliseconds (revoke-all, account deletion),
//! - `revoked_pair:{b64url(sub)}:{client_id}` → milliseconds ("revoke access" to one app).
//!
//! A time marker kills tokens issued (`iat_ms`, else `iat` in whole seconds) at or before it,
//! so a token from a re-authorization after the revocation, even in the same second, lives.

use crate::claims::AccessClaims;
use crate::error::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

/// Longest id part the provider keeps as it is in a key (longer ones it hashes).
const MAX_PART_BYTES: usize = 128;
/// Longest `sub` the provider base64url-encodes in a key.
const MAX_SUB_BYTES: usize = 255;

/// The keys to read for `claims`, in the order [`check`] expects their values.
pub fn keys(claims: &AccessClaims) -> Result<Vec<String>, AuthError> {
    let too_long = [claims.jti.as_str(), claims.client_id.as_str()]
        .into_iter()
        .chain(claims.gid.as_deref())
        .any(|p| p.len() > MAX_PART_BYTES)
        || claims.sub.len() > MAX_SUB_BYTES;
    if too_long {
        // The provider's keys for such ids are hashed; we cannot match them, so fail closed.
        return Err(AuthError::InvalidToken(
            "The access token cannot be checked against the revocation list".into(),
        ));
    }
    let sub = B64.encode(claims.sub.as_bytes());
    let mut out = vec![
        format!("revoked_jti:{}", claims.jti),
        format!("revoked_client:{}", claims.client_id),
        format!("revoked_user:{sub}"),
        format!("revoked_pair:{sub}:{}", claims.client_id),
    ];
    if let Some(gid) = &claims.gid {
        out.push(format!("revoked_grant:{gid}"));
    }
    Ok(out)
}

/// Refuses the token if any marker read for [`keys`] covers it.
pub fn check(claims: &AccessClaims, values: &[Option<String>]) -> Result<(), AuthError> {
    let issued_ms = claims.iat_ms.unwrap_or(claims.iat.saturating_mul(1000));
    let revoked = values.iter().enumerate().any(|(i, v)| match (i, v) {
        (_, None) => false,
        // The time markers: user and pair.
        (2 | 3, Some(at)) => at.parse::<u64>().map_or(true, |at| issued_ms <= at),
        (_, Some(_)) => true,
    });
    if revoked {
        return Err(AuthError::InvalidToken(
            "The access token was revoked".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(gid: Option<&str>, iat_ms: Option<u64>) -> AccessClaims {
        AccessClaims {
            sub: "u1".into(),
            client_id: "c1".into(),
            scopes: vec![],
            jti: "j1".into(),
            exp: 2_000,
            iat: 1_000,
            gid: gid.map(String::from),
            iat_ms,
        }
    }

    #[test]
    fn keys_name_the_token_grant_client_user_and_pair() {
        assert_eq!(
            keys(&claims(Some("g1"), None)).unwrap(),
            [
                "revoked_jti:j1",
                "revoked_client:c1",
                "revoked_user:dTE",
                "revoked_pair:dTE:c1",
                "revoked_grant:g1"
            ]
        );
    }

    #[test]
    fn any_id_marker_revokes() {
        let c = claims(Some("g1"), Some(1_000_500));
        for i in [0, 1, 4] {
            let mut values = vec![None; 5];
            values[i] = Some(String::new());
            assert!(check(&c, &values).is_err(), "marker {i}");
        }
        assert!(check(&c, &[None, None, None, None, None]).is_ok());
    }

    #[test]
    fn a_time_marker_revokes_tokens_issued_at_or_before_it_only() {
        let c = claims(None, Some(1_000_500));
        for i in [2, 3] {
            let at = |ms: &str| {
                let mut v = vec![None; 4];
                v[i] = Some(ms.to_string());
                v
            };
            assert!(check(&c, &at("1000500")).is_err());
            assert!(
                check(&c, &at("1000499")).is_ok(),
                "issued after, same second"
            );
            assert!(
                check(&c, &at("garbage")).is_err(),
                "unreadable: fail closed"
            );
        }
        // Without iat_ms, the token counts as issued at the start of its second.
        let old = claims(None, None);
        assert!(check(&old, &[None, None, Some("1000000".into()), None]).is_err());
    }
}
