//! Request parameters from a query string, a form body or a JSON body, parsed once.
//!
//! RFC 6749 §3.1/§3.2: parameters must not repeat, and a parameter sent without a value is
//! treated as omitted. A few form fields (the consent page's `scope` checkboxes) may repeat.

use super::strict_json::{parse_object, ObjectError};
use crate::error::OAuthError;
use crate::http::Request;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Most parameters one request may carry (the largest real form, consent, has one per scope).
pub const MAX_PARAMS: usize = 100;

/// Longest single parameter value accepted; real values are far shorter.
pub const MAX_VALUE_LEN: usize = 8 * 1024;

impl Params {
    /// Builds from decoded pairs, refusing repeats of any name not in `repeatable`.
    pub fn new(pairs: Vec<(String, String)>, repeatable: &[&str]) -> Result<Params, OAuthError> {
        // Bounded before anything else: the repeat check must stay cheap on hostile input.
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthError::invalid_request(format!(
                "Too many parameters (at most {MAX_PARAMS})"
            )));
        }
        // A B-tree set: the bundle already carries B-trees (JSON objects), not hash tables.
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in &pairs {
            if value.len() > MAX_VALUE_LEN {
                return Err(OAuthError::invalid_request(format!("{name} is too long")));
            }
            if !seen.insert(name.as_str()) && !repeatable.contains(&name.as_str()) {
                return Err(OAuthError::invalid_request(format!(
                    "Parameter {name} is repeated"
                )));
            }
        }
        Ok(Params { pairs })
    }

    pub fn from_query(query: &str) -> Result<Params, OAuthError> {
        Params::from_query_allowing(query, &[])
    }

    /// A query string in which the names in `repeatable` may repeat.
    pub fn from_query_allowing(query: &str, repeatable: &[&str]) -> Result<Params, OAuthError> {
        Params::new(decode_form(query.as_bytes()), repeatable)
    }

    /// A POST body as form-urlencoded or JSON (an object of strings). Anything else is
    /// `invalid_request`, naming what was wrong.
    pub fn from_body(req: &Request, repeatable: &[&str]) -> Result<Params, OAuthError> {
        match req.content_type().as_deref() {
            Some("application/x-www-form-urlencoded") => {
                if std::str::from_utf8(&req.body).is_err() {
                    return Err(OAuthError::invalid_request("Form body is not valid UTF-8"));
                }
                Params::new(decode_form(&req.body), repeatable)
            }
            Some("application/json") => Params::new(decode_json(&req.body)?, &[]),
            Some(other) => Err(OAuthError::invalid_request(format!(
                "Unsupported Content-Type {other}: send application/x-www-form-urlencoded or application/json"
            ))),
            None => Err(OAuthError::invalid_request(
                "Content-Type is required: application/x-www-form-urlencoded or application/json",
            )),
        }
    }

    /// The value of `name`; empty values count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }

    /// Every non-empty value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The one reading of a JSON request body: an object, members not repeated.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, OAuthError> {
    match parse_object(body) {
        Ok(map) => Ok(map),
        Err(ObjectError::Malformed(e)) => Err(OAuthError::invalid_request(format!(
            "Malformed JSON body: {e}"
        ))),
        Err(ObjectError::NotAnObject) => {
            Err(OAuthError::invalid_request("JSON body must be an object"))
        }
        // The same rule and words as a repeated form parameter (`Params::new`).
        Err(ObjectError::Repeated(name)) => Err(OAuthError::invalid_request(format!(
            "Parameter {name} is repeated"
        ))),
    }
}

fn decode_form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// A JSON body's members as parameters; a repeated member is refused like a repeated form
/// parameter (see `strict_json`).
fn decode_json(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let map = json_object(body)?;
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(OAuthError::invalid_request(format!("{k} must be a string"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn body(ct: &str, b: &str) -> Request {
        Request::new(Method::Post, "/t")
            .with_header("content-type", ct)
            .with_body(b.as_bytes().to_vec())
    }

    #[test]
    fn form_and_json_bodies_give_the_same_params() {
        let f = Params::from_body(
            &body(
                "application/x-www-form-urlencoded; charset=utf-8",
                "a=1&b=x+y",
            ),
            &[],
        )
        .unwrap();
        let j =
            Params::from_body(&body("application/json", r#"{"a":"1","b":"x y"}"#), &[]).unwrap();
        for p in [f, j] {
            assert_eq!(p.get("a"), Some("1"));
            assert_eq!(p.get("b"), Some("x y"));
        }
    }

    #[test]
    fn refuses_bad_bodies_with_a_message() {
        let cases = [
            (
                body("text/plain", "a=1"),
                "Unsupported Content-Type text/plain",
            ),
            (
                Request::new(Method::Post, "/t").with_body(b"a=1".to_vec()),
                "Content-Type is required",
            ),
            (body("application/json", "{"), "Malformed JSON"),
            (body("application/json", "[]"), "must be an object"),
            (
                body("application/json", r#"{"code": 5}"#),
                "code must be a string",
            ),
            (
                body("application/x-www-form-urlencoded", "a=1&a=2"),
                "a is repeated",
            ),
            (
                body("application/json", r#"{"a": "x", "a": "y"}"#),
                "Parameter a is repeated",
            ),
        ];
        for (req, message) in cases {
            match Params::from_body(&req, &[]) {
                Err(e) => assert!(e.description.contains(message), "{e}"),
                Ok(p) => panic!("accepted: {:?}", p.get("a")),
            }
        }
        let non_utf8 = Request::new(Method::Post, "/t")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(vec![b'a', b'=', 0xff]);
        assert!(Params::from_body(&non_utf8, &[]).is_err());
    }

    #[test]
    fn empty_values_count_as_absent_and_repeatable_fields_collect() {
        let p = Params::from_body(
            &body(
                "application/x-www-form-urlencoded",
                "state=&scope=a&scope=b&scope=",
            ),
            &["scope"],
        )
        .unwrap();
        assert_eq!(p.get("state"), None);
        assert_eq!(p.all("scope"), vec!["a", "b"]);
        assert!(p
            .require("state")
            .unwrap_err()
            .description
            .contains("state is required"));
    }

    #[test]
    fn too_many_parameters_are_refused_before_any_other_work() {
        let q: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=x")).collect();
        let e = Params::from_query(&q.join("&")).unwrap_err();
        assert!(e.description.contains("Too many parameters"), "{e}");
        let q: Vec<String> = (0..MAX_PARAMS).map(|i| format!("p{i}=x")).collect();
        assert!(Params::from_query(&q.join("&")).is_ok());
    }

    #[test]
    fn huge_values_are_refused() {
        let q = format!("state={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert!(Params::from_query(&q).is_err());
    }
}
