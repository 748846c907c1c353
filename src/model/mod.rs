//! Records as stored in KV. Wire types (what the API accepts and returns) live with their
//! endpoints; these are what is kept at rest. `docs/storage.md` lists where each one lives.

pub mod client;
pub mod grant;
pub mod user;

pub use client::{AuthMethod, Client};
pub use grant::{Consent, PendingAuthorization};
pub use user::{Session, User};
