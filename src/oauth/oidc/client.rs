//! OpenID Connect client metadata (OpenID Connect Dynamic Client Registration 1.0 §2, RP-Initiated
//! Logout 1.0 §3.3): `id_token_signed_response_alg` and `post_logout_redirect_uris`.

use super::{DEFAULT_ID_TOKEN_ALG, ID_TOKEN_ALGS};
use crate::error::OAuthError;
use crate::model::Client;
use crate::oauth::client_metadata::{metadata_error, validate_redirect_uris};
use crate::token::keys::{Alg, SigningKeys};

/// The algorithm of a client's ID tokens: what it registered, else RS256.
pub fn id_token_alg(client: &Client) -> Alg {
    client
        .id_token_signed_response_alg
        .as_deref()
        .and_then(Alg::parse)
        .unwrap_or(DEFAULT_ID_TOKEN_ALG)
}

/// `id_token_signed_response_alg`: one the provider signs ID tokens with and has a key for
/// (so a registered client never meets a configuration error at sign-in). `None` or empty
/// means the default (RS256).
pub fn validate_id_token_alg(
    alg: Option<String>,
    keys: &SigningKeys,
) -> Result<Option<String>, OAuthError> {
    let Some(alg) = alg.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if !ID_TOKEN_ALGS.contains(&alg.as_str()) {
        return Err(metadata_error(format!(
            "id_token_signed_response_alg must be one of {}",
            ID_TOKEN_ALGS.join(", ")
        )));
    }
    match Alg::parse(&alg).and_then(|a| keys.signer(a)) {
        Some(_) => Ok(Some(alg)),
        None => Err(metadata_error(format!(
            "id_token_signed_response_alg {alg}: SIGNING_KEYS holds no {alg} key to sign with"
        ))),
    }
}

/// `post_logout_redirect_uris`: the same rules as redirect URIs; none is allowed.
pub fn validate_post_logout_uris(uris: Vec<String>) -> Result<Vec<String>, OAuthError> {
    if uris.is_empty() {
        return Ok(uris);
    }
    validate_redirect_uris(uris).map_err(|e| {
        metadata_error(format!(
            "post_logout_redirect_uris: {}",
            e.description.replace("redirect_uris", "URIs")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str =
        r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"e","x":"a","y":"b","d":"c"}]"#;

    #[test]
    fn the_algorithm_needs_a_key_and_a_known_name() {
        let keys = SigningKeys::parse(KEYS).unwrap();
        assert_eq!(validate_id_token_alg(None, &keys).unwrap(), None);
        assert_eq!(
            validate_id_token_alg(Some("ES256".into()), &keys)
                .unwrap()
                .as_deref(),
            Some("ES256")
        );
        let e = validate_id_token_alg(Some("RS256".into()), &keys).unwrap_err();
        assert!(e.description.contains("SIGNING_KEYS"), "{}", e.description);
        assert!(validate_id_token_alg(Some("none".into()), &keys).is_err());
        assert!(validate_id_token_alg(Some("EdDSA".into()), &keys).is_err());
    }

    #[test]
    fn post_logout_uris_follow_the_redirect_uri_rules() {
        assert!(validate_post_logout_uris(vec![]).unwrap().is_empty());
        assert!(validate_post_logout_uris(vec!["https://a.example/bye".into()]).is_ok());
        for bad in ["http://a.example/bye", "https://a.example/#x", "not a uri"] {
            let e = validate_post_logout_uris(vec![bad.into()]).unwrap_err();
            assert_eq!(
                e.code,
                crate::error::ErrorCode::InvalidClientMetadata,
                "{bad}"
            );
        }
    }
}
