//! Built-in accounts (LOGIN_MODE=builtin): `/api/admin/users[/{sub}]`.
//!
//! The password is accepted on creation only and kept as a PBKDF2 hash (`oauth::password`);
//! no response ever carries it or its hash.

use super::authorize;
use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::endpoints::json::object_body;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::http::{Method, Request, Response};
use crate::model::User;
use crate::oauth::password;
use crate::store::users::{self, MAX_EMAIL_BYTES};
use crate::store::Store;
use crate::token::opaque;
use serde_json::{json, Value};

const MAX_NAME_CHARS: usize = 100;

/// `GET` lists accounts; `POST` creates one (201), 409 if the email is taken.
pub async fn collection<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    if req.method == Method::Get {
        let query = crate::oauth::params::Params::from_query(&req.query)?;
        let (limit, cursor) = super::page_query(&query)?;
        let (found, next) = users::list_page(ctx.store, cursor, limit).await?;
        let list: Vec<Value> = found.iter().map(view).collect();
        return Ok(Response::json(
            200,
            &json!({ "users": list, "next_cursor": next }),
        ));
    }
    let body = object_body(req)?;
    let email = validate_email(&body.str("email")?)?;
    let password = body.str("password")?;
    password::validate_new_password(&password).map_err(OAuthError::invalid_request)?;
    let name = validate_name(body.opt_str("name")?)?;
    let picture = validate_picture(body.opt_str("picture")?)?;
    // Checked before hashing so a duplicate does not cost a KDF run.
    if users::find_by_email(ctx.store, &email).await?.is_some() {
        return Err(OAuthError::new(
            ErrorCode::Conflict,
            format!("A user with email {} already exists", quoted(&email)),
        ));
    }
    let user = User {
        sub: opaque::random_b64(ctx.crypto, 16)?,
        email,
        name,
        picture,
        password_hash: password::hash_password(ctx.crypto, &password).await?,
        created_at: ctx.now,
    };
    users::put(ctx.store, &user).await?;
    Ok(Response::json(201, &view(&user)))
}

/// `GET` or `DELETE` one account.
pub async fn item<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    req: &Request,
    sub: &str,
) -> Result<Response, OAuthError> {
    authorize(ctx.config, req)?;
    let user = users::get(ctx.store, sub)
        .await?
        .ok_or_else(|| OAuthError::not_found(format!("No user with sub {}", quoted(sub))))?;
    match req.method {
        Method::Delete => {
            // A deleted account keeps nothing alive. Its email stops signing in first, so no
            // new session can start; a sign-in already past that check ends its own session
            // when it finds the account gone (`endpoints::login`), or its session is ended
            // here. Then its sessions end and its grants are revoked, and the record goes
            // last: a DELETE that failed halfway is retried and finishes the rest.
            crate::oauth::revocation::user_revoked(ctx, &user.sub).await?;
            users::unlist(ctx.store, &user).await?;
            crate::state::State::end_all_sessions(&ctx.state(), &user.sub, ctx.now).await?;
            crate::state::State::revoke_user(&ctx.state(), &user.sub, None, ctx.now).await?;
            // Their portal applications go too, as final as an admin DELETE (issue 18), and
            // their users' access tokens stop at edge APIs as for any deleted application.
            for app in crate::store::clients::list_for_owner(ctx.store, &user.sub).await? {
                crate::oauth::revocation::client_revoked(ctx, &app.client_id).await?;
            }
            crate::state::clients::delete_owned(ctx.store, &ctx.state(), &user.sub).await?;
            users::delete(ctx.store, &user).await?;
            Ok(Response::new(204))
        }
        _ => Ok(Response::json(200, &view(&user))),
    }
}

/// Trims and lower-cases an email, and checks it looks like one: a single `@` between
/// non-empty parts, no whitespace or control characters, at most [`MAX_EMAIL_BYTES`].
/// Deliverability is not our concern; the address is a login name.
pub fn validate_email(raw: &str) -> Result<String, OAuthError> {
    let email = crate::email::normalize(raw);
    if email.len() > MAX_EMAIL_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "email must be at most {MAX_EMAIL_BYTES} bytes long"
        )));
    }
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if well_formed {
        Ok(email)
    } else {
        Err(OAuthError::invalid_request(
            "email must be an address like name@example.com",
        ))
    }
}

/// Optional display name: trimmed, empty means none, at most [`MAX_NAME_CHARS`] characters.
fn validate_name(name: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(OAuthError::invalid_request(format!(
            "name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request(
            "name must not contain control characters",
        ));
    }
    Ok(Some(name))
}

/// The account as the API shows it. Never includes the password hash.
pub fn view(user: &User) -> Value {
    let mut v = json!({
        "sub": user.sub,
        "email": user.email,
        "created_at": user.created_at,
    });
    if let (Some(name), Some(obj)) = (&user.name, v.as_object_mut()) {
        obj.insert("name".into(), Value::String(name.clone()));
    }
    if let (Some(picture), Some(obj)) = (&user.picture, v.as_object_mut()) {
        obj.insert("picture".into(), Value::String(picture.clone()));
    }
    v
}

/// Optional OpenID Connect `picture`: an absolute https URL (the rules of a client's logo).
fn validate_picture(picture: Option<String>) -> Result<Option<String>, OAuthError> {
    let bad = || OAuthError::invalid_request("picture must be an absolute https URL");
    match crate::oauth::client_metadata::validate_web_url("picture", picture) {
        Ok(Some(url)) if url.starts_with("https://") => Ok(Some(url)),
        Ok(None) => Ok(None),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        let long_local = "a".repeat(MAX_EMAIL_BYTES - "@x.io".len() + 1);
        let cases: Vec<(&str, String, Option<&str>)> = vec![
            ("plain", "ann@example.com".into(), Some("ann@example.com")),
            (
                "mixed case",
                "Ann@Example.COM".into(),
                Some("ann@example.com"),
            ),
            (
                "padded",
                "  ann@example.com\t".into(),
                Some("ann@example.com"),
            ),
            (
                "no dot in domain",
                "root@localhost".into(),
                Some("root@localhost"),
            ),
            ("plus tag", "a+tag@x.io".into(), Some("a+tag@x.io")),
            ("non-ascii", "Zoë@exämple.de".into(), Some("zoë@exämple.de")),
            ("no at", "ann.example.com".into(), None),
            ("two ats", "a@b@example.com".into(), None),
            ("empty local", "@example.com".into(), None),
            ("empty domain", "ann@".into(), None),
            ("inner space", "ann smith@example.com".into(), None),
            ("control char", "ann\u{7}@example.com".into(), None),
            ("empty", "".into(), None),
            ("too long", format!("{long_local}@x.io"), None),
        ];
        for (name, raw, want) in cases {
            let got = validate_email(&raw).ok();
            assert_eq!(got.as_deref(), want, "{name}");
        }
        let ok_long = format!("{}@x.io", "a".repeat(MAX_EMAIL_BYTES - 5));
        assert!(validate_email(&ok_long).is_ok(), "exactly at the limit");
    }

    #[test]
    fn names_are_trimmed_bounded_and_optional() {
        let at_limit = "\u{e9}".repeat(MAX_NAME_CHARS);
        let over_limit = "a".repeat(MAX_NAME_CHARS + 1);
        // (case, given, trimmed name or Err for refused)
        type Case<'a> = (&'a str, Option<&'a str>, Result<Option<&'a str>, ()>);
        let cases: Vec<Case> = vec![
            ("absent", None, Ok(None)),
            ("blank", Some("   "), Ok(None)),
            ("padded", Some(" Ann "), Ok(Some("Ann"))),
            ("100 two-byte chars", Some(&at_limit), Ok(Some(&at_limit))),
            ("101 chars", Some(&over_limit), Err(())),
            ("control char", Some("A\u{0}nn"), Err(())),
        ];
        for (case, name, want) in cases {
            let got = validate_name(name.map(String::from)).map_err(|_| ());
            let want = want.map(|o| o.map(String::from));
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn view_omits_the_password_hash() {
        let user = User {
            sub: "s".into(),
            email: "a@b.c".into(),
            name: Some("A".into()),
            picture: None,
            password_hash: "pbkdf2-sha256$1$c2FsdA$aGFzaA".into(),
            created_at: 7,
        };
        let v = view(&user);
        assert_eq!(
            v,
            json!({"sub": "s", "email": "a@b.c", "name": "A", "created_at": 7})
        );
        assert!(!v.to_string().contains("pbkdf2"));
    }
}
