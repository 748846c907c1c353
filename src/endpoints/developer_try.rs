//! "Try it": a developer runs the authorization-code flow against their own application with
//! their own account, without writing a client. `POST /developers/apps/{id}/try` starts it
//! (PKCE verifier and `state` kept in a short-lived HttpOnly cookie, as a client would keep
//! them); the provider-hosted `GET /developers/callback` shows the code; `POST` exchanges it
//! at the real token endpoint with the secret the developer types (used for that one request,
//! never stored or logged) and shows the token response and the access token's claims.

use super::developers::form;
use super::{developer_app, pages, token};
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Method, Request, Response};
use crate::oauth::client_metadata::validate_redirect_uris;
use crate::oauth::{params::Params, pkce, session};
use crate::state::clients as client_ops;
use crate::store::{clients, Store};
use crate::token::opaque;
use crate::ui::try_it;

pub const CALLBACK: &str = "/developers/callback";
const COOKIE_TTL: u64 = 600;

fn cookie_name<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> &'static str {
    if ctx.config.secure_cookies {
        "__Host-edge_oauth_try"
    } else {
        "edge_oauth_try"
    }
}

/// `POST /developers/apps/{id}/try`: adds the callback URI if asked, then sends the browser
/// to the authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3) with every scope of the app.
pub async fn start<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    let (session, mut client) = match developer_app::owned(ctx, req, client_id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let redirect_uri = ctx.config.url(CALLBACK);
    if !client.redirect_uris.contains(&redirect_uri) {
        if params.get("add_callback").is_none() {
            return Ok(pages::error(
                400,
                "Callback not registered",
                &format!(
                    "Tick \"Add {redirect_uri}\" to let Try it use the provider's callback page."
                ),
            ));
        }
        // Added to the record as it is now: an edit saved meanwhile is kept.
        let changed = client_ops::update(ctx.store, client_id, |current| {
            let mut c = current.clone();
            if !c.redirect_uris.contains(&redirect_uri) {
                c.redirect_uris.push(redirect_uri.clone());
            }
            c.redirect_uris = validate_redirect_uris(c.redirect_uris)?;
            c.updated_at = ctx.now;
            Ok::<_, OAuthError>(c)
        })
        .await?;
        client = match changed {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Ok(pages::error(400, "Request refused", &e.description)),
            None => {
                let missing = "There is no application with this client ID among yours.";
                return Ok(pages::error(404, "Application not found", missing));
            }
        };
    }
    let verifier = opaque::new_secret(ctx.crypto)?;
    let state = opaque::random_b64(ctx.crypto, 16)?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &client.scopes.join(" "))
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce::challenge_for(&verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let value = format!("{}.{state}.{verifier}", client.client_id);
    let cookie = session::set_cookie(ctx.config, cookie_name(ctx), &value, COOKIE_TTL);
    Ok(
        Response::redirect(303, &format!("/api/oauth/authorize?{query}"))
            .with_header("set-cookie", &cookie)
            .no_store(),
    )
}

/// (client_id, state, verifier) of the flow this browser started.
fn started<'r, S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &'r Request,
) -> Option<(&'r str, &'r str, &'r str)> {
    let mut parts = session::read_cookie(req, cookie_name(ctx))?.splitn(3, '.');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// `GET` shows the code (or the error) the authorization endpoint sent back; `POST` redeems it.
pub async fn callback<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let session = match super::developers::user(ctx, req, CALLBACK).await? {
        Ok(s) => s,
        Err(page) => return Ok(page),
    };
    let Some((client_id, state, verifier)) = started(ctx, req) else {
        return Ok(pages::error(
            400,
            "No flow in progress",
            "Start again with Try it on your application's page.",
        ));
    };
    if req.method == Method::Get {
        let query = Params::from_query(&req.query).unwrap_or_default();
        if let Some(error) = query.get("error") {
            let text = format!("{error}: {}", query.get("error_description").unwrap_or(""));
            return Ok(pages::error(400, "Authorization refused", &text));
        }
        let (Some(code), true) = (query.get("code"), query.get("state") == Some(state)) else {
            return Ok(pages::error(
                400,
                "Request refused",
                "The callback has no code, or its state is not the one this browser sent.",
            ));
        };
        let confidential = clients::get(ctx.store, client_id)
            .await?
            .is_some_and(|c| c.is_confidential());
        let html = try_it::code_page(
            client_id,
            code,
            query.get("iss"),
            confidential,
            &session.csrf_token,
        );
        return Ok(pages::html(200, html));
    }
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("grant_type", "authorization_code")
        .append_pair("code", params.get("code").unwrap_or(""))
        .append_pair("redirect_uri", &ctx.config.url(CALLBACK))
        .append_pair("client_id", client_id)
        .append_pair("code_verifier", verifier);
    if let Some(secret) = params.get("client_secret") {
        body.append_pair("client_secret", secret);
    }
    let exchange = Request::new(Method::Post, "/api/oauth/token")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(body.finish());
    let reply = match token::post(ctx, &exchange).await {
        Ok(r) => r,
        Err(e) if e.code == ErrorCode::ServerError => return Err(e),
        // The developer's mistake (wrong secret, used code): shown as the token endpoint says it.
        Err(e) => e.to_response(),
    };
    let text = String::from_utf8_lossy(&reply.body);
    let html = try_it::result_page(reply.status, &text);
    let clear = session::set_cookie(ctx.config, cookie_name(ctx), "", 0);
    Ok(pages::html(200, html).with_header("set-cookie", &clear))
}
