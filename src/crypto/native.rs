//! Native implementation of [`Crypto`] for tests and tools: ES256 through the `p256` crate,
//! RS256 through the `rsa` crate (ID tokens), PBKDF2 through the `pbkdf2` crate, randomness
//! from the OS.
//!
//! EdDSA keys are served by the Worker's WebCrypto only; natively they report a clear error
//! instead of pretending. The end-to-end tests cover them in workerd.

use super::Crypto;
use crate::error::OAuthError;
use crate::token::keys::{Alg, SigningKey};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as EcSigningKey, VerifyingKey};
use std::cell::RefCell;

#[derive(Default)]
pub struct NativeCrypto {
    /// When set, `random_bytes` returns this counter-based sequence: tests that need
    /// repeatable ids use it.
    fixed_seed: RefCell<Option<u64>>,
}

impl NativeCrypto {
    pub fn new() -> NativeCrypto {
        NativeCrypto::default()
    }

    /// Deterministic "randomness" for tests: byte i of call n is derived from a counter.
    pub fn deterministic(seed: u64) -> NativeCrypto {
        NativeCrypto {
            fixed_seed: RefCell::new(Some(seed)),
        }
    }
}

/// `p256` refuses JWK members it does not know (`kid`, `alg`, `use`), so pass only its own.
fn ec_jwk_text(jwk: &serde_json::Map<String, serde_json::Value>) -> String {
    let members: serde_json::Map<_, _> = jwk
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "kty" | "crv" | "x" | "y" | "d"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::Value::Object(members).to_string()
}

fn unsupported(alg: Alg) -> OAuthError {
    OAuthError::server(format!(
        "{alg:?} is implemented by WebCrypto in the Worker; native crypto supports ES256 and RS256 only"
    ))
}

/// A big-endian integer member of an RSA JWK (RFC 7518 §6.3).
fn rsa_int(
    jwk: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<rsa::BigUint, OAuthError> {
    let text = jwk.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let bytes = crate::b64::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| OAuthError::server(format!("bad RS256 key member {name}")))?;
    Ok(rsa::BigUint::from_bytes_be(&bytes))
}

fn rsa_public(key: &SigningKey) -> Result<rsa::RsaPublicKey, OAuthError> {
    let jwk = &key.public_jwk;
    rsa::RsaPublicKey::new(rsa_int(jwk, "n")?, rsa_int(jwk, "e")?)
        .map_err(|e| OAuthError::server(format!("bad RS256 public key: {e}")))
}

fn rsa_sign(key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, OAuthError> {
    use rsa::signature::{SignatureEncoding, Signer as _};
    let jwk = key
        .private_jwk
        .as_ref()
        .ok_or_else(|| OAuthError::server("signing key has no private part"))?;
    let private = rsa::RsaPrivateKey::from_components(
        rsa_int(jwk, "n")?,
        rsa_int(jwk, "e")?,
        rsa_int(jwk, "d")?,
        vec![rsa_int(jwk, "p")?, rsa_int(jwk, "q")?],
    )
    .map_err(|e| OAuthError::server(format!("bad RS256 key: {e}")))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private);
    Ok(signer.sign(message).to_vec())
}

fn rsa_verify(key: &SigningKey, message: &[u8], signature: &[u8]) -> Result<bool, OAuthError> {
    use rsa::signature::Verifier as _;
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(rsa_public(key)?);
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return Ok(false);
    };
    Ok(verifier.verify(message, &signature).is_ok())
}

impl Crypto for NativeCrypto {
    async fn sign(&self, key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, OAuthError> {
        if key.alg == Alg::RS256 {
            return rsa_sign(key, message);
        }
        if key.alg != Alg::ES256 {
            return Err(unsupported(key.alg));
        }
        let jwk = key
            .private_jwk
            .as_ref()
            .ok_or_else(|| OAuthError::server("signing key has no private part"))?;
        let secret = p256::SecretKey::from_jwk_str(&ec_jwk_text(jwk))
            .map_err(|e| OAuthError::server(format!("bad ES256 key: {e}")))?;
        let signature: Signature = EcSigningKey::from(secret).sign(message);
        Ok(signature.to_bytes().to_vec())
    }

    async fn verify(
        &self,
        key: &SigningKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, OAuthError> {
        if key.alg == Alg::RS256 {
            return rsa_verify(key, message, signature);
        }
        if key.alg != Alg::ES256 {
            return Err(unsupported(key.alg));
        }
        let public = p256::PublicKey::from_jwk_str(&ec_jwk_text(&key.public_jwk))
            .map_err(|e| OAuthError::server(format!("bad ES256 public key: {e}")))?;
        let Ok(signature) = Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(VerifyingKey::from(public)
            .verify(message, &signature)
            .is_ok())
    }

    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], OAuthError> {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
        Ok(out)
    }

    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), OAuthError> {
        let mut seed = self.fixed_seed.borrow_mut();
        match seed.as_mut() {
            Some(counter) => {
                for b in buf.iter_mut() {
                    *counter = counter.wrapping_mul(6364136223846793005).wrapping_add(1);
                    *b = (*counter >> 33) as u8;
                }
                Ok(())
            }
            None => getrandom::fill(buf).map_err(|e| OAuthError::server(format!("rng: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    #[test]
    fn pbkdf2_matches_rfc7914_test_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64); first 32 bytes.
        let out = block_on(NativeCrypto::new().pbkdf2_sha256(b"passwd", b"salt", 1)).unwrap();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn deterministic_rng_repeats_for_same_seed() {
        let (a, b) = (
            NativeCrypto::deterministic(7),
            NativeCrypto::deterministic(7),
        );
        let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
        a.random_bytes(&mut x).unwrap();
        b.random_bytes(&mut y).unwrap();
        assert_eq!(x, y);
        a.random_bytes(&mut y).unwrap();
        assert_ne!(x, y);
    }
}
