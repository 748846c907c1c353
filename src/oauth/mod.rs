//! Protocol pieces shared by endpoints: scopes, redirect URIs, client metadata rules.

pub mod client_metadata;
pub mod redirect_uri;
pub mod scope;
