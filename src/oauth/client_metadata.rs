//! Client metadata as accepted by the admin API (RFC 7591 §2 field names), and its validation.
//! Errors use RFC 7591 §3.2.2 codes: `invalid_redirect_uri` or `invalid_client_metadata`.

use super::{redirect_uri, scope::ScopeCatalog};
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::model::AuthMethod;

pub const MAX_NAME_LEN: usize = 100;
pub const MAX_DESCRIPTION_LEN: usize = 1000;
pub const MAX_URL_LEN: usize = 2000;
pub const MAX_REDIRECT_URIS: usize = 20;

pub fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// Unicode format characters (general category Cf): invisible, yet they change what a text
/// shows: bidi controls (U+202E turns "gpj.exe" around), zero-width joiners and spaces, the
/// BOM, the soft hyphen, tag characters. A name or description shown on the consent page
/// must read as it is (issue 18).
fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Control (Cc) or format (Cf) characters: nothing a person reads.
fn is_invisible(c: char) -> bool {
    c.is_control() || is_format(c)
}

pub fn validate_name(name: &str) -> Result<String, OAuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(metadata_error("client_name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(metadata_error(format!(
            "client_name must be at most {MAX_NAME_LEN} characters"
        )));
    }
    if name.chars().any(is_invisible) {
        return Err(metadata_error(
            "client_name must not contain control or invisible formatting characters \
             (such as zero-width or right-to-left override characters)",
        ));
    }
    Ok(name.to_string())
}

/// Line breaks and tabs as single spaces, trimmed.
fn one_paragraph(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        let c = if matches!(c, '\r' | '\n' | '\t') {
            ' '
        } else {
            c
        };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

pub fn validate_description(text: Option<String>) -> Result<Option<String>, OAuthError> {
    // One paragraph: line breaks and tabs (a textarea's) become spaces; any other control or
    // invisible formatting character is refused rather than stored and shown.
    let Some(text) = text.map(|t| one_paragraph(&t)).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().any(is_invisible) {
        return Err(metadata_error(
            "description must not contain control or invisible formatting characters",
        ));
    }
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(metadata_error(format!(
            "description must be at most {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    Ok(Some(text))
}

/// `logo_uri` and `client_uri` are shown to users, so only absolute `https` URLs (or `http` on
/// loopback, for development) are accepted: never `javascript:` or `data:`.
pub fn validate_web_url(field: &str, value: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > MAX_URL_LEN {
        return Err(metadata_error(format!(
            "{field} must be at most {MAX_URL_LEN} characters"
        )));
    }
    let parsed = crate::weburl::parse(&value)
        .map_err(|_| metadata_error(format!("{field} must be an absolute https URL")))?;
    let loopback = matches!(
        parsed.host.as_deref(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    );
    let ok = parsed.host.is_some()
        && (parsed.scheme == "https" || (parsed.scheme == "http" && loopback));
    if !ok || value.chars().any(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(metadata_error(format!(
            "{field} must be an absolute https URL"
        )));
    }
    // `https://www.paypal.com@evil.example/` shows a brand and goes elsewhere; a backslash is
    // read as `/` by browsers and so moves the host (issue 18).
    if !parsed.username.is_empty() || parsed.password.is_some() || value.contains('\\') {
        return Err(metadata_error(format!(
            "{field} must not contain user information (user@) or backslashes"
        )));
    }
    Ok(Some(value))
}

pub fn validate_redirect_uris(uris: Vec<String>) -> Result<Vec<String>, OAuthError> {
    if uris.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            "redirect_uris must hold at least one URI",
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            format!("at most {MAX_REDIRECT_URIS} redirect_uris are allowed"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        redirect_uri::validate_for_registration(&uri)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidRedirectUri, e))?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

/// Scopes the client may request: each must be in the catalog; stored in catalog order.
pub fn validate_scope(scope: &str, catalog: &ScopeCatalog) -> Result<Vec<String>, OAuthError> {
    let scopes = super::scope::parse_scope(scope).map_err(metadata_error)?;
    if scopes.is_empty() {
        return Err(metadata_error("scope must name at least one scope"));
    }
    if let Some(unknown) = scopes.iter().find(|s| !catalog.contains(s)) {
        return Err(metadata_error(format!(
            "scope {} is not in the scope catalog",
            quoted(unknown)
        )));
    }
    Ok(catalog.in_catalog_order(&scopes))
}

pub fn validate_auth_method(method: &str) -> Result<AuthMethod, OAuthError> {
    AuthMethod::parse(method).ok_or_else(|| {
        metadata_error(format!(
            "token_endpoint_auth_method {} is not supported (use client_secret_basic, client_secret_post or none)",
            quoted(method)
        ))
    })
}

/// RFC 7591 §2 `grant_types`: whether the client may use `client_credentials` (RFC 6749
/// §4.4). Every client keeps `authorization_code` and `refresh_token` (its redirect URIs are
/// required anyway); `client_credentials` needs a confidential client, since it authenticates
/// with nothing but the client's own credentials.
pub fn validate_grant_types(types: &[String], confidential: bool) -> Result<bool, OAuthError> {
    if let Some(other) = types.iter().find(|t| {
        !matches!(
            t.as_str(),
            "authorization_code" | "refresh_token" | "client_credentials"
        )
    }) {
        return Err(metadata_error(format!(
            "grant_types {} is not supported (use authorization_code, refresh_token, client_credentials)",
            quoted(other)
        )));
    }
    let machine = types.iter().any(|t| t == "client_credentials");
    if machine && !confidential {
        return Err(metadata_error(
            "grant_types client_credentials needs a confidential client (token_endpoint_auth_method client_secret_basic or client_secret_post)",
        ));
    }
    Ok(machine)
}

/// The `grant_types` a client shows (RFC 7591 §3.2.1).
pub fn grant_types(client_credentials: bool) -> &'static [&'static str] {
    if client_credentials {
        &["authorization_code", "refresh_token", "client_credentials"]
    } else {
        &["authorization_code", "refresh_token"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_is_for_confidential_clients_only() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(validate_grant_types(&v(&["client_credentials"]), true).unwrap());
        assert!(!validate_grant_types(&v(&["authorization_code"]), false).unwrap());
        assert!(!validate_grant_types(&[], false).unwrap());
        let public = validate_grant_types(&v(&["client_credentials"]), false).unwrap_err();
        assert_eq!(public.code, ErrorCode::InvalidClientMetadata);
        let unknown = validate_grant_types(&v(&["password"]), true).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::InvalidClientMetadata);
    }

    #[test]
    fn name_rules() {
        assert_eq!(validate_name("  Photo App ").unwrap(), "Photo App");
        assert!(validate_name(" ").is_err());
        assert!(validate_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(validate_name("a\u{0}b").is_err());
    }

    #[test]
    fn names_and_descriptions_refuse_what_a_person_cannot_see() {
        let invisible = [
            ("right-to-left override", "Photo\u{202E}gpj.exe"),
            ("zero-width space", "Pay\u{200B}Pal"),
            ("zero-width joiner", "Pay\u{200D}Pal"),
            ("left-to-right isolate", "Pay\u{2066}Pal"),
            ("byte order mark", "\u{FEFF}PayPal"),
            ("soft hyphen", "Pay\u{AD}Pal"),
            ("tag character", "PayPal\u{E0041}"),
            ("escape", "Pay\u{1B}[31mPal"),
            ("C1 control", "Pay\u{85}Pal"),
        ];
        for (what, text) in invisible {
            assert!(validate_name(text).is_err(), "name with {what}");
            assert!(
                validate_description(Some(text.into())).is_err(),
                "description with {what}"
            );
        }
        assert_eq!(
            validate_name("Café Ünïcode 写真").unwrap(),
            "Café Ünïcode 写真"
        );
        // A description is one paragraph: line breaks and tabs become spaces.
        assert_eq!(
            validate_description(Some("Prints\r\nalbums\n\tfast".into())).unwrap(),
            Some("Prints albums fast".into())
        );
        assert!(validate_description(Some("a\u{0}b".into())).is_err(), "NUL");
    }

    #[test]
    fn web_urls_refuse_userinfo_and_backslashes() {
        for url in [
            "https://www.paypal.com@evil.example/",
            "https://user:pass@evil.example/",
            "https://evil.example\\.paypal.com/",
            "https://paypal.com\\@evil.example/",
        ] {
            let e = validate_web_url("client_uri", Some(url.into())).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClientMetadata, "{url}");
        }
        assert!(
            validate_web_url("client_uri", Some("https://printer.example/about".into())).is_ok()
        );
    }

    #[test]
    fn web_urls_must_be_https_and_absolute() {
        let cases: &[(&str, bool)] = &[
            ("https://example.com/logo.png", true),
            ("http://localhost:3000/logo.png", true),
            ("http://example.com/logo.png", false),
            ("javascript:alert(1)", false),
            ("data:image/png;base64,AAAA", false),
            ("logo.png", false),
        ];
        for (url, ok) in cases {
            let got = validate_web_url("logo_uri", Some(url.to_string()));
            assert_eq!(got.is_ok(), *ok, "{url}");
        }
        assert_eq!(
            validate_web_url("logo_uri", Some(String::new())).unwrap(),
            None
        );
    }

    #[test]
    fn redirect_uri_errors_use_invalid_redirect_uri() {
        let err = validate_redirect_uris(vec!["http://evil.example/cb".into()]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRedirectUri);
        let err = validate_redirect_uris(vec![]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRedirectUri);
        let many = (0..=MAX_REDIRECT_URIS)
            .map(|i| format!("https://a.example/{i}"))
            .collect();
        assert!(validate_redirect_uris(many).is_err());
    }

    #[test]
    fn scope_must_come_from_catalog() {
        let catalog = ScopeCatalog::default();
        assert_eq!(
            validate_scope("images:read profile:read", &catalog).unwrap(),
            vec!["profile:read", "images:read"]
        );
        let err = validate_scope("admin", &catalog).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClientMetadata);
        assert!(err.description.contains("'admin'"));
        assert!(validate_scope("  ", &catalog).is_err());
    }

    #[test]
    fn auth_method_is_one_of_three() {
        assert_eq!(validate_auth_method("none").unwrap(), AuthMethod::None);
        assert!(validate_auth_method("private_key_jwt").is_err());
    }
}
