//! One portal application: `GET|POST /developers/apps/{id}` (view, edit), `POST .../secret`
//! (rotate, the new secret shown once) and `POST .../delete` (the app and its grants go, by
//! the same function the admin API's DELETE uses). Only the owner sees any of it: anyone
//! else gets the same 404 as for an id that does not exist, so ids cannot be probed.

use super::developers::{self, draft, field_form, form, user};
use super::{developer_try, pages};
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Method, Request, Response};
use crate::model::{Client, Session};
use crate::oauth::client_registry as registry;
use crate::store::{clients, Store};
use crate::ui::developers::{self as ui, Form};

/// The signed-in owner and their application, or the page to answer with instead.
pub async fn owned<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Result<(Session, Client), Response>, OAuthError> {
    let return_to = format!("/developers/apps/{client_id}");
    let session = match user(ctx, req, &return_to).await? {
        Ok(s) => s,
        Err(page) => return Ok(Err(page)),
    };
    match clients::get(ctx.store, client_id).await? {
        Some(c) if c.owner_sub.as_deref() == Some(session.sub.as_str()) => Ok(Ok((session, c))),
        _ => Ok(Err(pages::error(
            404,
            "Application not found",
            "There is no application with this client ID among yours.",
        ))),
    }
}

fn app_page<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    status: u16,
    session: &Session,
    client: &Client,
    form: &Form,
) -> Response {
    let html = ui::app(
        client,
        form,
        &session.csrf_token,
        &ctx.config.scopes,
        &ctx.config.url(developer_try::CALLBACK),
    );
    pages::html(status, html)
}

/// `GET` shows the application; `POST` saves the edit form.
pub async fn item<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    let (session, client) = match owned(ctx, req, client_id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if req.method == Method::Get {
        return Ok(app_page(ctx, 200, &session, &client, &Form::of(&client)));
    }
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let draft = draft(&params);
    match registry::replace(&client, draft.clone(), &ctx.config.scopes, ctx.now) {
        Ok(updated) => {
            clients::put(ctx.store, &updated).await?;
            let path = format!("/developers/apps/{client_id}");
            Ok(Response::redirect(303, &path).no_store())
        }
        Err(e) => {
            let public = !client.is_confidential();
            let form = field_form(draft, public, e);
            Ok(app_page(ctx, 400, &session, &client, &form))
        }
    }
}

/// `POST .../secret`: a new secret, shown once (200, no-store, never a redirect).
pub async fn rotate_secret<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    let (session, mut client) = match owned(ctx, req, client_id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if let Err(page) = form(req, &session) {
        return Ok(page);
    }
    let secret = match registry::rotate_secret(ctx.crypto, &mut client, ctx.now) {
        Ok(s) => s,
        Err(e) => return Ok(pages::error(400, "Request refused", &e.description)),
    };
    clients::put(ctx.store, &client).await?;
    let page = pages::html(200, ui::credentials(&client, Some(&secret)));
    Ok(pages::allow_script(page, ui::COPY_SCRIPT_HASH))
}

/// `POST .../delete`: the application and all its grants.
pub async fn delete<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    let (session, client) = match owned(ctx, req, client_id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if let Err(page) = form(req, &session) {
        return Ok(page);
    }
    crate::oauth::revocation::client_revoked(ctx, &client.client_id).await?;
    registry::delete(ctx.store, &client).await?;
    Ok(Response::redirect(303, developers::PATH).no_store())
}
