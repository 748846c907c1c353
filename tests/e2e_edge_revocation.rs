//! Issue 18 item 4: every revocation the provider knows reaches an edge API. For each path, a
//! token that worked at the example API (examples/gallery-api, `crates/edge-verifier`) gets
//! 401 invalid_token there right after the revocation; a token from a re-authorization right
//! after a user revocation works.

mod common;

use common::browser::{hidden, Browser, Http};
use common::e2e::*;
use common::http::{post_form, send, Reply};
use common::race::all_at_once;
use common::worker::{start, Worker};
use oauth2::basic::BasicTokenResponse;
use oauth2::TokenResponse;
use serde_json::json;
use std::sync::OnceLock;

fn world() -> &'static Worker {
    static WORLD: OnceLock<Worker> = OnceLock::new();
    WORLD.get_or_init(|| start(&["--gallery"]))
}

fn me(w: &Worker, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let url = format!("{}/api/v1/me", w.gallery_url.as_ref().unwrap());
    send("GET", &url, &[("Authorization", &auth)], None)
}

fn refused(w: &Worker, token: &str, path: &str) {
    let r = me(w, token);
    assert_eq!(r.status, 401, "{path}: {}", r.body);
    let d = r.expect_error(401, "invalid_token");
    assert!(d.contains("revoked"), "{path}: {d}");
}

/// A client, a user and a working token: (client, oauth, token response, sub).
fn setup(w: &Worker, tag: &str) -> (serde_json::Value, Client, BasicTokenResponse, String) {
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Edge Revocation", "redirect_uris": [REDIRECT],
               "scope": "profile:read"}),
    );
    let oauth = oauth_client(w, &client);
    let email = user(w, tag);
    let b = Browser::new(&Http, &w.url);
    let token = authorize_with_consent(&oauth, &b, &email, &["profile:read"]);
    let at = token.access_token().secret().clone();
    assert_eq!(me(w, &at).status, 200, "{tag}: the token works first");
    let sub = verify_with_jwks(w, &at).subject.expect("sub");
    (client, oauth, token, sub)
}

/// A browser signed in through the login page that `page` shows to a visitor.
fn signed_in(w: &Worker, email: &str, page: &str) -> Browser<'static, Http> {
    let b = Browser::new(&Http, &w.url);
    let login = b.get(page);
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &hidden(&login.body, "csrf_token")),
            ("return_to", page),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    b
}

fn logout(w: &Worker, fields: &[(&str, &str)]) {
    let auth = w.admin_auth();
    let r = post_form(
        &w.url("/api/oauth/logout"),
        &[("Authorization", &auth)],
        fields,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn rfc7009_revocation_of_the_refresh_token_reaches_the_api() {
    let w = world();
    let (client, _, token, _) = setup(w, "edge-rev-refresh");
    let r = post_form(
        &w.url("/api/oauth/revoke"),
        &[],
        &[
            ("token", token.refresh_token().unwrap().secret()),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    refused(w, token.access_token().secret(), "refresh token revoked");
}

#[test]
fn refresh_token_reuse_reaches_the_api() {
    let w = world();
    let (_, oauth, token, _) = setup(w, "edge-rev-reuse");
    let rt = token.refresh_token().unwrap().clone();
    let next = oauth
        .exchange_refresh_token(&rt)
        .request(&http_client())
        .expect("refresh");
    let fresh = next.access_token().secret().clone();
    assert_eq!(me(w, &fresh).status, 200);
    // Presented again after the grace period? Within it the same successor comes back, so
    // rotate once more and replay the first (now two generations old) token.
    let third = oauth
        .exchange_refresh_token(next.refresh_token().unwrap())
        .request(&http_client())
        .expect("refresh");
    assert!(oauth
        .exchange_refresh_token(&rt)
        .request(&http_client())
        .is_err());
    refused(w, &fresh, "refresh token reused");
    refused(w, third.access_token().secret(), "refresh token reused");
}

#[test]
fn platform_logout_revoking_one_app_reaches_the_api_and_a_new_authorization_works() {
    let w = world();
    let (client, oauth, token, sub) = setup(w, "edge-rev-logout-one");
    let id = client["client_id"].as_str().unwrap();
    logout(w, &[("sub", &sub), ("revoke", id)]);
    refused(w, token.access_token().secret(), "logout revoke=client");
    // Re-authorized at once (same second, typically): the new token works.
    let b = Browser::new(&Http, &w.url);
    let again = authorize_with_consent(
        &oauth,
        &b,
        "edge-rev-logout-one@example.com",
        &["profile:read"],
    );
    assert_eq!(me(w, again.access_token().secret()).status, 200);
}

#[test]
fn platform_logout_revoking_all_reaches_the_api() {
    let w = world();
    let (_, oauth, token, sub) = setup(w, "edge-rev-logout-all");
    logout(w, &[("sub", &sub), ("revoke", "all")]);
    refused(w, token.access_token().secret(), "logout revoke=all");
    let b = Browser::new(&Http, &w.url);
    let again = authorize_with_consent(
        &oauth,
        &b,
        "edge-rev-logout-all@example.com",
        &["profile:read"],
    );
    // 16 requests at once with each token, across the API's isolates: the revoked one is
    // refused every time, the new one accepted every time.
    let (old, new) = (token.access_token().secret(), again.access_token().secret());
    let replies = all_at_once(32, |i| me(w, if i % 2 == 0 { old } else { new }));
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(
            r.status,
            if i % 2 == 0 { 401 } else { 200 },
            "{i}: {}",
            r.body
        );
    }
}

#[test]
fn deleting_the_app_reaches_the_api() {
    let w = world();
    let (client, _, token, _) = setup(w, "edge-rev-app");
    let id = client["client_id"].as_str().unwrap();
    let r = w.admin("DELETE", &format!("/api/admin/clients/{id}"), None);
    assert_eq!(r.status, 204, "{}", r.body);
    refused(w, token.access_token().secret(), "admin deleted the client");
}

#[test]
fn deleting_the_user_reaches_the_api() {
    let w = world();
    let (_, _, token, sub) = setup(w, "edge-rev-user");
    let r = w.admin("DELETE", &format!("/api/admin/users/{sub}"), None);
    assert_eq!(r.status, 204, "{}", r.body);
    refused(w, token.access_token().secret(), "admin deleted the user");
}

#[test]
fn the_users_revoke_access_on_account_apps_reaches_the_api_and_a_new_authorization_works() {
    let w = world();
    let (client, oauth, token, _) = setup(w, "edge-rev-account");
    let email = "edge-rev-account@example.com";
    let b = signed_in(w, email, "/account/apps");
    let page = b.get("/account/apps");
    assert_eq!(page.status, 200, "{}", page.body);
    let r = b.post_form(
        "/account/apps/revoke",
        &[
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("client_id", client["client_id"].as_str().unwrap()),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    refused(
        w,
        token.access_token().secret(),
        "revoke access on /account/apps",
    );
    let b = Browser::new(&Http, &w.url);
    let again = authorize_with_consent(&oauth, &b, email, &["profile:read"]);
    assert_eq!(me(w, again.access_token().secret()).status, 200);
}

#[test]
fn deleting_the_app_in_the_portal_reaches_the_api() {
    let w = world();
    let email = user(w, "edge-rev-portal");
    let b = signed_in(w, &email, "/developers");
    let created = b.post_form(
        "/developers/apps",
        &[
            (
                "csrf_token",
                &hidden(&b.get("/developers").body, "csrf_token"),
            ),
            ("client_name", "Portal Edge App"),
            ("redirect_uris", REDIRECT),
            ("scope", "profile:read"),
            ("client_type", "confidential"),
        ],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let credential = |name: &str| {
        let marker = format!("data-credential=\"{name}\" value=\"");
        let start = created.body.find(&marker).expect(name) + marker.len();
        created.body[start..start + created.body[start..].find('"').unwrap()].to_string()
    };
    let (id, secret) = (credential("client_id"), credential("client_secret"));
    let client = json!({"client_id": id, "client_secret": secret});
    let oauth = oauth_client(w, &client);
    let token = authorize_with_consent(&oauth, &b, &email, &["profile:read"]);
    let at = token.access_token().secret().clone();
    assert_eq!(me(w, &at).status, 200);
    let r = b.post_form(
        &format!("/developers/apps/{id}/delete"),
        &[(
            "csrf_token",
            &hidden(&b.get("/developers").body, "csrf_token"),
        )],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    refused(w, &at, "developer deleted the app");
}

/// RFC 6749 §4.1.2: a second redemption of a code (here without its verifier) revokes what
/// the first issued, and the access token the first answer carried stops at the API too.
#[test]
fn a_replayed_code_reaches_the_api() {
    let w = world();
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Edge Replay", "redirect_uris": [REDIRECT],
               "scope": "profile:read"}),
    );
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let (url, _) = oauth
        .authorize_url(oauth2::CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, url.as_str(), &user(w, "edge-replay"));
    let code =
        common::browser::query_param(&decide(&b, &consent, &["profile:read"], "approve"), "code")
            .expect("a code");
    let redeem = |v: &str| {
        post_form(
            &w.url("/api/oauth/token"),
            &[],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", v),
                ("client_id", client["client_id"].as_str().unwrap()),
                ("client_secret", client["client_secret"].as_str().unwrap()),
            ],
        )
    };
    let first = redeem(verifier.secret());
    assert_eq!(first.status, 200, "{}", first.body);
    let at = first.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(w, &at).status, 200, "the token works first");
    redeem(&"q".repeat(43)).expect_error(400, "invalid_grant");
    refused(w, &at, "code replay");
}

/// The grant cap (10 per user and client) revokes the oldest grant when an 11th is made: that
/// grant's access token stops at the API too.
#[test]
fn a_grant_evicted_by_the_cap_reaches_the_api() {
    let w = world();
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Edge Cap", "redirect_uris": [REDIRECT], "scope": "profile:read"}),
    );
    let b = Browser::new(&Http, &w.url);
    let email = user(w, "edge-cap");
    let mut tokens = Vec::new();
    for i in 0..11 {
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        let (url, _) = oauth_client(w, &client)
            .authorize_url(oauth2::CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let location = if i == 0 {
            let consent = login_to_consent(&b, url.as_str(), &email);
            decide(&b, &consent, &["profile:read"], "approve")
        } else {
            // Remembered consent: the code comes at once.
            common::browser::location(&b.get(url.as_str()))
        };
        let code = common::browser::query_param(&location, "code").expect("a code");
        let r = post_form(
            &w.url("/api/oauth/token"),
            &[],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier.secret()),
                ("client_id", client["client_id"].as_str().unwrap()),
                ("client_secret", client["client_secret"].as_str().unwrap()),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        tokens.push(r.json()["access_token"].as_str().unwrap().to_string());
    }
    // The oldest goes (on KV, grants made within one second are ordered at random, so
    // "oldest" is one of them): exactly one token stops, and it stops at the API.
    let stopped: Vec<usize> = (0..11)
        .filter(|&i| me(w, &tokens[i]).status == 401)
        .collect();
    assert_eq!(stopped.len(), 1, "one grant evicted: {stopped:?}");
    refused(w, &tokens[stopped[0]], "evicted by the cap");
    if std::env::var("EDGE_STATE_BACKEND").as_deref() != Ok("kv") {
        assert_eq!(stopped, vec![0], "the oldest, by creation order");
    }
}
