//! `GET /api/admin/grants?sub=..|client_id=..` lists grants; `DELETE /api/admin/grants/{id}`
//! revokes one (its refresh token stops working, its access tokens become inactive).

use super::authorize;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::{Method, Request, Response};
use crate::model::Grant;
use crate::oauth::identifiers;
use crate::oauth::params::Params;
use crate::store::{grants, Store};
use serde_json::{json, Value};

pub async fn list<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    let params = Params::from_query(&req.query)?;
    let found = match (params.get("sub"), params.get("client_id")) {
        (Some(sub), None) => {
            identifiers::check_sub(sub).map_err(OAuthError::invalid_request)?;
            grants::list_for_user(ctx.store, sub).await?
        }
        (None, Some(client_id)) => {
            if !identifiers::is_client_id(client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id must be 1 to 64 characters of A-Z a-z 0-9 - _",
                ));
            }
            grants::list_for_client(ctx.store, client_id).await?
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "Give exactly one of sub or client_id",
            ))
        }
    };
    let list: Vec<Value> = found.iter().map(view).collect();
    Ok(Response::json(200, &json!({ "grants": list })))
}

pub async fn item<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    grant_id: &str,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    // The path segment is still percent-encoded: an id we never issued names nothing.
    let found = match identifiers::is_grant_id(grant_id) {
        true => grants::get_grant(ctx.store, grant_id).await?,
        false => None,
    };
    let grant = found.ok_or_else(|| OAuthError::not_found("No grant with this grant_id"))?;
    if req.method == Method::Delete {
        grants::revoke_grant(ctx.store, &grant).await?;
        return Ok(Response::new(204));
    }
    Ok(Response::json(200, &view(&grant)))
}

fn view(g: &Grant) -> Value {
    json!({
        "grant_id": g.grant_id, "client_id": g.client_id, "sub": g.sub,
        "scope": g.scopes.join(" "), "created_at": g.created_at, "expires_at": g.expires_at,
    })
}
