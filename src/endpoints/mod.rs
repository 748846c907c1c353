//! One file per endpoint. Each returns `Result<Response, OAuthError>`.

pub mod admin;
pub mod authorize;
pub mod consent;
pub mod json;
pub mod jwks;
pub mod login;
pub mod login_assertion;
pub mod metadata;
pub mod pages;
pub mod token;
