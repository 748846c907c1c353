//! The verification pipeline: bearer token → header → key (cached JWKS) → signature →
//! claims → revocation list → scopes. The platform (signature primitive, JWKS fetch, KV) comes
//! in through two small traits, so the same rules run natively in tests and in the Worker.

use crate::claims::{self, AccessClaims, Expect};
use crate::error::AuthError;
use crate::jwks::{self, Jwk, JwksCache, Lookup};
use crate::jws;
use crate::revocation;
use std::cell::RefCell;
use std::rc::Rc;

/// Checks one signature with one public key (WebCrypto in the Worker).
#[allow(async_fn_in_trait)]
pub trait SignatureVerifier {
    /// Whether `signature` (JWS encoding: raw `r||s` for ECDSA) is valid for `message` under
    /// `key`, with `key.alg`. `Err` only when the check could not run (e.g. a key WebCrypto
    /// refuses to import); that refuses the token.
    async fn verify(&self, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String>;
}

/// A fetched JWKS document and its `Cache-Control` header.
pub struct JwksResponse {
    pub body: String,
    pub cache_control: Option<String>,
}

/// Where the keys and the revocation list come from (fetch / service binding and KV in the
/// Worker). Errors are private details for the log.
#[allow(async_fn_in_trait)]
pub trait Sources {
    async fn fetch_jwks(&self, jwks_uri: &str) -> Result<JwksResponse, String>;
    /// The values under `keys` in the provider's KV (`None` where absent), in their order, read
    /// in ONE operation (a bulk `get`): the revocation markers of [`crate::revocation`].
    async fn read_markers(&self, keys: &[String]) -> Result<Vec<Option<String>>, String>;
}

/// What tokens must match, and how refusals are worded.
#[derive(Debug, Clone)]
pub struct Config {
    /// The provider's issuer URL, byte for byte as in its metadata and the tokens' `iss`.
    pub issuer: String,
    /// The `aud` tokens must carry: the API's own resource URI when clients name it with
    /// RFC 8707 `resource` (the provider's `RESOURCES`), else the provider's
    /// `ACCESS_TOKEN_AUDIENCE` (by default its issuer). Compared as exact strings, so a
    /// token minted for another resource of the same provider is refused here.
    pub audience: String,
    /// Other `aud` values this API accepts: an API that is both the provider's default
    /// audience and an RFC 8707 resource (its own URI in `RESOURCES`) takes tokens for either.
    pub also_audiences: Vec<String>,
    /// Where the keys are: `{issuer}/.well-known/jwks.json` unless set.
    pub jwks_uri: String,
    /// `realm` of the `WWW-Authenticate` challenges.
    pub realm: String,
    /// URL of this API's RFC 9728 metadata, added to challenges as `resource_metadata`.
    pub resource_metadata: Option<String>,
    /// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
    pub leeway: u64,
    /// Whether to consult the revocation markers (one bulk KV read per request).
    pub check_revocation: bool,
}

impl Config {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Config {
        let issuer = issuer.into();
        Config {
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            audience: audience.into(),
            also_audiences: Vec::new(),
            realm: "api".into(),
            resource_metadata: None,
            leeway: 30,
            check_revocation: false,
        }
    }

    /// Also accepts tokens whose `aud` is `audience` (exact string), besides [`Config::audience`].
    pub fn also_accept_audience(mut self, audience: impl Into<String>) -> Config {
        self.also_audiences.push(audience.into());
        self
    }

    pub fn realm(mut self, realm: impl Into<String>) -> Config {
        self.realm = realm.into();
        self
    }

    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Config {
        self.jwks_uri = uri.into();
        self
    }

    pub fn resource_metadata(mut self, url: impl Into<String>) -> Config {
        self.resource_metadata = Some(url.into());
        self
    }

    pub fn leeway(mut self, seconds: u64) -> Config {
        self.leeway = seconds;
        self
    }

    pub fn check_revocation(mut self, on: bool) -> Config {
        self.check_revocation = on;
        self
    }
}

/// Verifies tokens for one issuer. Keep one per isolate: it holds the JWKS cache.
pub struct Verifier {
    config: Config,
    cache: RefCell<JwksCache>,
}

impl Verifier {
    pub fn new(config: Config) -> Verifier {
        Verifier {
            config,
            cache: RefCell::new(JwksCache::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The refusal as status, headers and body, with this API's realm and metadata URL.
    pub fn error_response(&self, error: &AuthError) -> crate::ErrorResponse {
        error.response(&self.config.realm, self.config.resource_metadata.as_deref())
    }

    /// Verifies the `Authorization` header's bearer token and that it grants every scope in
    /// `required`. `now` is seconds since the epoch.
    pub async fn verify(
        &self,
        crypto: &impl SignatureVerifier,
        sources: &impl Sources,
        authorization: Option<&str>,
        required: &[&str],
        now: u64,
    ) -> Result<AccessClaims, AuthError> {
        let token = jws::bearer_token(authorization)?;
        let jws = jws::parse(token)?;
        let key = self.key(sources, &jws.kid, now).await?;
        // RFC 8725 §3.1: the key decides the algorithm; a token may not pick another one.
        if key.alg != jws.alg {
            return Err(AuthError::InvalidToken(
                "The access token's alg does not match its key".into(),
            ));
        }
        let valid = crypto
            .verify(&key, jws.signing_input.as_bytes(), &jws.signature)
            .await
            .map_err(|e| AuthError::Unavailable(format!("signature check failed: {e}")))?;
        if !valid {
            return Err(AuthError::InvalidToken(
                "The access token's signature is invalid".into(),
            ));
        }
        let payload = jws::decode_object(jws.payload).ok_or_else(|| {
            AuthError::InvalidToken("The access token's payload is not JSON".into())
        })?;
        let claims = claims::check(
            &payload,
            &Expect {
                issuer: &self.config.issuer,
                audience: &self.config.audience,
                also: &self.config.also_audiences,
                leeway: self.config.leeway,
                now,
            },
        )?;
        if self.config.check_revocation {
            let keys = revocation::keys(&claims)?;
            let values = sources
                .read_markers(&keys)
                .await
                .map_err(|e| AuthError::Unavailable(format!("revocation list: {e}")))?;
            revocation::check(&claims, &values)?;
        }
        claims::require_scopes(&claims, required)?;
        Ok(claims)
    }

    /// The key for `kid`, from the cache or a (rate-limited) fetch of the JWKS.
    async fn key(&self, sources: &impl Sources, kid: &str, now: u64) -> Result<Rc<Jwk>, AuthError> {
        let unknown =
            || AuthError::InvalidToken("The access token's kid is not a known key".into());
        match self.cache.borrow().lookup(kid, now) {
            Lookup::Use(key) => return Ok(key),
            Lookup::Unknown => return Err(unknown()),
            Lookup::BackingOff => {
                return Err(AuthError::Unavailable(
                    "JWKS fetch failed recently; backing off".into(),
                ))
            }
            Lookup::Fetch => {}
        }
        self.cache.borrow_mut().begin_fetch(now);
        let fetched = sources
            .fetch_jwks(&self.config.jwks_uri)
            .await
            .and_then(|r| Ok((jwks::parse_jwks(&r.body)?, r.cache_control)));
        let mut cache = self.cache.borrow_mut();
        match fetched {
            Ok((keys, cache_control)) => {
                let ttl = jwks::ttl_from_cache_control(cache_control.as_deref());
                cache.store(keys, ttl, now);
                cache.find(kid).ok_or_else(unknown)
            }
            // Stale keys beat refusing every request while the issuer is unreachable.
            Err(e) => {
                cache.fetch_failed(now);
                cache
                    .find(kid)
                    .ok_or_else(|| AuthError::Unavailable(format!("JWKS fetch: {e}")))
            }
        }
    }
}
