//! Platform cryptography behind one trait.
//!
//! In the Worker these calls go to the runtime's WebCrypto (`crypto.subtle`, native code in
//! workerd): measured there, ES256 signing costs tens of microseconds against ~270 µs for
//! pure-Rust wasm, and it keeps the bundle small (see README, Performance). Natively,
//! `native::NativeCrypto` implements the same operations for tests. JWT encoding, claim checks
//! and hashing stay in portable Rust; only raw signature, KDF and randomness go through here.

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

use crate::error::OAuthError;
use crate::token::keys::SigningKey;

#[allow(async_fn_in_trait)]
pub trait Crypto {
    /// JWS signature of `message` (RFC 7515 §5.1) with the key's algorithm, in JWS encoding
    /// (raw r||s for ECDSA).
    async fn sign(&self, key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, OAuthError>;

    /// Whether `signature` is valid for `message` under the key's public part.
    async fn verify(
        &self,
        key: &SigningKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, OAuthError>;

    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), 32-byte output.
    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], OAuthError>;

    /// Fills `buf` from a cryptographically secure source.
    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), OAuthError>;
}

/// Compares two byte strings in time that depends only on their lengths, so secret checks do
/// not leak how many leading bytes matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
