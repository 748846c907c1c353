//! End-to-end flow helpers: registering clients and users through the admin API, and the
//! browser steps (login, consent) against the Worker in workerd.

use super::browser::{hidden, location, Browser, Http};
use super::http::{get, post_json, Reply};
use super::worker::Worker;
use jwt_simple::prelude::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    TokenUrl,
};
use serde_json::{json, Value};

/// The oauth2 crate's client with authorization and token endpoints set.
pub type Client = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

pub const REDIRECT: &str = "http://127.0.0.1:53682/callback";
pub const PASSWORD: &str = "a long enough password";

pub fn admin_post(w: &Worker, path: &str, body: Value) -> Value {
    let auth = w.admin_auth();
    let r = post_json(&w.url(path), &[("Authorization", &auth)], &body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

pub fn register(w: &Worker, auth_method: &str) -> Value {
    admin_post(
        w,
        "/api/admin/clients",
        json!({
        "client_name": "Album Printer", "description": "Prints photo albums",
        "logo_uri": "https://printer.example/logo.png", "client_uri": "https://printer.example",
        "redirect_uris": [REDIRECT], "scope": "profile:read images:read images:write",
        "token_endpoint_auth_method": auth_method}),
    )
}

/// A new built-in user (unique per test, since tests share one Worker).
pub fn user(w: &Worker, tag: &str) -> String {
    let email = format!("{tag}@example.com");
    admin_post(
        w,
        "/api/admin/users",
        json!({"email": email, "password": PASSWORD}),
    );
    email
}

pub fn oauth_client(
    w: &Worker,
    client: &Value,
) -> BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    let mut c = BasicClient::new(ClientId::new(client["client_id"].as_str().unwrap().into()))
        .set_auth_uri(AuthUrl::new(w.url("/api/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(w.url("/api/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    if let Some(secret) = client["client_secret"].as_str() {
        c = c.set_client_secret(ClientSecret::new(secret.into()));
    }
    c
}

pub fn http_client() -> ureq::Agent {
    // oauth2's advice: never follow redirects from the token endpoint.
    ureq::AgentBuilder::new().redirects(0).build()
}

/// Browser: authorize URL → login page → consent page. Returns the consent page.
pub fn login_to_consent(b: &Browser<Http>, auth_url: &str, email: &str) -> Reply {
    let page = b.get(auth_url);
    assert_eq!(page.status, 200, "{}", page.body);
    let r = b.post_form(
        "/api/oauth/login",
        &[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &hidden(&page.body, "csrf_token")),
            ("return_to", &hidden(&page.body, "return_to")),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let consent = b.get(&location(&r));
    assert_eq!(consent.status, 200, "{}", consent.body);
    consent
}

/// Submits the consent form; returns where the 303 sends the browser.
pub fn decide(b: &Browser<Http>, consent: &Reply, scopes: &[&str], decision: &str) -> String {
    let r = super::browser::submit_consent(b, consent, scopes, decision);
    assert_eq!(r.status, 303, "{}", r.body);
    location(&r)
}

/// The whole code flow with the oauth2 crate: authorize URL (PKCE), sign-in when the browser
/// has no session, consent to `scopes`, code exchange. Returns the token response.
pub fn authorize_with_consent(
    oauth: &Client,
    b: &Browser<Http>,
    email: &str,
    scopes: &[&str],
) -> oauth2::basic::BasicTokenResponse {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let page = b.get(url.as_str());
    let consent = if page.body.contains(r#"name="password""#) {
        login_to_consent(b, url.as_str(), email)
    } else {
        page
    };
    let back = decide(b, &consent, scopes, "approve");
    let code = super::browser::query_param(&back, "code").expect("code in the redirect");
    oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request(&http_client())
        .expect("code exchange")
}

/// Verifies an access token with jwt-simple against the JWKS the Worker publishes.
pub fn verify_with_jwks(w: &Worker, token: &str) -> JWTClaims<Value> {
    let meta = Token::decode_metadata(token).unwrap();
    assert_eq!(meta.signature_type(), Some("at+jwt"), "RFC 9068 typ");
    let kid = meta.key_id().expect("kid in header").to_string();
    let jwks = get(&w.url("/.well-known/jwks.json"), &[]).json();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published")
        .clone();
    let b64 =
        |f: &str| Base64UrlSafeNoPadding::decode_to_vec(jwk[f].as_str().unwrap(), None).unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&[&w.url])),
        allowed_audiences: Some(HashSet::from_strings(&[&w.url])),
        ..Default::default()
    };
    match meta.algorithm() {
        "ES256" => {
            let mut sec1 = vec![4u8];
            sec1.extend(b64("x"));
            sec1.extend(b64("y"));
            ES256PublicKey::from_bytes(&sec1)
                .unwrap()
                .verify_token::<Value>(token, Some(options))
                .unwrap()
        }
        "RS256" => RS256PublicKey::from_components(&b64("n"), &b64("e"))
            .unwrap()
            .verify_token::<Value>(token, Some(options))
            .unwrap(),
        "EdDSA" => Ed25519PublicKey::from_bytes(&b64("x"))
            .unwrap()
            .verify_token::<Value>(token, Some(options))
            .unwrap(),
        other => panic!("unexpected alg {other}"),
    }
}

/// Verifies an ID token (ES256 or RS256) with jwt-simple against the JWKS: issuer, audience
/// `client_id`, signature. Returns its claims.
#[allow(dead_code)]
pub fn verify_id_token_with_jwks(w: &Worker, token: &str, client_id: &str) -> Value {
    let meta = Token::decode_metadata(token).unwrap();
    let kid = meta.key_id().expect("kid in header").to_string();
    let jwks = get(&w.url("/.well-known/jwks.json"), &[]).json();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published")
        .clone();
    let b64 =
        |f: &str| Base64UrlSafeNoPadding::decode_to_vec(jwk[f].as_str().unwrap(), None).unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&[&w.url])),
        allowed_audiences: Some(HashSet::from_strings(&[client_id])),
        ..Default::default()
    };
    let claims = match meta.algorithm() {
        "ES256" => {
            let mut sec1 = vec![4u8];
            sec1.extend(b64("x"));
            sec1.extend(b64("y"));
            ES256PublicKey::from_bytes(&sec1)
                .unwrap()
                .verify_token::<Value>(token, Some(options))
                .unwrap()
        }
        "RS256" => RS256PublicKey::from_components(&b64("n"), &b64("e"))
            .unwrap()
            .verify_token::<Value>(token, Some(options))
            .unwrap(),
        other => panic!("unexpected ID token alg {other}"),
    };
    claims.custom
}
