//! `POST /api/oauth/login`: built-in account sign-in from the login page.
//!
//! Checks the login CSRF token (cookie and form must agree), the email and password, then
//! starts a new session and sends the browser back (303) to the authorization request it came
//! from. Only paths under `/api/oauth/authorize` are accepted as `return_to`: no open redirect.

use super::pages;
use crate::app::Ctx;
use crate::config::LoginMode;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::params::Params;
use crate::oauth::{password, session, throttle};
use crate::store::{users, Store};
use crate::ui;

pub const PATH: &str = "/api/oauth/login";

/// Verified when the email is unknown, so both failures cost the same KDF time and the
/// response time does not reveal which accounts exist.
const DUMMY_HASH: &str =
    "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A `return_to` we may redirect to: a path of ours, never a URL to elsewhere, and only
/// visible ASCII so it is a valid `Location` header.
pub fn safe_return_to(value: Option<&str>) -> &str {
    let header_safe = |v: &str| v.bytes().all(|b| (0x21..=0x7e).contains(&b));
    match value {
        Some(v)
            if (v.starts_with("/api/oauth/authorize?")
                || v == "/account/apps"
                || v == "/developers"
                || v.starts_with("/developers/"))
                && header_safe(v) =>
        {
            v
        }
        _ => "/account/apps",
    }
}

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    if let LoginMode::Delegated { .. } = ctx.config.login {
        return Ok(pages::error(
            404,
            "Not available",
            "Password sign-in is disabled: this provider uses the platform's login.",
        ));
    }
    let params = match Params::from_body(req, &[]) {
        Ok(p) => p,
        Err(e) => return Ok(pages::error(400, "Sign-in failed", &e.description)),
    };
    let return_to = safe_return_to(params.get("return_to")).to_string();
    let cookie = session::read_cookie(req, session::login_csrf_cookie_name(ctx.config));
    let csrf_ok = cookie.is_some_and(|c| session::csrf_matches(c, params.get("csrf_token")));
    if !csrf_ok {
        return Ok(pages::error(403, "Sign-in refused", "The sign-in form expired or did not come from this site. Go back to the application and start again."));
    }
    // Lower-cased as `users::find_by_email` does, so the throttle counts one account once.
    let email = crate::email::normalize(params.get("email").unwrap_or(""));
    let pass = params.get("password").unwrap_or("");
    // Cloudflare sets CF-Connecting-IP; locally there is none and only accounts are counted.
    if !throttle::allow_attempt(ctx, &email, req.header("cf-connecting-ip")).await? {
        return Ok(pages::error(
            429,
            "Too many attempts",
            "Too many failed sign-ins. Wait 15 minutes, then try again.",
        ));
    }
    let user = if email.is_empty() {
        None
    } else {
        users::find_by_email(ctx.store, &email).await?
    };
    let stored = user
        .as_ref()
        .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let valid = password::verify_password(ctx.crypto, pass, stored).await? && user.is_some();
    let Some(user) = user.filter(|_| valid) else {
        throttle::failed(ctx, req.header("cf-connecting-ip")).await?;
        let csrf = cookie.unwrap_or_default();
        let page = ui::login::render(&ui::login::LoginPage {
            action: PATH,
            csrf_token: csrf,
            return_to: &return_to,
            email: &email,
            error: Some("Incorrect email or password."),
            client_name: None,
        });
        return Ok(pages::html(401, page));
    };
    throttle::succeeded(ctx, &email).await?;
    session::end_current(ctx, req).await?;
    let started = session::start_hashed(
        ctx,
        &user.sub,
        user.name.clone(),
        Some(user.email.clone()),
        user.picture.clone(),
    )
    .await?;
    // The account may have been deleted while the password was checked: its deletion ends
    // the sessions it can see, and this one was written only now. Looked up again after the
    // write, a deleted account is found gone and the session is ended here (issue 18).
    let still = users::find_by_email(ctx.store, &email).await?;
    if still.is_none_or(|u| u.sub != user.sub) {
        session::end_started(ctx, &started.at, &started.session).await?;
        return Ok(pages::error(
            401,
            "Sign-in failed",
            "This account no longer exists.",
        ));
    }
    let clear_csrf = session::set_cookie(
        ctx.config,
        session::login_csrf_cookie_name(ctx.config),
        "",
        0,
    );
    Ok(Response::redirect(303, &return_to)
        .with_header("set-cookie", &started.cookie)
        .with_header("set-cookie", &clear_csrf)
        .no_store())
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_only_allows_our_own_paths() {
        let cases = [
            (
                Some("/api/oauth/authorize?client_id=a"),
                "/api/oauth/authorize?client_id=a",
            ),
            (Some("https://evil.example/"), "/account/apps"),
            (Some("//evil.example/api/oauth/authorize?"), "/account/apps"),
            (Some("/api/oauth/authorizeX"), "/account/apps"),
            (
                Some("/api/oauth/authorize?a=1\r\nSet-Cookie: x=1"),
                "/account/apps",
            ),
            (Some("/api/oauth/authorize?a=\u{20ac}"), "/account/apps"),
            (None, "/account/apps"),
            (Some("/developers"), "/developers"),
            (Some("/developers/apps/abc"), "/developers/apps/abc"),
            (Some("/developersX"), "/account/apps"),
        ];
        for (input, want) in cases {
            assert_eq!(safe_return_to(input), want, "{input:?}");
        }
    }
}
