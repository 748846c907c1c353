//! One conformance suite for the state seam (`edge_oauth::state::State`), run natively
//! against both backends: KV (on the faithful `MemoryStore`) and the per-user Durable Object
//! logic (on SQLite in memory, calls serialised as over the Worker's stub). Each case is the
//! sequential contract both must keep; concurrency is tested against the built Worker
//! (tests/e2e_concurrency.rs).

use edge_oauth::oauth::pkce;
use edge_oauth::state::durable::native::NativeObjects;
use edge_oauth::state::durable::DurableState;
use edge_oauth::state::kv::KvState;
use edge_oauth::state::*;
use edge_oauth::store::MemoryStore;
use futures_executor::block_on;

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9QD3x6YyRzlQfmFdKZqV7fz3o0aZ1";
const REDIRECT: &str = "https://app.example/cb";
const DAY: u64 = 86_400;

struct Fixture {
    store: MemoryStore,
    objects: NativeObjects,
    n: std::cell::Cell<u64>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            store: MemoryStore::new(1_800_000_000),
            objects: NativeObjects::new(),
            n: std::cell::Cell::new(0),
        }
    }
    fn now(&self) -> u64 {
        self.store.now()
    }
    /// Moves time on by a second, as consecutive requests on KV must (one write per key
    /// per second).
    fn tick(&self) {
        self.store.advance(1);
    }
    fn unique(&self, tag: &str) -> String {
        self.n.set(self.n.get() + 1);
        format!("{tag}{:040}", self.n.get())
    }
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn new_code(f: &Fixture, sub: &str, client: &str, wanted: &[&str]) -> NewCode {
    NewCode {
        sub: sub.into(),
        client_id: client.into(),
        redirect_uri: REDIRECT.into(),
        scopes: scopes(wanted),
        code_challenge: pkce::challenge_for(VERIFIER),
        secret: f.unique("secret"),
        id_nonce: f.unique("n")[30..].to_string(),
        now: f.now(),
        expires_at: f.now() + 60,
        sign_in: None,
        resource: None,
    }
}

fn approved(f: &Fixture) -> CodeConsent {
    CodeConsent::Approved {
        request_id: f.unique("req"),
        ttl: 30 * DAY,
    }
}

fn exchange(f: &Fixture, code: &str, client: &str, verifier: &str) -> CodeExchange {
    CodeExchange {
        code: code.into(),
        client_id: client.into(),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: verifier.into(),
        allowed_scopes: scopes(&["read", "write", "admin"]),
        refresh_secret: f.unique("rt"),
        chain_key: f.unique("ck"),
        refresh_ttl: 30 * DAY,
        now: f.now(),
        resource: None,
    }
}

fn rotation(f: &Fixture, token: &str, client: &str, grace: u64) -> RefreshRotation {
    RefreshRotation {
        refresh_token: token.into(),
        client_id: client.into(),
        requested_scopes: None,
        allowed_scopes: scopes(&["read", "write", "admin"]),
        grace,
        refresh_ttl: 30 * DAY,
        now: f.now(),
        attempt: None,
        resource: None,
    }
}

fn refused<T: std::fmt::Debug>(r: StateResult<T>) -> Refusal {
    match r {
        Err(StateError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A user approves `client` and the client redeems the code: the issued grant.
fn grant(s: &impl State, f: &Fixture, sub: &str, client: &str) -> IssuedGrant {
    let code = block_on(s.issue_code(new_code(f, sub, client, &["read"]), approved(f)))
        .unwrap()
        .expect("approved code");
    f.tick();
    let issued = block_on(s.exchange_code(exchange(f, &code, client, VERIFIER))).unwrap();
    f.tick();
    issued
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod kv {
            $(#[test] fn $name() { let f = super::Fixture::new(); super::$name(&edge_oauth::state::kv::KvState::new(&f.store), &f); })*
        }
        mod durable {
            $(#[test] fn $name() { let f = super::Fixture::new(); super::$name(&super::durable(&f), &f); })*
        }
    };
}

fn durable(f: &Fixture) -> DurableState<'_, MemoryStore> {
    DurableState {
        store: &f.store,
        objects: &f.objects,
    }
}

fn kv(f: &Fixture) -> KvState<'_, MemoryStore> {
    KvState::new(&f.store)
}

conformance!(
    a_code_redeems_once_and_a_replay_revokes_what_it_issued,
    a_retried_exchange_gets_the_same_grant_and_a_replay_without_verifier_revokes,
    a_repeated_rotation_gets_the_same_successor_and_another_request_is_reuse,
    a_consent_form_approved_again_gets_the_same_code_until_it_is_used,
    a_wrong_verifier_or_redirect_uri_consumes_the_code,
    an_expired_or_other_clients_code_is_refused_and_left_alone,
    remembered_consent_issues_only_within_what_was_approved,
    approvals_merge_into_the_remembered_consent,
    withdrawing_consent_refuses_a_code_issued_before,
    approving_again_does_not_revive_a_code_issued_before_a_withdrawal,
    rotation_yields_one_successor_and_reuse_revokes_the_grant,
    within_the_grace_the_previous_token_gets_the_same_successor,
    a_refused_refresh_does_not_rotate,
    introspection_sees_only_the_current_refresh_token,
    revoking_a_refresh_token_ends_the_grant_for_its_client_only,
    the_grant_cap_evicts_the_oldest_by_a_total_order,
    grants_list_a_page_at_a_time,
    a_users_listing_pages_within_and_across_clients,
    a_grant_kept_alive_by_refreshes_stays_listed_and_revocable,
    revoking_a_user_ends_their_grants_and_consents,
    revoking_all_ends_what_came_before_even_in_the_same_second_and_nothing_after,
    sign_in_attempts_are_counted_up_to_the_limit,
    lifetimes_end_codes_and_refresh_tokens,
    a_one_time_form_acts_once_per_user,
    portal_applications_are_counted_to_the_limit_and_released_by_deletion,
    a_deleted_client_stays_deleted_when_a_racing_edit_writes_it_back,
    a_rotated_secret_survives_an_edit_of_the_record,
    a_grant_keeps_the_resource_its_code_was_issued_for,
    a_token_request_naming_another_resource_is_refused,
    a_session_is_found_until_it_ends_or_expires,
    a_code_in_a_session_needs_the_session_live_and_the_consent_covering,
    an_openid_code_in_a_session_carries_its_sign_in,
    a_users_sessions_are_capped_and_the_oldest_end_first,
    ending_all_sessions_ends_each_one,
);

fn a_session(f: &Fixture, sub: &str) -> edge_oauth::model::Session {
    edge_oauth::model::Session {
        sub: sub.into(),
        name: Some("Ada".into()),
        email: Some(format!("{sub}@example.com")),
        picture: None,
        csrf_token: f.unique("csrf"),
        created_at: f.now(),
        expires_at: f.now() + DAY,
    }
}

/// Starts a session as a sign-in does; the cookie's value and where the session is kept.
fn sign_in(s: &impl State, f: &Fixture, sub: &str) -> (String, SessionAt) {
    let (value, hash) = block_on(s.start_session(&f.unique("secret"), &a_session(f, sub), DAY))
        .expect("session started");
    let at = edge_oauth::oauth::session::at(&value).expect("a cookie value");
    assert_eq!(at.hash, hash, "the hash is the cookie value's");
    (value, at)
}

fn in_session(f: &Fixture, wanted: &[&str], signed_in_after: u64) -> CodeInSession {
    CodeInSession {
        code: new_code(f, "", "app", wanted),
        nonce: Some("n-0".into()),
        signed_in_after,
    }
}

fn a_session_is_found_until_it_ends_or_expires(s: &impl State, f: &Fixture) {
    let (_, at) = sign_in(s, f, "ann");
    let found = block_on(s.find_session(&at, f.now()))
        .unwrap()
        .expect("live");
    assert_eq!(found.sub, "ann");
    assert_eq!(found.email.as_deref(), Some("ann@example.com"));
    f.tick();
    block_on(s.end_session(&at, &found)).unwrap();
    assert_eq!(block_on(s.find_session(&at, f.now())).unwrap(), None);
    // Ending it again changes nothing.
    block_on(s.end_session(&at, &found)).unwrap();
    let (_, later) = sign_in(s, f, "ann");
    assert_eq!(
        block_on(s.find_session(&later, f.now() + DAY)).unwrap(),
        None,
        "expired"
    );
    // A cookie value no sign-in made names nothing.
    let forged = edge_oauth::oauth::session::at(&format!("{}.x", "ab".repeat(32))).unwrap();
    assert_eq!(block_on(s.find_session(&forged, f.now())).unwrap(), None);
}

fn a_code_in_a_session_needs_the_session_live_and_the_consent_covering(
    s: &impl State,
    f: &Fixture,
) {
    let (_, at) = sign_in(s, f, "bea");
    // Signed in, no consent yet: the session, no code (the consent page).
    let found = block_on(s.issue_code_in_session(&at, in_session(f, &["read"], 0))).unwrap();
    assert_eq!(found.session.as_ref().map(|s| s.sub.as_str()), Some("bea"));
    assert_eq!(found.code, None);
    block_on(s.issue_code(new_code(f, "bea", "app", &["read"]), approved(f))).unwrap();
    f.tick();
    let found = block_on(s.issue_code_in_session(&at, in_session(f, &["read"], 0))).unwrap();
    let code = found.code.expect("the remembered consent covers it");
    // The code is the session's user's.
    let issued = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).unwrap();
    assert_eq!(issued.grant.sub, "bea");
    // Wider than the consent: no code.
    let wider = block_on(s.issue_code_in_session(&at, in_session(f, &["read", "write"], 0)));
    assert_eq!(wider.unwrap().code, None);
    // max_age: a session signed in before the limit counts as none.
    let created = found.session.unwrap().created_at;
    let old = block_on(s.issue_code_in_session(&at, in_session(f, &["read"], created + 1)));
    assert_eq!(old.unwrap().session, None);
    // Once the session ended, nothing is issued in it.
    let session = block_on(s.find_session(&at, f.now())).unwrap().unwrap();
    f.tick();
    block_on(s.end_session(&at, &session)).unwrap();
    let ended = block_on(s.issue_code_in_session(&at, in_session(f, &["read"], 0))).unwrap();
    assert_eq!((ended.session, ended.code), (None, None));
}

fn an_openid_code_in_a_session_carries_its_sign_in(s: &impl State, f: &Fixture) {
    let (_, at) = sign_in(s, f, "cy");
    let signed_in_at = f.now();
    block_on(s.issue_code(new_code(f, "cy", "app", &["openid", "read"]), approved(f))).unwrap();
    f.tick();
    let found = block_on(s.issue_code_in_session(&at, in_session(f, &["openid", "read"], 0)));
    let code = found.unwrap().code.expect("covered");
    let mut x = exchange(f, &code, "app", VERIFIER);
    x.allowed_scopes.push("openid".into());
    let issued = block_on(s.exchange_code(x)).unwrap();
    let sign_in = issued
        .grant
        .sign_in
        .expect("an openid grant remembers its sign-in");
    assert_eq!(sign_in.auth_time, signed_in_at);
    assert_eq!(sign_in.sid, edge_oauth::oauth::oidc::sid(&at.hash));
    assert_eq!(sign_in.nonce.as_deref(), Some("n-0"));
}

fn a_users_sessions_are_capped_and_the_oldest_end_first(s: &impl State, f: &Fixture) {
    let max = sessions::MAX_SESSIONS_PER_USER;
    let started: Vec<SessionAt> = (0..max + 3)
        .map(|_| {
            let (_, at) = sign_in(s, f, "dee");
            f.tick();
            at
        })
        .collect();
    let live: Vec<bool> = started
        .iter()
        .map(|at| block_on(s.find_session(at, f.now())).unwrap().is_some())
        .collect();
    assert!(
        live[..3].iter().all(|l| !l),
        "the three oldest ended: {live:?}"
    );
    assert!(
        live[3..].iter().all(|l| *l),
        "the newest {max} live: {live:?}"
    );
}

fn ending_all_sessions_ends_each_one(s: &impl State, f: &Fixture) {
    let mine: Vec<SessionAt> = (0..3)
        .map(|_| {
            let (_, at) = sign_in(s, f, "eve");
            f.tick();
            at
        })
        .collect();
    let (_, other) = sign_in(s, f, "fay");
    f.tick();
    assert_eq!(block_on(s.end_all_sessions("eve", f.now())).unwrap(), 3);
    for at in &mine {
        assert_eq!(block_on(s.find_session(at, f.now())).unwrap(), None);
    }
    assert!(block_on(s.find_session(&other, f.now())).unwrap().is_some());
    // Sessions that expired count for nothing: the answer says how many were live.
    sign_in(s, f, "eve");
    f.store.advance(DAY + 1);
    assert_eq!(block_on(s.end_all_sessions("eve", f.now())).unwrap(), 0);
}

const API: &str = "https://api.example/mcp";

/// RFC 8707: the resource named at authorize travels with the code into the grant, and every
/// token of the grant (exchange, refresh without `resource`) is for it.
fn a_grant_keeps_the_resource_its_code_was_issued_for(s: &impl State, f: &Fixture) {
    let code = NewCode {
        resource: Some(API.into()),
        ..new_code(f, "rhea", "app", &["read"])
    };
    let code = block_on(s.issue_code(code, approved(f))).unwrap().unwrap();
    f.tick();
    let x = CodeExchange {
        resource: Some(API.into()),
        ..exchange(f, &code, "app", VERIFIER)
    };
    let issued = block_on(s.exchange_code(x)).unwrap();
    assert_eq!(issued.grant.resource.as_deref(), Some(API));
    f.tick();
    let next = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0))).unwrap();
    assert_eq!(next.grant.resource.as_deref(), Some(API));
    let found = block_on(s.get_grant(&issued.grant.grant_id, f.now())).unwrap();
    assert_eq!(found.unwrap().resource.as_deref(), Some(API));
    // A grant without one has none (its tokens go to ACCESS_TOKEN_AUDIENCE).
    assert_eq!(grant(s, f, "rhea", "other").grant.resource, None);
}

/// RFC 8707 §2.2: naming another resource than the grant's is refused; at refresh it
/// changes nothing (the token still rotates afterwards), at exchange it consumes the code.
fn a_token_request_naming_another_resource_is_refused(s: &impl State, f: &Fixture) {
    let code = NewCode {
        resource: Some(API.into()),
        ..new_code(f, "rex", "app", &["read"])
    };
    let code = block_on(s.issue_code(code, approved(f))).unwrap().unwrap();
    f.tick();
    let wrong = CodeExchange {
        resource: Some("https://api.example".into()),
        ..exchange(f, &code, "app", VERIFIER)
    };
    assert_eq!(
        refused(block_on(s.exchange_code(wrong))),
        Refusal::ResourceNotGranted
    );
    f.tick();
    let retry = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER)));
    assert!(matches!(refused(retry), Refusal::CodeReplayed(_)));
    f.tick();
    // A grant without a resource: naming one at refresh is refused, and changes nothing.
    let issued = grant(s, f, "rex", "app");
    let naming = RefreshRotation {
        resource: Some(API.into()),
        ..rotation(f, &issued.refresh_token, "app", 0)
    };
    assert_eq!(
        refused(block_on(s.rotate_refresh(naming))),
        Refusal::ResourceNotGranted
    );
    f.tick();
    let next = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0)));
    assert_eq!(next.unwrap().grant.resource, None);
}

fn portal_client(f: &Fixture, owner: &str) -> edge_oauth::model::Client {
    use edge_oauth::oauth::client_registry::{build, Draft};
    let draft = Draft {
        client_name: Some("App".into()),
        redirect_uris: Some(vec![REDIRECT.into()]),
        scope: Some("profile:read".into()),
        ..Draft::default()
    };
    let catalog = edge_oauth::oauth::scope::ScopeCatalog::default();
    let mut c = build(
        draft,
        &catalog,
        f.unique("c")[30..].into(),
        Some(owner.into()),
        f.now(),
    )
    .unwrap();
    c.secret_hash = Some("h0".into());
    c
}

fn a_one_time_form_acts_once_per_user(s: &impl State, f: &Fixture) {
    assert!(block_on(s.claim_submission("ann", "form1", f.now())).unwrap());
    assert!(!block_on(s.claim_submission("ann", "form1", f.now())).unwrap());
    assert!(block_on(s.claim_submission("ann", "form2", f.now())).unwrap());
    assert!(block_on(s.claim_submission("bob", "form1", f.now())).unwrap());
}

fn portal_applications_are_counted_to_the_limit_and_released_by_deletion(
    s: &impl State,
    f: &Fixture,
) {
    use edge_oauth::state::clients::{create, delete, MAX_APPS_PER_USER};
    let mut made = Vec::new();
    for i in 0..MAX_APPS_PER_USER {
        let c = portal_client(f, "dev");
        let claim = block_on(create(&f.store, s, &c, Some(&format!("f{i}")), f.now())).unwrap();
        assert_eq!(claim, AppClaim::Claimed, "application {i}");
        made.push(c);
    }
    let extra = portal_client(f, "dev");
    let full = block_on(create(&f.store, s, &extra, Some("f-extra"), f.now())).unwrap();
    assert_eq!(full, AppClaim::Full);
    // The same form sent again creates nothing, whatever the count.
    let again = block_on(create(&f.store, s, &extra, Some("f0"), f.now())).unwrap();
    assert_eq!(again, AppClaim::Repeat);
    f.tick();
    block_on(delete(&f.store, s, &made[0])).unwrap();
    // A form refused for the limit may be sent again once there is room.
    let room = block_on(create(&f.store, s, &extra, Some("f-extra"), f.now())).unwrap();
    assert_eq!(room, AppClaim::Claimed);
    let listed = block_on(edge_oauth::store::clients::list_for_owner(&f.store, "dev")).unwrap();
    assert_eq!(listed.len(), MAX_APPS_PER_USER);
}

fn a_deleted_client_stays_deleted_when_a_racing_edit_writes_it_back(s: &impl State, f: &Fixture) {
    use edge_oauth::state::clients::{create, delete, rotate_secret, update};
    use edge_oauth::store::{clients, keys, Store};
    let c = portal_client(f, "eve");
    block_on(create(&f.store, s, &c, Some("f"), f.now())).unwrap();
    f.tick();
    block_on(delete(&f.store, s, &c)).unwrap();
    f.tick();
    // What an edit that read the client before the deletion writes after it.
    let stale = serde_json::to_string(&c).unwrap();
    block_on(f.store.put(&keys::client(&c.client_id), &stale, None)).unwrap();
    block_on(
        f.store
            .put(&keys::owner_client("eve", &c.client_id), "", None),
    )
    .unwrap();
    assert!(block_on(clients::get(&f.store, &c.client_id))
        .unwrap()
        .is_none());
    assert!(block_on(clients::list_for_owner(&f.store, "eve"))
        .unwrap()
        .is_empty());
    f.tick();
    let edit = block_on(update(&f.store, &c.client_id, |c| Ok::<_, ()>(c.clone()))).unwrap();
    assert!(edit.is_none());
    let crypto = edge_oauth::crypto::native::NativeCrypto::new();
    assert!(
        block_on(rotate_secret(&f.store, &crypto, &c.client_id, f.now()))
            .unwrap()
            .is_none()
    );
}

fn a_rotated_secret_survives_an_edit_of_the_record(s: &impl State, f: &Fixture) {
    use edge_oauth::state::clients::{create, rotate_secret};
    use edge_oauth::store::{clients, keys, Store};
    let c = portal_client(f, "rob");
    block_on(create(&f.store, s, &c, Some("f"), f.now())).unwrap();
    f.tick();
    let crypto = edge_oauth::crypto::native::NativeCrypto::new();
    let (rotated, _) = block_on(rotate_secret(&f.store, &crypto, &c.client_id, f.now()))
        .unwrap()
        .unwrap();
    // An edit that read the record before the rotation writes its old copy afterwards.
    block_on(f.store.put(
        &keys::client(&c.client_id),
        &serde_json::to_string(&c).unwrap(),
        None,
    ))
    .unwrap();
    let read = block_on(clients::get(&f.store, &c.client_id))
        .unwrap()
        .unwrap();
    assert_eq!(read.secret_hash, rotated.secret_hash);
    assert_ne!(read.secret_hash.as_deref(), Some("h0"));
    // Record, tombstone and rotated secret are one read.
    let (r0, _, _) = f.store.op_counts();
    block_on(clients::get(&f.store, &c.client_id)).unwrap();
    assert_eq!(f.store.op_counts().0 - r0, 1);
}

fn a_code_redeems_once_and_a_replay_revokes_what_it_issued(s: &impl State, f: &Fixture) {
    let code = block_on(s.issue_code(new_code(f, "alice", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let first = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).unwrap();
    assert_eq!(first.grant.sub, "alice");
    assert_eq!(first.scopes, scopes(&["read"]));
    f.tick();
    // Its refresh token used: the exchange cannot be a retry, so the code is replayed.
    let next = block_on(s.rotate_refresh(rotation(f, &first.refresh_token, "app", 0))).unwrap();
    f.tick();
    let again = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER)));
    assert!(matches!(refused(again), Refusal::CodeReplayed(Some(g)) if g == first.grant.grant_id));
    assert!(block_on(s.get_grant(&first.grant.grant_id, f.now()))
        .unwrap()
        .is_none());
    f.tick();
    let rotate = block_on(s.rotate_refresh(rotation(f, &next.refresh_token, "app", 0)));
    assert_eq!(refused(rotate), Refusal::InvalidRefreshToken);
}

/// Issue 17: the exchange's answer was lost and the client sends the same request again
/// (same code, client, redirect URI and verifier) before using anything: an equivalent
/// response on the same grant. A replay without the verifier is refused and revokes.
fn a_retried_exchange_gets_the_same_grant_and_a_replay_without_verifier_revokes(
    s: &impl State,
    f: &Fixture,
) {
    let code = block_on(s.issue_code(new_code(f, "amy", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let lost = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).unwrap();
    f.tick();
    let retried = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).unwrap();
    assert_eq!(
        retried.grant.grant_id, lost.grant.grant_id,
        "the same grant"
    );
    assert_eq!(retried.scopes, lost.scopes);
    assert_ne!(retried.refresh_token, lost.refresh_token);
    f.tick();
    let stale = block_on(s.rotate_refresh(rotation(f, &lost.refresh_token, "app", 0)));
    assert_eq!(
        refused(stale),
        Refusal::InvalidRefreshToken,
        "the lost token is replaced"
    );
    f.tick();
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-0";
    let replay = block_on(s.exchange_code(exchange(f, &code, "app", wrong)));
    assert!(matches!(refused(replay), Refusal::CodeReplayed(Some(g)) if g == lost.grant.grant_id));
    assert!(block_on(s.get_grant(&lost.grant.grant_id, f.now()))
        .unwrap()
        .is_none());
    f.tick();
    let rotate = block_on(s.rotate_refresh(rotation(f, &retried.refresh_token, "app", 0)));
    assert_eq!(
        refused(rotate),
        Refusal::InvalidRefreshToken,
        "revoked by the replay"
    );
}

fn a_wrong_verifier_or_redirect_uri_consumes_the_code(s: &impl State, f: &Fixture) {
    for wrong_redirect in [false, true] {
        let code = block_on(s.issue_code(new_code(f, "bob", "app", &["read"]), approved(f)))
            .unwrap()
            .unwrap();
        f.tick();
        let mut bad = exchange(
            f,
            &code,
            "app",
            "wrong-verifier-wrong-verifier-wrong-verifier-0",
        );
        if wrong_redirect {
            bad = exchange(f, &code, "app", VERIFIER);
            bad.redirect_uri = Some("https://app.example/other".into());
        }
        let expected = if wrong_redirect {
            Refusal::RedirectUriMismatch
        } else {
            Refusal::InvalidVerifier
        };
        assert_eq!(refused(block_on(s.exchange_code(bad))), expected);
        f.tick();
        let retry = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER)));
        assert!(matches!(refused(retry), Refusal::CodeReplayed(_)));
        f.tick();
    }
}

fn an_expired_or_other_clients_code_is_refused_and_left_alone(s: &impl State, f: &Fixture) {
    let code = block_on(s.issue_code(new_code(f, "carol", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let other = block_on(s.exchange_code(exchange(f, &code, "intruder", VERIFIER)));
    assert_eq!(refused(other), Refusal::InvalidCode);
    let garbage = block_on(s.exchange_code(exchange(f, "not-a-code", "app", VERIFIER)));
    assert_eq!(refused(garbage), Refusal::InvalidCode);
    // The rightful client still redeems it: the intruder changed nothing.
    assert!(block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).is_ok());
    let late = block_on(s.issue_code(new_code(f, "carol", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.store.advance(61);
    let expired = block_on(s.exchange_code(exchange(f, &late, "app", VERIFIER)));
    assert_eq!(refused(expired), Refusal::InvalidCode);
}

fn remembered_consent_issues_only_within_what_was_approved(s: &impl State, f: &Fixture) {
    let remembered = || CodeConsent::Remembered;
    let none = block_on(s.issue_code(new_code(f, "dan", "app", &["read"]), remembered()));
    assert_eq!(none.unwrap(), None);
    block_on(s.issue_code(new_code(f, "dan", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let within = block_on(s.issue_code(new_code(f, "dan", "app", &["read"]), remembered()));
    assert!(within.unwrap().is_some());
    let wider = block_on(s.issue_code(new_code(f, "dan", "app", &["read", "write"]), remembered()));
    assert_eq!(wider.unwrap(), None);
    let other_client = block_on(s.issue_code(new_code(f, "dan", "other", &["read"]), remembered()));
    assert_eq!(other_client.unwrap(), None);
}

fn approvals_merge_into_the_remembered_consent(s: &impl State, f: &Fixture) {
    let a = block_on(s.issue_code(new_code(f, "eve", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let b = block_on(s.issue_code(new_code(f, "eve", "app", &["write"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let both = new_code(f, "eve", "app", &["read", "write"]);
    assert!(block_on(s.issue_code(both, CodeConsent::Remembered))
        .unwrap()
        .is_some());
    // Both earlier codes are still covered by the merged consent.
    for code in [a, b] {
        assert!(block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).is_ok());
        f.tick();
    }
}

fn withdrawing_consent_refuses_a_code_issued_before(s: &impl State, f: &Fixture) {
    let code = block_on(s.issue_code(new_code(f, "fay", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    block_on(s.revoke_user("fay", Some("app"), f.now())).unwrap();
    f.tick();
    let after = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER)));
    assert_eq!(refused(after), Refusal::ConsentWithdrawn);
}

fn approving_again_does_not_revive_a_code_issued_before_a_withdrawal(s: &impl State, f: &Fixture) {
    let old = block_on(s.issue_code(new_code(f, "fin", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    block_on(s.revoke_user("fin", Some("app"), f.now())).unwrap();
    f.tick();
    block_on(s.issue_code(new_code(f, "fin", "app", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    f.tick();
    let revived = block_on(s.exchange_code(exchange(f, &old, "app", VERIFIER)));
    assert_eq!(
        refused(revived),
        Refusal::ConsentWithdrawn,
        "a code issued before the withdrawal stays dead"
    );
}

fn rotation_yields_one_successor_and_reuse_revokes_the_grant(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "gus", "app");
    let next = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0))).unwrap();
    assert_ne!(next.refresh_token, issued.refresh_token);
    assert_eq!(next.grant.grant_id, issued.grant.grant_id);
    f.tick();
    let third = block_on(s.rotate_refresh(rotation(f, &next.refresh_token, "app", 0))).unwrap();
    f.tick();
    // Two generations back is recognised as reuse too.
    let reuse = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0)));
    assert_eq!(refused(reuse), Refusal::RefreshReused);
    f.tick();
    let current = block_on(s.rotate_refresh(rotation(f, &third.refresh_token, "app", 0)));
    assert_eq!(refused(current), Refusal::InvalidRefreshToken);
    assert!(block_on(s.get_grant(&issued.grant.grant_id, f.now()))
        .unwrap()
        .is_none());
}

/// Issue 17: a consent form approved again after its answer was lost (the same request id,
/// and so the same derived code secret) gets the same code while it is unused; once it is
/// redeemed the form is answered and yields nothing.
fn a_consent_form_approved_again_gets_the_same_code_until_it_is_used(s: &impl State, f: &Fixture) {
    let code = new_code(f, "una", "app", &["read"]);
    let form = approved(f);
    let first = block_on(s.issue_code(code.clone(), form.clone()))
        .unwrap()
        .unwrap();
    f.tick();
    let again = NewCode {
        now: f.now(),
        ..code.clone()
    };
    let retried = block_on(s.issue_code(again, form.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(retried, first);
    f.tick();
    block_on(s.exchange_code(exchange(f, &first, "app", VERIFIER))).unwrap();
    f.tick();
    let late = NewCode {
        now: f.now(),
        ..code
    };
    assert_eq!(block_on(s.issue_code(late, form)).unwrap(), None);
}

/// Issue 17: the Worker repeats a rotation whose answer it lost, with the same attempt id:
/// the same successor. The same token from another request (another attempt) is reuse.
fn a_repeated_rotation_gets_the_same_successor_and_another_request_is_reuse(
    s: &impl State,
    f: &Fixture,
) {
    let issued = grant(s, f, "ida", "app");
    let attempt = |a: &str| RefreshRotation {
        attempt: Some(a.into()),
        ..rotation(f, &issued.refresh_token, "app", 0)
    };
    let lost = block_on(s.rotate_refresh(attempt("first"))).unwrap();
    f.tick();
    let repeated = block_on(s.rotate_refresh(attempt("first"))).unwrap();
    assert_eq!(repeated.refresh_token, lost.refresh_token);
    f.tick();
    let other = block_on(s.rotate_refresh(attempt("second")));
    assert_eq!(refused(other), Refusal::RefreshReused);
    f.tick();
    let dead = block_on(s.rotate_refresh(rotation(f, &lost.refresh_token, "app", 0)));
    assert_eq!(refused(dead), Refusal::InvalidRefreshToken);
}

fn within_the_grace_the_previous_token_gets_the_same_successor(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "hal", "app");
    let next = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 30))).unwrap();
    f.tick();
    let retry = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 30))).unwrap();
    assert_eq!(retry.refresh_token, next.refresh_token);
    f.tick();
    // One chain: the successor still rotates normally.
    let after = block_on(s.rotate_refresh(rotation(f, &next.refresh_token, "app", 30))).unwrap();
    f.store.advance(31);
    let late = block_on(s.rotate_refresh(rotation(f, &next.refresh_token, "app", 30)));
    assert_eq!(refused(late), Refusal::RefreshReused);
    f.tick();
    let dead = block_on(s.rotate_refresh(rotation(f, &after.refresh_token, "app", 30)));
    assert_eq!(refused(dead), Refusal::InvalidRefreshToken);
}

fn a_refused_refresh_does_not_rotate(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "ida", "app");
    let mut wider = rotation(f, &issued.refresh_token, "app", 0);
    wider.requested_scopes = Some(scopes(&["read", "admin"]));
    assert_eq!(
        refused(block_on(s.rotate_refresh(wider))),
        Refusal::ScopeNotGranted("admin".into())
    );
    let mut lost = rotation(f, &issued.refresh_token, "app", 0);
    lost.allowed_scopes = scopes(&["write"]);
    assert_eq!(
        refused(block_on(s.rotate_refresh(lost))),
        Refusal::NoScopeLeft
    );
    let other = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "other", 0)));
    assert_eq!(refused(other), Refusal::InvalidRefreshToken);
    let mut narrow = rotation(f, &issued.refresh_token, "app", 0);
    narrow.requested_scopes = Some(scopes(&["read"]));
    assert!(block_on(s.rotate_refresh(narrow)).is_ok());
}

fn introspection_sees_only_the_current_refresh_token(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "jay", "app");
    let found = block_on(s.find_refresh(&issued.refresh_token, f.now())).unwrap();
    assert_eq!(found.unwrap().grant_id, issued.grant.grant_id);
    block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0))).unwrap();
    assert_eq!(
        block_on(s.find_refresh(&issued.refresh_token, f.now())).unwrap(),
        None
    );
    assert_eq!(block_on(s.find_refresh("junk", f.now())).unwrap(), None);
}

fn revoking_a_refresh_token_ends_the_grant_for_its_client_only(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "kim", "app");
    assert!(!block_on(s.revoke_refresh_token(&issued.refresh_token, "other")).unwrap());
    assert!(!block_on(s.revoke_refresh_token("a.1.forged", "app")).unwrap());
    assert!(block_on(s.get_grant(&issued.grant.grant_id, f.now()))
        .unwrap()
        .is_some());
    assert!(block_on(s.revoke_refresh_token(&issued.refresh_token, "app")).unwrap());
    f.tick();
    let after = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0)));
    assert_eq!(refused(after), Refusal::InvalidRefreshToken);
    assert!(block_on(s.get_grant(&issued.grant.grant_id, f.now()))
        .unwrap()
        .is_none());
}

fn the_grant_cap_evicts_the_oldest_by_a_total_order(s: &impl State, f: &Fixture) {
    let mut ids = Vec::new();
    let mut evicted = Vec::new();
    for _ in 0..MAX_GRANTS_PER_CLIENT + 2 {
        let issued = grant(s, f, "lee", "app");
        ids.push(issued.grant.grant_id);
        evicted.extend(issued.evicted);
    }
    // Each exchange past the cap names what it evicted (edge APIs are told).
    assert_eq!(evicted, ids[..2].to_vec());
    let page = block_on(s.list_user_grants("lee", None, 100, f.now())).unwrap();
    let live: Vec<String> = page.items.iter().map(|g| g.grant_id.clone()).collect();
    assert_eq!(live, ids[2..].to_vec(), "the two oldest were evicted");
    let other = grant(s, f, "lee", "other");
    assert!(block_on(s.get_grant(&other.grant.grant_id, f.now()))
        .unwrap()
        .is_some());
}

fn grants_list_a_page_at_a_time(s: &impl State, f: &Fixture) {
    let mut ids = Vec::new();
    for client in ["c1", "c2", "c3", "c4", "c5"] {
        ids.push(grant(s, f, "mo", client).grant.grant_id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let page = block_on(s.list_user_grants("mo", cursor.as_deref(), 2, f.now())).unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|g| g.grant_id));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    let by_client = block_on(s.list_client_grants("c3", None, 10, f.now())).unwrap();
    assert_eq!(by_client.items.len(), 1);
    assert_eq!(by_client.items[0].sub, "mo");
    let one = block_on(s.get_grant(&ids[0], f.now())).unwrap().unwrap();
    assert_eq!(one.sub, "mo");
    assert!(block_on(s.revoke_grant(&ids[0])).unwrap());
    assert_eq!(block_on(s.get_grant(&ids[0], f.now())).unwrap(), None);
    assert!(!block_on(s.revoke_grant("no-such-grant")).unwrap());
}

fn all_user_grants(s: &impl State, f: &Fixture, sub: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let page = block_on(s.list_user_grants(sub, cursor.as_deref(), limit, f.now())).unwrap();
        assert!(page.items.len() <= limit, "{} > {limit}", page.items.len());
        seen.extend(page.items.into_iter().map(|g| g.grant_id));
        cursor = page.cursor;
        if cursor.is_none() {
            return seen;
        }
    }
    panic!("the listing did not end");
}

fn a_users_listing_pages_within_and_across_clients(s: &impl State, f: &Fixture) {
    let mut ids = Vec::new();
    for client in ["c1", "c1", "c1", "c2", "c2", "c3"] {
        ids.push(grant(s, f, "kai", client).grant.grant_id);
    }
    grant(s, f, "bystander", "c1");
    ids.sort();
    for limit in [1, 2, 4, 100] {
        let mut seen = all_user_grants(s, f, "kai", limit);
        seen.sort();
        assert_eq!(seen, ids, "pages of {limit}: each grant once");
    }
}

fn a_grant_kept_alive_by_refreshes_stays_listed_and_revocable(s: &impl State, f: &Fixture) {
    // Refreshed every 20 days with a 30-day lifetime, it outlives any fixed index lifetime.
    let mut token = grant(s, f, "lou", "app").refresh_token;
    for _ in 0..5 {
        f.store.advance(20 * DAY);
        token = block_on(s.rotate_refresh(rotation(f, &token, "app", 0)))
            .unwrap()
            .refresh_token;
    }
    assert_eq!(all_user_grants(s, f, "lou", 10).len(), 1);
    assert_eq!(block_on(s.revoke_user("lou", None, f.now())).unwrap(), 1);
    let after = block_on(s.rotate_refresh(rotation(f, &token, "app", 0)));
    assert_eq!(refused(after), Refusal::InvalidRefreshToken);
}

fn revoking_a_user_ends_their_grants_and_consents(s: &impl State, f: &Fixture) {
    let a = grant(s, f, "ned", "app");
    let b = grant(s, f, "ned", "other");
    let bystander = grant(s, f, "ola", "app");
    assert_eq!(block_on(s.revoke_user("ned", None, f.now())).unwrap(), 2);
    for g in [&a, &b] {
        assert!(block_on(s.get_grant(&g.grant.grant_id, f.now()))
            .unwrap()
            .is_none());
    }
    assert!(block_on(s.get_grant(&bystander.grant.grant_id, f.now()))
        .unwrap()
        .is_some());
    let remembered = block_on(s.issue_code(
        new_code(f, "ned", "app", &["read"]),
        CodeConsent::Remembered,
    ));
    assert_eq!(remembered.unwrap(), None, "consent withdrawn too");
}

fn revoking_all_ends_what_came_before_even_in_the_same_second_and_nothing_after(
    s: &impl State,
    f: &Fixture,
) {
    let old = grant(s, f, "uma", "app");
    let pending = block_on(s.issue_code(new_code(f, "uma", "other", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    // A grant created in the very second of the revocation, before it, goes with it.
    let same_second = block_on(s.issue_code(new_code(f, "uma", "third", &["read"]), approved(f)))
        .unwrap()
        .unwrap();
    let same_second = block_on(s.exchange_code(exchange(f, &same_second, "third", VERIFIER)));
    let same_second = same_second.unwrap();
    block_on(s.revoke_user("uma", None, f.now())).unwrap();
    // Still the same second: approving again and redeeming work (KV stamps them after the
    // revocation they read).
    let code = block_on(s.issue_code(new_code(f, "uma", "app", &["read"]), approved(f)))
        .unwrap()
        .expect("a new approval after the revocation issues a code");
    let fresh = block_on(s.exchange_code(exchange(f, &code, "app", VERIFIER))).unwrap();
    let next = block_on(s.rotate_refresh(rotation(f, &fresh.refresh_token, "app", 0)));
    assert!(next.is_ok(), "{next:?}");
    for dead in [&old, &same_second] {
        let r =
            block_on(s.rotate_refresh(rotation(f, &dead.refresh_token, &dead.grant.client_id, 0)));
        assert_eq!(refused(r), Refusal::InvalidRefreshToken);
        assert!(block_on(s.find_refresh(&dead.refresh_token, f.now()))
            .unwrap()
            .is_none());
        assert!(block_on(s.get_grant(&dead.grant.grant_id, f.now()))
            .unwrap()
            .is_none());
    }
    let r = block_on(s.exchange_code(exchange(f, &pending, "other", VERIFIER)));
    assert_eq!(refused(r), Refusal::ConsentWithdrawn);
    let remembered = new_code(f, "uma", "other", &["read"]);
    let remembered = block_on(s.issue_code(remembered, CodeConsent::Remembered));
    assert_eq!(remembered.unwrap(), None, "the consent page is shown again");
    let listed: Vec<String> = all_user_grants(s, f, "uma", 100);
    assert_eq!(listed, vec![fresh.grant.grant_id.clone()]);
    // A later revoke-all ends what followed the first, even one second later.
    f.tick();
    block_on(s.revoke_user("uma", None, f.now())).unwrap();
    let r = block_on(s.rotate_refresh(rotation(f, &next.unwrap().refresh_token, "app", 0)));
    assert_eq!(refused(r), Refusal::InvalidRefreshToken);
}

fn sign_in_attempts_are_counted_up_to_the_limit(s: &impl State, f: &Fixture) {
    for i in 0..throttle::MAX_ACCOUNT_ATTEMPTS {
        assert!(
            block_on(s.count_sign_in_attempt("acct", f.now())).unwrap(),
            "attempt {i}"
        );
    }
    assert!(!block_on(s.count_sign_in_attempt("acct", f.now())).unwrap());
    assert!(block_on(s.count_sign_in_attempt("other", f.now())).unwrap());
    block_on(s.clear_sign_in_attempts("acct", f.now())).unwrap();
    f.tick();
    assert!(block_on(s.count_sign_in_attempt("acct", f.now())).unwrap());
}

fn lifetimes_end_codes_and_refresh_tokens(s: &impl State, f: &Fixture) {
    let issued = grant(s, f, "pam", "app");
    f.store.advance(30 * DAY + 1);
    let late = block_on(s.rotate_refresh(rotation(f, &issued.refresh_token, "app", 0)));
    assert_eq!(refused(late), Refusal::InvalidRefreshToken);
    assert!(block_on(s.get_grant(&issued.grant.grant_id, f.now()))
        .unwrap()
        .is_none());
}

#[test]
fn on_the_durable_backend_authorize_in_a_session_is_one_object_call_and_no_kv_operation() {
    let f = Fixture::new();
    let s = durable(&f);
    let (value, at) = sign_in(&s, &f, "gus");
    assert!(
        at.object.is_some(),
        "the cookie names the user's object: {value}"
    );
    block_on(s.issue_code(new_code(&f, "gus", "app", &["read"]), approved(&f))).unwrap();
    f.tick();
    let (calls, kv) = (f.objects.calls(), f.store.op_counts());
    let found = block_on(s.issue_code_in_session(&at, in_session(&f, &["read"], 0))).unwrap();
    assert!(found.code.is_some());
    assert_eq!(f.objects.calls() - calls, 1, "one call: session and code");
    assert_eq!(f.store.op_counts(), kv, "no KV operation");
}

#[test]
fn on_the_durable_backend_a_session_started_in_kv_before_still_works_and_ends() {
    // Sessions started before they moved into the objects: KV records, plain cookie values.
    let f = Fixture::new();
    let (value, _) =
        block_on(kv(&f).start_session("legacy-secret", &a_session(&f, "hal"), DAY)).unwrap();
    assert_eq!(value, "legacy-secret");
    let s = durable(&f);
    let at = edge_oauth::oauth::session::at(&value).unwrap();
    assert_eq!(at.object, None);
    let session = block_on(s.find_session(&at, f.now()))
        .unwrap()
        .expect("found in KV");
    block_on(s.issue_code(new_code(&f, "hal", "app", &["read"]), approved(&f))).unwrap();
    f.tick();
    let found = block_on(s.issue_code_in_session(&at, in_session(&f, &["read"], 0))).unwrap();
    assert!(found.code.is_some());
    // Signing out of another one ends that one only.
    let (other_value, _) =
        block_on(kv(&f).start_session("legacy-other", &a_session(&f, "hal"), DAY)).unwrap();
    let other = edge_oauth::oauth::session::at(&other_value).unwrap();
    let other_session = block_on(s.find_session(&other, f.now())).unwrap().unwrap();
    f.tick();
    block_on(s.end_session(&other, &other_session)).unwrap();
    assert_eq!(block_on(s.find_session(&other, f.now())).unwrap(), None);
    assert!(block_on(s.find_session(&at, f.now())).unwrap().is_some());
    let (_, newer) = sign_in(&s, &f, "hal");
    f.tick();
    // Ending all of the user's sessions ends both kinds.
    assert_eq!(block_on(s.end_all_sessions("hal", f.now())).unwrap(), 2);
    assert_eq!(block_on(s.find_session(&at, f.now())).unwrap(), None);
    assert_eq!(block_on(s.find_session(&newer, f.now())).unwrap(), None);
    drop(session);
}

#[test]
fn a_session_cookie_naming_a_foreign_object_names_nothing() {
    let f = Fixture::new();
    let s = durable(&f);
    let (value, at) = sign_in(&s, &f, "ivy");
    // The same secret under another (well-formed) object id: another hash, nothing there.
    let (_, secret) = value.split_once('.').unwrap();
    let moved = edge_oauth::oauth::session::at(&format!("{}.{secret}", "0".repeat(64))).unwrap();
    assert_ne!(moved.hash, at.hash);
    assert_eq!(block_on(s.find_session(&moved, f.now())).unwrap(), None);
    let not_an_id = edge_oauth::oauth::session::at(&format!("zz.{secret}")).unwrap();
    assert_eq!(block_on(s.find_session(&not_an_id, f.now())).unwrap(), None);
    let found = block_on(s.issue_code_in_session(&not_an_id, in_session(&f, &["read"], 0)));
    assert_eq!(found.unwrap().session, None);
}

#[test]
fn an_unreachable_object_is_unavailable_and_changes_nothing() {
    let f = Fixture::new();
    let s = durable(&f);
    let issued = grant(&s, &f, "quin", "app");
    f.objects.set_unavailable(true);
    let r = block_on(s.rotate_refresh(rotation(&f, &issued.refresh_token, "app", 0)));
    assert!(matches!(r, Err(StateError::Unavailable(_))), "{r:?}");
    f.objects.set_unavailable(false);
    assert!(block_on(s.rotate_refresh(rotation(&f, &issued.refresh_token, "app", 0))).is_ok());
}

#[test]
fn a_consent_form_answered_twice_yields_one_code_on_the_durable_backend() {
    let f = Fixture::new();
    let s = durable(&f);
    let consent = approved(&f);
    let first = block_on(s.issue_code(new_code(&f, "rae", "app", &["read"]), consent.clone()));
    let second = block_on(s.issue_code(new_code(&f, "rae", "app", &["read"]), consent));
    assert!(first.unwrap().is_some());
    assert_eq!(second.unwrap(), None);
}

#[test]
fn a_flow_costs_one_object_call_per_state_change_on_the_durable_backend() {
    let f = Fixture::new();
    let s = durable(&f);
    let before = f.objects.calls();
    let issued = grant(&s, &f, "sam", "app");
    block_on(s.rotate_refresh(rotation(&f, &issued.refresh_token, "app", 0))).unwrap();
    assert_eq!(f.objects.calls() - before, 3, "issue, exchange, rotate");
    let (_, writes, _) = f.store.op_counts();
    assert_eq!(
        writes, 1,
        "one KV write: the client's listing entry for this user"
    );
    // A returning user's flow (a live grant of the client already) writes nothing to KV.
    let again = grant(&s, &f, "sam", "app");
    block_on(s.rotate_refresh(rotation(&f, &again.refresh_token, "app", 0))).unwrap();
    assert_eq!(f.store.op_counts().1, 1, "no KV write for a returning user");
}

#[test]
fn the_durable_listing_by_client_follows_grants_as_users_come_and_go() {
    use edge_oauth::store::Store;
    let f = Fixture::new();
    let s = durable(&f);
    let listed = |client: &str| {
        let mut ids: Vec<String> = block_on(s.list_client_grants(client, None, 100, f.now()))
            .unwrap()
            .items
            .into_iter()
            .map(|g| g.grant_id)
            .collect();
        ids.sort();
        ids
    };
    let a1 = grant(&s, &f, "uma", "app").grant.grant_id;
    let a2 = grant(&s, &f, "uma", "app").grant.grant_id;
    let b1 = grant(&s, &f, "vic", "app").grant.grant_id;
    grant(&s, &f, "uma", "other");
    let mut all = vec![a1, a2, b1.clone()];
    all.sort();
    assert_eq!(listed("app"), all);
    // Uma's grants go: her entry is pruned by the next listing, and comes back with a grant.
    block_on(s.revoke_user("uma", Some("app"), f.now())).unwrap();
    assert_eq!(listed("app"), vec![b1.clone()]);
    assert_eq!(listed("app"), vec![b1.clone()]);
    let a3 = grant(&s, &f, "uma", "app").grant.grant_id;
    let mut all = vec![a3.clone(), b1];
    all.sort();
    assert_eq!(listed("app"), all);
    let entries = || {
        let mut keys: Vec<String> = f.store.dump().into_iter().map(|(k, _)| k).collect();
        keys.retain(|k| k.starts_with("client_grant:app:"));
        keys.sort();
        keys
    };
    assert_eq!(
        entries().len(),
        2,
        "one entry per user, not per grant: {:?}",
        entries()
    );
    // An entry of an older generation (its prune lost, say) lists nothing twice and goes.
    let uma = a3.split('.').next().unwrap();
    let stale = format!("client_grant:app:{uma}-1");
    block_on(f.store.put(&stale, "", None)).unwrap();
    f.tick();
    assert_eq!(listed("app"), all);
    assert!(!entries().contains(&stale));
    // Pages of one user each (limit 1), then no more.
    let first = block_on(s.list_client_grants("app", None, 1, f.now())).unwrap();
    assert_eq!(first.items.len(), 1);
    let rest = block_on(s.list_client_grants("app", first.cursor.as_deref(), 1, f.now())).unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_ne!(first.items[0].sub, rest.items[0].sub);
}

#[test]
fn on_kv_a_flow_in_one_second_writes_no_key_twice() {
    // The faithful store refuses a second write to one key within a second, as KV does:
    // exchange, then two refreshes, all in the same second, must each write new keys only.
    let f = Fixture::new();
    let s = kv(&f);
    let code = block_on(s.issue_code(new_code(&f, "tia", "app", &["read"]), approved(&f)))
        .unwrap()
        .unwrap();
    let issued = block_on(s.exchange_code(exchange(&f, &code, "app", VERIFIER))).unwrap();
    let next = block_on(s.rotate_refresh(rotation(&f, &issued.refresh_token, "app", 0))).unwrap();
    let third = block_on(s.rotate_refresh(rotation(&f, &next.refresh_token, "app", 0)));
    assert!(third.is_ok(), "{third:?}");
}

#[test]
fn on_kv_a_returning_users_flow_makes_at_most_four_write_class_operations() {
    // Issue 9's budget: the code, the cap's list, the grant, the next refresh generation.
    // Puts, deletes and lists are what KV bills as writes. All in one second, as a fast
    // client does it (the store refuses a key written twice within a second).
    let f = Fixture::new();
    let s = kv(&f);
    let first = grant(&s, &f, "val", "app");
    block_on(s.rotate_refresh(rotation(&f, &first.refresh_token, "app", 0))).unwrap();
    f.tick();
    let (_, w0, l0) = f.store.op_counts();
    let remembered = CodeConsent::Remembered;
    let code = block_on(s.issue_code(new_code(&f, "val", "app", &["read"]), remembered))
        .unwrap()
        .expect("remembered consent covers it");
    let issued = block_on(s.exchange_code(exchange(&f, &code, "app", VERIFIER))).unwrap();
    let gid = &issued.grant.grant_id;
    assert!(block_on(s.get_grant(gid, f.now())).unwrap().is_some());
    assert!(block_on(s.find_refresh(&issued.refresh_token, f.now()))
        .unwrap()
        .is_some());
    block_on(s.rotate_refresh(rotation(&f, &issued.refresh_token, "app", 0))).unwrap();
    let (_, w, l) = f.store.op_counts();
    let (writes, lists) = (w - w0, l - l0);
    assert!(
        writes + lists <= 4,
        "{writes} writes + {lists} lists in a returning user's flow"
    );
}

#[test]
fn on_the_durable_backend_a_sign_in_from_a_slower_clock_does_not_end_itself() {
    // Isolates' clocks differ: the newest sign-in is the last one stored, whatever time its
    // Worker read. At the cap it ends the oldest stored, never itself.
    let f = Fixture::new();
    let s = durable(&f);
    let max = sessions::MAX_SESSIONS_PER_USER;
    let first: Vec<SessionAt> = (0..max)
        .map(|_| {
            f.tick();
            sign_in(&s, &f, "kim").1
        })
        .collect();
    let mut late = a_session(&f, "kim");
    late.created_at -= 60;
    let (value, _) = block_on(s.start_session(&f.unique("secret"), &late, DAY)).unwrap();
    let late_at = edge_oauth::oauth::session::at(&value).unwrap();
    assert!(block_on(s.find_session(&late_at, f.now()))
        .unwrap()
        .is_some());
    assert_eq!(block_on(s.find_session(&first[0], f.now())).unwrap(), None);
    assert!(block_on(s.find_session(&first[1], f.now()))
        .unwrap()
        .is_some());
}
