//! The admin API: `Authorization: Bearer <ADMIN_TOKEN>` on every call.

pub mod clients;
pub mod grants;
pub mod users;

use crate::app::Ctx;
use crate::config::Config;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Method, Request};
use crate::router::Route;
use crate::state::throttle::{self, WINDOW_SECONDS};
use crate::state::State;
use crate::store::Store;
use crate::token::opaque;
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

/// Wrong admin tokens accepted per client address within the window (900 s from the latest).
/// The token has at least 32 characters, so guessing is hopeless anyway; the limit keeps a
/// guesser (or a leaked-token spray) from trying at the Worker's pace.
pub const MAX_ADMIN_FAILURES: u32 = 10;

/// Whether this request presents the admin credential: the admin API, and the platform's
/// server-to-server logout (a POST with `Authorization`).
pub fn uses_admin_token(route: &Route, req: &Request) -> bool {
    match route {
        Route::Logout => req.method == Method::Post && req.header("authorization").is_some(),
        Route::AdminClients
        | Route::AdminClient(_)
        | Route::AdminClientSecret(_)
        | Route::AdminUsers
        | Route::AdminUser(_)
        | Route::AdminGrants
        | Route::AdminGrant(_) => true,
        _ => false,
    }
}

/// Runs before every call that [`uses_admin_token`] (one place, so no endpoint can miss it):
/// wrong tokens are counted per `CF-Connecting-IP` (an IPv6 address by its /64; one count for
/// all when absent, as locally). A wrong token takes one of the window's
/// [`MAX_ADMIN_FAILURES`] places *before* it is answered, atomically (the address's Durable
/// Object), so at any concurrency at most that many wrong tokens get their `401`; past it
/// every request from there, right or wrong, is `429` until the window ends, so the count
/// cannot be used to test guesses. A right token goes on to the endpoint, which checks it
/// again.
pub async fn throttle<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<(), OAuthError> {
    let address = req.header("cf-connecting-ip").unwrap_or("");
    let subject = opaque::hash(&format!(
        "admin-address:{}",
        throttle::address_subject(address)
    ));
    let state = ctx.state();
    let too_many = || {
        OAuthError::new(
            ErrorCode::TooManyRequests,
            format!(
                "Too many wrong admin tokens from this address; retry in {WINDOW_SECONDS} seconds"
            ),
        )
    };
    match authorize(ctx.config, req) {
        // A guess: answered 401 only if it took a place in the window.
        Err(e) if req.header("authorization").is_some() => {
            if !state
                .count_failure(&subject, MAX_ADMIN_FAILURES, ctx.now)
                .await?
            {
                return Err(too_many());
            }
            Err(e)
        }
        // A right token (or none at all, not a guess): refused while the address is throttled.
        _ => {
            if state
                .failures_exhausted(&subject, MAX_ADMIN_FAILURES, ctx.now)
                .await?
            {
                return Err(too_many());
            }
            Ok(())
        }
    }
}

/// Default page size of the admin listings.
pub const DEFAULT_PAGE: usize = 50;

/// `limit` (1 to 100, default 50) and `cursor` (a previous page's `next_cursor`) of a
/// listing: every admin listing is a page at a time, so no request grows with the data.
pub fn page_query(
    params: &crate::oauth::params::Params,
) -> Result<(usize, Option<&str>), OAuthError> {
    let max = crate::state::MAX_PAGE;
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                OAuthError::invalid_request(format!("limit must be a number from 1 to {max}"))
            })?,
    };
    let cursor = params.get("cursor");
    // Cursors are what a previous page returned: short, URL-safe.
    if cursor.is_some_and(|c| {
        c.is_empty()
            || c.len() > 1024
            || !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.=+/:".contains(&b))
    }) {
        return Err(OAuthError::invalid_request(
            "cursor must be the next_cursor of a previous page",
        ));
    }
    Ok((limit, cursor))
}
