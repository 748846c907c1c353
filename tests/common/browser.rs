//! A minimal browser for flow tests: keeps cookies, submits forms, never follows redirects.
//! Works over HTTP against the Worker and in-process against the core.

use super::http::{self, Reply};
use super::inprocess::Harness;
use edge_oauth::http::{Method, Request};
use std::cell::RefCell;

pub trait Transport {
    fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>)
        -> Reply;
}

/// Over HTTP (the Worker in workerd).
pub struct Http;

impl Transport for Http {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        http::send(method, url, headers, body)
    }
}

impl Transport for Harness {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let path = url.strip_prefix(self.config.issuer.as_str()).unwrap_or(url);
        let mut req = Request::new(Method::parse(method), path);
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        if let Some(b) = body {
            req = req.with_body(b.to_vec());
        }
        let r = self.call(req);
        Reply {
            status: r.status,
            headers: r.headers.clone(),
            body: String::from_utf8_lossy(&r.body).into_owned(),
        }
    }
}

pub struct Browser<'t, T: Transport> {
    transport: &'t T,
    /// Base URL relative paths are resolved against.
    base: String,
    cookies: RefCell<Vec<(String, String)>>,
    /// Sent with every request besides `Cookie` (e.g. the client address a proxy would add).
    extra_headers: Vec<(String, String)>,
}

impl<'t, T: Transport> Browser<'t, T> {
    pub fn new(transport: &'t T, base: &str) -> Self {
        Browser {
            transport,
            base: base.to_string(),
            cookies: RefCell::new(Vec::new()),
            extra_headers: Vec::new(),
        }
    }

    /// Adds a header sent with every request of this browser.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    fn headers<'a>(&'a self, cookie: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut h = vec![("Cookie", cookie)];
        h.extend(
            self.extra_headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        h
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&self, reply: &Reply) {
        for set in reply.headers_named("set-cookie") {
            let pair = set.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = set.contains("Max-Age=0");
            let mut jar = self.cookies.borrow_mut();
            jar.retain(|(n, _)| n != name);
            if !expired {
                jar.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    pub fn forget_cookies(&self) {
        self.cookies.borrow_mut().clear();
    }

    pub fn get(&self, url: &str) -> Reply {
        let cookie = self.cookie_header();
        let reply = self
            .transport
            .send("GET", &self.absolute(url), &self.headers(&cookie), None);
        self.remember(&reply);
        reply
    }

    pub fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Reply {
        let cookie = self.cookie_header();
        let body = http::form_encode(fields);
        let mut headers = self.headers(&cookie);
        headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        let reply =
            self.transport
                .send("POST", &self.absolute(url), &headers, Some(body.as_bytes()));
        self.remember(&reply);
        reply
    }
}

/// A credential a portal page shows once (client id or secret), by its `data-credential` name.
pub fn credential(html: &str, name: &str) -> String {
    let marker = format!("data-credential=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}:\n{html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The value of the hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden input {name} in page:\n{html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `Location` of a redirect.
pub fn location(reply: &Reply) -> String {
    assert!(
        (300..400).contains(&reply.status),
        "expected a redirect, got {}: {}",
        reply.status,
        reply.body
    );
    reply
        .header("location")
        .expect("Location header")
        .to_string()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Submits the consent form of `consent` with the checked `scopes` and `decision`
/// (`approve` or `deny`).
pub fn submit_consent<T: Transport>(
    b: &Browser<T>,
    consent: &Reply,
    scopes: &[&str],
    decision: &str,
) -> Reply {
    let csrf = hidden(&consent.body, "csrf_token");
    let request_id = hidden(&consent.body, "request_id");
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("request_id", request_id.as_str()),
        ("decision", decision),
    ];
    fields.extend(scopes.iter().map(|s| ("scope", *s)));
    b.post_form("/api/oauth/authorize", &fields)
}
