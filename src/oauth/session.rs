//! Browser sessions and the cookies that carry them.
//!
//! The session cookie holds a random 256-bit id; KV holds the session under its hash. Cookies
//! are `HttpOnly`, `SameSite=Lax`, host-only, and `Secure` with the `__Host-` prefix except
//! when the issuer is plain http on loopback (development).

use crate::config::Config;
use crate::context::Ctx;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::OAuthError;
use crate::http::Request;
use crate::model::Session;
use crate::state::sessions;
use crate::store::Store;
use crate::token::opaque;

/// Lifetime of the pre-login CSRF cookie (and of a pending consent).
pub const FORM_TTL: u64 = 600;

pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies {
        "__Host-edge_oauth_session"
    } else {
        "edge_oauth_session"
    }
}

pub fn login_csrf_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies {
        "__Host-edge_oauth_login_csrf"
    } else {
        "edge_oauth_login_csrf"
    }
}

/// Binds a delegated sign-in to the browser that started it (see `endpoints::login_assertion`).
pub fn login_nonce_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies {
        "__Host-edge_oauth_login_nonce"
    } else {
        "edge_oauth_login_nonce"
    }
}

/// A `Set-Cookie` value. `max_age` 0 deletes the cookie.
pub fn set_cookie(config: &Config, name: &str, value: &str, max_age: u64) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// A cookie the browser must send back on a cross-site form POST: the delegated-login nonce,
/// which returns with the platform's hand-back POST from another site. `SameSite=Lax` cookies
/// are not sent on cross-site POSTs, so this one is `SameSite=None; Secure`. Plain-http
/// development cannot set `SameSite=None`; there it stays `Lax`, and the platform must run on
/// the same site (e.g. 127.0.0.1 on another port).
pub fn set_cross_site_cookie(config: &Config, name: &str, value: &str, max_age: u64) -> String {
    if config.secure_cookies {
        format!("{name}={value}; Path=/; HttpOnly; SameSite=None; Secure; Max-Age={max_age}")
    } else {
        set_cookie(config, name, value, max_age)
    }
}

pub fn read_cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .filter(|(n, _)| n == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The signed-in session of this request, if any: (hash of its id, session).
pub async fn current<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Option<(String, Session)>, OAuthError> {
    match read_cookie(req, session_cookie_name(ctx.config)) {
        Some(id) => sessions::find(ctx.store, id, ctx.now).await,
        None => Ok(None),
    }
}

/// Starts a new session (always a new id, so a fixated id is never promoted) and returns the
/// `Set-Cookie` value for it.
pub async fn start<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    name: Option<String>,
    email: Option<String>,
) -> Result<String, OAuthError> {
    Ok(start_hashed(ctx, sub, name, email, None).await?.0)
}

/// [`start`], also returning the new session's hash (to end it again, [`end_started`]).
pub async fn start_hashed<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    name: Option<String>,
    email: Option<String>,
    picture: Option<String>,
) -> Result<(String, String), OAuthError> {
    let id = opaque::new_secret(ctx.crypto)?;
    let hash = opaque::hash(&id);
    let session = Session {
        sub: sub.to_string(),
        name,
        email,
        picture,
        csrf_token: opaque::new_secret(ctx.crypto)?,
        created_at: ctx.now,
        expires_at: ctx.now + ctx.config.session_ttl,
    };
    sessions::start(ctx.store, &hash, &session, ctx.config.session_ttl).await?;
    let cookie = set_cookie(
        ctx.config,
        session_cookie_name(ctx.config),
        &id,
        ctx.config.session_ttl,
    );
    Ok((cookie, hash))
}

/// Ends a session [`start_hashed`] just started (its user turned out to be gone).
pub async fn end_started<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    hash: &str,
) -> Result<(), OAuthError> {
    match sessions::find_by_hash(ctx.store, hash).await? {
        Some((_, session)) => sessions::delete(ctx.store, hash, &session).await,
        None => Ok(()),
    }
}

/// Ends the session this browser already holds, if any. A new sign-in replaces it rather than
/// leaving it alive beside the new one (the old id would outlive the user's next sign-out).
pub async fn end_current<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<(), OAuthError> {
    if let Some((hash, old)) = current(ctx, req).await? {
        sessions::delete(ctx.store, &hash, &old).await?;
    }
    Ok(())
}

/// Whether a submitted form token equals the expected one (constant time).
pub fn csrf_matches(expected: &str, submitted: Option<&str>) -> bool {
    match submitted {
        Some(s) => constant_time_eq(expected.as_bytes(), s.as_bytes()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    #[test]
    fn reads_the_named_cookie_among_several() {
        let r = Request::new(Method::Get, "/")
            .with_header("cookie", "a=1; edge_oauth_session=abc; b=2")
            .with_header("cookie", "c=3");
        assert_eq!(read_cookie(&r, "edge_oauth_session"), Some("abc"));
        assert_eq!(read_cookie(&r, "c"), Some("3"));
        assert_eq!(read_cookie(&r, "session"), None);
    }

    #[test]
    fn csrf_needs_an_exact_match() {
        assert!(csrf_matches("tok", Some("tok")));
        assert!(!csrf_matches("tok", Some("to")));
        assert!(!csrf_matches("tok", None));
    }
}
