//! Issue 18, items 5 and 8, in the Worker (whose runtime URL parser reads user information
//! and hosts): what the consent page shows reads as it is. Names and descriptions with
//! invisible characters and websites with user information or backslashes are refused; the
//! website is shown as the host a browser would open.

mod common;

use common::browser::{Browser, Http};
use common::e2e::*;
use common::worker::shared;
use serde_json::{json, Value};

fn create(body: Value) -> common::http::Reply {
    shared().admin("POST", "/api/admin/clients", Some(&body))
}

fn client(overrides: &[(&str, &str)]) -> Value {
    let mut body = json!({
        "client_name": "Album Printer", "redirect_uris": [REDIRECT],
        "scope": "profile:read", "token_endpoint_auth_method": "client_secret_basic"});
    for (k, v) in overrides {
        body[*k] = json!(v);
    }
    body
}

#[test]
fn invisible_characters_and_deceptive_websites_are_refused() {
    for (field, value) in [
        ("client_name", "Photo\u{202E}gpj.exe"),
        ("client_name", "Pay\u{200B}Pal"),
        ("description", "Prints\u{1b}[31m albums"),
        ("description", "Prints\u{0} albums"),
        ("client_uri", "https://www.paypal.com@evil.example/"),
        ("client_uri", "https://paypal.com\\@evil.example/"),
        ("logo_uri", "https://user:pass@evil.example/logo.png"),
    ] {
        let r = create(client(&[(field, value)]));
        let d = r.expect_error(400, "invalid_client_metadata");
        assert!(d.contains(field), "{field} {value:?}: {d}");
    }
}

#[test]
fn the_consent_page_shows_the_websites_canonical_host() {
    let w = shared();
    let r = create(client(&[(
        "client_uri",
        "https://WWW.Printer.Example/about",
    )]));
    assert_eq!(r.status, 201, "{}", r.body);
    let app = r.json();
    let oauth = oauth_client(w, &app);
    let (url, _) = oauth
        .authorize_url(oauth2::CsrfToken::new_random)
        .set_pkce_challenge(oauth2::PkceCodeChallenge::new_random_sha256().0)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, url.as_str(), &user(w, "trust-host"));
    assert!(
        consent.body.contains(">www.printer.example</a>"),
        "{}",
        consent.body
    );
    assert!(!consent.body.contains("WWW.Printer"));
}
