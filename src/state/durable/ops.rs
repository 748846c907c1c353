//! What the Worker asks a user's object, and what it answers: JSON over the object's
//! `fetch` (workers-rs has no Durable Object RPC yet). Written with `Serialize`, read by
//! `wire.rs`.

use crate::model::Session;
use crate::state::{
    CodeConsent, CodeExchange, CodeInSession, GrantView, IssuedGrant, NewCode, Page,
    RefreshRotation, SessionCode, StateError,
};
use serde::Serialize;

/// A request to one object. `object` is the object's own id (it appears in the codes and
/// grant ids it hands out, so they route back to it).
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub object: String,
    pub op: Op,
}

#[derive(Debug, Clone, Serialize)]
pub enum Op {
    IssueCode {
        code: NewCode,
        consent: CodeConsent,
    },
    ExchangeCode(CodeExchange),
    Rotate(RefreshRotation),
    FindRefresh {
        token: String,
        now: u64,
    },
    RevokeRefresh {
        token: String,
        client_id: String,
    },
    GetGrant {
        seq: i64,
        now: u64,
    },
    RevokeGrant {
        seq: i64,
    },
    RevokeUser {
        client_id: Option<String>,
    },
    ListGrants {
        after: Option<i64>,
        limit: usize,
        now: u64,
        /// Only this client's grants, and only if the user's listing entry for it is of
        /// `generation` (the admin listing by client).
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        generation: i64,
    },
    CountAttempt {
        max: u32,
        window: u64,
        now: u64,
    },
    /// Whether `max` attempts were counted within the window (read only).
    AttemptsExhausted {
        max: u32,
        window: u64,
        now: u64,
    },
    ClearAttempts,
    /// Portal: a new application of this user, made by one-time form `submission`.
    ClaimApp {
        client_id: String,
        submission: String,
        limit: usize,
        expires_at: u64,
    },
    /// Portal: the application was deleted (it no longer counts).
    ReleaseApp {
        client_id: String,
    },
    /// Portal: a one-time form (rotation) acts once.
    ClaimSubmission {
        submission: String,
        expires_at: u64,
    },
    /// A sign-in: the session under `hash` (the hash of its cookie's value).
    StartSession {
        hash: String,
        session: Session,
    },
    FindSession {
        hash: String,
        now: u64,
    },
    EndSession {
        hash: String,
    },
    EndAllSessions {
        now: u64,
    },
    /// Authorize without a page: the session and, if the consent covers it, a code.
    IssueCodeInSession {
        hash: String,
        request: CodeInSession,
    },
}

impl Op {
    /// Whether running this call twice has the effect of running it once, with the same
    /// answer: the Worker repeats these when an answer is lost (`DurableState::ask`).
    pub fn repeatable(&self) -> bool {
        match self {
            // A used code presented again with its verifier is answered on the same grant.
            Op::ExchangeCode(_) => true,
            // The same attempt gets the same successor (`grants::rotate`).
            Op::Rotate(r) => r.attempt.is_some(),
            // One code per consent form, the same code again while unused.
            Op::IssueCode { consent, .. } => matches!(consent, CodeConsent::Approved { .. }),
            Op::FindRefresh { .. }
            | Op::RevokeRefresh { .. }
            | Op::GetGrant { .. }
            | Op::RevokeGrant { .. }
            | Op::RevokeUser { .. }
            | Op::ListGrants { .. }
            | Op::ClearAttempts
            | Op::AttemptsExhausted { .. } => true,
            Op::ReleaseApp { .. } => true,
            // The same session stored again; ending what has ended changes nothing (a repeat
            // of ending all counts only what the lost first call left).
            Op::StartSession { .. }
            | Op::FindSession { .. }
            | Op::EndSession { .. }
            | Op::EndAllSessions { .. } => true,
            // Like a remembered-consent code: a repeat would issue a second code.
            Op::IssueCodeInSession { .. } => false,
            // A repeat would count one sign-in attempt twice, or take a form's id as already
            // acted on when the first answer (and so the action) was lost.
            Op::CountAttempt { .. } | Op::ClaimApp { .. } | Op::ClaimSubmission { .. } => false,
        }
    }
}

#[derive(Debug, Serialize)]
pub enum Reply {
    Code(Option<String>),
    Issued(IssuedGrant),
    Grant(Option<GrantView>),
    Flag(bool),
    Count(usize),
    Claim(crate::state::AppClaim),
    Grants(Page<GrantView>),
    Session(Option<Session>),
    SessionCode(SessionCode),
    Done,
}

pub type Answer = Result<Reply, StateError>;
