//! RFC 7591 dynamic registration against the built Worker in workerd (both backends with
//! `EDGE_STATE_BACKEND=kv`): the answer echoes the metadata, and the Workers rate-limiting
//! binding (Miniflare enforces it) allows 10 registrations per minute per address.

mod common;

use common::http::post_json;
use common::worker::start;
use serde_json::json;

fn body(n: usize) -> serde_json::Value {
    json!({"client_name": format!("Agent {n}"), "redirect_uris": ["http://127.0.0.1:53682/callback"],
           "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
           "response_types": ["code"]})
}

#[test]
fn registration_is_open_public_only_and_limited_to_ten_a_minute() {
    let w = start(&["--var", "DYNAMIC_REGISTRATION=open"]);
    let meta = common::http::get(&w.url("/.well-known/oauth-authorization-server"), &[]).json();
    assert_eq!(
        meta["registration_endpoint"],
        w.url("/api/oauth/register").as_str()
    );
    let confidential = post_json(
        &w.url("/api/oauth/register"),
        &[],
        &json!({"client_name": "x", "redirect_uris": ["https://a.example/cb"],
                "token_endpoint_auth_method": "client_secret_basic"}),
    );
    confidential.expect_error(400, "invalid_client_metadata");
    // That refusal counted too: 9 more are allowed, then 429.
    for n in 0..9 {
        let r = post_json(&w.url("/api/oauth/register"), &[], &body(n));
        assert_eq!(r.status, 201, "registration {n}: {}", r.body);
        let c = r.json();
        assert_eq!(
            c["redirect_uris"],
            json!(["http://127.0.0.1:53682/callback"])
        );
        assert!(c["client_id"].is_string() && c["client_id_issued_at"].is_u64());
    }
    let r = post_json(&w.url("/api/oauth/register"), &[], &body(99));
    r.expect_error(429, "too_many_requests");
    assert_eq!(r.header("retry-after"), Some("60"));
    // The registered clients are ordinary clients.
    let list = w.admin("GET", "/api/admin/clients?limit=100", None).json();
    assert_eq!(list["clients"].as_array().unwrap().len(), 9);
}

#[test]
fn registration_is_off_by_default() {
    let w = common::worker::shared();
    let r = post_json(&w.url("/api/oauth/register"), &[], &body(0));
    r.expect_error(404, "not_found");
    let meta = common::http::get(&w.url("/.well-known/oauth-authorization-server"), &[]).json();
    assert!(meta.get("registration_endpoint").is_none());
}
