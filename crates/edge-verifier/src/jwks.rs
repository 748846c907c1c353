//! The issuer's public keys (RFC 7517) and the in-memory cache policy for them.
//!
//! The cache lives as long as the isolate. It honours the JWKS response's `Cache-Control`
//! (`max-age`, bounded), refetches when it has expired or when a token names a `kid` it does
//! not hold (key rotation), but never more than once per [`MIN_FETCH_INTERVAL`], so a flood of
//! tokens with made-up `kid`s cannot turn into a flood of fetches. Time is passed in.
//!
//! Until a fetch has succeeded once, every request that needs keys fetches them itself: a
//! request cannot wait for another request's fetch, because workerd forbids one request's code
//! from continuing in another's I/O context ("Cannot perform I/O on behalf of a different
//! request"). So a burst of an isolate's first requests costs one fetch each, and later, while a
//! refetch for a new `kid` is under way, other tokens with that `kid` are refused (401) for the
//! few milliseconds it takes.
//!
//! A failed fetch before any success starts a backoff of [`FETCH_FAILURE_BACKOFF`]: until it
//! ends, requests are refused with 503 and `Retry-After` (RFC 9110 §15.6.4, §10.2.3) without
//! fetching, so an unreachable issuer is not asked once per request. 503, not 401: the token
//! may be valid; the API cannot tell yet (RFC 6750 §3.1 reserves `invalid_token` for tokens
//! found bad). Once keys have loaded, a failed refetch keeps serving them (stale beats down).

use serde_json::{Map, Value};
use std::rc::Rc;

/// Fewest seconds between two fetches of the JWKS.
pub const MIN_FETCH_INTERVAL: u64 = 30;
/// Seconds without a fetch after a failed fetch, while no keys have ever loaded; equals the
/// `Retry-After` of the 503 ([`crate::AuthError::Unavailable`]).
pub const FETCH_FAILURE_BACKOFF: u64 = 30;
/// Cache lifetime when the response has no `max-age`.
pub const DEFAULT_TTL: u64 = 300;
/// Longest cache lifetime, whatever `max-age` says.
pub const MAX_TTL: u64 = 86_400;
/// Largest JWKS document and key count read.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
const MAX_KEYS: usize = 32;

/// The algorithms the provider signs with (its `SIGNING_KEYS`), and no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Alg {
    ES256,
    RS256,
    EdDSA,
}

impl Alg {
    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "ES256" => Some(Alg::ES256),
            "RS256" => Some(Alg::RS256),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::RS256 => "RS256",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// (kty, crv, public members) of keys for this algorithm (RFC 7518 §6, RFC 8037 §2).
    fn key_shape(self) -> (&'static str, Option<&'static str>, &'static [&'static str]) {
        match self {
            Alg::ES256 => ("EC", Some("P-256"), &["kty", "crv", "x", "y"]),
            Alg::RS256 => ("RSA", None, &["kty", "n", "e"]),
            Alg::EdDSA => ("OKP", Some("Ed25519"), &["kty", "crv", "x"]),
        }
    }
}

/// One public verification key.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwk {
    pub kid: String,
    pub alg: Alg,
    /// Only the public members (`kty`, `crv`, `x`, `y`, `n`, `e`): what WebCrypto imports.
    pub params: Map<String, Value>,
}

impl Jwk {
    /// Reads one JWKS entry. `None` for keys this verifier must not use: no `kid`, `use` other
    /// than `sig`, an algorithm the provider does not sign with, or members that do not fit it.
    pub fn from_value(value: &Value) -> Option<Jwk> {
        let obj = value.as_object()?;
        let s = |name: &str| obj.get(name).and_then(Value::as_str);
        let kid = s("kid").filter(|k| !k.is_empty() && k.len() <= 256)?;
        if s("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let alg = match s("alg") {
            Some(name) => Alg::parse(name)?,
            // RFC 7517 §4.4: `alg` is optional; infer it from the key type.
            None => match (s("kty")?, s("crv")) {
                ("EC", Some("P-256")) => Alg::ES256,
                ("RSA", _) => Alg::RS256,
                ("OKP", Some("Ed25519")) => Alg::EdDSA,
                _ => return None,
            },
        };
        let (kty, crv, members) = alg.key_shape();
        if s("kty")? != kty || crv.is_some_and(|c| s("crv") != Some(c)) {
            return None;
        }
        let mut params = Map::new();
        for m in members {
            params.insert(
                (*m).into(),
                Value::String(s(m).filter(|v| !v.is_empty())?.into()),
            );
        }
        Some(Jwk {
            kid: kid.into(),
            alg,
            params,
        })
    }
}

/// Parses a JWKS document (`{"keys": [...]}`), keeping the usable keys.
pub fn parse_jwks(body: &str) -> Result<Vec<Jwk>, String> {
    if body.len() > MAX_JWKS_BYTES {
        return Err("JWKS document larger than 64 KiB".into());
    }
    let doc: Value = serde_json::from_str(body).map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let list = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no \"keys\" array")?;
    Ok(list
        .iter()
        .take(MAX_KEYS)
        .filter_map(Jwk::from_value)
        .collect())
}

/// Cache lifetime from a `Cache-Control` value (RFC 9111 §5.2.2): `max-age`, `no-store` and
/// `no-cache` mean "refetch as soon as allowed"; bounded to [`MIN_FETCH_INTERVAL`, `MAX_TTL`].
pub fn ttl_from_cache_control(value: Option<&str>) -> u64 {
    let mut ttl = DEFAULT_TTL;
    for directive in value.unwrap_or("").split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return MIN_FETCH_INTERVAL;
        }
        if let Some(age) = directive.strip_prefix("max-age=") {
            if let Ok(age) = age.trim_matches('"').parse::<u64>() {
                ttl = age;
            }
        }
    }
    ttl.clamp(MIN_FETCH_INTERVAL, MAX_TTL)
}

/// What to do for a token's `kid`.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Verify with this key (shared with the cache, not copied per request).
    Use(Rc<Jwk>),
    /// Fetch the JWKS first (expired, never fetched, or unknown `kid` and allowed to refetch).
    Fetch,
    /// Unknown `kid`, and the JWKS was fetched too recently to try again.
    Unknown,
    /// No keys ever loaded and the last fetch failed less than [`FETCH_FAILURE_BACKOFF`] ago.
    BackingOff,
}

#[derive(Debug, Default)]
pub struct JwksCache {
    keys: Vec<Rc<Jwk>>,
    expires_at: u64,
    last_fetch: Option<u64>,
    /// Whether a fetch has ever succeeded.
    loaded: bool,
    /// When the last fetch failed (cleared by a success).
    failed_at: Option<u64>,
}

impl JwksCache {
    pub fn new() -> JwksCache {
        JwksCache::default()
    }

    fn may_fetch(&self, now: u64) -> bool {
        !self.loaded
            || self
                .last_fetch
                .is_none_or(|t| now >= t.saturating_add(MIN_FETCH_INTERVAL))
    }

    pub fn find(&self, kid: &str) -> Option<Rc<Jwk>> {
        self.keys.iter().find(|k| k.kid == kid).cloned()
    }

    pub fn lookup(&self, kid: &str, now: u64) -> Lookup {
        let backing_off = self
            .failed_at
            .is_some_and(|t| now < t.saturating_add(FETCH_FAILURE_BACKOFF));
        if !self.loaded && backing_off {
            return Lookup::BackingOff;
        }
        let fresh = self.last_fetch.is_some() && now < self.expires_at;
        match self.find(kid) {
            Some(key) if fresh || !self.may_fetch(now) => Lookup::Use(key),
            None if !self.may_fetch(now) => Lookup::Unknown,
            _ => Lookup::Fetch,
        }
    }

    /// Called before fetching, so that requests arriving meanwhile keep the current keys and do
    /// not start fetches of their own.
    pub fn begin_fetch(&mut self, now: u64) {
        self.last_fetch = Some(now);
    }

    pub fn store(&mut self, keys: Vec<Jwk>, ttl: u64, now: u64) {
        self.keys = keys.into_iter().map(Rc::new).collect();
        self.loaded = true;
        self.failed_at = None;
        self.expires_at = now.saturating_add(ttl);
    }

    /// Records a failed fetch: before any success, it starts the backoff.
    pub fn fetch_failed(&mut self, now: u64) {
        self.failed_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ec(kid: &str) -> Value {
        json!({"kty":"EC","crv":"P-256","x":"xx","y":"yy","kid":kid,"alg":"ES256","use":"sig"})
    }

    #[test]
    fn reads_the_providers_three_key_types_with_public_members_only() {
        let body = json!({"keys": [
            ec("e"),
            {"kty":"RSA","n":"nn","e":"AQAB","kid":"r","alg":"RS256","d":"private!"},
            {"kty":"OKP","crv":"Ed25519","x":"xx","kid":"o"}
        ]})
        .to_string();
        let keys = parse_jwks(&body).unwrap();
        let algs: Vec<_> = keys.iter().map(|k| (k.kid.as_str(), k.alg)).collect();
        assert_eq!(
            algs,
            [("e", Alg::ES256), ("r", Alg::RS256), ("o", Alg::EdDSA)]
        );
        assert!(keys[1].params.get("d").is_none());
        assert_eq!(keys[0].params.len(), 4);
    }

    #[test]
    fn skips_keys_it_must_not_use() {
        let cases = [
            json!({"kty":"EC","crv":"P-256","x":"x","y":"y","alg":"ES256"}),
            json!({"kty":"EC","crv":"P-256","x":"x","y":"y","kid":"k","use":"enc"}),
            json!({"kty":"EC","crv":"P-384","x":"x","y":"y","kid":"k"}),
            json!({"kty":"EC","crv":"P-256","x":"x","y":"y","kid":"k","alg":"ES384"}),
            json!({"kty":"oct","k":"secret","kid":"k","alg":"HS256"}),
            json!({"kty":"RSA","n":"n","e":"e","kid":"k","alg":"ES256"}),
            json!({"kty":"EC","crv":"P-256","x":"x","kid":"k"}),
            json!("not an object"),
        ];
        for case in cases {
            assert_eq!(Jwk::from_value(&case), None, "{case}");
        }
    }

    #[test]
    fn rejects_documents_that_are_not_a_jwks() {
        assert!(parse_jwks("nope").is_err());
        assert!(parse_jwks("{}").is_err());
        assert!(parse_jwks(&" ".repeat(MAX_JWKS_BYTES + 1)).is_err());
    }

    #[test]
    fn ttl_follows_max_age_within_bounds() {
        let cases = [
            (None, DEFAULT_TTL),
            (Some("public, max-age=300, stale-while-revalidate=60"), 300),
            (Some("max-age=3600"), 3600),
            (Some("max-age=5"), MIN_FETCH_INTERVAL),
            (Some("max-age=99999999"), MAX_TTL),
            (Some("no-store"), MIN_FETCH_INTERVAL),
            (Some("public, No-Cache"), MIN_FETCH_INTERVAL),
            (Some("max-age=abc"), DEFAULT_TTL),
        ];
        for (header, want) in cases {
            assert_eq!(ttl_from_cache_control(header), want, "{header:?}");
        }
    }

    fn cache_with(kids: &[&str], ttl: u64, now: u64) -> JwksCache {
        let mut c = JwksCache::new();
        c.begin_fetch(now);
        let keys = kids
            .iter()
            .map(|k| Jwk::from_value(&ec(k)).unwrap())
            .collect();
        c.store(keys, ttl, now);
        c
    }

    #[test]
    fn an_empty_cache_fetches() {
        assert_eq!(JwksCache::new().lookup("k", 0), Lookup::Fetch);
    }

    #[test]
    fn until_keys_are_first_loaded_every_lookup_fetches() {
        let mut c = JwksCache::new();
        c.begin_fetch(0); // under way, or failed
        assert_eq!(c.lookup("k", 1), Lookup::Fetch);
    }

    #[test]
    fn a_failed_first_fetch_backs_off_then_fetches_again() {
        let mut c = JwksCache::new();
        c.begin_fetch(100);
        c.fetch_failed(100);
        assert_eq!(
            c.lookup("k", 100 + FETCH_FAILURE_BACKOFF - 1),
            Lookup::BackingOff
        );
        assert_eq!(c.lookup("k", 100 + FETCH_FAILURE_BACKOFF), Lookup::Fetch);
    }

    #[test]
    fn a_failed_refetch_keeps_serving_loaded_keys() {
        let mut c = cache_with(&["k"], 300, 1000);
        c.begin_fetch(1300);
        c.fetch_failed(1300);
        assert!(matches!(c.lookup("k", 1301), Lookup::Use(_)));
    }

    #[test]
    fn a_fresh_cache_answers_known_kids_without_fetching() {
        let c = cache_with(&["k"], 300, 1000);
        assert!(matches!(c.lookup("k", 1299), Lookup::Use(k) if k.kid == "k"));
    }

    #[test]
    fn an_expired_cache_fetches_again() {
        let c = cache_with(&["k"], 300, 1000);
        assert_eq!(c.lookup("k", 1300), Lookup::Fetch);
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let c = cache_with(&["k"], 300, 1000);
        assert_eq!(
            c.lookup("new", 1000 + MIN_FETCH_INTERVAL - 1),
            Lookup::Unknown
        );
        assert_eq!(c.lookup("new", 1000 + MIN_FETCH_INTERVAL), Lookup::Fetch);
    }

    #[test]
    fn a_fetch_in_flight_keeps_serving_the_cached_keys() {
        let mut c = cache_with(&["k"], 300, 1000);
        assert_eq!(c.lookup("k", 1400), Lookup::Fetch);
        c.begin_fetch(1400); // another request is fetching; it failed or has not answered
        assert!(matches!(c.lookup("k", 1401), Lookup::Use(_)));
        assert_eq!(c.lookup("other", 1401), Lookup::Unknown);
    }
}
