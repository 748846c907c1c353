//! Redirect URI rules.
//!
//! Registration (RFC 7591 §2, RFC 6749 §3.1.2): absolute, no fragment, no credentials;
//! `https`, or `http` only on a loopback host (`localhost`, `127.0.0.1`, `[::1]`, RFC 8252
//! §7.3/§8.3). Matching at authorize is exact string comparison (RFC 6749 §3.1.2.3), except
//! that a loopback `http` URI matches on any port (RFC 8252 §7.3).

pub const MAX_REDIRECT_URI_LEN: usize = 2000;

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Checks a URI offered at registration. The error says what to fix (without repeating the
/// URI: error descriptions carry only RFC 6749 §5.2's characters).
///
/// A URI must already be in the form the WHATWG URL parser (`crate::weburl`, as browsers)
/// serialises it: otherwise the admin reads one URI and a browser follows another
/// (`https://good.example\@evil.example/` is `https://good.example/@evil.example/` to a browser).
pub fn validate_for_registration(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(format!(
            "redirect URI longer than {MAX_REDIRECT_URI_LEN} characters"
        ));
    }
    // Redirect URIs travel in a Location header, which carries ASCII only.
    if !uri.is_ascii() {
        return Err(
            "redirect URI must be ASCII (percent-encode paths, use xn-- hosts)".to_string(),
        );
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("redirect URI contains whitespace or control characters".into());
    }
    if uri.contains('\\') {
        return Err("redirect URI must not contain a backslash (browsers read it as /)".into());
    }
    let parsed = crate::weburl::parse(uri)
        .map_err(|e| format!("redirect URI is not an absolute URI ({e})"))?;
    if uri.contains('#') {
        return Err("redirect URI must not contain a fragment".into());
    }
    let after_scheme = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"));
    let authority = after_scheme.map(|rest| rest.split(['/', '?']).next().unwrap_or(""));
    if authority.is_some_and(|a| a.contains('@'))
        || !parsed.username.is_empty()
        || parsed.password.is_some()
    {
        return Err("redirect URI must not contain credentials or an @ before the host".into());
    }
    match parsed.scheme.as_str() {
        "https" | "http" if after_scheme.is_none() => {
            return Err(format!(
                "redirect URI must start with {}:// (lower case, two slashes)",
                parsed.scheme
            ))
        }
        "https" if parsed.host.as_deref().is_some_and(is_plain_host) => {}
        "https" => {
            return Err("redirect URI host must be a DNS name or IP address (no wildcards)".into())
        }
        "http" if loopback_authority(uri).is_some() => {}
        "http" => return Err(
            "redirect URI must use https (http is allowed only on localhost, 127.0.0.1 or [::1])"
                .into(),
        ),
        _ => return Err("redirect URI must use https".into()),
    }
    if parsed.href != uri {
        return Err(format!(
            "redirect URI is not in canonical form (lower-case host, no default port, a path, no dot segments, percent-encoded); register it as {}",
            parsed.href
        ));
    }
    Ok(())
}

/// A host of letters, digits, `-` and `.` (as the parser lower-cases it), or an IPv6 literal.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'))
}

/// Whether `requested` matches one of `registered`: exactly, or for loopback `http` URIs,
/// exactly apart from the port.
pub fn matches(registered: &[String], requested: &str) -> bool {
    // A URI registered before the canonical-form rule, that the rule now refuses, is no longer
    // sent anywhere.
    if validate_for_registration(requested).is_err() {
        return false;
    }
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
        if !is_canonical_port(p) {
            return None;
        }
    }
    Some((host, port, rest))
}

/// A port as the URL parser writes it: 1-65535, no leading zero, and never the scheme's default
/// (`:80` is written without a port). Anything else would reach another port than it reads.
fn is_canonical_port(p: &str) -> bool {
    let digits = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    digits
        && !p.starts_with('0')
        && p.bytes()
            .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'))
            .le(&65535)
        && p != "80"
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
    fn uris_a_browser_reads_differently_are_refused_with_the_reason() {
        let cases: &[(&str, &str)] = &[
            ("https://good.example\\@evil.example/cb", "backslash"),
            ("https://evil.example\\.good.example/cb", "backslash"),
            ("https:\\\\evil.example/cb", "backslash"),
            ("https:/good.example/cb", "two slashes"),
            ("https:good.example/cb", "two slashes"),
            ("https://:@good.example/cb", "@ before the host"),
            ("https://@good.example/cb", "@ before the host"),
            ("https://*.example/cb", "no wildcards"),
            ("https://GOOD.example/cb", "canonical form"),
            ("https://good.example:443/cb", "canonical form"),
            (
                "https://good.example",
                "register it as https://good.example/",
            ),
            ("https://good.example/a/../cb", "canonical form"),
            ("https://good.example/a{b}", "canonical form"),
            ("https://0x7f.1/cb", "canonical form"),
            ("http://127.0.0.1:080/cb", "https"),
            ("http://127.0.0.1:80/cb", "https"),
            ("http://127.0.0.1:0/cb", "https"),
            ("HTTPS://good.example/cb", "start with https://"),
        ];
        for (uri, reason) in cases {
            let err = validate_for_registration(uri).expect_err(uri);
            assert!(err.contains(reason), "{uri}: {err}");
            assert!(!err.contains('\\') && !err.contains('"'), "{uri}: {err}");
        }
        for ok in [
            "https://good.example/",
            "https://good.example/cb?x=1&y=%20",
            "https://192.0.2.1/cb",
            "https://[2001:db8::1]/cb",
            "http://[::1]:65535/cb",
            "http://localhost:1/cb",
        ] {
            assert_eq!(validate_for_registration(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn loopback_ports_match_only_when_written_canonically() {
        let reg = vec!["http://127.0.0.1/cb".to_string()];
        for (port, ok) in [
            ("1", true),
            ("8080", true),
            ("65535", true),
            ("0", false),
            ("00080", false),
            ("08080", false),
            ("80", false),
            ("65536", false),
            ("99999", false),
            ("+80", false),
            ("", false),
        ] {
            let uri = format!("http://127.0.0.1:{port}/cb");
            assert_eq!(matches(&reg, &uri), ok, "{uri}");
        }
    }

    #[test]
    fn a_stored_non_canonical_uri_no_longer_matches() {
        let legacy = "https://good.example\\@evil.example/cb".to_string();
        assert!(!matches(std::slice::from_ref(&legacy), &legacy));
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
