//! The Durable Object backend (`STATE_BACKEND=durable`, the default).
//!
//! One object per user (named `user:{sub}`) holds that user's codes, grants, consents; one
//! per account email (`login:{hash}`) counts sign-in attempts. Each [`State`] operation is
//! one call to one object, which runs it synchronously on its SQLite ([`object`]): atomic
//! against every other request for that user, wherever they come from. Codes, refresh
//! tokens and grant ids start with the object's id, so they route back to it.
//!
//! The user's object also keeps their login sessions (`object::sessions`; the cookie names
//! the object). KV keeps what every location reads: clients, the access-token revocation list,
//! and `client_grant:{client}:{object}` index entries for the admin listing by client: one
//! per user and client, written when a code exchange gives the user their first live grant
//! of that client (so a returning user's flow writes nothing to KV).

pub mod object;
pub mod ops;
pub mod sql;
pub mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

use self::ops::{Answer, Call, Op, Reply};
use super::{
    sessions, throttle, AppClaim, CodeConsent, CodeExchange, CodeInSession, GrantView, IssuedGrant,
    NewCode, Page, RefreshRotation, Refusal, SessionAt, SessionCode, State, StateError,
    StateResult, MAX_GRANTS_PER_CLIENT, SUBMISSION_TTL,
};
use crate::model::Session;
use crate::store::{keys, Store};
use std::future::Future;
use std::pin::Pin;

/// How often a repeatable object call is sent again after a lost answer.
const REPEATS: usize = 2;

pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The object namespace: the Worker's Durable Object binding, or SQLite in memory natively.
pub trait Objects {
    /// The id of the object called `name` (stable; 64 hex characters).
    fn id_for(&self, name: &str) -> Result<String, StateError>;

    /// Whether `id` is an id this namespace could have made (a forged one in a code or token
    /// names nothing: a refusal, never a server error).
    fn is_valid_id(&self, id: &str) -> bool;

    /// Sends one call to the object `call.object`. A transport failure is `Unavailable`.
    fn call(&self, call: Call) -> LocalBoxFuture<'_, Answer>;
}

/// Object ids are 64 lowercase hex characters; anything else cannot be one of ours.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A user's entry in a client's listing: `{object id}-{generation}`.
fn listing_name(object: &str, generation: i64) -> String {
    format!("{object}-{generation}")
}

fn user_object(sub: &str) -> String {
    format!("user:{sub}")
}

pub struct DurableState<'a, S: Store> {
    pub store: &'a S,
    pub objects: &'a dyn Objects,
}

impl<S: Store> DurableState<'_, S> {
    /// The object a code, refresh token or grant id belongs to: its first `.`-separated part.
    fn object_of<'t>(&self, text: &'t str) -> Option<&'t str> {
        text.split('.')
            .next()
            .filter(|o| is_object_id(o) && self.objects.is_valid_id(o))
    }

    fn seq_in<'t>(&self, grant_id: &'t str) -> Option<(&'t str, i64)> {
        let (object, seq) = super::ids::durable_grant(grant_id)?;
        self.object_of(object).map(|o| (o, seq))
    }

    /// One call to an object. A repeatable call whose answer did not arrive (the object may
    /// or may not have run it) is sent again, at most [`REPEATS`] times, before the request
    /// answers 503: the object answers a repeat as it answered the first (docs/consistency.md).
    async fn ask(&self, object: &str, op: Op) -> Answer {
        let call = Call {
            object: object.to_string(),
            op,
        };
        let repeats = if call.op.repeatable() { REPEATS } else { 0 };
        let mut answer = self.objects.call(call.clone()).await;
        for _ in 0..repeats {
            if !matches!(answer, Err(StateError::Unavailable(_))) {
                break;
            }
            answer = self.objects.call(call.clone()).await;
        }
        answer
    }

    /// The live grants of `client_id` behind one listing entry (at most the cap); none
    /// when the entry is not its user's current one.
    async fn listed_grants(
        &self,
        object: &str,
        client_id: &str,
        generation: &str,
        now: u64,
    ) -> StateResult<Vec<GrantView>> {
        let (Some(object), Some(generation)) = (
            self.object_of(object),
            super::ids::canonical_i64(generation),
        ) else {
            return Ok(vec![]);
        };
        let op = Op::ListGrants {
            after: None,
            limit: MAX_GRANTS_PER_CLIENT,
            now,
            client_id: Some(client_id.to_string()),
            generation,
        };
        match self.ask(object, op).await? {
            Reply::Grants(page) => Ok(page.items),
            other => Err(unexpected(other)),
        }
    }

    /// The object a session cookie names, if it is one of ours; `None` for a KV session
    /// (`Err` for a forged or foreign object id: no session).
    fn session_object<'t>(&self, at: &'t SessionAt) -> Result<Option<&'t str>, ()> {
        match at.object.as_deref() {
            None => Ok(None),
            Some(o) if is_object_id(o) && self.objects.is_valid_id(o) => Ok(Some(o)),
            Some(_) => Err(()),
        }
    }

    async fn ask_user(&self, sub: &str, op: Op) -> Answer {
        let object = self.objects.id_for(&user_object(sub))?;
        self.ask(&object, op).await
    }
}

/// Names only the variant: replies carry codes and refresh tokens, which never go to logs.
fn unexpected(reply: Reply) -> StateError {
    let kind = match reply {
        Reply::Code(_) => "Code",
        Reply::Issued(_) => "Issued",
        Reply::Grant(_) => "Grant",
        Reply::Claim(_) => "Claim",
        Reply::Flag(_) => "Flag",
        Reply::Count(_) => "Count",
        Reply::Grants(_) => "Grants",
        Reply::Session(_) => "Session",
        Reply::SessionCode(_) => "SessionCode",
        Reply::Done => "Done",
    };
    StateError::Failed(format!("unexpected reply from the user object: {kind}"))
}

impl<S: Store> State for DurableState<'_, S> {
    async fn issue_code(&self, code: NewCode, consent: CodeConsent) -> StateResult<Option<String>> {
        let sub = code.sub.clone();
        match self.ask_user(&sub, Op::IssueCode { code, consent }).await? {
            Reply::Code(code) => Ok(code),
            other => Err(unexpected(other)),
        }
    }

    async fn exchange_code(&self, x: CodeExchange) -> StateResult<IssuedGrant> {
        let object = self
            .object_of(&x.code)
            .ok_or(Refusal::InvalidCode)?
            .to_string();
        let issued = match self.ask(&object, Op::ExchangeCode(x)).await? {
            Reply::Issued(issued) => issued,
            other => return Err(unexpected(other)),
        };
        // The client's listing names this user while they have a live grant of it: a new
        // entry when the first one appears, written after the object decided and best effort
        // (a failure loses only an admin listing entry, never the response, whose retry would
        // be a replay). No TTL; the listing prunes entries whose user has no grant left.
        if let Some(generation) = issued.listing {
            let key =
                keys::client_grant(&issued.grant.client_id, &listing_name(&object, generation));
            let _ = self.store.put(&key, "", None).await;
        }
        Ok(issued)
    }

    async fn rotate_refresh(&self, r: RefreshRotation) -> StateResult<IssuedGrant> {
        let object = self
            .object_of(&r.refresh_token)
            .ok_or(Refusal::InvalidRefreshToken)?
            .to_string();
        match self.ask(&object, Op::Rotate(r)).await? {
            Reply::Issued(issued) => Ok(issued),
            other => Err(unexpected(other)),
        }
    }

    async fn find_refresh(&self, token: &str, now: u64) -> StateResult<Option<GrantView>> {
        let Some(object) = self.object_of(token) else {
            return Ok(None);
        };
        let token = token.to_string();
        match self.ask(object, Op::FindRefresh { token, now }).await? {
            Reply::Grant(grant) => Ok(grant),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke_refresh_token(&self, token: &str, client_id: &str) -> StateResult<bool> {
        let Some(object) = self.object_of(token) else {
            return Ok(false);
        };
        let op = Op::RevokeRefresh {
            token: token.to_string(),
            client_id: client_id.to_string(),
        };
        match self.ask(object, op).await? {
            Reply::Flag(done) => Ok(done),
            other => Err(unexpected(other)),
        }
    }

    async fn get_grant(&self, grant_id: &str, now: u64) -> StateResult<Option<GrantView>> {
        let Some((object, seq)) = self.seq_in(grant_id) else {
            return Ok(None);
        };
        match self.ask(object, Op::GetGrant { seq, now }).await? {
            Reply::Grant(grant) => Ok(grant),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke_grant(&self, grant_id: &str) -> StateResult<bool> {
        let Some((object, seq)) = self.seq_in(grant_id) else {
            return Ok(false);
        };
        match self.ask(object, Op::RevokeGrant { seq }).await? {
            Reply::Flag(done) => Ok(done),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke_user(
        &self,
        sub: &str,
        client_id: Option<&str>,
        _now: u64,
    ) -> StateResult<usize> {
        let op = Op::RevokeUser {
            client_id: client_id.map(str::to_string),
        };
        match self.ask_user(sub, op).await? {
            Reply::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    async fn list_user_grants(
        &self,
        sub: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        // A cursor is a grant sequence number as this listing wrote it; anything else is
        // refused, never read as "from the start".
        let after = match cursor {
            None => None,
            Some(c) => Some(super::ids::canonical_i64(c).ok_or(Refusal::CursorRefused)?),
        };
        match self
            .ask_user(
                sub,
                Op::ListGrants {
                    after,
                    limit,
                    now,
                    client_id: None,
                    generation: 0,
                },
            )
            .await?
        {
            Reply::Grants(page) => Ok(page),
            other => Err(unexpected(other)),
        }
    }

    async fn list_client_grants(
        &self,
        client_id: &str,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> StateResult<Page<GrantView>> {
        // One entry per user with a live grant of the client (`{object}-{generation}`), whose
        // object lists them: at most MAX_GRANTS_PER_CLIENT, so a page reads limit / that many
        // entries (at least one) and holds at most max(limit, MAX_GRANTS_PER_CLIENT) grants,
        // one object call per entry. An entry whose user has no grant left, or that a newer
        // generation replaced, is pruned. Entries named by a grant id (`{object}.{seq}`, as
        // written before) are one grant each.
        let prefix = keys::client_grant(client_id, "");
        let entries = (limit / MAX_GRANTS_PER_CLIENT).max(1);
        let page = self.store.list(&prefix, cursor, entries).await?;
        let mut items = Vec::new();
        for key in &page.keys {
            let name = &key[prefix.len()..];
            let grants = match name.split_once('-') {
                Some((object, generation)) => {
                    self.listed_grants(object, client_id, generation, now)
                        .await?
                }
                None => self.get_grant(name, now).await?.into_iter().collect(),
            };
            if grants.is_empty() {
                let _ = self.store.delete(key).await;
            }
            items.extend(grants);
        }
        Ok(Page {
            items,
            cursor: page.cursor,
        })
    }

    async fn count_sign_in_attempt(&self, account: &str, now: u64) -> StateResult<bool> {
        let object = self.objects.id_for(&format!("login:{account}"))?;
        let op = Op::CountAttempt {
            max: throttle::MAX_ACCOUNT_ATTEMPTS,
            window: throttle::WINDOW_SECONDS,
            now,
        };
        match self.ask(&object, op).await? {
            Reply::Flag(allowed) => Ok(allowed),
            other => Err(unexpected(other)),
        }
    }

    async fn clear_sign_in_attempts(&self, account: &str, _now: u64) -> StateResult<()> {
        let object = self.objects.id_for(&format!("login:{account}"))?;
        self.ask(&object, Op::ClearAttempts).await?;
        Ok(())
    }

    async fn count_failure(&self, subject: &str, max: u32, now: u64) -> StateResult<bool> {
        let object = self.objects.id_for(&format!("failures:{subject}"))?;
        let window = throttle::WINDOW_SECONDS;
        match self
            .ask(&object, Op::CountAttempt { max, window, now })
            .await?
        {
            Reply::Flag(allowed) => Ok(allowed),
            other => Err(unexpected(other)),
        }
    }

    async fn claim_app(
        &self,
        sub: &str,
        client_id: &str,
        submission: &str,
        limit: usize,
        now: u64,
    ) -> StateResult<AppClaim> {
        let op = Op::ClaimApp {
            client_id: client_id.to_string(),
            submission: submission.to_string(),
            limit,
            expires_at: now + SUBMISSION_TTL,
        };
        match self.ask_user(sub, op).await? {
            Reply::Claim(claim) => Ok(claim),
            other => Err(unexpected(other)),
        }
    }

    async fn failures_exhausted(&self, subject: &str, max: u32, now: u64) -> StateResult<bool> {
        let object = self.objects.id_for(&format!("failures:{subject}"))?;
        let window = throttle::WINDOW_SECONDS;
        match self
            .ask(&object, Op::AttemptsExhausted { max, window, now })
            .await?
        {
            Reply::Flag(exhausted) => Ok(exhausted),
            other => Err(unexpected(other)),
        }
    }

    async fn release_app(&self, sub: &str, client_id: &str) -> StateResult<()> {
        let op = Op::ReleaseApp {
            client_id: client_id.to_string(),
        };
        self.ask_user(sub, op).await?;
        Ok(())
    }

    async fn claim_submission(&self, sub: &str, submission: &str, now: u64) -> StateResult<bool> {
        let op = Op::ClaimSubmission {
            submission: submission.to_string(),
            expires_at: now + SUBMISSION_TTL,
        };
        match self.ask_user(sub, op).await? {
            Reply::Flag(first) => Ok(first),
            other => Err(unexpected(other)),
        }
    }

    async fn start_session(
        &self,
        secret: &str,
        session: &Session,
        _ttl: u64,
    ) -> StateResult<(String, String)> {
        // The cookie names the user's object, so that every later request finds the session
        // with one call to it and no KV read.
        let object = self.objects.id_for(&user_object(&session.sub))?;
        let value = format!("{object}.{secret}");
        let hash = crate::token::opaque::hash(&value);
        let op = Op::StartSession {
            hash: hash.clone(),
            session: session.clone(),
        };
        match self.ask(&object, op).await? {
            Reply::Done => Ok((value, hash)),
            other => Err(unexpected(other)),
        }
    }

    async fn find_session(&self, at: &SessionAt, now: u64) -> StateResult<Option<Session>> {
        let object = match self.session_object(at) {
            Ok(Some(object)) => object,
            Ok(None) => return Ok(sessions::find_hashed(self.store, &at.hash, now).await?),
            Err(()) => return Ok(None),
        };
        let op = Op::FindSession {
            hash: at.hash.clone(),
            now,
        };
        match self.ask(object, op).await? {
            Reply::Session(session) => Ok(session),
            other => Err(unexpected(other)),
        }
    }

    async fn end_session(&self, at: &SessionAt, session: &Session) -> StateResult<()> {
        match self.session_object(at) {
            Ok(Some(object)) => {
                let op = Op::EndSession {
                    hash: at.hash.clone(),
                };
                match self.ask(object, op).await? {
                    Reply::Flag(_) => Ok(()),
                    other => Err(unexpected(other)),
                }
            }
            Ok(None) => Ok(sessions::delete(self.store, &at.hash, session).await?),
            Err(()) => Ok(()),
        }
    }

    async fn end_all_sessions(&self, sub: &str, now: u64) -> StateResult<usize> {
        let in_object = match self.ask_user(sub, Op::EndAllSessions { now }).await? {
            Reply::Count(n) => n,
            other => return Err(unexpected(other)),
        };
        // Sessions started before they moved into the objects are KV records.
        let in_kv = sessions::delete_all_for(self.store, sub).await?;
        Ok(in_object + in_kv)
    }

    async fn issue_code_in_session(
        &self,
        at: &SessionAt,
        request: CodeInSession,
    ) -> StateResult<SessionCode> {
        let object = match self.session_object(at) {
            Ok(Some(object)) => object,
            Ok(None) => {
                let session = sessions::find_hashed(self.store, &at.hash, request.code.now).await?;
                return sessions::issue_in_found(self, session, &at.hash, request).await;
            }
            Err(()) => {
                return Ok(SessionCode {
                    session: None,
                    code: None,
                })
            }
        };
        let op = Op::IssueCodeInSession {
            hash: at.hash.clone(),
            request,
        };
        match self.ask(object, op).await? {
            Reply::SessionCode(found) => Ok(found),
            other => Err(unexpected(other)),
        }
    }
}
