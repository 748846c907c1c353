//! `POST /api/oauth/revoke` (RFC 7009). Client-authenticated (a public client sends its
//! `client_id` and may revoke its own tokens). Revoking a refresh token revokes its grant;
//! revoking an access token lists its `jti` until it expires. Unknown, expired, already revoked
//! or other clients' tokens get the same 200 and change nothing (§2.2).

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::oauth::{access_token, client_auth, params::Params, revocation};
use crate::state::State;
use crate::store::Store;

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let params = Params::from_body(req, &[])?;
    let client = client_auth::from_request(ctx.store, req, &params).await?;
    let token = params.require("token")?;
    let refresh_first = match params.get("token_type_hint") {
        None | Some("access_token") => false,
        Some("refresh_token") => true,
        Some(other) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                format!(
                    "token_type_hint {} is not supported (use access_token or refresh_token)",
                    quoted(other)
                ),
            ))
        }
    };
    // The hint only orders the look-ups (§2.1); both kinds are tried.
    let id = client.client_id.as_str();
    if refresh_first {
        if !revoke_refresh(ctx, id, token).await? {
            revoke_access(ctx, id, token).await?;
        }
    } else if !revoke_access(ctx, id, token).await? {
        revoke_refresh(ctx, id, token).await?;
    }
    Ok(Response::new(200).no_store())
}

/// Returns whether `token` was a refresh token of this client (and is now revoked).
async fn revoke_refresh<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client_id: &str,
    token: &str,
) -> Result<bool, OAuthError> {
    // The edge marker first, for a current token of this client only: if it cannot be
    // written (503), nothing is revoked yet and the client's retry does both.
    let current = ctx.state().find_refresh(token, ctx.now).await?;
    if let Some(grant) = current.filter(|g| g.client_id == client_id) {
        revocation::grant_revoked(ctx, &grant.grant_id).await?;
    }
    Ok(ctx.state().revoke_refresh_token(token, client_id).await?)
}

async fn revoke_access<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client_id: &str,
    token: &str,
) -> Result<bool, OAuthError> {
    match access_token::verified_claims(ctx, token).await? {
        Some(claims) if access_token::claim(&claims, "client_id") == client_id => {
            access_token::revoke(ctx, &claims).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
