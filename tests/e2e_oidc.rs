//! OpenID Connect end to end against the built Worker in workerd (issue 15): the `openidconnect`
//! crate, a real relying party, configures itself from discovery and signs a user in (code,
//! PKCE, nonce), verifies the ID token (signature from the JWKS, issuer, audience, nonce,
//! `at_hash`) and refreshes; jwt-simple and sha2 check the same token independently.
//! Runs on the durable backend, and on KV with `EDGE_STATE_BACKEND=kv`.

mod common;

use base64::Engine;
use common::browser::{query_param, Browser, Http};
use common::e2e::{admin_post, decide, login_to_consent, user, REDIRECT};
use common::http::get;
use common::worker::{shared, Worker};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};
use sha2::Digest;

fn http() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn register(w: &Worker) -> Value {
    admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "Photo Club", "redirect_uris": [REDIRECT],
            "scope": "openid profile email offline_access profile:read",
            "token_endpoint_auth_method": "client_secret_basic"}),
    )
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

#[test]
fn the_openidconnect_crate_signs_a_user_in_from_discovery_alone() {
    let w = shared();
    let client = register(w);
    let email = user(w, "oidc-rp");
    let issuer = IssuerUrl::new(w.url.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover(&issuer, &http()).expect("discovery");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client["client_id"].as_str().unwrap().into()),
        Some(ClientSecret::new(
            client["client_secret"].as_str().unwrap().into(),
        )),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let b = Browser::new(&Http, &w.url);
    let consent = login_to_consent(&b, url.as_str(), &email);
    assert!(
        consent.body.contains("Sign in to Photo Club"),
        "{}",
        consent.body
    );
    let back = decide(
        &b,
        &consent,
        &["openid", "email", "offline_access"],
        "approve",
    );
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&back, "code").unwrap();
    let token = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint discovered")
        .set_pkce_verifier(verifier)
        .request(&http())
        .expect("code exchange");
    let id_token = token.id_token().expect("an ID token");
    let id_verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("the relying party accepts the ID token");
    // at_hash as the relying party computes it from the access token.
    let expected = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert_eq!(claims.email().map(|e| e.as_str()), Some(email.as_str()));
    assert!(claims.auth_time().is_some());
    let access_claims = common::e2e::verify_with_jwks(w, token.access_token().secret());
    assert_eq!(
        Some(claims.subject().as_str()),
        access_claims.subject.as_deref(),
        "sub is the access token's"
    );

    // UserInfo through the crate: the same subject, the granted email.
    let info: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(
            token.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .expect("userinfo endpoint discovered")
        .request(&http())
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some(email.as_str()));
    assert!(info.name().is_none(), "profile was not granted");

    // Independently of the crate: RS256 header, signature from the JWKS, at_hash with sha2.
    let raw = id_token.to_string();
    let header: Value = serde_json::from_slice(&b64(raw.split('.').next().unwrap())).unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("JWT"))
    );
    let jwks = get(&w.url("/.well-known/jwks.json"), &[]).json();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap()
        .clone();
    use jwt_simple::prelude::*;
    let key = RS256PublicKey::from_components(
        &b64(jwk["n"].as_str().unwrap()),
        &b64(jwk["e"].as_str().unwrap()),
    )
    .unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&[&w.url])),
        allowed_audiences: Some(HashSet::from_strings(&[client["client_id"]
            .as_str()
            .unwrap()])),
        ..Default::default()
    };
    let checked = key.verify_token::<Value>(&raw, Some(options)).unwrap();
    let digest = sha2::Sha256::digest(token.access_token().secret().as_bytes());
    assert_eq!(
        checked.custom["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    );
    assert_eq!(checked.nonce.as_deref(), Some(nonce.secret().as_str()));

    // Refresh: a new ID token for the same user and sign-in (OIDC Core §12.2).
    let refreshed = rp
        .exchange_refresh_token(token.refresh_token().unwrap())
        .unwrap()
        .request(&http())
        .expect("refresh");
    let again = refreshed.id_token().expect("an ID token on refresh");
    // §12.2: no nonce on a refresh's ID token; the crate checks it against none.
    let claims2 = again
        .claims(&id_verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a nonce on refresh".to_string()),
        })
        .expect("the refreshed ID token verifies");
    assert_eq!(claims2.subject(), claims.subject());
    assert_eq!(claims2.auth_time(), claims.auth_time());
}

#[test]
fn discovery_and_rfc8414_metadata_agree_and_share_caching_and_cors() {
    let w = shared();
    let oidc = get(
        &w.url("/.well-known/openid-configuration"),
        &[("Origin", "https://a.example")],
    );
    let oauth = get(&w.url("/.well-known/oauth-authorization-server"), &[]);
    assert_eq!(oidc.status, 200);
    assert_eq!(oidc.header("access-control-allow-origin"), Some("*"));
    assert_eq!(oidc.header("cache-control"), oauth.header("cache-control"));
    let (oidc, oauth) = (oidc.json(), oauth.json());
    for (name, value) in oauth.as_object().unwrap() {
        assert_eq!(&oidc[name], value, "{name}");
    }
    assert!(oidc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
}

#[test]
fn a_bad_nonce_is_invalid_request_at_the_client_never_a_500() {
    let w = shared();
    let client = register(w);
    let long = "n".repeat(513);
    for nonce in [long.as_str(), "a\u{1}b"] {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client["client_id"].as_str().unwrap())
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid")
            .append_pair("code_challenge", &"a".repeat(43))
            .append_pair("code_challenge_method", "S256")
            .append_pair("nonce", nonce)
            .finish();
        let r = get(&w.url(&format!("/api/oauth/authorize?{query}")), &[]);
        assert_eq!(r.status, 302, "{}", r.body);
        let to = r.header("location").unwrap();
        assert!(to.starts_with(REDIRECT));
        assert_eq!(query_param(to, "error").as_deref(), Some("invalid_request"));
    }
}

/// A grant revoked, then a user deleted: their access tokens get `401 invalid_token` at
/// userinfo (never a 500), with the RFC 6750 challenge.
#[test]
fn userinfo_refuses_tokens_of_a_revoked_grant_and_of_a_deleted_user() {
    let w = shared();
    let client = register(w);
    let oauth = common::e2e::oauth_client(w, &client);
    for (tag, end) in [("oidc-revoked", "grant"), ("oidc-deleted", "user")] {
        let email = user(w, tag);
        let b = Browser::new(&Http, &w.url);
        let token = authorize_openid(&oauth, &b, &email);
        let access = oauth2::TokenResponse::access_token(&token).secret().clone();
        let auth = format!("Bearer {access}");
        let ok = get(&w.url("/api/oauth/userinfo"), &[("Authorization", &auth)]);
        assert_eq!(ok.status, 200, "{}", ok.body);
        let claims = common::e2e::verify_with_jwks(w, &access);
        let path = match end {
            "grant" => format!(
                "/api/admin/grants/{}",
                claims.custom["gid"].as_str().unwrap()
            ),
            _ => format!("/api/admin/users/{}", claims.subject.as_deref().unwrap()),
        };
        assert_eq!(w.admin("DELETE", &path, None).status, 204);
        let r = get(&w.url("/api/oauth/userinfo"), &[("Authorization", &auth)]);
        assert_eq!(r.status, 401, "{end}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_token");
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
    }
    let r = get(
        &w.url("/api/oauth/userinfo"),
        &[("Authorization", "Bearer garbage")],
    );
    assert_eq!(r.status, 401);
}

/// The code flow with the oauth2 crate for scope `openid email` (consent approved).
fn authorize_openid(
    oauth: &common::e2e::Client,
    b: &Browser<Http>,
    email: &str,
) -> oauth2::basic::BasicTokenResponse {
    use oauth2::{CsrfToken, PkceCodeChallenge, Scope};
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let consent = login_to_consent(b, url.as_str(), email);
    let back = decide(b, &consent, &["openid", "email"], "approve");
    oauth
        .exchange_code(oauth2::AuthorizationCode::new(
            query_param(&back, "code").unwrap(),
        ))
        .set_pkce_verifier(verifier)
        .request(&http())
        .expect("code exchange")
}

/// `prompt=none` never shows a page; the unsupported OpenID Connect parameters get their
/// errors at the client (never a 500); `login_hint` prefills the login form.
#[test]
fn prompt_and_unsupported_parameters_in_workerd() {
    let w = shared();
    let client = register(w);
    let url = |extra: &[(&str, &str)]| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", client["client_id"].as_str().unwrap())
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid")
            .append_pair("state", "s1")
            .append_pair("code_challenge", &"a".repeat(43))
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        w.url(&format!("/api/oauth/authorize?{}", q.finish()))
    };
    for (extra, error) in [
        (("prompt", "none"), "login_required"),
        (("prompt", "none login"), "invalid_request"),
        (("prompt", "bogus"), "invalid_request"),
        (("max_age", "-1"), "invalid_request"),
        (("request", "x"), "request_not_supported"),
        (
            ("request_uri", "https://a.example/r"),
            "request_uri_not_supported",
        ),
        (("claims", "{}"), "invalid_request"),
    ] {
        let r = get(&url(&[extra]), &[]);
        assert_eq!(r.status, 302, "{extra:?}: {}", r.body);
        let to = r.header("location").unwrap();
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(
            query_param(to, "error").as_deref(),
            Some(error),
            "{extra:?}"
        );
        assert_eq!(query_param(to, "state").as_deref(), Some("s1"));
    }
    let page = get(&url(&[("login_hint", "hint@example.com")]), &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("value=\"hint@example.com\""));
}

/// Client and account metadata in workerd: `post_logout_redirect_uris` and
/// `id_token_signed_response_alg` echoed by the admin API (a bad URI refused), and an
/// account's `picture` in the ID token and at userinfo.
#[test]
fn client_and_account_metadata_in_workerd() {
    let w = shared();
    let c = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "RP", "redirect_uris": [REDIRECT], "scope": "openid profile",
            "post_logout_redirect_uris": ["https://rp.example/bye"],
            "id_token_signed_response_alg": "ES256"}),
    );
    assert_eq!(
        c["post_logout_redirect_uris"],
        json!(["https://rp.example/bye"])
    );
    assert_eq!(c["id_token_signed_response_alg"], "ES256");
    let bad = w.admin(
        "POST",
        "/api/admin/clients",
        Some(
            &json!({"client_name": "RP", "redirect_uris": [REDIRECT], "scope": "openid",
            "post_logout_redirect_uris": ["http://rp.example/bye"]}),
        ),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "invalid_client_metadata");
    admin_post(
        w,
        "/api/admin/users",
        json!({"email": "pic@example.com", "password": common::e2e::PASSWORD,
            "picture": "https://p.example/pic.png"}),
    );
    let oauth = common::e2e::oauth_client(w, &c);
    let b = Browser::new(&Http, &w.url);
    use oauth2::{CsrfToken, PkceCodeChallenge, Scope};
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let consent = login_to_consent(&b, url.as_str(), "pic@example.com");
    let back = decide(&b, &consent, &["openid", "profile"], "approve");
    let r = common::http::post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&back, "code").unwrap()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret()),
            ("client_id", c["client_id"].as_str().unwrap()),
            ("client_secret", c["client_secret"].as_str().unwrap()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    let id_token = t["id_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(&b64(id_token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "ES256", "the client's registered algorithm");
    let claims =
        common::e2e::verify_id_token_with_jwks(w, id_token, c["client_id"].as_str().unwrap());
    assert_eq!(claims["picture"], "https://p.example/pic.png");
    let auth = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let info = get(&w.url("/api/oauth/userinfo"), &[("Authorization", &auth)]).json();
    assert_eq!(info["picture"], "https://p.example/pic.png");
}

/// RP-initiated logout in workerd: a hint naming the signed-in user ends the session, then the
/// registered URI with `state`; a garbage or foreign hint, or an unregistered URI, is a 400
/// page (never a redirect, never a 500).
#[test]
fn rp_initiated_logout_in_workerd() {
    let w = shared();
    let bye = "https://rp.example/bye";
    let client = admin_post(
        w,
        "/api/admin/clients",
        json!({"client_name": "RP", "redirect_uris": [REDIRECT], "scope": "openid email",
            "post_logout_redirect_uris": [bye]}),
    );
    let email = user(w, "oidc-logout");
    let oauth = common::e2e::oauth_client(w, &client);
    let b = Browser::new(&Http, &w.url);
    let token = authorize_openid(&oauth, &b, &email);
    let access = oauth2::TokenResponse::access_token(&token).secret().clone();
    // The oauth2 crate drops unknown members: read the ID token with a refresh instead.
    let r = common::http::post_form(
        &w.url("/api/oauth/token"),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token.refresh_token().unwrap().secret()),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ],
    );
    let hint = r.json()["id_token"].as_str().unwrap().to_string();
    let url = |pairs: &[(&str, &str)]| {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/api/oauth/logout?{q}")
    };
    for pairs in [
        vec![("id_token_hint", "garbage")],
        vec![("id_token_hint", access.as_str())],
        vec![
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
    ] {
        let r = b.get(&url(&pairs));
        assert_eq!(r.status, 400, "{pairs:?}");
        assert!(r.header("location").is_none());
    }
    assert!(
        b.get("/api/oauth/logout").body.contains("csrf_token"),
        "still signed in"
    );
    let r = b.get(&url(&[
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", bye),
        ("state", "s9"),
    ]));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("{bye}?state=s9").as_str())
    );
    assert!(
        !b.get("/api/oauth/logout").body.contains("csrf_token"),
        "signed out"
    );
}
