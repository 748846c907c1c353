//! A registered OAuth application ("client").

use crate::impl_from_json;
use crate::json_codec::FromJson;
use serde::Serialize;

/// RFC 7591 §2 `token_endpoint_auth_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (single-page or mobile app): no secret, PKCE only.
    None,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "none" => Some(AuthMethod::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    pub fn is_confidential(self) -> bool {
        self != AuthMethod::None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    pub client_id: String,
    pub client_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Scopes this client may request, in catalog order.
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: AuthMethod,
    /// SHA-256 of the client secret (base64url). Never the secret itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// The signed-in user who registered it in the developer portal; `None` for admin-created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_sub: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// Whether the platform vouches for this application: admin-created ones are, those
    /// registered by anyone else (the portal) are not until an admin says so. `None` in
    /// records written before the flag: read as [`Client::is_verified`] says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// RFC 7591 `grant_types` holds `client_credentials` (confidential clients only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_credentials: bool,
    /// OpenID Connect RP-Initiated Logout §3.3: where the client may send users after logout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Registration §2; `None`: RS256 (`oauth::oidc::client`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
}

impl FromJson for AuthMethod {
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        value
            .as_str()
            .and_then(AuthMethod::parse)
            .ok_or_else(|| "expected client_secret_basic, client_secret_post or none".into())
    }
}

impl_from_json!(Client {
    client_id,
    client_name,
    description,
    logo_uri,
    client_uri,
    redirect_uris,
    scopes,
    token_endpoint_auth_method,
    secret_hash,
    owner_sub,
    created_at,
    updated_at;
    verified,
    client_credentials,
    post_logout_redirect_uris,
    id_token_signed_response_alg,
});

impl Client {
    pub fn is_confidential(&self) -> bool {
        self.token_endpoint_auth_method.is_confidential()
    }

    /// Verified by the platform: as an admin set it, else whether an admin registered it.
    pub fn is_verified(&self) -> bool {
        self.verified.unwrap_or(self.owner_sub.is_none())
    }
}
