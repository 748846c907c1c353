//! Protocol pieces shared by endpoints: scopes, redirect URIs, client metadata, PKCE,
//! passwords and delegated-login assertions.

pub mod access_token;
pub mod authorize_request;
pub mod client_auth;
pub mod client_document;
pub mod client_metadata;
pub mod client_registry;
pub mod code;
pub mod grants;
pub mod identifiers;
pub mod issue;
pub mod login_assertion;
pub mod oidc;
pub mod params;
pub mod password;
pub mod pkce;
pub mod redirect_uri;
pub mod resource;
pub mod revocation;
pub mod scope;
pub mod session;
pub mod strict_json;
pub mod throttle;
