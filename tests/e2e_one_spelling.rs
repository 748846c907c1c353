//! Issue 18, item 8, in the Worker (where the runtime's `toLowerCase` and `normalize` do the
//! work): an email has one spelling. `José` written with `é` (U+00E9) and with `e` + U+0301 is
//! one account: the second creation is a conflict and either spelling signs in.

mod common;

use common::browser::{Browser, Http};
use common::e2e::*;
use common::worker::shared;
use serde_json::json;

#[test]
fn composed_and_decomposed_emails_are_one_account() {
    let w = shared();
    let decomposed = "JOSE\u{301}@spelling.example";
    let composed = "jos\u{e9}@spelling.example";
    let created = admin_post(
        w,
        "/api/admin/users",
        json!({"email": decomposed, "password": PASSWORD}),
    );
    assert_eq!(
        created["email"], composed,
        "stored in one form (NFC, lower case)"
    );
    let again = w.admin(
        "POST",
        "/api/admin/users",
        Some(&json!({"email": composed, "password": PASSWORD})),
    );
    assert_eq!(
        again.status, 409,
        "the same address spelled otherwise: {}",
        again.body
    );
    let client = register(w, "client_secret_basic");
    let oauth = oauth_client(w, &client);
    for spelling in [composed, decomposed] {
        let (url, _) = oauth
            .authorize_url(oauth2::CsrfToken::new_random)
            .set_pkce_challenge(oauth2::PkceCodeChallenge::new_random_sha256().0)
            .url();
        let b = Browser::new(&Http, &w.url);
        let consent = login_to_consent(&b, url.as_str(), spelling);
        assert!(
            consent.body.contains("Album Printer"),
            "{spelling} signs in"
        );
    }
}
