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

/// Adds the origin of `url` (an absolute URL: a checked redirect URI, or `LOGIN_URL`) to the
/// page's `form-action` (CSP 3 §6.3.3: checked on every redirect after the POST). An IPv6
/// literal, which CSP host sources cannot name, adds only its scheme. `form-action` is the
/// last directive, so the source is appended.
pub fn allow_form_target(response: Response, url: &str) -> Response {
    let Some(csp) = response.header("content-security-policy") else {
        return response;
    };
    let b = url.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return response;
    };
    // `scheme://authority`, or `scheme:` alone.
    let mut end = colon + 1;
    if b[end..].starts_with(b"//") && b.get(end + 2).is_some_and(|&c| c != b'[') {
        end += 2;
        while end < b.len() && !b"/?#".contains(&b[end]) {
            end += 1;
        }
    }
    let mut updated = String::with_capacity(csp.len() + end + 1);
    updated.push_str(csp);
    updated.push(' ');
    updated.push_str(&url[..end]);
    response.set_header("content-security-policy", &updated)
}

/// Allows one inline script, by its CSP hash source (`'sha256-…'`), on this page only.
/// Inserted before `form-action`, which must stay last ([`allow_form_target`] appends to it).
pub fn allow_script(response: Response, hash_source: &str) -> Response {
    let Some(csp) = response.header("content-security-policy") else {
        return response;
    };
    let updated = csp.replacen(
        "form-action",
        &format!("script-src {hash_source}; form-action"),
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

/// Storage was briefly unavailable while serving a page: a short "try again" page with the
/// error's 503 and `Retry-After`. Every form here may be submitted again safely.
pub fn try_again(error: &crate::error::OAuthError) -> Response {
    let json = error.to_response();
    let page = self::error(
        json.status,
        "Please try again",
        "The service is briefly unavailable. Nothing went wrong on your side: go back and try \
         again in a moment.",
    );
    match json.header("retry-after") {
        Some(seconds) => page.with_header("retry-after", seconds),
        None => page,
    }
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
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.ends_with("form-action 'self'"),
            "sources are appended to it"
        );
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
            (
                "https://app.example",
                "form-action 'self' https://app.example",
            ),
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
            "form-action 'self' https://a.example https://b.example"
        );
        let json = allow_form_target(Response::new(200), "https://a.example/");
        assert!(json.header("content-security-policy").is_none());
    }
}
