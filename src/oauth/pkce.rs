//! PKCE (RFC 7636), `S256` only.
//!
//! At authorize the client sends `code_challenge = BASE64URL(SHA256(code_verifier))`; we keep
//! it with the code. At the token endpoint the client proves it started the flow by sending
//! the verifier, which we hash and compare. `plain` is refused (RFC 9700 §2.1.1): a challenge
//! must therefore be exactly one SHA-256 digest in base64url, 43 characters.

use crate::b64::URL_SAFE_NO_PAD as B64;
use sha2::{Digest, Sha256};

/// Length of BASE64URL-NOPAD of a 32-byte digest.
pub const CHALLENGE_LEN: usize = 43;

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`.
const VERIFIER_MIN: usize = 43;
const VERIFIER_MAX: usize = 128;

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// RFC 3986 §2.3 unreserved characters, the verifier's alphabet (RFC 7636 §4.1).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Checks a `code_challenge` sent with `code_challenge_method=S256` (RFC 7636 §4.2).
pub fn validate_challenge(challenge: &str) -> Result<(), String> {
    if challenge.len() == CHALLENGE_LEN && challenge.bytes().all(is_base64url) {
        Ok(())
    } else {
        Err(format!(
            "code_challenge must be {CHALLENGE_LEN} base64url characters (BASE64URL(SHA256(code_verifier)))"
        ))
    }
}

/// Checks a `code_verifier` sent to the token endpoint (RFC 7636 §4.1).
pub fn validate_verifier(verifier: &str) -> Result<(), String> {
    if !(VERIFIER_MIN..=VERIFIER_MAX).contains(&verifier.len()) {
        return Err(format!(
            "code_verifier must be {VERIFIER_MIN} to {VERIFIER_MAX} characters long"
        ));
    }
    if !verifier.bytes().all(is_unreserved) {
        return Err(
            "code_verifier may contain only A-Z, a-z, 0-9, \"-\", \".\", \"_\" and \"~\"".into(),
        );
    }
    Ok(())
}

/// The `S256` challenge for `verifier` (RFC 7636 §4.2).
pub fn challenge_for(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: whether `BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge`,
/// compared in constant time.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    crate::crypto::constant_time_eq(challenge_for(verifier).as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the verifier is base64url of the 32 listed octets.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_pair_verifies() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        assert_eq!(B64.encode(octets), RFC_VERIFIER);
        assert_eq!(challenge_for(RFC_VERIFIER), RFC_CHALLENGE);
        assert!(verify(RFC_VERIFIER, RFC_CHALLENGE));
        assert!(validate_verifier(RFC_VERIFIER).is_ok());
        assert!(validate_challenge(RFC_CHALLENGE).is_ok());
    }

    #[test]
    fn verify_refuses_other_verifiers_and_challenges() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("verifier off by one char", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", RFC_CHALLENGE),
            ("plain: verifier equals challenge", RFC_CHALLENGE, RFC_CHALLENGE),
            ("challenge with padding", RFC_VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="),
            ("challenge in standard base64", RFC_VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
            ("empty verifier", "", RFC_CHALLENGE),
            ("empty challenge", RFC_VERIFIER, ""),
        ];
        for (name, verifier, challenge) in cases {
            assert!(!verify(verifier, challenge), "{name}");
        }
    }

    #[test]
    fn challenge_must_be_43_base64url_chars() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("sha256 digest", RFC_CHALLENGE, true),
            ("all alphabet chars", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-_0", true),
            ("too short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", false),
            ("too long", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMx", false),
            ("padding", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", false),
            ("plus sign", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", false),
            ("slash", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw/cM", false),
            ("tilde is a verifier char only", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw~cM", false),
            ("space", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw cM", false),
            ("empty", "", false),
            ("non-ascii of same byte length", "\u{e9}Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", false),
        ];
        for (name, challenge, ok) in cases {
            assert_eq!(validate_challenge(challenge).is_ok(), *ok, "{name}");
        }
        assert!(validate_challenge("x")
            .unwrap_err()
            .contains("43 base64url characters"));
    }

    #[test]
    fn verifier_is_43_to_128_unreserved_chars() {
        let cases: Vec<(&str, String, bool)> = vec![
            ("43 chars", "a".repeat(43), true),
            ("128 chars", "a".repeat(128), true),
            (
                "all unreserved punctuation",
                format!("{}-._~", "A".repeat(39)),
                true,
            ),
            ("42 chars", "a".repeat(42), false),
            ("129 chars", "a".repeat(129), false),
            ("empty", String::new(), false),
            ("plus sign", format!("{}+", "a".repeat(42)), false),
            ("slash", format!("{}/", "a".repeat(42)), false),
            ("padding", format!("{}=", "a".repeat(42)), false),
            ("space", format!("{} ", "a".repeat(42)), false),
            ("non-ascii", format!("{}\u{e9}", "a".repeat(41)), false),
        ];
        for (name, verifier, ok) in cases {
            assert_eq!(validate_verifier(&verifier).is_ok(), ok, "{name}");
        }
        assert!(validate_verifier("short")
            .unwrap_err()
            .contains("43 to 128"));
    }
}
