//! The request pipeline: size limit → route → endpoint → one error-to-response mapping.

use crate::config::Config;
use crate::crypto::Crypto;
use crate::endpoints;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, MAX_BODY_BYTES};
use crate::router::{self, Route};
use crate::store::Store;

/// Everything an endpoint may use. Time is passed in (unix seconds) so tests control it.
pub struct Ctx<'a, S: Store, C: Crypto> {
    pub config: &'a Config,
    pub store: &'a S,
    pub crypto: &'a C,
    pub now: u64,
}

/// Handles one request. Never fails: errors become RFC 6749-style responses here, and the
/// private detail of server errors is passed to `log` (which must not receive secrets).
pub async fn handle<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    log: &dyn Fn(&str),
) -> Response {
    let result = dispatch(ctx, req).await;
    let response = match result {
        Ok(response) => response,
        Err(error) => {
            if let Some(debug) = &error.debug {
                log(&format!(
                    "{} {}: {}: {}",
                    method_name(req),
                    req.path,
                    error.code.as_str(),
                    debug
                ));
            }
            error.to_response()
        }
    };
    response.with_header("x-content-type-options", "nosniff")
}

async fn dispatch<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(payload_too_large());
    }
    match router::resolve(&req.method, &req.path)? {
        Route::Metadata => Ok(endpoints::metadata::handle(ctx)),
        Route::Jwks => Ok(endpoints::jwks::handle(ctx)),
        Route::AdminClients => endpoints::admin::clients::collection(ctx, req).await,
        Route::AdminClient(id) => endpoints::admin::clients::item(ctx, req, &id).await,
        Route::AdminClientSecret(id) => {
            endpoints::admin::clients::rotate_secret(ctx, req, &id).await
        }
    }
}

pub fn payload_too_large() -> OAuthError {
    OAuthError::new(
        ErrorCode::PayloadTooLarge,
        format!("Request body exceeds {MAX_BODY_BYTES} bytes"),
    )
}

fn method_name(req: &Request) -> String {
    format!("{:?}", req.method).to_ascii_uppercase()
}
