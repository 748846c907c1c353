//! The "Sign in with OpenID Connect" section of `GET /docs` (issue 15), from the configuration
//! in force: discovery URL, the OpenID Connect scopes this catalog offers, the ID token.

use super::escape;
use crate::config::Config;

pub fn section(c: &Config) -> String {
    let u = |p: &str| escape(&c.url(p));
    let offered: Vec<&str> = crate::oauth::scope::OIDC_SCOPES
        .iter()
        .copied()
        .filter(|s| c.scopes.contains(s))
        .collect();
    if !offered.contains(&"openid") {
        return "<h2>Sign in with OpenID Connect</h2><p>This deployment's scope catalog does not \
offer <code>openid</code>.</p>"
            .into();
    }
    let scopes: String = offered
        .iter()
        .map(|s| format!("<code>{s}</code> "))
        .collect();
    format!(
        "<h2>Sign in with OpenID Connect</h2>\
<p>Point any OpenID Connect library at the issuer <code>{iss}</code>: it reads \
<code>{discovery}</code>. Scopes: {scopes}.</p><ul>\
<li>Request <code>scope=openid</code> (with <code>profile</code> for name and picture, \
<code>email</code> for the address) and a <code>nonce</code> (at most 512 characters, no control \
characters); PKCE stays required.</li>\
<li>The token response carries an <code>id_token</code>: a JWT (<code>typ: JWT</code>, RS256 \
from the JWKS) with <code>iss sub aud azp iat exp auth_time nonce at_hash sid</code> and, per \
scope, <code>name picture email email_verified</code>. A refresh returns a new one with the same \
<code>sub</code> and <code>auth_time</code> and no <code>nonce</code>.</li>\
<li><code>prompt</code>: <code>none</code> (no page; <code>login_required</code>, \
<code>consent_required</code> or <code>interaction_required</code> come back to your redirect URI), \
<code>login</code>, <code>consent</code>; <code>max_age</code> (seconds); <code>login_hint</code> \
(prefills the email). <code>request</code>, <code>request_uri</code> and <code>claims</code> are \
refused.</li>\
<li>Sign-out: send the browser to <code>{logout}?id_token_hint=ID_TOKEN&amp;\
post_logout_redirect_uri=URI&amp;state=STATE</code>; <code>URI</code> must be one of the \
application's registered <code>post_logout_redirect_uris</code>. Without a hint naming the \
signed-in user, the user confirms first.</li>\
<li>UserInfo: <code>GET {userinfo}</code> with <code>Authorization: Bearer ACCESS_TOKEN</code> \
(errors per RFC 6750: 401 <code>invalid_token</code>, 403 <code>insufficient_scope</code>).</li>\
</ul>",
        iss = escape(&c.issuer),
        discovery = u("/.well-known/openid-configuration"),
        userinfo = u(crate::endpoints::userinfo::PATH),
        logout = u("/api/oauth/logout"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;

    #[test]
    fn names_discovery_and_userinfo_or_says_openid_is_not_offered() {
        let c = Config::from_lookup(|k| vars(&[]).get(k).cloned()).unwrap();
        let html = section(&c);
        assert!(html.contains("http://127.0.0.1:8787/.well-known/openid-configuration"));
        assert!(html.contains("http://127.0.0.1:8787/api/oauth/userinfo"));
        let v = vars(&[("SCOPES", r#"[{"name":"a","description":"A"}]"#)]);
        let c = Config::from_lookup(|k| v.get(k).cloned()).unwrap();
        assert!(section(&c).contains("does not offer"));
    }
}
