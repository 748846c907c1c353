//! Storage faults (issue 17): complete flows while the faithful MemoryStore's KV calls and the
//! native objects' calls fail at 2% and 10% (before the call, and on the durable backend also
//! after the object committed), by a client that retries a 503 up to five times.
//!
//! Asserted on every response: never a 500; every 503 carries `Retry-After`; a page a browser
//! loads answers its 503 as a page; a storage fault never becomes a 4xx that blames the client
//! or the user (an unknown client, a wrong password, a refused form). Flows that have to start
//! over are counted and printed (run with `--nocapture`), not asserted: a lost answer can still
//! consume a code or a refresh token.

mod common;

use common::browser::{hidden, location, query_param, submit_consent, Browser};
use common::flow::{self, authorize_url, Setup, EMAIL, PASSWORD, REDIRECT, VERIFIER};
use common::http::Reply;
use common::inprocess::backend_var;
use std::cell::RefCell;

const RETRIES: usize = 5;

#[derive(Default, Debug)]
struct Tally {
    requests: usize,
    unavailable: usize,
    completed: usize,
    started_over: usize,
    reasons: Vec<String>,
}

/// Sends one request, again while it answers 503 (at most [`RETRIES`] times), checking every
/// answer against the rules above.
fn send(t: &RefCell<Tally>, what: &str, page: bool, request: impl Fn() -> Reply) -> Reply {
    for attempt in 0..=RETRIES {
        let r = request();
        t.borrow_mut().requests += 1;
        assert_ne!(r.status, 500, "{what}: a 500 under storage faults: {}", r.body);
        if r.status != 503 {
            return r;
        }
        t.borrow_mut().unavailable += 1;
        assert!(r.header("retry-after").is_some(), "{what}: 503 without Retry-After");
        if page {
            assert!(
                r.header("content-type").is_some_and(|c| c.starts_with("text/html")),
                "{what}: a page's 503 must be a page: {}",
                r.body
            );
        } else {
            assert!(r.body.contains("temporarily_unavailable"), "{what}: {}", r.body);
        }
        if attempt == RETRIES {
            return r;
        }
    }
    unreachable!()
}

/// What a step may answer besides its success and an exhausted 503: a lost answer may have
/// consumed a code or a refresh token (`invalid_grant`), nothing else.
fn step(t: &RefCell<Tally>, what: &str, r: &Reply, ok: u16, may_be_consumed: bool) -> bool {
    if r.status == ok {
        return true;
    }
    let consumed = may_be_consumed && r.status == 400 && r.body.contains("invalid_grant");
    assert!(
        r.status == 503 || consumed,
        "{what}: storage faults must not turn into {}: {}",
        r.status,
        r.body
    );
    t.borrow_mut().reasons.push(format!("{what} → {}", r.status));
    false
}

/// One flow: authorize (prompt=consent) → sign in → consent → code → three refreshes →
/// revocation → introspection. `false` when a step failed and the flow must start over.
fn flow(s: &Setup, t: &RefCell<Tally>) -> bool {
    let h = &s.h;
    let b = Browser::new(h, &h.config.issuer).with_header("accept", "text/html,*/*");
    let basic = Some((s.client_id.as_str(), s.secret.as_str()));
    let url = authorize_url(&s.client_id, &[("prompt", "consent")]);
    let login_page = send(t, "sign-in page", true, || b.get(&url));
    if !step(t, "sign-in page", &login_page, 200, false) {
        return false;
    }
    let signed_in = send(t, "sign in", true, || {
        b.post_form(
            "/api/oauth/login",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrf_token", &hidden(&login_page.body, "csrf_token")),
                ("return_to", &hidden(&login_page.body, "return_to")),
            ],
        )
    });
    if !step(t, "sign in", &signed_in, 303, false) {
        return false;
    }
    let consent = send(t, "consent page", true, || b.get(&location(&signed_in)));
    if !step(t, "consent page", &consent, 200, false) {
        return false;
    }
    let approved = send(t, "approve", true, || {
        submit_consent(&b, &consent, &["profile:read"], "approve")
    });
    if !step(t, "approve", &approved, 303, false) {
        return false;
    }
    let code = query_param(&location(&approved), "code").expect("a code");
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let tokens = send(t, "code exchange", false, || flow::token(s, &exchange, basic));
    if !step(t, "code exchange", &tokens, 200, true) {
        return false;
    }
    let access = tokens.json()["access_token"].as_str().unwrap().to_string();
    let mut refresh = tokens.json()["refresh_token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let fields = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
        let r = send(t, "refresh", false, || flow::token(s, &fields, basic));
        if !step(t, "refresh", &r, 200, true) {
            return false;
        }
        refresh = r.json()["refresh_token"].as_str().unwrap().to_string();
    }
    let revoke = [("token", refresh.as_str())];
    let r = send(t, "revoke", false, || {
        flow::post(s, "/api/oauth/revoke", &revoke, basic)
    });
    if !step(t, "revoke", &r, 200, false) {
        return false;
    }
    let introspect = [("token", access.as_str())];
    let r = send(t, "introspect", false, || {
        flow::post(s, "/api/oauth/introspect", &introspect, basic)
    });
    if !step(t, "introspect", &r, 200, false) {
        return false;
    }
    assert_eq!(r.json()["active"], false, "a revoked grant's token is inactive");
    true
}

fn run(rate: f64, seed: u64) {
    let s = flow::setup();
    s.h.store.inject_faults(rate, seed);
    s.h.objects.inject_faults(rate / 2.0, rate / 2.0, seed);
    let t = RefCell::new(Tally::default());
    for _ in 0..40 {
        for attempt in 0..5 {
            if flow(&s, &t) {
                let mut t = t.borrow_mut();
                t.completed += 1;
                t.started_over += usize::from(attempt > 0);
                break;
            }
        }
    }
    let t = t.into_inner();
    let (before, after) = s.h.objects.faults_injected();
    println!(
        "{} backend, {:.0}% faults: {} requests, {} KV faults, {}+{} object faults (before/after), \
         {} 503s, 0 500s, {} of 40 flows completed, {} after starting over; why: {:?}",
        backend_var().1,
        rate * 100.0,
        t.requests,
        s.h.store.faults_injected(),
        before,
        after,
        t.unavailable,
        t.completed,
        t.started_over,
        t.reasons
    );
    assert!(s.h.store.faults_injected() > 0, "the run injected faults");
}

#[test]
fn at_2_percent_no_500_and_every_503_retryable() {
    run(0.02, 11);
}

#[test]
fn at_10_percent_no_500_and_every_503_retryable() {
    run(0.10, 29);
}
