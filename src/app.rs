//! The request pipeline: size limit → route → endpoint → one error-to-response mapping.

use crate::config::LoginMode;
use crate::crypto::Crypto;
use crate::endpoints;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Method, Request, Response, MAX_BODY_BYTES};
use crate::router::{self, Route};
use crate::store::Store;

pub use crate::context::Ctx;

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
            if error.code == ErrorCode::TemporarilyUnavailable && wants_page(req) {
                endpoints::pages::try_again(&error)
            } else {
                error.to_response()
            }
        }
    };
    // In delegated mode a sign-in may lead through the platform's login (CSP form-action).
    let response = match &ctx.config.login {
        LoginMode::Delegated { login_url } => {
            endpoints::pages::allow_form_target(response, login_url)
        }
        LoginMode::Builtin => response,
    };
    crate::ui::brand::apply(&ctx.config.brand, response)
        .with_header("x-content-type-options", "nosniff")
}

async fn dispatch<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(payload_too_large());
    }
    let route = router::resolve(&req.method, &req.path)?;
    if req.method == Method::Options {
        return Ok(preflight());
    }
    let cors = route.allows_cors();
    if endpoints::admin::uses_admin_token(&route, req) {
        endpoints::admin::throttle(ctx, req).await?;
    }
    let response = route_to(ctx, req, route).await;
    if cors {
        // Errors too: a browser client must be able to read the error body.
        return response.map(with_cors).map_err(|e| e.with_cors());
    }
    response
}

async fn route_to<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    route: Route,
) -> Result<Response, OAuthError> {
    match route {
        Route::Metadata => Ok(endpoints::metadata::handle(ctx)),
        Route::OpenIdConfiguration => Ok(endpoints::openid_configuration::handle(ctx)),
        Route::Jwks => Ok(endpoints::jwks::handle(ctx)),
        Route::AdminClients => endpoints::admin::clients::collection(ctx, req).await,
        Route::AdminClient(id) => endpoints::admin::clients::item(ctx, req, &id).await,
        Route::AdminClientSecret(id) => {
            endpoints::admin::clients::rotate_secret(ctx, req, &id).await
        }
        Route::AdminUsers => endpoints::admin::users::collection(ctx, req).await,
        Route::AdminUser(sub) => endpoints::admin::users::item(ctx, req, &sub).await,
        Route::Authorize if req.method == Method::Post => endpoints::consent::post(ctx, req).await,
        Route::Authorize => endpoints::authorize::get(ctx, req).await,
        Route::Token => endpoints::token::post(ctx, req).await,
        Route::Login => endpoints::login::post(ctx, req).await,
        Route::LoginAssertion => endpoints::login_assertion::post(ctx, req).await,
        Route::Revoke => endpoints::revoke::post(ctx, req).await,
        Route::Introspect => endpoints::introspect::post(ctx, req).await,
        Route::UserInfo => endpoints::userinfo::handle(ctx, req).await,
        Route::Logout if req.method == Method::Post => endpoints::logout::post(ctx, req).await,
        Route::Logout => endpoints::logout::get(ctx, req).await,
        Route::AccountApps => endpoints::account_apps::get(ctx, req).await,
        Route::AccountAppsRevoke => endpoints::account_apps::revoke(ctx, req).await,
        Route::AdminGrants => endpoints::admin::grants::list(ctx, req).await,
        Route::AdminGrant(id) => endpoints::admin::grants::item(ctx, req, &id).await,
        Route::Developers => endpoints::developers::get(ctx, req).await,
        Route::DeveloperApps => endpoints::developers::create(ctx, req).await,
        Route::DeveloperApp(id) => endpoints::developer_app::item(ctx, req, &id).await,
        Route::DeveloperAppSecret(id) => {
            endpoints::developer_app::rotate_secret(ctx, req, &id).await
        }
        Route::DeveloperAppDelete(id) => endpoints::developer_app::delete(ctx, req, &id).await,
        Route::DeveloperAppTry(id) => endpoints::developer_try::start(ctx, req, &id).await,
        Route::DeveloperCallback => endpoints::developer_try::callback(ctx, req).await,
        Route::Docs => Ok(endpoints::docs::get(ctx)),
        Route::OpenApi => Ok(endpoints::openapi::get(ctx)),
        Route::Register => endpoints::register::post(ctx, req).await,
    }
}

/// CORS preflight (Fetch standard): any origin, no credentials (tokens travel in headers).
fn preflight() -> Response {
    with_cors(Response::new(204))
        .with_header("access-control-allow-methods", "GET, POST, OPTIONS")
        .with_header(
            "access-control-allow-headers",
            "authorization, content-type",
        )
        .with_header("access-control-max-age", "86400")
}

fn with_cors(response: Response) -> Response {
    response.set_header("access-control-allow-origin", "*")
}

pub fn payload_too_large() -> OAuthError {
    OAuthError::new(
        ErrorCode::PayloadTooLarge,
        format!("Request body exceeds {MAX_BODY_BYTES} bytes"),
    )
}

/// A browser on one of our pages (it asks for HTML): a storage fault is shown as a page, with
/// the same 503 and `Retry-After`, rather than as JSON. Server-to-server calls of the same
/// paths (platform logout with a bearer token) keep the JSON error.
fn wants_page(req: &Request) -> bool {
    let accepts_html = req
        .header("accept")
        .is_some_and(|a| a.contains("text/html"));
    accepts_html && router::resolve(&req.method, &req.path).is_ok_and(|route| route.is_page())
}

fn method_name(req: &Request) -> String {
    req.method.as_str().to_string()
}
