//! End to end against the built Worker in workerd: metadata, JWKS, the admin client registry,
//! errors for bad input.

mod common;

use common::http::{get, post_form, post_json, send, Framing};
use common::worker::shared;
use serde_json::{json, Value};

#[test]
fn metadata_names_the_issuer_and_existing_endpoints() {
    let w = shared();
    let r = get(&w.url("/.well-known/oauth-authorization-server"), &[]);
    assert_eq!(r.status, 200);
    let m = r.json();
    assert_eq!(
        m["issuer"],
        w.url.as_str(),
        "issuer is exactly the configured URL"
    );
    assert_eq!(m["jwks_uri"], w.url("/.well-known/jwks.json").as_str());
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert!(m["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("images:write")));
    // Every endpoint URL advertised must answer (not 404).
    for (field, url) in m.as_object().unwrap() {
        if field.ends_with("_endpoint") || field == "jwks_uri" {
            let r = send("OPTIONS", url.as_str().unwrap(), &[], None);
            assert_ne!(r.status, 404, "{field} {url} does not exist");
        }
    }
}

#[test]
fn jwks_publishes_active_and_retired_keys_without_private_parts() {
    let w = shared();
    let r = get(&w.url("/.well-known/jwks.json"), &[]);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().contains("json"));
    assert!(r.header("cache-control").unwrap().contains("max-age"));
    let keys = r.json()["keys"].as_array().unwrap().clone();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    let started: Vec<&str> = w
        .signing_keys
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, started);
    for k in &keys {
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "private member published: {k}");
    }
    assert_eq!(keys[0]["x"], w.signing_keys[0]["x"]);
}

fn admin(method: &str, path: &str, body: Option<&Value>) -> common::http::Reply {
    shared().admin(method, path, body)
}

#[test]
fn admin_client_lifecycle_create_get_list_update_rotate_delete() {
    let r = admin(
        "POST",
        "/api/admin/clients",
        Some(&json!({
            "client_name": "Gallery Sync",
            "description": "Keeps galleries in sync",
            "logo_uri": "https://sync.example/logo.png",
            "client_uri": "https://sync.example",
            "redirect_uris": ["https://sync.example/cb", "http://127.0.0.1/cb"],
            "scope": "galleries:read galleries:write",
            "token_endpoint_auth_method": "client_secret_post",
            "software_id": "ignored-unknown-field"
        })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret1 = created["client_secret"].as_str().unwrap().to_string();
    assert!(created.get("software_id").is_none());
    let path = format!("/api/admin/clients/{id}");

    let got = admin("GET", &path, None).json();
    assert_eq!(got["client_name"], "Gallery Sync");
    assert!(got.get("client_secret").is_none(), "secret shown only once");

    let list = admin("GET", "/api/admin/clients", None).json();
    assert!(list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == id.as_str()));

    let patched = admin(
        "PATCH",
        &path,
        Some(&json!({"client_name": "Gallery Sync 2"})),
    );
    assert_eq!(patched.status, 200);
    assert_eq!(
        admin("GET", &path, None).json()["client_name"],
        "Gallery Sync 2"
    );

    let rotated = admin("POST", &format!("{path}/secret"), None);
    assert_eq!(rotated.status, 200);
    let secret2 = rotated.json()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(secret1, secret2);

    assert_eq!(admin("DELETE", &path, None).status, 204);
    admin("GET", &path, None).expect_error(404, "not_found");
}

/// The Worker keeps client records in isolate memory for a few seconds (docs/consistency.md):
/// a rotation or deletion must still apply at once to the isolate that made it (workerd runs
/// one isolate here), even right after the old record was read.
#[test]
fn client_secret_rotation_and_deletion_apply_at_once() {
    let w = shared();
    let client = common::e2e::register(w, "client_secret_post");
    let id = client["client_id"].as_str().unwrap().to_string();
    let introspect = |secret: &str| {
        post_form(
            &w.url("/api/oauth/introspect"),
            &[],
            &[
                ("client_id", &id),
                ("client_secret", secret),
                ("token", "x"),
            ],
        )
    };
    let secret1 = client["client_secret"].as_str().unwrap().to_string();
    assert_eq!(introspect(&secret1).status, 200);
    let path = format!("/api/admin/clients/{id}");
    let rotated = admin("POST", &format!("{path}/secret"), None);
    assert_eq!(rotated.status, 200);
    let secret2 = rotated.json()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    introspect(&secret1).expect_error(401, "invalid_client");
    assert_eq!(introspect(&secret2).status, 200);
    assert_eq!(admin("DELETE", &path, None).status, 204);
    introspect(&secret2).expect_error(401, "invalid_client");
}

#[test]
fn admin_requires_a_valid_token() {
    let w = shared();
    let r = get(&w.url("/api/admin/clients"), &[]);
    r.expect_error(401, "invalid_token");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = get(
        &w.url("/api/admin/clients"),
        &[("Authorization", "Bearer not-the-token")],
    );
    r.expect_error(401, "invalid_token");
    let r = post_json(
        &w.url("/api/admin/clients"),
        &[("Authorization", "Bearer x")],
        &json!({}),
    );
    r.expect_error(401, "invalid_token");
}

#[test]
fn malformed_admin_bodies_get_400_with_a_message() {
    let w = shared();
    let auth = w.admin_auth();
    let url = w.url("/api/admin/clients");
    let h = |ct: &'static str| {
        vec![
            ("Authorization", auth.clone()),
            ("Content-Type", ct.to_string()),
        ]
    };
    let call = |headers: Vec<(&str, String)>, body: &[u8]| {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        send("POST", &url, &hs, Some(body))
    };
    let d = call(h("application/json"), b"{\"client_name\": ").expect_error(400, "invalid_request");
    assert!(d.contains("Malformed JSON"), "{d}");
    let d = call(h("text/plain"), b"{}").expect_error(400, "invalid_request");
    assert!(d.contains("application/json"), "{d}");
    let d = call(
        h("application/json"),
        br#"{"client_name": ["x"], "redirect_uris": [], "scope": "x"}"#,
    )
    .expect_error(400, "invalid_client_metadata");
    assert!(d.contains("client_name"), "{d}");
    let d = call(
        h("application/json"),
        br#"{"client_name":"x","redirect_uris":["http://evil.example/cb"],"scope":"profile:read"}"#,
    )
    .expect_error(400, "invalid_redirect_uri");
    assert!(d.contains("https"), "{d}");
    let big = vec![b'a'; 200 * 1024];
    let hs = h("application/json");
    let hs: Vec<(&str, &str)> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::http::post_refusable(&url, &hs, Framing::ContentLength, big)
        .expect_error(413, "invalid_request");
}

#[test]
fn unknown_paths_and_methods_get_json_errors() {
    let w = shared();
    get(&w.url("/nope"), &[]).expect_error(404, "not_found");
    send("DELETE", &w.url("/.well-known/jwks.json"), &[], None)
        .expect_error(405, "method_not_allowed");
}

#[test]
fn chunked_bodies_are_read_up_to_the_limit_only() {
    let w = shared();
    let url = w.url("/api/oauth/token");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let big = common::http::post_refusable(&url, &form, Framing::Chunked, vec![b'a'; 300 * 1024]);
    big.expect_error(413, "invalid_request");
    let small = common::http::post_refusable(
        &url,
        &form,
        Framing::Chunked,
        b"grant_type=authorization_code&client_id=nobody".to_vec(),
    );
    small.expect_error(401, "invalid_client");
}
