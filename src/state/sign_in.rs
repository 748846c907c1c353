//! What an OpenID Connect code and the grant it creates remember of the sign-in they rest on.
//!
//! The ID token of a code response needs the sign-in time, the session and the `nonce` of the
//! authorization request (OpenID Connect Core §2, §3.1.2.1); a refresh's ID token keeps the
//! same `sub` and `auth_time` (§12.2). The token endpoint has no browser session to read them
//! from, so they travel inside the code's record and are copied into the grant's record by the
//! write that creates it: an `openid` flow costs no storage operation more than another flow,
//! and a flow without `openid` stores nothing here (`None`).

use crate::impl_from_json;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignIn {
    /// When the user signed in (`auth_time`, seconds since the epoch).
    pub auth_time: u64,
    /// The session's id as relying parties see it (`sid`): derived from the session, never
    /// the session's cookie or its stored hash.
    pub sid: String,
    /// The request's `nonce`, byte-exact; only the code response's ID token carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Profile and email claims as they were at sign-in (granted scopes decide which go out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_verified: bool,
}

impl_from_json!(SignIn {
    auth_time,
    sid;
    nonce,
    name,
    picture,
    email,
    email_verified,
});

impl SignIn {
    /// The text kept in a SQLite column (durable backend).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads [`Self::to_text`] back; `None` for an empty column or unreadable text (a grant
    /// without `openid` has none).
    pub fn from_text(text: &str) -> Option<SignIn> {
        if text.is_empty() {
            return None;
        }
        crate::json_codec::decode(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_byte_exact() {
        let s = SignIn {
            auth_time: 7,
            sid: "s".into(),
            nonce: Some("n \u{e9}\"\\ \u{1f600}".into()),
            name: None,
            picture: Some("https://p.example/a.png".into()),
            email: Some("a@example.com".into()),
            email_verified: true,
        };
        assert_eq!(SignIn::from_text(&s.to_text()), Some(s));
        assert_eq!(SignIn::from_text(""), None);
        assert_eq!(
            SignIn::from_text("{}"),
            None,
            "auth_time and sid are required"
        );
    }
}
