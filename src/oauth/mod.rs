//! Protocol pieces shared by endpoints: scopes, redirect URIs, client metadata, PKCE,
//! passwords and delegated-login assertions.

pub mod client_metadata;
pub mod login_assertion;
pub mod password;
pub mod pkce;
pub mod redirect_uri;
pub mod scope;
