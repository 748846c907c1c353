//! The KV key layout, in one place. `docs/storage.md` documents each prefix, its value and TTL;
//! keep the two in step.

/// `client:{client_id}` → `model::Client` JSON, no TTL.
pub fn client(client_id: &str) -> String {
    format!("client:{client_id}")
}

pub const CLIENT_PREFIX: &str = "client:";
