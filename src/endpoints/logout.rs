//! `POST /api/oauth/logout`: ends provider sessions.
//!
//! - From the user's browser: the session cookie plus the session's `csrf_token`; ends that
//!   session and clears the cookie. `GET` shows a page with the sign-out button.
//! - From the platform's server when its user logs out: `Authorization: Bearer <ADMIN_TOKEN>`
//!   and the user's `sub`; ends all of that user's sessions.
//!
//! Either way an optional `revoke` also revokes the user's grants: `all`, or a `client_id`.
//! The sessions are ended first, so a sign-out never fails half-way with the user still
//! signed in; a `revoke` that cannot name a client revokes nothing (as RFC 7009 §2.2 answers
//! for an unknown token).

use super::{admin, pages};
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::oauth::{identifiers, revocation};
use crate::state::{sessions, State};
use crate::store::Store;
use crate::ui;
use serde_json::json;

pub async fn get<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    Ok(match session::current(ctx, req).await? {
        Some((_, s)) => pages::html(200, ui::apps::logout_page(s.label(), &s.csrf_token)),
        None => pages::error(200, "Signed out", "You are not signed in."),
    })
}

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    if req.header("authorization").is_some() {
        return from_platform(ctx, req).await;
    }
    let params = match Params::from_body(req, &[]) {
        Ok(p) => p,
        Err(e) => return Ok(pages::error(400, "Sign-out failed", &e.description)),
    };
    let Some((hash, session)) = session::current(ctx, req).await? else {
        return Ok(pages::error(200, "Signed out", "You are not signed in."));
    };
    if !session::csrf_matches(&session.csrf_token, params.get("csrf_token")) {
        return Ok(pages::error(
            403,
            "Request refused",
            "The form did not come from this session.",
        ));
    }
    sessions::delete(ctx.store, &hash, &session).await?;
    let clear = session::set_cookie(ctx.config, session::session_cookie_name(ctx.config), "", 0);
    // Ended before the optional revocation: should that fail, the user is signed out anyway.
    revoke_requested(ctx, &session.sub, params.get("revoke")).await?;
    Ok(pages::error(200, "Signed out", "You are signed out.").with_header("set-cookie", &clear))
}

async fn from_platform<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    admin::authorize(ctx.config, req)?;
    let params = Params::from_body(req, &[])?;
    let sub = params.require("sub")?;
    identifiers::check_sub(sub).map_err(OAuthError::invalid_request)?;
    let sessions_ended = sessions::delete_all_for(ctx.store, sub).await?;
    let grants_revoked = revoke_requested(ctx, sub, params.get("revoke")).await?;
    Ok(Response::json(
        200,
        &json!({"sessions_ended": sessions_ended, "grants_revoked": grants_revoked}),
    ))
}

async fn revoke_requested<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    revoke: Option<&str>,
) -> Result<usize, OAuthError> {
    match revoke {
        None => Ok(0),
        Some("all") => {
            let revoked = ctx.state().revoke_user(sub, None, ctx.now).await?;
            revocation::user_revoked(ctx, sub).await?;
            Ok(revoked)
        }
        Some(client_id) if identifiers::is_client_id(client_id) => {
            let revoked = ctx
                .state()
                .revoke_user(sub, Some(client_id), ctx.now)
                .await?;
            revocation::pair_revoked(ctx, sub, client_id).await?;
            Ok(revoked)
        }
        // No client can have this id, so the user has no grant of it to revoke.
        Some(_) => Ok(0),
    }
}
