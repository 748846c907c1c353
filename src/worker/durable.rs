//! The per-user Durable Object class (`UserState`, SQLite-backed) and the Worker's side of
//! it: each `State` operation is one `fetch` to the user's object with a JSON `Call`.

use crate::state::durable::object;
use crate::state::durable::ops::{Answer, Call};
use crate::state::durable::sql::{Row, Sql, SqlValue};
use crate::state::durable::{LocalBoxFuture, Objects};
use crate::state::StateError;
use crate::worker::meter::{bump, Meter};
use worker::{
    durable_object, web_sys, DurableObject, Env, Method, ObjectNamespace, Request, RequestInit,
    Response, Result, SqlStorage, SqlStorageValue, State,
};

pub const BINDING: &str = "USER_STATE";

struct ObjectSql(SqlStorage);

impl Sql for ObjectSql {
    fn exec(&self, sql: &str, params: &[SqlValue]) -> std::result::Result<Vec<Row>, String> {
        let bindings: Vec<SqlStorageValue> = params
            .iter()
            .map(|p| match p {
                SqlValue::Null => SqlStorageValue::Null,
                SqlValue::Int(i) => SqlStorageValue::Integer(*i),
                SqlValue::Text(t) => SqlStorageValue::String(t.clone()),
            })
            .collect();
        let cursor = self.0.exec(sql, bindings).map_err(|e| e.to_string())?;
        cursor
            .raw()
            .map(|row| {
                row.map_err(|e| e.to_string()).map(|values| {
                    values
                        .into_iter()
                        .map(|v| match v {
                            SqlStorageValue::Integer(i) => SqlValue::Int(i),
                            SqlStorageValue::Float(f) => SqlValue::Int(f as i64),
                            SqlStorageValue::Boolean(b) => SqlValue::Int(b.into()),
                            SqlStorageValue::String(s) => SqlValue::Text(s),
                            _ => SqlValue::Null,
                        })
                        .collect()
                })
            })
            .collect()
    }
}

#[durable_object(fetch)]
pub struct UserState {
    sql: ObjectSql,
    migrated: std::cell::Cell<bool>,
}

impl DurableObject for UserState {
    fn new(state: State, _env: Env) -> Self {
        UserState {
            sql: ObjectSql(state.storage().sql()),
            migrated: std::cell::Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        // From here to the answer nothing awaits: the operation is atomic for this user.
        let answer: Answer = match serde_json::from_str::<Call>(&text) {
            Ok(call) => self
                .migrate()
                .and_then(|()| object::handle(&self.sql, call)),
            Err(e) => Err(StateError::Failed(format!("malformed call: {e}"))),
        };
        Response::from_json(&answer)
    }
}

impl UserState {
    fn migrate(&self) -> std::result::Result<(), StateError> {
        if !self.migrated.get() {
            object::migrate(&self.sql).map_err(StateError::Failed)?;
            self.migrated.set(true);
        }
        Ok(())
    }
}

/// The Worker's handle on the namespace.
pub struct WorkerObjects<'a>(pub Option<ObjectNamespace>, pub &'a Meter);

impl WorkerObjects<'_> {
    fn namespace(&self) -> std::result::Result<&ObjectNamespace, StateError> {
        self.0.as_ref().ok_or_else(|| {
            StateError::Unavailable(format!("the {BINDING} Durable Object binding is missing"))
        })
    }
}

impl Objects for WorkerObjects<'_> {
    fn id_for(&self, name: &str) -> std::result::Result<String, StateError> {
        self.namespace()?
            .id_from_name(name)
            .map(|id| id.to_string())
            .map_err(|e| StateError::Unavailable(format!("object id: {e}")))
    }

    fn is_valid_id(&self, id: &str) -> bool {
        self.0
            .as_ref()
            .is_some_and(|n| n.id_from_string(id).is_ok())
    }

    fn call(&self, call: Call) -> LocalBoxFuture<'_, Answer> {
        bump(&self.1.object_calls);
        Box::pin(async move {
            let unavailable = |e: worker::Error| StateError::Unavailable(e.to_string());
            let id = self
                .namespace()?
                .id_from_string(&call.object)
                .map_err(|_| StateError::Failed("not an object id".into()))?;
            let stub = id.get_stub().map_err(unavailable)?;
            let body =
                serde_json::to_string(&call).map_err(|e| StateError::Failed(e.to_string()))?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post).with_body(Some(body.into()));
            let req =
                Request::new_with_init("https://user-state/call", &init).map_err(unavailable)?;
            let resp = stub.fetch_with_request(req).await.map_err(unavailable)?;
            // Read by the runtime in one go: `worker::Response::text` streams it chunk by
            // chunk through the wasm boundary, several times the CPU for these small bodies.
            let resp: web_sys::Response = resp.into();
            let lost = |e: wasm_bindgen::JsValue| {
                StateError::Unavailable(format!("object answer: {:?}", e.as_string()))
            };
            let text = wasm_bindgen_futures::JsFuture::from(resp.text().map_err(lost)?)
                .await
                .map_err(lost)?
                .as_string()
                .unwrap_or_default();
            serde_json::from_str::<Answer>(&text)
                .map_err(|e| StateError::Unavailable(format!("object answer: {e}")))?
        })
    }
}
