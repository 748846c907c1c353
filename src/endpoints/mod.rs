//! One file per endpoint. Each returns `Result<Response, OAuthError>`.

pub mod admin;
pub mod json;
pub mod jwks;
pub mod metadata;
