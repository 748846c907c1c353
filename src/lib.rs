//! edge-oauth: an OAuth 2.0 authorization server that runs as a Cloudflare Worker.
//!
//! The protocol core (everything but `worker/`) is plain Rust: it sees requests as
//! [`http::Request`], keeps state through the [`store::Store`] trait, does signatures and
//! password hashing through the [`crypto::Crypto`] trait, and is told the time. `cargo test`
//! runs it natively; only `worker/` touches the Workers runtime.

pub mod app;
pub mod b64;
pub mod config;
pub mod context;
pub mod crypto;
pub mod email;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod json_codec;
pub mod model;
pub mod oauth;
pub mod router;
pub mod state;
pub mod store;
pub mod token;
pub mod ui;
pub mod weburl;

#[cfg(target_arch = "wasm32")]
mod worker;
