//! Reading JSON request bodies field by field, so every error names the field to fix.

use crate::error::OAuthError;
use crate::http::Request;
use serde_json::{Map, Value};

/// The body as a JSON object. Wrong content type, malformed JSON or a non-object → 400.
pub fn object_body(req: &Request) -> Result<JsonObject, OAuthError> {
    match req.content_type().as_deref() {
        Some("application/json") => {}
        _ => {
            return Err(OAuthError::invalid_request(
                "Content-Type must be application/json",
            ))
        }
    }
    // The same reading as token requests: a repeated member is refused (see `strict_json`).
    crate::oauth::params::json_object(&req.body).map(JsonObject)
}

pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// A string field; absent or `null` → `None`.
    pub fn opt_str(&self, field: &str) -> Result<Option<String>, OAuthError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(type_error(field, "a string")),
        }
    }

    /// A boolean field; absent or `null` → `None`.
    pub fn opt_bool(&self, field: &str) -> Result<Option<bool>, OAuthError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_error(field, "true or false")),
        }
    }

    pub fn str(&self, field: &str) -> Result<String, OAuthError> {
        self.opt_str(field)?
            .ok_or_else(|| OAuthError::invalid_request(format!("{field} is required")))
    }

    /// An array of strings; absent or `null` → `None`.
    pub fn opt_str_array(&self, field: &str) -> Result<Option<Vec<String>>, OAuthError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(type_error(field, "an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(type_error(field, "an array of strings")),
        }
    }
}

fn type_error(field: &str, expected: &str) -> OAuthError {
    OAuthError::invalid_request(format!("{field} must be {expected}"))
}
