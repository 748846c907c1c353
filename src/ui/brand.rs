//! Branding (`BRAND_NAME`, `BRAND_LOGO_URI`, `BRAND_COLOR`) on every page. The page shell
//! ([`super::page`]) leaves two markers; [`apply`] fills them for each HTML response in one
//! place (`app::handle`), so no renderer needs the configuration passed down.

use super::escape;
use crate::config::Brand;
use crate::http::Response;

/// In `<head>`: replaced by the colour override, if any.
pub const STYLE_MARKER: &str = "<!--brand-style-->";
/// At the top of `<main>`: replaced by the brand header.
pub const HEADER_MARKER: &str = "<!--brand-->";

/// Fills the markers of an HTML response; other responses are returned unchanged.
pub fn apply(brand: &Brand, mut response: Response) -> Response {
    let is_html = response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let Ok(body) = std::str::from_utf8(&response.body) else {
        return response;
    };
    let style = brand
        .color
        .as_deref()
        .map(|c| format!("<style>:root{{--b:{}}}</style>", escape(c)))
        .unwrap_or_default();
    let body = body
        .replacen(STYLE_MARKER, &style, 1)
        .replacen(HEADER_MARKER, &header(brand), 1);
    response.body = body.into_bytes();
    response
}

fn header(brand: &Brand) -> String {
    let logo = brand
        .logo_uri
        .as_deref()
        .map(|u| format!("<img src=\"{}\" alt=\"\" height=\"28\">", escape(u)))
        .unwrap_or_default();
    format!(
        "<header class=\"brand\">{logo}<span>{}</span></header>",
        escape(&brand.name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(color: Option<&str>, logo: Option<&str>) -> Brand {
        Brand {
            name: "<Pixel> & Co".into(),
            logo_uri: logo.map(str::to_string),
            color: color.map(str::to_string),
        }
    }

    #[test]
    fn fills_markers_of_html_pages_only() {
        let html = Response::html(200, super::super::page("T", "<p>x</p>"));
        let out = apply(
            &brand(Some("#aa3300"), Some("https://cdn.example/l.png?a=1&b=2")),
            html,
        );
        let body = String::from_utf8(out.body).unwrap();
        assert!(body.contains("<style>:root{--b:#aa3300}</style>"));
        assert!(body.contains("<span>&lt;Pixel&gt; &amp; Co</span>"));
        assert!(body.contains("src=\"https://cdn.example/l.png?a=1&amp;b=2\""));
        assert!(!body.contains("<!--brand"));

        let json = Response::json(200, &serde_json::json!({"a": HEADER_MARKER}));
        let out = apply(&brand(None, None), json);
        assert!(String::from_utf8(out.body).unwrap().contains(HEADER_MARKER));
    }

    #[test]
    fn default_brand_adds_only_the_name() {
        let html = Response::html(200, super::super::page("T", "<p>x</p>"));
        let body = String::from_utf8(apply(&brand(None, None), html).body).unwrap();
        assert!(!body.contains("<img"));
        assert!(!body.contains(":root"));
        assert!(body.contains("<header class=\"brand\"><span>"));
    }
}
