//! RFC 7591 dynamic registration in-process (both backends: `EDGE_STATE_BACKEND=kv`): off by
//! default, public clients only when open, the admin API's field rules, an answer without
//! `null`s that echoes `redirect_uris`, and the registered client usable like any other.
//! The rate limit (the Workers binding) is tested in workerd: tests/e2e_registration.rs.

mod common;

use common::browser::{location, query_param, submit_consent, Browser};
use common::flow::{claims, login, token, EMAIL, PASSWORD, VERIFIER};
use common::inprocess::{expect_error, json, Harness, ISSUER};
use edge_oauth::http::{Method, Request, Response};
use edge_oauth::oauth::pkce::challenge_for;
use serde_json::{json, Value};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";

fn open() -> Harness {
    Harness::with_vars(&[("DYNAMIC_REGISTRATION", "open")])
}

fn register(h: &Harness, body: &str) -> Response {
    h.call(
        Request::new(Method::Post, "/api/oauth/register")
            .with_header("content-type", "application/json")
            .with_body(body.to_string()),
    )
}

/// What the MCP TypeScript SDK sends.
fn sdk_body() -> Value {
    json!({"client_name": "SDK client", "redirect_uris": [REDIRECT],
           "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
           "response_types": ["code"], "scope": "profile:read galleries:read"})
}

fn no_nulls(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().all(no_nulls),
        Value::Object(o) => o.values().all(no_nulls),
        _ => true,
    }
}

#[test]
fn off_by_default_and_not_advertised() {
    let h = Harness::new();
    let r = register(&h, &sdk_body().to_string());
    expect_error(&r, 404, "not_found");
    let meta = json(&h.call(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    )));
    assert!(meta.get("registration_endpoint").is_none());
}

#[test]
fn an_open_server_registers_a_public_client_and_echoes_its_metadata() {
    let h = open();
    let meta = json(&h.call(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    )));
    assert_eq!(
        meta["registration_endpoint"],
        format!("{ISSUER}/api/oauth/register")
    );
    let r = register(&h, &sdk_body().to_string());
    assert_eq!(r.status, 201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let c = json(&r);
    assert!(no_nulls(&c), "{c}");
    assert_eq!(c["redirect_uris"], json!([REDIRECT]));
    assert_eq!(c["token_endpoint_auth_method"], "none");
    assert_eq!(c["scope"], "profile:read galleries:read");
    assert!(c["client_id"].as_str().unwrap().len() >= 20);
    assert_eq!(c["client_id_issued_at"], h.store.now() - 1);
    assert!(c.get("client_secret").is_none());
    // An ordinary client: listed, unverified, deletable.
    let id = c["client_id"].as_str().unwrap();
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert_eq!(admin["verified"], false);
    // Without scope and auth method: the catalog, public.
    let minimal = json!({"client_name": "Minimal", "redirect_uris": [REDIRECT]});
    let c = json(&register(&h, &minimal.to_string()));
    let catalog = edge_oauth::oauth::scope::ScopeCatalog::default();
    let every: Vec<&str> = catalog.names().collect();
    assert_eq!(c["scope"].as_str().unwrap(), every.join(" "));
    assert_eq!(c["token_endpoint_auth_method"], "none");
    let r = h.admin(Method::Delete, &format!("/api/admin/clients/{id}"), None);
    assert_eq!(r.status, 204);
}

#[test]
fn confidential_or_invalid_metadata_is_refused_and_nothing_is_a_500() {
    let h = open();
    let with = |k: &str, v: Value| {
        let mut b = sdk_body();
        b[k] = v;
        b.to_string()
    };
    let cases: Vec<(String, u16, &str)> = vec![
        (
            with("token_endpoint_auth_method", json!("client_secret_basic")),
            400,
            "invalid_client_metadata",
        ),
        (
            with("grant_types", json!(["client_credentials"])),
            400,
            "invalid_client_metadata",
        ),
        (
            with("grant_types", json!(["implicit"])),
            400,
            "invalid_client_metadata",
        ),
        (
            with("redirect_uris", json!(["https://a.example/cb#x"])),
            400,
            "invalid_redirect_uri",
        ),
        (
            with("redirect_uris", json!([])),
            400,
            "invalid_redirect_uri",
        ),
        (
            with("redirect_uris", json!("http://127.0.0.1/cb")),
            400,
            "invalid_client_metadata",
        ),
        // No key of these algorithms (or not one ID tokens are signed with): every sign-in
        // of the client would fail.
        (
            with("id_token_signed_response_alg", json!("EdDSA")),
            400,
            "invalid_client_metadata",
        ),
        (
            with("id_token_signed_response_alg", json!("none")),
            400,
            "invalid_client_metadata",
        ),
        (
            with("scope", json!("admin:everything")),
            400,
            "invalid_client_metadata",
        ),
        (
            with("client_name", json!(7)),
            400,
            "invalid_client_metadata",
        ),
        ("{".into(), 400, "invalid_request"),
        ("[]".into(), 400, "invalid_request"),
        (
            r#"{"client_name":"a","client_name":"b"}"#.into(),
            400,
            "invalid_request",
        ),
    ];
    for (body, status, error) in cases {
        let r = register(&h, &body);
        expect_error(&r, status, error);
    }
    let r = h.call(Request::new(Method::Post, "/api/oauth/register").with_body("x"));
    expect_error(&r, 400, "invalid_request");
}

#[test]
fn a_registered_client_runs_the_code_flow_and_is_shown_unverified() {
    let h = open();
    let r = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": EMAIL, "password": PASSWORD})),
    );
    assert_eq!(r.status, 201);
    let c = json(&register(&h, &sdk_body().to_string()));
    let id = c["client_id"].as_str().unwrap();
    let challenge = challenge_for(VERIFIER);
    let url = format!(
        "/api/oauth/authorize?{}",
        common::http::form_encode(&[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let b = Browser::new(&h, ISSUER);
    let after = login(&b, &b.get(&url));
    let consent = b.get(&location(&after));
    assert!(consent.body.contains("not verified"), "{}", consent.body);
    let r = submit_consent(&b, &consent, &["profile:read"], "approve");
    let code = query_param(&location(&r), "code").unwrap();
    let s = common::flow::Setup {
        h,
        client_id: id.into(),
        secret: String::new(),
        public_id: id.into(),
    };
    let t = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", id),
        ],
        None,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        claims(&s.h, t.json()["access_token"].as_str().unwrap())["client_id"],
        id
    );
}
