//! The admin API: `Authorization: Bearer <ADMIN_TOKEN>` on every call.

pub mod clients;
pub mod grants;
pub mod users;

use crate::app::Ctx;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::{ErrorCode, OAuthError};
use crate::http::Request;
use crate::oauth::throttle::WINDOW_SECONDS;
use crate::store::{keys, Store};
use crate::token::opaque;
use sha2::{Digest, Sha256};

/// Wrong admin tokens accepted per client address within the window (900 s from the latest).
/// The token has at least 32 characters, so guessing is hopeless anyway; the limit keeps a
/// guesser (or a leaked-token spray) from trying at the Worker's pace.
pub const MAX_ADMIN_FAILURES: u32 = 10;

/// Checks the admin bearer credential in constant time. Both sides are hashed first so the
/// comparison does not even reveal the token's length. Wrong tokens are counted per
/// `CF-Connecting-IP` (one count for all when absent, as locally); past the limit every
/// attempt from there, right or wrong, is `429` until the window ends, so the count cannot be
/// used to test guesses.
pub async fn authorize<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<(), OAuthError> {
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
    let address = req.header("cf-connecting-ip").unwrap_or("");
    let key = keys::admin_failures(&opaque::hash(&format!("admin-address:{address}")));
    let failures: u32 = ctx
        .store
        .get(&key)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if failures >= MAX_ADMIN_FAILURES {
        return Err(OAuthError::new(
            ErrorCode::TooManyRequests,
            format!(
                "Too many wrong admin tokens from this address; retry in {WINDOW_SECONDS} seconds"
            ),
        ));
    }
    let expected = Sha256::digest(ctx.config.admin_token.as_bytes());
    if constant_time_eq(&Sha256::digest(presented.as_bytes()), &expected) {
        return Ok(());
    }
    let count = failures.saturating_add(1).to_string();
    ctx.store.put(&key, &count, Some(WINDOW_SECONDS)).await?;
    Err(OAuthError::new(
        ErrorCode::InvalidToken,
        "Invalid admin token",
    ))
}
