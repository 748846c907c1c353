//! Complete flows under injected storage faults (issue 17), over any transport: the
//! in-process core (MemoryStore and native objects failing) or the built Worker (bindings
//! wrapped by scripts/fault-entry.mjs). A client that retries a 503 up to five times, as a
//! careful client does.
//!
//! Asserted on every response: never a 500; every 503 carries `Retry-After`; a page a browser
//! loads answers its 503 as a page; a storage fault never becomes a 4xx that blames the client
//! or the user (an unknown client, a wrong password, a refused form), and a retry after a lost
//! answer succeeds (a step either succeeds or is still 503 after five retries). Flows that
//! start over after five 503s are counted and reported.

use super::browser::{hidden, location, query_param, submit_consent, Browser, Transport};
use super::http::{form_encode, Reply};
use base64::Engine;
use edge_oauth::oauth::pkce::challenge_for;
use std::cell::RefCell;

const VERIFIER: &str = "fault-verifier-0123456789-0123456789-0123456789";

/// The confidential client and the user a flow runs with.
pub struct FaultClient {
    pub client_id: String,
    pub secret: String,
    pub redirect_uri: String,
    pub email: String,
    pub password: String,
}

/// Runs `flows` flows, each started over (at most 4 times) when a step fails.
pub fn run_flows<T: Transport>(transport: &T, base: &str, c: &FaultClient, flows: usize) -> Tally {
    let t = RefCell::new(Tally::default());
    for _ in 0..flows {
        for attempt in 0..5 {
            if flow(transport, base, c, &t) {
                let mut t = t.borrow_mut();
                t.completed += 1;
                t.started_over += usize::from(attempt > 0);
                break;
            }
        }
    }
    t.into_inner()
}

pub const RETRIES: usize = 5;

#[derive(Default, Debug)]
pub struct Tally {
    pub requests: usize,
    pub unavailable: usize,
    pub completed: usize,
    pub started_over: usize,
    pub reasons: Vec<String>,
}

/// Sends one request, again while it answers 503 (at most [`RETRIES`] times), checking every
/// answer against the rules above.
fn send(t: &RefCell<Tally>, what: &str, page: bool, request: impl Fn() -> Reply) -> Reply {
    for attempt in 0..=RETRIES {
        let r = request();
        t.borrow_mut().requests += 1;
        assert_ne!(
            r.status, 500,
            "{what}: a 500 under storage faults: {}",
            r.body
        );
        if r.status != 503 {
            return r;
        }
        t.borrow_mut().unavailable += 1;
        assert!(
            r.header("retry-after").is_some(),
            "{what}: 503 without Retry-After"
        );
        if page {
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("text/html")),
                "{what}: a page's 503 must be a page: {}",
                r.body
            );
        } else {
            assert!(
                r.body.contains("temporarily_unavailable"),
                "{what}: {}",
                r.body
            );
        }
        if attempt == RETRIES {
            return r;
        }
    }
    unreachable!()
}

/// A step answers its success or, after five retries, still 503; never anything else: a
/// retry after a lost answer is the same request and succeeds (a consent form, a code
/// exchange and a refresh give the same result again).
fn step(t: &RefCell<Tally>, what: &str, r: &Reply, ok: u16) -> bool {
    if r.status == ok {
        return true;
    }
    assert!(
        r.status == 503,
        "{what}: storage faults must not turn into {}: {}",
        r.status,
        r.body
    );
    t.borrow_mut()
        .reasons
        .push(format!("{what} → {}", r.status));
    false
}

/// One flow: authorize (prompt=consent) → sign in → consent → code → three refreshes →
/// revocation → introspection. `false` when a step failed and the flow must start over.
pub fn flow<T: Transport>(transport: &T, base: &str, c: &FaultClient, t: &RefCell<Tally>) -> bool {
    let b = Browser::new(transport, base).with_header("accept", "text/html,*/*");
    let backend = |path: &str, fields: &[(&str, &str)]| {
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.client_id, c.secret))
        );
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", auth.as_str()),
        ];
        let body = form_encode(fields);
        transport.send(
            "POST",
            &format!("{base}{path}"),
            &headers,
            Some(body.as_bytes()),
        )
    };
    let challenge = challenge_for(VERIFIER);
    let url = format!(
        "{base}/api/oauth/authorize?{}",
        form_encode(&[
            ("response_type", "code"),
            ("client_id", &c.client_id),
            ("redirect_uri", &c.redirect_uri),
            ("scope", "profile:read"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "consent"),
        ])
    );
    let login_page = send(t, "sign-in page", true, || b.get(&url));
    if !step(t, "sign-in page", &login_page, 200) {
        return false;
    }
    let signed_in = send(t, "sign in", true, || {
        b.post_form(
            "/api/oauth/login",
            &[
                ("email", c.email.as_str()),
                ("password", c.password.as_str()),
                ("csrf_token", &hidden(&login_page.body, "csrf_token")),
                ("return_to", &hidden(&login_page.body, "return_to")),
            ],
        )
    });
    if !step(t, "sign in", &signed_in, 303) {
        return false;
    }
    let consent = send(t, "consent page", true, || b.get(&location(&signed_in)));
    if !step(t, "consent page", &consent, 200) {
        return false;
    }
    let approved = send(t, "approve", true, || {
        submit_consent(&b, &consent, &["profile:read"], "approve")
    });
    if !step(t, "approve", &approved, 303) {
        return false;
    }
    let code = query_param(&location(&approved), "code").expect("a code");
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &c.redirect_uri),
        ("code_verifier", VERIFIER),
    ];
    let tokens = send(t, "code exchange", false, || {
        backend("/api/oauth/token", &exchange)
    });
    if !step(t, "code exchange", &tokens, 200) {
        return false;
    }
    let access = tokens.json()["access_token"].as_str().unwrap().to_string();
    let mut refresh = tokens.json()["refresh_token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let fields = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
        let r = send(t, "refresh", false, || backend("/api/oauth/token", &fields));
        if !step(t, "refresh", &r, 200) {
            return false;
        }
        refresh = r.json()["refresh_token"].as_str().unwrap().to_string();
    }
    let revoke = [("token", refresh.as_str())];
    let r = send(t, "revoke", false, || backend("/api/oauth/revoke", &revoke));
    if !step(t, "revoke", &r, 200) {
        return false;
    }
    let introspect = [("token", access.as_str())];
    let r = send(t, "introspect", false, || {
        backend("/api/oauth/introspect", &introspect)
    });
    if !step(t, "introspect", &r, 200) {
        return false;
    }
    assert_eq!(
        r.json()["active"],
        false,
        "a revoked grant's token is inactive"
    );
    true
}
