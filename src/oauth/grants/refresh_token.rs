//! `grant_type=refresh_token` (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): every use returns a new refresh token and retires the old one;
//! presenting a retired one revokes the whole grant, except within `REFRESH_REUSE_GRACE`
//! where the previous token gets the same successor again (a retry after a lost response).
//!
//! A refused request (wrong client, wider scope) changes nothing. The state layer decides
//! the rotation in one step, so parallel refreshes of one token never fork the chain.

use super::rules;
use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::model::Client;
use crate::oauth::issue;
use crate::oauth::params::Params;
use crate::state::{RefreshRotation, Refusal, State, StateError};
use crate::store::Store;

pub async fn exchange<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let rotation = RefreshRotation {
        refresh_token: params.require("refresh_token")?.to_string(),
        client_id: client.client_id.clone(),
        requested_scopes: rules::parse_requested(params.get("scope"))?,
        allowed_scopes: super::allowed_scopes(client, ctx.config),
        grace: ctx.config.refresh_reuse_grace,
        refresh_ttl: ctx.config.refresh_token_ttl,
        now: ctx.now,
        attempt: Some(crate::token::opaque::random_b64(ctx.crypto, 12)?),
        resource: crate::oauth::resource::requested(params, ctx.config)?,
    };
    let issued = match ctx.state().rotate_refresh(rotation).await {
        Err(StateError::Refused(Refusal::RefreshReused)) => {
            // RFC 9700 §4.14.2 revoked the grant; edge APIs learn it too.
            let token = params.require("refresh_token")?;
            crate::oauth::revocation::refresh_token_revoked(ctx, token).await?;
            return Err(Refusal::RefreshReused.into());
        }
        other => other?,
    };
    issue::token_response(ctx, client, issued, issue::Answering::Refresh).await
}
