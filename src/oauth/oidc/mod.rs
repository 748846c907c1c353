//! OpenID Connect Core 1.0 on top of the code flow: what a sign-in records for its ID tokens
//! ([`sign_in`]), the ID token itself ([`id_token`]), and the key it is signed with.
//!
//! An `openid` flow is the OAuth flow plus one signature per token response: everything the ID
//! token needs travels with the code and the grant (`state::SignIn`), so it costs no storage
//! operation; a flow without `openid` does nothing here.

pub mod client;
pub mod id_token;
pub mod logout;
pub mod prompt;

use crate::config::Config;
use crate::error::OAuthError;
use crate::model::Session;
use crate::state::SignIn;
use crate::token::keys::{Alg, SigningKey};

/// The scope that makes a request an OpenID Connect request (OIDC Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// ID tokens are RS256 unless the client registered another algorithm (OIDC Core §3.1.3.7,
/// OIDC Registration §2 `id_token_signed_response_alg`).
pub const DEFAULT_ID_TOKEN_ALG: Alg = Alg::RS256;

/// Algorithms ID tokens may use: those whose `at_hash` is SHA-256 (Core §3.1.3.6).
pub const ID_TOKEN_ALGS: &[&str] = &["RS256", "ES256"];

pub fn is_openid(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == OPENID)
}

/// The key a client's ID tokens are signed with, or the configuration error that says why
/// there is none. Checked at the authorization request, before anyone signs in, so a
/// deployment without such a key never fails a sign-in half-way (issue 15).
pub fn id_token_key(config: &Config, alg: Alg) -> Result<&SigningKey, OAuthError> {
    config.signing_keys.signer(alg).ok_or_else(|| {
        OAuthError::server(format!(
            "configuration error: SIGNING_KEYS holds no {} key with its private part, which \
             ID tokens (scope openid) need; add one (node scripts/keys.mjs signing-key {})",
            alg.as_str(),
            alg.as_str()
        ))
    })
}

/// The `sid` claim (OpenID Connect Front-Channel Logout §3): stable for one browser session,
/// derived from the session's stored hash so that it reveals neither the cookie nor the key
/// the session is stored under.
pub fn sid(session_hash: &str) -> String {
    let digest = crate::token::opaque::hash(&format!("sid {session_hash}"));
    digest.chars().take(22).collect()
}

/// What an authorization code remembers of the sign-in when its scopes hold `openid`; `None`
/// otherwise (a plain OAuth flow stores and computes nothing more than before).
pub fn sign_in(
    scopes: &[String],
    session_hash: &str,
    session: &Session,
    nonce: Option<&str>,
) -> Option<SignIn> {
    if !is_openid(scopes) {
        return None;
    }
    let has = |s: &str| scopes.iter().any(|x| x == s);
    Some(SignIn {
        auth_time: session.created_at,
        sid: sid(session_hash),
        nonce: nonce.map(str::to_string),
        name: session.name.clone().filter(|_| has("profile")),
        picture: session.picture.clone().filter(|_| has("profile")),
        email: session.email.clone().filter(|_| has("email")),
        email_verified: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            sub: "u1".into(),
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            picture: Some("https://p.example/ada.png".into()),
            csrf_token: "c".into(),
            created_at: 100,
            expires_at: 200,
        }
    }

    #[test]
    fn only_openid_requests_record_a_sign_in() {
        let scopes = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            sign_in(&scopes("profile email"), "h", &session(), None),
            None
        );
        let s = sign_in(&scopes("openid email"), "h", &session(), Some("n")).unwrap();
        assert_eq!(s.auth_time, 100);
        assert_eq!(s.nonce.as_deref(), Some("n"));
        assert_eq!(s.email.as_deref(), Some("ada@example.com"));
        assert_eq!(s.name, None, "profile was not granted");
    }

    #[test]
    fn sid_is_stable_and_reveals_not_the_session_hash() {
        assert_eq!(sid("abc"), sid("abc"));
        assert_ne!(sid("abc"), sid("abd"));
        assert!(!sid("abc").contains("abc"));
        assert_eq!(sid("abc").len(), 22);
    }
}
