//! Token-endpoint grant types, one per file, and the rules they share.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod rules;

use crate::config::Config;
use crate::model::Client;

/// The scopes a client may have today: its registration (admin PATCH may have removed some)
/// ∩ the catalog, in registration order.
pub fn allowed_scopes(client: &Client, config: &Config) -> Vec<String> {
    client
        .scopes
        .iter()
        .filter(|s| config.scopes.contains(s))
        .cloned()
        .collect()
}
