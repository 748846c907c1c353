//! `POST /api/oauth/login/assertion`: delegated login. The platform, which already signed its
//! user in, posts a short-lived HS256 assertion (form field `assertion`, never in a URL) and
//! the `return_to` it was given. A valid, unseen assertion whose `nonce` claim matches this
//! browser's login-nonce cookie starts a session; the nonce stops an attacker from signing a
//! victim's browser into the attacker's account with an assertion of their own (login CSRF).

use super::login::safe_return_to;
use super::pages;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::login_assertion::verify_assertion;
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::store::{keys, ttl_until, Store};

pub const PATH: &str = "/api/oauth/login/assertion";

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let refuse = |m: &str| Ok(pages::error(400, "Sign-in failed", m));
    let Some(secret) = ctx.config.login_assertion_secret.as_deref() else {
        return Ok(pages::error(
            404,
            "Not available",
            "Delegated login is not configured (LOGIN_ASSERTION_SECRET).",
        ));
    };
    let params = match Params::from_body(req, &[]) {
        Ok(p) => p,
        Err(e) => return refuse(&e.description),
    };
    let Some(token) = params.get("assertion") else {
        return refuse("assertion is required");
    };
    let assertion = match verify_assertion(token, secret.as_bytes(), &ctx.config.issuer, ctx.now) {
        Ok(a) => a,
        Err(reason) => return refuse(&format!("The login assertion was refused: {reason}")),
    };
    let cookie = session::read_cookie(req, session::login_nonce_cookie_name(ctx.config));
    let bound = cookie.is_some_and(|c| session::csrf_matches(c, assertion.nonce.as_deref()));
    if !bound {
        return refuse("The login assertion was refused: its nonce does not match this browser's sign-in. Start again from the application.");
    }
    // One use per assertion: remember its jti until it would have expired anyway.
    let jti_key = keys::assertion_jti(&crate::token::opaque::hash(&assertion.jti));
    if ctx.store.get(&jti_key).await?.is_some() {
        return refuse("The login assertion was refused: it was already used");
    }
    session::end_current(ctx, req).await?;
    // The session first, then the jti: a failure of ours must not burn the platform's
    // assertion (and KV would refuse to write and then release one key within a second).
    let cookie = session::start_hashed(
        ctx,
        &assertion.sub,
        assertion.name.clone(),
        assertion.email.clone(),
        assertion.picture.clone(),
    )
    .await?
    .cookie;
    ctx.store
        .put(&jti_key, "", Some(ttl_until(assertion.exp, ctx.now)))
        .await?;
    let return_to = safe_return_to(
        params
            .get("return_to")
            .map(strip_issuer(ctx.config.issuer.as_str())),
    );
    let clear = session::set_cross_site_cookie(
        ctx.config,
        session::login_nonce_cookie_name(ctx.config),
        "",
        0,
    );
    Ok(Response::redirect(303, return_to)
        .with_header("set-cookie", &cookie)
        .with_header("set-cookie", &clear)
        .no_store())
}

/// The platform echoes the absolute `return_to` we gave it; accept it as our own path.
fn strip_issuer(issuer: &str) -> impl Fn(&str) -> &str + '_ {
    move |v: &str| v.strip_prefix(issuer).unwrap_or(v)
}
