//! `GET /docs`: the developer documentation of this deployment (see `ui::docs`).

use super::pages;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::http::Response;
use crate::store::Store;

pub fn get<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Response {
    pages::html(200, crate::ui::docs::render(ctx.config))
}
