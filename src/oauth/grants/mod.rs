//! Token-endpoint grant types, one per file.

pub mod authorization_code;
pub mod refresh_token;
