//! Client ID Metadata Documents against the built Worker in workerd (both backends with
//! `EDGE_STATE_BACKEND=kv`), `CLIENT_METADATA_DOCUMENTS=loopback` so the Worker fetches from a
//! document server this test runs on 127.0.0.1: a good document runs the flow and is fetched
//! once (then cached); a redirect, an oversize, a slow, a non-JSON and a mismatched document
//! are each a 400 page, never a redirect.

mod common;

use common::browser::{location, query_param, submit_consent, Browser, Http};
use common::e2e::{login_to_consent, user};
use common::http::post_form;
use common::worker::start;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-abcdef";

/// Fetches of the numbered documents (`/n/{i}.json`), whatever server serves them.
static NUMBERED: AtomicUsize = AtomicUsize::new(0);

/// Serves the documents; counts fetches of the good one.
fn document_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let hits = Arc::new(AtomicUsize::new(0));
    let (b, h) = (base.clone(), hits.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let (b, h) = (b.clone(), h.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split(' ').nth(1).unwrap_or("/").to_string();
                let doc = |id: &str| {
                    format!(
                        r#"{{"client_id":"{id}","client_name":"Local agent","redirect_uris":["{REDIRECT}"],"token_endpoint_auth_method":"none"}}"#
                    )
                };
                let ok = |body: &str, extra: &str| {
                    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                };
                let answer = match path.as_str() {
                    "/good.json" => {
                        h.fetch_add(1, Ordering::SeqCst);
                        ok(&doc(&format!("{b}/good.json")), "cache-control: max-age=600\r\n")
                    }
                    "/redirect.json" => format!("HTTP/1.1 302 Found\r\nlocation: {b}/good.json\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                    "/big.json" => ok(&format!("{{\"pad\":\"{}\"}}", "x".repeat(6000)), ""),
                    "/text.json" => ok("this is not json", ""),
                    "/other.json" => ok(&doc(&format!("{b}/good.json")), ""),
                    p if p.starts_with("/n/") => {
                        NUMBERED.fetch_add(1, Ordering::SeqCst);
                        ok(&doc(&format!("{b}{p}")), "")
                    }
                    "/slow.json" => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{";
                        let _ = s.write_all(head.as_bytes());
                        std::thread::sleep(Duration::from_secs(8));
                        String::new()
                    }
                    _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                };
                let _ = s.write_all(answer.as_bytes());
            });
        }
    });
    (base, hits)
}

fn authorize(w: &common::worker::Worker, client_id: &str) -> String {
    let challenge = edge_oauth::oauth::pkce::challenge_for(VERIFIER);
    w.url(&format!(
        "/api/oauth/authorize?{}",
        common::http::form_encode(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    ))
}

#[test]
fn documents_are_fetched_checked_cached_and_refused_as_pages() {
    let (base, hits) = document_server();
    let w = start(&["--var", "CLIENT_METADATA_DOCUMENTS=loopback"]);
    let meta = common::http::get(&w.url("/.well-known/oauth-authorization-server"), &[]).json();
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    // Each bad document: a 400 page naming why, no redirect.
    for (path, says) in [
        ("/redirect.json", "redirect"),
        ("/big.json", "larger than"),
        ("/text.json", "not JSON"),
        ("/other.json", "not its URL"),
        ("/missing.json", "HTTP 404"),
        ("/slow.json", "within 5 s"),
    ] {
        let r = common::http::get(&authorize(&w, &format!("{base}{path}")), &[]);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.header("location").is_none(), "{path}");
        assert!(r.body.contains(says), "{path}: {}", r.body);
    }
    // The good one: the whole flow with the URL as client_id.
    let id = format!("{base}/good.json");
    let email = user(&w, "cimd");
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, &authorize(&w, &id), &email);
    assert!(consent.body.contains("Local agent") && consent.body.contains("not verified"));
    assert!(
        consent.body.contains("you return to 127.0.0.1"),
        "{}",
        consent.body
    );
    let r = submit_consent(&b, &consent, &["profile:read"], "approve");
    let code = query_param(&location(&r), "code").unwrap();
    let t = post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &id),
        ],
    );
    assert_eq!(t.status, 200, "{}", t.body);
    // Cached: further requests do not fetch it again.
    assert_eq!(common::http::get(&authorize(&w, &id), &[]).status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn new_documents_are_fetched_at_most_30_times_a_minute_per_address() {
    // Anyone may name any URL: each new one costs an outbound fetch and a KV write, so an
    // address gets 30 fetches a minute (the DOCUMENT_FETCH_LIMIT binding); cached documents
    // are not counted.
    let (base, _) = document_server();
    let w = start(&["--var", "CLIENT_METADATA_DOCUMENTS=loopback"]);
    let mut refused = 0;
    for i in 0..40 {
        let r = common::http::get(
            &authorize(&w, &format!("{base}/n/{i}.json")),
            &[("cf-connecting-ip", "203.0.113.9")],
        );
        assert!(matches!(r.status, 200 | 302 | 400), "{i}: {}", r.status);
        if r.status == 400 {
            assert!(r.body.contains("could not be fetched"), "{}", r.body);
            refused += 1;
        }
    }
    assert_eq!(
        NUMBERED.load(Ordering::SeqCst),
        30,
        "fetches from one address"
    );
    assert_eq!(refused, 10);
    // Another address is counted on its own.
    let r = common::http::get(
        &authorize(&w, &format!("{base}/n/other.json")),
        &[("cf-connecting-ip", "198.51.100.7")],
    );
    assert_ne!(r.status, 400, "{}", r.body);
    assert_eq!(NUMBERED.load(Ordering::SeqCst), 31);
}
