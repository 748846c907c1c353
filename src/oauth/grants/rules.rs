//! The protocol rules a code redemption and a refresh apply, as pure functions. Both state
//! backends call them inside their transition, so the rule is stated once and the backend
//! only guarantees that check and write happen together.

use crate::oauth::{pkce, scope};
use crate::state::{CodeExchange, Refusal};

/// RFC 6749 §4.1.3: `redirect_uri` identical to the authorization request's; RFC 7636 §4.6:
/// the verifier hashes to the challenge; RFC 8707 §2.2: a `resource` sent is the code's
/// (`resource`). Checked after the code is marked used, so a wrong value consumes it (an
/// attacker gets one guess).
pub fn check_code_use(
    redirect_uri: &str,
    code_challenge: &str,
    resource: Option<&str>,
    x: &CodeExchange,
) -> Result<(), Refusal> {
    if x.redirect_uri.as_deref() != Some(redirect_uri) {
        return Err(Refusal::RedirectUriMismatch);
    }
    let verifier = x.code_verifier.as_str();
    if pkce::validate_verifier(verifier).is_err() || !pkce::verify(verifier, code_challenge) {
        return Err(Refusal::InvalidVerifier);
    }
    check_resource(x.resource.as_deref(), resource)
}

/// RFC 8707 §2.2: a token request may name only the resource its grant was authorized for
/// (absent: the grant's).
pub fn check_resource(requested: Option<&str>, granted: Option<&str>) -> Result<(), Refusal> {
    if crate::oauth::resource::matches_grant(requested, granted) {
        Ok(())
    } else {
        Err(Refusal::ResourceNotGranted)
    }
}

/// The granted scopes the client may still have: its registration or the catalog may have
/// lost some since the grant. None left → refused.
pub fn still_allowed(granted: &[String], allowed: &[String]) -> Result<Vec<String>, Refusal> {
    let kept: Vec<String> = granted
        .iter()
        .filter(|s| allowed.contains(s))
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(Refusal::NoScopeLeft);
    }
    Ok(kept)
}

/// RFC 6749 §6: an optional `scope` may narrow what was granted, never widen it. Granted
/// order is kept; an empty request means everything granted.
pub fn narrow(requested: Option<&[String]>, granted: &[String]) -> Result<Vec<String>, Refusal> {
    let Some(requested) = requested.filter(|r| !r.is_empty()) else {
        return Ok(granted.to_vec());
    };
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(Refusal::ScopeNotGranted(extra.clone()));
    }
    Ok(granted
        .iter()
        .filter(|s| requested.contains(s))
        .cloned()
        .collect())
}

/// Parses a refresh request's `scope` parameter.
pub fn parse_requested(text: Option<&str>) -> Result<Option<Vec<String>>, Refusal> {
    text.map(|t| scope::parse_scope(t).map_err(Refusal::ScopeMalformed))
        .transpose()
}

/// Whether a remembered consent covers every wanted scope.
pub fn covers(consented: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|s| consented.contains(s))
}

/// A remembered consent with `added` merged in (existing order first).
pub fn merged(consented: &[String], added: &[String]) -> Vec<String> {
    let mut out = consented.to_vec();
    out.extend(added.iter().filter(|s| !consented.contains(s)).cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn narrowing_keeps_granted_order_and_refuses_widening() {
        let granted = v(&["a", "b", "c"]);
        assert_eq!(narrow(None, &granted).unwrap(), granted);
        assert_eq!(
            narrow(Some(&v(&["c", "a"])), &granted).unwrap(),
            v(&["a", "c"])
        );
        assert_eq!(narrow(Some(&[]), &granted).unwrap(), granted);
        assert_eq!(
            narrow(Some(&v(&["a", "z"])), &granted),
            Err(Refusal::ScopeNotGranted("z".into()))
        );
    }

    #[test]
    fn still_allowed_drops_lost_scopes_and_refuses_when_none_remain() {
        assert_eq!(
            still_allowed(&v(&["a", "b"]), &v(&["b"])).unwrap(),
            v(&["b"])
        );
        assert_eq!(
            still_allowed(&v(&["a"]), &v(&["b"])),
            Err(Refusal::NoScopeLeft)
        );
    }

    #[test]
    fn consent_merges_without_losing_or_repeating() {
        assert_eq!(merged(&v(&["a"]), &v(&["b", "a"])), v(&["a", "b"]));
        assert!(covers(&v(&["a", "b"]), &v(&["b"])));
        assert!(!covers(&v(&["a"]), &v(&["a", "b"])));
    }
}
