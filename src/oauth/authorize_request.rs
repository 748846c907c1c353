//! Validation of `GET /api/oauth/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3).
//!
//! Order matters: until `client_id` and `redirect_uri` are known good, an error is shown as a
//! page and never redirected (§4.1.2.1; no open redirector). After that, errors go back to the
//! client's redirect URI with `error`, `error_description`, `state` and `iss` (RFC 9207).

use super::params::Params;
use super::{client_document, pkce, redirect_uri, resource, scope};
use crate::config::Config;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::model::Client;
use crate::store::{clients, Store};

#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    /// `state` as received, still form-urlencoded (see [`raw_state`]).
    pub state: Option<String>,
    /// Requested scopes in catalog order; the client's registered scopes when omitted (§3.3).
    pub scopes: Vec<String>,
    pub code_challenge: String,
    /// `prompt=consent`: ask again even when the user already granted these scopes.
    pub force_consent: bool,
    /// OpenID Connect `prompt`, `max_age`, `login_hint` (`oidc::prompt`).
    pub interaction: super::oidc::prompt::Interaction,
    /// OpenID Connect `nonce` (Core §3.1.2.1), byte-exact, for the ID token.
    pub nonce: Option<String>,
    /// RFC 8707 `resource`, one of `RESOURCES`: the API the tokens will be for.
    pub resource: Option<String>,
}

impl AuthorizeRequest {
    /// Whether a remembered consent may answer this request without showing the page.
    ///
    /// RFC 8252 §8.6: without proof of the client's identity, a request is processed as if
    /// nothing had been approved before. A loopback or custom-scheme redirect URI can be
    /// claimed by any program on the device, and a public client has no secret, so anyone can
    /// start such a request with their own PKCE challenge and collect the code. An `https`
    /// redirect URI is bound to its site, and a confidential client must also authenticate.
    pub fn may_skip_consent(&self) -> bool {
        !self.force_consent
            && (self.client.is_confidential() || self.redirect_uri.starts_with("https://"))
    }
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the user as a page; nothing is redirected.
    Page(String),
    /// Storage failed while validating (reading the client): the server's fault, not the
    /// client's, so neither a page blaming the request nor a redirect.
    Unavailable(OAuthError),
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
    let params = Params::from_query_allowing(query, resource::REPEATABLE).map_err(page)?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AuthorizeError::Page("client_id is required".into()))?;
    let client = if client_document::is_document_id(client_id) {
        document_client(store, config, client_id).await?
    } else {
        clients::get(store, client_id)
            .await
            .map_err(AuthorizeError::Unavailable)?
            .ok_or_else(|| {
                AuthorizeError::Page(format!("Unknown client_id {}", quoted(client_id)))
            })?
    };
    let requested_uri = params
        .get("redirect_uri")
        .ok_or_else(|| AuthorizeError::Page("redirect_uri is required".into()))?;
    if !redirect_uri::matches(&client.redirect_uris, requested_uri) {
        return Err(AuthorizeError::Page(
            "redirect_uri does not match any registered URIs".into(),
        ));
    }

    let state = raw_state(query);
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
                format!("response_type {} is not supported; use code", quoted(other)),
            )))
        }
    }
    // OAuth 2.0 Multiple Response Types §2.1: the answer goes in the query, the only mode
    // offered (`response_modes_supported`); a client asking for another would look for its
    // code elsewhere (form_post) or leak it in a fragment, so it is told instead.
    if let Some(mode) = params.get("response_mode").filter(|m| *m != "query") {
        return Err(redirect(OAuthError::invalid_request(format!(
            "response_mode {} is not supported; use query",
            quoted(mode)
        ))));
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
    let interaction = super::oidc::prompt::parse(&params).map_err(redirect)?;
    let nonce = params.get("nonce").map(str::to_string);
    if let Some(n) = &nonce {
        check_nonce(n).map_err(|e| redirect(OAuthError::invalid_request(e)))?;
    }
    let resource = resource::requested(&params, config).map_err(redirect)?;

    Ok(AuthorizeRequest {
        nonce,
        redirect_uri: requested_uri.to_string(),
        state: state.clone(),
        scopes,
        code_challenge: code_challenge.to_string(),
        force_consent: interaction.consent,
        interaction,
        resource,
        client,
    })
}

/// Longest `nonce` kept: it travels inside the code and the grant records and every ID token.
pub const MAX_NONCE_LEN: usize = 512;

/// OIDC Core §3.1.2.1 leaves the nonce's form to the client; it is echoed byte-exact in a JSON
/// string, so only its size and control characters are limited.
fn check_nonce(nonce: &str) -> Result<(), &'static str> {
    if nonce.chars().count() > MAX_NONCE_LEN {
        return Err("nonce is longer than 512 characters");
    }
    if nonce.chars().any(char::is_control) {
        return Err("nonce contains a control character");
    }
    Ok(())
}

/// A URL `client_id`: its metadata document as the Worker fetched it. Every refusal (a URL
/// that may not be fetched, a document that failed) is a page, never a redirect: no redirect
/// URI can be trusted without the document.
async fn document_client(
    store: &impl Store,
    config: &Config,
    url: &str,
) -> Result<Client, AuthorizeError> {
    client_document::check_url(url, config.client_metadata_documents)
        .map_err(AuthorizeError::Page)?;
    match client_document::cached(store, url)
        .await
        .map_err(AuthorizeError::Unavailable)?
    {
        Some(Ok(client)) => Ok(client),
        Some(Err(reason)) => Err(AuthorizeError::Page(reason)),
        None => Err(AuthorizeError::Page(
            "The client metadata document could not be fetched".into(),
        )),
    }
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
            "Unknown scope {}",
            quoted(unknown)
        )));
    }
    if let Some(denied) = requested.iter().find(|s| !client.scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "This client may not request scope {}",
            quoted(denied)
        )));
    }
    Ok(config.scopes.in_catalog_order(&requested))
}

/// `state` exactly as the client sent it, still form-urlencoded: RFC 6749 §4.1.2 returns "the
/// exact value received", and decoding to text would turn bytes that are not UTF-8 into
/// U+FFFD. Characters that cannot stand in a `Location` header (a browser would have
/// percent-encoded them) are percent-encoded, which decodes to the same bytes. Empty counts as
/// absent, like any parameter.
fn raw_state(query: &str) -> Option<String> {
    let raw = query.split('&').find_map(|pair| {
        // The name as `Params` reads it (decoded), the value as received.
        let (name, _) = form_urlencoded::parse(pair.as_bytes()).next()?;
        (name == "state").then(|| pair.split_once('=').map_or("", |(_, v)| v))
    })?;
    if raw.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if escape || b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/?".contains(&b) {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    Some(out)
}

/// The redirect back to the client: `redirect_uri` plus `params`, `state` (already encoded,
/// as received) and `iss` (RFC 9207 §2), keeping any query the registered URI already had.
pub fn redirect_url(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let encode = |pairs: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let mut parts = vec![encode(params)];
    if let Some(state) = state {
        parts.push(format!("state={state}"));
    }
    parts.push(encode(&[("iss", issuer)]));
    parts.retain(|p| !p.is_empty());
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", parts.join("&"))
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
            Some("s%26t"),
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

    #[test]
    fn state_comes_back_byte_exact_as_received() {
        let cases = [
            ("state=af0ifjsldkj", Some("af0ifjsldkj")),
            ("a=1&state=%FF%FEx&b=2", Some("%FF%FEx")),
            ("state=%ff", Some("%ff")),
            ("state=a+b%20c", Some("a+b%20c")),
            ("st%61te=x", Some("x")),
            ("state=", None),
            ("other=1", None),
            // Characters a browser would have encoded are encoded, to the same bytes.
            ("state=a\"b<%zz%4", Some("a%22b%3C%25zz%254")),
            ("state=caf\u{e9}", Some("caf%C3%A9")),
        ];
        for (query, want) in cases {
            assert_eq!(raw_state(query).as_deref(), want, "{query}");
        }
        let u = redirect_url(
            "https://a.example/cb",
            &[],
            Some("%FF"),
            "https://i.example",
        );
        assert_eq!(
            u,
            "https://a.example/cb?state=%FF&iss=https%3A%2F%2Fi.example"
        );
    }
}
