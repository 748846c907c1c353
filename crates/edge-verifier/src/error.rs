//! Why a request was refused, and how to say it (RFC 6750 §3).
//!
//! One value per outcome; [`AuthError::response`] turns it into the status, the
//! `WWW-Authenticate` challenge and a JSON body shaped like the provider's errors
//! (`{"error": ..., "error_description": ...}`).

use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` credential. RFC 6750 §3.1: the challenge carries no error
    /// code (the client may not have known authentication was needed).
    MissingToken,
    /// `Authorization: Bearer` with nothing usable after it (§3.1 `invalid_request`, 400).
    InvalidRequest(String),
    /// Malformed, badly signed, expired, foreign or revoked token (§3.1 `invalid_token`, 401).
    InvalidToken(String),
    /// A valid token without every scope the route needs (§3.1 `insufficient_scope`, 403);
    /// holds the required scopes, space-separated.
    InsufficientScope(String),
    /// The token cannot be checked now (JWKS or revocation list unreachable): 503, and the
    /// request is refused (fail closed). The text is for logs only.
    Unavailable(String),
}

/// A refusal ready to send: status, headers and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl AuthError {
    pub fn status(&self) -> u16 {
        match self {
            AuthError::MissingToken | AuthError::InvalidToken(_) => 401,
            AuthError::InvalidRequest(_) => 400,
            AuthError::InsufficientScope(_) => 403,
            AuthError::Unavailable(_) => 503,
        }
    }

    /// The RFC 6750 error code, `None` when the request carried no token.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            AuthError::MissingToken => None,
            AuthError::InvalidRequest(_) => Some("invalid_request"),
            AuthError::InvalidToken(_) => Some("invalid_token"),
            AuthError::InsufficientScope(_) => Some("insufficient_scope"),
            AuthError::Unavailable(_) => Some("temporarily_unavailable"),
        }
    }

    /// What the client is told; never holds the token or a private detail.
    pub fn description(&self) -> String {
        match self {
            AuthError::MissingToken => {
                "An access token is required: send it as Authorization: Bearer <token>".into()
            }
            AuthError::InvalidRequest(d) | AuthError::InvalidToken(d) => d.clone(),
            AuthError::InsufficientScope(scope) => {
                format!("The access token lacks the scope this request needs: {scope}")
            }
            AuthError::Unavailable(_) => {
                "The access token cannot be checked right now; try again shortly".into()
            }
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3), with `resource_metadata` (RFC 9728 §5.1)
    /// when the resource publishes metadata. `None` for 503, which is no authentication failure.
    pub fn challenge(&self, realm: &str, resource_metadata: Option<&str>) -> Option<String> {
        if matches!(self, AuthError::Unavailable(_)) {
            return None;
        }
        let mut out = format!("Bearer realm=\"{}\"", quoted(realm));
        if let Some(code) = self.code() {
            out.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quoted(&self.description())
            ));
        }
        if let AuthError::InsufficientScope(scope) = self {
            out.push_str(&format!(", scope=\"{}\"", quoted(scope)));
        }
        if let Some(url) = resource_metadata {
            out.push_str(&format!(", resource_metadata=\"{}\"", quoted(url)));
        }
        Some(out)
    }

    /// Status, headers and body for this refusal.
    pub fn response(&self, realm: &str, resource_metadata: Option<&str>) -> ErrorResponse {
        let error = match self {
            // The provider's shape always has `error`; RFC 6750 gives no code for this case.
            AuthError::MissingToken => "unauthorized",
            other => other.code().unwrap_or("unauthorized"),
        };
        let body = json!({"error": error, "error_description": self.description()}).to_string();
        let mut headers = vec![
            ("content-type", "application/json".to_string()),
            ("cache-control", "no-store".to_string()),
        ];
        if let Some(challenge) = self.challenge(realm, resource_metadata) {
            headers.push(("www-authenticate", challenge));
        }
        if matches!(self, AuthError::Unavailable(_)) {
            headers.push((
                "retry-after",
                crate::jwks::FETCH_FAILURE_BACKOFF.to_string(),
            ));
        }
        ErrorResponse {
            status: self.status(),
            headers,
            body,
        }
    }
}

/// RFC 6750 §3: attribute values are quoted strings limited to %x20-21 / %x23-5B / %x5D-7E,
/// so `"`, `\` and anything outside printable ASCII are replaced.
fn quoted(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: Option<&str> = Some("https://api.example/.well-known/oauth-protected-resource");

    #[test]
    fn missing_token_challenge_has_realm_and_no_error_code() {
        let r = AuthError::MissingToken.response("gallery", META);
        assert_eq!(r.status, 401);
        let challenge = &r
            .headers
            .iter()
            .find(|h| h.0 == "www-authenticate")
            .unwrap()
            .1;
        assert_eq!(
            challenge,
            "Bearer realm=\"gallery\", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\""
        );
        assert!(!challenge.contains("error="));
    }

    #[test]
    fn invalid_token_names_code_and_description_in_header_and_body() {
        let e = AuthError::InvalidToken("The access token expired".into());
        let r = e.response("gallery", None);
        assert_eq!(r.status, 401);
        let challenge = e.challenge("gallery", None).unwrap();
        assert_eq!(
            challenge,
            "Bearer realm=\"gallery\", error=\"invalid_token\", error_description=\"The access token expired\""
        );
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["error_description"], "The access token expired");
        assert!(r.headers.contains(&("cache-control", "no-store".into())));
    }

    #[test]
    fn insufficient_scope_is_403_with_the_required_scope() {
        let e = AuthError::InsufficientScope("galleries:write".into());
        assert_eq!(e.status(), 403);
        let challenge = e.challenge("r", None).unwrap();
        assert!(challenge.contains("error=\"insufficient_scope\""));
        assert!(
            challenge.ends_with("scope=\"galleries:write\""),
            "{challenge}"
        );
    }

    #[test]
    fn unavailable_is_503_without_a_challenge_and_hides_the_detail() {
        let r = AuthError::Unavailable("KV get failed: secret detail".into()).response("r", META);
        assert_eq!(r.status, 503);
        assert!(r.headers.iter().all(|h| h.0 != "www-authenticate"));
        assert!(!r.body.contains("secret detail"));
    }

    #[test]
    fn quotes_and_non_ascii_cannot_break_the_header() {
        let e = AuthError::InvalidToken("bad \"kid\" \\ é\r\n".into());
        let challenge = e.challenge("re\"alm", None).unwrap();
        assert!(challenge.starts_with("Bearer realm=\"re'alm\""));
        assert!(challenge.contains("bad 'kid' ' ???"), "{challenge}");
    }

    #[test]
    fn invalid_request_is_400() {
        assert_eq!(AuthError::InvalidRequest("x".into()).status(), 400);
    }
}
