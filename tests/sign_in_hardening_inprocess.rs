//! Issue 8, in-process: sign-in and page hardening. A failed delegated sign-in does not burn
//! the assertion; a new sign-in ends the browser's previous session; pages limit
//! `form-action`; wrong admin tokens are throttled; `state` comes back byte for byte.

mod common;

use common::browser::{hidden, location, query_param, submit_consent, Browser};
use common::flaky::FlakyWrites;
use common::flow::*;
use common::inprocess::{expect_error, json, Harness, ADMIN_TOKEN, ASSERTION_SECRET, ISSUER};
use edge_oauth::http::{Method, Request, Response};
use edge_oauth::oauth::login_assertion::sign_assertion_for_tests;
use serde_json::json;

const SESSION: &str = "edge_oauth_session";

fn cookie_pair(r: &Response, name: &str) -> String {
    r.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap()
        .to_string()
}

#[test]
fn an_assertion_is_not_burnt_when_starting_the_session_fails() {
    let h = Harness::with_vars(&[
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login"),
    ]);
    let store = FlakyWrites::new(&h, "session:");
    let call = |req: Request| store.handle(&h, &req);
    let body = json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "profile:read"});
    let created = call(
        Request::new(Method::Post, "/api/admin/clients")
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .with_header("content-type", "application/json")
            .with_body(body.to_string()),
    );
    let id = json(&created)["client_id"].as_str().unwrap().to_string();
    let to_platform = call(Request::new(
        Method::Get,
        &authorize_url(&id, &[("scope", "profile:read")]),
    ));
    let nonce_cookie = cookie_pair(&to_platform, "edge_oauth_login_nonce");
    let nonce = query_param(to_platform.header("location").unwrap(), "nonce").unwrap();
    let now = store.inner.now();
    let assertion = sign_assertion_for_tests(
        &json!({"sub": "platform-user", "aud": ISSUER, "exp": now + 120, "jti": "once", "nonce": nonce}),
        ASSERTION_SECRET.as_bytes(),
    );
    let post = || {
        call(
            Request::new(Method::Post, "/api/oauth/login/assertion")
                .with_header("cookie", &nonce_cookie)
                .with_header("content-type", "application/x-www-form-urlencoded")
                .with_body(format!("assertion={assertion}")),
        )
    };
    // The session's write fails: a KV write on the KV backend, the call to the user's
    // object on the durable backend (which keeps sessions).
    store.failing.set(true);
    h.objects.set_unavailable(true);
    let outage = post();
    assert_eq!(
        outage.status, 503,
        "the outage is a 503 the platform may retry"
    );
    assert!(outage.header("retry-after").is_some());
    store.failing.set(false);
    h.objects.set_unavailable(false);
    let r = post();
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.body));
    let again = post();
    assert_eq!(again.status, 400, "a used assertion stays refused");
}

/// A built-in sign-in from a browser that already holds session `held` (if any); returns the
/// new session id.
fn sign_in(s: &Setup, held: Option<&str>) -> String {
    let fresh = Browser::new(&s.h, ISSUER);
    let page = fresh.get(&authorize_url(&s.client_id, &[]));
    let csrf = fresh.cookie("edge_oauth_login_csrf").unwrap();
    let mut cookie = format!("edge_oauth_login_csrf={csrf}");
    if let Some(id) = held {
        cookie.push_str(&format!("; {SESSION}={id}"));
    }
    let body = common::http::form_encode(&[
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrf_token", &hidden(&page.body, "csrf_token")),
        ("return_to", &hidden(&page.body, "return_to")),
    ]);
    let r = s.h.call(
        Request::new(Method::Post, "/api/oauth/login")
            .with_header("cookie", &cookie)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body),
    );
    assert_eq!(r.status, 303);
    cookie_pair(&r, SESSION)[SESSION.len() + 1..].to_string()
}

fn apps_with(s: &Setup, session_id: &str) -> bool {
    let r = s.h.call(
        Request::new(Method::Get, "/account/apps")
            .with_header("cookie", &format!("{SESSION}={session_id}")),
    );
    !String::from_utf8_lossy(&r.body).contains(r#"name="password""#)
}

#[test]
fn a_new_sign_in_ends_the_browsers_previous_session() {
    let s = setup();
    let first = sign_in(&s, None);
    assert!(apps_with(&s, &first));
    let second = sign_in(&s, Some(&first));
    assert_ne!(first, second);
    assert!(apps_with(&s, &second));
    assert!(!apps_with(&s, &first), "the earlier session is over");
    // Another browser's session is not touched.
    let other = sign_in(&s, None);
    assert!(apps_with(&s, &other) && apps_with(&s, &second));
}

fn form_action(page: &common::http::Reply) -> String {
    let csp = page.header("content-security-policy").expect("CSP");
    csp.split("; ")
        .find(|d| d.starts_with("form-action"))
        .unwrap_or_else(|| panic!("no form-action in {csp}"))
        .to_string()
}

#[test]
fn pages_limit_form_action_to_this_origin_and_the_clients_redirect() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let login_page = b.get(&authorize_url(&s.client_id, &[]));
    assert_eq!(
        form_action(&login_page),
        "form-action 'self' https://printer.example"
    );
    let consent = b.get(&location(&login(&b, &login_page)));
    assert_eq!(
        form_action(&consent),
        "form-action 'self' https://printer.example"
    );
    assert_eq!(form_action(&b.get("/account/apps")), "form-action 'self'");
    assert_eq!(
        form_action(&b.get("/api/oauth/logout")),
        "form-action 'self'"
    );
    let h = Harness::with_vars(&[
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login?x=1"),
    ]);
    let page = Browser::new(&h, ISSUER).get("/api/oauth/logout");
    assert_eq!(
        form_action(&page),
        "form-action 'self' https://platform.example"
    );
}

#[test]
fn wrong_admin_tokens_are_throttled_per_address() {
    let h = Harness::new();
    let call = |token: &str, address: &str| {
        h.call(
            Request::new(Method::Get, "/api/admin/clients")
                .with_header("authorization", &format!("Bearer {token}"))
                .with_header("cf-connecting-ip", address),
        )
    };
    for _ in 0..10 {
        expect_error(&call("wrong-token", "192.0.2.1"), 401, "invalid_token");
    }
    for token in ["wrong-token", ADMIN_TOKEN] {
        let r = call(token, "192.0.2.1");
        let why = expect_error(&r, 429, "too_many_requests");
        assert!(why.contains("Too many wrong admin tokens"), "{why}");
        assert_eq!(r.header("retry-after"), Some("900"));
    }
    assert_eq!(call(ADMIN_TOKEN, "192.0.2.2").status, 200, "per address");
    h.store.advance(900);
    assert_eq!(
        call(ADMIN_TOKEN, "192.0.2.1").status,
        200,
        "the window ends"
    );
}

/// Issue 18: an IPv6 subscriber holds a whole /64, so wrong tokens are counted per /64: ten
/// guesses from ten addresses of one /64 use up its count; the next /64 has its own.
#[test]
fn wrong_admin_tokens_from_one_ipv6_64_share_a_count() {
    let h = Harness::new();
    let call = |token: &str, address: &str| {
        h.call(
            Request::new(Method::Get, "/api/admin/clients")
                .with_header("authorization", &format!("Bearer {token}"))
                .with_header("cf-connecting-ip", address),
        )
    };
    for i in 0..10 {
        let address = format!("2001:db8:7:8:{i:x}::{i:x}");
        expect_error(&call("wrong-token", &address), 401, "invalid_token");
    }
    let r = call(ADMIN_TOKEN, "2001:db8:7:8:ffff:ffff:ffff:ffff");
    expect_error(&r, 429, "too_many_requests");
    assert_eq!(
        call(ADMIN_TOKEN, "2001:db8:7:9::1").status,
        200,
        "another /64"
    );
}

#[test]
fn state_bytes_that_are_not_utf8_come_back_byte_exact() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let url = format!(
        "{}&state=%FF%FEa+b",
        authorize_url(&s.client_id, &[("state", "")])
    );
    let consent = b.get(&location(&login(&b, &b.get(&url))));
    let r = submit_consent(&b, &consent, &["profile:read"], "approve");
    let back = location(&r);
    assert!(back.contains("&state=%FF%FEa+b&iss="), "{back}");
    // Error redirects too.
    let bad = format!("{url}&prompt=consent")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let back = location(&b.get(&bad));
    assert!(back.contains("error=invalid_request"), "{back}");
    assert!(back.contains("&state=%FF%FEa+b&iss="), "{back}");
}
