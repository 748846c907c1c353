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
use crate::state::{clients as client_ops, State};
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
        _ => Ok(Err(not_found())),
    }
}

fn app_page<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    status: u16,
    session: &Session,
    client: &Client,
    form: &Form,
) -> Result<Response, OAuthError> {
    let html = ui::app(
        client,
        form,
        &session.csrf_token,
        &developers::new_submission(ctx)?,
        &ctx.config.scopes,
        &ctx.config.url(developer_try::CALLBACK),
    );
    Ok(pages::html(status, html))
}

fn not_found() -> Response {
    pages::error(
        404,
        "Application not found",
        "There is no application with this client ID among yours.",
    )
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
        return app_page(ctx, 200, &session, &client, &Form::of(&client));
    }
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let draft = draft(&params);
    // The form's fields replace those of the record as it is now: a secret rotated or a
    // Try-it callback added since this page was shown is kept (the secret is not a field).
    let shown = params
        .get("shown_redirect_uris")
        .map(|s| s.lines().map(|l| l.trim().to_string()).collect::<Vec<_>>());
    let changed = client_ops::update(ctx.store, client_id, |current| {
        let mut merged = draft.clone();
        if let (Some(shown), Some(uris)) = (&shown, merged.redirect_uris.as_mut()) {
            // A three-way merge: what the form lists, plus what was added since it was shown.
            for added in current.redirect_uris.iter().filter(|u| !shown.contains(u)) {
                if !uris.contains(added) {
                    uris.push(added.clone());
                }
            }
        }
        registry::replace(current, merged, &ctx.config.scopes, ctx.now)
    })
    .await?;
    match changed {
        None => Ok(not_found()),
        Some(Ok(_)) => {
            let path = format!("/developers/apps/{client_id}");
            Ok(Response::redirect(303, &path).no_store())
        }
        Some(Err(e)) => {
            let public = !client.is_confidential();
            let form = field_form(draft, public, e);
            app_page(ctx, 400, &session, &client, &form)
        }
    }
}

/// `POST .../secret`: a new secret, shown once (200, no-store, never a redirect).
pub async fn rotate_secret<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    client_id: &str,
) -> Result<Response, OAuthError> {
    let (session, client) = match owned(ctx, req, client_id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let params = match form(req, &session) {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    if !client.is_confidential() {
        let e = registry::rotate_secret(ctx.crypto, &mut client.clone(), ctx.now).err();
        let text = e.map(|e| e.description).unwrap_or_default();
        return Ok(pages::error(400, "Request refused", &text));
    }
    let form_id = match developers::submission(ctx, &params)? {
        Ok(id) => id,
        Err(page) => return Ok(page),
    };
    // A reload re-sends the same id: rotate once, never show (or kill) the secret again.
    let first = ctx
        .state()
        .claim_submission(&session.sub, &form_id, ctx.now)
        .await?;
    if !first {
        return Ok(developers::already_done(&format!(
            "/developers/apps/{client_id}"
        )));
    }
    let rotated = client_ops::rotate_secret(ctx.store, ctx.crypto, client_id, ctx.now).await?;
    let Some((client, secret)) = rotated else {
        return Ok(not_found());
    };
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
    client_ops::delete(ctx.store, &ctx.state(), &client).await?;
    Ok(Response::redirect(303, developers::PATH).no_store())
}
