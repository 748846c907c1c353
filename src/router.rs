//! (method, path) → endpoint. Paths are part of the product contract (SPEC.md).

use crate::error::{ErrorCode, OAuthError};
use crate::http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Metadata,
    Jwks,
    AdminClients,
    AdminClient(String),
    AdminClientSecret(String),
    AdminUsers,
    AdminUser(String),
    /// GET: the authorization request; POST: the consent decision.
    Authorize,
    Token,
    Login,
    LoginAssertion,
    Revoke,
    Introspect,
    /// GET: the sign-out page; POST: end sessions.
    Logout,
    AccountApps,
    AccountAppsRevoke,
    AdminGrants,
    AdminGrant(String),
}

impl Route {
    /// Endpoints that browser apps (public clients) call cross-origin: CORS without cookies.
    pub fn allows_cors(&self) -> bool {
        matches!(
            self,
            Route::Token | Route::Revoke | Route::Metadata | Route::Jwks
        )
    }
}

/// Resolves a route, or 404 for an unknown path and 405 for a known path with the wrong method.
pub fn resolve(method: &Method, path: &str) -> Result<Route, OAuthError> {
    use Method::*;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (route, allowed): (Route, &[Method]) = match segments.as_slice() {
        [".well-known", "oauth-authorization-server"] => (Route::Metadata, &[Get, Head]),
        [".well-known", "jwks.json"] => (Route::Jwks, &[Get, Head]),
        ["api", "admin", "clients"] => (Route::AdminClients, &[Get, Post]),
        ["api", "admin", "clients", id] if !id.is_empty() => {
            (Route::AdminClient(id.to_string()), &[Get, Patch, Delete])
        }
        ["api", "admin", "clients", id, "secret"] if !id.is_empty() => {
            (Route::AdminClientSecret(id.to_string()), &[Post])
        }
        ["api", "admin", "users"] => (Route::AdminUsers, &[Get, Post]),
        ["api", "admin", "users", sub] if !sub.is_empty() => {
            (Route::AdminUser(sub.to_string()), &[Get, Delete])
        }
        ["api", "oauth", "authorize"] => (Route::Authorize, &[Get, Post]),
        ["api", "oauth", "token"] => (Route::Token, &[Post, Options]),
        ["api", "oauth", "login"] => (Route::Login, &[Post]),
        ["api", "oauth", "login", "assertion"] => (Route::LoginAssertion, &[Post]),
        ["api", "oauth", "revoke"] => (Route::Revoke, &[Post, Options]),
        ["api", "oauth", "introspect"] => (Route::Introspect, &[Post]),
        ["api", "oauth", "logout"] => (Route::Logout, &[Get, Post]),
        ["account", "apps"] => (Route::AccountApps, &[Get]),
        ["account", "apps", "revoke"] => (Route::AccountAppsRevoke, &[Post]),
        ["api", "admin", "grants"] => (Route::AdminGrants, &[Get]),
        ["api", "admin", "grants", id] if !id.is_empty() => {
            (Route::AdminGrant(id.to_string()), &[Get, Delete])
        }
        _ => return Err(OAuthError::not_found(format!("No endpoint at {path}"))),
    };
    if allowed.contains(method) {
        Ok(route)
    } else {
        Err(OAuthError::new(
            ErrorCode::MethodNotAllowed,
            format!("{path} does not accept this method"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_paths_and_refuses_others() {
        assert_eq!(
            resolve(&Method::Get, "/.well-known/jwks.json").unwrap(),
            Route::Jwks
        );
        assert_eq!(
            resolve(&Method::Delete, "/api/admin/clients/abc").unwrap(),
            Route::AdminClient("abc".into())
        );
        assert_eq!(
            resolve(&Method::Post, "/api/admin/clients/abc/secret").unwrap(),
            Route::AdminClientSecret("abc".into())
        );
        assert_eq!(
            resolve(&Method::Delete, "/api/admin/users/u1").unwrap(),
            Route::AdminUser("u1".into())
        );
        assert_eq!(
            resolve(&Method::Patch, "/api/admin/users/u1")
                .unwrap_err()
                .status(),
            405
        );
        assert_eq!(resolve(&Method::Get, "/nope").unwrap_err().status(), 404);
        assert_eq!(
            resolve(&Method::Get, "/api/admin/clients/")
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            resolve(&Method::Post, "/.well-known/jwks.json")
                .unwrap_err()
                .status(),
            405
        );
    }
}
