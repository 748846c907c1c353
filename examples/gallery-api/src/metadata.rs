//! RFC 9728 protected-resource metadata: tells a client which authorization server issues
//! tokens for this API, which scopes exist and how to send the token.

use serde_json::{json, Value};

/// The scopes this API understands (the provider's default catalog).
pub const SCOPES: [&str; 8] = [
    "profile:read",
    "galleries:read",
    "galleries:write",
    "images:read",
    "images:write",
    "stats:read",
    "webhooks:read",
    "webhooks:write",
];

/// The document at `/.well-known/oauth-protected-resource` (RFC 9728 §2 and §3).
pub fn document(resource: &str, issuer: &str) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": SCOPES,
        // RFC 6750 §2.1 only: the token is read from the Authorization header.
        "bearer_methods_supported": ["header"],
        "resource_name": "Gallery API",
    })
}

/// The document of the MCP endpoint (resource `{origin}/mcp`): the scopes its tools need,
/// which MCP clients request all of unless a challenge names one (MCP "Authorization").
pub fn mcp_document(mcp_resource: &str, issuer: &str) -> Value {
    json!({
        "resource": mcp_resource,
        "authorization_servers": [issuer],
        "scopes_supported": crate::mcp::scopes(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Gallery MCP server",
    })
}

/// Where the document is, for `resource_metadata` in challenges (RFC 9728 §5.1).
pub fn url(resource: &str) -> String {
    format!("{resource}{}", crate::routes::METADATA_PATH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_provider_and_the_header_method() {
        let d = document("https://api.example", "https://id.example");
        assert_eq!(d["resource"], "https://api.example");
        assert_eq!(d["authorization_servers"][0], "https://id.example");
        assert_eq!(d["bearer_methods_supported"], json!(["header"]));
        assert_eq!(d["scopes_supported"].as_array().unwrap().len(), 8);
        let m = mcp_document("https://api.example/mcp", "https://id.example");
        assert_eq!(m["resource"], "https://api.example/mcp");
        assert_eq!(m["scopes_supported"].as_array().unwrap().len(), 4);
        assert_eq!(
            url("https://api.example"),
            "https://api.example/.well-known/oauth-protected-resource"
        );
    }
}
