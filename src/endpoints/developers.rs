//! Developer portal: `GET /developers` (the user's applications and the "New application"
//! form) and `POST /developers/apps` (create). Validation is the admin API's
//! (`oauth::client_registry`); an invalid form comes back with its values and the message
//! (400). The credentials page answers the POST itself: never a redirect target, never cached.

use super::{authorize, pages};
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Method, Request, Response};
use crate::model::Session;
use crate::oauth::client_registry::{self as registry, Draft, FieldError};
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::state::{clients as client_ops, AppClaim};
use crate::store::{clients, Store};
use crate::ui::developers::{self as ui, Form};

pub const PATH: &str = "/developers";

/// Most applications one user may register: exact on the durable backend (counted in the
/// user's object), a count by listing on KV (docs/consistency.md).
pub use crate::state::clients::MAX_APPS_PER_USER;

/// The signed-in portal user, or the response to send instead: 404 when the portal is off,
/// the login page for a GET (then back to `return_to`), 401 for a POST.
pub async fn user<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    return_to: &str,
) -> Result<Result<Session, Response>, OAuthError> {
    if !ctx.config.developer_portal {
        return Err(OAuthError::not_found(format!(
            "No endpoint at {}",
            req.path
        )));
    }
    match session::current(ctx, req).await? {
        Some((_, s)) => Ok(Ok(s)),
        None if req.method == Method::Get => authorize::login(ctx, return_to, None, None).map(Err),
        None => Ok(Err(pages::error(
            401,
            "Not signed in",
            "Sign in again to manage your applications.",
        ))),
    }
}

/// The form body of a portal POST, checked against the session's CSRF token (403 if not).
pub fn form(req: &Request, session: &Session) -> Result<Params, Response> {
    let params = Params::from_body(req, &["scope"])
        .map_err(|e| pages::error(400, "Request refused", &e.description))?;
    if !session::csrf_matches(&session.csrf_token, params.get("csrf_token")) {
        return Err(pages::error(
            403,
            "Request refused",
            "The form did not come from this session.",
        ));
    }
    Ok(params)
}

/// The application fields of a submitted form, as the admin API's draft.
pub fn draft(params: &Params) -> Draft {
    let text = |n: &str| params.get(n).map(|v| v.trim().to_string());
    Draft {
        client_name: Some(text("client_name").unwrap_or_default()),
        description: text("description"),
        logo_uri: text("logo_uri"),
        client_uri: text("client_uri"),
        redirect_uris: Some(
            params
                .get("redirect_uris")
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        scope: Some(params.all("scope").join(" ")),
        token_endpoint_auth_method: None,
        // The "machine access" checkbox (RFC 7591 grant_types; confidential clients only).
        grant_types: Some(
            params
                .all("grant_types")
                .into_iter()
                .map(str::to_string)
                .collect(),
        ),
        post_logout_redirect_uris: Some(
            params
                .get("post_logout_redirect_uris")
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        id_token_signed_response_alg: None,
    }
}

pub fn field_form(draft: Draft, public: bool, e: FieldError) -> Form<'static> {
    Form {
        draft,
        public,
        error: Some((e.field, e.error.description)),
    }
}

pub async fn get<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let session = match user(ctx, req, PATH).await? {
        Ok(s) => s,
        Err(page) => return Ok(page),
    };
    let empty = Form {
        draft: Draft::default(),
        public: false,
        error: None,
    };
    list_page(ctx, &session, 200, &empty).await
}

async fn list_page<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    session: &Session,
    status: u16,
    form: &Form<'_>,
) -> Result<Response, OAuthError> {
    let apps = clients::list_for_owner(ctx.store, &session.sub).await?;
    let html = ui::list(
        session.label(),
        &apps,
        form,
        &session.csrf_token,
        &new_submission(ctx)?,
        &ctx.config.scopes,
    );
    Ok(pages::html(status, html))
}

/// A fresh one-time id for a form that must act once (creation, rotation).
pub fn new_submission<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Result<String, OAuthError> {
    crate::token::opaque::random_b64(ctx.crypto, 16)
}

/// The form's one-time id: the one it carries, or (a form from before ids, or a script) a
/// fresh one, which then acts as every such form did. Shaped like our ids, else a 400 page.
pub fn submission<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    params: &Params,
) -> Result<Result<String, Response>, OAuthError> {
    match params.get("submission") {
        None => new_submission(ctx).map(Ok),
        Some(id) if crate::oauth::identifiers::is_client_id(id) => Ok(Ok(id.to_string())),
        Some(_) => Ok(Err(pages::error(
            400,
            "Request refused",
            "The form's submission id is malformed; reload the page.",
        ))),
    }
}

/// The page for a one-time form sent again.
pub fn already_done(back: &str) -> Response {
    pages::html(409, ui::already_done(back))
}

/// `POST /developers/apps`: registers an application owned by the signed-in user.
pub async fn create<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let session = match user(ctx, req, PATH).await? {
        Ok(s) => s,
        Err(page) => return Ok(page),
    };
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let public = params.get("client_type") == Some("public");
    let mut draft = draft(&params);
    draft.token_endpoint_auth_method = Some(
        if public {
            "none"
        } else {
            "client_secret_basic"
        }
        .into(),
    );
    let form_id = match submission(ctx, &params)? {
        Ok(id) => id,
        Err(page) => return Ok(page),
    };
    let client_id = registry::new_client_id(ctx.crypto)?;
    let built = registry::build(
        draft.clone(),
        &ctx.config.scopes,
        client_id,
        Some(session.sub.clone()),
        ctx.now,
    );
    let mut client = match built {
        Ok(c) => c,
        Err(e) => return list_page(ctx, &session, 400, &field_form(draft, public, e)).await,
    };
    let secret = registry::new_secret(ctx.crypto, &mut client, ctx.now)?;
    let state = ctx.state();
    match client_ops::create(ctx.store, &state, &client, Some(&form_id), ctx.now).await? {
        AppClaim::Claimed => {}
        AppClaim::Repeat => return Ok(already_done(PATH)),
        AppClaim::Full => {
            let form = Form {
                draft,
                public,
                error: Some((
                    "form",
                    format!("You already have {MAX_APPS_PER_USER} applications; delete one first."),
                )),
            };
            return list_page(ctx, &session, 400, &form).await;
        }
    }
    let page = pages::html(201, ui::credentials(&client, secret.as_deref()));
    Ok(pages::allow_script(page, ui::COPY_SCRIPT_HASH))
}
