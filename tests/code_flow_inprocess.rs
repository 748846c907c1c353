//! The authorization-code flow in-process (MemoryStore, native crypto, movable clock): login,
//! consent, codes and the token endpoint, with every error branch named for its behaviour.

mod common;

use common::browser::{hidden, location, query_param, submit_consent, Browser};
use common::flow::*;
use common::inprocess::{json, Harness, ASSERTION_SECRET, ISSUER};
use edge_oauth::http::Method;
use edge_oauth::oauth::login_assertion::sign_assertion_for_tests;
use serde_json::{json, Value};

#[test]
fn full_flow_issues_rfc9068_token_with_granted_scopes() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let consent = to_consent(&s, &b, &authorize_url(&s.client_id, &[]));
    assert!(
        consent
            .body
            .contains("Read basic profile (name, email, avatar)"),
        "scope descriptions from the catalog"
    );
    let r = submit_consent(&b, &consent, &["profile:read", "images:read"], "approve");
    let back = location(&r);
    assert!(back.starts_with(REDIRECT));
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some("st&te 1"),
        "state returned unchanged"
    );
    assert_eq!(query_param(&back, "iss").as_deref(), Some(ISSUER));
    let r = redeem(&s, &query_param(&back, "code").unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "profile:read images:read");
    assert!(t["refresh_token"].as_str().unwrap().len() >= 43);
    let c = claims(&s.h, t["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["client_id"], s.client_id.as_str());
    assert_eq!(c["scope"], "profile:read images:read");
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        3600
    );
    assert!(c["sub"].as_str().unwrap().len() > 10 && c["jti"].is_string() && c["aud"] == ISSUER);
    for (key, value) in s.h.store.dump() {
        assert!(
            !value.contains(t["refresh_token"].as_str().unwrap())
                && !key.contains(t["refresh_token"].as_str().unwrap()),
            "refresh token in clear at {key}"
        );
    }
}

#[test]
fn partial_grant_issues_only_the_checked_scopes() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["images:read", "images:write"]);
    let t = redeem(&s, &code).json();
    assert_eq!(
        t["scope"], "images:read",
        "unrequested images:write is ignored, profile:read was unchecked"
    );
}

#[test]
fn deny_and_empty_approval_redirect_with_access_denied() {
    let s = setup();
    for (scopes, decision) in [(vec!["profile:read"], "deny"), (vec![], "approve")] {
        let b = Browser::new(&s.h, ISSUER);
        let consent = to_consent(&s, &b, &authorize_url(&s.client_id, &[]));
        let r = submit_consent(&b, &consent, &scopes, decision);
        assert_eq!(r.status, 303);
        let back = location(&r);
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("access_denied")
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("st&te 1"));
        assert_eq!(query_param(&back, "iss").as_deref(), Some(ISSUER));
        assert!(query_param(&back, "code").is_none());
    }
}

#[test]
fn remembered_consent_skips_the_page_unless_prompt_consent_or_wider() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    get_code(&s, &b, &["profile:read", "images:read"]);
    let r = b.get(&authorize_url(&s.client_id, &[("scope", "profile:read")]));
    assert_eq!(
        r.status, 302,
        "subset of granted scopes: straight back with a code"
    );
    assert!(query_param(&location(&r), "code").is_some());
    let r = b.get(&authorize_url(&s.client_id, &[("prompt", "consent")]));
    assert_eq!(r.status, 200, "prompt=consent asks again");
    let r = b.get(&authorize_url(&s.client_id, &[("scope", "images:write")]));
    assert_eq!(r.status, 200, "a scope not yet granted asks again");
}

#[test]
fn omitted_scope_requests_the_clients_registered_scopes() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let consent = to_consent(&s, &b, &authorize_url(&s.client_id, &[("scope", "")]));
    for scope in ["profile:read", "images:read", "images:write"] {
        assert!(
            consent.body.contains(&format!(r#"value="{scope}""#)),
            "{scope} offered"
        );
    }
}

#[test]
fn authorize_errors_before_client_and_redirect_are_known_are_pages() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let good = authorize_url(&s.client_id, &[]);
    let cases = [
        (
            "missing client_id",
            authorize_url("", &[]),
            "client_id is required",
        ),
        (
            "unknown client",
            authorize_url("nope", &[]),
            "Unknown client_id",
        ),
        (
            "missing redirect_uri",
            authorize_url(&s.client_id, &[("redirect_uri", "")]),
            "redirect_uri is required",
        ),
        (
            "unregistered redirect",
            authorize_url(&s.client_id, &[("redirect_uri", "https://evil.example/cb")]),
            "redirect_uri does not match any registered URIs",
        ),
        (
            "prefix of registered",
            authorize_url(
                &s.client_id,
                &[("redirect_uri", "https://printer.example/callback/x")],
            ),
            "does not match",
        ),
        (
            "repeated client_id",
            format!("{good}&client_id={}", s.client_id),
            "repeated",
        ),
    ];
    for (name, url, message) in cases {
        let r = b.get(&url);
        assert_eq!(r.status, 400, "{name}");
        assert!(r.header("location").is_none(), "{name}: must not redirect");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{name}"
        );
        assert!(r.body.contains(message), "{name}: page lacks {message:?}");
    }
}

#[test]
fn authorize_errors_after_redirect_is_known_go_back_to_the_client() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let cases = [
        (
            "response_type token",
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            "no response_type",
            vec![("response_type", "")],
            "invalid_request",
        ),
        (
            "no code_challenge",
            vec![("code_challenge", "")],
            "invalid_request",
        ),
        (
            "plain method",
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (
            "no method (means plain)",
            vec![("code_challenge_method", "")],
            "invalid_request",
        ),
        (
            "short challenge",
            vec![("code_challenge", "abc")],
            "invalid_request",
        ),
        (
            "unknown scope",
            vec![("scope", "profile:read admin")],
            "invalid_scope",
        ),
        (
            "scope not allowed for client",
            vec![("scope", "stats:read")],
            "invalid_scope",
        ),
        (
            "bad scope characters",
            vec![("scope", "a\"b")],
            "invalid_scope",
        ),
    ];
    for (name, extra, error) in cases {
        let r = b.get(&authorize_url(&s.client_id, &extra));
        assert_eq!(r.status, 302, "{name}: {}", r.body);
        let back = location(&r);
        assert!(back.starts_with(REDIRECT), "{name}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some(error),
            "{name}"
        );
        assert!(query_param(&back, "error_description").is_some(), "{name}");
        assert_eq!(
            query_param(&back, "state").as_deref(),
            Some("st&te 1"),
            "{name}"
        );
        assert_eq!(query_param(&back, "iss").as_deref(), Some(ISSUER), "{name}");
    }
}

#[test]
fn loopback_redirect_matches_any_port() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let r = b.get(&authorize_url(
        &s.client_id,
        &[("redirect_uri", "http://127.0.0.1:49152/cb")],
    ));
    assert_eq!(r.status, 200, "login page, not an error: {}", r.body);
}

#[test]
fn code_replay_is_refused_and_revokes_the_grant() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    let first = redeem(&s, &code).json();
    // The client used what it got, so a second redemption cannot be a retry: a replay.
    let refreshed = token(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
        Some((&s.client_id, &s.secret)),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    redeem(&s, &code).expect_error(400, "invalid_grant");
    let refresh = first["refresh_token"].as_str().unwrap();
    let leftover =
        s.h.store
            .dump()
            .into_iter()
            .filter(|(k, _)| k.starts_with("refresh:") || k.starts_with("grant:"))
            .count();
    assert_eq!(
        leftover, 0,
        "grant and refresh token of the first redemption are gone ({refresh})"
    );
}

/// Issue 17: the answer to a code exchange was lost and the client sends the same request
/// again before using anything: the same response (same grant, same refresh token; a new
/// access token). Without the verifier it is a replay.
#[test]
fn a_retried_code_exchange_before_any_use_answers_on_the_same_grant() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    let lost = redeem(&s, &code).json();
    let retried = redeem(&s, &code).json();
    let gid =
        |t: &serde_json::Value| claims(&s.h, t["access_token"].as_str().unwrap())["gid"].clone();
    assert_eq!(gid(&retried), gid(&lost), "the same grant");
    let refresh = |t: &serde_json::Value| {
        token(
            &s,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
            Some((&s.client_id, &s.secret)),
        )
    };
    assert_eq!(retried["refresh_token"], lost["refresh_token"]);
    assert_eq!(refresh(&retried).status, 200);
    let replay = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "another-verifier-0123456789-0123456789-0123456789",
            ),
        ],
        Some((&s.client_id, &s.secret)),
    );
    replay.expect_error(400, "invalid_grant");
}

#[test]
fn expired_code_is_refused() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    s.h.store.advance(61);
    let d = redeem(&s, &code).expect_error(400, "invalid_grant");
    assert!(d.contains("expired"), "{d}");
}

#[test]
fn code_redeemed_by_another_client_fails_and_stays_usable_for_its_owner() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    let r = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &s.public_id),
        ],
        None,
    );
    r.expect_error(400, "invalid_grant");
    assert_eq!(redeem(&s, &code).status, 200);
}

#[test]
fn wrong_verifier_or_redirect_uri_consumes_the_code() {
    let s = setup();
    for (field, bad) in [
        (
            "code_verifier",
            "wrong-verifier-0123456789-0123456789-0123456789",
        ),
        ("code_verifier", ""),
        ("redirect_uri", "http://127.0.0.1/cb"),
    ] {
        let b = Browser::new(&s.h, ISSUER);
        let code = get_code(&s, &b, &["profile:read"]);
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, bad));
        let d =
            token(&s, &fields, Some((&s.client_id, &s.secret))).expect_error(400, "invalid_grant");
        let expected = if field == "code_verifier" {
            "Invalid code_verifier"
        } else {
            "redirect_uri does not match"
        };
        assert!(d.contains(expected), "{field}={bad:?}: {d}");
        redeem(&s, &code).expect_error(400, "invalid_grant");
    }
}

#[test]
fn failed_client_authentication_is_401_and_leaves_the_code_usable() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    // (case, extra body fields, HTTP Basic credentials)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "wrong secret (basic)",
            vec![],
            Some((&s.client_id, "wrong")),
        ),
        (
            "unknown client",
            vec![("client_id", "ghost"), ("client_secret", "x")],
            None,
        ),
        (
            "confidential without secret",
            vec![("client_id", &s.client_id)],
            None,
        ),
        ("no credentials", vec![], None),
    ];
    for (name, extra, basic) in cases {
        let mut all = fields.to_vec();
        all.extend(extra);
        let r = token(&s, &all, basic);
        let d = r.expect_error(401, "invalid_client");
        assert_eq!(d, "Invalid client_id or client_secret", "{name}");
        assert!(r.header("www-authenticate").is_some(), "{name}");
    }
    assert_eq!(
        redeem(&s, &code).status,
        200,
        "code still usable after failed authentications"
    );
}

#[test]
fn client_secret_in_body_and_json_body_work() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let code = get_code(&s, &b, &["profile:read"]);
    let body = json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER, "client_id": s.client_id, "client_secret": s.secret});
    let r = common::browser::Transport::send(
        &s.h,
        "POST",
        "/api/oauth/token",
        &[("content-type", "application/json")],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn public_client_uses_pkce_alone_and_may_not_send_a_secret() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let consent = to_consent(&s, &b, &authorize_url(&s.public_id, &[]));
    let code = query_param(
        &location(&submit_consent(&b, &consent, &["profile:read"], "approve")),
        "code",
    )
    .unwrap();
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", s.public_id.as_str()),
    ];
    let mut with_secret = base.to_vec();
    with_secret.push(("client_secret", "made-up"));
    token(&s, &with_secret, None).expect_error(401, "invalid_client");
    let r = token(&s, &base, None);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn token_request_errors_name_the_problem() {
    let s = setup();
    let auth = Some((s.client_id.as_str(), s.secret.as_str()));
    let d = token(&s, &[("code", "x")], auth).expect_error(400, "invalid_request");
    assert!(d.contains("grant_type is required"), "{d}");
    let d =
        token(&s, &[("grant_type", "password")], auth).expect_error(400, "unsupported_grant_type");
    assert!(d.contains("password"), "{d}");
    let d = token(&s, &[("grant_type", "authorization_code")], auth)
        .expect_error(400, "invalid_request");
    assert!(d.contains("code is required"), "{d}");
    token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", "never-issued"),
        ],
        auth,
    )
    .expect_error(400, "invalid_grant");
    let d = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("grant_type", "refresh_token"),
        ],
        auth,
    )
    .expect_error(400, "invalid_request");
    assert!(d.contains("repeated"), "{d}");
    let send = |ct: &str, body: &[u8]| {
        common::browser::Transport::send(
            &s.h,
            "POST",
            "/api/oauth/token",
            &[("content-type", ct)],
            Some(body),
        )
    };
    send("text/plain", b"grant_type=authorization_code").expect_error(400, "invalid_request");
    send("application/json", b"{\"grant_type\":").expect_error(400, "invalid_request");
    let d = send("application/json", br#"{"grant_type": 7}"#).expect_error(400, "invalid_request");
    assert!(d.contains("grant_type must be a string"), "{d}");
    send("application/json", &vec![b' '; 100 * 1024]).expect_error(413, "invalid_request");
}

#[test]
fn login_failures_show_the_form_again_or_refuse() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let page = b.get(&authorize_url(&s.client_id, &[]));
    let csrf = hidden(&page.body, "csrf_token");
    let return_to = hidden(&page.body, "return_to");
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", EMAIL),
            ("password", "wrong password"),
            ("csrf_token", &csrf),
            ("return_to", &return_to),
        ],
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Incorrect email or password"));
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", "nobody@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("return_to", &return_to),
        ],
    );
    assert_eq!(r.status, 401);
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
            ("return_to", &return_to),
        ],
    );
    assert_eq!(r.status, 403, "login CSRF token must match the cookie");
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("return_to", "https://evil.example/"),
        ],
    );
    assert_eq!(
        location(&r),
        "/account/apps",
        "no open redirect after login"
    );
    let session = b.cookie("edge_oauth_session").expect("session cookie");
    assert!(session.len() >= 43);
}

#[test]
fn session_cookie_is_httponly_lax_and_secure_behind_https() {
    for (issuer, secure) in [(ISSUER, false), ("https://auth.example.com", true)] {
        let h = Harness::with_vars(&[("ISSUER", issuer)]);
        h.admin(
            Method::Post,
            "/api/admin/users",
            Some(&json!({"email": EMAIL, "password": PASSWORD})),
        );
        let b = Browser::new(&h, issuer);
        let body =
            json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "profile:read"});
        let id = json(&h.admin(Method::Post, "/api/admin/clients", Some(&body)))["client_id"]
            .as_str()
            .unwrap()
            .to_string();
        let page = b.get(
            &authorize_url(&id, &[("scope", "profile:read")])
                .replace("/api", &format!("{issuer}/api")),
        );
        let r = b.post_form(
            &format!("{issuer}/api/oauth/login"),
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrf_token", &hidden(&page.body, "csrf_token")),
                ("return_to", &hidden(&page.body, "return_to")),
            ],
        );
        let cookie = r
            .headers_named("set-cookie")
            .into_iter()
            .find(|c| c.contains("edge_oauth_session="))
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains("Domain="), "host-only: {cookie}");
        assert_eq!(cookie.contains("; Secure"), secure, "{cookie}");
        assert_eq!(cookie.starts_with("__Host-"), secure, "{cookie}");
    }
}

#[test]
fn consent_form_needs_its_session_and_csrf_token_and_works_once() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let consent = to_consent(&s, &b, &authorize_url(&s.client_id, &[]));
    let request_id = hidden(&consent.body, "request_id");
    let r = b.post_form(
        "/api/oauth/authorize",
        &[
            ("csrf_token", "forged"),
            ("request_id", &request_id),
            ("scope", "profile:read"),
            ("decision", "approve"),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(r.header("location").is_none());
    // The forged attempt used the request up; a fresh one works once.
    let consent = b.get(&authorize_url(&s.client_id, &[]));
    let first = submit_consent(&b, &consent, &["profile:read"], "approve");
    assert_eq!(first.status, 303);
    // Submitted again (its answer lost): the same code, not a second one.
    let again = submit_consent(&b, &consent, &["profile:read"], "approve");
    assert_eq!(again.status, 303);
    assert_eq!(
        location(&again),
        location(&first),
        "one code per consent form"
    );
    let code = query_param(&location(&first), "code").unwrap();
    assert_eq!(redeem(&s, &code).status, 200);
    let late = submit_consent(&b, &consent, &["profile:read"], "approve");
    assert_eq!(
        late.status, 400,
        "a consent form whose code was used is answered"
    );
    let stranger = Browser::new(&s.h, ISSUER);
    let r = submit_consent(&stranger, &consent, &["profile:read"], "approve");
    assert_eq!(r.status, 400, "no session, no decision");
}

#[test]
fn consent_page_is_protected_against_framing() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let consent = to_consent(&s, &b, &authorize_url(&s.client_id, &[]));
    assert!(consent
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(consent.header("x-frame-options"), Some("DENY"));
    assert_eq!(consent.header("cache-control"), Some("no-store"));
}

fn assertion(claims: Value) -> String {
    sign_assertion_for_tests(&claims, ASSERTION_SECRET.as_bytes())
}

#[test]
fn delegated_login_redirects_to_the_platform_and_accepts_its_assertion_once() {
    let h = Harness::with_vars(&[
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login"),
    ]);
    let body = json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "profile:read"});
    let id = json(&h.admin(Method::Post, "/api/admin/clients", Some(&body)))["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = authorize_url(&id, &[("scope", "profile:read")]);
    // The provider sends the browser to the platform with return_to and a nonce.
    let start_sign_in = |b: &Browser<Harness>| {
        let to_platform = location(&b.get(&url));
        assert!(
            to_platform.starts_with("https://platform.example/login?return_to="),
            "{to_platform}"
        );
        (
            query_param(&to_platform, "return_to").unwrap(),
            query_param(&to_platform, "nonce").unwrap(),
        )
    };
    let now = h.store.now();
    let claims = |nonce: &str, jti: &str| {
        json!({"sub": "platform-user-42", "email": "u42@platform.example", "aud": ISSUER,
               "exp": now + 120, "iat": now, "jti": jti, "nonce": nonce})
    };
    let b = Browser::new(&h, ISSUER);
    let (return_to, nonce) = start_sign_in(&b);
    assert_eq!(return_to, format!("{ISSUER}{url}"));
    let good = assertion(claims(&nonce, "j-1"));
    let r = b.post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &good), ("return_to", &return_to)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(location(&r), url);
    let consent = b.get(&url);
    assert!(
        consent.body.contains("u42@platform.example"),
        "consent shows who is signed in"
    );

    // Replay: a fresh sign-in in another browser, but a jti already used.
    let other = Browser::new(&h, ISSUER);
    let (_, other_nonce) = start_sign_in(&other);
    let r = other.post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion(claims(&other_nonce, "j-1")))],
    );
    assert_eq!(r.status, 400, "an assertion (jti) is accepted once");

    // Login CSRF: the attacker's own assertion, posted from the victim's browser.
    let attacker = Browser::new(&h, ISSUER);
    let (_, attacker_nonce) = start_sign_in(&attacker);
    let victim = Browser::new(&h, ISSUER);
    start_sign_in(&victim);
    let r = victim.post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion(claims(&attacker_nonce, "j-2")))],
    );
    assert_eq!(
        r.status, 400,
        "an assertion bound to another browser is refused"
    );
    assert!(r.body.contains("nonce"), "{}", r.body);
    let r = Browser::new(&h, ISSUER).post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion(claims(&attacker_nonce, "j-3")))],
    );
    assert_eq!(r.status, 400, "no sign-in started in this browser");

    let bad_claims = [
        json!({"sub": "u", "aud": "https://other.example", "exp": now + 120, "jti": "j-4"}),
        json!({"sub": "u", "aud": ISSUER, "exp": now - 1, "jti": "j-5"}),
        json!({"sub": "u", "aud": ISSUER, "exp": now + 3600, "jti": "j-6"}),
        json!({"sub": "u", "aud": ISSUER, "exp": now + 60, "jti": "j-7"}),
    ];
    for mut bad in bad_claims {
        let b = Browser::new(&h, ISSUER);
        let (_, nonce) = start_sign_in(&b);
        if bad["jti"] != "j-7" {
            bad["nonce"] = json!(nonce); // j-7 lacks the nonce claim
        }
        let r = b.post_form(
            "/api/oauth/login/assertion",
            &[("assertion", &assertion(bad.clone()))],
        );
        assert_eq!(r.status, 400, "{bad}");
    }
    let b = Browser::new(&h, ISSUER);
    let (_, nonce) = start_sign_in(&b);
    let wrong_key = sign_assertion_for_tests(
        &json!({"sub": "u", "aud": ISSUER, "exp": now + 60, "jti": "j-8", "nonce": nonce}),
        b"another-secret-another-secret-0123",
    );
    let r = b.post_form("/api/oauth/login/assertion", &[("assertion", &wrong_key)]);
    assert_eq!(r.status, 400);
    let r = Browser::new(&h, ISSUER).post_form(
        "/api/oauth/login",
        &[("email", EMAIL), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 404, "password login is off in delegated mode");
}

#[test]
fn repeated_failed_sign_ins_pause_the_account_without_running_the_kdf() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let page = b.get(&authorize_url(&s.client_id, &[]));
    let (csrf, return_to) = (
        hidden(&page.body, "csrf_token"),
        hidden(&page.body, "return_to"),
    );
    let attempt = |password: &str| {
        b.post_form(
            "/api/oauth/login",
            &[
                ("email", EMAIL),
                ("password", password),
                ("csrf_token", &csrf),
                ("return_to", &return_to),
            ],
        )
    };
    for _ in 0..10 {
        assert_eq!(attempt("wrong password").status, 401);
    }
    let locked = attempt(PASSWORD);
    assert_eq!(
        locked.status, 429,
        "even the right password waits out the window"
    );
    assert!(locked.body.contains("Too many failed sign-ins"));
    s.h.store.advance(900);
    assert_eq!(
        attempt(PASSWORD).status,
        303,
        "the pause ends with the window"
    );
}

#[test]
fn a_successful_sign_in_resets_the_account_failure_count() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let page = b.get(&authorize_url(&s.client_id, &[]));
    let (csrf, return_to) = (
        hidden(&page.body, "csrf_token"),
        hidden(&page.body, "return_to"),
    );
    let attempt = |b: &Browser<Harness>, csrf: &str, password: &str| {
        b.post_form(
            "/api/oauth/login",
            &[
                ("email", EMAIL),
                ("password", password),
                ("csrf_token", csrf),
                ("return_to", &return_to),
            ],
        )
    };
    for _ in 0..9 {
        assert_eq!(attempt(&b, &csrf, "wrong password").status, 401);
    }
    assert_eq!(attempt(&b, &csrf, PASSWORD).status, 303);
    let b2 = Browser::new(&s.h, ISSUER);
    let page = b2.get(&authorize_url(&s.client_id, &[]));
    let csrf2 = hidden(&page.body, "csrf_token");
    assert_eq!(
        attempt(&b2, &csrf2, "wrong password").status,
        401,
        "count started again"
    );
    assert_eq!(attempt(&b2, &csrf2, PASSWORD).status, 303);
}

#[test]
fn delegated_login_nonce_cookie_survives_the_platforms_cross_site_post() {
    // Behind https the nonce cookie must be SameSite=None (a Lax cookie is not sent on the
    // platform's cross-site hand-back POST); the session cookie stays Lax.
    let h = Harness::with_vars(&[
        ("ISSUER", "https://auth.example.com"),
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login"),
    ]);
    let body = json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "profile:read"});
    let id = json(&h.admin(Method::Post, "/api/admin/clients", Some(&body)))["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Browser::new(&h, "https://auth.example.com");
    let r = b.get(&authorize_url(&id, &[("scope", "profile:read")]));
    let cookie = r
        .headers_named("set-cookie")
        .into_iter()
        .find(|c| c.contains("login_nonce"))
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("__Host-edge_oauth_login_nonce="),
        "{cookie}"
    );
    assert!(
        cookie.contains("SameSite=None")
            && cookie.contains("; Secure")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
