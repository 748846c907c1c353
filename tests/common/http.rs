//! A small blocking HTTP client for tests: never follows redirects, never turns 4xx/5xx into
//! errors, and hands back status, headers and body.

use serde_json::Value;
use std::sync::OnceLock;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// Asserts an RFC 6749-style error and returns its description.
    pub fn expect_error(&self, status: u16, error: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        let body = self.json();
        assert_eq!(body["error"], error, "body: {}", self.body);
        body["error_description"].as_str().unwrap_or("").to_string()
    }
}

pub fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    // A bound on every request, so a stuck server fails a test instead of hanging it.
    AGENT.get_or_init(|| {
        ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(std::time::Duration::from_secs(60))
            .build()
    })
}

/// Sends a request; `headers` are (name, value) pairs.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut req = agent().request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .flat_map(|n| {
            resp.all(&n)
                .into_iter()
                .map(|v| (n.clone(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let body = resp.into_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    send("GET", url, headers, None)
}

pub fn post_json(url: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    let mut h = headers.to_vec();
    h.push(("Content-Type", "application/json"));
    send("POST", url, &h, Some(body.to_string().as_bytes()))
}

pub fn post_form(url: &str, headers: &[(&str, &str)], fields: &[(&str, &str)]) -> Reply {
    let body = form_encode(fields);
    let mut h = headers.to_vec();
    h.push(("Content-Type", "application/x-www-form-urlencoded"));
    send("POST", url, &h, Some(body.as_bytes()))
}

pub fn form_encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// How `post_refusable` frames the body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    /// Chunked transfer encoding (no Content-Length), as a streaming client would send it.
    Chunked,
}

/// POSTs a body the server may refuse before reading all of it (413). The body is written
/// from another thread while this one reads the answer: a client that writes first and reads
/// after (ureq) reports the connection the server closed after answering ("broken pipe",
/// "unexpected EOF") instead of the answer.
pub fn post_refusable(
    url: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    body: Vec<u8>,
) -> Reply {
    use std::io::{Read, Write};
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("an http:// URL");
    let path = &url["http://".len() + authority.len()..];
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut wire = Vec::new();
    match framing {
        Framing::ContentLength => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            wire.extend_from_slice(head.as_bytes());
            wire.extend_from_slice(&body);
        }
        Framing::Chunked => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            wire.extend_from_slice(head.as_bytes());
            for chunk in body.chunks(16 * 1024) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
        }
    }
    let mut writer = stream.try_clone().expect("clone the stream");
    // Write errors are expected once the server has answered and closed.
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&wire);
    });
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            // A reset after the whole answer arrived (the server closed with our body unread).
            Err(_) if complete_response(&received) => break,
            Err(e) => panic!("POST {url}: {e} after {} bytes", received.len()),
        }
        if complete_response(&received) {
            break;
        }
    }
    drop(stream);
    let _ = sending.join();
    parse_response(&received).unwrap_or_else(|| {
        panic!(
            "POST {url}: no complete answer: {:?}",
            String::from_utf8_lossy(&received)
        )
    })
}

/// Header block end and declared length, when both are known.
fn response_parts(bytes: &[u8]) -> Option<(usize, Option<usize>)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    Some((end, length))
}

fn complete_response(bytes: &[u8]) -> bool {
    matches!(response_parts(bytes), Some((end, Some(len))) if bytes.len() >= end + len)
}

fn parse_response(bytes: &[u8]) -> Option<Reply> {
    let (end, length) = response_parts(bytes)?;
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = &bytes[end..];
    let body = match length {
        Some(len) => body.get(..len)?,
        None => body,
    };
    Some(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(body).to_string(),
    })
}
