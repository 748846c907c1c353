//! The OpenID Connect parameters of an authorization request (Core §3.1.2.1): `prompt`,
//! `max_age`, `login_hint`, and the refusals of `request`, `request_uri` (§6) and `claims`
//! (§5.5), none of which this provider supports.

use crate::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;

/// What the request asks of the sign-in and consent steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interaction {
    /// `prompt=none`: never show a page; answer the client with an error instead.
    pub none: bool,
    /// `prompt=login` (or `select_account`: one account per session, so choosing one is
    /// signing in): sign in again even with a session.
    pub login: bool,
    /// `prompt=consent`: ask again even when consent is remembered.
    pub consent: bool,
    /// `max_age`: a sign-in older than this many seconds signs in again.
    pub max_age: Option<u64>,
    /// `login_hint`: the email the login page starts with.
    pub login_hint: Option<String>,
}

impl Interaction {
    /// The earliest sign-in (`auth_time`) a session may have to count at `now`: `max_age`
    /// seconds ago, any (0) without one; `None` when `prompt=login` asks for a new sign-in
    /// whatever the session.
    pub fn earliest_sign_in(&self, now: u64) -> Option<u64> {
        if self.login {
            return None;
        }
        Some(self.max_age.map_or(0, |max| now.saturating_sub(max)))
    }
}

/// Longest `login_hint` used (an email address is at most 254 characters).
const MAX_LOGIN_HINT: usize = 254;

pub fn parse(params: &Params) -> Result<Interaction, OAuthError> {
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported; send the parameters in the query",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported; send the parameters in the query",
        ));
    }
    if params.get("claims").is_some() {
        return Err(OAuthError::invalid_request(
            "the claims parameter is not supported; request claims with scopes",
        ));
    }
    let mut out = Interaction::default();
    if let Some(prompt) = params.get("prompt") {
        let values: Vec<&str> = prompt.split(' ').filter(|v| !v.is_empty()).collect();
        for value in &values {
            match *value {
                "none" => out.none = true,
                "login" | "select_account" => out.login = true,
                "consent" => out.consent = true,
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "prompt value {} is not supported (none, login, consent, select_account)",
                        crate::error::quoted(other)
                    )))
                }
            }
        }
        // Core §3.1.2.1: none with any other value is an error.
        if out.none && values.len() > 1 {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with another value",
            ));
        }
    }
    if let Some(max_age) = params.get("max_age") {
        let valid = !max_age.is_empty()
            && max_age.len() <= 10
            && max_age.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(OAuthError::invalid_request(
                "max_age must be a non-negative integer (seconds)",
            ));
        }
        out.max_age = max_age.parse().ok();
        // auth_time counts seconds, so a sign-in earlier in this very second would still
        // pass `max_age=0`; it asks for a new sign-in, as `prompt=login` does (Core §3.1.2.1).
        out.login |= out.max_age == Some(0);
    }
    out.login_hint = params
        .get("login_hint")
        .filter(|h| h.chars().count() <= MAX_LOGIN_HINT && !h.chars().any(char::is_control))
        .map(str::to_string);
    Ok(out)
}

/// The query to come back to after signing in: the same request without `login` and
/// `select_account` in `prompt` and without `max_age` (the sign-in that follows satisfies
/// them; kept, they would ask for it again forever). Other parameters stay byte for byte.
pub fn after_sign_in(query: &str) -> String {
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = form_urlencoded::parse(pair.as_bytes())
                .next()
                .unwrap_or_default();
            if name == "max_age" {
                return None;
            }
            if name != "prompt" {
                return Some(pair.to_string());
            }
            let kept: Vec<&str> = value
                .split(' ')
                .filter(|v| !v.is_empty() && *v != "login" && *v != "select_account")
                .collect();
            (!kept.is_empty()).then(|| {
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("prompt", &kept.join(" "))
                    .finish()
            })
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> Result<Interaction, OAuthError> {
        parse(&Params::from_query(query).unwrap())
    }

    #[test]
    fn prompt_values_and_their_refusals() {
        let p = parsed("prompt=login%20consent").unwrap();
        assert!(p.login && p.consent && !p.none);
        assert!(parsed("prompt=none").unwrap().none);
        assert!(parsed("prompt=select_account").unwrap().login);
        for (query, why) in [
            ("prompt=none%20login", "combined"),
            ("prompt=bogus", "'bogus'"),
            ("max_age=-1", "max_age"),
            ("max_age=1.5", "max_age"),
            ("max_age=99999999999", "max_age"),
            ("claims=%7B%7D", "claims"),
        ] {
            let e = parsed(query).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{query}");
            assert!(e.description.contains(why), "{query}: {}", e.description);
        }
        assert_eq!(
            parsed("request=x").unwrap_err().code,
            ErrorCode::RequestNotSupported
        );
        assert_eq!(
            parsed("request_uri=x").unwrap_err().code,
            ErrorCode::RequestUriNotSupported
        );
        assert_eq!(parsed("max_age=0").unwrap().max_age, Some(0));
    }

    #[test]
    fn max_age_and_login_decide_a_new_sign_in() {
        let p = parsed("max_age=60").unwrap();
        // Signed in at 1000: still counts at 1060, not at 1061.
        assert!(p.earliest_sign_in(1060).is_some_and(|t| 1000 >= t));
        assert!(p.earliest_sign_in(1061).is_some_and(|t| 1000 < t));
        assert_eq!(parsed("max_age=60").unwrap().earliest_sign_in(10), Some(0));
        assert_eq!(parsed("prompt=login").unwrap().earliest_sign_in(1000), None);
        assert_eq!(parsed("max_age=0").unwrap().earliest_sign_in(1000), None);
        assert_eq!(parsed("").unwrap().earliest_sign_in(1_000_000), Some(0));
    }

    #[test]
    fn after_sign_in_drops_only_login_from_prompt() {
        assert_eq!(after_sign_in("a=1&prompt=login&state=%FF"), "a=1&state=%FF");
        assert_eq!(after_sign_in("max_age=0&a=1"), "a=1");
        assert_eq!(
            after_sign_in("prompt=login+consent&b=2"),
            "prompt=consent&b=2"
        );
        assert_eq!(after_sign_in("prompt=consent"), "prompt=consent");
    }
}
