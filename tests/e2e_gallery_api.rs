//! The example API (examples/gallery-api) and the provider in one workerd: tokens from the
//! provider work at the API, refusals follow RFC 6750, revocations in the shared KV are seen,
//! and the `oauth2` crate as client refreshes after a 401 and carries on.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::browser::{Browser, Http};
use common::e2e::*;
use common::http::{get, post_form, send, Reply};
use common::worker::{start, Worker};
use oauth2::TokenResponse;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Provider and API, shared by the tests of this binary.
fn world() -> &'static Worker {
    static WORLD: OnceLock<Worker> = OnceLock::new();
    WORLD.get_or_init(|| start(&["--gallery"]))
}

fn api_url(w: &Worker, path: &str) -> String {
    format!(
        "{}{path}",
        w.gallery_url.as_ref().expect("started with --gallery")
    )
}

/// A request to the API with `token` as the bearer credential and an optional JSON body.
fn api(w: &Worker, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    let text = body.map(|b| b.to_string());
    if text.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    send(
        method,
        &api_url(w, path),
        &headers,
        text.as_deref().map(str::as_bytes),
    )
}

/// A client that may request every scope but the webhooks ones, and its oauth2 client.
fn app(w: &Worker) -> (Value, Client) {
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Gallery Sync", "redirect_uris": [REDIRECT],
               "scope": "profile:read galleries:read galleries:write images:read images:write stats:read"}),
    );
    let oauth = oauth_client(w, &client);
    (client, oauth)
}

fn challenge(r: &Reply) -> &str {
    r.header("www-authenticate").expect("WWW-Authenticate")
}

fn expect_invalid_token(r: &Reply, what: &str) -> String {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    let c = challenge(r);
    assert!(c.starts_with("Bearer realm=\"gallery-api\""), "{what}: {c}");
    assert!(c.contains("error=\"invalid_token\""), "{what}: {c}");
    r.expect_error(401, "invalid_token")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs `claims` as the provider would, with the private key serve-test generated.
fn mint(w: &Worker, claims: &Value) -> String {
    let jwk = &w.private_signing_key;
    assert_eq!(jwk["alg"], "ES256", "the default server signs with ES256");
    let ec: Value = ["kty", "crv", "x", "y", "d"]
        .iter()
        .map(|k| (k.to_string(), jwk[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let key = SigningKey::from(p256::SecretKey::from_jwk_str(&ec.to_string()).unwrap());
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": jwk["kid"]});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature.to_bytes()))
}

fn claims(w: &Worker) -> Value {
    let t = now();
    json!({"iss": w.url, "sub": "minted-user", "aud": w.url, "client_id": "minted-app",
           "scope": "profile:read galleries:read", "iat": t - 10, "exp": t + 600, "jti": "minted-jti"})
}

#[test]
fn a_provider_token_works_at_the_api_within_its_scopes() {
    let w = world();
    let (_, oauth) = app(w);
    let email = user(w, "gallery-owner");
    let b = Browser::new(&Http, &w.url);
    let scopes = [
        "profile:read",
        "galleries:read",
        "galleries:write",
        "images:read",
        "images:write",
    ];
    let token = authorize_with_consent(&oauth, &b, &email, &scopes);
    let at = token.access_token().secret().clone();

    let me = api(w, "GET", "/api/v1/me", Some(&at), None);
    assert_eq!(me.status, 200, "{}", me.body);
    let sub = verify_with_jwks(w, &at).subject.expect("sub");
    assert_eq!(me.json()["sub"], sub.as_str());
    assert_eq!(me.json()["scope"], scopes.join(" "));

    let g = api(
        w,
        "POST",
        "/api/v1/galleries",
        Some(&at),
        Some(json!({"name": "Summer 2026", "visibility": "public"})),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let img =
        json!({"gallery_id": gid, "title": "Harbour", "url": "https://cdn.example/harbour.jpg"});
    assert_eq!(
        api(w, "POST", "/api/v1/images", Some(&at), Some(img)).status,
        201
    );
    let listed = api(w, "GET", "/api/v1/galleries", Some(&at), None).json();
    assert_eq!(listed["galleries"][0]["name"], "Summer 2026");
    assert_eq!(
        api(w, "GET", "/api/v1/images", Some(&at), None).json()["images"][0]["gallery_id"],
        gid.as_str()
    );

    // Not granted: stats:read (the client may ask for it; the user did not approve it).
    let r = api(w, "GET", "/api/v1/stats", Some(&at), None);
    assert_eq!(r.status, 403, "{}", r.body);
    let c = challenge(&r);
    assert!(c.contains("error=\"insufficient_scope\""), "{c}");
    assert!(c.contains("scope=\"stats:read\""), "{c}");
    assert!(
        c.contains(&format!(
            "resource_metadata=\"{}\"",
            api_url(w, "/.well-known/oauth-protected-resource")
        )),
        "{c}"
    );
    r.expect_error(403, "insufficient_scope");
    assert_eq!(
        api(w, "POST", "/api/v1/webhooks", Some(&at), Some(json!({}))).status,
        403
    );

    // Bad input: a 400 that names the field, and nothing stored.
    let bad = api(
        w,
        "POST",
        "/api/v1/galleries",
        Some(&at),
        Some(json!({"name": ""})),
    );
    assert!(
        bad.expect_error(400, "invalid_request")
            .starts_with("name:"),
        "{}",
        bad.body
    );
    let not_json = send(
        "POST",
        &api_url(w, "/api/v1/galleries"),
        &[
            ("Authorization", &format!("Bearer {at}")),
            ("Content-Type", "text/plain"),
        ],
        Some(b"hi"),
    );
    not_json.expect_error(400, "invalid_request");
    let big = json!({"name": "x".repeat(20_000)});
    assert_eq!(
        api(w, "POST", "/api/v1/galleries", Some(&at), Some(big)).status,
        413
    );
    assert_eq!(
        api(w, "GET", "/api/v1/galleries", Some(&at), None).json()["galleries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn without_a_token_the_challenge_has_no_error_code() {
    let w = world();
    let r = api(w, "GET", "/api/v1/galleries", None, None);
    assert_eq!(r.status, 401);
    let c = challenge(&r);
    assert!(c.starts_with("Bearer realm=\"gallery-api\""), "{c}");
    assert!(!c.contains("error="), "{c}");
    assert!(c.contains("resource_metadata="), "{c}");
    // A token in the query string is never read (RFC 6750 §2.3 is not offered).
    let q = get(&api_url(w, "/api/v1/me?access_token=abc"), &[]);
    assert_eq!(q.status, 401);
    assert!(!challenge(&q).contains("error="));
}

#[test]
fn expired_tampered_foreign_and_misaddressed_tokens_are_invalid_token() {
    let w = world();
    // The minting itself is sound: the same claims, unaltered, are accepted.
    let good = api(w, "GET", "/api/v1/me", Some(&mint(w, &claims(w))), None);
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.json()["sub"], "minted-user");

    let t = now();
    let with = |k: &str, v: Value| {
        let mut c = claims(w);
        c[k] = v;
        mint(w, &c)
    };
    let expired = {
        let mut c = claims(w);
        c["iat"] = json!(t - 7200);
        c["exp"] = json!(t - 3600);
        mint(w, &c)
    };
    let tampered = {
        let token = mint(w, &claims(w));
        let parts: Vec<&str> = token.split('.').collect();
        let mut c = claims(w);
        c["sub"] = json!("someone-else");
        format!("{}.{}.{}", parts[0], B64.encode(c.to_string()), parts[2])
    };
    let cases = [
        (expired, "expired"),
        (tampered, "signature"),
        (with("iss", json!("https://evil.example")), "not issued by"),
        (
            with("aud", json!("https://another-api.example")),
            "not meant for this API",
        ),
        ("not.a.jwt".to_string(), "malformed"),
    ];
    for (token, reason) in cases {
        let r = api(w, "GET", "/api/v1/me", Some(&token), None);
        let d = expect_invalid_token(&r, reason);
        assert!(d.contains(reason), "{reason}: {d}");
    }
}

#[test]
fn a_revoked_token_is_refused_and_the_client_refreshes_and_continues() {
    let w = world();
    let (client, oauth) = app(w);
    let email = user(w, "gallery-refresh");
    let b = Browser::new(&Http, &w.url);
    let token = authorize_with_consent(
        &oauth,
        &b,
        &email,
        &["profile:read", "galleries:read", "galleries:write"],
    );
    let at = token.access_token().secret().clone();
    assert_eq!(
        api(w, "GET", "/api/v1/galleries", Some(&at), None).status,
        200
    );

    // RFC 7009 revocation at the provider puts the jti on the list in the shared KV.
    let (id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let revoked = post_form(
        &w.url("/api/oauth/revoke"),
        &[],
        &[("token", &at), ("client_id", id), ("client_secret", secret)],
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);

    // The client's loop: call; on 401 invalid_token, refresh with the oauth2 crate and retry.
    let mut current = at.clone();
    let mut refresh = token.refresh_token().expect("refresh token").clone();
    let mut refreshed = 0;
    let created = loop {
        let r = api(
            w,
            "POST",
            "/api/v1/galleries",
            Some(&current),
            Some(json!({"name": "After refresh"})),
        );
        if r.status != 401 {
            break r;
        }
        let d = expect_invalid_token(&r, "revoked");
        assert!(d.contains("revoked"), "{d}");
        assert!(
            refreshed < 1,
            "the refreshed token was refused too: {}",
            r.body
        );
        let next = oauth
            .exchange_refresh_token(&refresh)
            .request(&http_client())
            .expect("refresh");
        current = next.access_token().secret().clone();
        refresh = next.refresh_token().expect("rotated refresh token").clone();
        refreshed += 1;
    };
    assert_eq!(refreshed, 1);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_ne!(current, at);
    let listed = api(w, "GET", "/api/v1/galleries", Some(&current), None).json();
    assert_eq!(listed["galleries"][0]["name"], "After refresh");
    let again = api(w, "GET", "/api/v1/galleries", Some(&at), None);
    expect_invalid_token(&again, "the revoked token stays refused");
}

#[test]
fn protected_resource_metadata_names_the_provider() {
    let w = world();
    let r = get(&api_url(w, "/.well-known/oauth-protected-resource"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    assert_eq!(doc["resource"], w.gallery_url.as_deref().unwrap());
    assert_eq!(doc["authorization_servers"], json!([w.url]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("stats:read")));
    assert_eq!(api(w, "GET", "/api/v1/nope", None, None).status, 404);
    let wrong = api(w, "DELETE", "/api/v1/galleries", None, None);
    assert_eq!(
        (wrong.status, wrong.header("allow")),
        (405, Some("GET, POST, OPTIONS"))
    );
}

#[test]
fn eddsa_and_rs256_tokens_verify_at_the_api_too() {
    for alg in ["EdDSA", "RS256"] {
        let w = start(&["--gallery", "--alg", alg]);
        let (_, oauth) = app(&w);
        let email = user(&w, &format!("gallery-{alg}"));
        let b = Browser::new(&Http, &w.url);
        let token = authorize_with_consent(&oauth, &b, &email, &["profile:read"]);
        let at = token.access_token().secret().clone();
        let header = String::from_utf8(B64.decode(at.split('.').next().unwrap()).unwrap()).unwrap();
        assert!(header.contains(&format!("\"alg\":\"{alg}\"")), "{header}");
        let me = api(&w, "GET", "/api/v1/me", Some(&at), None);
        assert_eq!(me.status, 200, "{alg}: {}", me.body);
        // A flipped signature byte is refused with this algorithm as well.
        let (input, sig) = at.rsplit_once('.').unwrap();
        let mut raw = B64.decode(sig).unwrap();
        raw[0] ^= 1;
        let altered = format!("{input}.{}", B64.encode(raw));
        let r = api(&w, "GET", "/api/v1/me", Some(&altered), None);
        assert!(expect_invalid_token(&r, alg).contains("signature"), "{alg}");
    }
}
