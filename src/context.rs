//! What an endpoint may use: configuration, storage, the state seam, crypto and the time.
//! Kept apart from the request pipeline (`app`) so `oauth/` never imports upward.

use crate::config::{Config, StateBackend};
use crate::crypto::Crypto;
use crate::state::durable::{DurableState, Objects};
use crate::state::kv::KvState;
use crate::state::Backend;
use crate::store::Store;

/// Time is passed in (unix seconds) so tests control it.
pub struct Ctx<'a, S: Store, C: Crypto> {
    pub config: &'a Config,
    pub store: &'a S,
    /// The Durable Object namespace (unused when `STATE_BACKEND=kv`).
    pub objects: &'a dyn Objects,
    pub crypto: &'a C,
    pub now: u64,
    /// The same instant in milliseconds: orders a revocation against access tokens issued in
    /// the same second (`oauth::revocation`).
    pub now_ms: u64,
}

impl<'a, S: Store, C: Crypto> Ctx<'a, S, C> {
    /// The configured backend of every state transition (`state::State`).
    pub fn state(&self) -> Backend<'a, S> {
        match self.config.state_backend {
            StateBackend::Kv => Backend::Kv(KvState::new(self.store)),
            StateBackend::Durable => Backend::Durable(DurableState {
                store: self.store,
                objects: self.objects,
            }),
        }
    }
}
