//! Token-endpoint grant types, one per file.

pub mod authorization_code;
pub mod refresh_token;

use crate::config::Config;
use crate::error::OAuthError;
use crate::model::Client;

/// The granted scopes the client may still request: its registration (admin PATCH) or the
/// catalog may have lost some since the grant. None left → `invalid_grant`.
pub fn still_allowed(
    granted: &[String],
    client: &Client,
    config: &Config,
) -> Result<Vec<String>, OAuthError> {
    let allowed: Vec<String> = granted
        .iter()
        .filter(|s| client.scopes.contains(s) && config.scopes.contains(s))
        .cloned()
        .collect();
    if allowed.is_empty() {
        return Err(OAuthError::invalid_grant(
            "None of the granted scopes is still allowed for this client",
        ));
    }
    Ok(allowed)
}
