//! Signing keys from the `SIGNING_KEYS` secret, and the public JWKS derived from them.
//!
//! The secret holds a JSON array of JWKs (RFC 7517), or an object `{"keys": [...]}`. The first
//! key is the active one and must hold its private part; the others stay published in the JWKS
//! so tokens they signed keep verifying until they expire (rotation: put the new key first,
//! drop the old one after the access-token lifetime). Retired keys may be public-only.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The JWK members that make up the public key (RFC 7518 §6, RFC 8037 §2).
    fn public_members(self) -> &'static [&'static str] {
        match self {
            Alg::ES256 => &["kty", "crv", "x", "y"],
            Alg::RS256 => &["kty", "n", "e"],
            Alg::EdDSA => &["kty", "crv", "x"],
        }
    }

    fn expected_kty_crv(self) -> (&'static str, Option<&'static str>) {
        match self {
            Alg::ES256 => ("EC", Some("P-256")),
            Alg::RS256 => ("RSA", None),
            Alg::EdDSA => ("OKP", Some("Ed25519")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    /// The full private JWK; `None` for a retired, verification-only key.
    pub private_jwk: Option<Map<String, Value>>,
    /// Only the public members, plus `kid`, `alg` and `use`.
    pub public_jwk: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// Parses and validates the secret. Errors name the offending key.
    pub fn parse(text: &str) -> Result<SigningKeys, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
        let list = match value {
            Value::Array(list) => list,
            Value::Object(mut obj) => match obj.remove("keys") {
                Some(Value::Array(list)) => list,
                _ => return Err("expected a JSON array of JWKs or {\"keys\": [...]}".into()),
            },
            _ => return Err("expected a JSON array of JWKs or {\"keys\": [...]}".into()),
        };
        if list.is_empty() {
            return Err("holds no keys".into());
        }
        let mut keys = Vec::with_capacity(list.len());
        for (i, jwk) in list.into_iter().enumerate() {
            let key = parse_key(jwk).map_err(|e| format!("key #{}: {e}", i + 1))?;
            if keys.iter().any(|k: &SigningKey| k.kid == key.kid) {
                return Err(format!("key #{}: duplicate kid \"{}\"", i + 1, key.kid));
            }
            keys.push(key);
        }
        if keys[0].private_jwk.is_none() {
            return Err(
                "key #1 is the active signing key and must include its private part".into(),
            );
        }
        Ok(SigningKeys { keys })
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The key ID tokens of `alg` are signed with: the first key of that algorithm holding
    /// its private part. Access tokens keep [`Self::active`]; `SIGNING_KEYS` may hold keys of
    /// several algorithms (OpenID Connect Core §3.1.3.7: RS256 unless the client registered
    /// another `id_token_signed_response_alg`).
    pub fn signer(&self, alg: Alg) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.alg == alg && k.private_jwk.is_some())
    }

    /// The algorithms some key can sign with, in key order without repeats.
    pub fn signing_algs(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = Vec::new();
        for key in self.keys.iter().filter(|k| k.private_jwk.is_some()) {
            if !algs.contains(&key.alg.as_str()) {
                algs.push(key.alg.as_str());
            }
        }
        algs
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn all(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The JWKS document (RFC 7517 §5): every key still valid for verification.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| Value::Object(k.public_jwk.clone()))
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

fn str_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match jwk.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("\"{name}\" must be a non-empty string")),
        None => Err(format!("missing \"{name}\"")),
    }
}

fn parse_key(jwk: Value) -> Result<SigningKey, String> {
    let Value::Object(jwk) = jwk else {
        return Err("not a JSON object".into());
    };
    let kid = str_member(&jwk, "kid")?.to_string();
    if kid.len() > 128 {
        return Err("\"kid\" longer than 128 characters".into());
    }
    let alg_name = str_member(&jwk, "alg")?;
    let alg = Alg::parse(alg_name)
        .ok_or_else(|| format!("unsupported alg \"{alg_name}\" (use ES256, RS256 or EdDSA)"))?;
    let (kty, crv) = alg.expected_kty_crv();
    if str_member(&jwk, "kty")? != kty {
        return Err(format!("{} needs \"kty\": \"{kty}\"", alg.as_str()));
    }
    if let Some(crv) = crv {
        if str_member(&jwk, "crv")? != crv {
            return Err(format!("{} needs \"crv\": \"{crv}\"", alg.as_str()));
        }
    }
    let mut public = Map::new();
    for member in alg.public_members() {
        public.insert(
            (*member).into(),
            Value::String(str_member(&jwk, member)?.into()),
        );
    }
    public.insert("kid".into(), Value::String(kid.clone()));
    public.insert("alg".into(), Value::String(alg.as_str().into()));
    public.insert("use".into(), Value::String("sig".into()));
    let private_jwk = if jwk.contains_key("d") {
        str_member(&jwk, "d")?;
        Some(jwk)
    } else {
        None
    };
    Ok(SigningKey {
        kid,
        alg,
        private_jwk,
        public_jwk: public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_PRIVATE: &str = r#"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k1",
        "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
        "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM",
        "d":"ft9vxOD6LKKX9nHYu6bpr68C5Kwz7uE0EWtSxucdyNM"}"#;
    const EC_PUBLIC_OLD: &str = r#"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k0",
        "x":"zItATn9mjHnIwIxpcfVcqRtMtVEzrU3AumuSe0P9U_A",
        "y":"ysG2k6fjBigIJj6OK1dIp8A7rhFUpwYDxTx0lqFNPMM"}"#;

    #[test]
    fn first_key_is_active_and_all_are_published() {
        let keys = SigningKeys::parse(&format!("[{EC_PRIVATE},{EC_PUBLIC_OLD}]")).unwrap();
        assert_eq!(keys.active().kid, "k1");
        let jwks = keys.jwks();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["k1", "k0"]);
    }

    #[test]
    fn jwks_never_contains_private_members() {
        let keys = SigningKeys::parse(&format!("{{\"keys\":[{EC_PRIVATE}]}}")).unwrap();
        let text = keys.jwks().to_string();
        assert!(!text.contains("\"d\""));
        assert!(text.contains("\"use\":\"sig\""));
    }

    #[test]
    fn rejects_bad_key_sets() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[]", "no keys"),
            ("42", "expected a JSON array"),
            (EC_PUBLIC_OLD, "expected a JSON array"),
            (
                &format!("[{EC_PUBLIC_OLD}]"),
                "must include its private part",
            ),
            (&format!("[{EC_PRIVATE},{EC_PRIVATE}]"), "duplicate kid"),
            (
                r#"[{"kty":"EC","crv":"P-256","alg":"HS256","kid":"a","d":"x"}]"#,
                "unsupported alg",
            ),
            (
                r#"[{"kty":"RSA","crv":"P-256","alg":"ES256","kid":"a","d":"x"}]"#,
                "\"kty\": \"EC\"",
            ),
            (
                r#"[{"kty":"EC","crv":"P-384","alg":"ES256","kid":"a","d":"x"}]"#,
                "P-256",
            ),
            (
                r#"[{"kty":"EC","crv":"P-256","alg":"ES256","d":"x"}]"#,
                "missing \"kid\"",
            ),
            (
                r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"a","x":"1","d":"x"}]"#,
                "missing \"y\"",
            ),
        ];
        for (input, expected) in cases {
            let err = SigningKeys::parse(input).unwrap_err();
            assert!(
                err.contains(expected),
                "{input}: got {err:?}, want {expected:?}"
            );
        }
    }

    #[test]
    fn id_token_signer_is_the_first_private_key_of_its_alg() {
        let text = r#"[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"e1","x":"a","y":"b","d":"c"},
                      {"kty":"RSA","alg":"RS256","kid":"r0","n":"AQAB","e":"AQAB"},
                      {"kty":"RSA","alg":"RS256","kid":"r1","n":"AQAB","e":"AQAB","d":"AQ"}]"#;
        let keys = SigningKeys::parse(text).unwrap();
        assert_eq!(keys.active().kid, "e1", "access tokens keep the first key");
        assert_eq!(
            keys.signer(Alg::RS256).unwrap().kid,
            "r1",
            "r0 is public only"
        );
        assert_eq!(keys.signer(Alg::ES256).unwrap().kid, "e1");
        assert!(keys.signer(Alg::EdDSA).is_none());
        assert_eq!(keys.signing_algs(), ["ES256", "RS256"]);
    }

    #[test]
    fn rsa_and_eddsa_keys_publish_their_public_members() {
        let text = r#"[{"kty":"RSA","alg":"RS256","kid":"r","n":"AQAB","e":"AQAB","d":"AQ","p":"x"},
                      {"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"e","x":"abc"}]"#;
        let keys = SigningKeys::parse(text).unwrap();
        assert_eq!(keys.active().alg, Alg::RS256);
        let rsa = &keys.jwks()["keys"][0];
        assert_eq!(rsa["n"], "AQAB");
        assert!(rsa.get("p").is_none());
        assert_eq!(keys.jwks()["keys"][1]["crv"], "Ed25519");
    }
}
