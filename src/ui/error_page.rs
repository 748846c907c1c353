//! Errors shown to the user as a page instead of being redirected: RFC 6749 §4.1.2.1 forbids
//! redirecting when `client_id` or `redirect_uri` is invalid, since the redirect target is
//! then not trusted.

use super::{escape, page};

pub fn render(title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n\
<p class=\"muted\">You can close this page and return to the application.</p>",
        escape(title),
        escape(message)
    );
    page(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tests::assert_no_external_assets;

    #[test]
    fn shows_title_and_message_escaped() {
        let html = render(
            "Unknown application",
            "client_id \"<img src=x onerror=alert(1)>\" is not registered",
        );
        assert!(html.contains("<title>Unknown application</title>"));
        assert!(html.contains("<h1>Unknown application</h1>"));
        assert!(html.contains(
            "client_id &quot;&lt;img src=x onerror=alert(1)&gt;&quot; is not registered"
        ));
        assert!(!html.contains("<img"));
        assert_no_external_assets(&html);
    }
}
