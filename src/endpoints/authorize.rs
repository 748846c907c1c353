//! `GET /api/oauth/authorize`: the authorization request (RFC 6749 §4.1.1, RFC 7636).
//!
//! Validates the request, then: no session → login (the built-in login page, or a redirect to
//! the platform's login URL in delegated mode); a session and a remembered consent covering
//! the requested scopes → a code at once (not for a public client redirecting to loopback or
//! a custom scheme, RFC 8252 §8.6); otherwise → the consent page. OpenID Connect (Core
//! §3.1.2.1): `prompt=login` or a sign-in older than `max_age` signs in again, `prompt=consent`
//! shows the consent page, and `prompt=none` never shows a page: `login_required`,
//! `consent_required` or `interaction_required` go back to the client instead.

use super::pages;
use crate::app::Ctx;
use crate::config::LoginMode;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::model::{PendingAuthorization, Session};
use crate::oauth::authorize_request::{self, error_redirect_url, AuthorizeError, AuthorizeRequest};
use crate::oauth::code::{self, SessionCodeRequest};
use crate::oauth::oidc;
use crate::oauth::session::{self, FORM_TTL};
use crate::state::State;
use crate::store::{pending, Store};
use crate::token::opaque;
use crate::ui;

pub const PATH: &str = "/api/oauth/authorize";

pub async fn get<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let request = match authorize_request::validate(ctx.store, ctx.config, &req.query).await {
        Ok(request) => request,
        Err(AuthorizeError::Page(message)) => {
            return Ok(pages::error(400, "Invalid authorization request", &message))
        }
        Err(AuthorizeError::Unavailable(error)) => return Err(error),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            let url =
                error_redirect_url(&redirect_uri, &error, state.as_deref(), &ctx.config.issuer);
            return Ok(Response::redirect(302, &url));
        }
    };
    // A deployment that cannot sign ID tokens says so before anyone signs in (issue 15).
    if oidc::is_openid(&request.scopes) {
        let alg = oidc::client::id_token_alg(&request.client);
        if let Err(e) = oidc::id_token_key(ctx.config, alg) {
            return Ok(pages::error(
                500,
                "Sign-in is not configured",
                e.debug.as_deref().unwrap_or(&e.description),
            ));
        }
    }
    // The login and consent forms end in a redirect to the client (CSP form-action).
    let to_client = |page: Response| pages::allow_form_target(page, &request.redirect_uri);
    let interaction = &request.interaction;
    // OIDC Core §3.1.2.1: `prompt=none` never shows a page; the client learns why instead.
    let refuse = |code: ErrorCode, why: &str| {
        let error = OAuthError::new(code, why);
        let url = error_redirect_url(
            &request.redirect_uri,
            &error,
            request.state.as_deref(),
            &ctx.config.issuer,
        );
        Response::redirect(302, &url)
    };
    // `prompt=login` or a sign-in older than `max_age`: sign in again (auth_time follows).
    let earliest = interaction.earliest_sign_in(ctx.now);
    let at = earliest.and(session::cookie_at(ctx, req));
    let current = match (at, earliest) {
        (Some(at), Some(signed_in_after)) if request.may_skip_consent() => {
            // One step: the session and, if the remembered consent covers the request, a code
            // (on the durable backend one call to the user's object, no KV read).
            let found = code::issue_in_session(
                ctx,
                &at,
                SessionCodeRequest {
                    client_id: &request.client.client_id,
                    redirect_uri: &request.redirect_uri,
                    state: request.state.as_deref(),
                    code_challenge: &request.code_challenge,
                    scopes: request.scopes.clone(),
                    nonce: request.nonce.clone(),
                    resource: request.resource.clone(),
                    signed_in_after,
                },
            )
            .await?;
            if let Some(url) = found.redirect {
                return Ok(Response::redirect(302, &url));
            }
            found.session.map(|s| (at, s))
        }
        (Some(at), Some(signed_in_after)) => ctx
            .state()
            .find_session(&at, ctx.now)
            .await?
            .filter(|s| s.created_at >= signed_in_after)
            .map(|s| (at, s)),
        _ => None,
    };
    let Some((at, session)) = current else {
        if interaction.none {
            return Ok(refuse(
                ErrorCode::LoginRequired,
                "The user is not signed in",
            ));
        }
        let back = format!("{PATH}?{}", oidc::prompt::after_sign_in(&req.query));
        return login(
            ctx,
            &back,
            Some(&request.client.client_name),
            Some(interaction),
        )
        .map(to_client);
    };
    if request.may_skip_consent() {
        // Signed in, but the remembered consent does not cover the request (no code above).
        if interaction.none {
            return Ok(refuse(
                ErrorCode::ConsentRequired,
                "The user has not approved these scopes for this application",
            ));
        }
    } else if interaction.none {
        // RFC 8252 §8.6: this client's requests always show the consent page.
        return Ok(refuse(
            ErrorCode::InteractionRequired,
            "This request needs the user to approve it on the consent page",
        ));
    }
    consent_page(ctx, &request, &at.hash, &session)
        .await
        .map(to_client)
}

/// Sends a browser without a session to sign in, then back to `return_to` (a path of ours):
/// the login page, or in delegated mode a redirect to the platform's login URL. An OpenID
/// Connect request's `login_hint` prefills the form; in delegated mode it, `prompt=login` and
/// `max_age` go on to the platform, whose sign-in the session's `auth_time` reports.
pub fn login<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    return_to: &str,
    client_name: Option<&str>,
    interaction: Option<&oidc::prompt::Interaction>,
) -> Result<Response, OAuthError> {
    let login_hint = interaction.and_then(|i| i.login_hint.as_deref());
    match &ctx.config.login {
        LoginMode::Delegated { login_url } => {
            // Login CSRF: the platform must put this nonce in its assertion, and only the
            // browser holding the matching cookie can use that assertion.
            let nonce = opaque::new_secret(ctx.crypto)?;
            let back = ctx.config.url(return_to);
            let sep = if login_url.contains('?') { '&' } else { '?' };
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("return_to", &back)
                .append_pair("nonce", &nonce);
            // OIDC Core §3.1.2.1, passed on: `login_hint` for the platform's own form; and
            // `prompt=login` / `max_age`, since only the platform can sign its user in again
            // (its assertion's arrival is the `auth_time` the ID token reports).
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
            if interaction.is_some_and(|i| i.login) {
                query.append_pair("prompt", "login");
            }
            if let Some(max_age) = interaction.and_then(|i| i.max_age) {
                query.append_pair("max_age", &max_age.to_string());
            }
            let query = query.finish();
            let cookie = session::set_cross_site_cookie(
                ctx.config,
                session::login_nonce_cookie_name(ctx.config),
                &nonce,
                FORM_TTL,
            );
            Ok(Response::redirect(302, &format!("{login_url}{sep}{query}"))
                .with_header("set-cookie", &cookie))
        }
        LoginMode::Builtin => {
            // Login CSRF: a double-submit token, cookie and hidden field must agree.
            let csrf = opaque::new_secret(ctx.crypto)?;
            let page = ui::login::render(&ui::login::LoginPage {
                action: super::login::PATH,
                csrf_token: &csrf,
                return_to,
                email: login_hint.unwrap_or(""),
                error: None,
                client_name,
            });
            let cookie = session::set_cookie(
                ctx.config,
                session::login_csrf_cookie_name(ctx.config),
                &csrf,
                FORM_TTL,
            );
            Ok(pages::html(200, page).with_header("set-cookie", &cookie))
        }
    }
}

async fn consent_page<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    request: &AuthorizeRequest,
    session_hash: &str,
    session: &Session,
) -> Result<Response, OAuthError> {
    let request_id = opaque::random_b64(ctx.crypto, 16)?;
    let csrf = opaque::new_secret(ctx.crypto)?;
    let pending = PendingAuthorization {
        client_id: request.client.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.clone(),
        state: request.state.clone(),
        code_challenge: request.code_challenge.clone(),
        session_hash: session_hash.to_string(),
        csrf_hash: opaque::hash(&csrf),
        sub: session.sub.clone(),
        expires_at: ctx.now + FORM_TTL,
        nonce: request.nonce.clone(),
        resource: request.resource.clone(),
    };
    pending::put(ctx.store, &request_id, &pending, ctx.now).await?;
    let client = &request.client;
    let texts: Vec<String> = request
        .scopes
        .iter()
        .map(|s| ctx.config.scopes.display_description(s))
        .collect();
    let scopes = request
        .scopes
        .iter()
        .zip(&texts)
        .map(|(s, text)| (s.as_str(), text.as_str()))
        .collect();
    // A client known only by its metadata document: say where the user will be sent back.
    let document_note = crate::oauth::client_document::is_document_id(&client.client_id)
        .then(|| {
            let host = crate::weburl::parse(&request.redirect_uri)
                .ok()
                .and_then(|u| u.host)
                .unwrap_or_default();
            format!("Identified only by its own description at {}. After your decision you return to {host}.", client.client_id)
        });
    let page = ui::consent::render(&ui::consent::ConsentPage {
        action: PATH,
        csrf_token: &csrf,
        request_id: &request_id,
        client_name: &client.client_name,
        verified: client.is_verified(),
        client_description: document_note.as_deref().or(client.description.as_deref()),
        logo_uri: client.logo_uri.as_deref(),
        client_uri: client.client_uri.as_deref(),
        scopes,
        user_label: session.label(),
    });
    Ok(pages::html(200, page))
}
