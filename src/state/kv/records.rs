//! What the KV backend keeps, under the keys of `store::keys` (see docs/storage.md).

use crate::impl_from_json;
use crate::state::{GrantView, SignIn};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct KvCode {
    pub sub: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: String,
    /// The grant this code creates; its `grant:` or `grant_revoked:` key existing means the
    /// code was used (so redemption never rewrites the code's own key).
    pub grant_id: String,
    /// When it was issued: a consent given after it (withdrawn, then approved again) does not
    /// cover it.
    pub issued_at: u64,
    pub expires_at: u64,
    /// An `openid` code's sign-in (`state::SignIn`), copied into its grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignIn>,
    /// RFC 8707 resource named at authorize (`oauth::resource`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KvGrant {
    pub grant_id: String,
    pub client_id: String,
    pub sub: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub expires_at: u64,
    /// Hash of the first refresh token (generation 0); later generations have their own keys
    /// (`refresh_gen:`), so a rotation never rewrites this record.
    pub refresh_hash: String,
    /// Key successive refresh secrets are derived with (`state::ids::successor`).
    pub chain_key: String,
    /// An `openid` grant's sign-in: its refreshes' ID tokens keep `auth_time` (OIDC Core §12.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignIn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl KvGrant {
    pub fn view(&self) -> GrantView {
        GrantView {
            grant_id: self.grant_id.clone(),
            client_id: self.client_id.clone(),
            sub: self.sub.clone(),
            scopes: self.scopes.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            sign_in: self.sign_in.clone(),
            resource: self.resource.clone(),
        }
    }
}

/// A refresh-token generation after the first: its hash and when it was issued.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshGeneration {
    pub hash: String,
    pub at: u64,
    /// The request that rotated to this generation (`RefreshRotation::attempt`): the same
    /// request repeated after a lost answer gets this generation again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<String>,
}

/// The value of a `client_grant:` index key (durable backend): enough to list a client's
/// grants without reading each one.
#[derive(Debug, Clone, Serialize)]
pub struct ClientGrantEntry {
    pub sub: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub expires_at: u64,
}

impl_from_json!(KvCode {
    sub,
    client_id,
    redirect_uri,
    scopes,
    code_challenge,
    grant_id,
    issued_at,
    expires_at;
    sign_in,
    resource,
});
impl_from_json!(KvGrant {
    grant_id,
    client_id,
    sub,
    scopes,
    created_at,
    expires_at,
    refresh_hash,
    chain_key;
    sign_in,
    resource,
});
impl_from_json!(RefreshGeneration { hash, at; attempt });
impl_from_json!(ClientGrantEntry {
    sub,
    scopes,
    created_at,
    expires_at
});
