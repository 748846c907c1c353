//! The whole pipeline natively: real ES256 signatures (p256), a JWKS source that counts its
//! fetches, a revocation list, and a clock the test sets. One test per way a request is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edge_verifier::native::NativeEs256;
use edge_verifier::{AccessClaims, AuthError, Config, JwksResponse, Sources, Verifier};
use futures_executor::block_on;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};

const ISS: &str = "https://id.example";
const NOW: u64 = 1_800_000_000;
const D1: &str = "ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM";
const D2: &str = "xDHjyGdRSc6sFR7o4HMNlmib9tv7EumAwrVQX7oeoko";

fn signing_key(d: &str) -> SigningKey {
    SigningKey::from_slice(&B64.decode(d).unwrap()).unwrap()
}

fn public_jwk(d: &str, kid: &str) -> Value {
    let jwk: Value = serde_json::from_str(
        &p256::PublicKey::from(signing_key(d).verifying_key()).to_jwk_string(),
    )
    .unwrap();
    let mut jwk = jwk.as_object().unwrap().clone();
    jwk.insert("kid".into(), json!(kid));
    jwk.insert("alg".into(), json!("ES256"));
    jwk.insert("use".into(), json!("sig"));
    Value::Object(jwk)
}

fn sign(d: &str, header: Value, claims: Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig: Signature = signing_key(d).sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "user-1", "aud": ISS, "client_id": "app-1",
           "scope": "profile:read galleries:read", "iat": NOW - 5, "exp": NOW + 3595,
           "jti": "jti-1", "gid": "grant-1"})
}

fn header(kid: &str) -> Value {
    json!({"alg": "ES256", "typ": "at+jwt", "kid": kid})
}

fn good_token() -> String {
    sign(D1, header("k1"), claims())
}

struct Fake {
    jwks: RefCell<Result<Value, String>>,
    cache_control: Option<String>,
    fetches: Cell<u32>,
    /// KV markers: (key, value).
    revoked: Vec<(String, String)>,
    reads: Cell<u32>,
    revocation_down: bool,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            jwks: RefCell::new(Ok(json!({"keys": [public_jwk(D1, "k1")]}))),
            cache_control: Some("public, max-age=300".into()),
            fetches: Cell::new(0),
            revoked: vec![],
            reads: Cell::new(0),
            revocation_down: false,
        }
    }
}

impl Sources for Fake {
    async fn fetch_jwks(&self, uri: &str) -> Result<JwksResponse, String> {
        assert_eq!(uri, format!("{ISS}/.well-known/jwks.json"));
        self.fetches.set(self.fetches.get() + 1);
        let body = self.jwks.borrow().clone()?.to_string();
        Ok(JwksResponse {
            body,
            cache_control: self.cache_control.clone(),
        })
    }

    async fn read_markers(&self, keys: &[String]) -> Result<Vec<Option<String>>, String> {
        if self.revocation_down {
            return Err("KV unreachable".into());
        }
        self.reads.set(self.reads.get() + 1);
        Ok(keys
            .iter()
            .map(|k| {
                self.revoked
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            })
            .collect())
    }
}

fn verifier() -> Verifier {
    Verifier::new(Config::new(ISS, ISS).check_revocation(true))
}

fn run(
    v: &Verifier,
    src: &Fake,
    auth: Option<&str>,
    scopes: &[&str],
    now: u64,
) -> Result<AccessClaims, AuthError> {
    block_on(v.verify(&NativeEs256, src, auth, scopes, now))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn expect_invalid(result: Result<AccessClaims, AuthError>, reason: &str) {
    match result {
        Err(AuthError::InvalidToken(d)) => assert!(d.contains(reason), "{d:?} lacks {reason:?}"),
        other => panic!("expected invalid_token ({reason}), got {other:?}"),
    }
}

#[test]
fn a_valid_token_yields_its_claims() {
    let (v, src) = (verifier(), Fake::new());
    let c = run(
        &v,
        &src,
        Some(&bearer(&good_token())),
        &["galleries:read"],
        NOW,
    )
    .unwrap();
    assert_eq!(
        (c.sub.as_str(), c.client_id.as_str(), c.jti.as_str()),
        ("user-1", "app-1", "jti-1")
    );
    assert_eq!(c.scopes, ["profile:read", "galleries:read"]);
    assert_eq!(c.exp, NOW + 3595);
}

#[test]
fn no_authorization_header_is_missing_token() {
    assert_eq!(
        run(&verifier(), &Fake::new(), None, &[], NOW),
        Err(AuthError::MissingToken)
    );
}

#[test]
fn another_scheme_is_missing_token() {
    let r = run(&verifier(), &Fake::new(), Some("Basic YTpi"), &[], NOW);
    assert_eq!(r, Err(AuthError::MissingToken));
}

#[test]
fn bearer_without_a_token_is_invalid_request() {
    let r = run(&verifier(), &Fake::new(), Some("Bearer "), &[], NOW);
    assert!(matches!(r, Err(AuthError::InvalidRequest(_))), "{r:?}");
}

#[test]
fn malformed_token_is_invalid_token() {
    expect_invalid(
        run(
            &verifier(),
            &Fake::new(),
            Some("Bearer not-a-jwt"),
            &[],
            NOW,
        ),
        "malformed",
    );
}

#[test]
fn tampered_payload_fails_the_signature() {
    let token = good_token();
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["scope"] = json!("profile:read galleries:read galleries:write");
    let token = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(forged.to_string()),
        parts[2]
    );
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "signature",
    );
}

#[test]
fn a_token_signed_by_another_key_under_a_known_kid_fails_the_signature() {
    let token = sign(D2, header("k1"), claims());
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "signature",
    );
}

#[test]
fn alg_must_match_the_key() {
    let mut h = header("k1");
    h["alg"] = json!("EdDSA");
    let token = sign(D1, h, claims());
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "alg does not match",
    );
}

#[test]
fn wrong_typ_is_refused_before_any_key_fetch() {
    let (v, src) = (verifier(), Fake::new());
    let mut h = header("k1");
    h["typ"] = json!("JWT");
    let token = sign(D1, h, claims());
    expect_invalid(run(&v, &src, Some(&bearer(&token)), &[], NOW), "typ");
    assert_eq!(src.fetches.get(), 0);
}

#[test]
fn expired_token_is_invalid_token() {
    let mut c = claims();
    c["exp"] = json!(NOW - 60);
    let token = sign(D1, header("k1"), c);
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "expired",
    );
}

#[test]
fn wrong_issuer_is_invalid_token() {
    let mut c = claims();
    c["iss"] = json!("https://evil.example");
    let token = sign(D1, header("k1"), c);
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "not issued by",
    );
}

#[test]
fn wrong_audience_is_invalid_token() {
    let mut c = claims();
    c["aud"] = json!("https://other-api.example");
    let token = sign(D1, header("k1"), c);
    expect_invalid(
        run(&verifier(), &Fake::new(), Some(&bearer(&token)), &[], NOW),
        "not meant for this API",
    );
}

/// RFC 8707: an API configured with its own resource URI accepts tokens for exactly that URI,
/// not those for the provider's default audience or for a sibling resource (not a prefix).
#[test]
fn an_api_with_a_resource_uri_accepts_only_tokens_for_it() {
    const MCP: &str = "https://api.example/mcp";
    let v = Verifier::new(Config::new(ISS, MCP).check_revocation(true));
    let token_for = |aud: &str| {
        let mut c = claims();
        c["aud"] = json!(aud);
        sign(D1, header("k1"), c)
    };
    let ok = run(&v, &Fake::new(), Some(&bearer(&token_for(MCP))), &[], NOW).unwrap();
    assert_eq!(ok.sub, "user-1");
    for other in [
        ISS,
        "https://api.example",
        "https://api.example/mcp/",
        "https://api.example/mcp2",
    ] {
        expect_invalid(
            run(&v, &Fake::new(), Some(&bearer(&token_for(other))), &[], NOW),
            "not meant for this API",
        );
    }
}

#[test]
fn revoked_token_is_invalid_token() {
    let mut src = Fake::new();
    src.revoked = vec![("revoked_jti:jti-1".into(), String::new())];
    expect_invalid(
        run(&verifier(), &src, Some(&bearer(&good_token())), &[], NOW),
        "revoked",
    );
}

#[test]
fn revocation_is_not_consulted_unless_configured() {
    let mut src = Fake::new();
    src.revoked = vec![("revoked_jti:jti-1".into(), String::new())];
    let v = Verifier::new(Config::new(ISS, ISS));
    assert!(run(&v, &src, Some(&bearer(&good_token())), &[], NOW).is_ok());
}

#[test]
fn an_unreadable_revocation_list_fails_closed_with_503() {
    let mut src = Fake::new();
    src.revocation_down = true;
    let r = run(&verifier(), &src, Some(&bearer(&good_token())), &[], NOW);
    assert!(matches!(r, Err(AuthError::Unavailable(_))), "{r:?}");
}

#[test]
fn missing_scope_is_insufficient_scope() {
    let r = run(
        &verifier(),
        &Fake::new(),
        Some(&bearer(&good_token())),
        &["galleries:write"],
        NOW,
    );
    assert_eq!(
        r,
        Err(AuthError::InsufficientScope("galleries:write".into()))
    );
}

#[test]
fn the_jwks_is_fetched_once_and_cached_for_its_max_age() {
    let (v, src) = (verifier(), Fake::new());
    for t in [NOW, NOW + 1, NOW + 299] {
        assert!(run(&v, &src, Some(&bearer(&good_token())), &[], t).is_ok());
    }
    assert_eq!(src.fetches.get(), 1);
    assert!(run(&v, &src, Some(&bearer(&good_token())), &[], NOW + 300).is_ok());
    assert_eq!(src.fetches.get(), 2, "refetched after max-age");
}

#[test]
fn an_unknown_kid_refetches_once_per_interval_and_finds_a_rotated_key() {
    let (v, src) = (verifier(), Fake::new());
    assert!(run(&v, &src, Some(&bearer(&good_token())), &[], NOW).is_ok());
    let rotated = sign(D2, header("k2"), claims());
    expect_invalid(run(&v, &src, Some(&bearer(&rotated)), &[], NOW + 1), "kid");
    expect_invalid(run(&v, &src, Some(&bearer(&rotated)), &[], NOW + 2), "kid");
    assert_eq!(
        src.fetches.get(),
        1,
        "an unknown kid within the interval does not refetch"
    );
    *src.jwks.borrow_mut() = Ok(json!({"keys": [public_jwk(D2, "k2"), public_jwk(D1, "k1")]}));
    assert!(run(&v, &src, Some(&bearer(&rotated)), &[], NOW + 30).is_ok());
    assert_eq!(src.fetches.get(), 2);
}

#[test]
fn an_unreachable_issuer_keeps_stale_keys_and_otherwise_answers_503() {
    let (v, src) = (verifier(), Fake::new());
    *src.jwks.borrow_mut() = Err("connection refused".into());
    let r = run(&v, &src, Some(&bearer(&good_token())), &[], NOW);
    assert!(matches!(r, Err(AuthError::Unavailable(_))), "{r:?}");
    *src.jwks.borrow_mut() = Ok(json!({"keys": [public_jwk(D1, "k1")]}));
    assert!(run(&v, &src, Some(&bearer(&good_token())), &[], NOW + 30).is_ok());
    *src.jwks.borrow_mut() = Err("connection refused".into());
    assert!(
        run(&v, &src, Some(&bearer(&good_token())), &[], NOW + 1000).is_ok(),
        "stale key used"
    );
}

#[test]
fn error_responses_carry_realm_and_resource_metadata() {
    let v = Verifier::new(
        Config::new(ISS, ISS)
            .realm("gallery-api")
            .resource_metadata("https://api.example/.well-known/oauth-protected-resource"),
    );
    let r = v.error_response(&AuthError::InsufficientScope("stats:read".into()));
    assert_eq!(r.status, 403);
    let challenge = &r
        .headers
        .iter()
        .find(|(n, _)| *n == "www-authenticate")
        .unwrap()
        .1;
    assert!(challenge.starts_with("Bearer realm=\"gallery-api\", error=\"insufficient_scope\""));
    assert!(challenge.contains("scope=\"stats:read\""));
    assert!(challenge.contains(
        "resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\""
    ));
}

/// A JWKS source whose answer waits until the test opens the gate.
struct Gated {
    inner: Fake,
    open: Cell<bool>,
    waker: RefCell<Option<std::task::Waker>>,
}

impl Sources for Gated {
    async fn fetch_jwks(&self, uri: &str) -> Result<JwksResponse, String> {
        std::future::poll_fn(|cx| {
            if self.open.get() {
                std::task::Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await;
        self.inner.fetch_jwks(uri).await
    }

    async fn read_markers(&self, keys: &[String]) -> Result<Vec<Option<String>>, String> {
        self.inner.read_markers(keys).await
    }
}

#[test]
fn requests_arriving_during_the_first_fetch_fetch_too_instead_of_failing() {
    use futures_executor::LocalPool;
    use futures_util::future::join3;

    let v = verifier();
    let src = Gated {
        inner: Fake::new(),
        open: Cell::new(false),
        waker: RefCell::new(None),
    };
    let results: RefCell<Vec<Result<AccessClaims, AuthError>>> = RefCell::new(vec![]);
    let mut pool = LocalPool::new();
    let token = bearer(&good_token());
    let run_one = || async {
        let r = v.verify(&NativeEs256, &src, Some(&token), &[], NOW).await;
        results.borrow_mut().push(r);
    };
    let (first, second, third) = (run_one(), run_one(), run_one());
    let all = async {
        join3(first, second, async {
            // Polled after the other two have parked, both fetching.
            src.open.set(true);
            if let Some(w) = src.waker.borrow_mut().take() {
                w.wake();
            }
            third.await;
        })
        .await;
    };
    pool.run_until(all);
    let results = results.into_inner();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(
        src.inner.fetches.get(),
        3,
        "no request waits on another's fetch"
    );
    // Once loaded, the cache answers without fetching.
    assert!(block_on(v.verify(&NativeEs256, &src, Some(&token), &[], NOW + 1)).is_ok());
    assert_eq!(src.inner.fetches.get(), 3);
}

#[test]
fn after_a_failed_first_fetch_requests_back_off_with_503_instead_of_refetching() {
    let (v, src) = (verifier(), Fake::new());
    *src.jwks.borrow_mut() = Err("connection refused".into());
    let token = bearer(&good_token());
    for t in [NOW, NOW + 1, NOW + 29] {
        let r = run(&v, &src, Some(&token), &[], t);
        assert!(matches!(r, Err(AuthError::Unavailable(_))), "{r:?}");
    }
    assert_eq!(src.fetches.get(), 1, "no fetch during the backoff");
    let refusal = v.error_response(&AuthError::Unavailable("x".into()));
    assert_eq!(refusal.status, 503);
    assert!(refusal.headers.contains(&("retry-after", "30".into())));
    *src.jwks.borrow_mut() = Ok(json!({"keys": [public_jwk(D1, "k1")]}));
    assert!(run(&v, &src, Some(&token), &[], NOW + 30).is_ok());
    assert_eq!(src.fetches.get(), 2, "fetched again once the backoff ended");
}

#[test]
fn grant_client_user_and_pair_revocations_refuse_the_token_in_one_read() {
    // "dXNlci0x" is base64url("user-1"); the token was issued at NOW - 5 (no iat_ms).
    let issued_ms = (NOW - 5) * 1000;
    let cases = [
        ("revoked_grant:grant-1", String::new()),
        ("revoked_client:app-1", String::new()),
        ("revoked_user:dXNlci0x", issued_ms.to_string()),
        ("revoked_pair:dXNlci0x:app-1", issued_ms.to_string()),
    ];
    for (key, value) in cases {
        let mut src = Fake::new();
        src.revoked = vec![(key.into(), value)];
        expect_invalid(
            run(&verifier(), &src, Some(&bearer(&good_token())), &[], NOW),
            "revoked",
        );
        assert_eq!(src.reads.get(), 1, "{key}: one bulk read");
    }
}

#[test]
fn a_token_issued_after_a_user_revocation_in_the_same_second_is_accepted() {
    let mut c = claims();
    c["iat_ms"] = json!((NOW - 5) * 1000 + 700);
    let token = sign(D1, header("k1"), c);
    let mut src = Fake::new();
    src.revoked = vec![(
        "revoked_pair:dXNlci0x:app-1".into(),
        ((NOW - 5) * 1000 + 699).to_string(),
    )];
    assert!(run(&verifier(), &src, Some(&bearer(&token)), &[], NOW).is_ok());
    src.revoked[0].1 = ((NOW - 5) * 1000 + 700).to_string();
    expect_invalid(
        run(&verifier(), &src, Some(&bearer(&token)), &[], NOW),
        "revoked",
    );
}
