//! `GET /openapi.json` cannot drift from the router: every route of `router::ALL_ROUTES` with
//! each of its methods is described, nothing else is, and the document passes a real OpenAPI
//! 3.1 validator (`@seriousme/openapi-schema-validator`, installed by scripts/setup.sh).

use edge_oauth::endpoints::openapi;
use edge_oauth::http::Method;
use edge_oauth::router::ALL_ROUTES;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn document() -> Value {
    serde_json::from_str(&openapi::render("https://auth.example.com")).expect("valid JSON")
}

fn operation(method: &Method) -> Option<&'static str> {
    match method {
        Method::Get => Some("get"),
        Method::Post => Some("post"),
        Method::Patch => Some("patch"),
        Method::Delete => Some("delete"),
        Method::Put => Some("put"),
        // HEAD mirrors GET; OPTIONS is the CORS preflight of the same path.
        _ => None,
    }
}

#[test]
fn every_route_and_method_is_described_and_nothing_else() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    for route in ALL_ROUTES {
        let item = paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} is not in openapi.json", route.path));
        for method in route.methods.iter().filter_map(operation) {
            let op = &item[method];
            assert!(op.is_object(), "{method} {} is not described", route.path);
            assert!(op["responses"].is_object(), "{method} {}", route.path);
        }
        let described = ["get", "post", "patch", "delete", "put"]
            .into_iter()
            .filter(|m| item.get(*m).is_some());
        for m in described {
            let routed = route.methods.iter().filter_map(operation).any(|r| r == m);
            assert!(
                routed,
                "openapi.json describes {m} {} the router refuses",
                route.path
            );
        }
    }
    for path in paths.keys() {
        assert!(
            ALL_ROUTES.iter().any(|r| r.path == path),
            "openapi.json describes {path}, which the router does not know"
        );
    }
    assert_eq!(doc["servers"][0]["url"], "https://auth.example.com");
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn token_revoke_and_introspect_accept_both_encodings() {
    let doc = document();
    for path in [
        "/api/oauth/token",
        "/api/oauth/revoke",
        "/api/oauth/introspect",
    ] {
        let content = &doc["paths"][path]["post"]["requestBody"]["content"];
        assert!(
            content["application/x-www-form-urlencoded"].is_object(),
            "{path}"
        );
        assert!(content["application/json"].is_object(), "{path}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["clientBasic"]["scheme"], "basic");
    assert_eq!(schemes["adminBearer"]["scheme"], "bearer");
}

#[test]
fn document_passes_an_openapi_3_1_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let validator = root.join("node_modules/@seriousme/openapi-schema-validator");
    assert!(
        validator.exists(),
        "the OpenAPI validator is missing: run scripts/setup.sh (npm install)"
    );
    let file = std::env::temp_dir().join(format!("edge-oauth-openapi-{}.json", std::process::id()));
    std::fs::write(&file, openapi::render("https://auth.example.com")).unwrap();
    let script = r#"
const { Validator } = await import(process.argv[1]);
const v = new Validator();
const res = await v.validate(process.argv[2]);
if (!res.valid) { console.error(JSON.stringify(res.errors, null, 1)); process.exit(1); }
console.log("valid", v.version);
"#;
    let entry = validator.join("index.js");
    let out = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .arg(entry.to_str().unwrap())
        .arg(file.to_str().unwrap())
        .output()
        .expect("node must be installed (scripts/setup.sh)");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openapi.json is not valid OpenAPI: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid 3.1"), "{stdout}");
}

#[test]
fn openid_connect_parameters_and_the_id_token_are_described() {
    let doc = document();
    let params = doc["paths"]["/api/oauth/authorize"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for name in [
        "nonce",
        "prompt",
        "max_age",
        "login_hint",
        "request",
        "request_uri",
        "claims",
    ] {
        let n = params.iter().filter(|p| p["name"] == name).count();
        assert_eq!(n, 1, "{name} described once");
    }
    assert!(
        params.iter().any(|p| p["name"] == "code_challenge"),
        "the document's own stay"
    );
    assert!(doc["components"]["schemas"]["TokenResponse"]["properties"]["id_token"].is_object());
    assert!(doc["paths"]["/api/oauth/userinfo"]["get"].is_object());
    let schemas = &doc["components"]["schemas"];
    for (schema, prop) in [
        ("ClientMetadata", "post_logout_redirect_uris"),
        ("ClientMetadata", "id_token_signed_response_alg"),
        ("ClientMetadata", "client_name"),
        ("AppForm", "post_logout_redirect_uris"),
        ("UserCreate", "picture"),
        ("User", "picture"),
    ] {
        assert!(
            schemas[schema]["properties"][prop].is_object(),
            "{schema}.{prop}"
        );
    }
}
