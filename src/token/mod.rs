//! Tokens: JWT signing and verification (access tokens), signing keys and the JWKS, and
//! opaque random tokens stored only as hashes (codes, refresh tokens, secrets).

pub mod jwt;
pub mod keys;
pub mod opaque;
