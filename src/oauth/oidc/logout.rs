//! OpenID Connect RP-Initiated Logout 1.0 (§2, §3): what a relying party's logout request asks
//! for, checked before anything ends. `id_token_hint` must be an ID token this provider signed
//! (signature with our keys, `typ: JWT`, our issuer; an expired one is still a valid hint, §2);
//! `post_logout_redirect_uri` must equal one the client registered, or nothing is redirected
//! (§3: no open redirector).

use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::oauth::params::Params;
use crate::store::{clients, Store};
use crate::token::jwt;
use serde_json::Value;

/// A relying party's logout request, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpLogout {
    pub client_id: Option<String>,
    /// The registered URI to send the browser to once the session has ended.
    pub redirect: Option<String>,
    pub state: Option<String>,
    /// The user the hint names (`sub`), when a hint was sent.
    pub hint_sub: Option<String>,
    /// The session the hint was issued in (`sid`), when a hint was sent.
    pub hint_sid: Option<String>,
}

impl RpLogout {
    /// Where the browser goes after the session ended: the URI with `state` (§3).
    pub fn target(&self) -> Option<String> {
        let uri = self.redirect.as_deref()?;
        let Some(state) = &self.state else {
            return Some(uri.to_string());
        };
        let sep = if uri.contains('?') { '&' } else { '?' };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("state", state)
            .finish();
        Some(format!("{uri}{sep}{query}"))
    }
}

/// `Ok(None)`: a plain sign-out (none of the relying-party parameters). `Err`: the message of
/// the error page (never a redirect).
pub async fn parse<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    params: &Params,
) -> Result<Result<Option<RpLogout>, String>, OAuthError> {
    let names = [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ];
    if names.iter().all(|n| params.get(n).is_none()) {
        return Ok(Ok(None));
    }
    let mut out = RpLogout {
        client_id: params.get("client_id").map(str::to_string),
        state: params.get("state").map(str::to_string),
        ..RpLogout::default()
    };
    if let Some(hint) = params.get("id_token_hint") {
        let Some(Hint { sub, aud, sid }) = verified_hint(ctx, hint).await? else {
            return Ok(Err(
                "The id_token_hint is not an ID token issued by this provider.".into(),
            ));
        };
        if out.client_id.as_ref().is_some_and(|c| *c != aud) {
            return Ok(Err(
                "client_id is not the application the id_token_hint was issued to.".into(),
            ));
        }
        out.client_id = Some(aud);
        out.hint_sub = Some(sub);
        out.hint_sid = sid;
    }
    if let Some(uri) = params.get("post_logout_redirect_uri") {
        let Some(client_id) = &out.client_id else {
            return Ok(Err(
                "post_logout_redirect_uri needs client_id or id_token_hint to name the application."
                    .into(),
            ));
        };
        let registered = clients::get(ctx.store, client_id)
            .await?
            .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri));
        if !registered {
            return Ok(Err(
                "post_logout_redirect_uri is not registered for this application.".into(),
            ));
        }
        out.redirect = Some(uri.to_string());
    }
    Ok(Ok(Some(out)))
}

/// What a verified `id_token_hint` says.
struct Hint {
    sub: String,
    aud: String,
    sid: Option<String>,
}

/// The claims of an ID token we signed, expired or not.
async fn verified_hint<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    hint: &str,
) -> Result<Option<Hint>, OAuthError> {
    let Ok(v) = jwt::verify(ctx.crypto, &ctx.config.signing_keys, hint).await? else {
        return Ok(None);
    };
    let text = |m: &serde_json::Map<String, Value>, n: &str| {
        m.get(n).and_then(Value::as_str).map(str::to_string)
    };
    // An access token (`at+jwt`) is not a hint: only ID tokens name the relying party.
    if text(&v.header, "typ").as_deref() != Some(super::id_token::ID_TOKEN_TYP)
        || text(&v.claims, "iss").as_deref() != Some(ctx.config.issuer.as_str())
    {
        return Ok(None);
    }
    let sid = text(&v.claims, "sid");
    Ok(text(&v.claims, "sub")
        .zip(text(&v.claims, "aud"))
        .map(|(sub, aud)| Hint { sub, aud, sid }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_carries_state_after_any_query() {
        let rp = |uri: &str, state: Option<&str>| RpLogout {
            redirect: Some(uri.into()),
            state: state.map(str::to_string),
            ..RpLogout::default()
        };
        assert_eq!(
            rp("https://a.example/bye", None).target().unwrap(),
            "https://a.example/bye"
        );
        assert_eq!(
            rp("https://a.example/bye?x=1", Some("s &1"))
                .target()
                .unwrap(),
            "https://a.example/bye?x=1&state=s+%261"
        );
        assert_eq!(RpLogout::default().target(), None);
    }
}
