//! Claim checks for RFC 9068 access tokens (§4): `iss`, `aud`, `exp`, `iat`/`nbf` with a small
//! clock skew, and the scopes a route requires. Runs only on a payload whose signature verified.

use crate::error::AuthError;
use serde_json::{Map, Value};

/// The verified token, as the handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user the token acts for.
    pub sub: String,
    /// The application (OAuth client) holding the token.
    pub client_id: String,
    /// Granted scopes, in the token's order.
    pub scopes: Vec<String>,
    /// Unique token id (what revocation lists).
    pub jti: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
    /// The grant the token belongs to (edge-oauth's `gid`), for the revocation markers.
    pub gid: Option<String>,
    /// Issue time in milliseconds (edge-oauth's `iat_ms`): orders the token against a
    /// revocation in the same second.
    pub iat_ms: Option<u64>,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The scopes space-separated, as in the token's `scope` claim.
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

/// What the claims are checked against.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    /// Other `aud` values accepted (see `Config::also_accept_audience`).
    pub also: &'a [String],
    pub leeway: u64,
    pub now: u64,
}

fn invalid(description: impl Into<String>) -> AuthError {
    AuthError::InvalidToken(description.into())
}

fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, AuthError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => Ok(s),
        _ => Err(invalid(format!(
            "The access token has no valid {name} claim"
        ))),
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        // NumericDate (RFC 7519 §2) may carry a fraction; whole seconds are enough here.
        Some(Value::Number(n)) => match n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)) {
            Some(v) if n.as_f64().is_some_and(|f| f >= 0.0) => Ok(Some(v)),
            _ => Err(invalid(format!(
                "The access token's {name} is not a valid time"
            ))),
        },
        Some(_) => Err(invalid(format!(
            "The access token's {name} is not a number"
        ))),
    }
}

/// Checks the claims and returns them typed.
pub fn check(claims: &Map<String, Value>, expect: &Expect) -> Result<AccessClaims, AuthError> {
    if string(claims, "iss")? != expect.issuer {
        return Err(invalid(format!(
            "The access token was not issued by {}",
            expect.issuer
        )));
    }
    // RFC 7519 §4.1.3: a string or an array of strings, one of which must name us.
    let ours = |a: &str| a == expect.audience || expect.also.iter().any(|x| x == a);
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => ours(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(ours),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid(format!(
            "The access token is not meant for this API (aud must include {})",
            expect.audience
        )));
    }
    let exp = number(claims, "exp")?.ok_or_else(|| invalid("The access token has no exp"))?;
    if expect.now >= exp.saturating_add(expect.leeway) {
        return Err(invalid("The access token expired"));
    }
    let iat = number(claims, "iat")?.ok_or_else(|| invalid("The access token has no iat"))?;
    if iat > expect.now.saturating_add(expect.leeway) {
        return Err(invalid("The access token was issued in the future"));
    }
    if let Some(nbf) = number(claims, "nbf")? {
        if nbf > expect.now.saturating_add(expect.leeway) {
            return Err(invalid("The access token is not valid yet"));
        }
    }
    let scopes = match claims.get("scope") {
        None => Vec::new(),
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(_) => return Err(invalid("The access token's scope is not a string")),
    };
    Ok(AccessClaims {
        sub: string(claims, "sub")?.into(),
        client_id: string(claims, "client_id")?.into(),
        jti: string(claims, "jti")?.into(),
        gid: match claims.get("gid") {
            None => None,
            Some(_) => Some(string(claims, "gid")?.into()),
        },
        iat_ms: claims.get("iat_ms").and_then(Value::as_u64),
        scopes,
        exp,
        iat,
    })
}

/// RFC 6750 §3.1: a token without every required scope is `insufficient_scope`, naming them.
pub fn require_scopes(claims: &AccessClaims, required: &[&str]) -> Result<(), AuthError> {
    if required.iter().all(|s| claims.has_scope(s)) {
        Ok(())
    } else {
        Err(AuthError::InsufficientScope(required.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn expect() -> Expect<'static> {
        Expect {
            issuer: "https://id.example",
            audience: "https://id.example",
            also: &[],
            leeway: 30,
            now: NOW,
        }
    }

    fn good() -> Value {
        json!({"iss":"https://id.example","sub":"u1","aud":"https://id.example","client_id":"c1",
               "scope":"profile:read images:read","iat":NOW - 10,"exp":NOW + 3590,"jti":"j1","gid":"g"})
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Map<String, Value> {
        let mut m = good().as_object().unwrap().clone();
        change(&mut m);
        m
    }

    #[test]
    fn valid_claims_are_returned_typed() {
        let c = check(good().as_object().unwrap(), &expect()).unwrap();
        assert_eq!(c.sub, "u1");
        assert_eq!(c.client_id, "c1");
        assert_eq!(c.scopes, ["profile:read", "images:read"]);
        assert_eq!((c.jti.as_str(), c.exp, c.iat), ("j1", NOW + 3590, NOW - 10));
        assert_eq!(c.scope(), "profile:read images:read");
    }

    #[test]
    fn an_also_accepted_audience_passes_and_others_still_fail() {
        // An API reachable as the provider's default audience and as its RFC 8707 resource.
        let also = vec!["https://api.example".to_string()];
        let expect = Expect {
            also: &also,
            ..expect()
        };
        for (aud, ok) in [
            (json!("https://api.example"), true),
            (json!("https://id.example"), true),
            (json!(["https://x", "https://api.example"]), true),
            (json!("https://api.example/mcp"), false),
        ] {
            let m = with(|m| {
                m.insert("aud".into(), aud.clone());
            });
            assert_eq!(check(&m, &expect).is_ok(), ok, "{aud}");
        }
    }

    #[test]
    fn audience_may_be_an_array_naming_us() {
        let m = with(|m| {
            m.insert("aud".into(), json!(["https://other", "https://id.example"]));
        });
        assert!(check(&m, &expect()).is_ok());
    }

    #[test]
    fn within_the_leeway_an_expired_or_early_token_still_passes() {
        let m = with(|m| {
            m.insert("exp".into(), json!(NOW - 29));
            m.insert("iat".into(), json!(NOW + 30));
        });
        assert!(check(&m, &expect()).is_ok());
    }

    #[test]
    fn each_bad_claim_is_invalid_token_with_its_reason() {
        type Change = fn(&mut Map<String, Value>);
        let cases: [(&str, Change, &str); 16] = [
            (
                "wrong issuer",
                |m| {
                    m.insert("iss".into(), json!("https://evil.example"));
                },
                "not issued by",
            ),
            (
                "no issuer",
                |m| {
                    m.remove("iss");
                },
                "iss",
            ),
            (
                "wrong audience",
                |m| {
                    m.insert("aud".into(), json!("https://other"));
                },
                "not meant for this API",
            ),
            (
                "audience list without us",
                |m| {
                    m.insert("aud".into(), json!(["a", "b"]));
                },
                "not meant",
            ),
            (
                "no audience",
                |m| {
                    m.remove("aud");
                },
                "not meant",
            ),
            (
                "expired",
                |m| {
                    m.insert("exp".into(), json!(NOW - 30));
                },
                "expired",
            ),
            (
                "no exp",
                |m| {
                    m.remove("exp");
                },
                "no exp",
            ),
            (
                "exp not a number",
                |m| {
                    m.insert("exp".into(), json!("soon"));
                },
                "not a number",
            ),
            (
                "negative exp",
                |m| {
                    m.insert("exp".into(), json!(-1));
                },
                "not a valid time",
            ),
            (
                "issued in the future",
                |m| {
                    m.insert("iat".into(), json!(NOW + 31));
                },
                "future",
            ),
            (
                "no iat",
                |m| {
                    m.remove("iat");
                },
                "no iat",
            ),
            (
                "not yet valid",
                |m| {
                    m.insert("nbf".into(), json!(NOW + 100));
                },
                "not valid yet",
            ),
            (
                "no sub",
                |m| {
                    m.remove("sub");
                },
                "sub",
            ),
            (
                "no client_id",
                |m| {
                    m.insert("client_id".into(), json!(5));
                },
                "client_id",
            ),
            (
                "no jti",
                |m| {
                    m.remove("jti");
                },
                "jti",
            ),
            (
                "scope not a string",
                |m| {
                    m.insert("scope".into(), json!(["a"]));
                },
                "scope",
            ),
        ];
        for (name, change, reason) in cases {
            let mut m = good().as_object().unwrap().clone();
            change(&mut m);
            match check(&m, &expect()) {
                Err(AuthError::InvalidToken(d)) => assert!(d.contains(reason), "{name}: {d}"),
                other => panic!("{name}: expected invalid_token, got {other:?}"),
            }
        }
    }

    #[test]
    fn missing_scope_is_insufficient_scope_naming_all_required() {
        let c = check(good().as_object().unwrap(), &expect()).unwrap();
        assert_eq!(require_scopes(&c, &["images:read"]), Ok(()));
        assert_eq!(require_scopes(&c, &[]), Ok(()));
        assert_eq!(
            require_scopes(&c, &["images:read", "galleries:write"]),
            Err(AuthError::InsufficientScope(
                "images:read galleries:write".into()
            ))
        );
    }

    #[test]
    fn no_scope_claim_means_no_scopes() {
        let m = with(|m| {
            m.remove("scope");
        });
        let c = check(&m, &expect()).unwrap();
        assert!(c.scopes.is_empty());
        assert!(require_scopes(&c, &["profile:read"]).is_err());
    }
}
