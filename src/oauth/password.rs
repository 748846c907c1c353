//! Passwords of built-in accounts.
//!
//! A password is kept only as `pbkdf2-sha256$<iterations>$<salt>$<hash>` (salt and hash in
//! base64url without padding): PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) over a 16-byte random salt,
//! 32 bytes of output. The iteration count travels with the hash, so raising [`ITERATIONS`]
//! later leaves existing accounts verifiable. The KDF itself goes through [`Crypto`], which in
//! the Worker is WebCrypto's native PBKDF2.

use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::OAuthError;

/// workerd's WebCrypto refuses PBKDF2 iteration counts above 100,000, and it runs natively
/// there, so this is both the ceiling and a fair cost.
pub const ITERATIONS: u32 = 100_000;

const SCHEME: &str = "pbkdf2-sha256";
const SALT_LEN: usize = 16;
const MIN_CHARS: usize = 8;
/// Bounds the KDF input so a huge "password" cannot cost us more than a normal one.
pub const MAX_BYTES: usize = 256;

/// Hashes a new password for storage.
pub async fn hash_password(crypto: &impl Crypto, password: &str) -> Result<String, OAuthError> {
    hash_with_iterations(crypto, password, ITERATIONS).await
}

/// [`hash_password`] with a chosen cost; tests use a small one to stay fast.
pub(crate) async fn hash_with_iterations(
    crypto: &impl Crypto,
    password: &str,
    iterations: u32,
) -> Result<String, OAuthError> {
    let mut salt = [0u8; SALT_LEN];
    crypto.random_bytes(&mut salt)?;
    let hash = crypto
        .pbkdf2_sha256(password.as_bytes(), &salt, iterations)
        .await?;
    Ok(format!(
        "{SCHEME}${iterations}${}${}",
        B64.encode(salt),
        B64.encode(hash)
    ))
}

/// Whether `password` matches the stored hash. A stored value we cannot parse is our own
/// data gone wrong, so it is a server error rather than a failed login.
pub async fn verify_password(
    crypto: &impl Crypto,
    password: &str,
    stored: &str,
) -> Result<bool, OAuthError> {
    let (iterations, salt, expected) = parse(stored)
        .map_err(|why| OAuthError::server(format!("stored password hash is malformed: {why}")))?;
    if password.len() > MAX_BYTES {
        // Could never have been set (see validate_new_password); do not spend the KDF on it.
        return Ok(false);
    }
    let actual = crypto
        .pbkdf2_sha256(password.as_bytes(), &salt, iterations)
        .await?;
    Ok(constant_time_eq(&actual, &expected))
}

/// Splits `scheme$iterations$salt$hash` into its decoded parts.
fn parse(stored: &str) -> Result<(u32, Vec<u8>, Vec<u8>), &'static str> {
    let mut parts = stored.split('$');
    let (Some(scheme), Some(iterations), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("expected four '$'-separated fields");
    };
    if scheme != SCHEME {
        return Err("unknown scheme");
    }
    let iterations: u32 = iterations.parse().map_err(|_| "bad iteration count")?;
    if iterations == 0 || iterations > ITERATIONS {
        // Above the ceiling WebCrypto would refuse it anyway.
        return Err("iteration count out of range");
    }
    let salt = B64.decode(salt).map_err(|_| "salt is not base64url")?;
    if salt.is_empty() {
        return Err("empty salt");
    }
    let hash = B64.decode(hash).map_err(|_| "hash is not base64url")?;
    if hash.len() != 32 {
        return Err("hash is not 32 bytes");
    }
    Ok((iterations, salt, hash))
}

/// Rules for a password being set. The message is shown to the user.
pub fn validate_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!(
            "password must be at least {MIN_CHARS} characters long"
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(format!("password must be at most {MAX_BYTES} bytes long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::native::NativeCrypto;
    use crate::error::ErrorCode;
    use futures_executor::block_on;

    fn quick_hash(password: &str) -> String {
        block_on(hash_with_iterations(&NativeCrypto::new(), password, 10)).unwrap()
    }

    fn check(password: &str, stored: &str) -> Result<bool, OAuthError> {
        block_on(verify_password(&NativeCrypto::new(), password, stored))
    }

    #[test]
    fn hash_password_uses_the_full_cost_and_verifies() {
        let stored = block_on(hash_password(&NativeCrypto::new(), "correct horse")).unwrap();
        let fields: Vec<&str> = stored.split('$').collect();
        assert_eq!(fields[0], "pbkdf2-sha256");
        assert_eq!(fields[1], "100000");
        assert_eq!(B64.decode(fields[2]).unwrap().len(), 16);
        assert_eq!(B64.decode(fields[3]).unwrap().len(), 32);
        assert_eq!(check("correct horse", &stored), Ok(true));
    }

    #[test]
    fn only_the_right_password_verifies() {
        let stored = quick_hash("hunter2hunter2");
        let cases = [
            ("same password", "hunter2hunter2", true),
            ("different case", "Hunter2hunter2", false),
            ("trailing space", "hunter2hunter2 ", false),
            ("prefix", "hunter2", false),
            ("empty", "", false),
            ("over the length bound", &*"h".repeat(MAX_BYTES + 1), false),
        ];
        for (name, password, ok) in cases {
            assert_eq!(check(password, &stored), Ok(ok), "{name}");
        }
    }

    #[test]
    fn salts_differ_so_equal_passwords_hash_differently() {
        let (a, b) = (quick_hash("same password"), quick_hash("same password"));
        assert_ne!(a, b);
        assert_eq!(check("same password", &a), Ok(true));
        assert_eq!(check("same password", &b), Ok(true));
    }

    #[test]
    fn stored_iteration_count_is_used() {
        // RFC 7914 §11 vector with c=1: P="passwd", S="salt".
        let stored = format!(
            "pbkdf2-sha256$1${}${}",
            B64.encode(b"salt"),
            "VawEblbjCJ_sFpHCJUS2BflBhSFt3gRl5oudV8INrLw"
        );
        assert_eq!(check("passwd", &stored), Ok(true));
        let slower = stored.replacen("$1$", "$2$", 1);
        assert_eq!(check("passwd", &slower), Ok(false));
    }

    #[test]
    fn malformed_stored_hash_is_a_server_error() {
        let good = quick_hash("password123");
        let salt = good.split('$').nth(2).unwrap().to_string();
        let hash = good.split('$').nth(3).unwrap().to_string();
        let cases = [
            ("empty", String::new()),
            ("plain text", "password123".into()),
            ("too few fields", format!("pbkdf2-sha256$10${salt}")),
            ("too many fields", format!("{good}$x")),
            ("other scheme", format!("bcrypt$10${salt}${hash}")),
            (
                "iterations not a number",
                format!("pbkdf2-sha256$ten${salt}${hash}"),
            ),
            (
                "negative iterations",
                format!("pbkdf2-sha256$-1${salt}${hash}"),
            ),
            ("zero iterations", format!("pbkdf2-sha256$0${salt}${hash}")),
            (
                "above the ceiling",
                format!("pbkdf2-sha256$100001${salt}${hash}"),
            ),
            ("salt not base64url", format!("pbkdf2-sha256$10$!!${hash}")),
            ("empty salt", format!("pbkdf2-sha256$10$${hash}")),
            (
                "hash not base64url",
                format!("pbkdf2-sha256$10${salt}$a+b/"),
            ),
            ("short hash", format!("pbkdf2-sha256$10${salt}$AAAA")),
        ];
        for (name, stored) in cases {
            let err = check("password123", &stored).expect_err(name);
            assert_eq!(err.code, ErrorCode::ServerError, "{name}");
        }
    }

    #[test]
    fn new_password_rules() {
        let cases = [
            ("8 ascii chars", "abcdefgh".to_string(), true),
            ("8 non-ascii chars", "\u{e9}".repeat(8), true),
            ("256 bytes", "a".repeat(256), true),
            ("7 chars", "abcdefg".into(), false),
            ("empty", String::new(), false),
            ("257 bytes", "a".repeat(257), false),
            ("129 two-byte chars", "\u{e9}".repeat(129), false),
        ];
        for (name, password, ok) in cases {
            assert_eq!(validate_new_password(&password).is_ok(), ok, "{name}");
        }
        assert!(validate_new_password("short")
            .unwrap_err()
            .contains("at least 8"));
    }
}
