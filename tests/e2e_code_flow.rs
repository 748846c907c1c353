//! The authorization-code flow end to end against the built Worker in workerd, with the
//! `oauth2` crate as the client and `jwt-simple` as an independent verifier of the tokens.

mod common;

use common::browser::{location, query_param, Browser, Http};
use common::e2e::*;
use common::http::get;
use common::worker::{shared, start, Worker};
use edge_oauth::oauth::login_assertion::sign_assertion_for_tests;
use jwt_simple::prelude::*;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope, TokenResponse};
use serde_json::{json, Value};

fn run_confidential_flow(
    w: &Worker,
    tag: &str,
) -> (oauth2::basic::BasicTokenResponse, JWTClaims<Value>) {
    let client = register(w, "client_secret_basic");
    let email = user(w, tag);
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile:read".into()))
        .add_scope(Scope::new("images:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, auth_url.as_str(), &email);
    assert!(consent.body.contains("Album Printer") && consent.body.contains("Prints photo albums"));
    assert!(
        consent.body.contains("View images"),
        "scope description from the catalog"
    );
    let back = decide(&b, &consent, &["profile:read", "images:read"], "approve");
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&back, "iss").as_deref(), Some(w.url.as_str()));
    let code = query_param(&back, "code").unwrap();
    let token = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("token exchange");
    let claims = verify_with_jwks(w, token.access_token().secret());
    (token, claims)
}

#[test]
fn confidential_client_runs_the_flow_with_the_oauth2_crate() {
    let w = shared();
    let (token, claims) = run_confidential_flow(w, "conf");
    let scopes: Vec<String> = token
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["profile:read", "images:read"]);
    assert_eq!(token.expires_in().unwrap().as_secs(), 3600);
    assert!(token.refresh_token().unwrap().secret().len() >= 43);
    assert_eq!(claims.custom["scope"], "profile:read images:read");
    assert!(
        claims.custom["client_id"].is_string()
            && claims.jwt_id.is_some()
            && claims.subject.is_some()
    );
}

#[test]
fn public_client_runs_the_flow_with_pkce_only() {
    let w = shared();
    let client = register(w, "none");
    assert!(client.get("client_secret").is_none());
    let email = user(w, "public");
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, auth_url.as_str(), &email);
    let back = decide(&b, &consent, &["images:write"], "approve");
    let token = oauth
        .exchange_code(AuthorizationCode::new(query_param(&back, "code").unwrap()))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("public client token exchange");
    assert_eq!(
        verify_with_jwks(w, token.access_token().secret()).custom["scope"],
        "images:write",
        "partial grant"
    );
}

#[test]
fn deny_sends_access_denied_back_to_the_client() {
    let w = shared();
    let client = register(w, "client_secret_post");
    let email = user(w, "deny");
    let oauth = oauth_client(w, &client);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let back = decide(
        &b,
        &login_to_consent(&b, auth_url.as_str(), &email),
        &["profile:read"],
        "deny",
    );
    assert!(back.starts_with(REDIRECT));
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
}

#[test]
fn replayed_code_and_wrong_verifier_are_invalid_grant() {
    let w = shared();
    let client = register(w, "client_secret_basic");
    let email = user(w, "replay");
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let code = query_param(
        &decide(
            &b,
            &login_to_consent(&b, auth_url.as_str(), &email),
            &["profile:read"],
            "approve",
        ),
        "code",
    )
    .unwrap();
    let verifier_secret = verifier.secret().clone();
    let first = oauth
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("first use");
    // oauth2 over ureq 2 reports any 4xx as a transport error, so the RFC error body is read
    // with a plain request here.
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let redeem = |verifier: &str| {
        common::http::post_form(
            &w.url("/api/oauth/token"),
            &[],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
    };
    // The same request again (as after a lost answer): the same tokens, not a replay.
    let again = redeem(&verifier_secret);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.json()["refresh_token"].as_str(),
        first.refresh_token().map(|t| t.secret().as_str())
    );
    // Without the verifier it is a replay: refused, and the grant revoked.
    let d = redeem(&"y".repeat(43)).expect_error(400, "invalid_grant");
    assert!(d.contains("already used"), "{d}");
    let fresh = query_param(
        &decide(&b, &b.get(auth_url.as_str()), &["profile:read"], "approve"),
        "code",
    )
    .unwrap();
    let d = common::http::post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "authorization_code"),
            ("code", &fresh),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &"x".repeat(43)),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .expect_error(400, "invalid_grant");
    assert_eq!(d, "Invalid code_verifier");
}

#[test]
fn unregistered_redirect_uri_is_an_error_page_not_a_redirect() {
    let w = shared();
    let client = register(w, "client_secret_basic");
    let url = format!("{}?response_type=code&client_id={}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        w.url("/api/oauth/authorize"), client["client_id"].as_str().unwrap());
    let r = get(&url, &[]);
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(r
        .body
        .contains("redirect_uri does not match any registered URIs"));
}

#[test]
fn rs256_and_eddsa_signing_keys_produce_tokens_that_verify_with_the_jwks() {
    for alg in ["RS256", "EdDSA"] {
        let w = start(&["--alg", alg]);
        let (_, claims) = run_confidential_flow(&w, &format!("alg-{}", alg.to_lowercase()));
        assert_eq!(claims.issuer.as_deref(), Some(w.url.as_str()), "{alg}");
    }
}

#[test]
fn delegated_login_with_a_platform_that_signs_assertions() {
    let w = start(&[
        "--var",
        "LOGIN_MODE=delegated",
        "--var",
        "LOGIN_URL=https://platform.example/login",
    ]);
    let client = register(&w, "client_secret_basic");
    let oauth = oauth_client(&w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let to_platform = location(&b.get(auth_url.as_str()));
    assert!(to_platform.starts_with("https://platform.example/login?return_to="));
    // The test plays the platform: its user is signed in, so it mints an assertion.
    let return_to = query_param(&to_platform, "return_to").unwrap();
    let nonce = query_param(&to_platform, "nonce").expect("nonce for the assertion");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let assertion = sign_assertion_for_tests(
        &json!({"sub": "platform-user-7", "name": "Grace", "email": "grace@platform.example",
                "aud": w.url, "iat": now, "exp": now + 120, "jti": format!("login-{now}"), "nonce": nonce}),
        w.assertion_secret.as_bytes(),
    );
    let r = b.post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion), ("return_to", &return_to)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let consent = b.get(&location(&r));
    assert!(consent.body.contains("grace@platform.example"));
    let back = decide(&b, &consent, &["profile:read"], "approve");
    let token = oauth
        .exchange_code(AuthorizationCode::new(query_param(&back, "code").unwrap()))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .unwrap();
    let claims = verify_with_jwks(&w, token.access_token().secret());
    assert_eq!(claims.subject.as_deref(), Some("platform-user-7"));
    let replay = Browser::new(&Http, &w.url).post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion), ("return_to", &return_to)],
    );
    assert_eq!(replay.status, 400, "replayed assertion refused");
}
