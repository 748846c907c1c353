//! JSON objects as every JSON input is read: request bodies (token, revoke, introspect, the
//! admin API) and the login assertion's header and payload.
//!
//! RFC 8259 §4 leaves duplicate member names to the parser ("names within an object SHOULD be
//! unique"); `serde_json` keeps the last one. Two readers that disagree on which one counts is
//! how a checked value gets swapped for an unchecked one, and a repeated form parameter is
//! already refused (RFC 6749 §3.1), so a repeated member is refused at any depth: one rule for
//! both encodings.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses `bytes` as a JSON object whose members never repeat. The error says what is wrong
/// (serde_json's message, with the position).
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ObjectError> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(ObjectError::NotAnObject),
        Err(e) => Err(ObjectError::Malformed(e.to_string())),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectError {
    /// Not JSON, or a member name repeated (the message names it).
    Malformed(String),
    /// Valid JSON, but not an object.
    NotAnObject,
}

/// A `serde_json::Value` that refuses repeated member names while it is built.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        // JSON text has no NaN or infinity, so this is always a number.
        Ok(Strict(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if out.contains_key(&name) {
                return Err(de::Error::custom(format_args!("member {name} is repeated")));
            }
            let Strict(value) = map.next_value()?;
            out.insert(name, value);
        }
        Ok(Strict(Value::Object(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_members_are_refused_at_any_depth() {
        let cases = [
            (
                r#"{"grant_type":"refresh_token","grant_type":"authorization_code"}"#,
                "member grant_type is repeated",
            ),
            (r#"{"a":{"b":1,"b":2}}"#, "member b is repeated"),
            (r#"{"a":[{"x":null,"x":null}]}"#, "member x is repeated"),
            (r#"{"a":1,"\u0061":2}"#, "member a is repeated"),
        ];
        for (text, message) in cases {
            match parse_object(text.as_bytes()) {
                Err(ObjectError::Malformed(e)) => assert!(e.contains(message), "{text}: {e}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn parses_like_serde_json_otherwise() {
        let text = r#"{"s":"x","n":-1,"u":18446744073709551615,"f":1.5,"b":true,"z":null,
            "a":[1,"two",{"k":[]}],"o":{"a":1},"A":2}"#;
        let strict = parse_object(text.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::Object(strict), plain);
        assert_eq!(parse_object(b"[1]"), Err(ObjectError::NotAnObject));
        assert_eq!(parse_object(b"\"s\""), Err(ObjectError::NotAnObject));
        assert!(matches!(parse_object(b"{"), Err(ObjectError::Malformed(_))));
        assert!(matches!(parse_object(b""), Err(ObjectError::Malformed(_))));
    }
}
