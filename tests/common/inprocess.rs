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

/// A fixed ES256 key for access tokens (first: the active one) and an RS256 key for ID tokens
/// (generated once for these tests; not used anywhere else).
pub const SIGNING_KEYS: &str = concat!(
    r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"inproc-1",
    "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
    "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM",
    "d":"ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM"},"#,
    r#"{"kty":"RSA","alg":"RS256","kid":"inproc-rsa","n":"mGee-Uclwjc9Ki4k3jnKvA6BmNci3URk5WExAGj_1Pun4UMvLGrPf4FIXkg0kw55jP5eIWLcdXB0f4JWZTVUd5VYkWAoF3RY6SgWnpHUf_7AEVxavYDBlR2A-F6_sdmK7TatLYPMA14fyZC2JtHAS2k-SEH7Yu7j0n0B5S9bSlHmiWafQd4fp6B7ONFXw2v3gtjx_aKzkoVoBCQUzMg3zsQRkOy1RKymxzveO2fphNxlny-Kiptl5LH-DnqlfwW9SqjqHJa8hZ94AgfC_sjy7xyTjLirMl8o0_gZy_-R18x6o705xzfY38ORw5_Eg2Mtfj6Mzepj8AbiHuhISuMjqQ","e":"AQAB","d":"kPxYYGKEU_SjsNz1IJ7EyjgtUhmt2-c_lSKWW1gzCYs0dThU8wx_Ge2uda3Qq5W5okgwLygS_XuzWG_GK8JFo6iQTry2Ee9oJhHdHZKIy2YEPSp-_d409dwmNXeYe2QD-7y9mJnUG-APSCeYd0BT5L8vtni5jlof92lfxDL-cKlrJ9vy9vtcrr4rrm20LKtJ_JNr3QJ2CHUxEpFynB9yBt3dmgBAXUkYgKzP8qz6u2p7srrALmpgSWqqHaI9yL4n53OC6nPNORzkT20VMTEmq9pXZWXJ8fY2Um5Fnz-zgvM3dccUB2ZazF3E8vOzqBEGigu3nqXrD85B-MgmXI2h","p":"1hbh0aDgm6HaVekRe-VAg7p9YcVde3PNmxFijeBd8C9DU9pnAbkFNkGiMIMY9kUXcJNbWcvptNIOQcjqMUT7KlzA2ruHdUpSpAiM7gimoP6pswcxXswplrRvYO42Ftuzv3JUxDXzZU0TKqSBKIAxZBH8-Xoirj_GlxA_jr7G-mE","q":"tj1oAV1DbKL8kN8r8SIPHAXRK6K6hR21VKWSxe_jf6iin1m5Dk4qnO_VLP_X5UltZcANtRCvRCc5Oc6OzvmhhYELDlYavmWnuD5YvOxihInTWdfsoMnON46WVQnp5s4Jgy6caEftuN9Sj1jgK4MyeK3sEyGkMYEQb7sunoEqfkk","dp":"cqQyLGTvoadcGWEDActTbrawaWiclH0AfqcilUKuSu2kKgTr39pJ1jHzPfMVrNp2oMvnwQAWl8Nb6xJBhjygGqEsjHSbJs2zzy7c-KIdSFzWVo3lfBPruU3JzqgAwuDHMh9xENirC3Xoa49Hsn5i9GlFg_pJE_IGz-HdhvzV5EE","dq":"M9Dd45Vq-FaXTXHHArbWaPdWc_u-4N6Dkl_JjbIZk1CVfI18So77Gsguaq8L6cuo6UdkHllyHASzBraucDcWL-lzBU6CKCSrPX2sqXrkwB6YE3GLfGQk2DMYl3FMKi3nEn-MRTI-a1REGzH_-x9AmIOLHh1wnArAa6RjKvo65NE","qi":"ZC5UBaMpdHL6to5kPZl5qiuJTmeziKqNc1FOLgV3s4gBqRKnmnbwXfH-JS8ZncOw1S_jrL7WIGDmxYRqH57G1JH9g5uWBUrsJlLUriFJqpPAPwaDWZTzSQ7VOsrWU0N-jVE0jy86LcEeDyvyoniMjubtPE2DtF80tt68xRLbBtc"}"#,
    "]"
);

/// [`SIGNING_KEYS`] without its RS256 key: a deployment from before OpenID Connect.
pub const ES256_ONLY_KEYS: &str = r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"inproc-1",
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
