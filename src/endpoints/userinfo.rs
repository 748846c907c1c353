//! `GET`/`POST /api/oauth/userinfo`: the UserInfo endpoint (OpenID Connect Core §5.3).
//!
//! A bearer access token (RFC 6750 §2.1 header, or §2.2 form body on POST) for the default
//! audience, holding `openid`, active by the same checks as introspection (unexpired, not
//! revoked, client registered, grant live: a revoked grant or a deleted user's token is
//! `invalid_token`). Claims per granted scope, from the grant's sign-in (`state::SignIn`) the
//! ID token was built from, so both say the same. Errors are RFC 6750 §3: 401 `invalid_token`
//! (no error code when no token was sent), 403 `insufficient_scope`, each with its
//! `WWW-Authenticate: Bearer` challenge.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Method, Request, Response};
use crate::oauth::{access_token, oidc, params::Params};
use crate::store::Store;
use serde_json::{json, Map, Value};

pub const PATH: &str = "/api/oauth/userinfo";

/// Why a request was refused, for its response and challenge.
enum Refused {
    NoToken,
    Invalid(&'static str),
    Scope,
}

pub async fn handle<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    match claims(ctx, req).await? {
        Ok(body) => Ok(Response::json(200, &Value::Object(body)).no_store()),
        Err(refused) => Ok(refusal(refused)),
    }
}

async fn claims<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Result<Map<String, Value>, Refused>, OAuthError> {
    let Some(token) = bearer(req)? else {
        return Ok(Err(Refused::NoToken));
    };
    let Some(claims) = access_token::verified_claims(ctx, &token).await? else {
        return Ok(Err(Refused::Invalid("The access token is not valid")));
    };
    // Tokens for another audience (an edge API) are not for this endpoint (SPEC).
    if access_token::claim(&claims, "aud") != ctx.config.access_token_audience {
        return Ok(Err(Refused::Invalid(
            "The access token is for another audience",
        )));
    }
    // Its sub is the client, not a user: nothing to tell (and no grant to look up).
    if access_token::is_machine_token(&claims) {
        return Ok(Err(Refused::Invalid(
            "A client_credentials token has no user; userinfo needs a token issued to a user",
        )));
    }
    let Some(grant) = access_token::active_grant(ctx, &claims).await? else {
        return Ok(Err(Refused::Invalid(
            "The access token is expired or revoked",
        )));
    };
    let scopes: Vec<&str> = access_token::claim(&claims, "scope").split(' ').collect();
    if !scopes.contains(&oidc::OPENID) {
        return Ok(Err(Refused::Scope));
    }
    let mut out = Map::new();
    out.insert("sub".into(), json!(grant.sub));
    if let Some(s) = &grant.sign_in {
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(v) = value {
                out.insert(name.into(), v);
            }
        };
        if scopes.contains(&"profile") {
            put("name", s.name.as_ref().map(|v| json!(v)));
            put("picture", s.picture.as_ref().map(|v| json!(v)));
        }
        if scopes.contains(&"email") && s.email.is_some() {
            put("email", s.email.as_ref().map(|v| json!(v)));
            put("email_verified", Some(json!(s.email_verified)));
        }
    }
    Ok(Ok(out))
}

/// The bearer token: the `Authorization` header (RFC 6750 §2.1), or on a form POST the
/// `access_token` field (§2.2). Both at once is `invalid_request` (§2: only one method).
fn bearer(req: &Request) -> Result<Option<String>, OAuthError> {
    let header = req.header("authorization").map(|v| {
        let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_string())
    });
    let form = if req.method == Method::Post
        && req.content_type().as_deref() == Some("application/x-www-form-urlencoded")
    {
        Params::from_body(req, &[])?
            .get("access_token")
            .map(str::to_string)
    } else {
        None
    };
    match (header, form) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "Send the access token once: in the Authorization header or in the body",
        )),
        (Some(Some(token)), None) if !token.is_empty() => Ok(Some(token)),
        (Some(_), None) => Ok(Some(String::new())),
        (None, form) => Ok(form),
    }
}

/// RFC 6750 §3: the JSON error and its challenge.
fn refusal(refused: Refused) -> Response {
    const REALM: &str = "Bearer realm=\"edge-oauth\"";
    let (error, challenge) = match refused {
        Refused::NoToken => (
            OAuthError::new(
                ErrorCode::InvalidToken,
                "Send an access token: Authorization: Bearer <token>",
            ),
            // §3.1: a request without credentials gets no error code.
            REALM.to_string(),
        ),
        Refused::Invalid(why) => (
            OAuthError::new(ErrorCode::InvalidToken, why),
            format!("{REALM}, error=\"invalid_token\", error_description=\"{why}\""),
        ),
        Refused::Scope => (
            OAuthError::new(
                ErrorCode::InsufficientScope,
                "The access token lacks the openid scope",
            ),
            format!("{REALM}, error=\"insufficient_scope\", scope=\"openid\""),
        ),
    };
    error
        .to_response()
        .set_header("www-authenticate", &challenge)
}
