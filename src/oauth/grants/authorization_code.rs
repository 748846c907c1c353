//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6).
//!
//! The rules are in `rules::check_code_use` (applied after the code is marked used, so a
//! wrong `redirect_uri` or `code_verifier` consumes it); the state layer applies them in the
//! same step as the single-use check, the consent check, the grant cap and the grant's
//! creation. A second redemption revokes the grant the first one created (RFC 6749 §4.1.2).

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::http::Response;
use crate::model::Client;
use crate::oauth::issue;
use crate::oauth::params::Params;
use crate::state::{CodeExchange, Refusal, State, StateError};
use crate::store::Store;
use crate::token::opaque;

pub async fn exchange<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let code = params.require("code")?;
    let exchange = CodeExchange {
        code: code.to_string(),
        client_id: client.client_id.clone(),
        redirect_uri: params.get("redirect_uri").map(str::to_string),
        code_verifier: params.get("code_verifier").unwrap_or("").to_string(),
        allowed_scopes: super::allowed_scopes(client, ctx.config),
        // Derived from the code: a retry of this exchange gets the same refresh token.
        refresh_secret: crate::oauth::code::derived_secret(ctx, "first refresh token", code)?,
        chain_key: opaque::new_secret(ctx.crypto)?,
        refresh_ttl: ctx.config.refresh_token_ttl,
        now: ctx.now,
        resource: crate::oauth::resource::requested(params, ctx.config)?,
    };
    let issued = match ctx.state().exchange_code(exchange).await {
        Err(StateError::Refused(Refusal::CodeReplayed(Some(grant_id)))) => {
            // RFC 6749 §4.1.2 revoked what the first redemption issued; edge APIs learn it.
            crate::oauth::revocation::grant_revoked(ctx, &grant_id).await?;
            return Err(Refusal::CodeReplayed(Some(grant_id)).into());
        }
        other => other?,
    };
    // The cap revoked the oldest grants of this user and client to make room: those tokens
    // stop at edge APIs too.
    for grant_id in &issued.evicted {
        crate::oauth::revocation::grant_revoked(ctx, grant_id).await?;
    }
    issue::token_response(ctx, client, issued, issue::Answering::Code).await
}
