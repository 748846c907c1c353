//! `GET /account/apps`: the signed-in user's connected apps; `POST /account/apps/revoke`:
//! revoke one (CSRF-protected). Revoking ends every grant the user gave that client and
//! forgets the remembered consent, so the app must ask again.
//!
//! The list comes a page at a time (`?cursor=` from the "More apps" link): one listing call
//! per request, so the page costs the same however many apps the user connected.

use super::{authorize, pages};
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::oauth::identifiers;
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::state::{Refusal, State, StateError, MAX_PAGE};
use crate::store::{clients, Store};
use crate::ui::apps::{self, ConnectedApp};

pub const PATH: &str = "/account/apps";

pub async fn get<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let Some((_, session)) = session::current(ctx, req).await? else {
        return authorize::login(ctx, PATH, None, None);
    };
    let cursor = req
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v)
        .filter(|c| c.len() <= MAX_CURSOR_LEN);
    let page = match ctx
        .state()
        .list_user_grants(&session.sub, cursor.as_deref(), MAX_PAGE, ctx.now)
        .await
    {
        Ok(page) => page,
        // A cursor storage refuses (stale, edited) is the link's fault: back to the first page.
        Err(StateError::Refused(Refusal::CursorRefused)) => {
            return Ok(Response::redirect(303, PATH).no_store())
        }
        Err(e) => return Err(e.into()),
    };
    let user_grants = page.items;
    // One row per client: the union of what was granted, since the first grant.
    let mut rows: Vec<(crate::model::Client, Vec<String>, u64)> = Vec::new();
    for grant in user_grants {
        if let Some(row) = rows
            .iter_mut()
            .find(|(c, _, _)| c.client_id == grant.client_id)
        {
            row.1.extend(
                grant
                    .scopes
                    .into_iter()
                    .filter(|s| !row.1.contains(s))
                    .collect::<Vec<_>>(),
            );
            row.2 = row.2.min(grant.created_at);
        } else if let Some(client) = clients::get(ctx.store, &grant.client_id).await? {
            rows.push((client, grant.scopes, grant.created_at));
        }
    }
    let catalog = &ctx.config.scopes;
    let ordered: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|(_, s, _)| {
            catalog
                .in_catalog_order(s)
                .into_iter()
                .map(|name| {
                    let text = catalog.display_description(&name);
                    (name, text)
                })
                .collect()
        })
        .collect();
    let list: Vec<ConnectedApp> = rows
        .iter()
        .zip(&ordered)
        .map(|((client, _, since), scopes)| ConnectedApp {
            client_id: &client.client_id,
            name: &client.client_name,
            logo_uri: client.logo_uri.as_deref(),
            scopes: scopes
                .iter()
                .map(|(s, text)| (s.as_str(), text.as_str()))
                .collect(),
            since: apps::date(*since),
        })
        .collect();
    Ok(pages::html(
        200,
        apps::render(
            session.label(),
            &list,
            &session.csrf_token,
            page.cursor.as_deref(),
        ),
    ))
}

pub async fn revoke<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let Some((_, session)) = session::current(ctx, req).await? else {
        return Ok(pages::error(
            401,
            "Not signed in",
            "Sign in again to manage your apps.",
        ));
    };
    let params = match Params::from_body(req, &[]) {
        Ok(p) => p,
        Err(e) => return Ok(pages::error(400, "Request refused", &e.description)),
    };
    if !session::csrf_matches(&session.csrf_token, params.get("csrf_token")) {
        return Ok(pages::error(
            403,
            "Request refused",
            "The form did not come from this session.",
        ));
    }
    let Some(client_id) = params.get("client_id") else {
        return Ok(pages::error(
            400,
            "Request refused",
            "client_id is required",
        ));
    };
    // An id no client can have names no grant: nothing to revoke (as RFC 7009 §2.2 answers).
    if identifiers::is_client_id(client_id) {
        ctx.state()
            .revoke_user(&session.sub, Some(client_id), ctx.now)
            .await?;
        crate::oauth::revocation::pair_revoked(ctx, &session.sub, client_id).await?;
    }
    Ok(Response::redirect(303, PATH).no_store())
}

/// Longer than any cursor a listing hands out; a longer one is ignored (first page).
const MAX_CURSOR_LEN: usize = 1000;
