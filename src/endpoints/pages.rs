//! HTML responses with the headers every page needs: no framing (clickjacking on consent),
//! no caching (pages carry CSRF tokens), no referrer (URLs carry authorization requests), and
//! a CSP that allows only the page's own inline styles and https images.

use crate::http::Response;
use crate::ui;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https:; \
                   frame-ancestors 'none'; base-uri 'none'";

pub fn html(status: u16, body: String) -> Response {
    Response::html(status, body)
        .with_header("content-security-policy", CSP)
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "no-referrer")
        .no_store()
}

/// An error shown to the user and never redirected (unknown client, bad redirect URI, a
/// form that no longer matches a session).
pub fn error(status: u16, title: &str, message: &str) -> Response {
    html(status, ui::error_page::render(title, message))
}
