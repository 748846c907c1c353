//! Throttling password guessing at the built-in login: every attempt is counted per account
//! and per client address *before* the password KDF runs; past the limit, sign-in is refused
//! for the rest of the window without evaluating the password. The counting itself is a
//! state operation (`state::throttle` explains the guarantee per backend).
//!
//! The flip side of per-account limits, an attacker locking an account out for 15 minutes by
//! failing on purpose, is the usual trade-off.

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
pub use crate::state::throttle::WINDOW_SECONDS;
use crate::state::throttle::{self, MAX_ADDRESS_ATTEMPTS};
use crate::state::State;
use crate::store::Store;

/// Counts this attempt; `false` when the address or the account used up its window.
pub async fn allow_attempt<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    email: &str,
    address: Option<&str>,
) -> Result<bool, OAuthError> {
    if let Some(address) = address {
        let key = throttle::address_key(address);
        if throttle::kv_counted(ctx.store, &key).await? >= MAX_ADDRESS_ATTEMPTS as usize {
            return Ok(false);
        }
    }
    let account = throttle::account_key(email);
    Ok(ctx.state().count_sign_in_attempt(&account, ctx.now).await?)
}

/// A wrong password from `address` counts against it (failures only, see `state::throttle`).
pub async fn failed<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    address: Option<&str>,
) -> Result<(), OAuthError> {
    if let Some(address) = address {
        throttle::kv_record(ctx.store, &throttle::address_key(address), ctx.now).await?;
    }
    Ok(())
}

/// A successful sign-in clears the account's count (see `state::throttle` for why).
pub async fn succeeded<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    email: &str,
) -> Result<(), OAuthError> {
    let account = throttle::account_key(email);
    Ok(ctx
        .state()
        .clear_sign_in_attempts(&account, ctx.now)
        .await?)
}
