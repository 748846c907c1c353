//! Opaque secrets (authorization codes, refresh tokens, client secrets, session ids): random,
//! at least 256 bits, and kept at rest only as a SHA-256 hash. A fast hash is right here
//! because the inputs are high-entropy; passwords use a KDF instead.

use crate::b64::URL_SAFE_NO_PAD as B64;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use sha2::{Digest, Sha256};

/// A new random token: 32 bytes (256 bits), base64url without padding (43 characters).
pub fn new_secret(crypto: &impl Crypto) -> Result<String, OAuthError> {
    random_b64(crypto, 32)
}

/// A new random identifier of `bytes` random bytes, base64url.
pub fn random_b64(crypto: &impl Crypto, bytes: usize) -> Result<String, OAuthError> {
    let mut buf = vec![0u8; bytes];
    crypto.random_bytes(&mut buf)?;
    Ok(B64.encode(buf))
}

/// The at-rest form of a secret: base64url(SHA-256(secret)).
pub fn hash(secret: &str) -> String {
    B64.encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `presented` hashes to `stored_hash`, compared in constant time.
pub fn matches_hash(presented: &str, stored_hash: &str) -> bool {
    crate::crypto::constant_time_eq(hash(presented).as_bytes(), stored_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::native::NativeCrypto;

    #[test]
    fn secrets_are_256_bit_and_distinct() {
        let c = NativeCrypto::new();
        let (a, b) = (new_secret(&c).unwrap(), new_secret(&c).unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn hash_matches_only_its_secret() {
        let h = hash("s3cret");
        assert!(matches_hash("s3cret", &h));
        assert!(!matches_hash("s3cret ", &h));
        assert_ne!(h, "s3cret");
    }
}
