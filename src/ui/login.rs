//! The built-in accounts' sign-in page (SPEC "Forms": inputs `email`, `password`,
//! `csrf_token`). `return_to` carries the authorization request to resume after sign-in.

use super::{escape, hidden_input, page};

pub struct LoginPage<'a> {
    /// Where the form posts.
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub return_to: &'a str,
    /// Prefilled after a failed attempt, so the user retypes only the password.
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub client_name: Option<&'a str>,
}

pub fn render(p: &LoginPage) -> String {
    let heading = match p.client_name {
        Some(name) => format!("Sign in to continue to {}", escape(name)),
        None => "Sign in".to_string(),
    };
    let error = p
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{heading}</h1>\n{error}\
<form method=\"post\" action=\"{action}\">\n\
{csrf}\n{return_to}\n\
<label for=\"email\">Email</label>\n\
<input id=\"email\" type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\" required{focus_email}>\n\
<label for=\"password\">Password</label>\n\
<input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required{focus_password}>\n\
<button type=\"submit\">Sign in</button>\n\
</form>",
        action = escape(p.action),
        csrf = hidden_input("csrf_token", p.csrf_token),
        return_to = hidden_input("return_to", p.return_to),
        email = escape(p.email),
        // Focus where the user types next.
        focus_email = if p.email.is_empty() { " autofocus" } else { "" },
        focus_password = if p.email.is_empty() { "" } else { " autofocus" },
    );
    page("Sign in", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tests::assert_no_external_assets;

    fn base() -> LoginPage<'static> {
        LoginPage {
            action: "/api/oauth/login",
            csrf_token: "csrf123",
            return_to: "/api/oauth/authorize?client_id=abc&state=xyz",
            email: "",
            error: None,
            client_name: None,
        }
    }

    #[test]
    fn form_has_the_contract_field_names() {
        let html = render(&base());
        for needle in [
            r#"<form method="post" action="/api/oauth/login">"#,
            r#"type="email" name="email""#,
            r#"autocomplete="username""#,
            r#"type="password" name="password" autocomplete="current-password""#,
            r#"<input type="hidden" name="csrf_token" value="csrf123">"#,
            r#"<input type="hidden" name="return_to" value="/api/oauth/authorize?client_id=abc&amp;state=xyz">"#,
            r#"<button type="submit">"#,
            "<h1>Sign in</h1>",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(!html.contains("class=\"error\""));
        assert_no_external_assets(&html);
    }

    #[test]
    fn client_name_and_error_are_shown_escaped() {
        let html = render(&LoginPage {
            client_name: Some("<script>alert('x')</script>"),
            error: Some("Wrong email or <b>password</b>"),
            email: "a\"onfocus=\"x@example.com",
            ..base()
        });
        let cases = [
            (
                "client name",
                "Sign in to continue to &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;",
            ),
            ("error", "Wrong email or &lt;b&gt;password&lt;/b&gt;"),
            ("email", r#"value="a&quot;onfocus=&quot;x@example.com""#),
        ];
        for (name, needle) in cases {
            assert!(html.contains(needle), "{name} not escaped");
        }
        assert!(!html.contains("<script"));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn autofocus_goes_to_the_empty_field() {
        let fresh = render(&base());
        assert!(fresh.contains("autocomplete=\"username\" required autofocus"));
        let retry = render(&LoginPage {
            email: "ada@example.com",
            ..base()
        });
        assert!(retry.contains("autocomplete=\"current-password\" required autofocus"));
    }
}
