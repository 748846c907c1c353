//! Token lifecycle end to end against the Worker in workerd, with the `oauth2` crate:
//! refresh rotation and reuse detection, revocation, introspection, logout, connected apps.

mod common;

use common::browser::{hidden, Browser, Http};
use common::e2e::*;
use common::http::{post_form, Reply};
use common::worker::{shared, Worker};
use oauth2::{CsrfToken, PkceCodeChallenge, RefreshToken, TokenResponse};
use serde_json::{json, Value};

struct App {
    client: Value,
    oauth: Client,
}

impl App {
    fn new(w: &Worker) -> App {
        let client = register(w, "client_secret_basic");
        App {
            oauth: oauth_client(w, &client),
            client,
        }
    }
    fn creds(&self) -> (String, String) {
        (
            self.client["client_id"].as_str().unwrap().into(),
            self.client["client_secret"].as_str().unwrap().into(),
        )
    }
}

/// Browser login + consent + code exchange with the oauth2 crate.
fn authorize(app: &App, b: &Browser<Http>, email: &str) -> oauth2::basic::BasicTokenResponse {
    authorize_with_consent(&app.oauth, b, email, &["profile:read", "images:read"])
}

fn form(w: &Worker, path: &str, creds: &(String, String), fields: &[(&str, &str)]) -> Reply {
    let mut all = fields.to_vec();
    all.extend([
        ("client_id", creds.0.as_str()),
        ("client_secret", creds.1.as_str()),
    ]);
    post_form(&w.url(path), &[], &all)
}

fn introspect(w: &Worker, creds: &(String, String), token: &str) -> Value {
    let r = form(w, "/api/oauth/introspect", creds, &[("token", token)]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn refresh_refresh_reuse_revoke_introspect() {
    let w = shared();
    let app = App::new(w);
    let creds = app.creds();
    let b = Browser::new(&Http, &w.url);
    let email = user(w, "lifecycle");
    let t1 = authorize(&app, &b, &email);
    let rt1 = t1.refresh_token().unwrap().clone();
    let t2 = app
        .oauth
        .exchange_refresh_token(&rt1)
        .request(&http_client())
        .expect("first refresh");
    let t3 = app
        .oauth
        .exchange_refresh_token(t2.refresh_token().unwrap())
        .request(&http_client())
        .expect("second refresh");
    assert_ne!(
        t2.refresh_token().unwrap().secret(),
        t3.refresh_token().unwrap().secret()
    );
    let at3 = t3.access_token().secret().clone();
    assert_eq!(introspect(w, &creds, &at3)["active"], true);
    // Reuse of the first refresh token: refused, and the whole grant is revoked.
    let d = form(
        w,
        "/api/oauth/token",
        &creds,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt1.secret()),
        ],
    )
    .expect_error(400, "invalid_grant");
    assert!(d.contains("already used"), "{d}");
    assert!(app
        .oauth
        .exchange_refresh_token(t3.refresh_token().unwrap())
        .request(&http_client())
        .is_err());
    assert_eq!(introspect(w, &creds, &at3), json!({"active": false}));

    // A new grant: revoke its access token, then its refresh token.
    let t = authorize(&app, &b, &email);
    let at = t.access_token().secret().clone();
    assert_eq!(
        introspect(w, &creds, &at)["scope"],
        "profile:read images:read"
    );
    assert_eq!(
        form(w, "/api/oauth/revoke", &creds, &[("token", &at)]).status,
        200
    );
    assert_eq!(
        introspect(w, &creds, &at),
        json!({"active": false}),
        "access token revocation shows"
    );
    let rt = t.refresh_token().unwrap().secret().clone();
    assert_eq!(introspect(w, &creds, &rt)["active"], true);
    assert_eq!(
        form(
            w,
            "/api/oauth/revoke",
            &creds,
            &[("token", &rt), ("token_type_hint", "refresh_token")]
        )
        .status,
        200
    );
    assert_eq!(introspect(w, &creds, &rt), json!({"active": false}));
    assert!(app
        .oauth
        .exchange_refresh_token(&RefreshToken::new(rt))
        .request(&http_client())
        .is_err());
}

#[test]
fn a_client_cannot_see_or_revoke_another_clients_tokens() {
    let w = shared();
    let (app, other) = (App::new(w), App::new(w));
    let b = Browser::new(&Http, &w.url);
    let t = authorize(&app, &b, &user(w, "isolation"));
    let at = t.access_token().secret().clone();
    assert_eq!(introspect(w, &other.creds(), &at), json!({"active": false}));
    assert_eq!(
        form(w, "/api/oauth/revoke", &other.creds(), &[("token", &at)]).status,
        200
    );
    assert_eq!(
        form(
            w,
            "/api/oauth/revoke",
            &other.creds(),
            &[("token", t.refresh_token().unwrap().secret())]
        )
        .status,
        200
    );
    assert_eq!(
        introspect(w, &app.creds(), &at)["active"],
        true,
        "untouched by the other client"
    );
    assert!(app
        .oauth
        .exchange_refresh_token(t.refresh_token().unwrap())
        .request(&http_client())
        .is_ok());
}

#[test]
fn concurrent_refreshes_leave_at_most_one_working_chain() {
    let w = shared();
    let app = App::new(w);
    let creds = app.creds();
    let b = Browser::new(&Http, &w.url);
    let t = authorize(&app, &b, &user(w, "race"));
    let rt = t.refresh_token().unwrap().secret().clone();
    let results: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    form(
                        w,
                        "/api/oauth/token",
                        &creds,
                        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let issued: Vec<String> = results
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.json()["refresh_token"].as_str().unwrap().to_string())
        .collect();
    assert!(!issued.is_empty() || results.iter().all(|r| r.status == 400));
    let still_working = issued
        .iter()
        .filter(|rt| {
            form(
                w,
                "/api/oauth/token",
                &creds,
                &[("grant_type", "refresh_token"), ("refresh_token", rt)],
            )
            .status
                == 200
        })
        .count();
    assert!(
        still_working <= 1,
        "two chains survived a concurrent refresh"
    );
}

#[test]
fn logout_ends_the_session_and_connected_apps_revoke() {
    let w = shared();
    let app = App::new(w);
    let b = Browser::new(&Http, &w.url);
    let email = user(w, "apps");
    let t = authorize(&app, &b, &email);
    let page = b.get("/account/apps");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Album Printer"));
    let csrf = hidden(&page.body, "csrf_token");
    let r = b.post_form(
        "/account/apps/revoke",
        &[("csrf_token", &csrf), ("client_id", &app.creds().0)],
    );
    assert_eq!(r.status, 303);
    assert!(!b.get("/account/apps").body.contains("Album Printer"));
    assert_eq!(
        introspect(w, &app.creds(), t.access_token().secret()),
        json!({"active": false})
    );
    let r = b.post_form("/api/oauth/logout", &[("csrf_token", &csrf)]);
    assert_eq!(r.status, 200);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = app
        .oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    assert!(
        b.get(url.as_str()).body.contains(r#"name="password""#),
        "login page again after logout"
    );
}

#[test]
fn metadata_lists_revocation_and_introspection() {
    let w = shared();
    let m = common::http::get(&w.url("/.well-known/oauth-authorization-server"), &[]).json();
    assert_eq!(
        m["revocation_endpoint"],
        w.url("/api/oauth/revoke").as_str()
    );
    assert_eq!(
        m["introspection_endpoint"],
        w.url("/api/oauth/introspect").as_str()
    );
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert!(!m["introspection_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
}
