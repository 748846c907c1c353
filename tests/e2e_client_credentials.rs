//! `grant_type=client_credentials` against the built Worker in workerd (both backends with
//! `EDGE_STATE_BACKEND=kv`), with the `oauth2` crate as the client and `jwt-simple` checking
//! the token against the published JWKS.

mod common;

use common::e2e::*;
use common::http::post_form;
use common::worker::shared;
use oauth2::{Scope, TokenResponse};
use serde_json::json;

#[test]
fn a_machine_client_gets_introspects_and_revokes_its_own_token() {
    let w = shared();
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Backup job", "redirect_uris": [REDIRECT],
               "scope": "profile:read images:read", "grant_types": ["client_credentials"]}),
    );
    let oauth = oauth_client(w, &client);
    let token = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new("images:read".into()))
        .request(&http_client())
        .expect("client_credentials token");
    assert!(token.refresh_token().is_none());
    let claims = verify_with_jwks(w, token.access_token().secret());
    let id = client["client_id"].as_str().unwrap();
    assert_eq!(claims.subject.as_deref(), Some(id));
    assert_eq!(claims.custom["scope"], "images:read");
    assert!(claims.custom.get("gid").is_none());
    let secret = client["client_secret"].as_str().unwrap();
    let creds = [("client_id", id), ("client_secret", secret)];
    let at = token.access_token().secret().as_str();
    let introspect = || {
        let mut f = vec![("token", at)];
        f.extend(creds);
        post_form(&w.url("/api/oauth/introspect"), &[], &f).json()
    };
    assert_eq!(introspect()["active"], true);
    let mut f = vec![("token", at)];
    f.extend(creds);
    assert_eq!(post_form(&w.url("/api/oauth/revoke"), &[], &f).status, 200);
    assert_eq!(introspect()["active"], false);
}

#[test]
fn a_client_without_the_grant_type_is_unauthorized() {
    let w = shared();
    let client = register(w, "client_secret_basic");
    let r = post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ],
    );
    r.expect_error(400, "unauthorized_client");
    // A public client cannot register it.
    let body = json!({"client_name": "SPA", "redirect_uris": [REDIRECT], "scope": "profile:read",
                      "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]});
    w.admin("POST", "/api/admin/clients", Some(&body))
        .expect_error(400, "invalid_client_metadata");
}
