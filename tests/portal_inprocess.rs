//! Developer portal, "Try it", docs, OpenAPI and branding, in-process against MemoryStore.

mod common;

use common::browser::{credential, hidden, location, query_param, submit_consent, Browser};
use common::http::Reply;
use common::inprocess::{json, Harness};
use edge_oauth::http::Method;
use serde_json::json;

const REDIRECT: &str = "https://app.example/callback";

/// A built-in user signed in through the portal's own login redirect.
fn signed_in<'h>(h: &'h Harness, email: &str) -> Browser<'h, Harness> {
    let body = json!({"email": email, "password": "a long enough password"});
    assert_eq!(
        h.admin(Method::Post, "/api/admin/users", Some(&body))
            .status,
        201
    );
    let b = Browser::new(h, common::inprocess::ISSUER);
    let login = b.get("/developers");
    assert_eq!(login.status, 200);
    assert_eq!(hidden(&login.body, "return_to"), "/developers");
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", email),
            ("password", "a long enough password"),
            ("csrf_token", &hidden(&login.body, "csrf_token")),
            ("return_to", "/developers"),
        ],
    );
    assert_eq!(location(&r), "/developers");
    b
}

fn csrf(b: &Browser<Harness>) -> String {
    hidden(&b.get("/developers").body, "csrf_token")
}

fn create(b: &Browser<Harness>, client_type: &str, extra: &[(&str, &str)]) -> Reply {
    let token = csrf(b);
    let mut fields = vec![
        ("csrf_token", token.as_str()),
        ("client_name", "Photo Printer"),
        ("description", "Prints photos"),
        ("client_uri", "https://app.example"),
        (
            "redirect_uris",
            "https://app.example/callback\r\nhttp://127.0.0.1:9000/cb\r\n",
        ),
        ("scope", "profile:read"),
        ("scope", "images:read"),
        ("client_type", client_type),
    ];
    for (k, v) in extra {
        fields.retain(|(n, _)| n != k);
        fields.push((k, v));
    }
    b.post_form("/developers/apps", &fields)
}

/// (client_id, client_secret) from a successful creation.
fn created(b: &Browser<Harness>) -> (String, String) {
    let r = create(b, "confidential", &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    (
        credential(&r.body, "client_id"),
        credential(&r.body, "client_secret"),
    )
}

fn token(h: &Harness, fields: &[(&str, &str)], id: &str, secret: &str) -> Reply {
    let mut all = vec![("client_id", id), ("client_secret", secret)];
    all.extend_from_slice(fields);
    common::browser::Transport::send(
        h,
        "POST",
        "/api/oauth/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(common::http::form_encode(&all).as_bytes()),
    )
}

/// The browser part of the flow for `client_id`, then the code exchange.
fn flow(h: &Harness, b: &Browser<Harness>, id: &str, secret: &str) -> Reply {
    let verifier = "v".repeat(43);
    let challenge = edge_oauth::oauth::pkce::challenge_for(&verifier);
    let url = format!(
        "/api/oauth/authorize?{}",
        common::http::form_encode(&[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("state", "s1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let consent = b.get(&url);
    assert_eq!(consent.status, 200, "{}", consent.body);
    let r = submit_consent(b, &consent, &["profile:read"], "approve");
    let code = query_param(&location(&r), "code").unwrap();
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    token(h, &fields, id, secret)
}

#[test]
fn creation_shows_credentials_once_on_an_uncached_page_and_they_work() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let r = create(&b, "confidential", &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.header("location").is_none());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.header("content-security-policy").is_some());
    let (id, secret) = (
        credential(&r.body, "client_id"),
        credential(&r.body, "client_secret"),
    );
    assert!(r.body.contains("shown only once"));

    // The application page and the list never show the secret again.
    let page = b.get(&format!("/developers/apps/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&id) && !page.body.contains(&secret));
    assert!(page.body.contains("Prints photos"));
    assert!(!b.get("/developers").body.contains(&secret));
    assert!(b.get("/developers").body.contains(&id));

    // The admin API sees the owner and lists by owner.
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    let owner = admin["owner_sub"].as_str().unwrap().to_string();
    assert_eq!(admin["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(
        admin["redirect_uris"],
        json!([REDIRECT, "http://127.0.0.1:9000/cb"])
    );
    let path = format!("/api/admin/clients?owner_sub={owner}");
    let listed = json(&h.admin(Method::Get, &path, None));
    assert_eq!(listed["clients"].as_array().unwrap().len(), 1);
    let other = json(&h.admin(Method::Get, "/api/admin/clients?owner_sub=nobody", None));
    assert_eq!(other["clients"], json!([]));

    let tokens = flow(&h, &b, &id, &secret);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json()["scope"], "profile:read");
}

#[test]
fn public_apps_get_no_secret() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let r = create(&b, "public", &[]);
    assert_eq!(r.status, 201);
    assert!(!r.body.contains("data-credential=\"client_secret\""));
    let id = credential(&r.body, "client_id");
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert_eq!(admin["token_endpoint_auth_method"], "none");
}

#[test]
fn invalid_input_returns_the_form_with_values_and_the_field_message() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "plain http redirect",
            "redirect_uris",
            "http://app.example/cb",
            "redirect_uris",
        ),
        ("no redirect", "redirect_uris", " ", "redirect_uris"),
        (
            "script logo",
            "logo_uri",
            "javascript:alert(1)",
            "logo_uri must be an absolute https URL",
        ),
        ("empty name", "client_name", "  ", "client_name"),
        (
            "unknown scope",
            "scope",
            "admin:all",
            "scope 'admin:all' is not in the scope catalog",
        ),
    ];
    for (name, field, value, message) in cases {
        let r = create(
            &b,
            "confidential",
            &[(field, value), ("description", "<kept>")],
        );
        assert_eq!(r.status, 400, "{name}");
        assert!(
            r.body.contains("value=\"&lt;kept&gt;\""),
            "{name}: values kept"
        );
        let escaped = message.replace('"', "&quot;").replace('\'', "&#x27;");
        assert!(r.body.contains(&escaped), "{name}: {}", r.body);
        assert!(r.body.contains("role=\"alert\""), "{name}");
    }
    assert!(b.get("/developers").body.contains("No applications yet"));
}

#[test]
fn every_form_needs_the_session_csrf_token() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, _) = created(&b);
    let paths = [
        "/developers/apps".to_string(),
        format!("/developers/apps/{id}"),
        format!("/developers/apps/{id}/secret"),
        format!("/developers/apps/{id}/delete"),
        format!("/developers/apps/{id}/try"),
    ];
    for path in &paths {
        let r = b.post_form(path, &[("csrf_token", "forged"), ("client_name", "X")]);
        assert_eq!(r.status, 403, "{path}");
    }
    assert_eq!(
        b.get(&format!("/developers/apps/{id}")).status,
        200,
        "still there"
    );
}

#[test]
fn only_the_owner_sees_or_changes_an_application() {
    let h = Harness::new();
    let owner = signed_in(&h, "dev@example.com");
    let (id, secret) = created(&owner);
    let other = signed_in(&h, "other@example.com");
    let token = csrf(&other);
    assert!(!other.get("/developers").body.contains(&id));
    assert_eq!(other.get(&format!("/developers/apps/{id}")).status, 404);
    for suffix in ["", "/secret", "/delete", "/try"] {
        let path = format!("/developers/apps/{id}{suffix}");
        let r = other.post_form(&path, &[("csrf_token", &token), ("client_name", "Mine")]);
        assert_eq!(r.status, 404, "{path}");
    }
    let nothing = other.get("/developers/apps/does-not-exist");
    assert_eq!(nothing.status, 404);
    // Unchanged, and the secret still works.
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert_eq!(admin["client_name"], "Photo Printer");
    assert_eq!(flow(&h, &owner, &id, &secret).status, 200);
}

#[test]
fn edit_changes_fields_but_not_the_type() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, _) = created(&b);
    let path = format!("/developers/apps/{id}");
    let token = csrf(&b);
    let r = b.post_form(
        &path,
        &[
            ("csrf_token", &token),
            ("client_name", "Renamed"),
            ("redirect_uris", "https://new.example/cb"),
            ("scope", "images:write"),
            ("client_type", "public"),
        ],
    );
    assert_eq!(location(&r), path);
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert_eq!(admin["client_name"], "Renamed");
    assert_eq!(admin["scope"], "images:write");
    assert_eq!(admin["redirect_uris"], json!(["https://new.example/cb"]));
    assert_eq!(admin["token_endpoint_auth_method"], "client_secret_basic");
    assert!(
        admin.get("description").is_none(),
        "cleared field is removed"
    );

    let bad = b.post_form(
        &path,
        &[
            ("csrf_token", &token),
            ("client_name", "X"),
            ("scope", "images:read"),
        ],
    );
    assert_eq!(bad.status, 400);
    assert!(bad
        .body
        .contains("redirect_uris must hold at least one URI"));
}

#[test]
fn rotation_shows_the_new_secret_once_and_refuses_the_old_one() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, old) = created(&b);
    let r = b.post_form(
        &format!("/developers/apps/{id}/secret"),
        &[("csrf_token", &csrf(&b))],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let new = credential(&r.body, "client_secret");
    assert_ne!(new, old);
    let probe = [("grant_type", "refresh_token"), ("refresh_token", "x")];
    assert_eq!(token(&h, &probe, &id, &old).status, 401);
    assert_eq!(
        token(&h, &probe, &id, &new).status,
        400,
        "authenticated, bad token"
    );
}

#[test]
fn deletion_removes_the_app_and_revokes_its_grants() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, secret) = created(&b);
    let tokens = flow(&h, &b, &id, &secret).json();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let r = b.post_form(
        &format!("/developers/apps/{id}/delete"),
        &[("csrf_token", &csrf(&b))],
    );
    assert_eq!(location(&r), "/developers");
    assert_eq!(b.get(&format!("/developers/apps/{id}")).status, 404);
    assert_eq!(
        h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None)
            .status,
        404
    );
    let grants = json(&h.admin(
        Method::Get,
        &format!("/api/admin/grants?client_id={id}"),
        None,
    ));
    assert_eq!(grants["grants"], json!([]));
    let probe = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(token(&h, &probe, &id, &secret).status, 401, "client gone");
    assert!(b.get("/developers").body.contains("No applications yet"));
}

#[test]
fn a_user_may_register_at_most_25_apps() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    for _ in 0..25 {
        assert_eq!(create(&b, "public", &[]).status, 201);
    }
    let r = create(&b, "public", &[]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("You already have 25 applications"));
}

#[test]
fn portal_off_removes_every_portal_path() {
    let h = Harness::with_vars(&[("DEVELOPER_PORTAL", "off")]);
    let b = Browser::new(&h, common::inprocess::ISSUER);
    assert_eq!(b.get("/developers").status, 404);
    assert_eq!(
        b.post_form("/developers/apps", &[("csrf_token", "x")])
            .status,
        404
    );
    assert_eq!(b.get("/developers/apps/abc").status, 404);
    assert!(!b.get("/docs").body.contains("href=\"/developers\""));
}

#[test]
fn an_edit_from_a_page_shown_before_try_it_added_its_callback_keeps_the_callback() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, secret) = created(&b);
    let page = b.get(&format!("/developers/apps/{id}"));
    // Meanwhile (another tab, or racing this edit) Try it adds the callback and the secret
    // is rotated.
    let r = b.post_form(
        &format!("/developers/apps/{id}/try"),
        &[("csrf_token", &csrf(&b)), ("add_callback", "1")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let rotated = b.post_form(
        &format!("/developers/apps/{id}/secret"),
        &[("csrf_token", &csrf(&b))],
    );
    let new_secret = credential(&rotated.body, "client_secret");
    assert_ne!(new_secret, secret);
    // The edit form of the earlier page, saved now with one URI removed.
    let r = b.post_form(
        &format!("/developers/apps/{id}"),
        &[
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            (
                "shown_redirect_uris",
                &hidden(&page.body, "shown_redirect_uris"),
            ),
            ("client_name", "Renamed"),
            ("redirect_uris", "https://app.example/callback"),
            ("scope", "profile:read"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    let callback = format!("{}/developers/callback", common::inprocess::ISSUER);
    assert_eq!(
        admin["redirect_uris"],
        json!(["https://app.example/callback", callback]),
        "the removed URI goes, the Try-it callback added meanwhile stays"
    );
    // The rotated secret still works after the edit.
    let r = token(
        &h,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        &id,
        &new_secret,
    );
    assert_eq!(
        r.status, 400,
        "authenticated (invalid_grant), not 401: {}",
        r.body
    );
}

#[test]
fn try_it_runs_the_flow_to_the_provider_callback_and_exchanges_the_code() {
    let h = Harness::new();
    let b = signed_in(&h, "dev@example.com");
    let (id, secret) = created(&b);
    let path = format!("/developers/apps/{id}/try");
    let callback = format!("{}/developers/callback", common::inprocess::ISSUER);

    // The callback URI is added only when asked.
    let r = b.post_form(&path, &[("csrf_token", &csrf(&b))]);
    assert_eq!(r.status, 400);
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert!(!admin["redirect_uris"]
        .as_array()
        .unwrap()
        .contains(&json!(callback)));

    let r = b.post_form(&path, &[("csrf_token", &csrf(&b)), ("add_callback", "1")]);
    let authorize = location(&r);
    assert_eq!(
        query_param(&authorize, "redirect_uri").as_deref(),
        Some(callback.as_str())
    );
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert!(admin["redirect_uris"]
        .as_array()
        .unwrap()
        .contains(&json!(callback)));

    let consent = b.get(&authorize);
    let back = location(&submit_consent(
        &b,
        &consent,
        &["profile:read", "images:read"],
        "approve",
    ));
    let code = query_param(&back, "code").unwrap();
    let page = b.get(&back);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&code) && page.body.contains("name=\"client_secret\""));

    let done = b.post_form(
        "/developers/callback",
        &[
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("code", &code),
            ("client_secret", &secret),
        ],
    );
    assert_eq!(done.status, 200);
    assert_eq!(done.header("cache-control"), Some("no-store"));
    assert!(done.body.contains("HTTP 200"), "{}", done.body);
    assert!(done.body.contains("&quot;access_token&quot;"));
    assert!(done.body.contains("id=\"claims\""));
    assert!(done
        .body
        .contains(&format!("&quot;client_id&quot;: &quot;{id}&quot;")));
    assert!(!done.body.contains(&secret), "the secret is not echoed");

    // A wrong secret shows the token endpoint's error.
    let r = b.post_form(&path, &[("csrf_token", &csrf(&b))]);
    let consent = b.get(&location(&r));
    let back = if consent.status == 200 {
        location(&submit_consent(&b, &consent, &["profile:read"], "approve"))
    } else {
        location(&consent)
    };
    let page = b.get(&back);
    let code = query_param(&back, "code").unwrap();
    let csrf_token = hidden(&page.body, "csrf_token");
    let fields = [
        ("csrf_token", csrf_token.as_str()),
        ("code", code.as_str()),
        ("client_secret", "wrong"),
    ];
    let done = b.post_form("/developers/callback", &fields);
    assert!(done.body.contains("HTTP 401") && done.body.contains("invalid_client"));
}

#[test]
fn branding_appears_on_every_kind_of_page() {
    let h = Harness::with_vars(&[
        ("BRAND_NAME", "Pixel <Gallery>"),
        ("BRAND_LOGO_URI", "https://cdn.example/logo.png"),
        ("BRAND_COLOR", "#AA3300"),
    ]);
    let b = Browser::new(&h, common::inprocess::ISSUER);
    let pages = [
        b.get("/developers"),                            // login page
        b.get("/docs"),                                  // docs
        b.get("/api/oauth/authorize?client_id=unknown"), // error page
    ];
    for p in &pages {
        assert!(
            p.body.contains("<span>Pixel &lt;Gallery&gt;</span>"),
            "{}",
            p.body
        );
        assert!(p.body.contains("<img src=\"https://cdn.example/logo.png\""));
        assert!(p.body.contains(":root{--b:#aa3300}"));
        assert_eq!(p.header("x-frame-options"), Some("DENY"));
    }
    let plain = Harness::new();
    let p = Browser::new(&plain, common::inprocess::ISSUER).get("/docs");
    assert!(p.body.contains("<span>edge-oauth</span>") && !p.body.contains(":root"));
}

#[test]
fn docs_and_openapi_use_the_configured_issuer() {
    let h = Harness::with_vars(&[("ACCESS_TOKEN_TTL", "1200")]);
    let b = Browser::new(&h, common::inprocess::ISSUER);
    let docs = b.get("/docs");
    assert_eq!(docs.status, 200);
    assert!(docs
        .body
        .contains("http://127.0.0.1:8787/api/oauth/introspect"));
    assert!(docs.body.contains("Access token: 1200 s"));
    let api = b.get("/openapi.json");
    assert_eq!(api.status, 200);
    assert_eq!(api.json()["servers"][0]["url"], "http://127.0.0.1:8787");
}

/// Issue 18: a self-registered application is marked "not verified" on the consent page and
/// `"verified": false` in the admin API until an admin verifies it; admin-created ones are.
#[test]
fn portal_apps_are_not_verified_until_an_admin_says_so() {
    let h = Harness::new();
    let b = signed_in(&h, "verify@example.com");
    let (id, _) = created(&b);
    let path = format!("/api/admin/clients/{id}");
    assert_eq!(json(&h.admin(Method::Get, &path, None))["verified"], false);
    let consent_page = || {
        let challenge = edge_oauth::oauth::pkce::challenge_for(&"v".repeat(43));
        let url = format!(
            "/api/oauth/authorize?{}",
            common::http::form_encode(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", REDIRECT),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
        );
        let page = b.get(&url);
        assert_eq!(page.status, 200, "{}", page.body);
        page.body
    };
    assert!(consent_page()
        .contains("Photo Printer <span class=\"unverified\">(not verified)</span> wants access"));
    let bad = h.admin(Method::Patch, &path, Some(&json!({"verified": "yes"})));
    common::inprocess::expect_error(&bad, 400, "invalid_client_metadata");
    let r = h.admin(Method::Patch, &path, Some(&json!({"verified": true})));
    assert_eq!(json(&r)["verified"], true);
    let page = consent_page();
    assert!(page.contains("Photo Printer wants access") && !page.contains("not verified"));
    let admin_made = h.admin(
        Method::Post,
        "/api/admin/clients",
        Some(&json!({"client_name": "Platform App", "redirect_uris": [REDIRECT], "scope": "profile:read"})),
    );
    assert_eq!(json(&admin_made)["verified"], true);
}

/// Issue 16: the "machine access" checkbox registers `client_credentials` (confidential
/// applications only); an edit without it turns it off.
#[test]
fn machine_access_is_a_checkbox_for_confidential_apps() {
    let h = Harness::new();
    let b = signed_in(&h, "machine@example.com");
    let page = b.get("/developers");
    assert!(page
        .body
        .contains(r#"name="grant_types" value="client_credentials""#));
    let r = create(&b, "public", &[("grant_types", "client_credentials")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("needs a confidential client"), "{}", r.body);
    let r = create(&b, "confidential", &[("grant_types", "client_credentials")]);
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, secret) = (
        credential(&r.body, "client_id"),
        credential(&r.body, "client_secret"),
    );
    let t = token(&h, &[("grant_type", "client_credentials")], &id, &secret);
    assert_eq!(t.status, 200, "{}", t.body);
    let path = format!("/developers/apps/{id}");
    assert!(b
        .get(&path)
        .body
        .contains(r#"value="client_credentials" checked"#));
    let token_field = csrf(&b);
    let r = b.post_form(
        &path,
        &[
            ("csrf_token", &token_field),
            ("client_name", "No longer a machine"),
            ("redirect_uris", REDIRECT),
            ("scope", "profile:read"),
        ],
    );
    assert_eq!(location(&r), path);
    let admin = json(&h.admin(Method::Get, &format!("/api/admin/clients/{id}"), None));
    assert_eq!(
        admin["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let t = token(&h, &[("grant_type", "client_credentials")], &id, &secret);
    t.expect_error(400, "unauthorized_client");
}
