//! Client ID Metadata Documents (the MCP way for a client to identify itself): a `client_id`
//! that is an `https` URL names a JSON document, fetched by the provider, that describes the
//! client (the MCP authorization spec's recommended way; draft-ietf-oauth-client-id-metadata-
//! document). Here: which URLs may be fetched (SSRF refusals), what a document must hold, how
//! long it is cached, and the cache in KV. The fetch itself is the Worker's
//! (`worker::document`): before a request that names a URL `client_id` (authorize, token,
//! revoke) it fetches the document unless a copy is cached, so a cached document costs one KV
//! read and no write per flow. Such a client is public, unverified, and cannot be deleted.

use crate::error::OAuthError;
use crate::model::{AuthMethod, Client};
use crate::oauth::client_metadata as meta;
use crate::oauth::scope::ScopeCatalog;
use crate::store::{keys, Store};
use serde_json::Value;

/// `CLIENT_METADATA_DOCUMENTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Off,
    On,
    /// Development: also `http` on `127.0.0.1`, `localhost`, `[::1]`, any port.
    Loopback,
}

/// Largest document read (from the stream; the rest is never read).
pub const MAX_BYTES: usize = 5 * 1024;
/// Longest a fetch may take.
pub const TIMEOUT_MS: u64 = 5_000;
/// Cache bounds of a good document, and the life of a remembered failure.
pub const MIN_CACHE: u64 = 300;
pub const MAX_CACHE: u64 = 86_400;
pub const FAILURE_CACHE: u64 = 60;

/// Whether `client_id` is a URL (and so names a document) rather than a registered id.
pub fn is_document_id(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// Why a document URL is refused before any fetch (each becomes a 400 error page).
pub fn check_url(url: &str, mode: Mode) -> Result<(), String> {
    if mode == Mode::Off {
        return Err(
            "This server does not accept URL client_ids (client metadata documents)".into(),
        );
    }
    if url.contains('#') {
        return Err("A client_id URL must not have a fragment".into());
    }
    let parsed = crate::weburl::parse(url).map_err(|e| format!("client_id is not a URL: {e}"))?;
    if parsed.href != url {
        return Err("client_id must be a URL in canonical form".into());
    }
    if !parsed.username.is_empty() || parsed.password.is_some() {
        return Err("A client_id URL must not carry credentials".into());
    }
    let host = parsed.host.as_deref().unwrap_or("");
    // A fully qualified name (`localhost.`, `a.localhost.`) would slip past the names below.
    if host.ends_with('.') {
        return Err("A client_id URL must name its host without a trailing dot".into());
    }
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or("");
    let path = &after_scheme[authority.len()..];
    if path.len() <= 1 {
        return Err("A client_id URL must have a path".into());
    }
    match parsed.scheme.as_str() {
        "http" if mode == Mode::Loopback && loopback => return Ok(()),
        "https" => {}
        _ => return Err("A client_id URL must use https".into()),
    }
    if loopback || host == "localhost" || host.ends_with(".localhost") {
        return Err("A client_id URL must not name this machine (localhost)".into());
    }
    if is_ip_literal(host) {
        return Err("A client_id URL must name a host, not an IP address".into());
    }
    // The canonical form drops :443; any other port remains in the authority.
    if authority.contains(':') {
        return Err("A client_id URL must use the default https port (443)".into());
    }
    Ok(())
}

fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Reads a fetched document into a public, unverified client: `client_id` equal to the URL,
/// `redirect_uris` required (the admin API's rules), `token_endpoint_auth_method` absent or
/// `none`, scopes the document's within the catalog, else the catalog.
pub fn parse(url: &str, body: &[u8], catalog: &ScopeCatalog, now: u64) -> Result<Client, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "The client metadata document is not JSON".to_string())?;
    let doc = value
        .as_object()
        .ok_or("The client metadata document is not a JSON object")?;
    if doc.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err("The client metadata document's client_id is not its URL".into());
    }
    match doc.get("token_endpoint_auth_method") {
        None => {}
        Some(Value::String(m)) if m == "none" => {}
        Some(_) => return Err("A client metadata document describes a public client (token_endpoint_auth_method none)".into()),
    }
    let uris: Vec<String> = match doc.get("redirect_uris").and_then(Value::as_array) {
        // Every entry a string: a document with a malformed entry is refused, not trimmed.
        Some(list) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or("The client metadata document's redirect_uris must all be strings")?,
        None => return Err("The client metadata document has no redirect_uris".into()),
    };
    let redirect_uris =
        meta::validate_redirect_uris(uris).map_err(|e: OAuthError| e.description)?;
    let host = crate::weburl::parse(url)
        .ok()
        .and_then(|u| u.host)
        .unwrap_or_default();
    let name = doc
        .get("client_name")
        .and_then(Value::as_str)
        .unwrap_or(&host);
    let client_name = meta::validate_name(name).map_err(|e| e.description)?;
    // The document's scopes that are in the catalog; none (or no `scope`): the catalog.
    let wanted: Vec<String> = doc
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(' ')
        .filter(|s| catalog.contains(s))
        .map(str::to_string)
        .collect();
    let scopes = if wanted.is_empty() {
        catalog.names().map(str::to_string).collect()
    } else {
        catalog.in_catalog_order(&wanted)
    };
    Ok(Client {
        client_id: url.to_string(),
        client_name,
        description: None,
        logo_uri: None,
        client_uri: None,
        redirect_uris,
        scopes,
        token_endpoint_auth_method: AuthMethod::None,
        secret_hash: None,
        owner_sub: None,
        created_at: now,
        updated_at: now,
        verified: Some(false),
        client_credentials: false,
        // OpenID Connect members of a document are not read (yet): RS256 ID tokens, and no
        // redirect after logout.
        post_logout_redirect_uris: Vec::new(),
        id_token_signed_response_alg: None,
    })
}

/// The cached outcome of fetching `url`: `None` when nothing is cached (not fetched, or
/// expired), else the client or why the document was refused.
pub async fn cached(
    store: &impl Store,
    url: &str,
) -> Result<Option<Result<Client, String>>, OAuthError> {
    let Some(text) = store.get(&keys::client_document(url)).await? else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(client) = value.get("client") {
        use crate::json_codec::FromJson;
        return Ok(Some(Client::from_json(client).map_err(|e| e.to_string())));
    }
    let error = value
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unreadable cache entry");
    Ok(Some(Err(error.to_string())))
}

/// What a fetch brought: the body (at most [`MAX_BYTES`]) and its `Cache-Control`, or why it
/// failed (timeout, redirect, status, size).
pub type Fetched = Result<(Vec<u8>, Option<String>), String>;

/// Checks the fetched document and caches the outcome (good: per `Cache-Control` within
/// bounds; refused: [`FAILURE_CACHE`]).
pub async fn remember(
    store: &impl Store,
    url: &str,
    fetched: Fetched,
    catalog: &ScopeCatalog,
    now: u64,
) -> Result<Result<Client, String>, OAuthError> {
    let (outcome, ttl) = match fetched {
        Ok((body, cache_control)) => match parse(url, &body, catalog, now) {
            Ok(client) => (Ok(client), cache_seconds(cache_control.as_deref())),
            Err(e) => (Err(e), FAILURE_CACHE),
        },
        Err(e) => (
            Err(format!(
                "The client metadata document could not be fetched: {e}"
            )),
            FAILURE_CACHE,
        ),
    };
    let entry = match &outcome {
        Ok(client) => serde_json::json!({ "client": client }),
        Err(e) => serde_json::json!({ "error": e }),
    };
    // Two requests fetching at once write the same entry; KV refusing the second is harmless.
    let _ = store
        .put(&keys::client_document(url), &entry.to_string(), Some(ttl))
        .await;
    Ok(outcome)
}

/// Seconds to keep a good document: its `Cache-Control: max-age` within
/// [[`MIN_CACHE`], [`MAX_CACHE`]]; `no-store`/`no-cache` or none give the minimum.
pub fn cache_seconds(cache_control: Option<&str>) -> u64 {
    let max_age = cache_control.and_then(|v| {
        v.split(',').map(str::trim).find_map(|d| {
            d.strip_prefix("max-age=")
                .and_then(|n| n.parse::<u64>().ok())
        })
    });
    max_age.unwrap_or(MIN_CACHE).clamp(MIN_CACHE, MAX_CACHE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ssrf_refusal_has_its_reason() {
        let cases = [
            ("https://1.2.3.4/c.json", "IP address"),
            ("https://[2001:db8::1]/c.json", "IP address"),
            ("https://localhost/c.json", "localhost"),
            ("https://a.localhost/c.json", "localhost"),
            ("https://localhost./c.json", "trailing dot"),
            ("https://a.localhost./c.json", "trailing dot"),
            ("https://app.example./c.json", "trailing dot"),
            ("https://127.0.0.1/c.json", "localhost"),
            ("https://app.example:8443/c.json", "port"),
            ("https://u:p@app.example/c.json", "credentials"),
            ("https://app.example/c.json#x", "fragment"),
            ("https://app.example/", "path"),
            ("http://app.example/c.json", "https"),
            ("http://127.0.0.1:3000/c.json", "https"),
        ];
        for (url, reason) in cases {
            let e = check_url(url, Mode::On).unwrap_err();
            assert!(e.contains(reason), "{url}: {e}");
        }
        assert!(check_url("https://app.example/c.json", Mode::On).is_ok());
        assert!(
            check_url("https://app.example:443/c.json", Mode::On).is_err(),
            "not canonical"
        );
        assert!(check_url("https://app.example/c.json", Mode::Off).is_err());
        for url in [
            "http://127.0.0.1:3000/c.json",
            "http://localhost:9/c",
            "http://[::1]:9/c",
        ] {
            assert!(check_url(url, Mode::Loopback).is_ok(), "{url}");
        }
    }

    #[test]
    fn documents_must_describe_the_url_as_a_public_client() {
        let url = "https://app.example/c.json";
        let catalog = ScopeCatalog::default();
        let good = format!(
            r#"{{"client_id":"{url}","redirect_uris":["https://app.example/cb"],"scope":"profile:read"}}"#
        );
        let c = parse(url, good.as_bytes(), &catalog, 5).unwrap();
        assert_eq!(
            (c.client_name.as_str(), c.scopes.len(), c.is_verified()),
            ("app.example", 1, false)
        );
        let bad = [
            ("{", "not JSON"),
            ("[]", "object"),
            (
                r#"{"client_id":"https://other.example/c.json","redirect_uris":["https://a.example/cb"]}"#,
                "not its URL",
            ),
            (
                r#"{"client_id":"https://app.example/c.json"}"#,
                "redirect_uris",
            ),
            (
                r#"{"client_id":"https://app.example/c.json","redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
                "public",
            ),
            (
                r#"{"client_id":"https://app.example/c.json","redirect_uris":["https://a.example/cb",7]}"#,
                "must all be strings",
            ),
        ];
        for (body, reason) in bad {
            let e = parse(url, body.as_bytes(), &catalog, 5).unwrap_err();
            assert!(e.contains(reason), "{body}: {e}");
        }
    }

    #[test]
    fn cache_lifetime_is_bounded() {
        assert_eq!(cache_seconds(None), MIN_CACHE);
        assert_eq!(cache_seconds(Some("public, max-age=60")), MIN_CACHE);
        assert_eq!(cache_seconds(Some("max-age=3600")), 3600);
        assert_eq!(cache_seconds(Some("max-age=9999999")), MAX_CACHE);
    }
}
