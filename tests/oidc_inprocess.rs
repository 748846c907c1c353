//! OpenID Connect in-process (issue 15): discovery, ID tokens on code and refresh responses
//! (checked independently of the provider: signature with jwt-simple, `at_hash` with sha2),
//! the nonce's limits, the cost of an `openid` flow, and a deployment without an RS256 key.
//! Runs on the durable backend, and on KV with `EDGE_STATE_BACKEND=kv`.

mod common;

use base64::Engine;
use common::browser::{location, query_param, submit_consent, Browser};
use common::flow::{login, post, Setup, EMAIL, PASSWORD, REDIRECT, VERIFIER};
use common::inprocess::{json, Harness, ES256_ONLY_KEYS, ISSUER};
use edge_oauth::http::{Method, Request};
use edge_oauth::oauth::pkce::challenge_for;
use jwt_simple::prelude::*;
use serde_json::{json, Value};
use sha2::Digest;

const SCOPES: &str = "openid profile email offline_access profile:read";

fn setup_with(h: Harness) -> Setup {
    let body = json!({"client_name": "Photo Printer", "redirect_uris": [REDIRECT],
        "scope": SCOPES, "token_endpoint_auth_method": "client_secret_basic"});
    let client = json(&h.admin(Method::Post, "/api/admin/clients", Some(&body)));
    let r = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": EMAIL, "password": PASSWORD, "name": "Ada"})),
    );
    assert_eq!(r.status, 201);
    Setup {
        client_id: client["client_id"].as_str().unwrap().into(),
        secret: client["client_secret"].as_str().unwrap().into(),
        public_id: String::new(),
        h,
    }
}

fn setup() -> Setup {
    setup_with(Harness::new())
}

fn authorize_url(s: &Setup, scope: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge_for(VERIFIER);
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", &s.client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "st")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("/api/oauth/authorize?{}", q.finish())
}

/// Signs in, approves every requested scope, and redeems the code: the token response.
fn sign_in(s: &Setup, b: &Browser<Harness>, scope: &str, extra: &[(&str, &str)]) -> Value {
    let after_login = login(b, &b.get(&authorize_url(s, scope, extra)));
    let consent = b.get(&location(&after_login));
    // Approved before: the remembered consent answers at once.
    let r = if consent.status == 302 {
        consent
    } else {
        assert_eq!(consent.status, 200, "{}", consent.body);
        let scopes: Vec<&str> = scope.split(' ').collect();
        submit_consent(b, &consent, &scopes, "approve")
    };
    let code = query_param(&location(&r), "code").expect("code");
    redeem(s, &code)
}

fn redeem(s: &Setup, code: &str) -> Value {
    let r = post(
        s,
        "/api/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((&s.client_id, &s.secret)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn refresh(s: &Setup, token: &Value) -> Value {
    let r = post(
        s,
        "/api/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token["refresh_token"].as_str().unwrap()),
        ],
        Some((&s.client_id, &s.secret)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn jwks(h: &Harness) -> Value {
    json(&h.call(Request::new(Method::Get, "/.well-known/jwks.json")))
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// The ID token verified with jwt-simple against the published JWKS: (header, claims).
fn verify_id_token(s: &Setup, id_token: &str) -> (Value, Value) {
    let header: Value = serde_json::from_slice(&b64(id_token.split('.').next().unwrap())).unwrap();
    let jwks = jwks(&s.h);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid published in the JWKS")
        .clone();
    assert_eq!(jwk["kty"], "RSA");
    let key = RS256PublicKey::from_components(
        &b64(jwk["n"].as_str().unwrap()),
        &b64(jwk["e"].as_str().unwrap()),
    )
    .unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&[ISSUER])),
        allowed_audiences: Some(HashSet::from_strings(&[&s.client_id])),
        // The harness clock is its own (moved by the tests), not the wall clock.
        artificial_time: Some(Duration::from_secs(s.h.store.now())),
        ..Default::default()
    };
    key.verify_token::<Value>(id_token, Some(options))
        .expect("ID token verifies with the published RS256 key");
    let claims: Value = serde_json::from_slice(&b64(id_token.split('.').nth(1).unwrap())).unwrap();
    (header, claims)
}

fn at_hash(access_token: &str) -> String {
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[test]
fn discovery_agrees_with_the_rfc8414_document_and_names_the_oidc_members() {
    let s = setup();
    let oidc = s.h.call(Request::new(
        Method::Get,
        "/.well-known/openid-configuration",
    ));
    assert_eq!(oidc.status, 200);
    let oauth = s.h.call(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    ));
    assert_eq!(
        oidc.header("cache-control"),
        oauth.header("cache-control"),
        "same caching"
    );
    let (oidc, oauth) = (json(&oidc), json(&oauth));
    for (name, value) in oauth.as_object().unwrap() {
        assert_eq!(
            &oidc[name], value,
            "{name} differs between the two documents"
        );
    }
    assert_eq!(oidc["issuer"], ISSUER);
    assert_eq!(oidc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        oidc["userinfo_endpoint"],
        format!("{ISSUER}/api/oauth/userinfo")
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    assert_eq!(oidc["request_uri_parameter_supported"], false);
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            oidc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)),
            "{scope}"
        );
    }
    for claim in ["sub", "name", "picture", "email", "email_verified"] {
        assert!(oidc["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(claim)));
    }
    // CORS like the RFC 8414 document: a browser app configures itself from it.
    let r = s.h.call(
        Request::new(Method::Get, "/.well-known/openid-configuration")
            .with_header("origin", "https://app.example"),
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn a_code_response_carries_a_signed_id_token_with_nonce_and_at_hash() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    // Byte-exact: characters that form encoding and JSON both escape.
    let nonce = "n-0S6_WzA2Mj \"quoted\" & caf\u{e9} \u{1f600}";
    let t = sign_in(&s, &b, "openid profile email", &[("nonce", nonce)]);
    let id_token = t["id_token"].as_str().expect("id_token in the response");
    let (header, c) = verify_id_token(&s, id_token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let access = t["access_token"].as_str().unwrap();
    let at = common::flow::claims(&s.h, access);
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["sub"], at["sub"], "the access token's sub");
    assert_eq!(c["aud"], s.client_id.as_str());
    assert_eq!(c["azp"], s.client_id.as_str());
    assert_eq!(c["nonce"], nonce);
    assert_eq!(
        c["at_hash"],
        at_hash(access),
        "at_hash computed independently"
    );
    assert!(c["sid"].as_str().is_some_and(|v| v.len() >= 16));
    let (iat, auth_time) = (c["iat"].as_u64().unwrap(), c["auth_time"].as_u64().unwrap());
    assert!(
        auth_time <= iat && iat - auth_time < 60,
        "{auth_time} {iat}"
    );
    assert!(c["exp"].as_u64().unwrap() > iat);
    assert_eq!(c["name"], "Ada");
    assert_eq!(c["email"], EMAIL);
    assert_eq!(
        c["email_verified"], false,
        "nobody verified the address by mail"
    );
    // The access token stays ES256, signed with the first key.
    let at_header: Value = serde_json::from_slice(&b64(access.split('.').next().unwrap())).unwrap();
    assert_eq!(at_header["alg"], "ES256");
}

#[test]
fn claims_follow_the_granted_scopes_and_no_nonce_means_none() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &b, "openid", &[]);
    let (_, c) = verify_id_token(&s, t["id_token"].as_str().unwrap());
    for absent in ["nonce", "name", "email", "email_verified", "picture"] {
        assert!(c.get(absent).is_none(), "{absent} without its scope: {c}");
    }
    let plain = sign_in(&s, &Browser::new(&s.h, ISSUER), "profile:read", &[]);
    assert!(plain.get("id_token").is_none(), "no openid, no ID token");
}

#[test]
fn a_refresh_keeps_sub_and_auth_time_and_drops_the_nonce() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let first = sign_in(&s, &b, "openid email offline_access", &[("nonce", "abc")]);
    let (_, c1) = verify_id_token(&s, first["id_token"].as_str().unwrap());
    s.h.store.advance(120);
    let second = refresh(&s, &first);
    let (_, c2) = verify_id_token(&s, second["id_token"].as_str().unwrap());
    assert_eq!(c2["sub"], c1["sub"]);
    assert_eq!(c2["auth_time"], c1["auth_time"], "OIDC Core §12.2");
    assert_eq!(c2["sid"], c1["sid"]);
    assert!(c2["iat"].as_u64() > c1["iat"].as_u64());
    assert!(c2.get("nonce").is_none(), "{c2}");
    assert_eq!(
        c2["at_hash"],
        at_hash(second["access_token"].as_str().unwrap())
    );
    assert_eq!(c2["email"], EMAIL);
}

/// Issue 15's cost rule: an `openid` flow makes exactly the storage operations (KV and object
/// calls) of the same flow without it.
#[test]
fn an_openid_flow_costs_no_storage_operation_more() {
    let count = |scope: &str| {
        let s = setup();
        let b = Browser::new(&s.h, ISSUER);
        let before = (s.h.store.op_counts(), s.h.objects.calls());
        let t = sign_in(&s, &b, scope, &[("nonce", "n")]);
        let _ = refresh(&s, &t);
        let after = (s.h.store.op_counts(), s.h.objects.calls());
        (
            (
                after.0 .0 - before.0 .0,
                after.0 .1 - before.0 .1,
                after.0 .2 - before.0 .2,
            ),
            after.1 - before.1,
            t.get("id_token").is_some(),
        )
    };
    let plain = count("profile:read email");
    let openid = count("openid email");
    assert!(!plain.2 && openid.2);
    assert_eq!(openid.0, plain.0, "KV operations (get, put, list)");
    assert_eq!(openid.1, plain.1, "Durable Object calls");
}

#[test]
fn a_bad_nonce_goes_back_to_the_client_as_invalid_request() {
    let s = setup();
    let long = "x".repeat(513);
    for (nonce, why) in [
        (long.as_str(), "longer"),
        ("a\u{7}b", "control"),
        ("a\nb", "control"),
    ] {
        let r = s.h.call(Request::new(
            Method::Get,
            &authorize_url(&s, "openid", &[("nonce", nonce)]),
        ));
        assert_eq!(r.status, 302, "{nonce:?}");
        let to = r.header("location").unwrap().to_string();
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request")
        );
        assert!(query_param(&to, "error_description").unwrap().contains(why));
    }
    let ok = "y".repeat(512);
    let r = s.h.call(Request::new(
        Method::Get,
        &authorize_url(&s, "openid", &[("nonce", &ok)]),
    ));
    assert_eq!(
        r.status, 200,
        "512 characters are accepted (the login page)"
    );
}

#[test]
fn without_an_rs256_key_openid_is_a_configuration_error_and_oauth_still_works() {
    let s = setup_with(Harness::with_vars(&[("SIGNING_KEYS", ES256_ONLY_KEYS)]));
    let r =
        s.h.call(Request::new(Method::Get, &authorize_url(&s, "openid", &[])));
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 500);
    assert!(
        body.contains("SIGNING_KEYS") && body.contains("RS256"),
        "{body}"
    );
    assert!(
        !body.contains(r#"name="password""#),
        "refused before the login page"
    );
    let b = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &b, "profile:read", &[]);
    assert!(t["access_token"].is_string() && t.get("id_token").is_none());
    let doc = json(&s.h.call(Request::new(
        Method::Get,
        "/.well-known/openid-configuration",
    )));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
}

fn userinfo(s: &Setup, token: &str) -> edge_oauth::http::Response {
    s.h.call(
        Request::new(Method::Get, "/api/oauth/userinfo")
            .with_header("authorization", &format!("Bearer {token}"))
            .with_header("origin", "https://app.example"),
    )
}

#[test]
fn userinfo_answers_the_claims_of_the_granted_scopes_by_get_and_post() {
    let s = setup();
    let t = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid profile email", &[]);
    let access = t["access_token"].as_str().unwrap();
    let (_, id) = verify_id_token(&s, t["id_token"].as_str().unwrap());
    let r = userinfo(&s, access);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let u = json(&r);
    assert_eq!(u["sub"], id["sub"]);
    assert_eq!(u["name"], "Ada");
    assert_eq!(u["email"], EMAIL);
    assert_eq!(
        u["email_verified"], id["email_verified"],
        "the same as in the ID token"
    );
    let posted = s.h.call(
        Request::new(Method::Post, "/api/oauth/userinfo")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(format!("access_token={access}")),
    );
    assert_eq!(json(&posted), u, "RFC 6750 §2.2 form body");
    let both = s.h.call(
        Request::new(Method::Post, "/api/oauth/userinfo")
            .with_header("authorization", &format!("Bearer {access}"))
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(format!("access_token={access}")),
    );
    assert_eq!(both.status, 400, "one method only (RFC 6750 §2)");
    // Only `openid`: the subject and nothing else.
    let bare = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid", &[]);
    let u = json(&userinfo(&s, bare["access_token"].as_str().unwrap()));
    assert_eq!(u.as_object().unwrap().keys().collect::<Vec<_>>(), ["sub"]);
}

#[test]
fn userinfo_refusals_follow_rfc6750_with_their_challenges() {
    let s = setup();
    let none = s.h.call(Request::new(Method::Get, "/api/oauth/userinfo"));
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"edge-oauth\"")
    );
    for garbage in ["garbage", "a.b.c", ""] {
        let r = userinfo(&s, garbage);
        assert_eq!(r.status, 401, "{garbage:?}");
        assert_eq!(json(&r)["error"], "invalid_token");
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""));
    }
    let t = sign_in(&s, &Browser::new(&s.h, ISSUER), "profile:read email", &[]);
    let r = userinfo(&s, t["access_token"].as_str().unwrap());
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["error"], "insufficient_scope");
    let challenge = r.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"openid\"")
    );
}

#[test]
fn userinfo_refuses_a_revoked_grants_and_a_deleted_users_token() {
    let s = setup();
    let t = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid email", &[]);
    let access = t["access_token"].as_str().unwrap();
    let gid = common::flow::claims(&s.h, access)["gid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(userinfo(&s, access).status, 200);
    let r =
        s.h.admin(Method::Delete, &format!("/api/admin/grants/{gid}"), None);
    assert_eq!(r.status, 204);
    let r = userinfo(&s, access);
    assert_eq!(
        (r.status, json(&r)["error"].clone()),
        (401, json!("invalid_token"))
    );

    let t = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid email", &[]);
    let access = t["access_token"].as_str().unwrap();
    let sub = common::flow::claims(&s.h, access)["sub"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(userinfo(&s, access).status, 200);
    let r =
        s.h.admin(Method::Delete, &format!("/api/admin/users/{sub}"), None);
    assert_eq!(r.status, 204);
    let r = userinfo(&s, access);
    assert_eq!(
        (r.status, json(&r)["error"].clone()),
        (401, json!("invalid_token"))
    );
}

/// Where the authorize request sends the browser: (status, location).
fn authorize(b: &Browser<Harness>, url: &str) -> common::http::Reply {
    b.get(url)
}

fn error_at_client(r: &common::http::Reply) -> (String, Option<String>) {
    assert_eq!(r.status, 302, "{}", r.body);
    let to = location(r);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("st"));
    assert_eq!(query_param(&to, "iss").as_deref(), Some(ISSUER));
    (
        query_param(&to, "error").unwrap_or_default(),
        query_param(&to, "code"),
    )
}

#[test]
fn prompt_none_never_shows_a_page() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let none = authorize_url(&s, "openid email", &[("prompt", "none")]);
    assert_eq!(error_at_client(&authorize(&b, &none)).0, "login_required");
    // Signed in, nothing approved yet.
    let after_login = login(&b, &b.get(&authorize_url(&s, "openid", &[])));
    assert_eq!(after_login.status, 303);
    assert_eq!(error_at_client(&authorize(&b, &none)).0, "consent_required");
    // Approved: the code comes at once.
    let _ = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid email", &[]);
    let b2 = Browser::new(&s.h, ISSUER);
    let _ = login(
        &b2,
        &b2.get(&authorize_url(&s, "openid", &[("prompt", "consent")])),
    );
    let (error, code) = error_at_client(&authorize(&b2, &none));
    assert_eq!((error.as_str(), code.is_some()), ("", true));
    // A public client on loopback always sees the consent page (RFC 8252 §8.6).
    let loopback = "http://127.0.0.1:4000/cb";
    let public = json(&s.h.admin(
        Method::Post,
        "/api/admin/clients",
        Some(&json!({"client_name": "CLI", "redirect_uris": [loopback],
            "scope": "openid", "token_endpoint_auth_method": "none"})),
    ));
    let url = authorize_url(&s, "openid", &[("prompt", "none")])
        .replace(&s.client_id, public["client_id"].as_str().unwrap())
        .replace(
            &form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
            &form_urlencoded::byte_serialize(loopback.as_bytes()).collect::<String>(),
        );
    let r = authorize(&b2, &url);
    assert_eq!(r.status, 302);
    let to = location(&r);
    assert!(to.starts_with(loopback), "{to}");
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("interaction_required")
    );
}

#[test]
fn prompt_none_in_delegated_mode_goes_back_to_the_client() {
    let h = Harness::with_vars(&[
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login"),
    ]);
    let s = setup_with(h);
    let b = Browser::new(&s.h, ISSUER);
    let r = authorize(&b, &authorize_url(&s, "openid", &[("prompt", "none")]));
    assert_eq!(error_at_client(&r).0, "login_required");
    let r = authorize(
        &b,
        &authorize_url(&s, "openid", &[("login_hint", "ada@example.com")]),
    );
    assert_eq!(r.status, 302);
    let to = location(&r);
    assert!(to.starts_with("https://platform.example/login?"), "{to}");
    assert_eq!(
        query_param(&to, "login_hint").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(query_param(&to, "prompt"), None);
    assert_eq!(query_param(&to, "max_age"), None);
    // Only the platform can sign its user in again: `prompt=login` and `max_age` go on to it.
    let r = authorize(
        &b,
        &authorize_url(
            &s,
            "openid",
            &[("prompt", "login consent"), ("max_age", "30")],
        ),
    );
    let to = location(&r);
    assert!(to.starts_with("https://platform.example/login?"), "{to}");
    assert_eq!(query_param(&to, "prompt").as_deref(), Some("login"));
    assert_eq!(query_param(&to, "max_age").as_deref(), Some("30"));
}

#[test]
fn prompt_login_and_max_age_sign_in_again_and_auth_time_follows() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    let first = sign_in(&s, &b, "openid", &[]);
    let (_, c1) = verify_id_token(&s, first["id_token"].as_str().unwrap());
    s.h.store.advance(100);
    // Within max_age: the session stands (remembered consent answers with a code).
    let r = authorize(&b, &authorize_url(&s, "openid", &[("max_age", "3600")]));
    assert!(error_at_client(&r).1.is_some());
    for extra in [("prompt", "login"), ("max_age", "50")] {
        s.h.store.advance(100);
        let page = authorize(&b, &authorize_url(&s, "openid", &[extra]));
        assert_eq!(page.status, 200, "{extra:?}: the login page again");
        let back = login(&b, &page);
        let r = b.get(&location(&back));
        let (_, code) = error_at_client(&r);
        let t = redeem(&s, &code.expect("a code after signing in again"));
        let (_, c) = verify_id_token(&s, t["id_token"].as_str().unwrap());
        assert!(
            c["auth_time"].as_u64() > c1["auth_time"].as_u64(),
            "{extra:?}: auth_time is the new sign-in"
        );
    }
    // login_hint prefills the built-in form.
    let fresh = Browser::new(&s.h, ISSUER);
    let page = authorize(
        &fresh,
        &authorize_url(&s, "openid", &[("login_hint", "x@example.com")]),
    );
    assert!(
        page.body.contains("value=\"x@example.com\""),
        "{}",
        page.body
    );
}

#[test]
fn max_age_zero_signs_in_again_even_within_the_same_second() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    sign_in(&s, &b, "openid", &[]);
    // No time passes: auth_time equals now, which a plain comparison would accept.
    let page = authorize(&b, &authorize_url(&s, "openid", &[("max_age", "0")]));
    assert_eq!(page.status, 200, "the login page, not a code");
    let none = authorize(
        &b,
        &authorize_url(&s, "openid", &[("max_age", "0"), ("prompt", "none")]),
    );
    assert_eq!(error_at_client(&none).0, "login_required");
    // response_mode=query is the one mode offered, and accepted.
    let r = authorize(
        &b,
        &authorize_url(&s, "openid", &[("response_mode", "query")]),
    );
    assert!(error_at_client(&r).1.is_some(), "a code");
}

#[test]
fn unsupported_openid_parameters_get_clear_errors_at_the_client() {
    let s = setup();
    let b = Browser::new(&s.h, ISSUER);
    for (extra, error) in [
        (("request", "eyJ.x.y"), "request_not_supported"),
        (
            ("request_uri", "https://a.example/r"),
            "request_uri_not_supported",
        ),
        (("claims", "{\"userinfo\":{}}"), "invalid_request"),
        (("prompt", "bogus"), "invalid_request"),
        (("prompt", "none login"), "invalid_request"),
        (("max_age", "-5"), "invalid_request"),
        (("max_age", "soon"), "invalid_request"),
        (("response_mode", "form_post"), "invalid_request"),
        (("response_mode", "fragment"), "invalid_request"),
    ] {
        let r = authorize(&b, &authorize_url(&s, "openid", &[extra]));
        assert_eq!(error_at_client(&r).0, error, "{extra:?}");
    }
}

#[test]
fn client_oidc_metadata_is_validated_echoed_and_patched() {
    let s = setup();
    let create = |body: Value| s.h.admin(Method::Post, "/api/admin/clients", Some(&body));
    let base = json!({"client_name": "RP", "redirect_uris": [REDIRECT], "scope": "openid"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let r = create(with(
        "post_logout_redirect_uris",
        json!(["https://rp.example/bye"]),
    ));
    assert_eq!(r.status, 201);
    let c = json(&r);
    assert_eq!(
        c["post_logout_redirect_uris"],
        json!(["https://rp.example/bye"])
    );
    assert!(c.get("id_token_signed_response_alg").is_none());
    for (k, v, says) in [
        (
            "post_logout_redirect_uris",
            json!(["http://rp.example/bye"]),
            "post_logout_redirect_uris",
        ),
        (
            "post_logout_redirect_uris",
            json!("https://rp.example/bye"),
            "post_logout_redirect_uris",
        ),
        (
            "id_token_signed_response_alg",
            json!("HS256"),
            "id_token_signed_response_alg",
        ),
        (
            "id_token_signed_response_alg",
            json!("EdDSA"),
            "id_token_signed_response_alg",
        ),
    ] {
        let r = create(with(k, v.clone()));
        assert_eq!(r.status, 400, "{k} {v}");
        let body = json(&r);
        assert_eq!(body["error"], "invalid_client_metadata", "{k} {v}");
        assert!(
            body["error_description"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let id = c["client_id"].as_str().unwrap();
    let r = s.h.admin(
        Method::Patch,
        &format!("/api/admin/clients/{id}"),
        Some(&json!({"post_logout_redirect_uris": [], "id_token_signed_response_alg": "ES256"})),
    );
    assert_eq!(r.status, 200);
    let c = json(&r);
    assert!(c.get("post_logout_redirect_uris").is_none(), "{c}");
    assert_eq!(c["id_token_signed_response_alg"], "ES256");
    // Without an RS256 key, RS256 cannot be registered: the error names SIGNING_KEYS.
    let es_only = Harness::with_vars(&[("SIGNING_KEYS", ES256_ONLY_KEYS)]);
    let r = es_only.admin(
        Method::Post,
        "/api/admin/clients",
        Some(&with("id_token_signed_response_alg", json!("RS256"))),
    );
    assert!(json(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("SIGNING_KEYS"));
}

#[test]
fn a_client_that_registered_es256_gets_es256_id_tokens() {
    let s = setup();
    let r = s.h.admin(
        Method::Patch,
        &format!("/api/admin/clients/{}", s.client_id),
        Some(&json!({"id_token_signed_response_alg": "ES256"})),
    );
    assert_eq!(r.status, 200);
    let t = sign_in(&s, &Browser::new(&s.h, ISSUER), "openid", &[]);
    let id_token = t["id_token"].as_str().unwrap();
    let v = futures_executor::block_on(edge_oauth::token::jwt::verify(
        &edge_oauth::crypto::native::NativeCrypto::new(),
        &s.h.config.signing_keys,
        id_token,
    ))
    .unwrap()
    .expect("verifies with the published keys");
    assert_eq!(v.header["alg"], "ES256");
    assert_eq!(v.header["typ"], "JWT");
    assert_eq!(v.claims["aud"], s.client_id.as_str());
    assert_eq!(
        v.claims["at_hash"],
        at_hash(t["access_token"].as_str().unwrap())
    );
}

#[test]
fn a_users_picture_reaches_the_id_token_and_userinfo() {
    let s = setup();
    for bad in ["http://p.example/a.png", "javascript:alert(1)", "not a url"] {
        let r = s.h.admin(
            Method::Post,
            "/api/admin/users",
            Some(&json!({"email": "bad@example.com", "password": PASSWORD, "picture": bad})),
        );
        assert_eq!(r.status, 400, "{bad}");
    }
    // A second account with a picture; sign in with it.
    let r = s.h.admin(
        Method::Post,
        "/api/admin/users",
        Some(
            &json!({"email": "grace@example.com", "password": PASSWORD, "name": "Grace",
            "picture": "https://p.example/grace.png"}),
        ),
    );
    assert_eq!(r.status, 201);
    assert_eq!(json(&r)["picture"], "https://p.example/grace.png");
    let b = Browser::new(&s.h, ISSUER);
    let page = b.get(&authorize_url(&s, "openid profile", &[]));
    let back = b.post_form(
        "/api/oauth/login",
        &[
            ("email", "grace@example.com"),
            ("password", PASSWORD),
            (
                "csrf_token",
                &common::browser::hidden(&page.body, "csrf_token"),
            ),
            (
                "return_to",
                &common::browser::hidden(&page.body, "return_to"),
            ),
        ],
    );
    let consent = b.get(&location(&back));
    let r = submit_consent(&b, &consent, &["openid", "profile"], "approve");
    let t = redeem(&s, &query_param(&location(&r), "code").unwrap());
    let (_, c) = verify_id_token(&s, t["id_token"].as_str().unwrap());
    assert_eq!(c["picture"], "https://p.example/grace.png");
    assert_eq!(c["name"], "Grace");
    let u = json(&userinfo(&s, t["access_token"].as_str().unwrap()));
    assert_eq!(u["picture"], "https://p.example/grace.png");
}

const BYE: &str = "https://printer.example/bye";

fn register_logout_uri(s: &Setup) {
    let r = s.h.admin(
        Method::Patch,
        &format!("/api/admin/clients/{}", s.client_id),
        Some(&json!({"post_logout_redirect_uris": [BYE]})),
    );
    assert_eq!(r.status, 200);
}

fn logout_url(pairs: &[(&str, &str)]) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/api/oauth/logout?{q}")
}

/// Whether the browser still has a live session (the sign-out page offers a button).
fn signed_in(b: &Browser<Harness>) -> bool {
    b.get("/api/oauth/logout").body.contains("csrf_token")
}

#[test]
fn rp_logout_with_a_hint_for_the_signed_in_user_ends_the_session_then_redirects() {
    let s = setup();
    register_logout_uri(&s);
    let b = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &b, "openid", &[]);
    let hint = t["id_token"].as_str().unwrap();
    assert!(signed_in(&b));
    // Expired hints are still hints (RP-Initiated Logout §2).
    s.h.store.advance(2 * 3600);
    let r = b.get(&logout_url(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", BYE),
        ("state", "xyz 1"),
    ]));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(location(&r), format!("{BYE}?state=xyz+1"));
    assert!(!signed_in(&b), "the session ended before the redirect");
    let discovery = json(&s.h.call(Request::new(
        Method::Get,
        "/.well-known/openid-configuration",
    )));
    assert_eq!(
        discovery["end_session_endpoint"],
        format!("{ISSUER}/api/oauth/logout")
    );
}

#[test]
fn rp_logout_by_post_is_answered_as_the_get() {
    // RP-Initiated Logout §2: the OP supports GET and POST.
    let s = setup();
    register_logout_uri(&s);
    let b = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &b, "openid", &[]);
    let id = s.client_id.clone();
    // Without a hint of this session: the confirmation page, nothing ended yet.
    let page = b.post_form(
        "/api/oauth/logout",
        &[("client_id", &id), ("post_logout_redirect_uri", BYE)],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(signed_in(&b));
    let r = b.post_form(
        "/api/oauth/logout",
        &[
            ("id_token_hint", t["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", BYE),
            ("state", "p"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(location(&r), format!("{BYE}?state=p"));
    assert!(!signed_in(&b), "the session ended before the redirect");
}

#[test]
fn rp_logout_with_a_hint_from_an_earlier_session_of_the_same_user_asks_first() {
    // Any relying party the user once signed in to keeps such a hint (expired hints are
    // valid): used in a cross-site GET it must not sign the user out of a later session.
    let s = setup();
    register_logout_uri(&s);
    let earlier = Browser::new(&s.h, ISSUER);
    let old = sign_in(&s, &earlier, "openid", &[]);
    let hint = old["id_token"].as_str().unwrap();
    let b = Browser::new(&s.h, ISSUER);
    let _ = sign_in(&s, &b, "openid", &[]);
    let page = b.get(&logout_url(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", BYE),
    ]));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(
        signed_in(&b),
        "a hint of another session ends nothing by itself"
    );
}

#[test]
fn rp_logout_refuses_bad_hints_and_unregistered_uris_without_redirecting() {
    let s = setup();
    register_logout_uri(&s);
    let b = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &b, "openid", &[]);
    let hint = t["id_token"].as_str().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let mut tampered = hint.to_string();
    tampered.pop();
    tampered.push(if hint.ends_with('A') { 'B' } else { 'A' });
    for (pairs, why) in [
        (vec![("id_token_hint", "garbage")], "not an ID token"),
        (vec![("id_token_hint", access)], "not an ID token"),
        (
            vec![("id_token_hint", tampered.as_str())],
            "not an ID token",
        ),
        (
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            "not registered",
        ),
        (
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "https://printer.example/bye/"),
            ],
            "not registered",
        ),
        (vec![("post_logout_redirect_uri", BYE)], "needs client_id"),
        (
            vec![("id_token_hint", hint), ("client_id", "someone-else")],
            "client_id",
        ),
    ] {
        let r = b.get(&logout_url(&pairs));
        assert_eq!(r.status, 400, "{pairs:?}");
        assert!(r.header("location").is_none(), "never a redirect");
        assert!(r.body.contains(why), "{pairs:?}: {}", r.body);
    }
    assert!(signed_in(&b), "nothing ended");
}

#[test]
fn rp_logout_without_a_matching_hint_asks_first_with_a_csrf_form() {
    let s = setup();
    register_logout_uri(&s);
    let b = Browser::new(&s.h, ISSUER);
    let _ = sign_in(&s, &b, "openid", &[]);
    let id = s.client_id.clone();
    let page = b.get(&logout_url(&[
        ("client_id", &id),
        ("post_logout_redirect_uri", BYE),
        ("state", "s2"),
    ]));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out?") && page.body.contains("Photo Printer"));
    assert!(signed_in(&b), "a page alone ends nothing");
    let field = |n: &str| common::browser::hidden(&page.body, n);
    let forged = b.post_form(
        "/api/oauth/logout",
        &[
            ("csrf_token", "wrong"),
            ("client_id", &id),
            ("post_logout_redirect_uri", BYE),
        ],
    );
    assert_eq!(forged.status, 403);
    assert!(signed_in(&b));
    let r = b.post_form(
        "/api/oauth/logout",
        &[
            ("csrf_token", &field("csrf_token")),
            ("client_id", &field("client_id")),
            (
                "post_logout_redirect_uri",
                &field("post_logout_redirect_uri"),
            ),
            ("state", &field("state")),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(location(&r), format!("{BYE}?state=s2"));
    assert!(!signed_in(&b));
    // A hint for another user also asks (it does not name the signed-in user).
    let other = Browser::new(&s.h, ISSUER);
    let t = sign_in(&s, &other, "openid", &[]);
    let r = s.h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": "eve@example.com", "password": PASSWORD})),
    );
    assert_eq!(r.status, 201);
    let eve = Browser::new(&s.h, ISSUER);
    let page = eve.get(&authorize_url(&s, "openid", &[]));
    let _ = eve.post_form(
        "/api/oauth/login",
        &[
            ("email", "eve@example.com"),
            ("password", PASSWORD),
            (
                "csrf_token",
                &common::browser::hidden(&page.body, "csrf_token"),
            ),
            (
                "return_to",
                &common::browser::hidden(&page.body, "return_to"),
            ),
        ],
    );
    let r = eve.get(&logout_url(&[(
        "id_token_hint",
        t["id_token"].as_str().unwrap(),
    )]));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Sign out?"));
    assert!(signed_in(&eve));
}

/// Delegated login: the platform's assertion carries name, email and picture; the provider
/// keeps them with the session, and the ID token and userinfo show them per granted scope.
#[test]
fn a_delegated_assertions_profile_reaches_the_id_token_and_userinfo() {
    let h = Harness::with_vars(&[
        ("LOGIN_MODE", "delegated"),
        ("LOGIN_URL", "https://platform.example/login"),
    ]);
    let s = setup_with(h);
    let b = Browser::new(&s.h, ISSUER);
    let url = authorize_url(&s, "openid profile email", &[("nonce", "dn")]);
    let to_platform = location(&b.get(&url));
    let return_to = query_param(&to_platform, "return_to").unwrap();
    let nonce = query_param(&to_platform, "nonce").unwrap();
    let now = s.h.store.now();
    let assertion = edge_oauth::oauth::login_assertion::sign_assertion_for_tests(
        &json!({"sub": "platform-7", "aud": ISSUER, "exp": now + 120, "iat": now, "jti": "dj-1",
            "nonce": nonce, "name": "Lin", "email": "lin@platform.example",
            "picture": "https://platform.example/lin.png"}),
        common::inprocess::ASSERTION_SECRET.as_bytes(),
    );
    let r = b.post_form(
        "/api/oauth/login/assertion",
        &[("assertion", &assertion), ("return_to", &return_to)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let consent = b.get(&location(&r));
    let r = submit_consent(&b, &consent, &["openid", "profile", "email"], "approve");
    let t = redeem(&s, &query_param(&location(&r), "code").unwrap());
    let (_, c) = verify_id_token(&s, t["id_token"].as_str().unwrap());
    assert_eq!(c["sub"], "platform-7");
    assert_eq!(c["nonce"], "dn");
    assert_eq!(c["name"], "Lin");
    assert_eq!(c["email"], "lin@platform.example");
    assert_eq!(c["picture"], "https://platform.example/lin.png");
    let u = json(&userinfo(&s, t["access_token"].as_str().unwrap()));
    assert_eq!(u["picture"], "https://platform.example/lin.png");
    assert_eq!(u["name"], "Lin");
}
