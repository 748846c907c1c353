//! (method, path) → endpoint. Paths are part of the product contract (SPEC.md).

use crate::error::{ErrorCode, OAuthError};
use crate::http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Metadata,
    /// OpenID Connect Discovery 1.0.
    OpenIdConfiguration,
    /// OpenID Connect Core §5.3.
    UserInfo,
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
    /// The developer portal: list and "New application" form; create; one app (view, edit),
    /// rotate its secret, delete it, start "Try it"; the provider-hosted "Try it" callback.
    Developers,
    DeveloperApps,
    DeveloperApp(String),
    DeveloperAppSecret(String),
    DeveloperAppDelete(String),
    DeveloperAppTry(String),
    DeveloperCallback,
    Docs,
    OpenApi,
    Register,
}

impl Route {
    /// Pages a person's browser loads or posts a form to: their errors are pages too.
    pub fn is_page(&self) -> bool {
        matches!(
            self,
            Route::Authorize
                | Route::Login
                | Route::LoginAssertion
                | Route::Logout
                | Route::AccountApps
                | Route::AccountAppsRevoke
                | Route::Developers
                | Route::DeveloperApps
                | Route::DeveloperApp(_)
                | Route::DeveloperAppSecret(_)
                | Route::DeveloperAppDelete(_)
                | Route::DeveloperAppTry(_)
                | Route::DeveloperCallback
                | Route::Docs
        )
    }

    /// Endpoints that browser apps (public clients) call cross-origin: CORS without cookies.
    pub fn allows_cors(&self) -> bool {
        matches!(
            self,
            Route::Token
                | Route::Revoke
                | Route::Metadata
                | Route::OpenIdConfiguration
                | Route::UserInfo
                | Route::Jwks
                | Route::Register
        )
    }
}

/// One route: its path template (`{name}` matches one non-empty segment), the methods it
/// accepts, and how to build the [`Route`] from the captured segment. The OpenAPI document is
/// checked against this table (`tests/openapi.rs`), so the two cannot drift apart.
pub struct RouteDef {
    pub path: &'static str,
    pub methods: &'static [Method],
    make: fn(String) -> Route,
}

use Method::{Delete, Get, Head, Options, Patch, Post};

macro_rules! routes {
    ($($path:literal [$($m:ident),+] => $make:expr;)+) => {
        &[$(RouteDef { path: $path, methods: &[$($m),+], make: $make }),+]
    };
}

pub const ALL_ROUTES: &[RouteDef] = routes! {
    "/.well-known/oauth-authorization-server" [Get, Head] => |_| Route::Metadata;
    "/.well-known/openid-configuration" [Get, Head] => |_| Route::OpenIdConfiguration;
    "/.well-known/jwks.json" [Get, Head] => |_| Route::Jwks;
    "/api/admin/clients" [Get, Post] => |_| Route::AdminClients;
    "/api/admin/clients/{client_id}" [Get, Patch, Delete] => Route::AdminClient;
    "/api/admin/clients/{client_id}/secret" [Post] => Route::AdminClientSecret;
    "/api/admin/users" [Get, Post] => |_| Route::AdminUsers;
    "/api/admin/users/{sub}" [Get, Delete] => Route::AdminUser;
    "/api/oauth/authorize" [Get, Post] => |_| Route::Authorize;
    "/api/oauth/token" [Post, Options] => |_| Route::Token;
    "/api/oauth/login" [Post] => |_| Route::Login;
    "/api/oauth/login/assertion" [Post] => |_| Route::LoginAssertion;
    "/api/oauth/revoke" [Post, Options] => |_| Route::Revoke;
    "/api/oauth/introspect" [Post] => |_| Route::Introspect;
    "/api/oauth/userinfo" [Get, Post, Options] => |_| Route::UserInfo;
    "/api/oauth/logout" [Get, Post] => |_| Route::Logout;
    "/account/apps" [Get] => |_| Route::AccountApps;
    "/account/apps/revoke" [Post] => |_| Route::AccountAppsRevoke;
    "/api/admin/grants" [Get] => |_| Route::AdminGrants;
    "/api/admin/grants/{grant_id}" [Get, Delete] => Route::AdminGrant;
    "/developers" [Get] => |_| Route::Developers;
    "/developers/apps" [Post] => |_| Route::DeveloperApps;
    "/developers/apps/{client_id}" [Get, Post] => Route::DeveloperApp;
    "/developers/apps/{client_id}/secret" [Post] => Route::DeveloperAppSecret;
    "/developers/apps/{client_id}/delete" [Post] => Route::DeveloperAppDelete;
    "/developers/apps/{client_id}/try" [Post] => Route::DeveloperAppTry;
    "/developers/callback" [Get, Post] => |_| Route::DeveloperCallback;
    "/docs" [Get] => |_| Route::Docs;
    "/openapi.json" [Get] => |_| Route::OpenApi;
    "/api/oauth/register" [Post, Options] => |_| Route::Register;
};

/// The captured `{..}` segment if `path` fits `template` (empty when it has none).
fn matches(template: &str, path: &str) -> Option<String> {
    let mut t = template.trim_start_matches('/').split('/');
    let mut p = path.trim_start_matches('/').split('/');
    let mut captured = String::new();
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(captured),
            (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {
                captured = ps.to_string()
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// Resolves a route, or 404 for an unknown path and 405 for a known path with the wrong method.
pub fn resolve(method: &Method, path: &str) -> Result<Route, OAuthError> {
    for def in ALL_ROUTES {
        let Some(captured) = matches(def.path, path) else {
            continue;
        };
        if def.methods.contains(method) {
            return Ok((def.make)(captured));
        }
        return Err(OAuthError::new(
            ErrorCode::MethodNotAllowed,
            format!("{path} does not accept this method"),
        ));
    }
    Err(OAuthError::not_found(format!("No endpoint at {path}")))
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
            resolve(&Method::Post, "/developers/apps/c1/secret").unwrap(),
            Route::DeveloperAppSecret("c1".into())
        );
        assert_eq!(
            resolve(&Method::Get, "/developers/apps/c1/secret")
                .unwrap_err()
                .status(),
            405
        );
        assert_eq!(
            resolve(&Method::Get, "/developers/apps/c1/x")
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(resolve(&Method::Get, "/docs/").unwrap_err().status(), 404);
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
