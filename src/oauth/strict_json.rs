//! JSON objects as every JSON input is read: request bodies (token, revoke, introspect, the
//! admin API) and the login assertion's header and payload.
//!
//! RFC 8259 §4 leaves duplicate member names to the parser ("names within an object SHOULD be
//! unique"); `serde_json` keeps the last one. Two readers that disagree on which one counts is
//! how a checked value gets swapped for an unchecked one, and a repeated form parameter is
//! already refused (RFC 6749 §3.1), so a repeated member is refused at any depth: one rule for
//! both encodings.

use serde_json::{Map, Value};

/// Parses `bytes` as a JSON object whose members never repeat.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ObjectError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => check_members(bytes).map(|()| map),
        Ok(_) => Err(ObjectError::NotAnObject),
        Err(e) => Err(ObjectError::Malformed(e.to_string())),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectError {
    /// Not JSON (serde_json's message, with the position).
    Malformed(String),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A member name given twice in one object (the name, decoded).
    Repeated(String),
}

/// Refuses the first member name given twice within one object. `bytes` is valid JSON
/// (serde_json parsed it), so the structure is enough: a string followed by `:` is a member
/// name. Names are compared decoded, so `"a"` and `"\u0061"` are the same name, as serde_json
/// reads them.
fn check_members(bytes: &[u8]) -> Result<(), ObjectError> {
    // One entry per open container: the names seen so far in an object, `None` for an array.
    // (serde_json's own map type serves as the set: no second one in the bundle.)
    let mut open: Vec<Option<Map<String, Value>>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => open.push(Some(Map::new())),
            b'[' => open.push(None),
            b'}' | b']' => {
                open.pop();
            }
            b'"' => {
                let end = string_end(bytes, i);
                let mut next = end + 1;
                while bytes.get(next).is_some_and(|b| b" \t\r\n".contains(b)) {
                    next += 1;
                }
                if bytes.get(next) == Some(&b':') {
                    let name = match serde_json::from_slice::<Value>(&bytes[i..=end]) {
                        Ok(Value::String(name)) => name,
                        _ => String::new(),
                    };
                    if let Some(Some(names)) = open.last_mut() {
                        if names.insert(name.clone(), Value::Null).is_some() {
                            return Err(ObjectError::Repeated(name));
                        }
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Index of the quote closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_members_are_refused_at_any_depth() {
        let cases = [
            (
                r#"{"grant_type":"refresh_token","grant_type":"authorization_code"}"#,
                "grant_type",
            ),
            (r#"{"a":{"b":1,"b":2}}"#, "b"),
            (r#"{"a":[{"x":null , "x" :null}]}"#, "x"),
            (r#"{"a":1,"\u0061":2}"#, "a"),
            (r#"{"q\"":1,"q\u0022":2}"#, "q\""),
        ];
        for (text, name) in cases {
            assert_eq!(
                parse_object(text.as_bytes()),
                Err(ObjectError::Repeated(name.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn distinct_names_in_different_objects_and_string_values_are_fine() {
        let text = r#"{"s":"x:\"y\":","a":[1,"two",{"s":[]},"s"],"o":{"a":1,"s":{"s":2}},
            "k":"\\","A":2, "n" : {"s":1}}"#;
        let map = parse_object(text.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::Object(map), plain);
        assert_eq!(parse_object(b"[1]"), Err(ObjectError::NotAnObject));
        assert_eq!(parse_object(b"\"s\""), Err(ObjectError::NotAnObject));
        assert!(matches!(parse_object(b"{"), Err(ObjectError::Malformed(_))));
        assert!(matches!(parse_object(b""), Err(ObjectError::Malformed(_))));
    }
}
