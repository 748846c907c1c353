//! Native ES256 verification (the `p256` crate) for tests and tools outside the Worker.
//! RS256 and EdDSA are verified by WebCrypto in the Worker only; here they report an error
//! rather than pretend.

use crate::jwks::{Alg, Jwk};
use crate::verifier::SignatureVerifier;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};

#[derive(Debug, Default, Clone, Copy)]
pub struct NativeEs256;

impl SignatureVerifier for NativeEs256 {
    async fn verify(&self, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        if key.alg != Alg::ES256 {
            return Err(format!(
                "{} is verified by WebCrypto in the Worker only",
                key.alg.as_str()
            ));
        }
        let jwk = serde_json::Value::Object(key.params.clone()).to_string();
        let public =
            p256::PublicKey::from_jwk_str(&jwk).map_err(|e| format!("bad ES256 key: {e}"))?;
        let Ok(signature) = Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(VerifyingKey::from(public)
            .verify(message, &signature)
            .is_ok())
    }
}
