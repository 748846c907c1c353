//! Parsing absolute URLs the way browsers do (the WHATWG URL Standard).
//!
//! In the Worker this is the runtime's own `URL` class; natively (tests, tools) the `url`
//! crate, which implements the same standard. Why two: the `url` crate with its IDNA tables
//! is about 12 KB of the gzipped bundle, and the Worker already has a standard parser.
//! Only ASCII input is accepted on both sides, so the two never differ on IDNA (hosts with
//! non-ASCII labels are given in punycode, `xn--`). End-to-end tests in workerd check the
//! Worker's side with the same cases as the native tests.

/// A parsed absolute URL: what the validators look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    /// The serialisation (WHATWG "href"): compared with the input to demand canonical form.
    pub href: String,
    /// Lower case, without the `:`.
    pub scheme: String,
    /// `None` when the URL has no host or an empty one (`myapp:/cb`).
    pub host: Option<String>,
    pub username: String,
    pub password: Option<String>,
    /// A `?` is present (even with nothing after it).
    pub has_query: bool,
    /// A `#` is present (even with nothing after it).
    pub has_fragment: bool,
}

/// Parses an absolute URL; the error is the parser's reason.
pub fn parse(input: &str) -> Result<WebUrl, String> {
    if !input.is_ascii() {
        return Err("not ASCII (use punycode, xn--, for non-ASCII hosts)".into());
    }
    let (href, scheme, host, username, password) = platform::parse(input)?;
    let before_fragment = href.split('#').next().unwrap_or("");
    Ok(WebUrl {
        has_query: before_fragment.contains('?'),
        has_fragment: href.contains('#'),
        scheme: scheme.trim_end_matches(':').to_string(),
        host: Some(host).filter(|h| !h.is_empty()),
        username,
        password: Some(password).filter(|p| !p.is_empty()),
        href,
    })
}

#[cfg(not(target_arch = "wasm32"))]
mod platform {
    /// (href, scheme, host, username, password)
    pub fn parse(input: &str) -> Result<(String, String, String, String, String), String> {
        let url = url::Url::parse(input).map_err(|e| e.to_string())?;
        Ok((
            url.as_str().to_string(),
            url.scheme().to_string(),
            url.host_str().unwrap_or("").to_string(),
            url.username().to_string(),
            url.password().unwrap_or("").to_string(),
        ))
    }
}

#[cfg(target_arch = "wasm32")]
mod platform {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = URL)]
        type JsUrl;
        #[wasm_bindgen(constructor, js_class = URL, catch)]
        fn new(input: &str) -> Result<JsUrl, JsValue>;
        #[wasm_bindgen(method, getter)]
        fn href(this: &JsUrl) -> String;
        #[wasm_bindgen(method, getter)]
        fn protocol(this: &JsUrl) -> String;
        #[wasm_bindgen(method, getter)]
        fn hostname(this: &JsUrl) -> String;
        #[wasm_bindgen(method, getter)]
        fn username(this: &JsUrl) -> String;
        #[wasm_bindgen(method, getter)]
        fn password(this: &JsUrl) -> String;
    }

    /// (href, scheme, host, username, password)
    pub fn parse(input: &str) -> Result<(String, String, String, String, String), String> {
        let url = JsUrl::new(input).map_err(|_| "invalid URL".to_string())?;
        Ok((
            url.href(),
            url.protocol(),
            url.hostname(),
            url.username(),
            url.password(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_the_validators_use() {
        let u = parse("https://User:pw@Example.COM:443/a/../b?#").unwrap();
        assert_eq!(u.href, "https://User:pw@example.com/b?#");
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host.as_deref(), Some("example.com"));
        assert_eq!(u.username, "User");
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert!(u.has_query && u.has_fragment);

        let u = parse("http://[::1]:8080/cb").unwrap();
        assert_eq!(u.host.as_deref(), Some("[::1]"));
        assert!(!u.has_query && !u.has_fragment && u.password.is_none());

        let u = parse("myapp:/callback").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_deref()), ("myapp", None));
        assert!(!parse("https://a.example/x#f?").unwrap().has_query);
    }

    #[test]
    fn refuses_relative_malformed_and_non_ascii_input() {
        for bad in [
            "/cb",
            "https://",
            "https://exa mple.com/",
            "https://bücher.example/",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
