//! Every state transition of the provider, named, behind one trait.
//!
//! Endpoints and `oauth/` never write codes, grants, refresh tokens, consents, throttles or
//! sessions themselves: they call one operation of [`State`], which states its guarantee.
//! The protocol rules (PKCE, redirect URI, scope narrowing) are pure functions in `oauth/`
//! that both backends call inside their transition (fosite's split: the handler states the
//! rule, the storage guarantees atomicity).
//!
//! Two backends (`STATE_BACKEND`):
//! - [`durable`] (default): one Durable Object per user, SQLite inside; each operation is one
//!   call to the user's object and runs there without an `await` between read and write, so
//!   it is atomic against every other request for that user. Exactly once, at any concurrency.
//! - [`kv`]: everything in Workers KV with TTLs (the original design). No compare-and-set:
//!   `docs/consistency.md` gives, per operation, the window that remains.
//!
//! Clients, users and the access-token revocation list stay in KV on both: they are
//! read-mostly, read everywhere, and edge APIs read the revocation list. Login sessions are
//! the user object's on the durable backend (sessions started in KV before stay readable
//! there until they expire) and KV records on the KV backend.

pub mod clients;
pub mod durable;
pub mod ids;
pub mod kv;
pub mod sessions;
pub mod sign_in;
pub mod throttle;

pub use sign_in::SignIn;

use crate::error::{ErrorCode, OAuthError};
use serde::Serialize;

/// A session as its cookie names it: the hash of the cookie's value (what storage keeps it
/// under), and the user's object when the value carries one (`{object id}.{secret}`: the
/// durable backend keeps sessions in the user's object). Without one the session is a KV
/// record: the KV backend's, or one started before sessions moved into the objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAt {
    pub hash: String,
    pub object: Option<String>,
}

/// A code for a signed-in browser with a remembered consent (authorize without a page):
/// `code.sub` and `code.sign_in` come from the session, which must be live and signed in at
/// or after `signed_in_after` (OIDC `max_age`; 0 for any).
#[derive(Debug, Clone, Serialize)]
pub struct CodeInSession {
    pub code: NewCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub signed_in_after: u64,
}

/// What [`State::issue_code_in_session`] found: no session (sign in), a session and no code
/// (the remembered consent does not cover the request: show the consent page), or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionCode {
    pub session: Option<crate::model::Session>,
    pub code: Option<String>,
}

/// What a grant looks like to its readers (admin API, connected apps, token issuance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantView {
    pub grant_id: String,
    pub client_id: String,
    pub sub: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub expires_at: u64,
    /// The sign-in of an `openid` grant (ID tokens); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignIn>,
    /// RFC 8707 resource the grant was authorized for: its tokens' `aud`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// A new authorization code (RFC 6749 §4.1.2). `secret` is 256 random bits from the edge;
/// the backend returns the code string the client receives.
#[derive(Debug, Clone, Serialize)]
pub struct NewCode {
    pub sub: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: String,
    pub secret: String,
    /// Random bits for the grant id the code will create (KV backend).
    pub id_nonce: String,
    pub now: u64,
    pub expires_at: u64,
    /// Kept with the code and copied into its grant when the scopes hold `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignIn>,
    /// RFC 8707 resource named at authorize: the grant's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// Why a code may be issued.
#[derive(Debug, Clone, Serialize)]
pub enum CodeConsent {
    /// The user approved `scopes` on the consent page for authorization request
    /// `request_id`: merge them into the remembered consent (kept `ttl` seconds) and issue,
    /// once per request id.
    Approved { request_id: String, ttl: u64 },
    /// No page was shown: issue only if the remembered consent covers the code's scopes.
    Remembered,
}

/// A code redemption (RFC 6749 §4.1.3) with what the token endpoint received.
#[derive(Debug, Clone, Serialize)]
pub struct CodeExchange {
    pub code: String,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: String,
    /// Scopes the client may still have (its registration ∩ the catalog), in catalog order.
    pub allowed_scopes: Vec<String>,
    /// The first refresh token's secret and the grant's chain key (successors are derived
    /// from it, see [`ids::successor`]); 256 random bits each, from the edge.
    pub refresh_secret: String,
    pub chain_key: String,
    pub refresh_ttl: u64,
    pub now: u64,
    /// RFC 8707 `resource` of the token request (already checked against `RESOURCES`):
    /// when present it must be the code's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// A refresh (RFC 6749 §6) with what the token endpoint received.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshRotation {
    pub refresh_token: String,
    pub client_id: String,
    /// The `scope` parameter, parsed; `None` when absent.
    pub requested_scopes: Option<Vec<String>>,
    pub allowed_scopes: Vec<String>,
    /// `REFRESH_REUSE_GRACE`: seconds in which a rotated token returns the same successor.
    pub grace: u64,
    pub refresh_ttl: u64,
    pub now: u64,
    /// Random per client request: the Worker sends the same value when it repeats a call
    /// whose answer was lost, and the object answers that repeat with the same successor
    /// (durable backend; `None` from callers that never repeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<String>,
    /// RFC 8707 `resource` of the refresh request: when present it must be the grant's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// A grant with its (new or repeated) refresh token, and the scopes for the access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedGrant {
    pub grant: GrantView,
    pub refresh_token: String,
    pub scopes: Vec<String>,
    /// Durable backend, code exchange: the user had no other live grant of this client, so
    /// the Worker writes the user's entry in the client's listing, of this generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<i64>,
    /// Grants of the same user and client revoked to keep the cap (code exchange): the token
    /// endpoint tells edge APIs (`oauth::revocation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evicted: Vec<String>,
}

/// A page of a listing; `cursor` is set when more follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub cursor: Option<String>,
}

pub const MAX_PAGE: usize = 100;

/// Most live grants one user may have with one client (one per device or browser). The
/// oldest is revoked to make room; "oldest" is a total order (creation sequence).
pub const MAX_GRANTS_PER_CLIENT: usize = 10;

/// A request the protocol refuses. Each maps to one RFC 6749 error in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Refusal {
    InvalidCode,
    /// Second redemption: what the first one issued is revoked (RFC 6749 §4.1.2); the
    /// grant it revoked, when the code had created one (for the edge APIs' marker).
    CodeReplayed(Option<String>),
    RedirectUriMismatch,
    InvalidVerifier,
    ConsentWithdrawn,
    NoScopeLeft,
    InvalidRefreshToken,
    /// A rotated refresh token came back: the grant is revoked (RFC 9700 §4.14.2).
    RefreshReused,
    /// The refresh asked for a scope that was not granted (RFC 6749 §6).
    ScopeNotGranted(String),
    ScopeMalformed(String),
    /// The token request named a resource the grant was not authorized for (RFC 8707 §2.2).
    ResourceNotGranted,
    /// A listing's cursor that storage does not know (stale or made up).
    CursorRefused,
}

/// Why an operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StateError {
    Refused(Refusal),
    /// The deciding storage could not be reached; nothing was written.
    Unavailable(String),
    /// Storage failed (private detail for the log).
    Failed(String),
}

impl From<Refusal> for StateError {
    fn from(r: Refusal) -> StateError {
        StateError::Refused(r)
    }
}

impl From<crate::store::StoreError> for StateError {
    fn from(e: crate::store::StoreError) -> StateError {
        if e.refuses_cursor() {
            return StateError::Refused(Refusal::CursorRefused);
        }
        OAuthError::from(e).into()
    }
}

impl From<OAuthError> for StateError {
    fn from(e: OAuthError) -> StateError {
        let detail = e.debug.unwrap_or(e.description);
        // KV's one-write-per-second limit (`store::StoreError`): nothing was written.
        if e.code == ErrorCode::TemporarilyUnavailable {
            return StateError::Unavailable(detail);
        }
        StateError::Failed(detail)
    }
}

impl From<StateError> for OAuthError {
    fn from(e: StateError) -> OAuthError {
        match e {
            StateError::Refused(r) => r.into(),
            StateError::Unavailable(detail) => OAuthError::unavailable(detail),
            StateError::Failed(detail) => OAuthError::server(detail),
        }
    }
}

impl From<Refusal> for OAuthError {
    fn from(r: Refusal) -> OAuthError {
        let grant = OAuthError::invalid_grant;
        match r {
            Refusal::InvalidCode => grant("Invalid or expired authorization code"),
            Refusal::CodeReplayed(_) => {
                grant("Authorization code was already used; the tokens issued for it are revoked")
            }
            Refusal::RedirectUriMismatch => {
                grant("redirect_uri does not match the authorization request")
            }
            Refusal::InvalidVerifier => grant("Invalid code_verifier"),
            Refusal::ConsentWithdrawn => grant("The user withdrew consent for this client"),
            Refusal::NoScopeLeft => {
                grant("None of the granted scopes is still allowed for this client")
            }
            Refusal::InvalidRefreshToken => grant("Invalid or expired refresh token"),
            Refusal::RefreshReused => grant("Refresh token was already used; the grant is revoked"),
            Refusal::ScopeNotGranted(s) => OAuthError::invalid_scope(format!(
                "scope {s} was not granted; a refresh may only narrow the scope"
            )),
            Refusal::ScopeMalformed(m) => OAuthError::invalid_scope(m),
            Refusal::ResourceNotGranted => OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource is not the one this grant was authorized for",
            ),
            Refusal::CursorRefused => OAuthError::invalid_request(crate::store::CURSOR_REFUSED),
        }
    }
}

pub type StateResult<T> = Result<T, StateError>;

/// What [`State::claim_app`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AppClaim {
    /// Counted: create the application.
    Claimed,
    /// This form was already acted on: create nothing.
    Repeat,
    /// The developer has the most applications allowed: create nothing.
    Full,
}

/// How long a portal form's one-time submission id is remembered (a day: a reload later
/// than that acts again, and the page is long stale by then).
pub const SUBMISSION_TTL: u64 = 86_400;

/// The named transitions. Each doc states the guarantee on the default (durable) backend;
/// `docs/consistency.md` adds the KV backend's window.
#[allow(async_fn_in_trait)]
pub trait State {
    /// Issues an authorization code. `Approved`: merges the approved scopes into the
    /// remembered consent and issues, atomically; a request id is honoured once (a form
    /// submitted twice yields one code, `None` the second time). `Remembered`: issues only if
    /// the remembered consent covers the scopes (`None` otherwise: show the page). Parallel
    /// approvals for one user and client all merge; none is lost.
    async fn issue_code(&self, code: NewCode, consent: CodeConsent) -> StateResult<Option<String>>;

    /// Redeems a code: exactly once at any concurrency. A second redemption is refused and
    /// revokes the grant the first created. A wrong `redirect_uri` or `code_verifier`
    /// consumes the code. Refused if the remembered consent no longer covers the code's
    /// scopes. Creates the grant within the cap: at most [`MAX_GRANTS_PER_CLIENT`] live grants
    /// per user and client, the oldest revoked first.
    async fn exchange_code(&self, exchange: CodeExchange) -> StateResult<IssuedGrant>;

    /// Rotates a refresh token: each token yields at most one successor, at any concurrency.
    /// A rotated token presented again revokes the grant, except within `grace` seconds while
    /// its successor is still current: then the same successor is returned again. A refused
    /// refresh (wider scope, client without the scopes) changes nothing.
    async fn rotate_refresh(&self, rotation: RefreshRotation) -> StateResult<IssuedGrant>;

    /// The grant a current (not rotated) refresh token belongs to, for introspection.
    async fn find_refresh(&self, refresh_token: &str, now: u64) -> StateResult<Option<GrantView>>;

    /// RFC 7009 for a refresh token of `client_id`: revokes its whole grant. `false` when the
    /// token is unknown or another client's (nothing changes). Once this has answered, no
    /// refresh of that grant succeeds, including refreshes already in flight.
    async fn revoke_refresh_token(&self, refresh_token: &str, client_id: &str)
        -> StateResult<bool>;

    /// A live grant (unexpired, not revoked): what an access token's `gid` claim names.
    async fn get_grant(&self, grant_id: &str, now: u64) -> StateResult<Option<GrantView>>;

    /// Revokes one grant; `false` when unknown. Same guarantee as `revoke_refresh_token`.
    async fn revoke_grant(&self, grant_id: &str) -> StateResult<bool>;

    /// Revokes every grant `sub` gave `client_id` (all clients when `None`) and withdraws the
    /// matching remembered consent, in one step: a code issued before it is refused after.
    /// Bounded per request at any data size. The count is of the grants revoked; on KV, for
    /// all clients, of those reached by its bounded tidying (every grant is revoked).
    async fn revoke_user(&self, sub: &str, client_id: Option<&str>, now: u64)
        -> StateResult<usize>;

    /// A user's live grants, a page at a time: oldest first (on KV: client by client, each
    /// client's oldest first).
    async fn list_user_grants(
        &self,
        sub: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>>;

    /// A client's grants, a page at a time (read from KV on both backends).
    async fn list_client_grants(
        &self,
        client_id: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>>;

    /// Counts a sign-in attempt against `account` before the password is checked; `false`
    /// when the account already used its attempts in this window (do not evaluate). At most
    /// [`throttle::MAX_ACCOUNT_ATTEMPTS`] are evaluated per window, at any concurrency.
    async fn count_sign_in_attempt(&self, account: &str, now: u64) -> StateResult<bool>;

    /// A successful sign-in clears the account's count.
    async fn clear_sign_in_attempts(&self, account: &str, now: u64) -> StateResult<()>;

    /// Counts one failure against `subject` (a wrong admin token from an address) if fewer
    /// than `max` were counted in the window; `false` otherwise (answer 429, evaluate
    /// nothing). Exact at any concurrency on the durable backend (the subject's object); on KV
    /// a count by listing (parallel requests may overshoot).
    async fn count_failure(&self, subject: &str, max: u32, now: u64) -> StateResult<bool>;

    /// Whether `subject` used up its `max` failures in the window (read only).
    async fn failures_exhausted(&self, subject: &str, max: u32, now: u64) -> StateResult<bool>;

    /// Counts a new portal application `client_id` of `sub`, made by the one-time form
    /// `submission`, before it is written: `Repeat` when that form was already acted on,
    /// `Full` when `sub` already has `limit`. Exact at any concurrency (the user's object);
    /// on KV a count by listing (docs/consistency.md).
    async fn claim_app(
        &self,
        sub: &str,
        client_id: &str,
        submission: &str,
        limit: usize,
        now: u64,
    ) -> StateResult<AppClaim>;

    /// A portal application of `sub` was deleted: it no longer counts.
    async fn release_app(&self, sub: &str, client_id: &str) -> StateResult<()>;

    /// `true` the first time the one-time form `submission` of `sub` is acted on (a secret
    /// rotation): exactly once at any concurrency (the user's object); on KV best effort.
    async fn claim_submission(&self, sub: &str, submission: &str, now: u64) -> StateResult<bool>;

    /// Starts a session for the browser whose cookie secret is `secret`; returns the cookie's
    /// value and the session's hash. At most [`sessions::MAX_SESSIONS_PER_USER`] per user: the
    /// oldest ends to make room (durable: in the same step, exactly; KV: best effort).
    async fn start_session(
        &self,
        secret: &str,
        session: &crate::model::Session,
        ttl: u64,
    ) -> StateResult<(String, String)>;

    /// The live session a cookie names. Durable: decided by the user's object, so a session
    /// ended anywhere is refused at once; KV: within KV's propagation (about 60 s).
    async fn find_session(
        &self,
        at: &SessionAt,
        now: u64,
    ) -> StateResult<Option<crate::model::Session>>;

    /// Ends one session (sign-out, or a sign-in replacing the browser's session).
    async fn end_session(&self, at: &SessionAt, session: &crate::model::Session)
        -> StateResult<()>;

    /// Ends every session of `sub` (platform logout, account deletion); how many of them were
    /// live at `now`.
    async fn end_all_sessions(&self, sub: &str, now: u64) -> StateResult<usize>;

    /// The session a cookie names and, when the remembered consent covers the request, a
    /// code for it (`CodeConsent::Remembered`), in one step: one call to the user's object on
    /// the durable backend, where no code is issued in a session that has ended.
    async fn issue_code_in_session(
        &self,
        at: &SessionAt,
        request: CodeInSession,
    ) -> StateResult<SessionCode>;
}

/// Runs `$body` with `$s` bound to whichever backend `$backend` holds.
macro_rules! with_backend {
    ($backend:expr, $s:ident => $body:expr) => {
        match $backend {
            Backend::Kv($s) => $body,
            Backend::Durable($s) => $body,
        }
    };
}

/// The configured backend, as one value endpoints hold.
pub enum Backend<'a, S: crate::store::Store> {
    Kv(kv::KvState<'a, S>),
    Durable(durable::DurableState<'a, S>),
}

impl<S: crate::store::Store> State for Backend<'_, S> {
    async fn issue_code(&self, code: NewCode, consent: CodeConsent) -> StateResult<Option<String>> {
        with_backend!(self, s => s.issue_code(code, consent).await)
    }
    async fn exchange_code(&self, exchange: CodeExchange) -> StateResult<IssuedGrant> {
        with_backend!(self, s => s.exchange_code(exchange).await)
    }
    async fn rotate_refresh(&self, rotation: RefreshRotation) -> StateResult<IssuedGrant> {
        with_backend!(self, s => s.rotate_refresh(rotation).await)
    }
    async fn find_refresh(&self, token: &str, now: u64) -> StateResult<Option<GrantView>> {
        with_backend!(self, s => s.find_refresh(token, now).await)
    }
    async fn revoke_refresh_token(&self, token: &str, client_id: &str) -> StateResult<bool> {
        with_backend!(self, s => s.revoke_refresh_token(token, client_id).await)
    }
    async fn get_grant(&self, grant_id: &str, now: u64) -> StateResult<Option<GrantView>> {
        with_backend!(self, s => s.get_grant(grant_id, now).await)
    }
    async fn revoke_grant(&self, grant_id: &str) -> StateResult<bool> {
        with_backend!(self, s => s.revoke_grant(grant_id).await)
    }
    async fn revoke_user(&self, sub: &str, client: Option<&str>, now: u64) -> StateResult<usize> {
        with_backend!(self, s => s.revoke_user(sub, client, now).await)
    }
    async fn list_user_grants(
        &self,
        sub: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        with_backend!(self, s => s.list_user_grants(sub, cursor, limit, now).await)
    }
    async fn list_client_grants(
        &self,
        client_id: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        with_backend!(self, s => s.list_client_grants(client_id, cursor, limit, now).await)
    }
    async fn count_sign_in_attempt(&self, account: &str, now: u64) -> StateResult<bool> {
        with_backend!(self, s => s.count_sign_in_attempt(account, now).await)
    }
    async fn clear_sign_in_attempts(&self, account: &str, now: u64) -> StateResult<()> {
        with_backend!(self, s => s.clear_sign_in_attempts(account, now).await)
    }
    async fn count_failure(&self, subject: &str, max: u32, now: u64) -> StateResult<bool> {
        with_backend!(self, s => s.count_failure(subject, max, now).await)
    }
    async fn failures_exhausted(&self, subject: &str, max: u32, now: u64) -> StateResult<bool> {
        with_backend!(self, s => s.failures_exhausted(subject, max, now).await)
    }

    async fn claim_app(
        &self,
        sub: &str,
        client_id: &str,
        submission: &str,
        limit: usize,
        now: u64,
    ) -> StateResult<AppClaim> {
        with_backend!(self, s => s.claim_app(sub, client_id, submission, limit, now).await)
    }
    async fn release_app(&self, sub: &str, client_id: &str) -> StateResult<()> {
        with_backend!(self, s => s.release_app(sub, client_id).await)
    }
    async fn claim_submission(&self, sub: &str, submission: &str, now: u64) -> StateResult<bool> {
        with_backend!(self, s => s.claim_submission(sub, submission, now).await)
    }
    async fn start_session(
        &self,
        secret: &str,
        session: &crate::model::Session,
        ttl: u64,
    ) -> StateResult<(String, String)> {
        with_backend!(self, s => s.start_session(secret, session, ttl).await)
    }
    async fn find_session(
        &self,
        at: &SessionAt,
        now: u64,
    ) -> StateResult<Option<crate::model::Session>> {
        with_backend!(self, s => s.find_session(at, now).await)
    }
    async fn end_session(
        &self,
        at: &SessionAt,
        session: &crate::model::Session,
    ) -> StateResult<()> {
        with_backend!(self, s => s.end_session(at, session).await)
    }
    async fn end_all_sessions(&self, sub: &str, now: u64) -> StateResult<usize> {
        with_backend!(self, s => s.end_all_sessions(sub, now).await)
    }
    async fn issue_code_in_session(
        &self,
        at: &SessionAt,
        request: CodeInSession,
    ) -> StateResult<SessionCode> {
        with_backend!(self, s => s.issue_code_in_session(at, request).await)
    }
}
