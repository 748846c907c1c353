//! Delegated login: the platform vouches for its signed-in user with a login assertion.
//!
//! When the platform runs its own sign-in, it hands the user back to us by posting a short-lived
//! JWT (RFC 7519) as the form field `assertion`, signed HS256 with the shared secret
//! `LOGIN_ASSERTION_SECRET`. Here we check it: only `HS256` (never `none`, no algorithm
//! switching, RFC 8725 §3.1), the MAC in constant time, `aud` naming our issuer, and a lifetime
//! of at most ten minutes, so a leaked assertion is worth little. Remembering `jti` to refuse
//! replays is the caller's job, since it needs the store.

use crate::b64::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Longest assertion we parse; real ones are a few hundred bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Longest lifetime (`exp - now`) we accept, in seconds.
pub const MAX_LIFETIME: u64 = 600;
/// Tolerated clock difference for `iat` and `nbf` in the future, in seconds.
pub const CLOCK_SKEW: u64 = 60;

const MAX_SUB_CHARS: usize = 255;
const MAX_JTI_CHARS: usize = 128;
const MAX_PROFILE_CHARS: usize = 255;

/// The user the platform vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub sub: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// OpenID Connect `picture`: an https URL, kept for ID tokens and userinfo.
    pub picture: Option<String>,
    /// Unique id; the caller remembers it until `exp` to refuse a second use.
    pub jti: String,
    /// The `nonce` the provider sent with `return_to`; binds the assertion to the browser
    /// that started the sign-in (login CSRF). Checked by the caller against its cookie.
    pub nonce: Option<String>,
    pub exp: u64,
}

/// Verifies a login assertion. The error says why, for the log and the user's error page.
pub fn verify_assertion(
    token: &str,
    secret: &[u8],
    issuer: &str,
    now: u64,
) -> Result<Assertion, String> {
    if secret.is_empty() {
        return Err("login assertions are not configured (no secret)".into());
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(format!("assertion is longer than {MAX_TOKEN_LEN} bytes"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("assertion is not a JWT (three dot-separated parts)".into());
    };
    let header = decode_object(h, "header")?;
    // RFC 8725 §3.1: the algorithm is ours to choose, not the token's.
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err("assertion must be signed with HS256".into());
    }
    // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
    if header.contains_key("crit") {
        return Err("assertion header has unsupported critical extensions".into());
    }
    let signature = B64
        .decode(s)
        .map_err(|_| "assertion signature is not valid base64url".to_string())?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    let expected = hmac_sha256(secret, signing_input.as_bytes())
        .ok_or_else(|| "assertion secret is unusable".to_string())?;
    if !crate::crypto::constant_time_eq(&expected, &signature) {
        return Err("assertion signature is invalid".into());
    }
    let claims = decode_object(p, "payload")?;
    check_audience(&claims, issuer)?;
    let exp = check_times(&claims, now)?;
    Ok(Assertion {
        sub: required_string(&claims, "sub", MAX_SUB_CHARS)?,
        jti: required_string(&claims, "jti", MAX_JTI_CHARS)?,
        name: optional_string(&claims, "name", MAX_PROFILE_CHARS)?,
        email: optional_string(&claims, "email", MAX_PROFILE_CHARS)?,
        picture: picture(&claims)?,
        nonce: optional_string(&claims, "nonce", MAX_JTI_CHARS)?,
        exp,
    })
}

/// The optional `picture`: an https URL (a page shows it to relying parties' users).
fn picture(claims: &Map<String, Value>) -> Result<Option<String>, String> {
    let Some(url) = optional_string(claims, "picture", MAX_PROFILE_CHARS)? else {
        return Ok(None);
    };
    match crate::oauth::client_metadata::validate_web_url("picture", Some(url)) {
        Ok(Some(url)) if url.starts_with("https://") => Ok(Some(url)),
        _ => Err("picture must be an absolute https URL".into()),
    }
}

/// Builds an HS256 assertion with `claims`, in the format [`verify_assertion`] accepts. Used
/// by unit and end-to-end tests and shown in the README for platforms to copy.
pub fn sign_assertion_for_tests(claims: &Value, secret: &[u8]) -> String {
    let header = serde_json::json!({ "alg": "HS256", "typ": "JWT" });
    let mut token = B64.encode(header.to_string());
    token.push('.');
    B64.encode_string(claims.to_string(), &mut token);
    // HMAC takes keys of any length (RFC 2104 §2), so this is always Some; were it not, the
    // empty signature would simply never verify.
    let signature = hmac_sha256(secret, token.as_bytes()).unwrap_or_default();
    token.push('.');
    B64.encode_string(signature, &mut token);
    token
}

fn hmac_sha256(secret: &[u8], message: &[u8]) -> Option<[u8; 32]> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(message);
    Some(mac.finalize().into_bytes().into())
}

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, String> {
    let bytes = B64
        .decode(part)
        .map_err(|_| format!("assertion {what} is not valid base64url"))?;
    // A repeated claim (two `sub`s) is refused: readers must not disagree on which counts.
    match super::strict_json::parse_object(&bytes) {
        Ok(map) => Ok(map),
        Err(super::strict_json::ObjectError::Repeated(_)) => {
            Err(format!("assertion {what} repeats a member"))
        }
        Err(_) => Err(format!("assertion {what} is not a JSON object")),
    }
}

/// RFC 7519 §4.1.3: we must be among the audiences, as a string or in an array.
fn check_audience(claims: &Map<String, Value>, issuer: &str) -> Result<(), String> {
    let ours = match claims.get("aud") {
        Some(Value::String(aud)) => aud == issuer,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if ours {
        Ok(())
    } else {
        Err("assertion audience does not match this issuer".into())
    }
}

/// `exp` (required), `iat` and `nbf` (RFC 7519 §4.1.4-6); returns `exp`.
fn check_times(claims: &Map<String, Value>, now: u64) -> Result<u64, String> {
    let exp = match claims.get("exp") {
        None => return Err("assertion has no exp".into()),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| "assertion exp must be an integer NumericDate".to_string())?,
    };
    if exp <= now {
        return Err("assertion expired".into());
    }
    if exp - now > MAX_LIFETIME {
        return Err(format!(
            "assertion is valid for too long (at most {MAX_LIFETIME} seconds)"
        ));
    }
    for (claim, why) in [
        ("iat", "assertion was issued in the future"),
        ("nbf", "assertion is not valid yet"),
    ] {
        if let Some(v) = claims.get(claim) {
            let t = v
                .as_u64()
                .ok_or_else(|| format!("assertion {claim} must be an integer NumericDate"))?;
            if t > now.saturating_add(CLOCK_SKEW) {
                return Err(why.into());
            }
        }
    }
    Ok(exp)
}

fn required_string(claims: &Map<String, Value>, claim: &str, max: usize) -> Result<String, String> {
    match optional_string(claims, claim, max)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(format!("assertion has no {claim}")),
    }
}

fn optional_string(
    claims: &Map<String, Value>,
    claim: &str,
    max: usize,
) -> Result<Option<String>, String> {
    match claims.get(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(format!("assertion {claim} is longer than {max} characters"))
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            Err(format!("assertion {claim} contains control characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("assertion {claim} must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ISSUER: &str = "http://127.0.0.1:8787";
    const NOW: u64 = 1_700_000_000;

    fn good_claims() -> Value {
        json!({
            "sub": "user-42",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "jti": "a1b2c3",
            "aud": ISSUER,
            "iat": NOW,
            "exp": NOW + 300,
        })
    }

    fn with(changes: Value) -> Value {
        let mut claims = good_claims();
        if let (Value::Object(c), Value::Object(changes)) = (&mut claims, changes) {
            for (k, v) in changes {
                if v.is_null() {
                    c.remove(&k);
                } else {
                    c.insert(k, v);
                }
            }
        }
        claims
    }

    /// A token with a chosen header, correctly MACed with SECRET.
    fn with_header(header: Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mac = hmac_sha256(SECRET, input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(mac))
    }

    fn verify(token: &str) -> Result<Assertion, String> {
        verify_assertion(token, SECRET, ISSUER, NOW)
    }

    #[test]
    fn valid_assertion_is_accepted() {
        let a = verify(&sign_assertion_for_tests(&good_claims(), SECRET)).unwrap();
        assert_eq!(
            a,
            Assertion {
                sub: "user-42".into(),
                name: Some("Ada Lovelace".into()),
                email: Some("ada@example.com".into()),
                picture: None,
                jti: "a1b2c3".into(),
                nonce: None,
                exp: NOW + 300,
            }
        );
    }

    #[test]
    fn a_picture_is_kept() {
        let token =
            sign_assertion_for_tests(&with(json!({"picture": "https://p.example/a.png"})), SECRET);
        assert_eq!(
            verify(&token).unwrap().picture.as_deref(),
            Some("https://p.example/a.png")
        );
    }

    #[test]
    fn accepted_variants() {
        let cases = [
            (
                "aud array containing issuer",
                with(json!({"aud": ["other", ISSUER]})),
            ),
            (
                "no name or email",
                with(json!({"name": null, "email": null})),
            ),
            ("no iat", with(json!({"iat": null}))),
            ("iat within skew", with(json!({"iat": NOW + 60}))),
            ("exp at the 600 s limit", with(json!({"exp": NOW + 600}))),
            ("exp one second ahead", with(json!({"exp": NOW + 1}))),
            ("sub of 255 chars", with(json!({"sub": "s".repeat(255)}))),
            ("jti of 128 chars", with(json!({"jti": "j".repeat(128)}))),
        ];
        for (name, claims) in cases {
            let token = sign_assertion_for_tests(&claims, SECRET);
            assert!(verify(&token).is_ok(), "{name}: {:?}", verify(&token));
        }
    }

    #[test]
    fn refusals_name_the_problem() {
        let good = sign_assertion_for_tests(&good_claims(), SECRET);
        let (h, rest) = good.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let sign = |claims: Value| sign_assertion_for_tests(&claims, SECRET);
        let mut flipped = s.to_string().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let other_payload = B64.encode(with(json!({"sub": "admin"})).to_string());

        #[rustfmt::skip]
        let cases: Vec<(&str, String, &str)> = vec![
            // Signature and algorithm
            ("wrong signature", format!("{h}.{p}.{flipped}"), "signature is invalid"),
            ("payload swapped", format!("{h}.{other_payload}.{s}"), "signature is invalid"),
            ("wrong secret", sign_assertion_for_tests(&good_claims(), b"another secret"), "signature is invalid"),
            ("empty signature", format!("{h}.{p}."), "signature is invalid"),
            ("alg none", format!("{}.{p}.", B64.encode(r#"{"alg":"none"}"#)), "HS256"),
            ("alg none with valid mac", with_header(json!({"alg": "none"}), &good_claims()), "HS256"),
            ("alg RS256", with_header(json!({"alg": "RS256"}), &good_claims()), "HS256"),
            ("alg lowercase", with_header(json!({"alg": "hs256"}), &good_claims()), "HS256"),
            ("alg missing", with_header(json!({"typ": "JWT"}), &good_claims()), "HS256"),
            ("crit header", with_header(json!({"alg": "HS256", "crit": ["b64"]}), &good_claims()), "critical"),
            // Time
            ("expired", sign(with(json!({"exp": NOW - 1}))), "assertion expired"),
            ("expires now", sign(with(json!({"exp": NOW}))), "assertion expired"),
            ("too long-lived", sign(with(json!({"exp": NOW + 601}))), "too long"),
            ("exp missing", sign(with(json!({"exp": null}))), "no exp"),
            ("exp as string", sign(with(json!({"exp": (NOW + 300).to_string()}))), "integer"),
            ("exp fractional", sign(with(json!({"exp": NOW as f64 + 300.5}))), "integer"),
            ("iat in the future", sign(with(json!({"iat": NOW + 61}))), "issued in the future"),
            ("nbf in the future", sign(with(json!({"nbf": NOW + 120}))), "not valid yet"),
            // Audience
            ("wrong aud", sign(with(json!({"aud": "https://evil.example"}))), "audience does not match"),
            ("aud with trailing slash", sign(with(json!({"aud": format!("{ISSUER}/")}))), "audience does not match"),
            ("aud array without issuer", sign(with(json!({"aud": ["a", "b"]}))), "audience does not match"),
            ("aud missing", sign(with(json!({"aud": null}))), "audience does not match"),
            // Identity claims
            ("sub missing", sign(with(json!({"sub": null}))), "no sub"),
            ("sub empty", sign(with(json!({"sub": ""}))), "no sub"),
            ("sub a number", sign(with(json!({"sub": 42}))), "sub must be a string"),
            ("sub too long", sign(with(json!({"sub": "s".repeat(256)}))), "sub is longer"),
            ("sub with newline", sign(with(json!({"sub": "a\nb"}))), "control characters"),
            ("jti missing", sign(with(json!({"jti": null}))), "no jti"),
            ("jti empty", sign(with(json!({"jti": ""}))), "no jti"),
            ("jti too long", sign(with(json!({"jti": "j".repeat(129)}))), "jti is longer"),
            ("name too long", sign(with(json!({"name": "n".repeat(256)}))), "name is longer"),
            ("picture not https", sign(with(json!({"picture": "http://a.example/p.png"}))), "picture must be"),
            ("picture not a URL", sign(with(json!({"picture": "javascript:x"}))), "picture must be"),
            ("email not a string", sign(with(json!({"email": ["a@b.c"]}))), "email must be a string"),
            // Structure and encoding
            ("two parts", format!("{h}.{p}"), "three dot-separated parts"),
            ("four parts", format!("{good}.x"), "three dot-separated parts"),
            ("empty", String::new(), "three dot-separated parts"),
            ("bad base64 header", format!("!!.{p}.{s}"), "header is not valid base64url"),
            ("bad base64 signature", format!("{h}.{p}.***"), "signature is not valid base64url"),
            ("padded signature", format!("{good}="), "signature is not valid base64url"),
            ("header not JSON", format!("{}.{p}.{s}", B64.encode("alg=HS256")), "header is not a JSON object"),
            ("header a JSON array", format!("{}.{p}.{s}", B64.encode("[1]")), "header is not a JSON object"),
            ("payload not JSON", with_raw_payload(&B64.encode("not json")), "payload is not a JSON object"),
            ("payload bad base64", with_raw_payload("@@@"), "payload is not valid base64url"),
            ("sub repeated", with_raw_payload(&B64.encode(repeated_sub())), "payload repeats a member"),
            ("alg repeated", format!("{}.{p}.{s}", B64.encode(r#"{"alg":"none","alg":"HS256"}"#)), "header repeats a member"),
            ("huge token", sign(with(json!({"pad": "x".repeat(MAX_TOKEN_LEN)}))), "longer than"),
        ];
        for (name, token, expected) in cases {
            match verify(&token) {
                Ok(_) => panic!("{name}: accepted"),
                Err(e) => assert!(e.contains(expected), "{name}: got {e:?}"),
            }
        }
    }

    /// Valid claims with a second `sub` after the first (serde_json alone keeps the last).
    fn repeated_sub() -> String {
        let claims = good_claims().to_string();
        format!("{},\"sub\":\"admin\"}}", &claims[..claims.len() - 1])
    }

    /// A correctly MACed HS256 token whose payload part is `payload` as given.
    fn with_raw_payload(payload: &str) -> String {
        let input = format!("{}.{payload}", B64.encode(r#"{"alg":"HS256"}"#));
        let mac = hmac_sha256(SECRET, input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(mac))
    }

    #[test]
    fn empty_secret_refuses_everything() {
        let token = sign_assertion_for_tests(&good_claims(), b"");
        let err = verify_assertion(&token, b"", ISSUER, NOW).unwrap_err();
        assert!(err.contains("not configured"), "{err}");
    }

    #[test]
    fn format_matches_an_independent_jwt_library() {
        use jwt_simple::prelude::*;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = HS256Key::from_bytes(SECRET);

        // Ours -> jwt-simple.
        let claims =
            json!({"sub": "user-42", "jti": "j1", "aud": ISSUER, "iat": now, "exp": now + 300});
        let token = sign_assertion_for_tests(&claims, SECRET);
        let options = VerificationOptions {
            allowed_audiences: Some(HashSet::from_strings(&[ISSUER])),
            ..Default::default()
        };
        let decoded = key
            .verify_token::<NoCustomClaims>(&token, Some(options))
            .unwrap();
        assert_eq!(decoded.subject.as_deref(), Some("user-42"));

        // jwt-simple -> ours.
        let claims = Claims::create(Duration::from_secs(300))
            .with_subject("user-7")
            .with_audience(ISSUER)
            .with_jwt_id("j2");
        let token = key.authenticate(claims).unwrap();
        let a = verify_assertion(&token, SECRET, ISSUER, now).unwrap();
        assert_eq!((a.sub.as_str(), a.jti.as_str()), ("user-7", "j2"));
    }
}
