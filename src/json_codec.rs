//! Reading typed records out of JSON (stored records, the Worker↔object wire, configuration)
//! without serde's derived deserializers.
//!
//! Why: a derived `Deserialize` expands, for every type, into its own copy of serde_json's
//! parsing state machine (3–6 KB of wasm each), and the Worker's bundle has a size budget.
//! Here the text is parsed once by the `Value` parser the Worker needs anyway, and a type's
//! reader is a handful of field lookups. Writing stays `#[derive(Serialize)]`, which is small.
//!
//! Semantics follow serde's defaults, so records written by `Serialize` read back unchanged:
//! unknown members are ignored, an `Option` field may be missing or `null`, and a field listed
//! as defaulted may be missing.

use serde_json::{Map, Value};

/// A type read from a JSON value. The error names what is wrong (field path, expected kind).
pub trait FromJson: Sized {
    fn from_json(value: &Value) -> Result<Self, String>;

    /// The value of a member that is absent, if the type has one (`Option`: `None`).
    fn when_missing() -> Option<Self> {
        None
    }
}

/// Parses `text` and reads a `T` from it.
pub fn decode<T: FromJson>(text: &str) -> Result<T, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    T::from_json(&value)
}

/// The members of an object.
pub fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| "expected an object".to_string())
}

/// Member `name` of `map`, read as a `T`.
pub fn field<T: FromJson>(map: &Map<String, Value>, name: &str) -> Result<T, String> {
    match map.get(name) {
        Some(value) => T::from_json(value).map_err(|e| format!("{name}: {e}")),
        None => T::when_missing().ok_or_else(|| format!("missing field {name}")),
    }
}

/// Member `name` of `map`, or `T::default()` when it is absent (serde's `#[serde(default)]`).
pub fn field_or_default<T: FromJson + Default>(
    map: &Map<String, Value>,
    name: &str,
) -> Result<T, String> {
    match map.get(name) {
        Some(_) => field(map, name),
        None => Ok(T::default()),
    }
}

/// Implements [`FromJson`] for a struct whose fields are all `FromJson`, member names being
/// the field names. Fields after `;` may be absent (they take their `Default`).
#[macro_export]
macro_rules! impl_from_json {
    ($ty:ident { $($field:ident),* $(,)? $(; $($defaulted:ident),* $(,)?)? }) => {
        impl $crate::json_codec::FromJson for $ty {
            fn from_json(value: &serde_json::Value) -> Result<Self, String> {
                let map = $crate::json_codec::object(value)?;
                Ok($ty {
                    $($field: $crate::json_codec::field(map, stringify!($field))?,)*
                    $($($defaulted: $crate::json_codec::field_or_default(
                        map,
                        stringify!($defaulted),
                    )?,)*)?
                })
            }
        }
    };
}

impl FromJson for String {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "expected a string".to_string())
    }
}

impl FromJson for bool {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_bool()
            .ok_or_else(|| "expected true or false".to_string())
    }
}

impl FromJson for u64 {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_u64()
            .ok_or_else(|| "expected a non-negative integer".to_string())
    }
}

impl FromJson for i64 {
    fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_i64()
            .ok_or_else(|| "expected an integer".to_string())
    }
}

impl FromJson for u32 {
    fn from_json(value: &Value) -> Result<Self, String> {
        u32::try_from(u64::from_json(value)?).map_err(|_| "integer out of range".to_string())
    }
}

impl FromJson for usize {
    fn from_json(value: &Value) -> Result<Self, String> {
        usize::try_from(u64::from_json(value)?).map_err(|_| "integer out of range".to_string())
    }
}

impl FromJson for Value {
    fn from_json(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_json(other).map(Some),
        }
    }

    fn when_missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &Value) -> Result<Self, String> {
        let items = value
            .as_array()
            .ok_or_else(|| "expected an array".to_string())?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_json(item).map_err(|e| format!("[{i}]: {e}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, PartialEq, Serialize)]
    struct Sample {
        name: String,
        tags: Vec<String>,
        note: Option<String>,
        at: u64,
        seq: i64,
        flag: bool,
    }
    impl_from_json!(Sample { name, tags, note, at, seq; flag });

    #[test]
    fn reads_back_what_serialize_writes() {
        let sample = Sample {
            name: "é ü 🦀".into(),
            tags: vec!["a".into(), "b".into()],
            note: Some("n".into()),
            at: u64::MAX,
            seq: -3,
            flag: true,
        };
        let text = serde_json::to_string(&sample).unwrap();
        assert_eq!(decode::<Sample>(&text).unwrap(), sample);
    }

    #[test]
    fn optional_and_defaulted_members_may_be_absent_or_null() {
        let got: Sample = decode(r#"{"name":"x","tags":[],"note":null,"at":1,"seq":2}"#).unwrap();
        assert_eq!(got.note, None);
        assert!(!got.flag);
        let got: Sample = decode(r#"{"name":"x","tags":[],"at":1,"seq":2,"extra":[1]}"#).unwrap();
        assert_eq!(got.note, None);
    }

    #[test]
    fn errors_name_the_field_and_the_expected_kind() {
        let cases = [
            (r#"{"tags":[],"at":1,"seq":2}"#, "missing field name"),
            (
                r#"{"name":1,"tags":[],"at":1,"seq":2}"#,
                "name: expected a string",
            ),
            (
                r#"{"name":"x","tags":["a",2],"at":1,"seq":2}"#,
                "tags: [1]: expected a string",
            ),
            (
                r#"{"name":"x","tags":[],"at":-1,"seq":2}"#,
                "at: expected a non-negative",
            ),
            (
                r#"{"name":"x","tags":[],"at":1.5,"seq":2}"#,
                "at: expected a non-negative",
            ),
            (
                r#"{"name":"x","tags":[],"at":1,"seq":2,"flag":"yes"}"#,
                "flag: expected true",
            ),
            (r#"[1]"#, "expected an object"),
            (r#"{"name":"#, "EOF"),
        ];
        for (text, want) in cases {
            let err = decode::<Sample>(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn narrow_integers_refuse_out_of_range_values() {
        assert!(u32::from_json(&Value::from(u64::from(u32::MAX) + 1)).is_err());
        assert_eq!(u32::from_json(&Value::from(7)).unwrap(), 7);
        assert!(i64::from_json(&Value::from(u64::MAX)).is_err());
    }
}
