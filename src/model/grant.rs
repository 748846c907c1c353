//! The authorization a user gave a client, and the credentials derived from it.
//!
//! A `Grant` is created by a code redemption and named by `grant_id`; the code, the refresh
//! tokens and (through the `gid` claim) the access tokens all point at it, so revoking the
//! grant ends all of them.

use serde::{Deserialize, Serialize};

/// An authorization request waiting for the user's decision on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub code_challenge: String,
    /// The consent form is valid only for this session and with this CSRF token.
    pub session_hash: String,
    pub csrf_hash: String,
    pub sub: String,
    pub expires_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub sub: String,
    pub scopes: Vec<String>,
    pub code_challenge: String,
    /// The grant this code creates when redeemed.
    pub grant_id: String,
    pub expires_at: u64,
    /// Set on first redemption; a second one revokes the grant (RFC 6749 §4.1.2).
    #[serde(default)]
    pub redeemed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grant_id: String,
    pub client_id: String,
    pub sub: String,
    /// What the user granted; refreshes may narrow, never widen.
    pub scopes: Vec<String>,
    pub created_at: u64,
    /// Hash of the refresh token currently valid for this grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_hash: Option<String>,
    pub expires_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub grant_id: String,
    pub client_id: String,
    pub sub: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub issued_at: u64,
    pub expires_at: u64,
    /// Set when the token was rotated; presenting it again is reuse.
    #[serde(default)]
    pub rotated: bool,
}

/// Scopes a user has granted a client, so a later request within them skips the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub scopes: Vec<String>,
    pub granted_at: u64,
}
