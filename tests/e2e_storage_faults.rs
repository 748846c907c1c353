//! Storage faults (issue 17) against the built Worker in workerd: its KV and Durable Object
//! bindings are wrapped (scripts/fault-entry.mjs, `serve-test.mjs --faults`) so that 2% or 10%
//! of KV calls fail before they run, and as many object calls fail half before reaching the
//! object, half after it committed. The rules each response is held to (no 500, every 503
//! retryable with `Retry-After`, pages as pages, no 4xx blaming the client or user) are in
//! `common::faults`. Runs on the backend `EDGE_STATE_BACKEND` names, like every e2e suite.
//! `make bench` prints the same figures for 200 flows (scripts/bench-faults.mjs).

mod common;

use common::e2e::{register, user, PASSWORD, REDIRECT};
use common::faults::{run_flows, FaultClient};
use common::http::{get, post_json};
use common::worker::start;
use serde_json::json;

fn run(rate: f64, seed: u64) {
    let w = start(&["--faults", "0"]);
    let client = register(&w, "client_secret_basic");
    let email = user(&w, &format!("faults-{seed}"));
    let set = post_json(
        &w.url("/__faults"),
        &[],
        &json!({"kv": rate, "do": rate / 2.0, "do_after": rate / 2.0, "seed": seed}),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let c = FaultClient {
        client_id: client["client_id"].as_str().unwrap().into(),
        secret: client["client_secret"].as_str().unwrap().into(),
        redirect_uri: REDIRECT.into(),
        email,
        password: PASSWORD.into(),
    };
    let t = run_flows(&common::browser::Http, &w.url, &c, 30);
    let counts = get(&w.url("/__faults"), &[]).json()["counts"].clone();
    println!(
        "{} backend, {:.0}% faults: {} requests, KV faults {}/{}, object faults {}+{}/{} \
         (before/after), {} 503s, 0 500s, {} of 30 flows completed, {} after starting over; why: {:?}",
        std::env::var("EDGE_STATE_BACKEND").unwrap_or_else(|_| "durable".into()),
        rate * 100.0,
        t.requests,
        counts["kv"],
        counts["calls_kv"],
        counts["do"],
        counts["do_after"],
        counts["calls_do"],
        t.unavailable,
        t.completed,
        t.started_over,
        t.reasons
    );
    assert!(
        counts["kv"].as_u64().unwrap() > 0,
        "the run injected KV faults"
    );
}

#[test]
fn at_2_percent_no_500_and_every_503_retryable() {
    run(0.02, 5);
}

#[test]
fn at_10_percent_no_500_and_every_503_retryable() {
    run(0.10, 17);
}
