//! The bearer credential and the compact JWS it carries (RFC 6750 §2.1, RFC 7515 §7.1).
//!
//! Only the structure and the protected header are read here; the payload is decoded after the
//! signature has verified (see `verifier.rs`).

use crate::error::AuthError;
use crate::jwks::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{Map, Value};

/// Longest token accepted; the provider's are well under 2 KB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Media types of RFC 9068 access tokens; §4: resource servers MUST reject any other `typ`.
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// The token from an `Authorization` header value. The token is taken from this header only
/// (RFC 6750 §2.1); query and body tokens are never read.
/// - no header, or another scheme (e.g. Basic) → [`AuthError::MissingToken`] (§3.1: no error
///   code when the client used an unsupported method);
/// - `Bearer` with an empty value → `invalid_request`.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let Some(value) = authorization else {
        return Err(AuthError::MissingToken);
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::InvalidRequest(
            "The Authorization header has the Bearer scheme but no token".into(),
        ));
    }
    Ok(token)
}

/// A compact JWS whose header passed the checks, signature not yet verified.
#[derive(Debug)]
pub struct Jws<'a> {
    pub alg: Alg,
    pub kid: String,
    /// `BASE64URL(header) '.' BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a str,
    pub payload: &'a str,
    pub signature: Vec<u8>,
}

fn malformed(what: &str) -> AuthError {
    AuthError::InvalidToken(format!("The access token is malformed: {what}"))
}

/// Splits and checks the token: three base64url parts, a JSON header with a supported `alg`,
/// a `kid`, `typ` = `at+jwt`, and no `crit` (RFC 7515 §4.1.11: we understand no extension).
pub fn parse(token: &str) -> Result<Jws<'_>, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(malformed("longer than 8 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three dot-separated parts (a JWT)"));
    };
    let header = decode_object(h).ok_or_else(|| malformed("header is not base64url JSON"))?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Alg::parse(alg_name)
        .ok_or_else(|| malformed("alg is not one the issuer signs with (ES256, RS256, EdDSA)"))?;
    let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
    if !ACCESS_TOKEN_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(typ))
    {
        return Err(AuthError::InvalidToken(
            "The token is not an access token (typ must be at+jwt)".into(),
        ));
    }
    if header.contains_key("crit") {
        return Err(malformed("crit header parameters are not supported"));
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= 256 => kid.clone(),
        _ => return Err(malformed("header has no kid")),
    };
    if p.is_empty() {
        return Err(malformed("empty payload"));
    }
    let signature = B64
        .decode(s)
        .map_err(|_| malformed("signature is not base64url"))?;
    Ok(Jws {
        alg,
        kid,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload: p,
        signature,
    })
}

/// Decodes a base64url JSON object (header or payload).
pub fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = B64.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        B64.encode(s)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(r#"{"sub":"u"}"#), b64("sig"))
    }

    const GOOD: &str = r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#;

    #[test]
    fn bearer_token_reads_only_the_bearer_scheme() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthError::MissingToken));
        assert_eq!(
            bearer_token(Some("Basic dXNlcjpwdw==")),
            Err(AuthError::MissingToken)
        );
        assert!(matches!(
            bearer_token(Some("Bearer")),
            Err(AuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            bearer_token(Some("Bearer   ")),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_well_formed_token_yields_alg_kid_and_signing_input() {
        let t = token(GOOD);
        let jws = parse(&t).unwrap();
        assert_eq!(jws.alg, Alg::ES256);
        assert_eq!(jws.kid, "k1");
        assert_eq!(jws.signature, b"sig");
        assert_eq!(jws.signing_input, t.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn application_at_jwt_typ_is_accepted() {
        let t = token(r#"{"alg":"EdDSA","typ":"application/at+jwt","kid":"k"}"#);
        assert_eq!(parse(&t).unwrap().alg, Alg::EdDSA);
    }

    #[test]
    fn rejects_each_malformed_shape() {
        let huge = format!("{}.{}.x", b64(GOOD), "A".repeat(MAX_TOKEN_LEN));
        let cases = [
            ("".to_string(), "empty"),
            ("abc".to_string(), "one part"),
            ("a.b".to_string(), "two parts"),
            (format!("{}.x", token(GOOD)), "four parts"),
            (format!("!!.{}", b64("{}")), "header not base64"),
            (token("[1]"), "header not an object"),
            (
                token(r#"{"alg":"none","typ":"at+jwt","kid":"k"}"#),
                "alg none",
            ),
            (
                token(r#"{"alg":"HS256","typ":"at+jwt","kid":"k"}"#),
                "alg HS256",
            ),
            (token(r#"{"alg":"ES256","kid":"k"}"#), "no typ"),
            (token(r#"{"alg":"ES256","typ":"JWT","kid":"k"}"#), "typ JWT"),
            (token(r#"{"alg":"ES256","typ":"at+jwt"}"#), "no kid"),
            (
                token(r#"{"alg":"ES256","typ":"at+jwt","kid":7}"#),
                "kid not a string",
            ),
            (
                token(r#"{"alg":"ES256","typ":"at+jwt","kid":"k","crit":["exp"]}"#),
                "crit",
            ),
            (format!("{}..{}", b64(GOOD), b64("s")), "empty payload"),
            (
                format!("{}.{}.***", b64(GOOD), b64("{}")),
                "signature not base64",
            ),
            (huge, "too long"),
        ];
        for (input, name) in cases {
            match parse(&input) {
                Err(AuthError::InvalidToken(_)) => {}
                other => panic!("{name}: expected invalid_token, got {other:?}"),
            }
        }
    }
}
