//! Developer portal pages: the list with the "New application" form, the application page
//! (edit, rotate, delete, "Try it") and the once-only credentials page. Field names follow
//! RFC 7591 and SPEC.md; credentials carry `data-credential` markers that outside tests read.

use super::{escape, hidden_input, page};
use crate::model::Client;
use crate::oauth::client_registry::Draft;
use crate::oauth::scope::ScopeCatalog;

/// What the form shows: entered values (or the app's), and the failed field's message.
pub struct Form<'a> {
    pub draft: Draft,
    pub public: bool,
    pub error: Option<(&'a str, String)>,
}

impl Form<'_> {
    pub fn of(client: &Client) -> Form<'static> {
        Form {
            draft: Draft {
                client_name: Some(client.client_name.clone()),
                description: client.description.clone(),
                logo_uri: client.logo_uri.clone(),
                client_uri: client.client_uri.clone(),
                redirect_uris: Some(client.redirect_uris.clone()),
                scope: Some(client.scopes.join(" ")),
                token_endpoint_auth_method: None,
                grant_types: Some(
                    crate::oauth::client_metadata::grant_types(client.client_credentials)
                        .iter()
                        .map(|t| t.to_string())
                        .collect(),
                ),
                post_logout_redirect_uris: Some(client.post_logout_redirect_uris.clone()),
                id_token_signed_response_alg: None,
            },
            public: !client.is_confidential(),
            error: None,
        }
    }
}

fn text(form: &Form, name: &str, label: &str, kind: &str, value: &Option<String>) -> String {
    let v = escape(value.as_deref().unwrap_or(""));
    format!(
        "<label for=\"{name}\">{label}</label><input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{v}\">{}",
        message(form, name)
    )
}

fn message(form: &Form, field: &str) -> String {
    match &form.error {
        Some((f, m)) if *f == field => {
            format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m))
        }
        _ => String::new(),
    }
}

/// The application fields; `with_type` adds the public/confidential choice (creation only).
fn fields(form: &Form, catalog: &ScopeCatalog, with_type: bool) -> String {
    let d = &form.draft;
    let uris = d.redirect_uris.as_deref().unwrap_or(&[]).join("\n");
    let chosen: Vec<&str> = d.scope.as_deref().unwrap_or("").split(' ').collect();
    let scopes: String = catalog
        .names()
        .map(|s| {
            let checked = if chosen.contains(&s) { " checked" } else { "" };
            format!(
                "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{v}\"{checked}><span>{}<br><code>{v}</code></span></label></li>",
                escape(catalog.description(s).unwrap_or(s)),
                v = escape(s)
            )
        })
        .collect();
    let mut out = text(form, "client_name", "Name", "text", &d.client_name);
    out += &text(form, "description", "Description", "text", &d.description);
    out += &text(form, "logo_uri", "Logo URL (https)", "url", &d.logo_uri);
    out += &text(form, "client_uri", "Website", "url", &d.client_uri);
    out += &format!(
        "<label for=\"redirect_uris\">Redirect URIs (one per line)</label><textarea id=\"redirect_uris\" name=\"redirect_uris\" rows=\"3\">{}</textarea>{}",
        escape(&uris),
        message(form, "redirect_uris")
    );
    // OpenID Connect RP-Initiated Logout: where the app may send users after signing out.
    let logout_uris = d
        .post_logout_redirect_uris
        .as_deref()
        .unwrap_or(&[])
        .join("\n");
    out += &format!(
        "<label for=\"post_logout_redirect_uris\">After sign-out URIs (OpenID Connect, one per line, optional)</label><textarea id=\"post_logout_redirect_uris\" name=\"post_logout_redirect_uris\" rows=\"2\">{}</textarea>{}",
        escape(&logout_uris),
        message(form, "post_logout_redirect_uris")
    );
    out += &format!(
        "<label>Scopes</label><ul class=\"scopes\">{scopes}</ul>{}",
        message(form, "scope")
    );
    let machine = d
        .grant_types
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|t| t == "client_credentials");
    out += &format!(
        "<label>Machine access</label><ul class=\"scopes\"><li><label><input type=\"checkbox\" name=\"grant_types\" value=\"client_credentials\"{}><span>Server-to-server tokens with the client's own credentials (<code>client_credentials</code>; confidential applications only)</span></label></li></ul>{}",
        if machine { " checked" } else { "" },
        message(form, "grant_types")
    );
    if with_type {
        let (c, p) = if form.public {
            ("", " checked")
        } else {
            (" checked", "")
        };
        out += &format!(
            "<label>Type</label><ul class=\"scopes\"><li><label><input type=\"radio\" name=\"client_type\" value=\"confidential\"{c}><span>Confidential (server-side app with a secret)</span></label></li>\
<li><label><input type=\"radio\" name=\"client_type\" value=\"public\"{p}><span>Public (single-page or mobile app, PKCE only)</span></label></li></ul>"
        );
    }
    out
}

/// `GET /developers`: the user's applications and the "New application" form.
pub fn list(
    user: &str,
    apps: &[Client],
    form: &Form,
    csrf: &str,
    submission: &str,
    catalog: &ScopeCatalog,
) -> String {
    let mut body = format!(
        "<h1>Your applications</h1><p class=\"muted\">Signed in as {}. <a href=\"/docs\">Documentation</a></p>",
        escape(user)
    );
    if apps.is_empty() {
        body += "<p>No applications yet.</p>";
    }
    for app in apps {
        body += &format!(
            "<p class=\"connected\"><a href=\"/developers/apps/{id}\">{}</a><br><code>{id}</code></p>",
            escape(&app.client_name),
            id = escape(&app.client_id)
        );
    }
    body += &format!(
        "<h2>New application</h2>{}<form method=\"post\" action=\"/developers/apps\">{}{}{}<button type=\"submit\">Create application</button></form>",
        message(form, "form"),
        hidden_input("csrf_token", csrf),
        // One-time: a reload re-sends the same id and creates nothing more.
        hidden_input("submission", submission),
        fields(form, catalog, true)
    );
    page("Developer portal", &body)
}

/// Shows the credential pages' copy buttons (hidden without JavaScript, where the read-only
/// fields are selected and copied by hand) and copies a field on click. Its hash is the only
/// script the page's CSP allows ([`COPY_SCRIPT_HASH`]; a unit test keeps the two in step).
pub const COPY_SCRIPT: &str = "document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){var f=document.getElementById(b.getAttribute('data-copy'));f.select();navigator.clipboard.writeText(f.value).then(function(){b.textContent='Copied';});});});";

/// CSP source for [`COPY_SCRIPT`]: `'sha256-' base64(SHA-256(script))` (CSP 3 §2.3.1).
pub const COPY_SCRIPT_HASH: &str = "'sha256-ZMGwz0/O65HVm6RWXyu2axCtxj7SnckM5cGmmD6WNTc='";

fn copy_button(field: &str) -> String {
    format!("<button type=\"button\" data-copy=\"{field}\" hidden>Copy</button>")
}

/// The credentials, shown once after creation or rotation.
pub fn credentials(client: &Client, secret: Option<&str>) -> String {
    let id = escape(&client.client_id);
    let mut body = format!(
        "<h1>{}</h1><label for=\"cid\">Client ID</label><input type=\"text\" id=\"cid\" readonly data-credential=\"client_id\" value=\"{id}\">{}",
        escape(&client.client_name),
        copy_button("cid")
    );
    if let Some(secret) = secret {
        body += &format!(
            "<label for=\"cs\">Client secret</label><input type=\"text\" id=\"cs\" readonly data-credential=\"client_secret\" value=\"{}\">{}\
<p class=\"error\" role=\"alert\">Copy the secret now: it is shown only once. You won't be able to see it again after leaving this page (rotate it to get a new one).</p>",
            escape(secret),
            copy_button("cs")
        );
    } else {
        body += "<p class=\"muted\">A public client has no secret: it uses PKCE only.</p>";
    }
    body += &format!("<p><a href=\"/developers/apps/{id}\">Continue to the application</a></p>");
    body += &format!("<script>{COPY_SCRIPT}</script>");
    page("Application credentials", &body)
}

/// `GET /developers/apps/{id}`: everything but the secret, and the forms that change it.
pub fn app(
    client: &Client,
    form: &Form,
    csrf: &str,
    submission: &str,
    catalog: &ScopeCatalog,
    try_redirect: &str,
) -> String {
    let id = escape(&client.client_id);
    let csrf = hidden_input("csrf_token", csrf);
    let kind = if client.is_confidential() {
        "Confidential (client secret)"
    } else {
        "Public (PKCE only)"
    };
    let mut body = format!(
        "<p><a href=\"/developers\">&larr; Your applications</a></p><h1>{}</h1>\
<p>Client ID <code data-credential=\"client_id\">{id}</code><br><span class=\"muted\">{kind}</span></p>",
        escape(&client.client_name)
    );
    body += &format!(
        "<h2>Settings</h2><form method=\"post\" action=\"/developers/apps/{id}\">{csrf}{}{}<button type=\"submit\">Save</button></form>",
        // The URIs this page showed: saving removes only those the form dropped, so one added
        // meanwhile (Try it, another tab) is kept.
        hidden_input("shown_redirect_uris", &client.redirect_uris.join("\n")),
        fields(form, catalog, false)
    );
    let registered = client.redirect_uris.iter().any(|u| u == try_redirect);
    let add = if registered {
        String::new()
    } else {
        format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"add_callback\" value=\"1\"> Add <code>{}</code> to the redirect URIs</label>",
            escape(try_redirect)
        )
    };
    body += &format!(
        "<h2>Try it</h2><p class=\"muted\">Run the authorization flow with your own account and see the token response.</p>\
<form method=\"post\" action=\"/developers/apps/{id}/try\">{csrf}{add}<button type=\"submit\">Try it</button></form>"
    );
    if client.is_confidential() {
        body += &format!(
            "<h2>Client secret</h2><p class=\"muted\">A new secret is shown once; the current one stops working at once.</p>\
<form method=\"post\" action=\"/developers/apps/{id}/secret\">{csrf}{}<button type=\"submit\" class=\"secondary\">Rotate secret</button></form>",
            // One-time: a reload does not rotate again (and kill the secret just shown).
            hidden_input("submission", submission)
        );
    }
    body += &format!(
        "<h2>Delete</h2><p class=\"muted\">Deleting revokes every token issued to this application.</p>\
<form method=\"post\" action=\"/developers/apps/{id}/delete\">{csrf}<button type=\"submit\" class=\"danger\">Delete application</button></form>"
    );
    page(&client.client_name, &body)
}

/// A one-time form sent again (a reload): what it did is not done twice, and a secret it
/// showed is never shown again.
pub fn already_done(back: &str) -> String {
    let body = format!(
        "<h1>Already done</h1><p>This form was already submitted; it was not acted on again. \
A secret it created was shown once and is not shown again.</p><p><a href=\"{}\">Continue</a></p>",
        escape(back)
    );
    page("Already done", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthMethod;
    use crate::ui::tests::assert_no_external_assets;

    fn client() -> Client {
        Client {
            client_id: "c1".into(),
            client_name: "<script>x</script>".into(),
            description: Some("\"quoted\"".into()),
            logo_uri: None,
            client_uri: None,
            redirect_uris: vec!["http://127.0.0.1:9/cb?a=1&b=2".into()],
            scopes: vec!["images:read".into()],
            token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
            secret_hash: None,
            owner_sub: Some("u1".into()),
            created_at: 0,
            updated_at: 0,
            verified: None,
            client_credentials: false,
            post_logout_redirect_uris: vec![],
            id_token_signed_response_alg: None,
        }
    }

    #[test]
    fn the_edit_form_shows_post_logout_uris_one_per_line() {
        let mut c = client();
        c.post_logout_redirect_uris = vec![
            "https://a.example/bye?x=1&y=2".into(),
            "https://a.example/2".into(),
        ];
        let html = app(
            &c,
            &Form::of(&c),
            "tok",
            "sub1",
            &ScopeCatalog::default(),
            "http://x/cb",
        );
        assert!(html.contains(
            "name=\"post_logout_redirect_uris\" rows=\"2\">https://a.example/bye?x=1&amp;y=2\nhttps://a.example/2</textarea>"
        ), "{html}");
    }

    #[test]
    fn app_page_escapes_and_carries_csrf_on_every_form() {
        let c = client();
        let html = app(
            &c,
            &Form::of(&c),
            "tok",
            "sub1",
            &ScopeCatalog::default(),
            "http://x/cb",
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("value=\"&quot;quoted&quot;\""));
        assert!(html.contains("http://127.0.0.1:9/cb?a=1&amp;b=2</textarea>"));
        assert!(html.contains("name=\"scope\" value=\"images:read\" checked"));
        assert_eq!(html.matches("<form").count(), 4);
        assert_eq!(html.matches("name=\"csrf_token\" value=\"tok\"").count(), 4);
        assert!(
            !html.contains("client_type"),
            "type is chosen at creation only"
        );
        assert_no_external_assets(
            &html
                .replace("http://127.0.0.1:9/cb", "")
                .replace("http://x/cb", ""),
        );
    }

    #[test]
    fn errors_show_next_to_their_field_with_the_entered_values() {
        let form = Form {
            draft: Draft {
                client_name: Some("Mine".into()),
                ..Draft::default()
            },
            public: true,
            error: Some(("redirect_uris", "redirect_uris must <hold>".into())),
        };
        let html = list("ada", &[], &form, "tok", "sub1", &ScopeCatalog::default());
        assert!(html.contains("name=\"client_name\" value=\"Mine\""));
        assert!(html.contains(
            "</textarea><p class=\"error\" role=\"alert\">redirect_uris must &lt;hold&gt;</p>"
        ));
        assert!(html.contains("value=\"public\" checked"));
    }

    #[test]
    fn credentials_page_marks_id_and_secret() {
        let html = credentials(&client(), Some("s3cr\"t"));
        assert!(html.contains("data-credential=\"client_id\" value=\"c1\""));
        assert!(html.contains("data-credential=\"client_secret\" value=\"s3cr&quot;t\""));
        let html = credentials(&client(), None);
        assert!(!html.contains("client_secret"));
    }

    #[test]
    fn the_copy_script_hash_in_the_csp_matches_the_script() {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(COPY_SCRIPT.as_bytes());
        let b64 = crate::b64::STANDARD.encode(digest);
        assert_eq!(COPY_SCRIPT_HASH, format!("'sha256-{b64}'"));
        assert!(
            credentials(&client(), Some("s")).contains(&format!("<script>{COPY_SCRIPT}</script>"))
        );
    }
}
