//! End to end against the built Worker in workerd: the built-in account admin API, whose
//! creation runs WebCrypto's PBKDF2 at full cost.

mod common;

use common::http::send;
use common::worker::shared;
use serde_json::{json, Value};
use std::time::Instant;

fn admin(method: &str, path: &str, body: Option<&Value>) -> common::http::Reply {
    shared().admin(method, path, body)
}

#[test]
fn user_lifecycle_create_get_duplicate_delete() {
    shared(); // started before the clock, so the timing below is the request alone
    let started = Instant::now();
    let r = admin(
        "POST",
        "/api/admin/users",
        Some(
            &json!({"email": "Erin@Example.com", "password": "a long passphrase", "name": "Erin"}),
        ),
    );
    eprintln!(
        "create (PBKDF2, 100,000 iterations in workerd): {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    assert_eq!(created["email"], "erin@example.com");
    assert_eq!(created["name"], "Erin");
    assert!(!r.body.contains("passphrase") && !r.body.contains("pbkdf2"));
    let path = format!("/api/admin/users/{}", created["sub"].as_str().unwrap());

    let got = admin("GET", &path, None);
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), created);
    let list = admin("GET", "/api/admin/users", None).json();
    assert!(list["users"].as_array().unwrap().contains(&created));

    let d = admin(
        "POST",
        "/api/admin/users",
        Some(&json!({"email": "erin@example.com", "password": "another passphrase"})),
    )
    .expect_error(409, "invalid_request");
    assert!(d.contains("erin@example.com"), "{d}");
    let d = admin(
        "POST",
        "/api/admin/users",
        Some(&json!({"email": "frank@example.com", "password": "short"})),
    )
    .expect_error(400, "invalid_request");
    assert!(d.contains("password"), "{d}");

    assert_eq!(admin("DELETE", &path, None).status, 204);
    admin("GET", &path, None).expect_error(404, "not_found");
}

#[test]
fn users_api_requires_the_admin_token() {
    let w = shared();
    let r = send("GET", &w.url("/api/admin/users"), &[], None);
    r.expect_error(401, "invalid_token");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}
