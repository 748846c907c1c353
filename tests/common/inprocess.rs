//! The core in-process: `app::handle` against `MemoryStore` and native crypto, with a clock
//! the test moves. Fast, and it reaches states (expired codes) a real server takes minutes for.

use edge_oauth::app::{handle, Ctx};
use edge_oauth::config::Config;
use edge_oauth::crypto::native::NativeCrypto;
use edge_oauth::http::{Method, Request, Response};
use edge_oauth::state::durable::native::NativeObjects;
use edge_oauth::store::MemoryStore;
use futures_executor::block_on;
use serde_json::Value;
use std::collections::HashMap;

pub const ADMIN_TOKEN: &str = "in-process-admin-token-0123456789abcdef";
pub const ISSUER: &str = "http://127.0.0.1:8787";
pub const ASSERTION_SECRET: &str = "in-process-assertion-secret-0123456789";

/// A fixed ES256 test key (generated once for these tests; not used anywhere else).
pub const SIGNING_KEYS: &str = r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"inproc-1",
    "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
    "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM",
    "d":"ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM"}]"#;

pub struct Harness {
    pub config: Config,
    pub store: MemoryStore,
    pub objects: NativeObjects,
    pub crypto: NativeCrypto,
}

/// The state backend the in-process suites run on: `EDGE_STATE_BACKEND=kv` or the default
/// (durable; `make test` runs them on both).
pub fn backend_var() -> (&'static str, &'static str) {
    match std::env::var("EDGE_STATE_BACKEND").as_deref() {
        Ok("kv") => ("STATE_BACKEND", "kv"),
        _ => ("STATE_BACKEND", "durable"),
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_vars(&[])
    }

    pub fn with_vars(extra: &[(&str, &str)]) -> Harness {
        let mut vars: HashMap<&str, &str> = HashMap::from([
            ("ISSUER", ISSUER),
            ("SIGNING_KEYS", SIGNING_KEYS),
            ("ADMIN_TOKEN", ADMIN_TOKEN),
            ("LOGIN_ASSERTION_SECRET", ASSERTION_SECRET),
            backend_var(),
        ]);
        vars.extend(extra.iter().copied());
        let config = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        Harness {
            config,
            store: MemoryStore::new(1_800_000_000),
            objects: NativeObjects::new(),
            crypto: NativeCrypto::new(),
        }
    }

    pub fn call(&self, req: Request) -> Response {
        self.store.begin_request();
        let ctx = Ctx {
            config: &self.config,
            store: &self.store,
            objects: &self.objects,
            crypto: &self.crypto,
            now: self.store.now(),
            now_ms: self.store.now() * 1000,
        };
        let response = block_on(handle(&ctx, &req, &|line| eprintln!("log: {line}")));
        // A second passes between requests, as between a person's clicks: the faithful store
        // refuses a second write to one key within a second, as KV does.
        self.store.advance(1);
        response
    }

    pub fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut req = Request::new(method, path)
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
        if let Some(b) = body {
            req = req
                .with_header("content-type", "application/json")
                .with_body(b.to_string());
        }
        self.call(req)
    }
}

pub fn json(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )
    })
}

/// Asserts an RFC 6749-style error response; returns its description.
pub fn expect_error(r: &Response, status: u16, error: &str) -> String {
    let body = json(r);
    assert_eq!(r.status, status, "body: {body}");
    assert_eq!(body["error"], error, "body: {body}");
    body["error_description"].as_str().unwrap_or("").to_string()
}
