//! Records as stored in KV. Wire types (what the API accepts and returns) live with their
//! endpoints; these are what is kept at rest.

pub mod client;

pub use client::{AuthMethod, Client};
