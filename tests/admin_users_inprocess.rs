//! Admin API for built-in accounts, in-process: validation, what is kept at rest, lifecycle.
//!
//! Each creation runs PBKDF2 at full cost (100,000 iterations, slow in a debug build), so the
//! tests create as few users as they can.

mod common;

use common::inprocess::{expect_error, json, Harness, ADMIN_TOKEN};
use edge_oauth::http::{Method, Request};
use edge_oauth::model::User;
use edge_oauth::oauth::password::verify_password;
use futures_executor::block_on;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

fn create(h: &Harness, email: &str, name: Option<&str>) -> Value {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let r = h.admin(Method::Post, "/api/admin/users", Some(&body));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    json(&r)
}

fn stored_user(h: &Harness, sub: &str) -> User {
    let (_, text) = h
        .store
        .dump()
        .into_iter()
        .find(|(k, _)| *k == format!("user:{sub}"))
        .expect("user record");
    edge_oauth::json_codec::decode(&text).unwrap()
}

#[test]
fn create_returns_the_account_and_stores_only_a_verifiable_hash() {
    let h = Harness::new();
    let t0 = h.store.now();
    let created = create(&h, "  Ann@Example.COM ", Some(" Ann Smith "));
    let sub = created["sub"].as_str().unwrap();
    assert_eq!(sub.len(), 22, "16 random bytes, base64url");
    assert_eq!(
        created,
        json!({
            "sub": sub,
            "email": "ann@example.com",
            "name": "Ann Smith",
            "created_at": t0,
        }),
        "exactly these fields: never the password or its hash"
    );
    for (key, value) in h.store.dump() {
        assert!(!value.contains(PASSWORD), "password in clear at {key}");
    }
    let keys: Vec<String> = h.store.dump().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [format!("user:{sub}"), "user_email:ann@example.com".into()]
    );
    let stored = stored_user(&h, sub).password_hash;
    assert!(stored.starts_with("pbkdf2-sha256$100000$"), "{stored}");
    assert_eq!(
        block_on(verify_password(&h.crypto, PASSWORD, &stored)),
        Ok(true)
    );
    assert_eq!(
        block_on(verify_password(
            &h.crypto,
            "correct horse battery!",
            &stored
        )),
        Ok(false)
    );
}

#[test]
fn duplicate_email_in_another_case_is_409() {
    let h = Harness::new();
    create(&h, "bob@example.com", None);
    let r = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": " BOB@example.com", "password": "another password"})),
    );
    let description = expect_error(&r, 409, "invalid_request");
    assert!(description.contains("bob@example.com"), "{description}");
    assert_eq!(h.store.len(), 2, "nothing written for the duplicate");
}

#[test]
fn create_rejects_each_invalid_body_naming_the_field() {
    let h = Harness::new();
    let ok = "a good password";
    // (case, body, words the description must hold)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "missing email",
            json!({"password": ok}),
            "email is required",
        ),
        (
            "null email",
            json!({"email": null, "password": ok}),
            "email is required",
        ),
        (
            "email without @",
            json!({"email": "ann", "password": ok}),
            "email must be",
        ),
        (
            "email with two @",
            json!({"email": "a@b@c.io", "password": ok}),
            "email must be",
        ),
        (
            "email with space",
            json!({"email": "a b@c.io", "password": ok}),
            "email must be",
        ),
        (
            "email too long",
            json!({"email": format!("{}@x.io", "a".repeat(250)), "password": ok}),
            "email must be at most 254",
        ),
        (
            "email not a string",
            json!({"email": 5, "password": ok}),
            "email must be a string",
        ),
        (
            "missing password",
            json!({"email": "a@b.io"}),
            "password is required",
        ),
        (
            "short password",
            json!({"email": "a@b.io", "password": "short"}),
            "password must be at least 8",
        ),
        (
            "long password",
            json!({"email": "a@b.io", "password": "p".repeat(257)}),
            "password must be at most 256",
        ),
        (
            "password not a string",
            json!({"email": "a@b.io", "password": ["x"]}),
            "password must be a string",
        ),
        (
            "name not a string",
            json!({"email": "a@b.io", "password": ok, "name": 7}),
            "name must be a string",
        ),
        (
            "name too long",
            json!({"email": "a@b.io", "password": ok, "name": "n".repeat(101)}),
            "name must be at most 100",
        ),
    ];
    for (case, body, message) in cases {
        let r = h.admin(Method::Post, "/api/admin/users", Some(&body));
        let description = expect_error(&r, 400, "invalid_request");
        assert!(
            description.contains(message),
            "{case}: {description:?} lacks {message:?}"
        );
    }
    let bodies: [(&str, &[u8], &str); 2] = [
        ("malformed JSON", b"{\"email\": ", "Malformed JSON"),
        ("not an object", b"[\"a@b.io\"]", "must be an object"),
    ];
    for (case, body, message) in bodies {
        let req = Request::new(Method::Post, "/api/admin/users")
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .with_header("content-type", "application/json")
            .with_body(body.to_vec());
        let description = expect_error(&h.call(req), 400, "invalid_request");
        assert!(description.contains(message), "{case}: {description:?}");
    }
    assert!(h.store.is_empty(), "nothing stored after refused requests");
}

#[test]
fn list_get_and_delete_then_get_is_404() {
    let h = Harness::new();
    let ann = create(&h, "ann@example.com", Some("Ann"));
    let bob = create(&h, "bob@example.com", None);
    let list = json(&h.admin(Method::Get, "/api/admin/users", None));
    let mut emails: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(emails, ["ann@example.com", "bob@example.com"]);
    assert!(!list.to_string().contains("pbkdf2"), "no hash in the list");

    let path = format!("/api/admin/users/{}", ann["sub"].as_str().unwrap());
    let r = h.admin(Method::Get, &path, None);
    assert_eq!(r.status, 200);
    assert_eq!(json(&r), ann);

    assert_eq!(h.admin(Method::Delete, &path, None).status, 204);
    expect_error(&h.admin(Method::Get, &path, None), 404, "not_found");
    expect_error(&h.admin(Method::Delete, &path, None), 404, "not_found");
    // On the KV backend the revoke-all epoch (`user_revoked:`) stays: it keeps any grant the
    // account had dead until the longest grant could have expired (docs/storage.md); so does
    // the edge APIs' marker (`revoked_user:`) for the access-token lifetime.
    let left = h.store.dump().into_iter().map(|(k, _)| k);
    let left: Vec<String> = left
        .filter(|k| !k.starts_with("user_revoked:") && !k.starts_with("revoked_user:"))
        .collect();
    assert_eq!(
        left,
        [
            format!("user:{}", bob["sub"].as_str().unwrap()),
            "user_email:bob@example.com".into()
        ],
        "the email index entry went with the account"
    );
    for unknown in ["does-not-exist", "%3Cscript%3E"] {
        let r = h.admin(Method::Get, &format!("/api/admin/users/{unknown}"), None);
        expect_error(&r, 404, "not_found");
    }
    let r = h.admin(Method::Patch, &path, Some(&json!({"name": "x"})));
    expect_error(&r, 405, "method_not_allowed");
}

#[test]
fn users_api_requires_the_admin_token() {
    let h = Harness::new();
    let cases = [
        (Method::Get, "/api/admin/users", None),
        (Method::Post, "/api/admin/users", Some("wrong-token")),
        (Method::Get, "/api/admin/users/abc", None),
        (Method::Delete, "/api/admin/users/abc", Some("wrong-token")),
    ];
    for (method, path, token) in cases {
        let mut req = Request::new(method, path)
            .with_header("content-type", "application/json")
            .with_body(br#"{"email":"a@b.io","password":"a good password"}"#.to_vec());
        if let Some(t) = token {
            req = req.with_header("authorization", &format!("Bearer {t}"));
        }
        let r = h.call(req);
        expect_error(&r, 401, "invalid_token");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
    // Nothing was created; only the wrong tokens were counted (admin-token throttle).
    let stored = h.store.dump();
    assert!(
        stored.iter().all(|(k, _)| k.starts_with("login_failures:")),
        "{stored:?}"
    );
}

#[test]
fn listings_come_a_page_at_a_time_with_a_cursor() {
    let h = Harness::new();
    for i in 0..5 {
        create(&h, &format!("u{i}@example.com"), None);
    }
    let mut seen = Vec::new();
    let mut path = "/api/admin/users?limit=2".to_string();
    for _ in 0..5 {
        let page = json(&h.admin(Method::Get, &path, None));
        let users = page["users"].as_array().unwrap();
        assert!(users.len() <= 2, "{page}");
        seen.extend(
            users
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/admin/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 5, "every account once: {seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 5);
    for bad in ["limit=0", "limit=101", "limit=x", "cursor=%22%3E"] {
        let r = h.admin(Method::Get, &format!("/api/admin/users?{bad}"), None);
        expect_error(&r, 400, "invalid_request");
    }
}
