//! RFC 8707 resource indicators against the built Worker in workerd (both backends with
//! `EDGE_STATE_BACKEND=kv`), with the `oauth2` crate as the client: the resource named at
//! authorize is the `aud` of the grant's tokens (exchange and refresh), anything else is
//! `invalid_target`.

mod common;

use common::browser::{query_param, Browser, Http};
use common::e2e::*;
use common::http::post_form;
use common::worker::{start, Worker};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope, TokenResponse};
use serde_json::Value;
use std::sync::OnceLock;

const MCP: &str = "https://api.example/mcp";
const API: &str = "https://api.example";

fn worker() -> &'static Worker {
    static W: OnceLock<Worker> = OnceLock::new();
    W.get_or_init(|| start(&["--var", &format!(r#"RESOURCES=["{MCP}","{API}"]"#)]))
}

/// The payload of a JWT, unverified (the code-flow tests verify signatures).
fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn tokens_are_for_the_resource_named_at_authorize_and_refresh_keeps_it() {
    let w = worker();
    let client = register(w, "client_secret_basic");
    let email = user(w, "resource-flow");
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile:read".into()))
        .add_extra_param("resource", MCP)
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, url.as_str(), &email);
    let back = decide(&b, &consent, &["profile:read"], "approve");
    let code = query_param(&back, "code").expect("code");
    let token = oauth
        .exchange_code(AuthorizationCode::new(code))
        .add_extra_param("resource", MCP)
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("code exchange");
    assert_eq!(payload(token.access_token().secret())["aud"], MCP);
    let refreshed = oauth
        .exchange_refresh_token(token.refresh_token().unwrap())
        .request(&http_client())
        .expect("refresh without resource");
    assert_eq!(payload(refreshed.access_token().secret())["aud"], MCP);
    // Another configured resource is not this grant's: refused, and the token still works.
    let secret = client["client_secret"].as_str().unwrap();
    let id = client["client_id"].as_str().unwrap();
    let rt = refreshed.refresh_token().unwrap().secret().clone();
    let r = post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("resource", API),
            ("client_id", id),
            ("client_secret", secret),
        ],
    );
    assert!(r.expect_error(400, "invalid_target").contains("grant"));
    let again = oauth
        .exchange_refresh_token(refreshed.refresh_token().unwrap())
        .add_extra_param("resource", MCP)
        .request(&http_client())
        .expect("refresh naming the grant's resource");
    assert_eq!(payload(again.access_token().secret())["aud"], MCP);
}

#[test]
fn without_resource_the_token_is_for_the_default_audience() {
    let w = worker();
    let client = register(w, "none");
    let email = user(w, "resource-none");
    let b = Browser::new(&Http, &w.url);
    let token = authorize_with_consent(&oauth_client(w, &client), &b, &email, &["images:read"]);
    assert_eq!(
        payload(token.access_token().secret())["aud"],
        w.url.as_str()
    );
}

#[test]
fn an_unknown_resource_at_authorize_is_redirected_as_invalid_target() {
    let w = worker();
    let client = register(w, "none");
    let oauth = oauth_client(w, &client);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    for resource in [
        "https://evil.example/mcp",
        "https://api.example/mcp#x",
        "relative",
    ] {
        let (url, _) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_extra_param("resource", resource)
            .set_pkce_challenge(challenge.clone())
            .url();
        let r = common::http::get(url.as_str(), &[]);
        assert_eq!(r.status, 302, "{resource}: {}", r.body);
        let back = r.header("location").unwrap().to_string();
        assert!(back.starts_with(REDIRECT));
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_target")
        );
    }
}
