//! `POST /api/oauth/authorize`: the user's decision from the consent page.
//!
//! The form is valid only with the session it was shown to and its CSRF token, and only once.
//! Approve → a code for the checked scopes (a subset of those requested); deny, or approve
//! with nothing checked → `access_denied` (RFC 6749 §4.1.2.1). Both are 303 redirects.

use super::pages;
use crate::app::Ctx;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::oauth::authorize_request::error_redirect_url;
use crate::oauth::code::{self, CodeRequest};
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::state::CodeConsent;
use crate::store::{pending, Store};
use crate::token::opaque;

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let stale = |m: &str| {
        Ok(pages::error(
            400,
            "This request can no longer be completed",
            m,
        ))
    };
    let params = match Params::from_body(req, &["scope"]) {
        Ok(p) => p,
        Err(e) => return stale(&e.description),
    };
    // Checked before the pending request is consumed, so a malformed form loses nothing.
    let approve = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return stale("decision must be approve or deny"),
    };
    let Some((at, session)) = session::current(ctx, req).await? else {
        return stale("You are no longer signed in. Start again from the application.");
    };
    let Some(pending) =
        pending::find(ctx.store, params.get("request_id").unwrap_or(""), ctx.now).await?
    else {
        return stale("This authorization request has expired or was already answered. Start again from the application.");
    };
    let csrf_ok = params.get("csrf_token").is_some_and(|t| {
        constant_time_eq(opaque::hash(t).as_bytes(), pending.csrf_hash.as_bytes())
    });
    if !csrf_ok || pending.session_hash != at.hash || pending.sub != session.sub {
        return Ok(pages::error(
            403,
            "Request refused",
            "The form did not come from this session.",
        ));
    }
    // The client may have been deleted or lost this redirect URI while the page was open.
    // (A metadata-document client cannot be deleted, and was checked at authorize: its
    // cached copy may have expired since, and the form carries nothing to fetch it again.)
    let document = crate::oauth::client_document::is_document_id(&pending.client_id);
    let client = crate::store::clients::get(ctx.store, &pending.client_id).await?;
    if !document
        && !client.is_some_and(|c| {
            crate::oauth::redirect_uri::matches(&c.redirect_uris, &pending.redirect_uri)
        })
    {
        return stale("This application is no longer registered with that redirect URI.");
    }
    let granted: Vec<String> = pending
        .scopes
        .iter()
        .filter(|s| params.all("scope").contains(&s.as_str()))
        .cloned()
        .collect();
    let approved = approve && !granted.is_empty();
    if !approved {
        let error = OAuthError::new(ErrorCode::AccessDenied, "The user denied the request");
        let url = error_redirect_url(
            &pending.redirect_uri,
            &error,
            pending.state.as_deref(),
            &ctx.config.issuer,
        );
        return Ok(Response::redirect(303, &url));
    }
    let request_id = params.get("request_id").unwrap_or("").to_string();
    let consent = CodeConsent::Approved {
        request_id,
        ttl: ctx.config.refresh_token_ttl,
    };
    let issued = code::issue(
        ctx,
        CodeRequest {
            client_id: &pending.client_id,
            redirect_uri: &pending.redirect_uri,
            state: pending.state.as_deref(),
            code_challenge: &pending.code_challenge,
            sub: &session.sub,
            sign_in: crate::oauth::oidc::sign_in(
                &granted,
                &at.hash,
                &session,
                pending.nonce.as_deref(),
            ),
            scopes: granted,
            resource: pending.resource.clone(),
        },
        consent,
    )
    .await?;
    match issued {
        Some(url) => Ok(Response::redirect(303, &url)),
        None => stale(
            "This authorization request was already answered. Start again from the application.",
        ),
    }
}
