//! Token lifecycle in-process: refresh rotation and reuse detection, revocation,
//! introspection, logout, connected apps and the grants admin API.

mod common;

use common::browser::{hidden, location, query_param, submit_consent, Browser};
use common::flow::*;
use common::http::Reply;
use common::inprocess::{json, Harness, ADMIN_TOKEN, ISSUER};
use edge_oauth::http::{Method, Request};
use serde_json::{json, Value};

fn basic(s: &Setup) -> Option<(&str, &str)> {
    Some((s.client_id.as_str(), s.secret.as_str()))
}

/// Runs the browser flow and the code exchange; returns the token response.
fn tokens(s: &Setup, b: &Browser<Harness>, scopes: &[&str]) -> Value {
    let r = redeem(s, &get_code(s, b, scopes));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn refresh(s: &Setup, rt: &str, scope: Option<&str>) -> Reply {
    let mut fields = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    if let Some(sc) = scope {
        fields.push(("scope", sc));
    }
    token(s, &fields, basic(s))
}

fn introspect(s: &Setup, t: &str) -> Value {
    let r = post(s, "/api/oauth/introspect", &[("token", t)], basic(s));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn revoke(s: &Setup, t: &str, hint: Option<&str>) -> Reply {
    let mut fields = vec![("token", t)];
    if let Some(h) = hint {
        fields.push(("token_type_hint", h));
    }
    post(s, "/api/oauth/revoke", &fields, basic(s))
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no {k} in {v}"))
        .to_string()
}

/// Issue 18: a refresh token has one spelling. The same token with a zero added to its
/// generation or to its grant's sequence number, or a sign, is not a token of ours: refused
/// as unknown, and neither rotating nor revoking the real one, which still works.
#[test]
fn a_refresh_token_has_exactly_one_spelling() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t1 = tokens(&st, &b, &["profile:read"]);
    let rt = s(&t1, "refresh_token");
    let (rest, secret) = rt.rsplit_once('.').unwrap();
    let (grant, generation) = rest.rsplit_once('.').unwrap();
    let mut variants = vec![
        format!("{grant}.0{generation}.{secret}"),
        format!("{grant}.00{generation}.{secret}"),
        format!("{grant}.+{generation}.{secret}"),
    ];
    if let Some((object, seq)) = grant.rsplit_once('.') {
        // Durable grant ids end in the grant's sequence number.
        if seq.bytes().all(|c| c.is_ascii_digit()) {
            variants.push(format!("{object}.0{seq}.{generation}.{secret}"));
        }
    }
    for variant in &variants {
        let d = refresh(&st, variant, None).expect_error(400, "invalid_grant");
        assert!(
            d.contains("Invalid or expired refresh token"),
            "{variant}: {d}"
        );
        assert_eq!(introspect(&st, variant)["active"], false, "{variant}");
    }
    assert_eq!(
        refresh(&st, &rt, None).status,
        200,
        "the real token still works"
    );
}

#[test]
fn refresh_rotates_and_reuse_of_an_old_token_revokes_the_grant() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t1 = tokens(&st, &b, &["profile:read", "images:read"]);
    let t2 = refresh(&st, &s(&t1, "refresh_token"), None).json();
    assert_ne!(s(&t1, "refresh_token"), s(&t2, "refresh_token"), "rotated");
    assert_eq!(t2["scope"], "profile:read images:read");
    let t3 = refresh(&st, &s(&t2, "refresh_token"), None);
    assert_eq!(t3.status, 200);
    assert_eq!(t3.header("cache-control"), Some("no-store"));
    let t3 = t3.json();
    assert_eq!(introspect(&st, &s(&t3, "access_token"))["active"], true);
    let d = refresh(&st, &s(&t1, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert!(d.contains("already used"), "{d}");
    refresh(&st, &s(&t3, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert_eq!(
        introspect(&st, &s(&t3, "access_token")),
        json!({"active": false}),
        "grant revoked"
    );
    assert_eq!(
        introspect(&st, &s(&t3, "refresh_token")),
        json!({"active": false})
    );
}

#[test]
fn two_tabs_refreshing_one_token_end_in_one_chain_or_none() {
    // Sequential model of the race: the second tab presents the token the first just rotated.
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t1 = tokens(&st, &b, &["profile:read"]);
    let tab_a = refresh(&st, &s(&t1, "refresh_token"), None);
    assert_eq!(tab_a.status, 200);
    refresh(&st, &s(&t1, "refresh_token"), None).expect_error(400, "invalid_grant");
    refresh(&st, &s(&tab_a.json(), "refresh_token"), None).expect_error(400, "invalid_grant");
}

#[test]
fn refresh_scope_may_narrow_but_not_widen_and_a_refusal_does_not_rotate() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t1 = tokens(&st, &b, &["profile:read", "images:read"]);
    let rt1 = s(&t1, "refresh_token");
    let d =
        refresh(&st, &rt1, Some("profile:read images:write")).expect_error(400, "invalid_scope");
    assert!(d.contains("images:write"), "{d}");
    let narrow = refresh(&st, &rt1, Some("images:read")).json();
    assert_eq!(
        narrow["scope"], "images:read",
        "refused request did not rotate rt1"
    );
    assert_eq!(
        introspect(&st, &s(&narrow, "access_token"))["scope"],
        "images:read"
    );
    let again = refresh(&st, &s(&narrow, "refresh_token"), None).json();
    assert_eq!(
        again["scope"], "profile:read images:read",
        "compared with the grant, not the last request"
    );
}

#[test]
fn refresh_by_another_client_or_after_expiry_fails() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t1 = tokens(&st, &b, &["profile:read"]);
    let rt = s(&t1, "refresh_token");
    let r = token(
        &st,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &st.public_id),
        ],
        None,
    );
    r.expect_error(400, "invalid_grant");
    assert_eq!(
        refresh(&st, &rt, None).status,
        200,
        "the owner's token was not rotated by the stranger"
    );
    let t2 = refresh(&st, &s(&t1, "refresh_token"), None);
    assert_eq!(t2.status, 400);
    let st2 = setup();
    let b2 = Browser::new(&st2.h, ISSUER);
    let t = tokens(&st2, &b2, &["profile:read"]);
    st2.h.store.advance(30 * 86_400 + 1);
    refresh(&st2, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
    token(&st2, &[("grant_type", "refresh_token")], basic(&st2))
        .expect_error(400, "invalid_request");
}

#[test]
fn revoking_a_refresh_token_revokes_its_grant() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let r = revoke(&st, &s(&t, "refresh_token"), Some("refresh_token"));
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert_eq!(
        introspect(&st, &s(&t, "access_token")),
        json!({"active": false})
    );
}

#[test]
fn revoking_an_access_token_lists_its_jti_until_it_expires() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let at = s(&t, "access_token");
    assert_eq!(revoke(&st, &at, None).status, 200);
    assert_eq!(introspect(&st, &at), json!({"active": false}));
    let entry =
        st.h.store
            .dump()
            .into_iter()
            .find(|(k, _)| k.starts_with("revoked_jti:"));
    assert!(entry.is_some(), "jti on the revocation list");
    assert_eq!(
        refresh(&st, &s(&t, "refresh_token"), None).status,
        200,
        "the grant lives on"
    );
    st.h.store.advance(3600);
    assert!(
        st.h.store
            .dump()
            .iter()
            .all(|(k, _)| !k.starts_with("revoked_jti:")),
        "entry expires with the token"
    );
}

#[test]
fn revocation_is_200_for_unknown_and_foreign_tokens_and_changes_nothing() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    assert_eq!(revoke(&st, "no-such-token", None).status, 200);
    assert_eq!(revoke(&st, "a.b.c", Some("access_token")).status, 200);
    let stranger = post(
        &st,
        "/api/oauth/revoke",
        &[
            ("token", &s(&t, "refresh_token")),
            ("client_id", &st.public_id),
        ],
        None,
    );
    assert_eq!(stranger.status, 200);
    let stranger = post(
        &st,
        "/api/oauth/revoke",
        &[
            ("token", &s(&t, "access_token")),
            ("client_id", &st.public_id),
        ],
        None,
    );
    assert_eq!(stranger.status, 200);
    assert_eq!(
        introspect(&st, &s(&t, "access_token"))["active"],
        true,
        "another client cannot revoke"
    );
    assert_eq!(refresh(&st, &s(&t, "refresh_token"), None).status, 200);
    revoke(&st, "x", Some("id_token")).expect_error(400, "unsupported_token_type");
    post(
        &st,
        "/api/oauth/revoke",
        &[("token", "x")],
        Some((&st.client_id, "wrong")),
    )
    .expect_error(401, "invalid_client");
    post(&st, "/api/oauth/revoke", &[], basic(&st)).expect_error(400, "invalid_request");
}

#[test]
fn public_client_can_revoke_its_own_tokens_but_not_introspect() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let consent = to_consent(&st, &b, &authorize_url(&st.public_id, &[]));
    let code = query_param(
        &location(&submit_consent(&b, &consent, &["profile:read"], "approve")),
        "code",
    )
    .unwrap();
    let t = token(
        &st,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &st.public_id),
        ],
        None,
    )
    .json();
    post(
        &st,
        "/api/oauth/introspect",
        &[
            ("token", &s(&t, "access_token")),
            ("client_id", &st.public_id),
        ],
        None,
    )
    .expect_error(401, "invalid_client");
    let r = post(
        &st,
        "/api/oauth/revoke",
        &[
            ("token", &s(&t, "refresh_token")),
            ("client_id", &st.public_id),
        ],
        None,
    );
    assert_eq!(r.status, 200);
    let r = token(
        &st,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&t, "refresh_token")),
            ("client_id", &st.public_id),
        ],
        None,
    );
    r.expect_error(400, "invalid_grant");
}

#[test]
fn introspection_reports_active_tokens_with_rfc7662_fields() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read", "images:read"]);
    let i = introspect(&st, &s(&t, "access_token"));
    assert_eq!(i["active"], true);
    assert_eq!(i["scope"], "profile:read images:read");
    assert_eq!(i["client_id"], st.client_id.as_str());
    assert_eq!(i["iss"], ISSUER);
    assert_eq!(i["aud"], ISSUER);
    assert_eq!(i["token_type"], "Bearer");
    for field in ["sub", "jti"] {
        assert!(i[field].is_string(), "{field}");
    }
    assert_eq!(
        i["exp"].as_u64().unwrap() - i["iat"].as_u64().unwrap(),
        3600
    );
    let r = introspect(&st, &s(&t, "refresh_token"));
    assert_eq!(r["active"], true);
    assert_eq!(r["token_type"], "refresh_token");
    assert_eq!(introspect(&st, "garbage"), json!({"active": false}));
    st.h.store.advance(3600);
    assert_eq!(
        introspect(&st, &s(&t, "access_token")),
        json!({"active": false}),
        "expired"
    );
}

#[test]
fn clients_see_only_their_own_tokens_unless_configured_as_resource_server() {
    let mut st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    drop(b);
    let api = json(&st.h.admin(Method::Post, "/api/admin/clients", Some(&json!({
        "client_name": "Gallery API", "redirect_uris": ["https://api.example/cb"], "scope": "profile:read"}))));
    let (api_id, api_secret) = (s(&api, "client_id"), s(&api, "client_secret"));
    let ask = |st: &Setup| {
        post(
            st,
            "/api/oauth/introspect",
            &[("token", &s(&t, "access_token"))],
            Some((&api_id, &api_secret)),
        )
        .json()
    };
    assert_eq!(
        ask(&st),
        json!({"active": false}),
        "exactly inactive: nothing about another client's token"
    );
    st.h.config.resource_servers.push(api_id.clone());
    assert_eq!(
        ask(&st)["active"],
        true,
        "a configured resource server may introspect"
    );
}

#[test]
fn logout_from_the_browser_ends_the_session_and_needs_csrf() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    tokens(&st, &b, &["profile:read"]);
    let page = b.get("/api/oauth/logout");
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.body, "csrf_token");
    let r = b.post_form("/api/oauth/logout", &[("csrf_token", "forged")]);
    assert_eq!(r.status, 403);
    let r = b.post_form("/api/oauth/logout", &[("csrf_token", &csrf)]);
    assert_eq!(r.status, 200);
    assert!(r
        .headers_named("set-cookie")
        .iter()
        .any(|c| c.contains("Max-Age=0")));
    let again = b.get(&authorize_url(&st.client_id, &[]));
    assert!(
        again.body.contains(r#"name="password""#),
        "login page again after logout"
    );
}

#[test]
fn platform_logout_ends_all_sessions_of_a_user_and_can_revoke_grants() {
    let st = setup();
    let (b1, b2) = (Browser::new(&st.h, ISSUER), Browser::new(&st.h, ISSUER));
    let t = tokens(&st, &b1, &["profile:read"]);
    tokens(&st, &b2, &["profile:read"]);
    let sub = introspect(&st, &s(&t, "access_token"))["sub"]
        .as_str()
        .unwrap()
        .to_string();
    let logout = |auth: &str, body: &str| {
        st.h.call(
            Request::new(Method::Post, "/api/oauth/logout")
                .with_header("authorization", auth)
                .with_header("content-type", "application/x-www-form-urlencoded")
                .with_body(body.as_bytes().to_vec()),
        )
    };
    assert_eq!(logout("Bearer wrong", &format!("sub={sub}")).status, 401);
    let r = logout(
        &format!("Bearer {ADMIN_TOKEN}"),
        &format!("sub={sub}&revoke=all"),
    );
    assert_eq!(r.status, 200);
    let body = json(&r);
    assert_eq!(body["sessions_ended"], 2);
    assert_eq!(body["grants_revoked"], 2);
    for b in [&b1, &b2] {
        assert!(b
            .get(&authorize_url(&st.client_id, &[]))
            .body
            .contains(r#"name="password""#));
    }
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
}

#[test]
fn connected_apps_lists_and_revokes() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read", "images:read"]);
    let page = b.get("/account/apps");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Photo Printer") && page.body.contains("View images"));
    let r = b.post_form(
        "/account/apps/revoke",
        &[("csrf_token", "forged"), ("client_id", &st.client_id)],
    );
    assert_eq!(r.status, 403);
    let r = b.post_form(
        "/account/apps/revoke",
        &[
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("client_id", &st.client_id),
        ],
    );
    assert_eq!(location(&r), "/account/apps");
    assert!(!b.get("/account/apps").body.contains("Photo Printer"));
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert_eq!(
        introspect(&st, &s(&t, "access_token")),
        json!({"active": false})
    );
    assert_eq!(
        b.get(&authorize_url(&st.client_id, &[])).status,
        200,
        "consent asked again"
    );
    let anonymous = Browser::new(&st.h, ISSUER).get("/account/apps");
    assert!(
        anonymous.body.contains(r#"name="password""#),
        "sign in first"
    );
}

#[test]
fn admin_grants_api_lists_by_user_or_client_and_revokes() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let sub = introspect(&st, &s(&t, "access_token"))["sub"]
        .as_str()
        .unwrap()
        .to_string();
    let by_user = json(
        &st.h
            .admin(Method::Get, &format!("/api/admin/grants?sub={sub}"), None),
    );
    let by_client = json(&st.h.admin(
        Method::Get,
        &format!("/api/admin/grants?client_id={}", st.client_id),
        None,
    ));
    assert_eq!(by_user["grants"], by_client["grants"]);
    let grant_id = by_user["grants"][0]["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(by_user["grants"][0]["scope"], "profile:read");
    let r = st.h.admin(Method::Get, "/api/admin/grants", None);
    assert_eq!(r.status, 400);
    assert_eq!(
        st.h.admin(
            Method::Delete,
            &format!("/api/admin/grants/{grant_id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        st.h.admin(
            Method::Delete,
            &format!("/api/admin/grants/{grant_id}"),
            None
        )
        .status,
        404
    );
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert_eq!(
        introspect(&st, &s(&t, "access_token")),
        json!({"active": false})
    );
}

#[test]
fn deleting_a_client_or_a_user_revokes_their_grants() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let sub = introspect(&st, &s(&t, "access_token"))["sub"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        st.h.admin(Method::Delete, &format!("/api/admin/users/{sub}"), None)
            .status,
        204
    );
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(400, "invalid_grant");
    assert_eq!(
        introspect(&st, &s(&t, "access_token")),
        json!({"active": false})
    );
    assert!(
        b.get("/account/apps").body.contains(r#"name="password""#),
        "sessions ended"
    );

    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let path = format!("/api/admin/clients/{}", st.client_id);
    assert_eq!(st.h.admin(Method::Delete, &path, None).status, 204);
    // The client's tokens die with it, in one write: every use of a grant needs the client.
    refresh(&st, &s(&t, "refresh_token"), None).expect_error(401, "invalid_client");
    let listing = st.h.admin(
        Method::Get,
        &format!("/api/admin/grants?client_id={}", st.client_id),
        None,
    );
    assert_eq!(json(&listing)["grants"], json!([]), "its grants are gone");
}

/// With a remembered consent, one GET returns a code straight away.
fn quick_code(st: &Setup, b: &Browser<Harness>, scope: &str) -> String {
    let r = b.get(&authorize_url(&st.client_id, &[("scope", scope)]));
    assert_eq!(r.status, 302, "{}", r.body);
    query_param(&location(&r), "code").unwrap()
}

#[test]
fn a_code_issued_before_consent_was_withdrawn_cannot_be_redeemed() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    tokens(&st, &b, &["profile:read"]);
    let code = quick_code(&st, &b, "profile:read");
    let page = b.get("/account/apps");
    let r = b.post_form(
        "/account/apps/revoke",
        &[
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("client_id", &st.client_id),
        ],
    );
    assert_eq!(r.status, 303);
    let d = redeem(&st, &code).expect_error(400, "invalid_grant");
    assert!(d.contains("withdrew consent"), "{d}");
}

#[test]
fn grants_per_user_and_client_are_capped_oldest_revoked_first() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let first = tokens(&st, &b, &["profile:read"]);
    let mut refresh_tokens = vec![s(&first, "refresh_token")];
    for _ in 0..10 {
        st.h.store.advance(1); // grants are ordered by creation time
        let t = redeem(&st, &quick_code(&st, &b, "profile:read")).json();
        refresh_tokens.push(s(&t, "refresh_token"));
    }
    let sub = introspect(&st, &s(&first, "access_token"));
    assert_eq!(
        sub,
        json!({"active": false}),
        "the oldest grant was revoked to make room"
    );
    refresh(&st, &refresh_tokens[0], None).expect_error(400, "invalid_grant");
    assert_eq!(
        refresh(&st, &refresh_tokens[1], None).status,
        200,
        "the others live on"
    );
    let listed = st.h.admin(
        Method::Get,
        &format!("/api/admin/grants?client_id={}", st.client_id),
        None,
    );
    let grants = json(&listed)["grants"].as_array().unwrap().len();
    assert_eq!(grants, 10);
}

#[test]
fn refresh_drops_scopes_the_client_may_no_longer_request() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read", "images:read"]);
    let path = format!("/api/admin/clients/{}", st.client_id);
    let r = st.h.admin(
        Method::Patch,
        &path,
        Some(&json!({"scope": "images:read images:write"})),
    );
    assert_eq!(r.status, 200);
    let t2 = refresh(&st, &s(&t, "refresh_token"), None).json();
    assert_eq!(t2["scope"], "images:read");
    refresh(&st, &s(&t2, "refresh_token"), Some("profile:read")).expect_error(400, "invalid_scope");
}

#[test]
fn consent_for_a_client_deleted_meanwhile_is_refused() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let consent = to_consent(&st, &b, &authorize_url(&st.client_id, &[]));
    let path = format!("/api/admin/clients/{}", st.client_id);
    assert_eq!(st.h.admin(Method::Delete, &path, None).status, 204);
    let r = submit_consent(&b, &consent, &["profile:read"], "approve");
    assert_eq!(r.status, 400);
    assert!(
        r.header("location").is_none(),
        "no redirect to a URI that is no longer registered"
    );
}

#[test]
fn platform_logout_with_revoke_all_forgets_consents_without_a_live_grant() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let t = tokens(&st, &b, &["profile:read"]);
    let sub = introspect(&st, &s(&t, "access_token"))["sub"]
        .as_str()
        .unwrap()
        .to_string();
    let code = quick_code(&st, &b, "profile:read"); // approved, not yet redeemed
                                                    // The redeemed grant is revoked by the admin; the consent remains until revoke=all.
    let grants = json(
        &st.h
            .admin(Method::Get, &format!("/api/admin/grants?sub={sub}"), None),
    );
    let gid = grants["grants"][0]["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    st.h.admin(Method::Delete, &format!("/api/admin/grants/{gid}"), None);
    let r = st.h.call(
        Request::new(Method::Post, "/api/oauth/logout")
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(format!("sub={sub}&revoke=all").into_bytes()),
    );
    assert_eq!(r.status, 200);
    redeem(&st, &code).expect_error(400, "invalid_grant");
    // Signed in again, the user sees the consent page: nothing remembered counts (a
    // remembered consent would answer with a code at once).
    to_consent(
        &st,
        &b,
        &authorize_url(&st.client_id, &[("scope", "profile:read")]),
    );
}

#[test]
fn a_code_cannot_carry_a_scope_removed_from_the_client_meanwhile() {
    let st = setup();
    let b = Browser::new(&st.h, ISSUER);
    let code = get_code(&st, &b, &["profile:read", "images:read"]);
    let path = format!("/api/admin/clients/{}", st.client_id);
    st.h.admin(Method::Patch, &path, Some(&json!({"scope": "images:read"})));
    let t = redeem(&st, &code).json();
    assert_eq!(t["scope"], "images:read");
}
