//! Redirect URI rules.
//!
//! Registration (RFC 7591 §2, RFC 6749 §3.1.2): absolute, no fragment, no credentials;
//! `https`, or `http` only on a loopback host (`localhost`, `127.0.0.1`, `[::1]`, RFC 8252
//! §7.3/§8.3). Matching at authorize is exact string comparison (RFC 6749 §3.1.2.3), except
//! that a loopback `http` URI matches on any port (RFC 8252 §7.3).

pub const MAX_REDIRECT_URI_LEN: usize = 2000;

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Checks a URI offered at registration. The error says what to fix.
pub fn validate_for_registration(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(format!(
            "redirect URI longer than {MAX_REDIRECT_URI_LEN} characters"
        ));
    }
    // Redirect URIs travel in a Location header, which carries ASCII only.
    if !uri.is_ascii() {
        return Err(format!(
            "redirect URI {uri:?} must be ASCII (percent-encode paths, use xn-- hosts)"
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "redirect URI {uri:?} contains whitespace or control characters"
        ));
    }
    let parsed = url::Url::parse(uri)
        .map_err(|e| format!("redirect URI {uri:?} is not an absolute URI ({e})"))?;
    if uri.contains('#') {
        return Err(format!("redirect URI {uri:?} must not contain a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("redirect URI {uri:?} must not contain credentials"));
    }
    match parsed.scheme() {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if loopback_authority(uri).is_some() => Ok(()),
        "http" => Err(format!(
            "redirect URI {uri:?} must use https (http is allowed only on localhost, 127.0.0.1 or [::1])"
        )),
        _ => Err(format!("redirect URI {uri:?} must use https")),
    }
}

/// Whether `requested` matches one of `registered`: exactly, or for loopback `http` URIs,
/// exactly apart from the port.
pub fn matches(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|r| {
        if r == requested {
            return true;
        }
        match (without_loopback_port(r), without_loopback_port(requested)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    })
}

/// For `http://<loopback>[:port]<rest>`, returns (host, port, rest).
fn loopback_authority(uri: &str) -> Option<(&str, Option<&str>, &str)> {
    let after = uri.strip_prefix("http://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (host, port) = if let Some(v6_end) = authority.strip_prefix('[').and(authority.find(']')) {
        let (host, tail) = authority.split_at(v6_end + 1);
        match tail {
            "" => (host, None),
            _ => (host, Some(tail.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if !LOOPBACK_HOSTS.contains(&host) {
        return None;
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some((host, port, rest))
}

fn without_loopback_port(uri: &str) -> Option<String> {
    let (host, _, rest) = loopback_authority(uri)?;
    Some(format!("http://{host}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let cases: &[(&str, bool)] = &[
            ("https://app.example.com/callback", true),
            ("https://app.example.com/cb?x=1", true),
            ("http://localhost/cb", true),
            ("http://localhost:3000/cb", true),
            ("http://127.0.0.1:8080/cb", true),
            ("http://[::1]:8080/cb", true),
            ("http://app.example.com/cb", false),
            ("http://127.0.0.2/cb", false),
            ("http://localhost.evil.com/cb", false),
            ("https://app.example.com/cb#frag", false),
            ("https://user:pw@app.example.com/cb", false),
            ("/relative/cb", false),
            ("javascript:alert(1)", false),
            ("com.example.app:/cb", false),
            ("ftp://example.com/cb", false),
            ("https://exa mple.com/cb", false),
            // ASCII-only IDNA (idna_adapter 1.0): register internationalized hosts as xn--.
            ("https://b\u{fc}cher.example/cb", false),
            ("https://xn--bcher-kva.example/cb", true),
            ("https://app.example/caf\u{e9}", false),
            ("", false),
        ];
        for (uri, ok) in cases {
            assert_eq!(validate_for_registration(uri).is_ok(), *ok, "{uri}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_REDIRECT_URI_LEN));
        assert!(validate_for_registration(&long).is_err());
    }

    #[test]
    fn matching_is_exact_except_loopback_port() {
        let reg = vec![
            "https://app.example.com/callback".to_string(),
            "http://127.0.0.1/cb".to_string(),
            "http://[::1]:9000/cb?a=1".to_string(),
        ];
        let cases: &[(&str, bool)] = &[
            ("https://app.example.com/callback", true),
            ("https://app.example.com/callback/", false),
            ("https://app.example.com/Callback", false),
            ("https://app.example.com/callback?x=1", false),
            ("https://APP.example.com/callback", false),
            ("https://app.example.com:443/callback", false),
            ("http://127.0.0.1:51234/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://127.0.0.1:51234/cb2", false),
            ("http://localhost:51234/cb", false),
            ("http://[::1]:1/cb?a=1", true),
            ("http://[::1]:1/cb?a=2", false),
            ("http://127.0.0.1:abc/cb", false),
            ("https://127.0.0.1:51234/cb", false),
        ];
        for (uri, ok) in cases {
            assert_eq!(matches(&reg, uri), *ok, "{uri}");
        }
    }
}
