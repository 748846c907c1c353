//! `POST /api/oauth/token` (RFC 6749 §3.2): client authentication, then the grant type.
//! Bodies are form-urlencoded or JSON; credentials in HTTP Basic or the body.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::oauth::client_auth;
use crate::oauth::grants::{authorization_code, client_credentials, refresh_token};
use crate::oauth::params::Params;
use crate::store::Store;

pub async fn post<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    let params = Params::from_body(req, crate::oauth::resource::REPEATABLE)?;
    let client = client_auth::from_request(ctx.store, req, &params).await?;
    match params.require("grant_type")? {
        "authorization_code" => authorization_code::exchange(ctx, &client, &params).await,
        "refresh_token" => refresh_token::exchange(ctx, &client, &params).await,
        "client_credentials" => client_credentials::issue(ctx, &client, &params).await,
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {} is not supported", quoted(other)),
        )),
    }
}
