//! The admin API: `Authorization: Bearer <ADMIN_TOKEN>` on every call.

pub mod clients;
pub mod grants;
pub mod users;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::error::{ErrorCode, OAuthError};
use crate::http::Request;
use sha2::{Digest, Sha256};

/// Checks the admin bearer credential in constant time. Both sides are hashed first so the
/// comparison does not even reveal the token's length.
pub fn authorize(config: &Config, req: &Request) -> Result<(), OAuthError> {
    let presented = req
        .header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidToken,
                "Admin API requires Authorization: Bearer <ADMIN_TOKEN>",
            )
        })?;
    let expected = Sha256::digest(config.admin_token.as_bytes());
    if constant_time_eq(&Sha256::digest(presented.as_bytes()), &expected) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "Invalid admin token",
        ))
    }
}
