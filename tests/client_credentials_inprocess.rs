//! `grant_type=client_credentials` in-process (both backends: `EDGE_STATE_BACKEND=kv`):
//! registration through the admin API, the token (sub = client id, no refresh token, scope
//! and resource rules), and introspection and revocation of such tokens.

mod common;

use common::flow::{claims, post};
use common::inprocess::{expect_error, json, Harness, ISSUER};
use edge_oauth::http::Method;
use serde_json::{json, Value};

const API: &str = "https://api.example/mcp";

struct Machine {
    s: common::flow::Setup,
    id: String,
    secret: String,
}

fn body(auth: &str, grant_types: Value) -> Value {
    json!({"client_name": "Nightly export", "redirect_uris": ["https://export.example/cb"],
           "scope": "profile:read images:read", "token_endpoint_auth_method": auth,
           "grant_types": grant_types})
}

fn machine() -> Machine {
    let s = common::flow::setup_with(&[("RESOURCES", &format!(r#"["{API}"]"#))]);
    let r = s.h.admin(
        Method::Post,
        "/api/admin/clients",
        Some(&body("client_secret_basic", json!(["client_credentials"]))),
    );
    assert_eq!(r.status, 201);
    let c = json(&r);
    assert_eq!(
        c["grant_types"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    Machine {
        id: c["client_id"].as_str().unwrap().into(),
        secret: c["client_secret"].as_str().unwrap().into(),
        s,
    }
}

fn token(m: &Machine, extra: &[(&str, &str)]) -> common::http::Reply {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(extra);
    post(&m.s, "/api/oauth/token", &fields, Some((&m.id, &m.secret)))
}

#[test]
fn a_registered_confidential_client_gets_a_token_for_itself_without_refresh_token() {
    let m = machine();
    let r = token(&m, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let t = r.json();
    assert_eq!(t["scope"], "profile:read images:read");
    assert_eq!(t["token_type"], "Bearer");
    assert!(t.get("refresh_token").is_none(), "{t}");
    let c = claims(&m.s.h, t["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], m.id.as_str());
    assert_eq!(c["client_id"], m.id.as_str());
    assert_eq!(c["aud"], ISSUER);
    assert!(c.get("gid").is_none(), "no grant: {c}");
    // Narrower scope and a resource.
    let t = token(&m, &[("scope", "images:read"), ("resource", API)]).json();
    assert_eq!(t["scope"], "images:read");
    assert_eq!(
        claims(&m.s.h, t["access_token"].as_str().unwrap())["aud"],
        API
    );
}

#[test]
fn wider_scope_or_unknown_resource_is_refused() {
    let m = machine();
    token(&m, &[("scope", "images:write")]).expect_error(400, "invalid_scope");
    token(&m, &[("scope", "nonsense")]).expect_error(400, "invalid_scope");
    token(&m, &[("resource", "https://other.example")]).expect_error(400, "invalid_target");
    // Wrong secret: client authentication fails first.
    let r = post(
        &m.s,
        "/api/oauth/token",
        &[("grant_type", "client_credentials")],
        Some((&m.id, "wrong")),
    );
    r.expect_error(401, "invalid_client");
}

#[test]
fn clients_that_did_not_register_it_are_unauthorized() {
    let m = machine();
    let s = &m.s;
    // The setup's confidential client has the default grant types.
    let r = post(
        s,
        "/api/oauth/token",
        &[("grant_type", "client_credentials")],
        Some((&s.client_id, &s.secret)),
    );
    r.expect_error(400, "unauthorized_client");
    // A public client (client_id only).
    let r = post(
        s,
        "/api/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.public_id),
        ],
        None,
    );
    r.expect_error(400, "unauthorized_client");
}

#[test]
fn registration_allows_it_for_confidential_clients_only() {
    let h = Harness::new();
    let create = |b: Value| h.admin(Method::Post, "/api/admin/clients", Some(&b));
    let r = create(body(
        "none",
        json!(["authorization_code", "client_credentials"]),
    ));
    assert!(expect_error(&r, 400, "invalid_client_metadata").contains("confidential"));
    let r = create(body("client_secret_post", json!(["password"])));
    expect_error(&r, 400, "invalid_client_metadata");
    let r = create(body("client_secret_post", json!("client_credentials")));
    expect_error(&r, 400, "invalid_client_metadata");
    // Default: no client_credentials; PATCH turns it on and off.
    let mut b = body("client_secret_post", json!(null));
    b.as_object_mut().unwrap().remove("grant_types");
    let c = json(&create(b));
    assert_eq!(
        c["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let path = format!("/api/admin/clients/{}", c["client_id"].as_str().unwrap());
    let patch = |v: Value| h.admin(Method::Patch, &path, Some(&json!({ "grant_types": v })));
    let on = json(&patch(json!(["client_credentials"])));
    assert_eq!(on["grant_types"].as_array().unwrap().len(), 3);
    let off = json(&patch(json!(["authorization_code"])));
    assert_eq!(off["grant_types"].as_array().unwrap().len(), 2);
    // A public client cannot be given it by PATCH either.
    let p = json(&create(body("none", json!(["authorization_code"]))));
    let path = format!("/api/admin/clients/{}", p["client_id"].as_str().unwrap());
    let r = h.admin(
        Method::Patch,
        &path,
        Some(&json!({"grant_types": ["client_credentials"]})),
    );
    expect_error(&r, 400, "invalid_client_metadata");
}

#[test]
fn introspection_and_revocation_work_on_machine_tokens() {
    let m = machine();
    let at = token(&m, &[]).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let basic = Some((m.id.as_str(), m.secret.as_str()));
    let introspect = || post(&m.s, "/api/oauth/introspect", &[("token", &at)], basic).json();
    let info = introspect();
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["sub"], m.id.as_str());
    // Active, but it names no user: userinfo says so rather than "expired or revoked".
    let r = post(&m.s, "/api/oauth/userinfo", &[("access_token", &at)], None);
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(
        challenge.contains("client_credentials token has no user"),
        "{challenge}"
    );
    let r = post(&m.s, "/api/oauth/revoke", &[("token", &at)], basic);
    assert_eq!(r.status, 200);
    assert_eq!(introspect()["active"], false);
    // Deleting the client ends its tokens too.
    let at2 = token(&m, &[]).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let s = &m.s;
    let by_other = || {
        post(
            s,
            "/api/oauth/introspect",
            &[("token", &at2)],
            Some((&s.client_id, &s.secret)),
        )
        .json()
    };
    // Another client may not see it (not a resource server).
    assert_eq!(by_other()["active"], false);
    let r = s.h.admin(
        Method::Delete,
        &format!("/api/admin/clients/{}", m.id),
        None,
    );
    assert_eq!(r.status, 204);
    let gone = post(s, "/api/oauth/introspect", &[("token", &at2)], basic);
    assert_ne!(gone.status, 200, "a deleted client cannot authenticate");
}
