//! The API as an MCP server: `POST /mcp`, Streamable HTTP (MCP 2025-06-18, "Transports"),
//! every JSON-RPC 2.0 request answered with one `application/json` body (no SSE stream, no
//! session: the server keeps nothing between requests).
//!
//! Methods: `initialize`, `ping`, `tools/list`, `tools/call`; notifications and client
//! responses are accepted with `202` and no body. Each tool is an API route and needs that
//! route's scope; a call without it is refused at the HTTP level (`403` with
//! `error="insufficient_scope", scope="..."`, RFC 6750 §3.1), so that a client can ask the
//! user for that scope and retry (MCP "Authorization", scope challenge handling).

use crate::api::{self, Input, Store};
use crate::routes::Route;
use edge_verifier::AccessClaims;
use serde_json::{json, Map, Value};

/// Protocol versions this server speaks; an `initialize` asking for another gets the first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2025-06-18", "2025-11-25", "2025-03-26", "2024-11-05"];

/// What the Worker sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `200` with this JSON-RPC response.
    Json(Value),
    /// `202 Accepted`, no body: a notification or a response (Streamable HTTP §"Sending").
    Accepted,
    /// `400` with this JSON-RPC error response (unparseable or not a request).
    Invalid(Value),
    /// `403 insufficient_scope` naming this scope.
    NeedsScope(&'static str),
}

struct Tool {
    name: &'static str,
    description: &'static str,
    route: Route,
    /// JSON Schema of the arguments.
    input: fn() -> Value,
}

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

fn gallery_arguments() -> Value {
    json!({"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 100},
        "description": {"type": "string", "maxLength": 1000},
        "visibility": {"type": "string", "enum": crate::model::VISIBILITIES}},
        "required": ["name"]})
}

const TOOLS: [Tool; 4] = [
    Tool {
        name: "get_profile",
        description: "Who you are: your account id, the application and the granted scopes",
        route: Route::Me,
        input: no_arguments,
    },
    Tool {
        name: "list_galleries",
        description: "Your photo galleries",
        route: Route::ListGalleries,
        input: no_arguments,
    },
    Tool {
        name: "create_gallery",
        description: "Create a photo gallery (visibility private by default)",
        route: Route::CreateGallery,
        input: gallery_arguments,
    },
    Tool {
        name: "list_images",
        description: "Your images, in all galleries",
        route: Route::ListImages,
        input: no_arguments,
    },
];

/// The scopes the tools need: what the `/mcp` resource metadata advertises.
pub fn scopes() -> Vec<&'static str> {
    TOOLS.iter().filter_map(|t| t.route.scope()).collect()
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Handles one POST body from a caller whose token is already verified (`claims`).
pub async fn handle(
    body: &[u8],
    claims: &AccessClaims,
    now: u64,
    new_id: &dyn Fn() -> String,
    store: &impl Store,
) -> Outcome {
    // JSON-RPC 2.0 §5.1: -32700 parse error, -32600 invalid request (id null).
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return Outcome::Invalid(error(Value::Null, -32700, "Parse error: not JSON"));
    };
    let Some(obj) = message.as_object() else {
        // Batches were removed in MCP 2025-06-18.
        return Outcome::Invalid(error(
            Value::Null,
            -32600,
            "Invalid request: send one JSON-RPC object",
        ));
    };
    let method = obj.get("method").and_then(Value::as_str);
    // JSON-RPC 2.0 §4: an id is a string or a number; MCP ("Messages") also forbids null.
    // Any other id is refused, not taken for a notification that silently does nothing.
    if obj
        .get("id")
        .is_some_and(|v| !(v.is_string() || v.is_number()))
    {
        return Outcome::Invalid(error(
            Value::Null,
            -32600,
            "Invalid request: id must be a string or a number (not null)",
        ));
    }
    let id = obj.get("id");
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Outcome::Invalid(error(
            id.cloned().unwrap_or(Value::Null),
            -32600,
            "Invalid request: jsonrpc must be \"2.0\"",
        ));
    }
    let (Some(method), Some(id)) = (method, id) else {
        // A notification (no id) or a response to us (no method): nothing to answer.
        if method.is_some() || obj.contains_key("result") || obj.contains_key("error") {
            return Outcome::Accepted;
        }
        return Outcome::Invalid(error(Value::Null, -32600, "Invalid request: no method"));
    };
    let id = id.clone();
    let empty = Map::new();
    let params = obj
        .get("params")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match method {
        "initialize" => {
            let asked = params.get("protocolVersion").and_then(Value::as_str);
            let version = asked
                .filter(|v| PROTOCOL_VERSIONS.contains(v))
                .unwrap_or(PROTOCOL_VERSIONS[0]);
            Outcome::Json(result(
                id,
                json!({"protocolVersion": version,
                       "capabilities": {"tools": {"listChanged": false}},
                       "serverInfo": {"name": "gallery-api", "version": env!("CARGO_PKG_VERSION")},
                       "instructions": "Your photo galleries and images."}),
            ))
        }
        "ping" => Outcome::Json(result(id, json!({}))),
        "tools/list" => {
            let tools: Vec<Value> = TOOLS
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": (t.input)()}))
                .collect();
            Outcome::Json(result(id, json!({ "tools": tools })))
        }
        "tools/call" => call(id, params, claims, now, new_id, store).await,
        _ => Outcome::Json(error(id, -32601, &format!("Method not found: {method}"))),
    }
}

async fn call(
    id: Value,
    params: &Map<String, Value>,
    claims: &AccessClaims,
    now: u64,
    new_id: &dyn Fn() -> String,
    store: &impl Store,
) -> Outcome {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let Some(tool) = TOOLS.iter().find(|t| t.name == name) else {
        return Outcome::Json(error(id, -32602, &format!("Unknown tool: {name}")));
    };
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Outcome::Json(error(id, -32602, "arguments must be an object")),
    };
    if let Some(scope) = tool.route.scope().filter(|s| !claims.has_scope(s)) {
        return Outcome::NeedsScope(scope);
    }
    let text = arguments.to_string();
    let input = Input {
        content_type: Some("application/json"),
        body: text.as_bytes(),
        now,
        new_id,
    };
    let reply = api::handle(tool.route, claims, &input, store).await;
    // MCP "Tools": failures of the tool itself are results with isError, for the model to see.
    let failed = reply.status >= 400;
    let shown = match &reply.body["error_description"] {
        Value::String(d) if failed => d.clone(),
        _ => reply.body.to_string(),
    };
    let mut out = json!({"content": [{"type": "text", "text": shown}], "isError": failed});
    if !failed {
        out["structuredContent"] = reply.body;
    }
    Outcome::Json(result(id, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Memory(RefCell<HashMap<String, String>>);

    impl Store for Memory {
        async fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok(self.0.borrow().get(key).cloned())
        }
        async fn put(&self, key: &str, value: &str) -> Result<(), String> {
            self.0.borrow_mut().insert(key.into(), value.into());
            Ok(())
        }
    }

    fn claims(scopes: &[&str]) -> AccessClaims {
        AccessClaims {
            sub: "ann".into(),
            client_id: "https://client.example/meta.json".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            jti: "j".into(),
            exp: 0,
            iat: 0,
            gid: None,
            iat_ms: None,
        }
    }

    fn send(store: &Memory, scopes: &[&str], message: Value) -> Outcome {
        let id = || "g1".to_string();
        block_on(handle(
            message.to_string().as_bytes(),
            &claims(scopes),
            9,
            &id,
            store,
        ))
    }

    fn rpc(method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    }

    #[test]
    fn initialize_echoes_a_known_version_and_offers_tools() {
        let m = Memory::default();
        let Outcome::Json(r) = send(
            &m,
            &[],
            rpc("initialize", json!({"protocolVersion": "2025-03-26"})),
        ) else {
            panic!()
        };
        assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
        assert!(r["result"]["capabilities"]["tools"].is_object());
        let Outcome::Json(r) = send(
            &m,
            &[],
            rpc("initialize", json!({"protocolVersion": "1999"})),
        ) else {
            panic!()
        };
        assert_eq!(r["result"]["protocolVersion"], PROTOCOL_VERSIONS[0]);
    }

    #[test]
    fn notifications_and_responses_are_accepted_without_body() {
        let m = Memory::default();
        let n = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(send(&m, &[], n), Outcome::Accepted);
        let r = json!({"jsonrpc": "2.0", "id": 5, "result": {}});
        assert_eq!(send(&m, &[], r), Outcome::Accepted);
    }

    #[test]
    fn tools_are_listed_with_schemas() {
        let Outcome::Json(r) = send(&Memory::default(), &[], rpc("tools/list", json!({}))) else {
            panic!()
        };
        let names: Vec<&str> = r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "get_profile",
                "list_galleries",
                "create_gallery",
                "list_images"
            ]
        );
        assert_eq!(
            r["result"]["tools"][2]["inputSchema"]["required"],
            json!(["name"])
        );
        assert_eq!(
            scopes(),
            [
                "profile:read",
                "galleries:read",
                "galleries:write",
                "images:read"
            ]
        );
    }

    #[test]
    fn a_tool_call_uses_the_apis_data_and_needs_the_routes_scope() {
        let m = Memory::default();
        let create = rpc(
            "tools/call",
            json!({"name": "create_gallery", "arguments": {"name": "Trips"}}),
        );
        assert_eq!(
            send(&m, &["galleries:read"], create.clone()),
            Outcome::NeedsScope("galleries:write")
        );
        let Outcome::Json(r) = send(&m, &["galleries:write"], create) else {
            panic!()
        };
        assert_eq!(r["result"]["isError"], false);
        assert_eq!(r["result"]["structuredContent"]["name"], "Trips");
        let list = rpc("tools/call", json!({"name": "list_galleries"}));
        let Outcome::Json(r) = send(&m, &["galleries:read"], list) else {
            panic!()
        };
        assert_eq!(r["result"]["structuredContent"]["galleries"][0]["id"], "g1");
        // Invalid arguments are a tool error the model can read, not a protocol error.
        let bad = rpc(
            "tools/call",
            json!({"name": "create_gallery", "arguments": {"name": 5}}),
        );
        let Outcome::Json(r) = send(&m, &["galleries:write"], bad) else {
            panic!()
        };
        assert_eq!(r["result"]["isError"], true);
        assert!(r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("name"));
    }

    #[test]
    fn malformed_messages_get_json_rpc_errors() {
        let m = Memory::default();
        let id = || String::new();
        let parse = block_on(handle(b"{", &claims(&[]), 0, &id, &m));
        assert!(matches!(parse, Outcome::Invalid(ref v) if v["error"]["code"] == -32700));
        let batch = send(&m, &[], json!([rpc("ping", json!({}))]));
        assert!(matches!(batch, Outcome::Invalid(ref v) if v["error"]["code"] == -32600));
        let version = send(
            &m,
            &[],
            json!({"jsonrpc": "1.0", "id": 1, "method": "ping"}),
        );
        assert!(matches!(version, Outcome::Invalid(_)));
        for bad in [json!(null), json!({"x": 1}), json!([1]), json!(true)] {
            let mut call = rpc(
                "tools/call",
                json!({"name": "get_profile", "arguments": {}}),
            );
            call["id"] = bad.clone();
            let r = send(&m, &["profile:read"], call);
            assert!(
                matches!(r, Outcome::Invalid(ref v) if v["error"]["code"] == -32600),
                "id {bad}"
            );
        }
        let Outcome::Json(r) = send(&m, &[], rpc("resources/list", json!({}))) else {
            panic!()
        };
        assert_eq!(r["error"]["code"], -32601);
        let Outcome::Json(r) = send(&m, &[], rpc("tools/call", json!({"name": "rm"}))) else {
            panic!()
        };
        assert_eq!(r["error"]["code"], -32602);
        let args = rpc(
            "tools/call",
            json!({"name": "get_profile", "arguments": [1]}),
        );
        let Outcome::Json(r) = send(&m, &["profile:read"], args) else {
            panic!()
        };
        assert_eq!(r["error"]["code"], -32602);
    }
}
