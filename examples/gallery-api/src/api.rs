//! The endpoints behind authorization: each runs with the verified claims and reads or writes
//! only the caller's (`sub`) data. Storage comes in through [`Store`] (KV in the Worker).
//!
//! KV layout (namespace `GALLERY_KV`), one JSON array per user and kind, capped in length:
//! `galleries:{b64url(sub)}`, `images:{b64url(sub)}`, `webhooks:{b64url(sub)}`. KV has no
//! transactions: two simultaneous creations by one user may lose one (last write wins).

use crate::model::{self, Gallery, Image, Invalid, Webhook};
use crate::routes::Route;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edge_verifier::AccessClaims;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

#[allow(async_fn_in_trait)]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<String>, String>;
    async fn put(&self, key: &str, value: &str) -> Result<(), String>;
}

/// Status and JSON body of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// A private detail for the Worker log (never sent).
    pub log: Option<String>,
}

impl Reply {
    pub fn new(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            log: None,
        }
    }
}

/// An error in the provider's shape: `{"error", "error_description"}`.
pub fn error(status: u16, code: &str, description: &str) -> Reply {
    Reply::new(
        status,
        json!({"error": code, "error_description": description}),
    )
}

/// The request as the endpoints need it.
pub struct Input<'a> {
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub now: u64,
    /// A fresh random id for a new record.
    pub new_id: &'a dyn Fn() -> String,
}

fn key(kind: &str, sub: &str) -> String {
    format!("{kind}:{}", B64.encode(sub.as_bytes()))
}

async fn list<T: DeserializeOwned>(
    store: &impl Store,
    kind: &str,
    sub: &str,
) -> Result<Vec<T>, Reply> {
    let text = store.get(&key(kind, sub)).await.map_err(storage_error)?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| storage_error(e.to_string())),
    }
}

async fn save<T: Serialize>(
    store: &impl Store,
    kind: &str,
    sub: &str,
    items: &[T],
) -> Result<(), Reply> {
    let text = serde_json::to_string(items).map_err(|e| storage_error(e.to_string()))?;
    store
        .put(&key(kind, sub), &text)
        .await
        .map_err(storage_error)
}

fn storage_error(detail: impl std::fmt::Display) -> Reply {
    Reply {
        log: Some(format!("storage: {detail}")),
        ..error(
            503,
            "temporarily_unavailable",
            "Storage is unavailable; try again shortly",
        )
    }
}

fn bad_request(Invalid(description): Invalid) -> Reply {
    error(400, "invalid_request", &description)
}

fn too_many(kind: &str, max: usize) -> Reply {
    error(
        409,
        "limit_reached",
        &format!("You have the maximum of {max} {kind}"),
    )
}

/// Runs one route for the caller in `claims`.
pub async fn handle(
    route: Route,
    claims: &AccessClaims,
    input: &Input<'_>,
    store: &impl Store,
) -> Reply {
    match run(route, claims, input, store).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn run(
    route: Route,
    claims: &AccessClaims,
    input: &Input<'_>,
    store: &impl Store,
) -> Result<Reply, Reply> {
    let sub = claims.sub.as_str();
    let ok = |body: Value| Ok(Reply::new(200, body));
    match route {
        Route::Metadata | Route::McpMetadata | Route::Mcp => Err(error(
            500,
            "server_error",
            "metadata and MCP are not data routes",
        )),
        Route::Me => {
            ok(json!({"sub": sub, "client_id": claims.client_id, "scope": claims.scope()}))
        }
        Route::ListGalleries => {
            ok(json!({"galleries": list::<Gallery>(store, "galleries", sub).await?}))
        }
        Route::ListImages => ok(json!({"images": list::<Image>(store, "images", sub).await?})),
        Route::ListWebhooks => {
            ok(json!({"webhooks": list::<Webhook>(store, "webhooks", sub).await?}))
        }
        Route::Stats => {
            let galleries: Vec<Gallery> = list(store, "galleries", sub).await?;
            let images: Vec<Image> = list(store, "images", sub).await?;
            let webhooks: Vec<Webhook> = list(store, "webhooks", sub).await?;
            let per_gallery: serde_json::Map<String, Value> = galleries
                .iter()
                .map(|g| {
                    (
                        g.id.clone(),
                        json!(images.iter().filter(|i| i.gallery_id == g.id).count()),
                    )
                })
                .collect();
            ok(json!({"galleries": galleries.len(), "images": images.len(),
                      "webhooks": webhooks.len(), "images_per_gallery": per_gallery}))
        }
        Route::CreateGallery => {
            let obj = model::parse_object(input.content_type, input.body).map_err(bad_request)?;
            let mut all: Vec<Gallery> = list(store, "galleries", sub).await?;
            if all.len() >= model::MAX_GALLERIES {
                return Err(too_many("galleries", model::MAX_GALLERIES));
            }
            let g = model::new_gallery(&obj, (input.new_id)(), input.now).map_err(bad_request)?;
            all.push(g.clone());
            save(store, "galleries", sub, &all).await?;
            Ok(Reply::new(201, json!(g)))
        }
        Route::CreateImage => {
            let obj = model::parse_object(input.content_type, input.body).map_err(bad_request)?;
            let galleries: Vec<Gallery> = list(store, "galleries", sub).await?;
            let mut all: Vec<Image> = list(store, "images", sub).await?;
            if all.len() >= model::MAX_IMAGES {
                return Err(too_many("images", model::MAX_IMAGES));
            }
            let i = model::new_image(&obj, &galleries, (input.new_id)(), input.now)
                .map_err(bad_request)?;
            all.push(i.clone());
            save(store, "images", sub, &all).await?;
            Ok(Reply::new(201, json!(i)))
        }
        Route::CreateWebhook => {
            let obj = model::parse_object(input.content_type, input.body).map_err(bad_request)?;
            let mut all: Vec<Webhook> = list(store, "webhooks", sub).await?;
            if all.len() >= model::MAX_WEBHOOKS {
                return Err(too_many("webhooks", model::MAX_WEBHOOKS));
            }
            let w = model::new_webhook(&obj, (input.new_id)(), input.now).map_err(bad_request)?;
            all.push(w.clone());
            save(store, "webhooks", sub, &all).await?;
            Ok(Reply::new(201, json!(w)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    #[derive(Default)]
    struct Memory(RefCell<HashMap<String, String>>);

    impl Store for Memory {
        async fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok(self.0.borrow().get(key).cloned())
        }
        async fn put(&self, key: &str, value: &str) -> Result<(), String> {
            self.0.borrow_mut().insert(key.into(), value.into());
            Ok(())
        }
    }

    fn claims(sub: &str) -> AccessClaims {
        AccessClaims {
            sub: sub.into(),
            client_id: "app".into(),
            scopes: vec!["profile:read".into()],
            jti: "j".into(),
            exp: 0,
            iat: 0,
            gid: None,
            iat_ms: None,
        }
    }

    fn call(store: &Memory, sub: &str, route: Route, body: Value) -> Reply {
        let n = Cell::new(0);
        let id = || {
            n.set(n.get() + 1);
            format!("id{}", n.get())
        };
        let text = body.to_string();
        let input = Input {
            content_type: Some("application/json"),
            body: text.as_bytes(),
            now: 7,
            new_id: &id,
        };
        block_on(handle(route, &claims(sub), &input, store))
    }

    #[test]
    fn me_returns_the_callers_identity() {
        let r = call(&Memory::default(), "u1", Route::Me, Value::Null);
        assert_eq!(
            r.body,
            json!({"sub": "u1", "client_id": "app", "scope": "profile:read"})
        );
    }

    #[test]
    fn created_records_are_listed_for_their_owner_only() {
        let store = Memory::default();
        let g = call(
            &store,
            "ann",
            Route::CreateGallery,
            json!({"name": "Trips"}),
        );
        assert_eq!(g.status, 201);
        let gid = g.body["id"].as_str().unwrap().to_string();
        let img = json!({"gallery_id": gid, "title": "Beach", "url": "https://cdn.example/b.jpg"});
        assert_eq!(
            call(&store, "ann", Route::CreateImage, img.clone()).status,
            201
        );
        assert_eq!(
            call(&store, "bob", Route::CreateImage, img).status,
            400,
            "not bob's gallery"
        );
        assert_eq!(
            call(&store, "ann", Route::ListGalleries, Value::Null).body["galleries"][0]["name"],
            "Trips"
        );
        assert_eq!(
            call(&store, "bob", Route::ListGalleries, Value::Null).body,
            json!({"galleries": []})
        );
        let stats = call(&store, "ann", Route::Stats, Value::Null).body;
        assert_eq!(
            (stats["galleries"].clone(), stats["images"].clone()),
            (json!(1), json!(1))
        );
        assert_eq!(stats["images_per_gallery"][&gid], 1);
    }

    #[test]
    fn invalid_input_is_a_400_naming_the_field() {
        let r = call(
            &Memory::default(),
            "u",
            Route::CreateWebhook,
            json!({"url": "http://x"}),
        );
        assert_eq!(r.status, 400);
        assert_eq!(r.body["error"], "invalid_request");
        assert!(r.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("url:"));
    }

    #[test]
    fn collections_are_capped() {
        let store = Memory::default();
        for _ in 0..model::MAX_WEBHOOKS {
            let r = call(
                &store,
                "u",
                Route::CreateWebhook,
                json!({"url": "https://h.example/", "events": ["image.created"]}),
            );
            assert_eq!(r.status, 201);
        }
        let r = call(
            &store,
            "u",
            Route::CreateWebhook,
            json!({"url": "https://h.example/", "events": ["image.created"]}),
        );
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (409, Some("limit_reached"))
        );
    }

    #[test]
    fn a_subject_with_a_colon_cannot_reach_another_users_key() {
        assert_ne!(key("galleries", "a:b"), key("galleries", "a"));
        assert!(!key("galleries", "a:b").starts_with(&key("galleries", "a")));
    }
}
