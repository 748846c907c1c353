//! Support for the concurrency tests (`tests/e2e_concurrency.rs`): a Worker per state backend,
//! N requests released at the same instant, and the flow steps those tests repeat (a client,
//! a user, codes, token calls) over plain HTTP.

use super::browser::{location, query_param, Browser, Http};
use super::e2e::{admin_post, login_to_consent, register, REDIRECT};
use super::http::{post_form, Reply};
use super::worker::{start, Worker};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, OnceLock};

/// The state backend a Worker is started with (`STATE_BACKEND`, SPEC "State").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Per-user Durable Objects: every transition exactly once.
    Durable,
    /// Workers KV: the weaker guarantees of docs/consistency.md.
    Kv,
}

impl Backend {
    /// One Worker per backend for the whole test binary. Reuse grace is pinned to 0 (strict
    /// rotation), the default, so the counts below do not depend on a default changing.
    pub fn worker(self) -> &'static Worker {
        static DURABLE: OnceLock<Worker> = OnceLock::new();
        static KV: OnceLock<Worker> = OnceLock::new();
        let (cell, name) = match self {
            Backend::Durable => (&DURABLE, "STATE_BACKEND=durable"),
            Backend::Kv => (&KV, "STATE_BACKEND=kv"),
        };
        cell.get_or_init(|| start(&["--var", name, "--var", "REFRESH_REUSE_GRACE=0"]))
    }

    /// Whether this backend promises exact counts under concurrency.
    pub fn exact(self) -> bool {
        self == Backend::Durable
    }
}

/// Runs `f(0..n)` on `n` threads held at one barrier and released together, so the requests
/// reach the Worker at the same moment. Results come back in index order.
pub fn all_at_once<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread panicked"))
            .collect()
    })
}

/// How many replies had each status, for failure messages: `{200: 3, 400: 13}`.
pub fn statuses(replies: &[Reply]) -> std::collections::BTreeMap<u16, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in replies {
        *m.entry(r.status).or_insert(0) += 1;
    }
    m
}

/// A refused token request must be an RFC 6749 §5.2 `invalid_grant`, never a 5xx.
pub fn assert_invalid_grant(r: &Reply) {
    r.expect_error(400, "invalid_grant");
}

/// The PKCE verifier every code of these tests is bound to (RFC 7636 §4.1: 43-128 chars).
pub const VERIFIER: &str = "race-verifier-0123456789-0123456789-abcdefghij";

pub fn challenge() -> String {
    PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(VERIFIER.into()))
        .as_str()
        .to_string()
}

pub const ALL_SCOPES: &str = "profile:read images:read images:write";

/// A registered confidential client; it authenticates with `client_secret_post`.
pub struct App {
    pub client_id: String,
    pub secret: String,
}

impl App {
    pub fn register(w: &Worker) -> App {
        let c = register(w, "client_secret_basic");
        App {
            client_id: c["client_id"].as_str().unwrap().into(),
            secret: c["client_secret"].as_str().unwrap().into(),
        }
    }

    /// A form POST with the client's credentials in the body.
    pub fn post(&self, w: &Worker, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = fields.to_vec();
        all.extend([
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
        ]);
        post_form(&w.url(path), &[], &all)
    }

    pub fn redeem(&self, w: &Worker, code: &str) -> Reply {
        self.post(
            w,
            "/api/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
    }

    pub fn refresh(&self, w: &Worker, refresh_token: &str) -> Reply {
        self.post(
            w,
            "/api/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
    }

    /// RFC 7662 introspection (read-only: it never rotates or revokes anything).
    pub fn introspect(&self, w: &Worker, token: &str) -> Value {
        let r = self.post(w, "/api/oauth/introspect", &[("token", token)]);
        assert_eq!(r.status, 200, "introspection: {}", r.body);
        r.json()
    }

    pub fn is_active(&self, w: &Worker, token: &str) -> bool {
        self.introspect(w, token)["active"] == true
    }

    /// An authorization request for `scope`, bound to `VERIFIER`.
    pub fn authorize_url(&self, w: &Worker, scope: &str) -> String {
        let query = super::http::form_encode(&[
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "race"),
            ("code_challenge", &challenge()),
            ("code_challenge_method", "S256"),
        ]);
        w.url(&format!("/api/oauth/authorize?{query}"))
    }
}

/// A browser of its own client address (`CF-Connecting-IP`, an IPv6 documentation address,
/// RFC 3849): in production every user arrives from their own address, while here all come
/// from 127.0.0.1, and the per-address sign-in throttle must not mix up separate tests.
pub fn browser(w: &Worker) -> Browser<'static, Http> {
    Browser::new(&Http, &w.url).with_header("CF-Connecting-IP", &address())
}

/// A fresh client address per call.
pub fn address() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    // Each in its own /64: per-address limits count an IPv6 subscriber by its /64.
    format!("2001:db8:{:x}::1", N.fetch_add(1, Ordering::Relaxed) + 1)
}

/// A built-in account, unique within the Worker.
pub struct Person {
    pub email: String,
    pub sub: String,
}

pub fn person(w: &Worker, tag: &str) -> Person {
    static N: AtomicUsize = AtomicUsize::new(0);
    let email = format!("{tag}-{}@example.com", N.fetch_add(1, Ordering::Relaxed));
    let u = admin_post(
        w,
        "/api/admin/users",
        json!({"email": email, "password": super::e2e::PASSWORD}),
    );
    Person {
        email,
        sub: u["sub"].as_str().expect("sub of the new user").into(),
    }
}

/// The code in a redirect back to the client.
pub fn code_in(r: &Reply) -> String {
    let to = location(r);
    query_param(&to, "code").unwrap_or_else(|| panic!("no code in {to}"))
}

/// Signs `b` in as `p`, approves every requested scope, and returns the code.
pub fn first_code(w: &Worker, b: &Browser<Http>, app: &App, p: &Person) -> String {
    let consent = login_to_consent(b, &app.authorize_url(w, ALL_SCOPES), &p.email);
    let scopes: Vec<&str> = ALL_SCOPES.split(' ').collect();
    code_in(&super::browser::submit_consent(
        b, &consent, &scopes, "approve",
    ))
}

/// A further code for a signed-in `b`: at once when consent is remembered, else through the
/// consent page again (a revoked grant may have taken the remembered consent with it).
pub fn next_code(w: &Worker, b: &Browser<Http>, app: &App) -> String {
    let r = b.get(&app.authorize_url(w, ALL_SCOPES));
    if r.status == 200 {
        let scopes: Vec<&str> = ALL_SCOPES.split(' ').collect();
        return code_in(&super::browser::submit_consent(b, &r, &scopes, "approve"));
    }
    code_in(&r)
}

/// A token response's (access_token, refresh_token).
pub fn tokens(r: &Reply) -> (String, String) {
    assert_eq!(r.status, 200, "token response expected: {}", r.body);
    let v = r.json();
    (
        v["access_token"].as_str().unwrap().into(),
        v["refresh_token"].as_str().unwrap().into(),
    )
}

/// The live grants of `sub` for `client_id`, from the admin API.
pub fn live_grants(w: &Worker, sub: &str, client_id: &str) -> Vec<Value> {
    let path = format!(
        "/api/admin/grants?{}",
        super::http::form_encode(&[("sub", sub)])
    );
    let r = w.admin("GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["grants"]
        .as_array()
        .expect("grants array")
        .iter()
        .filter(|g| g["client_id"] == client_id)
        .cloned()
        .collect()
}
