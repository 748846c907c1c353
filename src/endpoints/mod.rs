//! One file per endpoint. Each returns `Result<Response, OAuthError>`.

pub mod account_apps;
pub mod admin;
pub mod authorize;
pub mod consent;
pub mod developer_app;
pub mod developer_try;
pub mod developers;
pub mod docs;
pub mod introspect;
pub mod json;
pub mod jwks;
pub mod login;
pub mod login_assertion;
pub mod logout;
pub mod metadata;
pub mod openapi;
pub mod openid_configuration;
pub mod pages;
pub mod register;
pub mod revoke;
pub mod token;
pub mod userinfo;
