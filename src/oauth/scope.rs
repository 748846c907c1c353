//! Scopes (RFC 6749 §3.3): the configurable catalog and parsing of `scope` strings.

use crate::json_codec::{self, FromJson};

/// The default catalog: the photo-gallery platform of the product spec, its descriptions
/// verbatim (SPEC "Scopes"). Every page shows these texts from here (or from `SCOPES`), with
/// the first letter capitalised ([`ScopeCatalog::display_description`]).
const DEFAULT_CATALOG: &[(&str, &str)] = &[
    ("profile:read", "read basic profile (name, email, avatar)"),
    ("galleries:read", "view galleries and their settings"),
    ("galleries:write", "create, update and delete galleries"),
    ("images:read", "view images"),
    ("images:write", "upload, update and delete images"),
    ("stats:read", "view analytics and statistics"),
    ("webhooks:read", "view webhook configurations"),
    ("webhooks:write", "create, update and delete webhooks"),
    // OpenID Connect Core §5.4 and §11 (SPEC "OpenID Connect"): signing in with the account.
    ("openid", "know who you are (your account id)"),
    ("profile", "see your name and picture"),
    ("email", "see your email address"),
    ("offline_access", "stay connected when you are not using it"),
];

/// The OpenID Connect scopes of the default catalog (a configured catalog may leave them out).
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Largest catalog accepted (see `ScopeCatalog::parse`).
pub const MAX_CATALOG_SCOPES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCatalog {
    entries: Vec<(String, String)>,
}

struct CatalogEntry {
    name: String,
    description: String,
}

impl FromJson for CatalogEntry {
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let map = json_codec::object(value)?;
        // A misspelt member ("descripton") is an error, not a silently empty field.
        if let Some(other) = map.keys().find(|k| *k != "name" && *k != "description") {
            return Err(format!("unknown field \"{other}\""));
        }
        Ok(CatalogEntry {
            name: json_codec::field(map, "name")?,
            description: json_codec::field(map, "description")?,
        })
    }
}

impl Default for ScopeCatalog {
    fn default() -> ScopeCatalog {
        ScopeCatalog {
            entries: DEFAULT_CATALOG
                .iter()
                .map(|(n, d)| (n.to_string(), d.to_string()))
                .collect(),
        }
    }
}

impl ScopeCatalog {
    /// Parses the `SCOPES` variable: `[{"name": "...", "description": "..."}, ...]`.
    pub fn parse(text: &str) -> Result<ScopeCatalog, String> {
        let list: Vec<CatalogEntry> = json_codec::decode(text).map_err(|e| {
            format!("expected a JSON array of {{\"name\", \"description\"}} objects ({e})")
        })?;
        if list.is_empty() {
            return Err("the catalog is empty".into());
        }
        // The consent form sends one field per scope and forms carry at most 100 parameters.
        if list.len() > MAX_CATALOG_SCOPES {
            return Err(format!("at most {MAX_CATALOG_SCOPES} scopes are supported"));
        }
        let mut entries: Vec<(String, String)> = Vec::with_capacity(list.len());
        for entry in list {
            if !is_scope_token(&entry.name) {
                return Err(format!("\"{}\" is not a valid scope name", entry.name));
            }
            if entries.iter().any(|(n, _)| *n == entry.name) {
                return Err(format!("\"{}\" is listed twice", entry.name));
            }
            entries.push((entry.name, entry.description));
        }
        Ok(ScopeCatalog { entries })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    pub fn description(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }

    /// The description as pages show it: the catalog's text with its first letter capitalised
    /// when it is an ASCII letter (the scope's name when it is not in the catalog).
    pub fn display_description(&self, name: &str) -> String {
        // ASCII only: Unicode case tables would cost the bundle ~10 kB for one letter.
        let mut text = self.description(name).unwrap_or(name).to_string();
        if let Some(first) = text.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        text
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `scopes` sorted into catalog order, so stored and displayed lists are stable.
    pub fn in_catalog_order(&self, scopes: &[String]) -> Vec<String> {
        self.names()
            .filter(|n| scopes.iter().any(|s| s == n))
            .map(str::to_string)
            .collect()
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Splits a space-delimited scope string, dropping repeats. Errors name the bad token.
pub fn parse_scope(s: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for token in s.split(' ').filter(|t| !t.is_empty()) {
        if !is_scope_token(token) {
            return Err(format!(
                "{} is not a valid scope",
                crate::error::quoted(token)
            ));
        }
        if !out.iter().any(|t| t == token) {
            out.push(token.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_has_the_spec_scopes_in_order() {
        let c = ScopeCatalog::default();
        assert_eq!(c.names().count(), 12);
        assert_eq!(c.names().next(), Some("profile:read"));
        assert!(c.description("images:write").unwrap().contains("upload"));
    }

    #[test]
    fn default_descriptions_are_the_specs_verbatim_and_shown_capitalised() {
        // SPEC.md "Scopes", copied by hand: the one place these texts may be changed is there.
        let spec =
            "`profile:read` read basic profile (name, email, avatar) · `galleries:read` view \
galleries and their settings · `galleries:write` create, update and delete galleries · \
`images:read` view images · `images:write` upload, update and delete images · `stats:read` \
view analytics and statistics · `webhooks:read` view webhook configurations · \
`webhooks:write` create, update and delete webhooks";
        let c = ScopeCatalog::default();
        for entry in spec.split(" \u{b7} ") {
            let (name, text) = entry[1..].split_once("` ").unwrap();
            assert_eq!(c.description(name), Some(text), "{name}");
        }
        let oidc = OIDC_SCOPES.len();
        assert_eq!(c.names().count(), spec.split(" \u{b7} ").count() + oidc);
        for scope in OIDC_SCOPES {
            assert!(c.description(scope).is_some(), "{scope} has a consent text");
        }
        assert_eq!(c.display_description("images:read"), "View images");
        assert_eq!(c.display_description("other"), "Other");
    }

    #[test]
    fn parse_scope_splits_and_dedupes() {
        assert_eq!(parse_scope("a b  a").unwrap(), vec!["a", "b"]);
        assert_eq!(parse_scope("").unwrap(), Vec::<String>::new());
        let err = parse_scope("a \"b\"").unwrap_err();
        assert!(err.contains("'b'") && !err.contains('"'), "{err}");
        assert!(parse_scope("caf\u{e9}").is_err());
    }

    #[test]
    fn catalog_order_is_applied() {
        let c = ScopeCatalog::default();
        let got = c.in_catalog_order(&["images:read".into(), "profile:read".into()]);
        assert_eq!(got, vec!["profile:read", "images:read"]);
    }

    #[test]
    fn custom_catalog_is_validated() {
        assert!(ScopeCatalog::parse(r#"[{"name":"read","description":"Read"}]"#).is_ok());
        for bad in [
            "[]",
            "{}",
            r#"[{"name":"a b","description":"x"}]"#,
            r#"[{"name":"a","description":"x"},{"name":"a","description":"y"}]"#,
            r#"[{"name":"a"}]"#,
        ] {
            assert!(ScopeCatalog::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
