//! "Try it" pages: the code the callback received, with a form to exchange it, and the token
//! response with the access token's decoded claims.

use super::{escape, hidden_input, page};
use crate::b64::URL_SAFE_NO_PAD as B64;

pub fn code_page(
    client_id: &str,
    code: &str,
    iss: Option<&str>,
    confidential: bool,
    csrf: &str,
) -> String {
    let secret = if confidential {
        "<label for=\"client_secret\">Client secret</label>\
<input type=\"password\" id=\"client_secret\" name=\"client_secret\" autocomplete=\"off\" required>\
<p class=\"muted\">Used for this one exchange only; it is not stored.</p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>Authorization code received</h1><p>Client ID <code>{}</code></p>\
<label for=\"code\">code</label><input type=\"text\" id=\"code\" readonly value=\"{}\">\
<p class=\"muted\">iss: <code>{}</code></p>\
<form method=\"post\" action=\"/developers/callback\">{}{}{secret}<button type=\"submit\">Exchange the code</button></form>",
        escape(client_id),
        escape(code),
        escape(iss.unwrap_or("")),
        hidden_input("csrf_token", csrf),
        hidden_input("code", code),
    );
    page("Try it: code", &body)
}

/// `status` and JSON `body` of the token endpoint's answer; the access token's claims decoded.
pub fn result_page(status: u16, body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let pretty = json
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| body.to_string());
    let claims = json
        .as_ref()
        .and_then(|v| v.get("access_token")?.as_str().map(str::to_string))
        .and_then(|t| claims_of(&t));
    let mut html = format!(
        "<h1>Token response</h1><p>HTTP {status}</p><pre id=\"token-response\">{}</pre>",
        escape(&pretty)
    );
    if let Some(claims) = claims {
        html += &format!(
            "<h2>Access token claims</h2><pre id=\"claims\">{}</pre>",
            escape(&claims)
        );
    }
    html += "<p><a href=\"/developers\">Back to your applications</a></p>";
    page("Try it: tokens", &html)
}

/// The payload of a JWT, pretty-printed (shown, not trusted: no signature check needed here).
fn claims_of(jwt: &str) -> Option<String> {
    let payload = B64.decode(jwt.split('.').nth(1)?).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_claims_and_escapes_everything() {
        let payload = B64.encode(br#"{"sub":"<u1>","scope":"images:read"}"#);
        let body = format!(r#"{{"access_token":"h.{payload}.s","token_type":"Bearer"}}"#);
        let html = result_page(200, &body);
        assert!(html.contains("&quot;sub&quot;: &quot;&lt;u1&gt;&quot;"));
        assert!(html.contains("id=\"claims\""));
        let html = result_page(400, "<not json>");
        assert!(html.contains("&lt;not json&gt;"));
        assert!(!html.contains("id=\"claims\""));
    }

    #[test]
    fn code_page_asks_a_secret_only_from_confidential_clients() {
        assert!(code_page("c", "x\"y", None, true, "t").contains("name=\"client_secret\""));
        let html = code_page("c", "x\"y", None, false, "t");
        assert!(!html.contains("client_secret"));
        assert!(html.contains("value=\"x&quot;y\""));
    }
}
