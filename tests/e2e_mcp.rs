//! The example API's MCP endpoint (`/mcp`) and the provider in one workerd (both backends
//! with `EDGE_STATE_BACKEND=kv`): RFC 9728 metadata for `/mcp`, the 401 challenge naming it,
//! JSON-RPC over Streamable HTTP with tokens whose `aud` is the `/mcp` URL (user and machine
//! tokens), 403 `insufficient_scope` naming a tool's scope, and tokens for another audience
//! refused. The MCP TypeScript SDK drives the same endpoint in tests/mcp/sdk.test.mjs.

mod common;

use common::browser::{query_param, Browser, Http};
use common::e2e::*;
use common::http::{get, send, Reply};
use common::worker::{start, Worker};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope, TokenResponse};
use serde_json::{json, Value};
use std::sync::OnceLock;

fn world() -> &'static Worker {
    static WORLD: OnceLock<Worker> = OnceLock::new();
    WORLD.get_or_init(|| start(&["--gallery"]))
}

fn api(w: &Worker, path: &str) -> String {
    format!("{}{path}", w.gallery_url.as_ref().unwrap())
}

fn rpc(w: &Worker, token: Option<&str>, message: &Value) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    send(
        "POST",
        &api(w, "/mcp"),
        &headers,
        Some(message.to_string().as_bytes()),
    )
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A user token for `scopes` with `resource` (or none).
fn user_token(w: &Worker, tag: &str, scopes: &[&str], resource: Option<&str>) -> String {
    let client = register(w, "client_secret_basic");
    let email = user(w, tag);
    let oauth = oauth_client(w, &client);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for s in scopes {
        req = req.add_scope(Scope::new(s.to_string()));
    }
    if let Some(r) = resource {
        req = req.add_extra_param("resource", r);
    }
    let (url, _) = req.url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, url.as_str(), &email);
    let back = decide(&b, &consent, scopes, "approve");
    let code = query_param(&back, "code").unwrap();
    oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("code exchange")
        .access_token()
        .secret()
        .clone()
}

#[test]
fn metadata_and_the_401_challenge_point_clients_to_the_provider() {
    let w = world();
    let mcp = api(w, "/mcp");
    let meta = get(&api(w, "/.well-known/oauth-protected-resource/mcp"), &[]);
    assert_eq!(meta.status, 200);
    let m = meta.json();
    assert_eq!(m["resource"], mcp.as_str());
    assert_eq!(m["authorization_servers"], json!([w.url]));
    assert_eq!(
        m["scopes_supported"],
        json!([
            "profile:read",
            "galleries:read",
            "galleries:write",
            "images:read"
        ])
    );
    let r = rpc(w, None, &call(1, "initialize", json!({})));
    assert_eq!(r.status, 401);
    let c = r.header("www-authenticate").unwrap();
    assert!(
        c.contains(&format!(
            "resource_metadata=\"{}\"",
            api(w, "/.well-known/oauth-protected-resource/mcp")
        )),
        "{c}"
    );
    // The provider lists the /mcp URL among its resources (serve-test, like make dev).
    assert_eq!(get(&api(w, "/mcp"), &[]).status, 405);
}

#[test]
fn a_token_for_the_mcp_url_lists_and_calls_tools_and_lacking_scope_is_403() {
    let w = world();
    let mcp = api(w, "/mcp");
    let token = user_token(w, "mcp-user", &["profile:read", "images:read"], Some(&mcp));
    let init = rpc(
        w,
        Some(&token),
        &call(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                                      "clientInfo": {"name": "t", "version": "1"}}),
        ),
    );
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(init.header("content-type"), Some("application/json"));
    assert_eq!(init.json()["result"]["protocolVersion"], "2025-06-18");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = rpc(w, Some(&token), &note);
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let tools = rpc(w, Some(&token), &call(2, "tools/list", json!({}))).json();
    assert_eq!(tools["result"]["tools"].as_array().unwrap().len(), 4);
    let me = rpc(
        w,
        Some(&token),
        &call(3, "tools/call", json!({"name": "get_profile"})),
    )
    .json();
    assert_eq!(me["result"]["isError"], false, "{me}");
    assert_eq!(
        me["result"]["structuredContent"]["scope"],
        "profile:read images:read"
    );
    // A tool whose scope the token lacks: HTTP 403 naming it, for a step-up.
    let r = rpc(
        w,
        Some(&token),
        &call(
            4,
            "tools/call",
            json!({"name": "create_gallery", "arguments": {"name": "X"}}),
        ),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let c = r.header("www-authenticate").unwrap();
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"galleries:write\""),
        "{c}"
    );
    assert!(c.contains("resource_metadata="), "{c}");
}

#[test]
fn tokens_for_another_audience_are_refused_at_mcp() {
    let w = world();
    // Default audience (no resource), and the REST API's origin: both refused.
    let plain = user_token(w, "mcp-plain", &["profile:read"], None);
    let origin = w.gallery_url.clone().unwrap();
    let other = user_token(w, "mcp-origin", &["profile:read"], Some(&origin));
    for token in [plain, other] {
        let r = rpc(w, Some(&token), &call(1, "tools/list", json!({})));
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
    }
}

#[test]
fn the_rest_api_takes_tokens_for_its_origin_or_the_default_audience_but_not_for_mcp() {
    // Its protected-resource metadata names its origin, so a client that sends that resource
    // gets a token it can use; one minted for /mcp is for the MCP endpoint only.
    let w = world();
    let origin = w.gallery_url.clone().unwrap();
    let mcp = format!("{origin}/mcp");
    for (tag, resource, status) in [
        ("rest-default", None, 200),
        ("rest-origin", Some(origin.as_str()), 200),
        ("rest-mcp", Some(mcp.as_str()), 401),
    ] {
        let token = user_token(w, tag, &["profile:read"], resource);
        let r = get(
            &api(w, "/api/v1/me"),
            &[("authorization", &format!("Bearer {token}"))],
        );
        assert_eq!(r.status, status, "{tag}: {}", r.body);
    }
}

#[test]
fn machine_tokens_for_the_mcp_url_work_and_bad_bodies_are_json_rpc_errors() {
    let w = world();
    let mcp = api(w, "/mcp");
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "MCP job", "redirect_uris": [REDIRECT], "scope": "galleries:read galleries:write",
               "grant_types": ["client_credentials"]}),
    );
    let token = oauth_client(w, &client)
        .exchange_client_credentials()
        .add_extra_param("resource", mcp.clone())
        .request(&http_client())
        .expect("machine token")
        .access_token()
        .secret()
        .clone();
    let made = rpc(
        w,
        Some(&token),
        &call(
            1,
            "tools/call",
            json!({"name": "create_gallery", "arguments": {"name": "Nightly"}}),
        ),
    )
    .json();
    assert_eq!(
        made["result"]["structuredContent"]["name"], "Nightly",
        "{made}"
    );
    let list = rpc(
        w,
        Some(&token),
        &call(2, "tools/call", json!({"name": "list_galleries"})),
    )
    .json();
    assert_eq!(
        list["result"]["structuredContent"]["galleries"][0]["name"],
        "Nightly"
    );
    let auth = format!("Bearer {token}");
    for body in [&b"{"[..], b"[]", b"\"x\""] {
        let r = send(
            "POST",
            &mcp,
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        );
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.json()["error"]["code"].is_i64());
    }
    // RFC 7009 revocation of the machine token reaches /mcp (the shared revocation list).
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let r = common::http::post_form(
        &w.url("/api/oauth/revoke"),
        &[],
        &[
            ("token", &token),
            ("client_id", id),
            ("client_secret", secret),
        ],
    );
    assert_eq!(r.status, 200);
    let r = rpc(w, Some(&token), &call(3, "tools/list", json!({})));
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("revoked"), "{}", r.body);
}
