//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets a token for
//! itself, with no user. Only clients that registered `client_credentials` in `grant_types`
//! may (RFC 7591 §2; otherwise `unauthorized_client`, §5.2). The token's `sub` is the client
//! id (RFC 9068 §2.2), `scope` defaults to the client's scopes and may not exceed them, the
//! `resource` rules are those of every grant (RFC 8707), and there is no refresh token
//! (§4.4.3: "A refresh token SHOULD NOT be included"). Nothing is stored: no grant, no state
//! operation; the token is revoked by its `jti` or dies with its client.

use super::rules;
use crate::context::Ctx;
use crate::crypto::Crypto;
use crate::error::{quoted, ErrorCode, OAuthError};
use crate::http::Response;
use crate::model::Client;
use crate::oauth::issue::{sign_access_token, Subject};
use crate::oauth::params::Params;
use crate::oauth::resource;
use crate::store::Store;
use serde_json::json;

pub async fn issue<S: Store, C: Crypto>(
    ctx: &Ctx<'_, S, C>,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    // §4.4.2: "The client MUST authenticate"; a public client has nothing to authenticate with.
    if !client.is_confidential() || !client.client_credentials {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "This client may not use grant_type client_credentials (register it in grant_types; confidential clients only)",
        ));
    }
    let allowed = super::allowed_scopes(client, ctx.config);
    let scopes = granted_scopes(params.get("scope"), &allowed)?;
    let resource = resource::requested(params, ctx.config)?;
    let subject = Subject {
        sub: &client.client_id,
        client_id: &client.client_id,
        grant_id: None,
        resource: resource.as_deref(),
    };
    let access_token = sign_access_token(ctx, subject, &scopes).await?;
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ctx.config.access_token_ttl,
        "scope": scopes.join(" "),
    });
    Ok(Response::json(200, &body).no_store())
}

/// §3.3: absent (or empty) means the client's scopes; otherwise only scopes it registered.
fn granted_scopes(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    let requested = rules::parse_requested(requested)?.filter(|r| !r.is_empty());
    let scopes = match requested {
        None => allowed.to_vec(),
        Some(wanted) => {
            if let Some(extra) = wanted.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "This client may not request scope {}",
                    quoted(extra)
                )));
            }
            allowed
                .iter()
                .filter(|s| wanted.contains(s))
                .cloned()
                .collect()
        }
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "None of this client's scopes is still in the catalog",
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scope_defaults_to_the_clients_and_may_only_narrow_it() {
        let allowed = v(&["a", "b"]);
        assert_eq!(granted_scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(granted_scopes(Some("b a"), &allowed).unwrap(), allowed);
        assert_eq!(granted_scopes(Some("b"), &allowed).unwrap(), v(&["b"]));
        let wider = granted_scopes(Some("a c"), &allowed).unwrap_err();
        assert_eq!(wider.code, ErrorCode::InvalidScope);
        assert!(granted_scopes(None, &[]).is_err());
    }
}
