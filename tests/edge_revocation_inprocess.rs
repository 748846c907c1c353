//! Issue 18 item 4, in-process: a revocation whose edge marker (`revoked_*`, read by edge APIs
//! through `crates/edge-verifier`) cannot be written answers 503 with `Retry-After`, never a
//! 500, and the retry completes it with the marker written.

mod common;

use common::flaky::FlakyWrites;
use common::flow::REDIRECT;
use common::inprocess::{json, Harness, ADMIN_TOKEN};
use edge_oauth::http::{Method, Request, Response};
use serde_json::json;

fn admin(method: Method, path: &str, body: Option<serde_json::Value>) -> Request {
    let r =
        Request::new(method, path).with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
    match body {
        Some(b) => r
            .with_header("content-type", "application/json")
            .with_body(b.to_string()),
        None => r,
    }
}

fn marker_keys(store: &FlakyWrites, prefix: &str) -> usize {
    store
        .inner
        .dump()
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .count()
}

#[test]
fn a_marker_that_cannot_be_written_is_a_503_and_the_retry_completes_the_revocation() {
    let h = Harness::new();
    let store = FlakyWrites::new(&h, "revoked_");
    let call = |req: Request| store.handle(&h, &req);
    let client = call(admin(
        Method::Post,
        "/api/admin/clients",
        Some(json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "profile:read"})),
    ));
    let id = json(&client)["client_id"].as_str().unwrap().to_string();
    let user = call(admin(
        Method::Post,
        "/api/admin/users",
        Some(json!({"email": "m@example.com", "password": "a long enough password"})),
    ));
    let sub = json(&user)["sub"].as_str().unwrap().to_string();
    let logout = || {
        call(
            Request::new(Method::Post, "/api/oauth/logout")
                .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .with_header("content-type", "application/x-www-form-urlencoded")
                .with_body(format!("sub={sub}&revoke=all")),
        )
    };
    let requests: [(&str, &dyn Fn() -> Response, u16); 3] = [
        ("revoked_user:", &logout, 200),
        (
            "revoked_client:",
            &|| {
                call(admin(
                    Method::Delete,
                    &format!("/api/admin/clients/{id}"),
                    None,
                ))
            },
            204,
        ),
        (
            "revoked_user:",
            &|| {
                call(admin(
                    Method::Delete,
                    &format!("/api/admin/users/{sub}"),
                    None,
                ))
            },
            204,
        ),
    ];
    for (marker, request, ok) in requests {
        let before = marker_keys(&store, marker);
        store.failing.set(true);
        let r = request();
        assert_eq!(
            r.status,
            503,
            "{marker}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("retry-after"), Some("1"), "{marker}");
        store.failing.set(false);
        let r = request();
        assert_eq!(
            r.status,
            ok,
            "{marker}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            marker_keys(&store, marker) >= before.max(1),
            "{marker} written"
        );
    }
}
