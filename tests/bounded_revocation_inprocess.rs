//! Deleting a user and the platform's logout with `revoke=all` each fit one Worker request
//! (the faithful store fails a request's 1001st storage operation) however much the user
//! has: 150 apps with two grants and a pending code each, and 1,200 sign-ins. Afterwards
//! nothing revoked works: no refresh, no code, no session. Runs on the backend
//! `EDGE_STATE_BACKEND` names (`make test` runs both).

mod common;

use common::inprocess::{json, Harness, ADMIN_TOKEN};
use edge_oauth::app::Ctx;
use edge_oauth::crypto::native::NativeCrypto;
use edge_oauth::http::{Method, Request};
use edge_oauth::oauth::{pkce, session};
use edge_oauth::state::{
    sessions, CodeConsent, CodeExchange, IssuedGrant, NewCode, RefreshRotation, Refusal, State,
    StateError,
};
use edge_oauth::store::MemoryStore;
use futures_executor::block_on;
use serde_json::json;

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9QD3x6YyRzlQfmFdKZqV7fz3o0aZ1";
const REDIRECT: &str = "https://app.example/cb";
const APPS: usize = 150;
const SIGN_INS: usize = 1_200;
const DAY: u64 = 86_400;

/// A context for one request, as `Harness::call` builds it (a new operation count).
fn request(h: &Harness) -> Ctx<'_, MemoryStore, NativeCrypto> {
    h.store.begin_request();
    Ctx {
        config: &h.config,
        store: &h.store,
        objects: &h.objects,
        crypto: &h.crypto,
        now: h.store.now(),
        now_ms: h.store.now() * 1000,
    }
}

fn unique(n: &mut u64, tag: &str) -> String {
    *n += 1;
    format!("{tag}{:040}", *n)
}

/// What a user has: live grants, codes not yet redeemed, and session cookie values.
struct Holdings {
    grants: Vec<IssuedGrant>,
    pending: Vec<(String, String)>,
    sessions: Vec<String>,
}

fn new_code(h: &Harness, n: &mut u64, sub: &str, client: &str) -> NewCode {
    NewCode {
        sub: sub.into(),
        client_id: client.into(),
        redirect_uri: REDIRECT.into(),
        scopes: vec!["read".into()],
        code_challenge: pkce::challenge_for(VERIFIER),
        secret: unique(n, "secret"),
        id_nonce: unique(n, "n")[30..].to_string(),
        now: h.store.now(),
        // Outlives the sign-ins below, so that only the revocation can refuse it.
        expires_at: h.store.now() + DAY,
        sign_in: None,
        resource: None,
    }
}

fn exchange(h: &Harness, n: &mut u64, code: &str, client: &str) -> CodeExchange {
    CodeExchange {
        code: code.into(),
        client_id: client.into(),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: VERIFIER.into(),
        allowed_scopes: vec!["read".into()],
        refresh_secret: unique(n, "rt"),
        chain_key: unique(n, "ck"),
        refresh_ttl: 30 * DAY,
        now: h.store.now(),
        resource: None,
    }
}

/// Each app approved and redeemed twice (two devices) plus a code not yet redeemed, then
/// `SIGN_INS` sign-ins: each a request of its own, a second apart.
fn populate(h: &Harness, sub: &str) -> Holdings {
    let mut n = 0;
    let mut held = Holdings {
        grants: Vec::new(),
        pending: Vec::new(),
        sessions: Vec::new(),
    };
    for app in 0..APPS {
        let client = format!("app{app:04}");
        for _ in 0..2 {
            let consent = CodeConsent::Approved {
                request_id: unique(&mut n, "req"),
                ttl: 30 * DAY,
            };
            let code = new_code(h, &mut n, sub, &client);
            let code = block_on(request(h).state().issue_code(code, consent));
            let code = code.unwrap().expect("approved");
            let x = exchange(h, &mut n, &code, &client);
            held.grants
                .push(block_on(request(h).state().exchange_code(x)).unwrap());
        }
        let code = new_code(h, &mut n, sub, &client);
        let code = block_on(request(h).state().issue_code(code, CodeConsent::Remembered));
        held.pending
            .push((client, code.unwrap().expect("remembered consent")));
        h.store.advance(1);
    }
    for _ in 0..SIGN_INS {
        let cookie = block_on(session::start(&request(h), sub, None, None)).unwrap();
        let id = cookie.split(['=', ';']).nth(1).unwrap().to_string();
        held.sessions.push(id);
        h.store.advance(1);
    }
    // The cap holds on both backends: only the newest sign-ins are still live.
    let live = held
        .sessions
        .iter()
        .filter(|id| live_session(h, id))
        .count();
    assert_eq!(
        live,
        sessions::MAX_SESSIONS_PER_USER,
        "{live} live sessions for one user"
    );
    held
}

/// Whether the session cookie value `id` still names a live session.
fn live_session(h: &Harness, id: &str) -> bool {
    let at = session::at(id).expect("a session cookie value");
    let found = block_on(request(h).state().find_session(&at, h.store.now()));
    found.unwrap().is_some()
}

fn refused<T: std::fmt::Debug>(r: Result<T, StateError>) -> Refusal {
    match r {
        Err(StateError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Nothing the user had works any more (each check a request of its own).
fn assert_all_dead(h: &Harness, held: &Holdings) {
    let mut n = 1_000_000;
    for g in &held.grants {
        let rotation = RefreshRotation {
            refresh_token: g.refresh_token.clone(),
            client_id: g.grant.client_id.clone(),
            requested_scopes: None,
            allowed_scopes: vec!["read".into()],
            grace: 0,
            refresh_ttl: 30 * DAY,
            now: h.store.now(),
            attempt: None,
            resource: None,
        };
        let r = block_on(request(h).state().rotate_refresh(rotation));
        assert_eq!(refused(r), Refusal::InvalidRefreshToken);
        let found = block_on(
            request(h)
                .state()
                .find_refresh(&g.refresh_token, h.store.now()),
        );
        assert!(found.unwrap().is_none());
        let live = block_on(
            request(h)
                .state()
                .get_grant(&g.grant.grant_id, h.store.now()),
        );
        assert!(live.unwrap().is_none());
    }
    for (client, code) in &held.pending {
        let x = exchange(h, &mut n, code, client);
        let r = block_on(request(h).state().exchange_code(x));
        assert_eq!(refused(r), Refusal::ConsentWithdrawn);
    }
    for id in &held.sessions {
        assert!(!live_session(h, id), "a session outlived the revocation");
    }
}

#[test]
fn deleting_a_user_with_150_apps_and_1200_sign_ins_fits_one_request() {
    let h = Harness::new();
    let created = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": "many@example.com", "password": "correct horse battery"})),
    );
    assert_eq!(created.status, 201);
    let sub = json(&created)["sub"].as_str().unwrap().to_string();
    let held = populate(&h, &sub);
    let r = h.admin(Method::Delete, &format!("/api/admin/users/{sub}"), None);
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert_all_dead(&h, &held);
}

#[test]
fn a_platform_logout_revoking_all_of_150_apps_and_1200_sign_ins_fits_one_request() {
    let h = Harness::new();
    let held = populate(&h, "platform-user-1");
    let r = h.call(
        Request::new(Method::Post, "/api/oauth/logout")
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(b"sub=platform-user-1&revoke=all".to_vec()),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body = json(&r);
    assert_eq!(body["sessions_ended"], sessions::MAX_SESSIONS_PER_USER);
    assert!(body["grants_revoked"].as_u64().unwrap() > 0, "{body}");
    assert_all_dead(&h, &held);
}

/// `/account/apps` lists a page per request (one listing call), with a "More apps" link to
/// the next: 120 connected apps take more than one page, each page a request of its own
/// within the operation limit, and following the links shows every app exactly once.
#[test]
fn connected_apps_come_a_page_per_request() {
    const SHOWN: usize = 120;
    let h = Harness::new();
    let sub = "many-apps-user";
    let mut n = 0;
    for app in 0..SHOWN {
        let r = h.admin(
            Method::Post,
            "/api/admin/clients",
            Some(&json!({
                "client_name": format!("Connected App {app:03}"),
                "redirect_uris": [REDIRECT],
                "scope": "profile:read",
            })),
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let client = json(&r)["client_id"].as_str().unwrap().to_string();
        let consent = CodeConsent::Approved {
            request_id: unique(&mut n, "req"),
            ttl: 30 * DAY,
        };
        let code = new_code(&h, &mut n, sub, &client);
        let code = block_on(request(&h).state().issue_code(code, consent));
        let x = exchange(&h, &mut n, &code.unwrap().expect("approved"), &client);
        block_on(request(&h).state().exchange_code(x)).unwrap();
    }
    let cookie = block_on(session::start(&request(&h), sub, None, None)).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/account/apps".to_string();
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= SHOWN, "the More links do not end");
        let r = h.call(Request::new(Method::Get, &path).with_header("cookie", &cookie));
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, 200, "{body}");
        for part in body.split("Connected App ").skip(1) {
            seen.push(part[..3].to_string());
        }
        match body.split("<a href=\"/account/apps?").nth(1) {
            Some(rest) => {
                let query = rest.split('"').next().unwrap().replace("&amp;", "&");
                path = format!("/account/apps?{query}");
            }
            None => break,
        }
    }
    assert!(
        pages > 1,
        "{SHOWN} apps fit one page: nothing was paginated"
    );
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), SHOWN, "apps missing: saw {seen:?}");
    assert_eq!(seen.len(), SHOWN, "an app shown twice");
    // A cursor nobody handed out (edited, or from an older listing) is the link's fault: back
    // to the first page, never a server error (KV refuses cursors it did not issue).
    for bad in ["0.0.garbage", "9.9", "x", "0.0.mc1:zzz"] {
        let path = format!("/account/apps?cursor={bad}");
        let r = h.call(Request::new(Method::Get, &path).with_header("cookie", &cookie));
        assert!(
            r.status == 200 || (r.status == 303 && r.header("location") == Some("/account/apps")),
            "{bad}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    // The admin listing of the user's grants: a cursor it did not write is a 400 on both
    // backends (issue 18: not a 500, and never read as "from the start"), whatever its form.
    for bad in ["0.0.zzz", "zzz", "007", "-1", "+3", "1e3", "0.01"] {
        let r = h.admin(
            Method::Get,
            &format!("/api/admin/grants?sub={sub}&cursor={bad}"),
            None,
        );
        let d = common::inprocess::expect_error(&r, 400, "invalid_request");
        assert!(d.contains("cursor"), "{bad}: {d}");
    }
}
