//! The sign-out confirmation of an OpenID Connect RP-initiated logout (RP-Initiated Logout
//! 1.0 §3): shown when the request does not name the signed-in user (no `id_token_hint`, or a
//! hint for someone else), so a third-party page cannot sign the user out unasked (the form
//! carries the session's CSRF token).

use super::{escape, hidden_input, page};

pub struct LogoutConfirm<'a> {
    pub user_label: &'a str,
    pub csrf_token: &'a str,
    pub client_name: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

pub fn render(p: &LogoutConfirm) -> String {
    let from = p
        .client_name
        .map(|n| format!("<p>{} asks to sign you out.</p>\n", escape(n)))
        .unwrap_or_default();
    let mut fields = hidden_input("csrf_token", p.csrf_token);
    for (name, value) in [
        ("client_id", p.client_id),
        ("post_logout_redirect_uri", p.post_logout_redirect_uri),
        ("state", p.state),
    ] {
        if let Some(v) = value {
            fields += &hidden_input(name, v);
        }
    }
    let body = format!(
        "<h1>Sign out?</h1>\n{from}<p>Signed in as {user}</p>\n\
<form method=\"post\" action=\"/api/oauth/logout\">{fields}\
<button type=\"submit\">Sign out</button></form>\n",
        user = escape(p.user_label),
    );
    page("Sign out", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_csrf_and_the_request_and_escapes() {
        let html = render(&LogoutConfirm {
            user_label: "ada@example.com",
            csrf_token: "tok",
            client_name: Some("<b>RP</b>"),
            client_id: Some("c1"),
            post_logout_redirect_uri: Some("https://rp.example/bye?a=1&b=2"),
            state: None,
        });
        assert!(html.contains("&lt;b&gt;RP&lt;/b&gt; asks to sign you out"));
        assert!(html.contains("name=\"csrf_token\" value=\"tok\""));
        assert!(html.contains("value=\"https://rp.example/bye?a=1&amp;b=2\""));
        assert!(!html.contains("name=\"state\""));
    }
}
