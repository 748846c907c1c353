//! Validation of `GET /api/oauth/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3).
//!
//! Order matters: until `client_id` and `redirect_uri` are known good, an error is shown as a
//! page and never redirected (§4.1.2.1; no open redirector). After that, errors go back to the
//! client's redirect URI with `error`, `error_description`, `state` and `iss` (RFC 9207).

use super::params::Params;
use super::{pkce, redirect_uri, scope};
use crate::config::Config;
use crate::error::{ErrorCode, OAuthError};
use crate::model::Client;
use crate::store::{clients, Store};

#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub state: Option<String>,
    /// Requested scopes in catalog order; the client's registered scopes when omitted (§3.3).
    pub scopes: Vec<String>,
    pub code_challenge: String,
    /// `prompt=consent`: ask again even when the user already granted these scopes.
    pub force_consent: bool,
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the user as a page; nothing is redirected.
    Page(String),
    /// Sent back to the client (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

pub async fn validate(
    store: &impl Store,
    config: &Config,
    query: &str,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let page = |e: OAuthError| AuthorizeError::Page(e.description);
    // Repeated parameters are refused before anything else; with no trusted redirect URI yet,
    // that is a page.
    let params = Params::from_query(query).map_err(page)?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AuthorizeError::Page("client_id is required".into()))?;
    let client = clients::get(store, client_id)
        .await
        .map_err(page)?
        .ok_or_else(|| AuthorizeError::Page(format!("Unknown client_id {client_id:?}")))?;
    let requested_uri = params
        .get("redirect_uri")
        .ok_or_else(|| AuthorizeError::Page("redirect_uri is required".into()))?;
    if !redirect_uri::matches(&client.redirect_uris, requested_uri) {
        return Err(AuthorizeError::Page(
            "redirect_uri does not match any registered URIs".into(),
        ));
    }

    let state = params.get("state").map(str::to_string);
    let redirect = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: requested_uri.to_string(),
        state: state.clone(),
        error,
    };
    match params.get("response_type") {
        Some("code") => {}
        None => {
            return Err(redirect(OAuthError::invalid_request(
                "response_type is required",
            )))
        }
        Some(other) => {
            return Err(redirect(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other:?} is not supported; use \"code\""),
            )))
        }
    }
    let code_challenge = params.get("code_challenge").ok_or_else(|| {
        redirect(OAuthError::invalid_request(
            "code_challenge is required (PKCE with S256)",
        ))
    })?;
    // RFC 7636 §4.3: an absent method means "plain", which we refuse.
    if params.get("code_challenge_method") != Some("S256") {
        return Err(redirect(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )));
    }
    pkce::validate_challenge(code_challenge)
        .map_err(|e| redirect(OAuthError::invalid_request(e)))?;
    let scopes = requested_scopes(&params, &client, config).map_err(redirect)?;

    Ok(AuthorizeRequest {
        redirect_uri: requested_uri.to_string(),
        state: state.clone(),
        scopes,
        code_challenge: code_challenge.to_string(),
        force_consent: params
            .get("prompt")
            .is_some_and(|p| p.split(' ').any(|v| v == "consent")),
        client,
    })
}

fn requested_scopes(
    params: &Params,
    client: &Client,
    config: &Config,
) -> Result<Vec<String>, OAuthError> {
    let Some(text) = params.get("scope") else {
        return Ok(client.scopes.clone());
    };
    let requested = scope::parse_scope(text).map_err(OAuthError::invalid_scope)?;
    if requested.is_empty() {
        return Ok(client.scopes.clone());
    }
    if let Some(unknown) = requested.iter().find(|s| !config.scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "Unknown scope {unknown:?}"
        )));
    }
    if let Some(denied) = requested.iter().find(|s| !client.scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "This client may not request scope {denied:?}"
        )));
    }
    Ok(config.scopes.in_catalog_order(&requested))
}

/// The redirect back to the client: `redirect_uri` plus `params`, `state` and `iss`
/// (RFC 9207 §2), keeping any query the registered URI already had.
pub fn redirect_url(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut url = redirect_uri.to_string();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", issuer);
    url.push(if redirect_uri.contains('?') { '&' } else { '?' });
    url.push_str(&query.finish());
    url
}

/// The error redirect for `error` (RFC 6749 §4.1.2.1).
pub fn error_redirect_url(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> String {
    redirect_url(
        redirect_uri,
        &[
            ("error", error.code.as_str()),
            ("error_description", &error.description),
        ],
        state,
        issuer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_url_appends_to_existing_query_and_encodes() {
        let u = redirect_url(
            "https://a.example/cb?x=1",
            &[("code", "c d")],
            Some("s&t"),
            "http://127.0.0.1:8787",
        );
        assert_eq!(
            u,
            "https://a.example/cb?x=1&code=c+d&state=s%26t&iss=http%3A%2F%2F127.0.0.1%3A8787"
        );
        let u = redirect_url(
            "https://a.example/cb",
            &[("code", "c")],
            None,
            "https://i.example",
        );
        assert_eq!(u, "https://a.example/cb?code=c&iss=https%3A%2F%2Fi.example");
    }
}
