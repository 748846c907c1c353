//! `POST /api/oauth/logout`: ends provider sessions.
//!
//! - From the user's browser: the session cookie plus the session's `csrf_token`; ends that
//!   session and clears the cookie. `GET` shows a page with the sign-out button.
//! - From the platform's server when its user logs out: `Authorization: Bearer <ADMIN_TOKEN>`
//!   and the user's `sub`; ends all of that user's sessions.
//!
//! - From a relying party (OpenID Connect RP-Initiated Logout 1.0, `oauth::oidc::logout`):
//!   `GET` (or a `POST` form without `csrf_token`) with `id_token_hint`, `client_id`,
//!   `post_logout_redirect_uri`, `state`. A hint naming the signed-in user ends the session at
//!   once; otherwise a confirmation page with the session's CSRF token posts back here. The session ends before the browser is sent to the
//!   registered `post_logout_redirect_uri` (with `state`); an unregistered one, or a bad hint,
//!   gets an error page and no redirect.
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
use crate::oauth::oidc::logout::{self as rp_logout, RpLogout};
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::oauth::{identifiers, revocation};
use crate::state::State;
use crate::store::Store;
use crate::ui;
use serde_json::json;

pub async fn get<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let rp = match Params::from_query(&req.query) {
        Ok(params) => rp_logout::parse(ctx, &params).await?,
        Err(e) => Err(e.description),
    };
    let rp = match rp {
        Ok(rp) => rp,
        Err(message) => return Ok(pages::error(400, "Sign-out request refused", &message)),
    };
    if let Some(rp) = rp {
        return relying_party(ctx, req, rp).await;
    }
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
    // The confirmation form of an RP-initiated logout: checked again before anything ends.
    let rp = match rp_logout::parse(ctx, &params).await? {
        Ok(rp) => rp,
        Err(message) => return Ok(pages::error(400, "Sign-out request refused", &message)),
    };
    // RP-Initiated Logout 1.0 §2: a relying party may send its request by POST as well as
    // GET. Without the confirmation form's csrf_token it is that request, answered as the GET.
    if params.get("csrf_token").is_none() {
        if let Some(rp) = rp {
            return relying_party(ctx, req, rp).await;
        }
    }
    let Some((hash, session)) = session::current(ctx, req).await? else {
        if let Some(rp) = &rp {
            return Ok(signed_out(rp, None));
        }
        return Ok(pages::error(200, "Signed out", "You are not signed in."));
    };
    if !session::csrf_matches(&session.csrf_token, params.get("csrf_token")) {
        return Ok(pages::error(
            403,
            "Request refused",
            "The form did not come from this session.",
        ));
    }
    ctx.state().end_session(&hash, &session).await?;
    let clear = session::set_cookie(ctx.config, session::session_cookie_name(ctx.config), "", 0);
    // Ended before the optional revocation: should that fail, the user is signed out anyway.
    revoke_requested(ctx, &session.sub, params.get("revoke")).await?;
    if let Some(rp) = &rp {
        return Ok(signed_out(rp, Some(&clear)));
    }
    Ok(pages::error(200, "Signed out", "You are signed out.").with_header("set-cookie", &clear))
}

/// A relying party's logout request, validated: end the session now when the hint was issued
/// in this very session (its `sid`), else ask (CSRF form); then the registered URI, or the
/// signed-out page. A hint of the same user from an earlier session (any relying party keeps
/// those, expired hints are valid) would otherwise let any page sign the user out with a GET.
async fn relying_party<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    rp: RpLogout,
) -> Result<Response, OAuthError> {
    let Some((hash, session)) = session::current(ctx, req).await? else {
        // Nothing to end: back to the application, or say so.
        return Ok(signed_out(&rp, None));
    };
    let this_session = rp.hint_sub.as_deref() == Some(session.sub.as_str())
        && rp.hint_sid.as_deref() == Some(crate::oauth::oidc::sid(&hash.hash).as_str());
    if this_session {
        ctx.state().end_session(&hash, &session).await?;
        let clear =
            session::set_cookie(ctx.config, session::session_cookie_name(ctx.config), "", 0);
        return Ok(signed_out(&rp, Some(&clear)));
    }
    let client_name = match &rp.client_id {
        Some(id) => crate::store::clients::get(ctx.store, id)
            .await?
            .map(|c| c.client_name),
        None => None,
    };
    let page = ui::logout_confirm::render(&ui::logout_confirm::LogoutConfirm {
        user_label: session.label(),
        csrf_token: &session.csrf_token,
        client_name: client_name.as_deref(),
        client_id: rp.client_id.as_deref(),
        post_logout_redirect_uri: rp.redirect.as_deref(),
        state: rp.state.as_deref(),
    });
    let page = pages::html(200, page);
    Ok(match &rp.redirect {
        // The form's answer redirects there (CSP form-action).
        Some(uri) => pages::allow_form_target(page, uri),
        None => page,
    })
}

/// After the session ended (or when there was none): 303 to the registered URI with `state`,
/// or the signed-out page; `clear` deletes the session cookie.
fn signed_out(rp: &RpLogout, clear: Option<&str>) -> Response {
    let response = match rp.target() {
        Some(url) => Response::redirect(303, &url),
        None => pages::error(200, "Signed out", "You are signed out."),
    };
    match clear {
        Some(cookie) => response.with_header("set-cookie", cookie),
        None => response,
    }
}

async fn from_platform<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    admin::authorize(ctx.config, req)?;
    let params = Params::from_body(req, &[])?;
    let sub = params.require("sub")?;
    identifiers::check_sub(sub).map_err(OAuthError::invalid_request)?;
    let sessions_ended = ctx.state().end_all_sessions(sub, ctx.now).await?;
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
