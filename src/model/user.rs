//! End users and their login sessions.

use crate::impl_from_json;
use serde::Serialize;

/// A built-in account (LOGIN_MODE=builtin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable subject identifier (`sub` in tokens); random, never the email.
    pub sub: String,
    /// Lower-cased.
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OpenID Connect `picture` (an https URL), set by the admin API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// `pbkdf2-sha256$iterations$salt$hash` (see `oauth::password`).
    pub password_hash: String,
    pub created_at: u64,
}

/// A signed-in browser. Stored under the hash of the cookie's random id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// OpenID Connect `picture` of the account (built-in) or the platform's assertion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// The CSRF token this session's forms carry (logout, connected apps). Useless without
    /// the session cookie, so it is kept as is, unlike real secrets.
    pub csrf_token: String,
    pub created_at: u64,
    pub expires_at: u64,
}

impl_from_json!(User {
    sub,
    email,
    name,
    password_hash,
    created_at;
    picture,
});
impl_from_json!(Session {
    sub,
    name,
    email,
    csrf_token,
    created_at,
    expires_at;
    picture,
});

impl Session {
    /// What the consent page shows as "Signed in as ...".
    pub fn label(&self) -> &str {
        self.email
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.sub)
    }
}
