//! The ID token (OpenID Connect Core §2): a JWT (`typ: JWT`) for the client, signed with the
//! key of the client's ID-token algorithm, beside the access token of a code or refresh
//! response whose scope holds `openid`.

use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::state::{GrantView, SignIn};
use crate::token::jwt;
use crate::token::keys::SigningKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Media type of an ID token (OIDC Core §2 allows `JWT`; RFC 7519 §5.1).
pub const ID_TOKEN_TYP: &str = "JWT";

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    /// §2: the party the token was issued to; equal to `aud` here (one audience).
    azp: &'a str,
    iat: u64,
    exp: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

/// §3.1.3.6: base64url of the left half of the hash of the access token's ASCII text. The
/// hash is SHA-256 for the algorithms ID tokens use here (RS256, ES256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    B64.encode(&digest[..16])
}

/// What the token endpoint knows when it signs one.
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub grant: &'a GrantView,
    pub sign_in: &'a SignIn,
    /// The response's scopes: `profile` and `email` decide which claims go out (§5.4).
    pub scopes: &'a [String],
    pub access_token: &'a str,
    /// Only the code response's token carries the request's `nonce` (§3.1.3.6, §12.2).
    pub with_nonce: bool,
    pub now: u64,
    pub ttl: u64,
}

/// Signs the ID token: one signature, nothing read or written.
pub async fn sign(
    crypto: &impl Crypto,
    key: &SigningKey,
    input: IdTokenInput<'_>,
) -> Result<String, OAuthError> {
    let has = |s: &str| input.scopes.iter().any(|x| x == s);
    let s = input.sign_in;
    let email = s.email.as_deref().filter(|_| has("email"));
    let claims = IdClaims {
        iss: input.issuer,
        sub: &input.grant.sub,
        aud: &input.grant.client_id,
        azp: &input.grant.client_id,
        iat: input.now,
        exp: input.now + input.ttl,
        // §12.2: a refresh's ID token keeps the time of the original sign-in.
        auth_time: s.auth_time,
        nonce: s.nonce.as_deref().filter(|_| input.with_nonce),
        at_hash: at_hash(input.access_token),
        sid: &s.sid,
        name: s.name.as_deref().filter(|_| has("profile")),
        picture: s.picture.as_deref().filter(|_| has("profile")),
        email,
        email_verified: email.map(|_| s.email_verified),
    };
    jwt::sign(crypto, key, ID_TOKEN_TYP, &claims).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OpenID Connect Core, Appendix A.3 (ID token with access token): the access token
        // "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" has at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
