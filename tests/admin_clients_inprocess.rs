//! Admin client registry, in-process: validation branches and what is kept at rest.

mod common;

use common::inprocess::{expect_error, json, Harness, ADMIN_TOKEN};
use edge_oauth::http::{Method, Request};
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "client_name": "Photo Printer",
        "redirect_uris": ["https://printer.example/callback"],
        "scope": "profile:read images:read",
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut v = valid();
    v[field] = value;
    v
}

fn without(field: &str) -> Value {
    let mut v = valid();
    v.as_object_mut().unwrap().remove(field);
    v
}

#[test]
fn create_rejects_each_invalid_field_with_rfc7591_error() {
    let h = Harness::new();
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "missing name",
            without("client_name"),
            "invalid_client_metadata",
            "client_name is required",
        ),
        (
            "empty name",
            with("client_name", json!("  ")),
            "invalid_client_metadata",
            "client_name",
        ),
        (
            "name not a string",
            with("client_name", json!(5)),
            "invalid_client_metadata",
            "client_name must be a string",
        ),
        (
            "huge name",
            with("client_name", json!("x".repeat(5000))),
            "invalid_client_metadata",
            "at most 100",
        ),
        (
            "missing redirect_uris",
            without("redirect_uris"),
            "invalid_client_metadata",
            "redirect_uris is required",
        ),
        (
            "redirect_uris not array",
            with("redirect_uris", json!("https://a.example/cb")),
            "invalid_client_metadata",
            "array of strings",
        ),
        (
            "redirect_uris holds number",
            with("redirect_uris", json!([1])),
            "invalid_client_metadata",
            "array of strings",
        ),
        (
            "empty redirect_uris",
            with("redirect_uris", json!([])),
            "invalid_redirect_uri",
            "at least one",
        ),
        (
            "http non-loopback",
            with("redirect_uris", json!(["http://printer.example/cb"])),
            "invalid_redirect_uri",
            "must use https",
        ),
        (
            "fragment",
            with("redirect_uris", json!(["https://printer.example/cb#x"])),
            "invalid_redirect_uri",
            "fragment",
        ),
        (
            "relative",
            with("redirect_uris", json!(["/cb"])),
            "invalid_redirect_uri",
            "absolute",
        ),
        (
            "custom scheme",
            with("redirect_uris", json!(["myapp:/cb"])),
            "invalid_redirect_uri",
            "https",
        ),
        (
            "missing scope",
            without("scope"),
            "invalid_client_metadata",
            "scope is required",
        ),
        (
            "unknown scope",
            with("scope", json!("profile:read admin:all")),
            "invalid_client_metadata",
            "'admin:all'",
        ),
        (
            "empty scope",
            with("scope", json!("")),
            "invalid_client_metadata",
            "at least one",
        ),
        (
            "bad auth method",
            with("token_endpoint_auth_method", json!("private_key_jwt")),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (
            "javascript logo",
            with("logo_uri", json!("javascript:alert(1)")),
            "invalid_client_metadata",
            "logo_uri",
        ),
        (
            "http website",
            with("client_uri", json!("http://printer.example")),
            "invalid_client_metadata",
            "client_uri",
        ),
        (
            "long description",
            with("description", json!("d".repeat(1001))),
            "invalid_client_metadata",
            "description",
        ),
    ];
    for (name, body, error, message) in cases {
        let r = h.admin(Method::Post, "/api/admin/clients", Some(&body));
        let description = expect_error(&r, 400, error);
        assert!(
            description.contains(message),
            "{name}: {description:?} lacks {message:?}"
        );
    }
    assert!(
        h.store.is_empty(),
        "no client stored after refused requests"
    );
}

#[test]
fn create_rejects_malformed_bodies_with_invalid_request() {
    let h = Harness::new();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    // (case, content type, body, status, words the description must hold)
    type Case = (
        &'static str,
        Option<&'static str>,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "not json",
            Some("application/json"),
            b"{not json".to_vec(),
            400,
            "Malformed JSON",
        ),
        (
            "json array",
            Some("application/json"),
            b"[1,2]".to_vec(),
            400,
            "must be an object",
        ),
        (
            "form body",
            Some("application/x-www-form-urlencoded"),
            b"client_name=x".to_vec(),
            400,
            "application/json",
        ),
        (
            "no content type",
            None,
            b"{}".to_vec(),
            400,
            "application/json",
        ),
        (
            "invalid utf-8",
            Some("application/json"),
            vec![0xff, 0xfe],
            400,
            "Malformed JSON",
        ),
        (
            "oversized",
            Some("application/json"),
            vec![b' '; 70 * 1024],
            413,
            "exceeds",
        ),
    ];
    for (name, ctype, body, status, message) in cases {
        let mut req = Request::new(Method::Post, "/api/admin/clients")
            .with_header("authorization", &auth)
            .with_body(body);
        if let Some(ct) = ctype {
            req = req.with_header("content-type", ct);
        }
        let r = h.call(req);
        let description = expect_error(&r, status, "invalid_request");
        assert!(description.contains(message), "{name}: {description:?}");
    }
}

#[test]
fn secret_is_returned_once_and_only_its_hash_is_stored() {
    let h = Harness::new();
    let r = h.admin(Method::Post, "/api/admin/clients", Some(&valid()));
    assert_eq!(r.status, 201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = json(&r);
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 43);
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    let id = created["client_id"].as_str().unwrap();
    for (key, value) in h.store.dump() {
        assert!(!value.contains(&secret), "secret stored in clear at {key}");
    }
    let fetched = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert!(fetched.get("client_secret").is_none());
    assert!(fetched.get("secret_hash").is_none());
    assert_eq!(fetched["scope"], "profile:read images:read");
}

#[test]
fn public_client_has_no_secret_and_cannot_rotate() {
    let h = Harness::new();
    let r = h.admin(
        Method::Post,
        "/api/admin/clients",
        Some(&with("token_endpoint_auth_method", json!("none"))),
    );
    let created = json(&r);
    assert!(created.get("client_secret").is_none());
    let id = created["client_id"].as_str().unwrap();
    let r = h.admin(
        Method::Post,
        &format!("/api/admin/clients/{id}/secret"),
        None,
    );
    expect_error(&r, 400, "invalid_request");
}

#[test]
fn patch_changes_only_given_fields_and_keeps_client_type() {
    let h = Harness::new();
    let created = json(&h.admin(Method::Post, "/api/admin/clients", Some(&valid())));
    let path = format!(
        "/api/admin/clients/{}",
        created["client_id"].as_str().unwrap()
    );
    let r = h.admin(
        Method::Patch,
        &path,
        Some(&json!({"client_name": "Printer 2", "description": "Prints"})),
    );
    assert_eq!(r.status, 200);
    let updated = json(&r);
    assert_eq!(updated["client_name"], "Printer 2");
    assert_eq!(updated["description"], "Prints");
    assert_eq!(updated["redirect_uris"], created["redirect_uris"]);
    let r = h.admin(Method::Patch, &path, Some(&json!({"description": null})));
    assert!(json(&r).get("description").is_none(), "null clears a field");
    let r = h.admin(
        Method::Patch,
        &path,
        Some(&json!({"token_endpoint_auth_method": "none"})),
    );
    expect_error(&r, 400, "invalid_client_metadata");
    let r = h.admin(
        Method::Patch,
        &path,
        Some(&json!({"token_endpoint_auth_method": "client_secret_post"})),
    );
    assert_eq!(json(&r)["token_endpoint_auth_method"], "client_secret_post");
    let r = h.admin(
        Method::Patch,
        &path,
        Some(&json!({"redirect_uris": ["http://evil.example/cb"]})),
    );
    expect_error(&r, 400, "invalid_redirect_uri");
    let r = h.admin(Method::Patch, &path, Some(&json!({"client_id": "mine"})));
    expect_error(&r, 400, "invalid_client_metadata");
}

#[test]
fn admin_api_requires_the_admin_token() {
    let h = Harness::new();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("wrong token", Some("Bearer wrong-token".into())),
        ("basic scheme", Some(format!("Basic {ADMIN_TOKEN}"))),
        (
            "token prefix",
            Some(format!("Bearer {}", &ADMIN_TOKEN[..10])),
        ),
    ];
    for (name, header) in cases {
        let mut req = Request::new(Method::Get, "/api/admin/clients");
        if let Some(h) = header {
            req = req.with_header("authorization", &h);
        }
        let r = h.call(req);
        expect_error(&r, 401, "invalid_token");
        assert!(
            r.header("www-authenticate").unwrap().starts_with("Bearer"),
            "{name}"
        );
    }
}

#[test]
fn unknown_client_is_404_and_list_pages_through_kv() {
    let h = Harness::new();
    h.store.set_page_size(2);
    for i in 0..5 {
        h.admin(
            Method::Post,
            "/api/admin/clients",
            Some(&with("client_name", json!(format!("App {i}")))),
        );
    }
    // KV hands out 2 keys a page here: the listing follows its cursor, a page at a time.
    let mut count = 0;
    let mut path = "/api/admin/clients".to_string();
    for _ in 0..5 {
        let list = json(&h.admin(Method::Get, &path, None));
        count += list["clients"].as_array().unwrap().len();
        match list["next_cursor"].as_str() {
            Some(c) => path = format!("/api/admin/clients?cursor={c}"),
            None => break,
        }
    }
    assert_eq!(count, 5);
    let r = h.admin(Method::Get, "/api/admin/clients/does-not-exist", None);
    expect_error(&r, 404, "not_found");
    let r = h.admin(Method::Get, "/api/admin/clients/%3Cscript%3E", None);
    expect_error(&r, 404, "not_found");
}

#[test]
fn the_client_listing_comes_a_page_at_a_time_with_a_cursor() {
    let h = Harness::new();
    for _ in 0..3 {
        assert_eq!(
            h.admin(Method::Post, "/api/admin/clients", Some(&valid()))
                .status,
            201
        );
    }
    let first = json(&h.admin(Method::Get, "/api/admin/clients?limit=2", None));
    assert_eq!(first["clients"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let path = format!("/api/admin/clients?limit=2&cursor={cursor}");
    let second = json(&h.admin(Method::Get, &path, None));
    assert_eq!(second["clients"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    // A well-formed cursor no listing handed out: storage refuses it (as KV does), and that
    // is the caller's error, not the server's.
    let r = h.admin(Method::Get, "/api/admin/clients?limit=2&cursor=abc", None);
    let d = expect_error(&r, 400, "invalid_request");
    assert!(d.contains("cursor"), "{d}");
}
