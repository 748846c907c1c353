//! Client ID Metadata Documents in-process (both backends: `EDGE_STATE_BACKEND=kv`): each SSRF
//! refusal is a 400 page (never a redirect); a document the Worker fetched (cached here as the
//! Worker caches it) gives a public, unverified client that runs the whole flow; the fetch
//! itself (timeout, size, redirects) is tested in workerd (tests/e2e_client_documents.rs).

mod common;

use common::browser::{location, query_param, submit_consent, Browser};
use common::flow::{login, token, Setup, EMAIL, PASSWORD, VERIFIER};
use common::inprocess::{json, Harness, ISSUER};
use edge_oauth::http::{Method, Request};
use edge_oauth::oauth::client_document;
use edge_oauth::oauth::pkce::challenge_for;
use futures_executor::block_on;
use serde_json::json;

const DOC: &str = "https://agent.example/oauth/client.json";
const REDIRECT: &str = "https://agent.example/callback";

fn authorize(client_id: &str) -> String {
    format!(
        "/api/oauth/authorize?{}",
        common::http::form_encode(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("code_challenge", &challenge_for(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
    )
}

#[test]
fn each_ssrf_refusal_is_a_400_page_never_a_redirect() {
    let h = Harness::new();
    let b = Browser::new(&h, ISSUER);
    for (url, says) in [
        ("https://10.0.0.1/client.json", "IP address"),
        ("https://[::1]/client.json", "localhost"),
        ("https://[fd00::1]/client.json", "IP address"),
        ("https://localhost/client.json", "localhost"),
        ("https://agent.example:8443/client.json", "port"),
        ("https://me:pw@agent.example/client.json", "credentials"),
        ("https://agent.example/client.json#frag", "fragment"),
        ("http://agent.example/client.json", "https"),
        ("http://127.0.0.1:9/client.json", "https"),
    ] {
        let r = b.get(&authorize(url));
        assert_eq!(r.status, 400, "{url}");
        assert!(r.header("location").is_none(), "{url}");
        assert!(r.body.contains(says), "{url}: {}", r.body);
    }
    // Not fetched (nothing cached) is a page too.
    let r = b.get(&authorize(DOC));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("could not be fetched"));
    // Off: no URL client_id at all, and not advertised.
    let off = Harness::with_vars(&[("CLIENT_METADATA_DOCUMENTS", "off")]);
    let meta = json(&off.call(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    )));
    assert!(meta.get("client_id_metadata_document_supported").is_none());
    let r = Browser::new(&off, ISSUER).get(&authorize(DOC));
    assert_eq!(r.status, 400);
}

#[test]
fn a_fetched_document_is_a_public_unverified_client_for_the_whole_flow() {
    let h = Harness::new();
    let meta = json(&h.call(Request::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
    )));
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    let r = h.admin(
        Method::Post,
        "/api/admin/users",
        Some(&json!({"email": EMAIL, "password": PASSWORD})),
    );
    assert_eq!(r.status, 201);
    // What the Worker does after its fetch.
    let doc = json!({"client_id": DOC, "client_name": "Agent", "redirect_uris": [REDIRECT],
                     "token_endpoint_auth_method": "none", "scope": "profile:read"});
    let fetched = Ok((
        doc.to_string().into_bytes(),
        Some("max-age=600".to_string()),
    ));
    let now = h.store.now();
    let client = block_on(client_document::remember(
        &h.store,
        DOC,
        fetched,
        &h.config.scopes,
        now,
    ))
    .unwrap()
    .unwrap();
    assert!(!client.is_confidential() && !client.is_verified());
    let b = Browser::new(&h, ISSUER);
    let consent = b.get(&location(&login(&b, &b.get(&authorize(DOC)))));
    assert!(consent.body.contains("not verified"), "{}", consent.body);
    assert!(
        consent.body.contains("you return to agent.example"),
        "{}",
        consent.body
    );
    let r = submit_consent(&b, &consent, &["profile:read"], "approve");
    let code = query_param(&location(&r), "code").unwrap();
    let (reads, writes, _) = h.store.op_counts();
    let s = Setup {
        h,
        client_id: DOC.into(),
        secret: String::new(),
        public_id: DOC.into(),
    };
    let t = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", DOC),
        ],
        None,
    );
    assert_eq!(t.status, 200, "{}", t.body);
    let _ = (reads, writes);
    // A refused document is cached as the refusal, shown as a page.
    let bad = json!({"client_id": "https://elsewhere.example/c.json", "redirect_uris": [REDIRECT]});
    let other = "https://agent.example/other.json";
    let fetched = Ok((bad.to_string().into_bytes(), None));
    let now = s.h.store.now();
    let refused = block_on(client_document::remember(
        &s.h.store,
        other,
        fetched,
        &s.h.config.scopes,
        now,
    ))
    .unwrap();
    assert!(refused.is_err());
    let r = Browser::new(&s.h, ISSUER).get(&authorize(other));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not its URL"), "{}", r.body);
}
