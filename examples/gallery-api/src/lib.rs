//! The platform's photo-gallery API as a Worker, protected by edge-oauth access tokens through
//! the `edge-verifier` crate: each route names the scope it needs, the verifier checks the
//! bearer token (signature with the issuer's JWKS, `typ`, `iss`, `aud`, `exp`, revocation
//! list), and the handler sees only the caller's data (`sub`).
//!
//! - `routes`: (method, path) → route and its scope;
//! - `api`: the endpoints over a small `Store` trait (KV in the Worker);
//! - `model`: records and input validation (bounded, every rule names its field);
//! - `metadata`: RFC 9728 protected-resource metadata;
//! - `mcp`: the same data as an MCP server at `/mcp` (JSON-RPC tools, one scope each);
//! - `worker` (wasm32 only): the fetch handler, configuration and KV.

pub mod api;
pub mod mcp;
pub mod metadata;
pub mod model;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod worker;
