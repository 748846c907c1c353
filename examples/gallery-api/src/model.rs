//! Records the API stores per user, and validation of what clients send. Every rule that can
//! fail names the field, so a 400 tells the developer what to fix.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest request body read.
pub const MAX_BODY: usize = 16 * 1024;
/// Per-user limits, which also bound each KV value.
pub const MAX_GALLERIES: usize = 100;
pub const MAX_IMAGES: usize = 500;
pub const MAX_WEBHOOKS: usize = 20;

pub const VISIBILITIES: [&str; 3] = ["private", "unlisted", "public"];
pub const WEBHOOK_EVENTS: [&str; 4] = [
    "gallery.created",
    "gallery.deleted",
    "image.created",
    "image.deleted",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    pub visibility: String,
    pub created_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub gallery_id: String,
    pub title: String,
    pub url: String,
    pub created_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: u64,
}

/// What a client sent wrong: becomes `400 invalid_request` with this description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

fn invalid(field: &str, rule: &str) -> Invalid {
    Invalid(format!("{field}: {rule}"))
}

/// The JSON object of a request body.
pub fn parse_object(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, Invalid> {
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(Invalid("Content-Type must be application/json".into()));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Invalid("The body must be a JSON object".into())),
        Err(e) => Err(Invalid(format!("The body is not valid JSON: {e}"))),
    }
}

/// A required or optional text field: trimmed, `min..=max` characters, no control characters.
fn text(
    obj: &Map<String, Value>,
    field: &str,
    min: usize,
    max: usize,
) -> Result<Option<String>, Invalid> {
    let value = match obj.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim()),
        Some(_) => return Err(invalid(field, "must be a string")),
    };
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return if min > 0 {
            Err(invalid(field, "is required"))
        } else {
            Ok(None)
        };
    };
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(invalid(
            field,
            &format!("must be {min} to {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(Some(value.to_string()))
}

fn required(obj: &Map<String, Value>, field: &str, max: usize) -> Result<String, Invalid> {
    Ok(text(obj, field, 1, max)?.unwrap_or_default())
}

/// An absolute `https` URL (webhooks and images are fetched by others; no plain http).
fn https_url(obj: &Map<String, Value>, field: &str) -> Result<String, Invalid> {
    let url = required(obj, field, 2000)?;
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| invalid(field, "must be an https URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') || url.contains(char::is_whitespace) {
        return Err(invalid(
            field,
            "must be an https URL with a host and no credentials",
        ));
    }
    Ok(url)
}

pub fn new_gallery(obj: &Map<String, Value>, id: String, now: u64) -> Result<Gallery, Invalid> {
    let visibility = text(obj, "visibility", 0, 20)?.unwrap_or_else(|| "private".into());
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return Err(invalid("visibility", "must be private, unlisted or public"));
    }
    Ok(Gallery {
        id,
        name: required(obj, "name", 100)?,
        description: text(obj, "description", 0, 1000)?,
        visibility,
        created_at: now,
    })
}

/// An image in one of `galleries` (the user's own).
pub fn new_image(
    obj: &Map<String, Value>,
    galleries: &[Gallery],
    id: String,
    now: u64,
) -> Result<Image, Invalid> {
    let gallery_id = required(obj, "gallery_id", 64)?;
    if !galleries.iter().any(|g| g.id == gallery_id) {
        return Err(invalid("gallery_id", "names no gallery of yours"));
    }
    Ok(Image {
        id,
        gallery_id,
        title: required(obj, "title", 200)?,
        url: https_url(obj, "url")?,
        created_at: now,
    })
}

pub fn new_webhook(obj: &Map<String, Value>, id: String, now: u64) -> Result<Webhook, Invalid> {
    let url = https_url(obj, "url")?;
    let Some(Value::Array(list)) = obj.get("events") else {
        return Err(invalid(
            "events",
            "must be a non-empty array of event names",
        ));
    };
    let mut events: Vec<String> = Vec::new();
    for e in list {
        let name = e
            .as_str()
            .filter(|n| WEBHOOK_EVENTS.contains(n))
            .ok_or_else(|| {
                invalid(
                    "events",
                    &format!("each must be one of {}", WEBHOOK_EVENTS.join(", ")),
                )
            })?;
        if !events.iter().any(|x| x == name) {
            events.push(name.into());
        }
    }
    if events.is_empty() {
        return Err(invalid(
            "events",
            "must be a non-empty array of event names",
        ));
    }
    Ok(Webhook {
        id,
        url,
        events,
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn body_must_be_a_json_object_sent_as_json() {
        assert!(parse_object(Some("application/json; charset=utf-8"), b"{}").is_ok());
        let cases: [(Option<&str>, &[u8], &str); 4] = [
            (None, b"{}", "Content-Type"),
            (Some("text/plain"), b"{}", "Content-Type"),
            (Some("application/json"), b"[1]", "JSON object"),
            (Some("application/json"), b"{", "not valid JSON"),
        ];
        for (ct, body, want) in cases {
            let Invalid(d) = parse_object(ct, body).unwrap_err();
            assert!(d.contains(want), "{d}");
        }
    }

    #[test]
    fn a_gallery_is_trimmed_and_defaults_to_private() {
        let g = new_gallery(&obj(json!({"name": "  Trips "})), "g1".into(), 5).unwrap();
        assert_eq!(
            (g.name.as_str(), g.visibility.as_str(), g.description),
            ("Trips", "private", None)
        );
    }

    #[test]
    fn gallery_rules_name_the_field() {
        let cases = [
            (json!({}), "name: is required"),
            (json!({"name": "   "}), "name: is required"),
            (json!({"name": 5}), "name: must be a string"),
            (json!({"name": "x".repeat(101)}), "name: must be 1 to 100"),
            (json!({"name": "a\u{7}b"}), "name: must not contain control"),
            (json!({"name": "a", "visibility": "secret"}), "visibility:"),
            (
                json!({"name": "a", "description": "d".repeat(1001)}),
                "description:",
            ),
        ];
        for (input, want) in cases {
            let Invalid(d) = new_gallery(&obj(input.clone()), "g".into(), 0).unwrap_err();
            assert!(d.starts_with(want), "{input}: {d}");
        }
    }

    #[test]
    fn an_image_must_belong_to_one_of_the_users_galleries_and_be_https() {
        let mine = new_gallery(&obj(json!({"name": "Mine"})), "g1".into(), 0).unwrap();
        let ok = json!({"gallery_id": "g1", "title": "Beach", "url": "https://cdn.example/b.jpg"});
        assert!(new_image(&obj(ok), std::slice::from_ref(&mine), "i".into(), 0).is_ok());
        let cases = [
            (
                json!({"gallery_id": "other", "title": "t", "url": "https://x.example/a"}),
                "gallery_id: names no gallery",
            ),
            (
                json!({"gallery_id": "g1", "url": "https://x.example/a"}),
                "title: is required",
            ),
            (
                json!({"gallery_id": "g1", "title": "t", "url": "http://x.example/a"}),
                "url: must be an https URL",
            ),
            (
                json!({"gallery_id": "g1", "title": "t", "url": "https://u:p@x.example/"}),
                "url: must be an https URL with",
            ),
            (
                json!({"gallery_id": "g1", "title": "t", "url": "https:///path"}),
                "url: must be an https URL with",
            ),
        ];
        for (input, want) in cases {
            let Invalid(d) = new_image(
                &obj(input.clone()),
                std::slice::from_ref(&mine),
                "i".into(),
                0,
            )
            .unwrap_err();
            assert!(d.starts_with(want), "{input}: {d}");
        }
    }

    #[test]
    fn webhook_events_must_be_known_and_are_deduplicated() {
        let w = new_webhook(
            &obj(json!({"url": "https://hooks.example/in", "events": ["image.created", "image.created"]})),
            "w".into(),
            0,
        )
        .unwrap();
        assert_eq!(w.events, ["image.created"]);
        for (input, want) in [
            (
                json!({"url": "https://h.example/"}),
                "events: must be a non-empty",
            ),
            (
                json!({"url": "https://h.example/", "events": []}),
                "events: must be a non-empty",
            ),
            (
                json!({"url": "https://h.example/", "events": ["user.deleted"]}),
                "events: each must be",
            ),
            (json!({"events": ["image.created"]}), "url: is required"),
        ] {
            let Invalid(d) = new_webhook(&obj(input.clone()), "w".into(), 0).unwrap_err();
            assert!(d.starts_with(want), "{input}: {d}");
        }
    }
}
