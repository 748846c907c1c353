//! Registering, changing and removing clients: the one implementation behind the admin API
//! (`/api/admin/clients`) and the developer portal (`/developers`). Field rules live in
//! [`super::client_metadata`]; this module composes them and remembers which field failed,
//! so a form can show the message next to it.

use super::client_metadata as meta;
use super::oidc::client as oidc_client;
use super::scope::ScopeCatalog;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::model::{AuthMethod, Client};
use crate::token::opaque;

/// Client metadata as submitted (RFC 7591 §2 names), before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub client_name: Option<String>,
    pub description: Option<String>,
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scope: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    /// RFC 7591 `grant_types`; `None` keeps the default (no `client_credentials`).
    pub grant_types: Option<Vec<String>>,
    /// OpenID Connect (`oauth::oidc::client`); `None` leaves them unset (on [`replace`]: as
    /// they were).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub id_token_signed_response_alg: Option<String>,
}

/// A validation error and the field it concerns.
#[derive(Debug)]
pub struct FieldError {
    pub field: &'static str,
    pub error: OAuthError,
}

impl From<FieldError> for OAuthError {
    fn from(e: FieldError) -> OAuthError {
        e.error
    }
}

fn on(field: &'static str) -> impl Fn(OAuthError) -> FieldError {
    move |error| FieldError { field, error }
}

fn required(field: &'static str) -> FieldError {
    on(field)(meta::metadata_error(format!("{field} is required")))
}

/// Validates every field of a new client and builds it (no secret yet, see [`new_secret`]).
pub fn build(
    draft: Draft,
    catalog: &ScopeCatalog,
    client_id: String,
    owner_sub: Option<String>,
    now: u64,
) -> Result<Client, FieldError> {
    let post_logout_redirect_uris =
        oidc_client::validate_post_logout_uris(draft.post_logout_redirect_uris.unwrap_or_default())
            .map_err(on("post_logout_redirect_uris"))?;
    // Which algorithms have a key is the caller's check (`validate_id_token_alg`).
    let id_token_signed_response_alg = draft.id_token_signed_response_alg.filter(|a| !a.is_empty());
    let name = draft.client_name.ok_or_else(|| required("client_name"))?;
    let client_name = meta::validate_name(&name).map_err(on("client_name"))?;
    let description = meta::validate_description(draft.description).map_err(on("description"))?;
    let logo_uri = meta::validate_web_url("logo_uri", draft.logo_uri).map_err(on("logo_uri"))?;
    let client_uri =
        meta::validate_web_url("client_uri", draft.client_uri).map_err(on("client_uri"))?;
    let uris = draft
        .redirect_uris
        .ok_or_else(|| required("redirect_uris"))?;
    let redirect_uris = meta::validate_redirect_uris(uris).map_err(on("redirect_uris"))?;
    let scope = draft.scope.ok_or_else(|| required("scope"))?;
    let scopes = meta::validate_scope(&scope, catalog).map_err(on("scope"))?;
    let token_endpoint_auth_method = match draft.token_endpoint_auth_method {
        // RFC 7591 §2: the default is client_secret_basic.
        None => AuthMethod::ClientSecretBasic,
        Some(m) => meta::validate_auth_method(&m).map_err(on("token_endpoint_auth_method"))?,
    };
    let client_credentials = meta::validate_grant_types(
        draft.grant_types.as_deref().unwrap_or_default(),
        token_endpoint_auth_method.is_confidential(),
    )
    .map_err(on("grant_types"))?;
    Ok(Client {
        client_id,
        client_name,
        description,
        logo_uri,
        client_uri,
        redirect_uris,
        scopes,
        token_endpoint_auth_method,
        secret_hash: None,
        // Self-registered applications are not vouched for until an admin verifies them.
        verified: Some(owner_sub.is_none()),
        owner_sub,
        created_at: now,
        updated_at: now,
        client_credentials,
        post_logout_redirect_uris,
        id_token_signed_response_alg,
    })
}

/// Replaces every editable field of `client` with a complete draft (the portal's edit form);
/// the id, type, owner and secret stay.
pub fn replace(
    client: &Client,
    mut draft: Draft,
    catalog: &ScopeCatalog,
    now: u64,
) -> Result<Client, FieldError> {
    draft.token_endpoint_auth_method = Some(client.token_endpoint_auth_method.as_str().into());
    if draft.post_logout_redirect_uris.is_none() {
        draft.post_logout_redirect_uris = Some(client.post_logout_redirect_uris.clone());
    }
    if draft.id_token_signed_response_alg.is_none() {
        draft.id_token_signed_response_alg = client.id_token_signed_response_alg.clone();
    }
    let fresh = build(
        draft,
        catalog,
        client.client_id.clone(),
        client.owner_sub.clone(),
        now,
    )?;
    Ok(Client {
        secret_hash: client.secret_hash.clone(),
        created_at: client.created_at,
        verified: client.verified,
        ..fresh
    })
}

/// A new client id: 16 random bytes, base64url.
pub fn new_client_id(crypto: &impl Crypto) -> Result<String, OAuthError> {
    opaque::random_b64(crypto, 16)
}

/// Gives a confidential client a new secret and returns it (once; only its hash is kept, so
/// the previous secret stops working as soon as the client is saved). Public clients: `None`.
pub fn new_secret(
    crypto: &impl Crypto,
    client: &mut Client,
    now: u64,
) -> Result<Option<String>, OAuthError> {
    if !client.is_confidential() {
        return Ok(None);
    }
    let secret = opaque::new_secret(crypto)?;
    client.secret_hash = Some(opaque::hash(&secret));
    client.updated_at = now;
    Ok(Some(secret))
}

/// Like [`new_secret`], but a public client is an error (it has nothing to rotate).
pub fn rotate_secret(
    crypto: &impl Crypto,
    client: &mut Client,
    now: u64,
) -> Result<String, OAuthError> {
    new_secret(crypto, client, now)?.ok_or_else(|| {
        OAuthError::new(
            ErrorCode::InvalidRequest,
            "This is a public client (token_endpoint_auth_method \"none\"); it has no secret",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            client_name: Some("Photo App".into()),
            redirect_uris: Some(vec!["https://app.example/cb".into()]),
            scope: Some("images:read".into()),
            ..Draft::default()
        }
    }

    #[test]
    fn errors_name_their_field() {
        let catalog = ScopeCatalog::default();
        let cases: Vec<(&str, Draft, &str)> = vec![
            (
                "no name",
                Draft {
                    client_name: None,
                    ..draft()
                },
                "client_name",
            ),
            (
                "bad logo",
                Draft {
                    logo_uri: Some("javascript:x".into()),
                    ..draft()
                },
                "logo_uri",
            ),
            (
                "bad site",
                Draft {
                    client_uri: Some("ftp://x".into()),
                    ..draft()
                },
                "client_uri",
            ),
            (
                "http uri",
                Draft {
                    redirect_uris: Some(vec!["http://a.example/cb".into()]),
                    ..draft()
                },
                "redirect_uris",
            ),
            (
                "no uris",
                Draft {
                    redirect_uris: Some(vec![]),
                    ..draft()
                },
                "redirect_uris",
            ),
            (
                "unknown scope",
                Draft {
                    scope: Some("admin".into()),
                    ..draft()
                },
                "scope",
            ),
            (
                "bad method",
                Draft {
                    token_endpoint_auth_method: Some("x".into()),
                    ..draft()
                },
                "token_endpoint_auth_method",
            ),
        ];
        for (name, d, field) in cases {
            let e = build(d, &catalog, "c1".into(), None, 5).unwrap_err();
            assert_eq!(e.field, field, "{name}: {}", e.error.description);
        }
    }

    #[test]
    fn replace_keeps_identity_type_and_secret() {
        let catalog = ScopeCatalog::default();
        let mut c = build(draft(), &catalog, "c1".into(), Some("u1".into()), 5).unwrap();
        c.secret_hash = Some("h".into());
        let changed = Draft {
            client_name: Some("Renamed".into()),
            token_endpoint_auth_method: Some("none".into()),
            ..draft()
        };
        let r = replace(&c, changed, &catalog, 9).unwrap();
        assert_eq!(r.client_name, "Renamed");
        assert_eq!(r.token_endpoint_auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(
            (
                r.client_id.as_str(),
                r.owner_sub.as_deref(),
                r.secret_hash.as_deref()
            ),
            ("c1", Some("u1"), Some("h"))
        );
        assert_eq!((r.created_at, r.updated_at), (5, 9));
    }
}
