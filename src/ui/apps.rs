//! The signed-in user's connected apps (`GET /account/apps`), each with a revoke button.

use super::{escape, hidden_input, page};

pub struct ConnectedApp<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub logo_uri: Option<&'a str>,
    /// (scope, description)
    pub scopes: Vec<(&'a str, &'a str)>,
    /// When first authorized, as `YYYY-MM-DD`.
    pub since: String,
}

/// `more`: the cursor of the next page, when there is one.
pub fn render(
    user_label: &str,
    apps: &[ConnectedApp],
    csrf_token: &str,
    more: Option<&str>,
) -> String {
    let mut body = format!(
        "<h1>Connected apps</h1>\n<p class=\"muted\">Signed in as {}</p>\n",
        escape(user_label)
    );
    if apps.is_empty() && more.is_none() {
        body.push_str("<p>You have not authorized any apps.</p>\n");
    }
    for app in apps {
        let logo = app
            .logo_uri
            .filter(|u| u.starts_with("https://"))
            .map(|u| {
                format!(
                    "<img src=\"{}\" alt=\"\" width=\"40\" height=\"40\"> ",
                    escape(u)
                )
            })
            .unwrap_or_default();
        let scopes: String = app
            .scopes
            .iter()
            .map(|(s, d)| {
                format!(
                    "<li>{} <span class=\"muted\">({})</span></li>",
                    escape(d),
                    escape(s)
                )
            })
            .collect();
        body.push_str(&format!(
            "<section class=\"connected\">\n<h2>{logo}{name}</h2>\n<p class=\"muted\">Authorized since {since}</p>\n<ul>{scopes}</ul>\n\
             <form method=\"post\" action=\"/account/apps/revoke\">{csrf}{client}\
             <button type=\"submit\">Revoke access</button></form>\n</section>\n",
            name = escape(app.name),
            since = escape(&app.since),
            csrf = hidden_input("csrf_token", csrf_token),
            client = hidden_input("client_id", app.client_id),
        ));
    }
    if let Some(cursor) = more {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", cursor)
            .finish();
        body.push_str(&format!(
            "<p><a href=\"/account/apps?{}\">More apps</a></p>\n",
            escape(&query)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/api/oauth/logout\">{}<button type=\"submit\" class=\"secondary\">Sign out</button></form>\n",
        hidden_input("csrf_token", csrf_token)
    ));
    page("Connected apps", &body)
}

/// A page with just the sign-out button (`GET /api/oauth/logout`).
pub fn logout_page(user_label: &str, csrf_token: &str) -> String {
    let body = format!(
        "<h1>Sign out</h1>\n<p>Signed in as {}</p>\n<form method=\"post\" action=\"/api/oauth/logout\">{}\
         <button type=\"submit\">Sign out</button></form>\n",
        escape(user_label),
        hidden_input("csrf_token", csrf_token)
    );
    page("Sign out", &body)
}

/// UTC date of a unix time, `YYYY-MM-DD` (civil-from-days, proleptic Gregorian).
pub fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_in_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_795_392_000), "2026-11-23");
    }

    #[test]
    fn apps_page_escapes_and_offers_revoke_per_app() {
        let apps = [ConnectedApp {
            client_id: "c1",
            name: "<b>Evil</b>",
            logo_uri: Some("javascript:alert(1)"),
            scopes: vec![("images:read", "View your images")],
            since: "2026-11-23".into(),
        }];
        let html = render("ada@example.com", &apps, "tok", None);
        assert!(!html.contains("More apps"));
        assert!(html.contains("&lt;b&gt;Evil&lt;/b&gt;"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains(r#"name="client_id" value="c1""#));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
    }

    #[test]
    fn the_next_page_link_carries_the_cursor_encoded() {
        let html = render("ada", &[], "tok", Some("3.0.a b&\"<"));
        assert!(
            html.contains(r#"<a href="/account/apps?cursor=3.0.a+b%26%22%3C">More apps</a>"#),
            "{html}"
        );
        // An empty page that has a next one is not "no apps".
        assert!(!html.contains("You have not authorized any apps"));
    }
}
