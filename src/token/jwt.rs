//! Compact JWS (RFC 7515) encoding and verification for access tokens (RFC 9068).
//!
//! The header and claims are encoded here; the signature itself goes through [`Crypto`] so the
//! Worker can use native WebCrypto. Verification trusts only keys from our own key set, chosen
//! by `kid`, and requires the header `alg` to equal that key's algorithm (no `none`, no
//! algorithm confusion, RFC 8725 §3.1).

use super::keys::{SigningKey, SigningKeys};
use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use serde::Serialize;
use serde_json::{Map, Value};

/// Media type of RFC 9068 access tokens (`typ` header, §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Longest token we try to parse; real tokens are well under 2 KB.
const MAX_JWT_LEN: usize = 8 * 1024;

/// Signs `claims` with `key`, producing `header.payload.signature`.
pub async fn sign(
    crypto: &impl Crypto,
    key: &SigningKey,
    typ: &str,
    claims: &impl Serialize,
) -> Result<String, OAuthError> {
    let header = serde_json::json!({ "alg": key.alg.as_str(), "typ": typ, "kid": key.kid });
    let claims = serde_json::to_vec(claims)
        .map_err(|e| OAuthError::server(format!("serialize claims: {e}")))?;
    let mut token = String::with_capacity(512);
    B64.encode_string(header.to_string().as_bytes(), &mut token);
    token.push('.');
    B64.encode_string(&claims, &mut token);
    let signature = crypto.sign(key, token.as_bytes()).await?;
    token.push('.');
    B64.encode_string(&signature, &mut token);
    Ok(token)
}

/// A token whose signature checked out, with its decoded parts.
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// Why a token was not accepted. Callers map all of these to "inactive" or `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Malformed(&'static str),
    UnknownKey,
    BadSignature,
}

/// Checks structure and signature. Time-based claims (`exp`, `nbf`) are the caller's job,
/// since the caller holds `now`.
pub async fn verify(
    crypto: &impl Crypto,
    keys: &SigningKeys,
    token: &str,
) -> Result<Result<Verified, JwtError>, OAuthError> {
    if token.len() > MAX_JWT_LEN {
        return Ok(Err(JwtError::Malformed("token too long")));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Err(JwtError::Malformed("not three dot-separated parts")));
    };
    let Some(header) = decode_object(h) else {
        return Ok(Err(JwtError::Malformed("header is not base64url JSON")));
    };
    let Some(kid) = header.get("kid").and_then(Value::as_str) else {
        return Ok(Err(JwtError::Malformed("header has no kid")));
    };
    let Some(key) = keys.find(kid) else {
        return Ok(Err(JwtError::UnknownKey));
    };
    if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
        return Ok(Err(JwtError::Malformed("alg does not match the key")));
    }
    let Ok(signature) = B64.decode(s) else {
        return Ok(Err(JwtError::Malformed("signature is not base64url")));
    };
    let signing_input = &token[..h.len() + 1 + p.len()];
    if !crypto
        .verify(key, signing_input.as_bytes(), &signature)
        .await?
    {
        return Ok(Err(JwtError::BadSignature));
    }
    let Some(claims) = decode_object(p) else {
        return Ok(Err(JwtError::Malformed("payload is not base64url JSON")));
    };
    Ok(Ok(Verified { header, claims }))
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = B64.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::native::NativeCrypto;
    use crate::token::keys::SigningKeys;
    use futures_executor::block_on;

    pub const TEST_KEYS: &str = r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k1",
        "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
        "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM",
        "d":"ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM"}]"#;

    fn signed() -> (SigningKeys, String) {
        let keys = SigningKeys::parse(TEST_KEYS).unwrap();
        let token = block_on(sign(
            &NativeCrypto::new(),
            keys.active(),
            ACCESS_TOKEN_TYP,
            &serde_json::json!({"sub": "u1", "exp": 10}),
        ))
        .unwrap();
        (keys, token)
    }

    #[test]
    fn signed_token_verifies_and_carries_header_and_claims() {
        let (keys, token) = signed();
        let v = block_on(verify(&NativeCrypto::new(), &keys, &token))
            .unwrap()
            .unwrap();
        assert_eq!(v.header["typ"], "at+jwt");
        assert_eq!(v.header["kid"], "k1");
        assert_eq!(v.claims["sub"], "u1");
    }

    #[test]
    fn token_signed_before_rotation_verifies_with_the_retired_public_key() {
        let (before, token) = signed();
        let old = before.active().public_jwk.clone(); // kid k1, public part only
        let new_key = r#"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k2",
            "x":"3tnAx-ZIa3tIRer-9lNfCr2RcTbwBYQ01uRaVhzWECw",
            "y":"Bk1fSy8pmp6o3v_AORO0BCZrzDY38lcpNvU-WOd-8oc",
            "d":"xDHjyGdRSc6sFR7o4HMNlmib9tv7EumAwrVQX7oeoko"}"#;
        let after =
            SigningKeys::parse(&format!("[{new_key},{}]", serde_json::Value::Object(old))).unwrap();
        assert_eq!(after.active().kid, "k2", "new tokens use the new key");
        let v = block_on(verify(&NativeCrypto::new(), &after, &token)).unwrap();
        assert!(v.is_ok(), "in-flight token still verifies: {v:?}");
        let only_new = SigningKeys::parse(&format!("[{new_key}]")).unwrap();
        let v = block_on(verify(&NativeCrypto::new(), &only_new, &token)).unwrap();
        assert_eq!(
            v.unwrap_err(),
            JwtError::UnknownKey,
            "once the old key is dropped"
        );
    }

    #[test]
    fn tampered_payload_fails_signature() {
        let (keys, token) = signed();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64.encode(br#"{"sub":"admin","exp":10}"#);
        parts[1] = &forged;
        let result = block_on(verify(&NativeCrypto::new(), &keys, &parts.join("."))).unwrap();
        assert_eq!(result.unwrap_err(), JwtError::BadSignature);
    }

    #[test]
    fn rejects_malformed_and_foreign_tokens() {
        let (keys, token) = signed();
        let (h, rest) = token.split_once('.').unwrap();
        let none_header = B64.encode(br#"{"alg":"none","kid":"k1"}"#);
        let other_kid = B64.encode(br#"{"alg":"ES256","kid":"nope"}"#);
        let cases = [
            ("".to_string(), "empty"),
            ("a.b".to_string(), "two parts"),
            (format!("{token}.x"), "four parts"),
            (format!("!!.{rest}"), "header not base64"),
            (format!("{none_header}.{rest}"), "alg none"),
            (format!("{other_kid}.{rest}"), "unknown kid"),
            (format!("{h}.{}", "A".repeat(9000)), "huge"),
        ];
        for (input, name) in cases {
            let result = block_on(verify(&NativeCrypto::new(), &keys, &input)).unwrap();
            assert!(result.is_err(), "{name} was accepted");
        }
    }
}
