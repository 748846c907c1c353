//! Configuration from `[vars]` and secrets, validated once. A bad or missing value gives one
//! error naming the variable; nothing here panics.

use crate::oauth::scope::ScopeCatalog;
use crate::token::keys::SigningKeys;
use std::fmt;

#[derive(Debug, Clone)]
pub enum LoginMode {
    /// Built-in accounts: email + password, managed through the admin API.
    Builtin,
    /// The platform signs users in and posts a signed assertion back.
    Delegated { login_url: String },
}

/// Where state transitions are decided (`STATE_BACKEND`; see `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateBackend {
    /// Per-user Durable Objects with SQLite (default): exactly once at any concurrency.
    Durable,
    /// Workers KV only: the original design, with the windows of docs/consistency.md.
    Kv,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Exactly as configured, no trailing slash: `iss` everywhere (RFC 8414 §2, RFC 9207).
    pub issuer: String,
    /// `aud` of access tokens (RFC 9068 §3): the APIs that accept them. Defaults to the issuer.
    pub access_token_audience: String,
    pub access_token_ttl: u64,
    pub refresh_token_ttl: u64,
    pub auth_code_ttl: u64,
    pub session_ttl: u64,
    pub scopes: ScopeCatalog,
    pub login: LoginMode,
    /// HMAC secret for delegated-login assertions (HS256), when set.
    pub login_assertion_secret: Option<String>,
    pub signing_keys: SigningKeys,
    pub admin_token: String,
    /// Client ids (resource servers) allowed to introspect tokens issued to other clients.
    pub resource_servers: Vec<String>,
    /// `Secure` cookies with the `__Host-` prefix; off only for an http loopback issuer.
    pub secure_cookies: bool,
    pub state_backend: StateBackend,
    /// `REFRESH_REUSE_GRACE`: seconds in which a rotated refresh token presented again gets
    /// the same successor instead of revoking the grant (0 = strict; RFC 9700 §4.14.2).
    pub refresh_reuse_grace: u64,
    /// Name, logo and colour on every page (`BRAND_*`).
    pub brand: Brand,
    /// `DEVELOPER_PORTAL`: self-service applications under `/developers` (default on).
    pub developer_portal: bool,
    /// `RESOURCES`: the RFC 8707 resource indicators clients may name (exact strings).
    pub resources: Vec<String>,
    /// `DYNAMIC_REGISTRATION=open`: RFC 7591 registration of public clients by anyone.
    pub dynamic_registration: bool,
    /// `CLIENT_METADATA_DOCUMENTS`: URL client_ids (`oauth::client_document`).
    pub client_metadata_documents: crate::oauth::client_document::Mode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub name: String,
    /// An https URL (pages allow images from https only, see the CSP).
    pub logo_uri: Option<String>,
    /// `#rrggbb`, lower-cased.
    pub color: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {}: {}",
            self.variable, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

impl Config {
    /// Builds the config from a variable lookup (Worker env natively a `HashMap` in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let issuer = get("ISSUER").ok_or_else(|| err("ISSUER", "is required"))?;
        let secure_cookies = validate_issuer(&issuer)?;
        let access_token_audience = get("ACCESS_TOKEN_AUDIENCE").unwrap_or_else(|| issuer.clone());

        let duration = |name: &'static str, default: u64, min: u64, max: u64| match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(err(
                    name,
                    format!("must be a whole number of seconds from {min} to {max}"),
                )),
            },
        };
        // KV refuses TTLs under 60 s, so nothing stored may live shorter.
        let access_token_ttl = duration("ACCESS_TOKEN_TTL", 3600, 60, 86_400)?;
        let refresh_token_ttl = duration("REFRESH_TOKEN_TTL", 30 * 86_400, 60, 365 * 86_400)?;
        let auth_code_ttl = duration("AUTH_CODE_TTL", 60, 60, 600)?;
        let session_ttl = duration("SESSION_TTL", 86_400, 300, 30 * 86_400)?;

        let scopes = match get("SCOPES") {
            None => ScopeCatalog::default(),
            Some(text) => ScopeCatalog::parse(&text).map_err(|e| err("SCOPES", e))?,
        };

        let login_assertion_secret = get("LOGIN_ASSERTION_SECRET");
        if login_assertion_secret
            .as_ref()
            .is_some_and(|s| s.len() < 32)
        {
            return Err(err(
                "LOGIN_ASSERTION_SECRET",
                "must be at least 32 characters",
            ));
        }
        let login = match get("LOGIN_MODE").as_deref() {
            None | Some("builtin") => LoginMode::Builtin,
            Some("delegated") => {
                let login_url = get("LOGIN_URL")
                    .ok_or_else(|| err("LOGIN_URL", "is required when LOGIN_MODE is delegated"))?;
                if crate::weburl::parse(&login_url).is_err() {
                    return Err(err("LOGIN_URL", "must be an absolute URL"));
                }
                if login_assertion_secret.is_none() {
                    return Err(err(
                        "LOGIN_ASSERTION_SECRET",
                        "is required when LOGIN_MODE is delegated",
                    ));
                }
                LoginMode::Delegated { login_url }
            }
            Some(_) => return Err(err("LOGIN_MODE", "must be \"builtin\" or \"delegated\"")),
        };

        let signing_keys = SigningKeys::parse(
            &get("SIGNING_KEYS").ok_or_else(|| err("SIGNING_KEYS", "is required (a secret)"))?,
        )
        .map_err(|e| err("SIGNING_KEYS", e))?;

        let admin_token =
            get("ADMIN_TOKEN").ok_or_else(|| err("ADMIN_TOKEN", "is required (a secret)"))?;
        if admin_token.len() < MIN_ADMIN_TOKEN_LEN {
            return Err(err(
                "ADMIN_TOKEN",
                format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"),
            ));
        }

        let state_backend = match get("STATE_BACKEND").as_deref() {
            None | Some("durable") => StateBackend::Durable,
            Some("kv") => StateBackend::Kv,
            Some(_) => return Err(err("STATE_BACKEND", "must be \"durable\" or \"kv\"")),
        };
        let refresh_reuse_grace = duration("REFRESH_REUSE_GRACE", 0, 0, 300)?;

        let resource_servers = get("RESOURCE_SERVERS")
            .map(|v| {
                v.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();

        let brand = Brand {
            name: get("BRAND_NAME").unwrap_or_else(|| "edge-oauth".into()),
            logo_uri: get("BRAND_LOGO_URI").map(validate_logo).transpose()?,
            color: get("BRAND_COLOR").map(validate_color).transpose()?,
        };
        if brand.name.chars().count() > 60 || brand.name.chars().any(char::is_control) {
            return Err(err(
                "BRAND_NAME",
                "must be at most 60 characters, no control characters",
            ));
        }
        let developer_portal = match get("DEVELOPER_PORTAL").as_deref() {
            None | Some("open") => true,
            Some("off") => false,
            Some(_) => return Err(err("DEVELOPER_PORTAL", "must be \"open\" or \"off\"")),
        };

        let resources = match get("RESOURCES") {
            None => Vec::new(),
            Some(text) => parse_resources(&text)?,
        };

        let dynamic_registration = match get("DYNAMIC_REGISTRATION").as_deref() {
            None | Some("off") => false,
            Some("open") => true,
            Some(_) => return Err(err("DYNAMIC_REGISTRATION", "must be \"open\" or \"off\"")),
        };

        use crate::oauth::client_document::Mode;
        let client_metadata_documents = match get("CLIENT_METADATA_DOCUMENTS").as_deref() {
            None | Some("on") => Mode::On,
            Some("off") => Mode::Off,
            Some("loopback") => Mode::Loopback,
            Some(_) => {
                return Err(err(
                    "CLIENT_METADATA_DOCUMENTS",
                    "must be \"on\", \"off\" or \"loopback\"",
                ))
            }
        };

        Ok(Config {
            client_metadata_documents,
            dynamic_registration,
            resources,
            brand,
            developer_portal,
            resource_servers,
            issuer,
            access_token_audience,
            access_token_ttl,
            refresh_token_ttl,
            auth_code_ttl,
            session_ttl,
            scopes,
            login,
            login_assertion_secret,
            signing_keys,
            admin_token,
            secure_cookies,
            state_backend,
            refresh_reuse_grace,
        })
    }

    /// An absolute URL under the issuer (`/api/oauth/token` → `https://issuer/api/oauth/token`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// `RESOURCES`: a JSON array of absolute URIs without fragment (RFC 8707 §2).
fn parse_resources(text: &str) -> Result<Vec<String>, ConfigError> {
    let bad = || {
        err(
            "RESOURCES",
            "must be a JSON array of absolute URIs without fragment",
        )
    };
    let list: Vec<String> = crate::json_codec::decode(text).map_err(|_| bad())?;
    if list
        .iter()
        .any(|r| !crate::oauth::resource::is_resource_uri(r))
    {
        return Err(bad());
    }
    Ok(list)
}

fn validate_logo(uri: String) -> Result<String, ConfigError> {
    let ok = crate::weburl::parse(&uri).is_ok_and(|u| u.scheme == "https" && u.host.is_some());
    if ok && !uri.chars().any(|c| c.is_whitespace() || c == '"') {
        Ok(uri)
    } else {
        Err(err("BRAND_LOGO_URI", "must be an absolute https URL"))
    }
}

fn validate_color(color: String) -> Result<String, ConfigError> {
    let hex = color.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(color.to_ascii_lowercase())
    } else {
        Err(err("BRAND_COLOR", "must be a colour like #1a2b3c"))
    }
}

/// RFC 8414 §2: an https URL with no query or fragment. Plain http is accepted only on a
/// loopback host, for development; returns whether cookies must be `Secure`.
fn validate_issuer(issuer: &str) -> Result<bool, ConfigError> {
    let parsed = crate::weburl::parse(issuer).map_err(|_| {
        err(
            "ISSUER",
            "must be an absolute URL such as https://auth.example.com",
        )
    })?;
    if issuer.ends_with('/') {
        return Err(err("ISSUER", "must not end with a slash"));
    }
    if parsed.has_query || parsed.has_fragment {
        return Err(err("ISSUER", "must not have a query or fragment"));
    }
    let loopback = matches!(
        parsed.host.as_deref(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    );
    match parsed.scheme.as_str() {
        "https" => Ok(true),
        "http" if loopback => Ok(false),
        _ => Err(err(
            "ISSUER",
            "must use https (http only on localhost or 127.0.0.1)",
        )),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::collections::HashMap;

    pub const TEST_SIGNING_KEYS: &str = r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"test-1",
        "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
        "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM",
        "d":"ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM"}]"#;

    pub fn vars(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut v: HashMap<String, String> = [
            ("ISSUER", "http://127.0.0.1:8787"),
            ("SIGNING_KEYS", TEST_SIGNING_KEYS),
            ("ADMIN_TOKEN", "admin-token-for-tests-0123456789abcdef"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, val) in extra {
            v.insert(k.to_string(), val.to_string());
        }
        v
    }

    fn load(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let v = vars(extra);
        Config::from_lookup(|k| v.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_only_required_values_are_set() {
        let c = load(&[]).unwrap();
        assert_eq!(c.access_token_ttl, 3600);
        assert_eq!(c.refresh_token_ttl, 30 * 86_400);
        assert_eq!(c.auth_code_ttl, 60);
        assert!(
            !c.secure_cookies,
            "http loopback issuer uses non-Secure cookies"
        );
        assert!(matches!(c.login, LoginMode::Builtin));
        assert_eq!(c.url("/x"), "http://127.0.0.1:8787/x");
    }

    #[test]
    fn https_issuer_turns_on_secure_cookies() {
        assert!(
            load(&[("ISSUER", "https://auth.example.com")])
                .unwrap()
                .secure_cookies
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("ISSUER", "", "ISSUER"),
            ("ISSUER", "auth.example.com", "ISSUER"),
            ("ISSUER", "https://auth.example.com/", "ISSUER"),
            ("ISSUER", "http://auth.example.com", "ISSUER"),
            ("ISSUER", "https://auth.example.com?x=1", "ISSUER"),
            ("ACCESS_TOKEN_TTL", "59", "ACCESS_TOKEN_TTL"),
            ("ACCESS_TOKEN_TTL", "1h", "ACCESS_TOKEN_TTL"),
            (
                "ACCESS_TOKEN_TTL",
                "99999999999999999999999",
                "ACCESS_TOKEN_TTL",
            ),
            ("AUTH_CODE_TTL", "30", "AUTH_CODE_TTL"),
            ("AUTH_CODE_TTL", "601", "AUTH_CODE_TTL"),
            ("REFRESH_TOKEN_TTL", "-1", "REFRESH_TOKEN_TTL"),
            ("SCOPES", "[]", "SCOPES"),
            ("LOGIN_MODE", "oidc", "LOGIN_MODE"),
            ("LOGIN_MODE", "delegated", "LOGIN_URL"),
            ("SIGNING_KEYS", "", "SIGNING_KEYS"),
            ("SIGNING_KEYS", "[{}]", "SIGNING_KEYS"),
            ("ADMIN_TOKEN", "short", "ADMIN_TOKEN"),
            ("ADMIN_TOKEN", "", "ADMIN_TOKEN"),
            ("LOGIN_ASSERTION_SECRET", "short", "LOGIN_ASSERTION_SECRET"),
            (
                "BRAND_LOGO_URI",
                "http://cdn.example/logo.png",
                "BRAND_LOGO_URI",
            ),
            ("BRAND_LOGO_URI", "javascript:alert(1)", "BRAND_LOGO_URI"),
            ("BRAND_COLOR", "red", "BRAND_COLOR"),
            ("BRAND_COLOR", "#12345", "BRAND_COLOR"),
            ("BRAND_COLOR", "#12345g", "BRAND_COLOR"),
            ("BRAND_NAME", "a\u{7}b", "BRAND_NAME"),
            ("DEVELOPER_PORTAL", "closed", "DEVELOPER_PORTAL"),
            ("RESOURCES", "https://api.example", "RESOURCES"),
            ("RESOURCES", "[\"/relative\"]", "RESOURCES"),
            ("RESOURCES", "[\"https://api.example/#x\"]", "RESOURCES"),
            ("RESOURCES", "[1]", "RESOURCES"),
            ("DYNAMIC_REGISTRATION", "on", "DYNAMIC_REGISTRATION"),
            (
                "CLIENT_METADATA_DOCUMENTS",
                "yes",
                "CLIENT_METADATA_DOCUMENTS",
            ),
        ];
        for (var, value, named) in cases {
            let e = load(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable, *named, "{var}={value:?}: {e}");
            assert!(e.to_string().starts_with("invalid configuration: "));
        }
    }

    #[test]
    fn brand_defaults_and_valid_values() {
        let c = load(&[]).unwrap();
        assert_eq!(c.brand.name, "edge-oauth");
        assert_eq!((c.brand.logo_uri, c.brand.color), (None, None));
        assert!(c.developer_portal);
        let c = load(&[
            ("BRAND_NAME", "Pixel Gallery"),
            ("BRAND_LOGO_URI", "https://cdn.example/logo.png"),
            ("BRAND_COLOR", "#AA3300"),
            ("DEVELOPER_PORTAL", "off"),
        ])
        .unwrap();
        assert_eq!(c.brand.name, "Pixel Gallery");
        assert_eq!(c.brand.color.as_deref(), Some("#aa3300"));
        assert!(!c.developer_portal);
    }

    #[test]
    fn delegated_mode_needs_url_and_secret() {
        let e = load(&[
            ("LOGIN_MODE", "delegated"),
            ("LOGIN_URL", "https://p.example/login"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "LOGIN_ASSERTION_SECRET");
        let c = load(&[
            ("LOGIN_MODE", "delegated"),
            ("LOGIN_URL", "https://p.example/login"),
            ("LOGIN_ASSERTION_SECRET", &"s".repeat(32)),
        ])
        .unwrap();
        assert!(matches!(c.login, LoginMode::Delegated { .. }));
    }
}
