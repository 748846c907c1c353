//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3.1): HTTP Basic or `client_id`/`client_secret` in the body, never both.
//! Confidential clients may use either, whatever they registered; public clients send only
//! `client_id` and are authenticated by PKCE at the token endpoint.

use super::params::Params;
use crate::b64::STANDARD;
use crate::error::OAuthError;
use crate::http::Request;
use crate::model::Client;
use crate::store::{clients, Store};
use crate::token::opaque;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub secret: Option<String>,
}

/// Reads the credentials without checking them.
pub fn extract(req: &Request, params: &Params) -> Result<Credentials, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let Some(header) = req.header("authorization") else {
        let client_id = body_id.ok_or_else(OAuthError::invalid_client)?;
        return Ok(Credentials {
            client_id: client_id.to_string(),
            secret: body_secret.map(str::to_string),
        });
    };
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client());
    }
    if body_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "Use one client authentication method: HTTP Basic or client_secret in the body, not both",
        ));
    }
    let (id, secret) = decode_basic(value.trim()).ok_or_else(OAuthError::invalid_client)?;
    // A client_id in the body as well must name the same client.
    if body_id.is_some_and(|b| b != id) {
        return Err(OAuthError::invalid_client());
    }
    Ok(Credentials {
        client_id: id,
        secret: Some(secret).filter(|s| !s.is_empty()),
    })
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded, joined by ':', then base64.
fn decode_basic(value: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(value).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let id = unescape(id);
    (!id.is_empty()).then(|| (id, unescape(secret)))
}

/// Reads and checks the credentials of a token-, revocation- or introspection-endpoint request.
pub async fn from_request(
    store: &impl Store,
    req: &Request,
    params: &Params,
) -> Result<Client, OAuthError> {
    authenticate(store, &extract(req, params)?).await
}

/// Checks the credentials. Every failure is the same `invalid_client` (401), and none
/// changes any state.
pub async fn authenticate(store: &impl Store, creds: &Credentials) -> Result<Client, OAuthError> {
    let client = clients::get(store, &creds.client_id)
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    match (&client.secret_hash, &creds.secret) {
        (Some(hash), Some(secret)) if opaque::matches_hash(secret, hash) => Ok(client),
        // A public client proves itself with PKCE, and must not pretend to have a secret.
        (None, None) if !client.is_confidential() => Ok(client),
        _ => Err(OAuthError::invalid_client()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn req(auth: Option<&str>) -> Request {
        let r = Request::new(Method::Post, "/api/oauth/token");
        match auth {
            Some(a) => r.with_header("authorization", a),
            None => r,
        }
    }

    fn params(q: &str) -> Params {
        Params::from_query(q).unwrap()
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn reads_basic_and_body_credentials() {
        let c = extract(&req(Some(&basic("app", "s%3Acret"))), &params("")).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: "app".into(),
                secret: Some("s:cret".into())
            }
        );
        let c = extract(&req(None), &params("client_id=app&client_secret=x")).unwrap();
        assert_eq!(c.secret.as_deref(), Some("x"));
        let c = extract(&req(None), &params("client_id=spa")).unwrap();
        assert_eq!(c.secret, None);
    }

    #[test]
    fn refuses_ambiguous_or_broken_credentials() {
        let cases: Vec<(Request, &str, &str)> = vec![
            (
                req(Some(&basic("app", "s"))),
                "client_secret=s",
                "invalid_request",
            ),
            (
                req(Some(&basic("app", "s"))),
                "client_id=other",
                "invalid_client",
            ),
            (req(Some("Basic !!!")), "", "invalid_client"),
            (
                req(Some(&format!("Basic {}", STANDARD.encode("no-colon")))),
                "",
                "invalid_client",
            ),
            (req(Some("Bearer abc")), "", "invalid_client"),
            (req(None), "", "invalid_client"),
        ];
        for (r, q, code) in cases {
            let e = extract(&r, &params(q)).unwrap_err();
            assert_eq!(e.code.as_str(), code, "{q}");
        }
    }
}
