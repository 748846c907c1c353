//! RFC 8707 resource indicators: which API an access token is for.
//!
//! A client names at most one `resource` (an absolute URI without fragment, RFC 8707 §2)
//! at authorize and at the token endpoint; it must be one of the configured `RESOURCES`,
//! compared as exact strings. The token's `aud` is then that resource, and the grant keeps
//! it: a later token or refresh request without `resource` gets the grant's, one naming
//! another is refused with `invalid_target`. A grant without a resource gives tokens for
//! `ACCESS_TOKEN_AUDIENCE`, as before resource indicators.

use crate::config::Config;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::oauth::params::Params;

/// Parameters that may repeat in the parsing step, so that two `resource` values get
/// RFC 8707's `invalid_target` instead of a generic "repeated" error.
pub const REPEATABLE: &[&str] = &["resource"];

/// RFC 8707 §2: "MUST be an absolute URI ... MUST NOT include a fragment component".
pub fn is_resource_uri(uri: &str) -> bool {
    !uri.contains('#') && crate::weburl::parse(uri).is_ok()
}

fn invalid_target(message: String) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, message)
}

/// The request's `resource`, checked against the configuration: `None` when absent.
pub fn requested(params: &Params, config: &Config) -> Result<Option<String>, OAuthError> {
    let values = params.all("resource");
    let Some(first) = values.first() else {
        return Ok(None);
    };
    if values.len() > 1 {
        return Err(invalid_target(
            "At most one resource may be requested".into(),
        ));
    }
    if !is_resource_uri(first) {
        return Err(invalid_target(format!(
            "resource {} must be an absolute URI without fragment",
            quoted(first)
        )));
    }
    if !config.resources.iter().any(|r| r == first) {
        return Err(invalid_target(format!(
            "resource {} is not served by this authorization server",
            quoted(first)
        )));
    }
    Ok(Some(first.to_string()))
}

/// A token request's `resource` against the grant's: absent means the grant's; present, it
/// must be the grant's (RFC 8707 §2.2: the grant was authorized for that resource only).
pub fn matches_grant(requested: Option<&str>, granted: Option<&str>) -> bool {
    requested.is_none() || requested == granted
}

/// The `aud` of an access token for a grant with `resource`.
pub fn audience<'a>(resource: Option<&'a str>, config: &'a Config) -> &'a str {
    resource.unwrap_or(&config.access_token_audience)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;

    fn config() -> Config {
        let v = vars(&[(
            "RESOURCES",
            r#"["https://api.example/mcp","https://api.example"]"#,
        )]);
        Config::from_lookup(|k| v.get(k).cloned()).unwrap()
    }

    fn params(query: &str) -> Params {
        Params::new(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            REPEATABLE,
        )
        .unwrap()
    }

    #[test]
    fn a_configured_resource_is_taken_as_is() {
        let c = config();
        let got = requested(&params("resource=https%3A%2F%2Fapi.example%2Fmcp"), &c);
        assert_eq!(got.unwrap().as_deref(), Some("https://api.example/mcp"));
        assert_eq!(requested(&params("x=1"), &c).unwrap(), None);
        assert_eq!(requested(&params("resource="), &c).unwrap(), None);
    }

    #[test]
    fn anything_else_is_invalid_target() {
        let c = config();
        for query in [
            // Not configured (exact match: no trailing slash, no case folding).
            "resource=https%3A%2F%2Fapi.example%2F",
            "resource=https%3A%2F%2FAPI.example%2Fmcp",
            "resource=https%3A%2F%2Fother.example",
            // Malformed.
            "resource=%2Fmcp",
            "resource=https%3A%2F%2Fapi.example%2Fmcp%23frag",
            // Two.
            "resource=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Fapi.example%2Fmcp",
        ] {
            let e = requested(&params(query), &c).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidTarget, "{query}");
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn token_requests_keep_to_the_grants_resource() {
        assert!(matches_grant(None, Some("https://a")));
        assert!(matches_grant(None, None));
        assert!(matches_grant(Some("https://a"), Some("https://a")));
        assert!(!matches_grant(Some("https://a"), Some("https://b")));
        assert!(!matches_grant(Some("https://a"), None));
        let c = config();
        assert_eq!(audience(None, &c), "http://127.0.0.1:8787");
        assert_eq!(
            audience(Some("https://api.example"), &c),
            "https://api.example"
        );
    }
}
