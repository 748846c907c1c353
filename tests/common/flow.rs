//! In-process flow helpers: a registered confidential and public client, a built-in user,
//! and the browser steps from authorize to code.

use super::browser::{hidden, location, query_param, submit_consent, Browser};
use super::http::{form_encode, Reply};
use super::inprocess::{json, Harness};
use base64::Engine;
use edge_oauth::crypto::native::NativeCrypto;
use edge_oauth::http::Method;
use edge_oauth::oauth::pkce::challenge_for;
use edge_oauth::token::jwt;
use futures_executor::block_on;
use serde_json::{json, Value};

pub const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-abcdef";
pub const REDIRECT: &str = "https://printer.example/callback";
pub const EMAIL: &str = "ada@example.com";
pub const PASSWORD: &str = "correct horse battery";

pub struct Setup {
    pub h: Harness,
    pub client_id: String,
    pub secret: String,
    pub public_id: String,
}

pub fn setup() -> Setup {
    setup_with(&[])
}

/// [`setup`] with configuration variables added.
pub fn setup_with(vars: &[(&str, &str)]) -> Setup {
    let h = Harness::with_vars(vars);
    let mk = |auth: &str| {
        let body = json!({"client_name": "Photo Printer", "redirect_uris": [REDIRECT, "http://127.0.0.1/cb"],
            "scope": "profile:read images:read images:write", "token_endpoint_auth_method": auth});
        json(&h.admin(Method::Post, "/api/admin/clients", Some(&body)))
    };
    let confidential = mk("client_secret_basic");
    let public = mk("none");
    let r = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": EMAIL, "password": PASSWORD, "name": "Ada"})),
    );
    assert_eq!(r.status, 201);
    Setup {
        client_id: confidential["client_id"].as_str().unwrap().into(),
        secret: confidential["client_secret"].as_str().unwrap().into(),
        public_id: public["client_id"].as_str().unwrap().into(),
        h,
    }
}

pub fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge_for(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "profile:read images:read"),
        ("state", "st&te 1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(n, _)| n != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    format!("/api/oauth/authorize?{}", form_encode(&pairs))
}

pub fn login(b: &Browser<Harness>, page: &Reply) -> Reply {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"name="password""#),
        "login page expected"
    );
    b.post_form(
        "/api/oauth/login",
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("return_to", &hidden(&page.body, "return_to")),
        ],
    )
}

/// authorize → login → consent page; returns the consent page.
pub fn to_consent(s: &Setup, b: &Browser<Harness>, url: &str) -> Reply {
    let after_login = login(b, &b.get(url));
    assert_eq!(after_login.status, 303);
    let consent = b.get(&location(&after_login));
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("Photo Printer"));
    let _ = s;
    consent
}

/// Full browser part for the confidential client; returns the code.
pub fn get_code(s: &Setup, b: &Browser<Harness>, scopes: &[&str]) -> String {
    let consent = to_consent(s, b, &authorize_url(&s.client_id, &[]));
    let r = submit_consent(b, &consent, scopes, "approve");
    assert_eq!(r.status, 303);
    query_param(&location(&r), "code").expect("code in redirect")
}

pub fn token(s: &Setup, fields: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    post(s, "/api/oauth/token", fields, basic)
}

/// A form POST to `path`, with HTTP Basic client credentials when given.
pub fn post(s: &Setup, path: &str, fields: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    let mut headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some((id, secret)) = basic {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.push(("authorization".into(), format!("Basic {b64}")));
    }
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    super::browser::Transport::send(&s.h, "POST", path, &h, Some(form_encode(fields).as_bytes()))
}

pub fn redeem(s: &Setup, code: &str) -> Reply {
    token(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((&s.client_id, &s.secret)),
    )
}

pub fn claims(h: &Harness, access_token: &str) -> Value {
    let verified = block_on(jwt::verify(
        &NativeCrypto::new(),
        &h.config.signing_keys,
        access_token,
    ))
    .unwrap()
    .unwrap();
    assert_eq!(verified.header["typ"], "at+jwt");
    Value::Object(verified.claims)
}
