//! Storage faults (issue 17) in-process: complete flows while the faithful MemoryStore's KV
//! calls and the native objects' calls fail at 2% and 10% (before the call, and on the durable
//! backend also after the object committed). The rules each response is held to are in
//! `common::faults`; run with `--nocapture` for the figures.

mod common;

use common::faults::{run_flows, FaultClient};
use common::flow::{self, EMAIL, PASSWORD, REDIRECT};
use common::inprocess::backend_var;

fn run(rate: f64, seed: u64) {
    let s = flow::setup();
    s.h.store.inject_faults(rate, seed);
    s.h.objects.inject_faults(rate / 2.0, rate / 2.0, seed);
    let client = FaultClient {
        client_id: s.client_id.clone(),
        secret: s.secret.clone(),
        redirect_uri: REDIRECT.into(),
        email: EMAIL.into(),
        password: PASSWORD.into(),
    };
    let t = run_flows(&s.h, &s.h.config.issuer, &client, 40);
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
    // A sign-in that failed halfway left no session that ending all sessions would miss.
    let keys: Vec<String> = s.h.store.dump().into_iter().map(|(k, _)| k).collect();
    for session in keys.iter().filter_map(|k| k.strip_prefix("session:")) {
        assert!(
            keys.iter()
                .any(|k| k.starts_with("user_session:") && k.ends_with(&format!(".{session}"))),
            "session {session} has no index entry"
        );
    }
}

#[test]
fn at_2_percent_no_500_and_every_503_retryable() {
    run(0.02, 11);
}

#[test]
fn at_10_percent_no_500_and_every_503_retryable() {
    run(0.10, 29);
}
