//! Browser sessions and the cookies that carry them.
//!
//! The session cookie holds a random 256-bit id, prefixed on the durable backend with the id
//! of the user's object (`{object}.{secret}`), which keeps the session under the hash of the
//! cookie's value; on the KV backend KV keeps it (`State::start_session`). Cookies are
//! `HttpOnly`, `SameSite=Lax`, host-only, and `Secure` with the `__Host-` prefix except when
//! the issuer is plain http on loopback (development).

use crate::config::Config;
use crate::context::Ctx;
use crate::crypto::{constant_time_eq, Crypto};
use crate::error::OAuthError;
use crate::http::Request;
use crate::model::Session;
use crate::state::{SessionAt, State};
use crate::store::Store;
use crate::token::opaque;

/// Longest session cookie value looked up (an object id, a dot and a 43-character secret
/// make 108).
const MAX_COOKIE_VALUE: usize = 128;

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

/// Where the session a cookie value names is kept; `None` for a value no session can have.
pub fn at(value: &str) -> Option<SessionAt> {
    if value.is_empty() || value.len() > MAX_COOKIE_VALUE {
        return None;
    }
    let object = value.split_once('.').map(|(object, _)| object.to_string());
    Some(SessionAt {
        hash: opaque::hash(value),
        object,
    })
}

/// Where this request's session cookie says its session is kept, if it has one.
pub fn cookie_at<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>, req: &Request) -> Option<SessionAt> {
    read_cookie(req, session_cookie_name(ctx.config)).and_then(at)
}

/// The signed-in session of this request, if any.
pub async fn current<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Option<(SessionAt, Session)>, OAuthError> {
    let Some(at) = cookie_at(ctx, req) else {
        return Ok(None);
    };
    Ok(ctx
        .state()
        .find_session(&at, ctx.now)
        .await?
        .map(|session| (at, session)))
}

/// Starts a new session (always a new id, so a fixated id is never promoted) and returns the
/// `Set-Cookie` value for it.
pub async fn start<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    name: Option<String>,
    email: Option<String>,
) -> Result<String, OAuthError> {
    Ok(start_hashed(ctx, sub, name, email, None).await?.cookie)
}

/// A session [`start_hashed`] started.
pub struct Started {
    /// The `Set-Cookie` value.
    pub cookie: String,
    pub at: SessionAt,
    pub session: Session,
}

/// [`start`], also returning where the new session is kept (to end it again, [`end_started`]).
pub async fn start_hashed<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    sub: &str,
    name: Option<String>,
    email: Option<String>,
    picture: Option<String>,
) -> Result<Started, OAuthError> {
    let id = opaque::new_secret(ctx.crypto)?;
    let session = Session {
        sub: sub.to_string(),
        name,
        email,
        picture,
        csrf_token: opaque::new_secret(ctx.crypto)?,
        created_at: ctx.now,
        expires_at: ctx.now + ctx.config.session_ttl,
    };
    let (value, _) = ctx
        .state()
        .start_session(&id, &session, ctx.config.session_ttl)
        .await?;
    let cookie = set_cookie(
        ctx.config,
        session_cookie_name(ctx.config),
        &value,
        ctx.config.session_ttl,
    );
    let at = at(&value).ok_or_else(|| OAuthError::server("session cookie value too long"))?;
    Ok(Started {
        cookie,
        at,
        session,
    })
}

/// Ends a session [`start_hashed`] just started (its user turned out to be gone).
pub async fn end_started<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    at: &SessionAt,
    session: &Session,
) -> Result<(), OAuthError> {
    Ok(ctx.state().end_session(at, session).await?)
}

/// Ends the session this browser already holds, if any. A new sign-in replaces it rather than
/// leaving it alive beside the new one (the old id would outlive the user's next sign-out).
pub async fn end_current<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<(), OAuthError> {
    if let Some((at, old)) = current(ctx, req).await? {
        ctx.state().end_session(&at, &old).await?;
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
