//! RFC 8707 resource indicators in-process (both backends: `EDGE_STATE_BACKEND=kv`): the
//! resource named at authorize becomes the access token's `aud` and stays with the grant;
//! anything else is `invalid_target`.

mod common;

use common::browser::{location, query_param, submit_consent, Browser};
use common::flow::*;
use common::inprocess::ISSUER;

const MCP: &str = "https://api.example/mcp";
const API: &str = "https://api.example";

fn configured() -> Setup {
    setup_with(&[(
        "RESOURCES",
        r#"["https://api.example/mcp","https://api.example"]"#,
    )])
}

/// The browser part with `extra` authorize parameters: the code.
fn code_for(s: &Setup, b: &Browser<common::inprocess::Harness>, extra: &[(&str, &str)]) -> String {
    let consent = to_consent(s, b, &authorize_url(&s.client_id, extra));
    let r = submit_consent(b, &consent, &["profile:read", "images:read"], "approve");
    query_param(&location(&r), "code").expect("code")
}

fn exchange(s: &Setup, code: &str, resource: Option<&str>) -> common::http::Reply {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    fields.extend(resource.map(|r| ("resource", r)));
    token(s, &fields, Some((&s.client_id, &s.secret)))
}

fn refresh(s: &Setup, refresh_token: &str, resource: Option<&str>) -> common::http::Reply {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    fields.extend(resource.map(|r| ("resource", r)));
    token(s, &fields, Some((&s.client_id, &s.secret)))
}

fn aud(s: &Setup, reply: &common::http::Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let t = reply.json();
    claims(&s.h, t["access_token"].as_str().unwrap())["aud"]
        .as_str()
        .expect("aud is a string")
        .to_string()
}

#[test]
fn the_resource_named_at_authorize_is_the_audience_of_every_token_of_the_grant() {
    let s = configured();
    let b = Browser::new(&s.h, ISSUER);
    let code = code_for(&s, &b, &[("resource", MCP)]);
    let first = exchange(&s, &code, Some(MCP));
    assert_eq!(aud(&s, &first), MCP);
    let rt = first.json()["refresh_token"].as_str().unwrap().to_string();
    // A refresh without `resource` gets the grant's.
    let second = refresh(&s, &rt, None);
    assert_eq!(aud(&s, &second), MCP);
    let rt = second.json()["refresh_token"].as_str().unwrap().to_string();
    // Naming it again is fine; naming another configured one is not (and changes nothing).
    refresh(&s, &rt, Some(API)).expect_error(400, "invalid_target");
    let third = refresh(&s, &rt, Some(MCP));
    assert_eq!(aud(&s, &third), MCP);
    // Remembered consent (no page) carries the resource too, and exchange may omit it.
    let r = b.get(&authorize_url(&s.client_id, &[("resource", API)]));
    assert_eq!(r.status, 302, "{}", r.body);
    let code = query_param(&location(&r), "code").expect("code without a page");
    assert_eq!(aud(&s, &exchange(&s, &code, None)), API);
}

#[test]
fn without_resource_the_token_is_for_the_configured_audience_as_before() {
    let s = configured();
    let b = Browser::new(&s.h, ISSUER);
    let code = code_for(&s, &b, &[]);
    let first = exchange(&s, &code, None);
    assert_eq!(aud(&s, &first), ISSUER);
    let rt = first.json()["refresh_token"].as_str().unwrap().to_string();
    // The grant has no resource: naming one at refresh is refused.
    refresh(&s, &rt, Some(MCP)).expect_error(400, "invalid_target");
    assert_eq!(aud(&s, &refresh(&s, &rt, None)), ISSUER);
}

#[test]
fn a_code_exchanged_for_another_resource_is_refused() {
    let s = configured();
    let b = Browser::new(&s.h, ISSUER);
    let code = code_for(&s, &b, &[("resource", MCP)]);
    exchange(&s, &code, Some(API)).expect_error(400, "invalid_target");
    // RFC 6749 §4.1.2: a failed use consumes the code, like a wrong redirect_uri.
    exchange(&s, &code, Some(MCP)).expect_error(400, "invalid_grant");
}

#[test]
fn an_unknown_or_malformed_resource_at_the_token_endpoint_leaves_the_code_usable() {
    let s = configured();
    let b = Browser::new(&s.h, ISSUER);
    let code = code_for(&s, &b, &[("resource", MCP)]);
    for bad in [
        "https://other.example",
        "https://api.example/mcp#x",
        "mcp",
        "https://api.example/mcp/",
    ] {
        exchange(&s, &code, Some(bad)).expect_error(400, "invalid_target");
    }
    let two = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("resource", MCP),
            ("resource", API),
        ],
        Some((&s.client_id, &s.secret)),
    );
    two.expect_error(400, "invalid_target");
    assert_eq!(aud(&s, &exchange(&s, &code, Some(MCP))), MCP);
}

#[test]
fn authorize_redirects_invalid_target_for_an_unknown_malformed_or_second_resource() {
    let s = configured();
    let b = Browser::new(&s.h, ISSUER);
    let cases: [&[(&str, &str)]; 4] = [
        &[("resource", "https://other.example/mcp")],
        &[("resource", "https://api.example/mcp#frag")],
        &[("resource", "/mcp")],
        &[("resource", MCP), ("resource", API)],
    ];
    for extra in cases {
        let mut url = authorize_url(&s.client_id, &extra[..1]);
        if extra.len() > 1 {
            url.push_str("&resource=https%3A%2F%2Fapi.example");
        }
        let r = b.get(&url);
        assert_eq!(r.status, 302, "{extra:?}: {}", r.body);
        let back = location(&r);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_target")
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("st&te 1"));
    }
    // With no RESOURCES configured, every resource is unknown.
    let plain = setup();
    let b = Browser::new(&plain.h, ISSUER);
    let r = b.get(&authorize_url(&plain.client_id, &[("resource", MCP)]));
    let back = location(&r);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_target")
    );
}

/// The constraint of issue 16: naming a resource costs no storage operation. The same flow
/// (sign-in, consent, exchange, refresh) with and without `resource` makes the same KV reads,
/// writes and lists and the same Durable Object calls (on the backend under test).
#[test]
fn a_resource_adds_no_storage_operation_to_the_flow() {
    let cost = |extra: &[(&str, &str)], token_extra: Option<&str>| {
        let s = configured();
        let b = Browser::new(&s.h, ISSUER);
        let before = (s.h.store.op_counts(), s.h.objects.calls());
        let code = code_for(&s, &b, extra);
        let t = exchange(&s, &code, token_extra);
        let rt = t.json()["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(refresh(&s, &rt, None).status, 200);
        let after = (s.h.store.op_counts(), s.h.objects.calls());
        let ((r0, w0, l0), c0) = before;
        let ((r1, w1, l1), c1) = after;
        (r1 - r0, w1 - w0, l1 - l0, c1 - c0)
    };
    let plain = cost(&[], None);
    let with_resource = cost(&[("resource", MCP)], Some(MCP));
    assert_eq!(plain, with_resource, "(reads, writes, lists, object calls)");
}
