//! The one error type of the provider, and the one place it becomes an HTTP response.
//!
//! Endpoints return `Result<Response, OAuthError>`; they never build error JSON by hand.
//! `description` is public and tells a developer what to fix; `debug` is private (logs only)
//! and must never hold secrets.

use crate::http::Response;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    // RFC 6749 §4.1.2.1 and §5.2
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
    // RFC 7009 §2.2.1
    UnsupportedTokenType,
    // RFC 8707 §2: a `resource` this server does not issue tokens for
    InvalidTarget,
    // RFC 7591 §3.2.2
    InvalidRedirectUri,
    InvalidClientMetadata,
    // RFC 6750 §3.1, used by the admin API's bearer credential and the userinfo endpoint
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks the scope the request needs (403; userinfo).
    InsufficientScope,
    // OpenID Connect Core §3.1.2.6 (sent to the client's redirect URI)
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    // Plain HTTP conditions, with the same JSON shape
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    /// RFC 6585 §4: too many failed attempts from one address (429 with `Retry-After`).
    TooManyRequests,
    /// The resource already exists (an admin creating a taken email): 409 with the
    /// RFC 6749-style `invalid_request` code, so clients need not learn a new one.
    Conflict,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "invalid_request",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Conflict => "invalid_request",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::AccessDenied | ErrorCode::InsufficientScope => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// Private detail for logs; never sent to the client.
    pub debug: Option<String>,
    /// Whether the response may be read cross-origin (token endpoint, for browser clients).
    pub cors: bool,
}

/// `Retry-After` of a `503 temporarily_unavailable`: storage faults pass within a second or two
/// (KV's one write per key per second, a Durable Object restarting).
pub const RETRY_AFTER_SECONDS: &str = "1";

/// Longest `error_description` sent; longer ones (quoting long input) are cut.
pub const MAX_DESCRIPTION_CHARS: usize = 300;

/// Whether RFC 6749 §4.1.2.1 / §5.2 allow `b` in `error_description`:
/// `%x20-21 / %x23-5B / %x5D-7E` (printable ASCII but `"` and `\`).
fn is_description_byte(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// `text` made a valid `error_description`: `"` becomes `'`, `\\` becomes `/`, any other
/// character outside the allowed set `?`, and it is cut at [`MAX_DESCRIPTION_CHARS`].
pub fn safe_description(text: &str) -> String {
    sanitized(text, MAX_DESCRIPTION_CHARS)
}

/// Input quoted inside a description: `'value'`, at most 64 characters of it.
pub fn quoted(input: &str) -> String {
    format!("'{}'", sanitized(input, 64))
}

fn sanitized(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    for (n, c) in text.chars().enumerate() {
        if n == max_chars {
            // Every character written is ASCII: bytes and characters agree.
            out.truncate(max_chars.saturating_sub(3));
            out.push_str("...");
            break;
        }
        out.push(match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii() && is_description_byte(c as u8) => c,
            _ => '?',
        });
    }
    out
}

impl OAuthError {
    /// The one constructor: the description is made safe for `error_description` here.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: safe_description(&description.into()),
            debug: None,
            cors: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidRequest, description)
    }

    /// RFC 6749 §5.2: client authentication failed. One message for every cause, so the
    /// response does not tell an attacker which half was wrong.
    pub fn invalid_client() -> OAuthError {
        OAuthError::new(
            ErrorCode::InvalidClient,
            "Invalid client_id or client_secret",
        )
    }

    pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidScope, description)
    }

    pub fn not_found(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::NotFound, description)
    }

    /// Storage could not be reached or refused the call: `503 temporarily_unavailable` with
    /// `Retry-After` (the one mapping of storage faults; never a 500, never the client's fault).
    pub fn unavailable(debug: impl Into<String>) -> OAuthError {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "The authorization server is briefly unavailable; retry the request in a moment",
        )
        .with_debug(debug)
    }

    /// An internal failure. The client sees a generic message; `debug` goes to the log.
    pub fn server(debug: impl Into<String>) -> OAuthError {
        OAuthError {
            code: ErrorCode::ServerError,
            description: "The server could not complete the request".into(),
            debug: Some(debug.into()),
            cors: false,
        }
    }

    pub fn with_debug(mut self, debug: impl Into<String>) -> OAuthError {
        self.debug = Some(debug.into());
        self
    }

    pub fn with_cors(mut self) -> OAuthError {
        self.cors = true;
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The RFC 6749 §5.2 JSON response, with the status and headers this error calls for.
    pub fn to_response(&self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            error_description: &'a str,
        }
        let mut response = Response::json(
            self.status(),
            &Body {
                error: self.code.as_str(),
                error_description: &safe_description(&self.description),
            },
        )
        .no_store();
        if self.cors {
            response = response.with_header("access-control-allow-origin", "*");
        }
        match self.code {
            // RFC 6749 §5.2: 401 for a failed client authentication carries a challenge.
            ErrorCode::InvalidClient => {
                response = response.with_header("www-authenticate", "Basic realm=\"edge-oauth\"");
            }
            // RFC 6750 §3: the admin API's bearer credential was missing or wrong.
            ErrorCode::InvalidToken => {
                response = response.with_header(
                    "www-authenticate",
                    "Bearer realm=\"edge-oauth-admin\", error=\"invalid_token\"",
                );
            }
            // RFC 9110 §10.2.3: storage refused or failed; nothing of this request needs to
            // be undone, and a retry a moment later usually succeeds.
            ErrorCode::TemporarilyUnavailable => {
                response = response.with_header("retry-after", RETRY_AFTER_SECONDS);
            }
            // RFC 9110 §10.2.3: the throttle's window, an upper bound on the wait.
            ErrorCode::TooManyRequests => {
                response = response.with_header(
                    "retry-after",
                    &crate::oauth::throttle::WINDOW_SECONDS.to_string(),
                );
            }
            _ => {}
        }
        response
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_faults_are_503_with_retry_after() {
        for e in [
            crate::store::StoreError("KV GET failed: 503 Service Unavailable".into()),
            crate::store::StoreError("KV PUT failed: 429 Too Many Requests".into()),
            crate::store::StoreError("Network connection lost.".into()),
        ] {
            let r = OAuthError::from(e.clone()).to_response();
            assert_eq!(r.status, 503, "{e:?}");
            assert_eq!(r.header("retry-after"), Some(RETRY_AFTER_SECONDS), "{e:?}");
            let body = String::from_utf8(r.body.clone()).unwrap();
            assert!(body.contains("temporarily_unavailable"), "{body}");
            assert!(!body.contains("KV"), "the detail stays in the log: {body}");
        }
        let cursor = crate::store::StoreError("KV list failed: 400 Invalid cursor".into());
        assert_eq!(
            OAuthError::from(cursor).status(),
            400,
            "a made-up cursor is the caller's"
        );
    }

    #[test]
    fn invalid_client_is_401_with_basic_challenge() {
        let r = OAuthError::invalid_client().to_response();
        assert_eq!(r.status, 401);
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(
            body["error_description"],
            "Invalid client_id or client_secret"
        );
    }

    #[test]
    fn server_error_hides_debug_detail() {
        let r = OAuthError::server("kv put failed for key client:abc").to_response();
        assert_eq!(r.status, 500);
        let text = String::from_utf8(r.body).unwrap();
        assert!(!text.contains("client:abc"));
    }

    #[test]
    fn oversized_body_is_413_invalid_request() {
        let r = OAuthError::new(ErrorCode::PayloadTooLarge, "too big").to_response();
        assert_eq!(r.status, 413);
        assert!(String::from_utf8(r.body)
            .unwrap()
            .contains("invalid_request"));
    }

    #[test]
    fn conflict_is_409_invalid_request() {
        let r = OAuthError::new(ErrorCode::Conflict, "email taken").to_response();
        assert_eq!(r.status, 409);
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_description"], "email taken");
        assert!(r.header("www-authenticate").is_none());
    }

    #[test]
    fn error_descriptions_hold_only_the_characters_rfc_6749_allows() {
        let hostile = "scope nope\"\\x caf\u{e9} \u{1f600}\r\n\t\u{0}end";
        let e = OAuthError::invalid_scope(format!("{} is not a valid scope", quoted(hostile)));
        let mut raw = e.clone();
        raw.description = hostile.to_string(); // even if a caller writes the field directly
        for err in [e, raw] {
            let body: serde_json::Value = serde_json::from_slice(&err.to_response().body).unwrap();
            let text = body["error_description"].as_str().unwrap();
            assert!(text.bytes().all(is_description_byte), "{text:?}");
            assert!(text.contains("nope'/x"), "{text:?}");
        }
        assert_eq!(quoted("a\"b"), "'a'b'");
        let long = safe_description(&"x".repeat(10_000));
        assert_eq!(long.len(), MAX_DESCRIPTION_CHARS);
        assert!(long.ends_with("..."));
    }

    #[test]
    fn errors_are_not_cached() {
        let r = OAuthError::invalid_request("x").to_response();
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
}
