//! `GET /api/admin/grants?sub=..|client_id=..[&limit=..&cursor=..]` lists grants a page at a
//! time; `DELETE /api/admin/grants/{id}` revokes one (its refresh tokens stop working, its
//! access tokens become inactive).

use super::authorize;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Method, Request, Response};
use crate::oauth::identifiers;
use crate::oauth::params::Params;
use crate::state::{GrantView, State};
use crate::store::{clients, Store};
use serde_json::{json, Value};

pub async fn list<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    let params = Params::from_query(&req.query)?;
    let (limit, cursor) = super::page_query(&params)?;
    let state = ctx.state();
    let page = match (params.get("sub"), params.get("client_id")) {
        (Some(sub), None) => {
            identifiers::check_sub(sub).map_err(OAuthError::invalid_request)?;
            state.list_user_grants(sub, cursor, limit, ctx.now).await?
        }
        (None, Some(client_id)) => {
            if !identifiers::is_client_id(client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id must be 1 to 64 characters of A-Z a-z 0-9 - _",
                ));
            }
            // A deleted client has no grants (their rows only wait to expire).
            if clients::get(ctx.store, client_id).await?.is_none() {
                crate::state::Page {
                    items: vec![],
                    cursor: None,
                }
            } else {
                state
                    .list_client_grants(client_id, cursor, limit, ctx.now)
                    .await?
            }
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "Give exactly one of sub or client_id",
            ))
        }
    };
    let mut list: Vec<Value> = Vec::new();
    let mut known: Vec<(String, bool)> = Vec::new();
    for grant in &page.items {
        if client_exists(ctx, &grant.client_id, &mut known).await? {
            list.push(view(grant));
        }
    }
    Ok(Response::json(
        200,
        &json!({ "grants": list, "next_cursor": page.cursor }),
    ))
}

pub async fn item<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    grant_id: &str,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    let state = ctx.state();
    let not_found = || OAuthError::not_found("No grant with this grant_id");
    // The path segment is still percent-encoded: an id we never issued names nothing.
    if !identifiers::is_grant_id(grant_id) {
        return Err(not_found());
    }
    if req.method == Method::Delete {
        return match state.revoke_grant(grant_id).await? {
            true => {
                crate::oauth::revocation::grant_revoked(ctx, grant_id).await?;
                Ok(Response::new(204))
            }
            false => Err(not_found()),
        };
    }
    let grant = state
        .get_grant(grant_id, ctx.now)
        .await?
        .ok_or_else(not_found)?;
    if !client_exists(ctx, &grant.client_id, &mut Vec::new()).await? {
        return Err(not_found());
    }
    Ok(Response::json(200, &view(&grant)))
}

/// A deleted client's grants are gone (every use needs the client; their rows only wait to
/// expire), so listings leave them out. `known` remembers answers within one listing.
async fn client_exists<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client_id: &str,
    known: &mut Vec<(String, bool)>,
) -> Result<bool, OAuthError> {
    if let Some((_, exists)) = known.iter().find(|(id, _)| id == client_id) {
        return Ok(*exists);
    }
    let exists = clients::get(ctx.store, client_id).await?.is_some();
    known.push((client_id.to_string(), exists));
    Ok(exists)
}

fn view(g: &GrantView) -> Value {
    json!({
        "grant_id": g.grant_id, "client_id": g.client_id, "sub": g.sub,
        "scope": g.scopes.join(" "), "created_at": g.created_at, "expires_at": g.expires_at,
    })
}
