//! The KV backend (`STATE_BACKEND=kv`): every transition as KV reads and writes with TTLs.
//!
//! KV has no compare-and-set, so a transition is "read, check, write". What that leaves open
//! is in docs/consistency.md; what this implementation does to narrow it:
//! - revocation writes a `grant_revoked:` marker that nothing removes, and every use checks
//!   it, so a refresh racing a revocation cannot bring the grant back;
//! - revoke-all is one write, the user's epoch (`epoch`): every use reads it, so it is
//!   bounded per request whatever the user has (one more read on each step of a flow);
//! - no key is written twice by one flow: redemption does not rewrite the code (the grant's
//!   own key says it was used), a refresh writes a new `refresh_gen:` key (and rewrites
//!   `grant:` only to extend it, once per half lifetime);
//! - a grant is one key, `grant:{id}`, whose id starts with its client's and (client, user)
//!   pair's tags: prefix listings serve the admin listing and the cap, no index key per grant;
//!   within the pair's prefix ids are time-ordered, so the cap evicts by a total order.
//!
//! A returning user's flow (authorize, token, introspect, refresh) makes 4 write-class KV
//! operations: the code, the cap's list, the grant, the next refresh generation.

mod apps;
mod codes;
mod epoch;
mod grants;
pub mod records;
mod refresh;

use super::{
    sessions, throttle, AppClaim, CodeConsent, CodeExchange, CodeInSession, GrantView, IssuedGrant,
    NewCode, Page, RefreshRotation, SessionAt, SessionCode, State, StateResult,
};
use crate::model::Session;
use crate::store::Store;

pub struct KvState<'a, S: Store> {
    pub store: &'a S,
}

impl<'a, S: Store> KvState<'a, S> {
    pub fn new(store: &'a S) -> Self {
        KvState { store }
    }
}

impl<S: Store> State for KvState<'_, S> {
    async fn issue_code(&self, code: NewCode, consent: CodeConsent) -> StateResult<Option<String>> {
        codes::issue(self.store, code, consent).await
    }

    async fn exchange_code(&self, exchange: CodeExchange) -> StateResult<IssuedGrant> {
        codes::exchange(self.store, exchange).await
    }

    async fn rotate_refresh(&self, rotation: RefreshRotation) -> StateResult<IssuedGrant> {
        refresh::rotate(self.store, rotation).await
    }

    async fn find_refresh(&self, token: &str, now: u64) -> StateResult<Option<GrantView>> {
        refresh::find(self.store, token, now).await
    }

    async fn revoke_refresh_token(&self, token: &str, client_id: &str) -> StateResult<bool> {
        refresh::revoke(self.store, token, client_id).await
    }

    async fn get_grant(&self, grant_id: &str, now: u64) -> StateResult<Option<GrantView>> {
        Ok(grants::live(self.store, grant_id, now)
            .await?
            .map(|g| g.view()))
    }

    async fn revoke_grant(&self, grant_id: &str) -> StateResult<bool> {
        grants::revoke_by_id(self.store, grant_id).await
    }

    async fn revoke_user(&self, sub: &str, client: Option<&str>, now: u64) -> StateResult<usize> {
        grants::revoke_user(self.store, sub, client, now).await
    }

    async fn list_user_grants(
        &self,
        sub: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        grants::list_for_user(self.store, sub, cursor, limit, now).await
    }

    async fn list_client_grants(
        &self,
        client_id: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        grants::list_for_client(self.store, client_id, cursor, limit, now).await
    }

    async fn count_sign_in_attempt(&self, account: &str, now: u64) -> StateResult<bool> {
        throttle::kv_count(self.store, account, throttle::MAX_ACCOUNT_ATTEMPTS, now).await
    }

    async fn clear_sign_in_attempts(&self, account: &str, now: u64) -> StateResult<()> {
        throttle::kv_clear(self.store, account, now).await
    }

    async fn count_failure(&self, subject: &str, max: u32, now: u64) -> StateResult<bool> {
        throttle::kv_count(self.store, subject, max, now).await
    }

    async fn failures_exhausted(&self, subject: &str, max: u32, _now: u64) -> StateResult<bool> {
        Ok(throttle::kv_counted(self.store, subject).await? >= max as usize)
    }

    async fn claim_app(
        &self,
        sub: &str,
        _client_id: &str,
        submission: &str,
        limit: usize,
        _now: u64,
    ) -> StateResult<AppClaim> {
        apps::claim(self.store, sub, submission, limit).await
    }

    async fn release_app(&self, _sub: &str, _client_id: &str) -> StateResult<()> {
        // Counted by listing the owner index, which the deletion itself updates.
        Ok(())
    }

    async fn claim_submission(&self, sub: &str, submission: &str, _now: u64) -> StateResult<bool> {
        apps::claim_submission(self.store, sub, submission).await
    }

    async fn start_session(
        &self,
        secret: &str,
        session: &Session,
        ttl: u64,
    ) -> StateResult<(String, String)> {
        let hash = crate::token::opaque::hash(secret);
        sessions::start(self.store, &hash, session, ttl).await?;
        Ok((secret.to_string(), hash))
    }

    async fn find_session(&self, at: &SessionAt, now: u64) -> StateResult<Option<Session>> {
        Ok(sessions::find_hashed(self.store, &at.hash, now).await?)
    }

    async fn end_session(&self, at: &SessionAt, session: &Session) -> StateResult<()> {
        Ok(sessions::delete(self.store, &at.hash, session).await?)
    }

    /// KV drops expired sessions itself (their TTL), so every record listed counts.
    async fn end_all_sessions(&self, sub: &str, _now: u64) -> StateResult<usize> {
        Ok(sessions::delete_all_for(self.store, sub).await?)
    }

    async fn issue_code_in_session(
        &self,
        at: &SessionAt,
        request: CodeInSession,
    ) -> StateResult<SessionCode> {
        let session = sessions::find_hashed(self.store, &at.hash, request.code.now).await?;
        sessions::issue_in_found(self, session, &at.hash, request).await
    }
}
