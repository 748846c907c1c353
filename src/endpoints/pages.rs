//! HTML responses with the headers every page needs: no framing (clickjacking on consent),
//! no caching (pages carry CSRF tokens), no referrer (URLs carry authorization requests), and
//! a CSP that allows only the page's own inline styles and https images, and forms that post
//! here.

use crate::http::Response;
use crate::ui;

/// `form-action` keeps a form injected into a page (were escaping ever to fail) from posting
/// anywhere but here. Browsers also apply it to the redirects that follow a form's POST, so
/// pages whose form ends at a client's redirect URI add its origin ([`allow_form_target`]).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Adds the origin of `url` to the page's `form-action` (CSP 3 §6.3.3: checked on every
/// redirect after the POST). A host CSP cannot name (an IPv6 literal) adds only its scheme.
pub fn allow_form_target(response: Response, url: &str) -> Response {
    let Some(csp) = response.header("content-security-policy") else {
        return response;
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return response;
    };
    let source = match parsed.host() {
        Some(url::Host::Ipv6(_)) | None => format!("{}:", parsed.scheme()),
        Some(_) => parsed.origin().ascii_serialization(),
    };
    let updated = csp.replacen(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
        1,
    );
    response.set_header("content-security-policy", &updated)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn form_action(r: &Response) -> &str {
        let csp = r.header("content-security-policy").unwrap();
        csp.split("; ")
            .find(|d| d.starts_with("form-action"))
            .unwrap()
    }

    #[test]
    fn forms_may_post_only_here_and_to_the_origins_added() {
        let page = html(200, String::new());
        assert_eq!(form_action(&page), "form-action 'self'");
        let cases = [
            (
                "http://127.0.0.1:53682/callback?x=1",
                "form-action 'self' http://127.0.0.1:53682",
            ),
            (
                "https://app.example/cb",
                "form-action 'self' https://app.example",
            ),
            ("http://[::1]:8080/cb", "form-action 'self' http:"),
            ("not a url", "form-action 'self'"),
        ];
        for (url, want) in cases {
            assert_eq!(
                form_action(&allow_form_target(page.clone(), url)),
                want,
                "{url}"
            );
        }
        let both = allow_form_target(
            allow_form_target(page, "https://a.example/"),
            "https://b.example/",
        );
        assert_eq!(
            form_action(&both),
            "form-action 'self' https://b.example https://a.example"
        );
        let json = allow_form_target(Response::new(200), "https://a.example/");
        assert!(json.header("content-security-policy").is_none());
    }
}
