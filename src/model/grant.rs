//! Records of the consent step: a request waiting on the consent page, and what a user has
//! approved for a client. Grants, codes and refresh tokens are the state layer's
//! (`crate::state`).

use crate::impl_from_json;
use serde::Serialize;

/// An authorization request waiting for the user's decision on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingAuthorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub code_challenge: String,
    /// The consent form is valid only for this session and with this CSRF token.
    pub session_hash: String,
    pub csrf_hash: String,
    pub sub: String,
    pub expires_at: u64,
    /// OpenID Connect `nonce` of the request, byte-exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// RFC 8707 resource named at authorize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// Scopes a user has granted a client, so a later request within them skips the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub scopes: Vec<String>,
    pub granted_at: u64,
}

impl_from_json!(PendingAuthorization {
    client_id,
    redirect_uri,
    scopes,
    state,
    code_challenge,
    session_hash,
    csrf_hash,
    sub,
    expires_at,
    nonce,
    resource,
});
impl_from_json!(Consent { scopes, granted_at });
