//! `GET /docs`: the developer documentation of this deployment, generated from its
//! configuration so URLs, scopes and lifetimes are always the ones in force.

use super::{escape, page};
use crate::config::Config;

/// (code, when, what to fix) for every error the OAuth endpoints return.
const ERRORS: &[(&str, &str, &str)] = &[
    ("invalid_request", "a parameter is missing, repeated or malformed, or the body is not form or JSON", "send every required parameter once, as application/x-www-form-urlencoded or JSON"),
    ("invalid_client", "client authentication failed (401)", "check client_id and client_secret; HTTP Basic or the body, not both"),
    ("invalid_grant", "the code or refresh token is unknown, expired, used, or issued to another client; wrong code_verifier or redirect_uri", "start a new authorization; send the verifier and redirect_uri of that request"),
    ("unauthorized_client", "this client may not use this grant or endpoint", "public clients cannot introspect; client_credentials needs a confidential client that registered it in grant_types"),
    ("unsupported_grant_type", "grant_type is not authorization_code, refresh_token or client_credentials", "use one of those"),
    ("invalid_scope", "a scope is unknown, not allowed for the client, or wider than the grant on refresh", "request only catalog scopes registered for the app"),
    ("access_denied", "the user denied consent (sent to redirect_uri)", "let the user try again"),
    ("unsupported_response_type", "response_type is not code", "use response_type=code"),
    ("unsupported_token_type", "revoke: token_type_hint is unknown", "use access_token or refresh_token"),
    ("invalid_target", "resource is not one of this deployment's resources, is malformed, repeated, or not the grant's (RFC 8707)", "send one of the resources below, the one the authorization named"),
    ("server_error", "an internal failure (500)", "retry later"),
];

pub fn render(c: &Config) -> String {
    let u = |p: &str| escape(&c.url(p));
    let (auth, token) = (u("/api/oauth/authorize"), u("/api/oauth/token"));
    let endpoints = [
        ("Authorization", "/api/oauth/authorize"),
        ("Token", "/api/oauth/token"),
        ("Revocation (RFC 7009)", "/api/oauth/revoke"),
        ("Introspection (RFC 7662)", "/api/oauth/introspect"),
        ("Logout", "/api/oauth/logout"),
        (
            "Metadata (RFC 8414)",
            "/.well-known/oauth-authorization-server",
        ),
        ("JWKS", "/.well-known/jwks.json"),
        (
            "OpenID Connect discovery",
            "/.well-known/openid-configuration",
        ),
        (
            "UserInfo (OpenID Connect)",
            crate::endpoints::userinfo::PATH,
        ),
        ("OpenAPI 3.1", "/openapi.json"),
    ];
    let mut rows: String = endpoints
        .iter()
        .map(|(n, p)| format!("<li>{n}: <code>{}</code></li>", u(p)))
        .collect();
    if c.client_metadata_documents != crate::oauth::client_document::Mode::Off {
        rows += "<li>Client ID Metadata Documents: your <code>client_id</code> may be the https URL of a JSON document naming it (<code>client_id</code>, <code>redirect_uris</code>); no registration needed</li>";
    }
    if c.dynamic_registration {
        rows += &format!(
            "<li>Dynamic registration (RFC 7591, public clients): <code>{}</code></li>",
            u("/api/oauth/register")
        );
    }
    let scopes: String = c
        .scopes
        .names()
        .map(|s| {
            let d = c.scopes.description(s).unwrap_or("");
            format!("<li><code>{}</code> {}</li>", escape(s), escape(d))
        })
        .collect();
    let errors: String = ERRORS
        .iter()
        .map(|(e, when, fix)| format!("<li><code>{e}</code>: {when}. Fix: {fix}.</li>"))
        .collect();
    let portal = if c.developer_portal {
        "Register an application in the <a href=\"/developers\">developer portal</a>: you get a client ID and (for a confidential app) a secret, shown once."
    } else {
        "Applications are registered by the platform's administrators."
    };
    let scope1 = escape(c.scopes.names().next().unwrap_or(""));
    let resources = resources_section(c);
    let body = format!(
        "<h1>Developer documentation</h1><p>Issuer <code>{iss}</code></p><p>{portal}</p>\
<h2>Endpoints</h2><ul>{rows}</ul>\
<h2>Scopes</h2><ul>{scopes}</ul>{resources}\
<h2>Authorization code flow with PKCE</h2><ol>\
<li>Make a <code>code_verifier</code> (43-128 random URL-safe characters) and <code>code_challenge</code> = base64url(SHA-256(verifier)), 43 characters. PKCE is required; <code>plain</code> is refused.</li>\
<li>Send the browser to <code>{auth}?response_type=code&amp;client_id=ID&amp;redirect_uri=URI&amp;scope={scope1}&amp;state=STATE&amp;code_challenge=CHALLENGE&amp;code_challenge_method=S256</code>. <code>redirect_uri</code> must equal a registered one exactly.</li>\
<li>The user signs in and consents; the browser returns to <code>redirect_uri?code=..&amp;state=..&amp;iss={iss}</code>. Check <code>state</code> and <code>iss</code>.</li>\
<li>POST the code to <code>{token}</code> with <code>grant_type=authorization_code</code>, <code>code</code>, <code>redirect_uri</code>, <code>code_verifier</code> and client credentials (HTTP Basic or <code>client_id</code>/<code>client_secret</code> in the body; public clients send only <code>client_id</code>).</li>\
<li>Call APIs with <code>Authorization: Bearer ACCESS_TOKEN</code>. Access tokens are JWTs (RFC 9068) verifiable with the JWKS.</li></ol>\
<h2>Lifetimes</h2><ul><li>Access token: {at} s</li><li>Refresh token: {rt} s (rotated on every use; reusing an old one revokes the grant)</li>\
<li>Authorization code: {code} s, single use</li><li>Sign-in session: {st} s</li></ul>\
<h2>Refresh, revoke, introspect, logout</h2>\
<pre>curl -u ID:SECRET -d grant_type=refresh_token -d refresh_token=RT {token}\n\
curl -u ID:SECRET -d token=RT -d token_type_hint=refresh_token {revoke}\n\
curl -u ID:SECRET -d token=AT {introspect}\n\
curl -u ID:SECRET -d grant_type=client_credentials -d scope={scope1} {token}   # machine clients, no user\n\
curl -H 'Authorization: Bearer ADMIN_TOKEN' -d sub=USER {logout}</pre>\
<h2>Errors</h2><p>JSON <code>{{\"error\", \"error_description\"}}</code>, 400 (401 for client authentication):</p><ul>{errors}</ul>\
<h2>Examples</h2><p>curl:</p><pre>curl -u ID:SECRET -d grant_type=authorization_code -d code=CODE \\\n  -d redirect_uri=URI -d code_verifier=VERIFIER {token}</pre>\
<p>Node:</p><pre>const r = await fetch(\"{token}\", {{ method: \"POST\",\n  body: new URLSearchParams({{ grant_type: \"authorization_code\", code, redirect_uri,\n    code_verifier, client_id, client_secret }}) }});\nconst tokens = await r.json();</pre>\
<p>Python:</p><pre>import requests\ntokens = requests.post(\"{token}\", data={{\"grant_type\": \"authorization_code\",\n  \"code\": code, \"redirect_uri\": redirect_uri, \"code_verifier\": verifier}},\n  auth=(client_id, client_secret)).json()</pre>",
        iss = escape(&c.issuer),
        revoke = u("/api/oauth/revoke"),
        introspect = u("/api/oauth/introspect"),
        logout = u("/api/oauth/logout"),
        at = c.access_token_ttl,
        rt = c.refresh_token_ttl,
        code = c.auth_code_ttl,
        st = c.session_ttl,
    );
    let body = body + &super::docs_oidc::section(c);
    page("Developer documentation", &body)
}

/// RFC 8707: the resources clients may name, when the deployment has any.
fn resources_section(c: &Config) -> String {
    if c.resources.is_empty() {
        return String::new();
    }
    let items: String = c
        .resources
        .iter()
        .map(|r| format!("<li><code>{}</code></li>", escape(r)))
        .collect();
    format!(
        "<h2>Resources (RFC 8707)</h2><p>Send <code>resource=URI</code> at authorize (and optionally at the token endpoint) to get tokens whose <code>aud</code> is that API; the grant keeps it for every refresh.</p><ul>{items}</ul>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;

    #[test]
    fn uses_configured_urls_scopes_and_lifetimes() {
        let v = vars(&[
            ("ACCESS_TOKEN_TTL", "900"),
            ("SCOPES", r#"[{"name":"a:read","description":"<Read> a"}]"#),
        ]);
        let c = Config::from_lookup(|k| v.get(k).cloned()).unwrap();
        let html = render(&c);
        assert!(html.contains("<code>http://127.0.0.1:8787/api/oauth/token</code>"));
        assert!(html.contains("<li><code>a:read</code> &lt;Read&gt; a</li>"));
        assert!(html.contains("Access token: 900 s"));
        assert!(html.contains("invalid_grant"));
        assert!(html.contains("scope=a:read"));
        assert!(!html.contains("Resources (RFC 8707)"));
        let v = vars(&[("RESOURCES", r#"["https://api.example/mcp"]"#)]);
        let c = Config::from_lookup(|k| v.get(k).cloned()).unwrap();
        assert!(render(&c).contains("<li><code>https://api.example/mcp</code></li>"));
        assert!(!render(&c).contains("/api/oauth/register"));
        let v = vars(&[("DYNAMIC_REGISTRATION", "open")]);
        let c = Config::from_lookup(|k| v.get(k).cloned()).unwrap();
        assert!(render(&c).contains("/api/oauth/register</code>"));
    }
}
