//! The consent page: who is asking, for what, and approve / deny (SPEC "Consent page").
//!
//! Each requested scope is a checkbox `scope`, checked by default, so the user may grant fewer
//! scopes than requested (RFC 6749 §3.3). The decision comes back as `decision=approve|deny`
//! with the pending request's id and the CSRF token.

use super::{escape, hidden_input, page};

pub struct ConsentPage<'a> {
    /// Where the form posts.
    pub action: &'a str,
    pub csrf_token: &'a str,
    /// Identifies the pending authorization request the decision applies to.
    pub request_id: &'a str,
    pub client_name: &'a str,
    /// `false`: the page says the application is not verified by the platform.
    pub verified: bool,
    pub client_description: Option<&'a str>,
    /// Already checked to be https at registration; escaped all the same.
    pub logo_uri: Option<&'a str>,
    pub client_uri: Option<&'a str>,
    /// (name, description) of each requested scope, in catalog order.
    pub scopes: Vec<(&'a str, &'a str)>,
    pub user_label: &'a str,
}

/// The application's website as the host a browser would really open (the URL parser's
/// canonical host: lower case, punycode), linked: `https://www.paypal.com@evil.example/` shows
/// `evil.example`, never the text before the `@` (issue 18). A URL with user information
/// (stored before such URLs were refused) links to its host alone.
fn website_link(uri: &str) -> Option<String> {
    let parsed = crate::weburl::parse(uri).ok()?;
    let host = parsed.host.filter(|h| !h.is_empty())?;
    let href = if parsed.username.is_empty() && parsed.password.is_none() {
        parsed.href
    } else {
        format!("{}://{host}/", parsed.scheme)
    };
    Some(format!(
        "<p class=\"muted\">Website: <a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a></p>\n",
        escape(&href),
        escape(&host)
    ))
}

pub fn render(p: &ConsentPage) -> String {
    let name = escape(p.client_name);
    // Anyone can register an application and name it anything: say when the platform has
    // not vouched for it, beside the name the user is asked to trust.
    let unverified = if p.verified {
        ""
    } else {
        " <span class=\"unverified\">(not verified)</span>"
    };
    let logo = p
        .logo_uri
        .filter(|uri| is_web_url(uri))
        .map(|uri| {
            format!(
                "<img src=\"{}\" alt=\"\" width=\"48\" height=\"48\" referrerpolicy=\"no-referrer\">",
                escape(uri)
            )
        })
        .unwrap_or_default();
    let description = p
        .client_description
        .map(|d| format!("<p>{}</p>\n", escape(d)))
        .unwrap_or_default();
    let website = p
        .client_uri
        .filter(|uri| is_web_url(uri))
        .and_then(website_link)
        .unwrap_or_default();
    let scopes: String = p
        .scopes
        .iter()
        .map(|(scope, text)| {
            format!(
                "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{}\" checked> \
<span>{}<br><code>{}</code></span></label></li>\n",
                escape(scope),
                escape(text),
                escape(scope)
            )
        })
        .collect();
    let has = |scope: &str| p.scopes.iter().any(|(s, _)| *s == scope);
    // OpenID Connect: signing in shares who the user is; say what, before the scope list.
    let (heading, shares) = if has("openid") {
        let mut what = vec!["your account id"];
        if has("profile") {
            what.push("your name and picture");
        }
        if has("email") {
            what.push("your email address");
        }
        (
            format!("Sign in to {name}{unverified}"),
            format!(
                "<p class=\"shares\">Signing in shares {} with {name}.</p>\n",
                what.join(", ")
            ),
        )
    } else {
        (
            format!("{name}{unverified} wants access to your account"),
            String::new(),
        )
    };
    let body = format!(
        "<div class=\"app\">{logo}<h1>{heading}</h1></div>\n\
{description}{website}{shares}\
<p class=\"muted\">Signed in as {user}</p>\n\
<form method=\"post\" action=\"{action}\">\n\
{csrf}\n{request}\n\
<p>{name} will be able to:</p>\n\
<ul class=\"scopes\">\n{scopes}</ul>\n\
<div class=\"buttons\">\n\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button>\n\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
</div>\n</form>",
        user = escape(p.user_label),
        action = escape(p.action),
        csrf = hidden_input("csrf_token", p.csrf_token),
        request = hidden_input("request_id", p.request_id),
    );
    page(&format!("Authorize {}", p.client_name), &body)
}

/// Registration admits only web URLs for logo and website; checked again here because escaping
/// alone does not stop a `javascript:` URL in `href` or `src`.
fn is_web_url(uri: &str) -> bool {
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tests::assert_no_external_assets;

    fn base() -> ConsentPage<'static> {
        ConsentPage {
            action: "/api/oauth/authorize",
            csrf_token: "csrf123",
            request_id: "req456",
            client_name: "Photo Printer",
            verified: true,
            client_description: None,
            logo_uri: None,
            client_uri: None,
            scopes: vec![
                (
                    "profile:read",
                    "Read your basic profile (name, email, avatar)",
                ),
                ("images:read", "View your images"),
            ],
            user_label: "ada@example.com",
        }
    }

    #[test]
    fn sign_in_says_what_it_shares() {
        let mut p = base();
        p.scopes = vec![
            ("openid", "Know who you are (your account id)"),
            ("email", "See your email address"),
        ];
        let html = render(&p);
        assert!(html.contains("<h1>Sign in to Photo Printer</h1>"), "{html}");
        assert!(
            html.contains(
                "Signing in shares your account id, your email address with Photo Printer."
            ),
            "{html}"
        );
        assert!(!html.contains("name and picture"));
        let plain = render(&base());
        assert!(plain.contains("wants access to your account") && !plain.contains("Signing in"));
    }

    #[test]
    fn form_has_the_contract_field_names() {
        let html = render(&base());
        for needle in [
            r#"<form method="post" action="/api/oauth/authorize">"#,
            r#"<input type="hidden" name="csrf_token" value="csrf123">"#,
            r#"<input type="hidden" name="request_id" value="req456">"#,
            r#"<input type="checkbox" name="scope" value="profile:read" checked>"#,
            r#"<input type="checkbox" name="scope" value="images:read" checked>"#,
            "Read your basic profile (name, email, avatar)",
            r#"name="decision" value="approve""#,
            r#"name="decision" value="deny""#,
            "Signed in as ada@example.com",
            "Photo Printer wants access to your account",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert_eq!(html.matches("name=\"scope\"").count(), 2);
        assert_eq!(html.matches(" checked>").count(), 2);
        assert_no_external_assets(&html);
    }

    #[test]
    fn optional_parts_appear_only_when_given() {
        let bare = render(&base());
        assert!(!bare.contains("<img"));
        assert!(!bare.contains("<a "));
        let full = render(&ConsentPage {
            client_description: Some("Prints your photos"),
            logo_uri: Some("https://printer.example/logo.png"),
            client_uri: Some("https://printer.example"),
            ..base()
        });
        for needle in [
            "<p>Prints your photos</p>",
            r#"<img src="https://printer.example/logo.png" alt="""#,
            // The URL in its canonical form, and the host as its text.
            r#"<a href="https://printer.example/" rel="noopener noreferrer""#,
            ">printer.example</a>",
        ] {
            assert!(full.contains(needle), "missing {needle}");
        }
        // The only remote references are the app's own logo and link.
        assert!(!full.contains("<link") && !full.contains("<script"));
    }

    #[test]
    fn the_website_shows_the_host_a_browser_would_open() {
        for (uri, shown, hidden) in [
            (
                "https://WWW.Printer.Example/about",
                "www.printer.example",
                "WWW.Printer",
            ),
            (
                "https://www.paypal.com@evil.example/",
                "evil.example",
                "paypal",
            ),
            (
                "https://www.paypal.com.evil.example/x",
                "www.paypal.com.evil.example",
                "/x</a>",
            ),
        ] {
            let html = render(&ConsentPage {
                client_uri: Some(uri),
                ..base()
            });
            assert!(html.contains(&format!(">{shown}</a>")), "{uri}: {html}");
            assert!(
                !html.contains(hidden) || hidden == "/x<",
                "{uri} shows {hidden}"
            );
        }
    }

    #[test]
    fn non_web_urls_are_not_linked() {
        for uri in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example",
        ] {
            let html = render(&ConsentPage {
                logo_uri: Some(uri),
                client_uri: Some(uri),
                ..base()
            });
            assert!(
                !html.contains("<img") && !html.contains("<a "),
                "{uri} linked"
            );
        }
    }

    #[test]
    fn hostile_client_and_scope_texts_are_escaped() {
        let html = render(&ConsentPage {
            client_name: "<script>alert(1)</script>",
            client_description: Some("</p><iframe src=//evil>"),
            logo_uri: Some("https://x.example/\" onerror=\"alert(1)"),
            client_uri: Some("https://x.example/\"><b>x</b>"),
            scopes: vec![("a\"b", "<img src=x onerror=alert(1)>")],
            user_label: "<u>me</u>",
            csrf_token: "\"><script>",
            request_id: "'><script>",
            ..base()
        });
        let cases = [
            (
                "client name",
                "&lt;script&gt;alert(1)&lt;/script&gt; wants access",
            ),
            ("description", "&lt;/p&gt;&lt;iframe src=//evil&gt;"),
            (
                "logo",
                r#"src="https://x.example/&quot; onerror=&quot;alert(1)""#,
            ),
            (
                "website",
                // Canonical form: the URL parser percent-encodes what HTML would read.
                r#"href="https://x.example/%22%3E%3Cb%3Ex%3C/b%3E""#,
            ),
            ("scope value", r#"value="a&quot;b" checked"#),
            ("scope description", "&lt;img src=x onerror=alert(1)&gt;"),
            ("user label", "Signed in as &lt;u&gt;me&lt;/u&gt;"),
            ("csrf token", r#"value="&quot;&gt;&lt;script&gt;""#),
            ("request id", r#"value="&#x27;&gt;&lt;script&gt;""#),
            ("title", "<title>Authorize &lt;script&gt;"),
        ];
        for (name, needle) in cases {
            assert!(html.contains(needle), "{name} not escaped");
        }
        for raw in ["<script", "<iframe", "<b>", "<u>", "onerror=\"alert"] {
            assert!(!html.contains(raw), "raw {raw} in page");
        }
    }
}
