//! The per-user Durable Object class (`UserState`, SQLite-backed) and the Worker's side of
//! it: each `State` operation is one `fetch` to the user's object with a JSON `Call`.

use crate::json_codec;
use crate::state::durable::object;
use crate::state::durable::ops::{Answer, Call, Op};
use crate::state::durable::sql::{Row, Sql, SqlValue};
use crate::state::durable::wire;
use crate::state::durable::{LocalBoxFuture, Objects};
use crate::state::StateError;
use crate::worker::js;
use crate::worker::meter::{bump, Meter};
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, ObjectNamespace, Request, Response, Result, SqlStorage,
    SqlStorageValue, State,
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

#[durable_object(alarm)]
pub struct UserState {
    state: State,
    sql: ObjectSql,
    migrated: std::cell::Cell<bool>,
}

impl DurableObject for UserState {
    fn new(state: State, _env: Env) -> Self {
        UserState {
            sql: ObjectSql(state.storage().sql()),
            state,
            migrated: std::cell::Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let text = req.text().await?;
        let mut counted = false;
        // From here to the answer nothing awaits: the operation is atomic for this user.
        let answer: Answer = match json_codec::decode::<Call>(&text) {
            Ok(call) => {
                counted = matches!(call.op, Op::CountAttempt { .. });
                self.migrate()
                    .and_then(|()| object::handle(&self.sql, call))
            }
            Err(e) => Err(StateError::Failed(format!("malformed call: {e}"))),
        };
        if counted {
            // An object made to count attempts (most often for an email with no account) is
            // removed once they expire, rather than kept forever (issue 18).
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                let after = std::time::Duration::from_secs(object::IDLE_CHECK_SECONDS);
                storage.set_alarm(after).await?;
            }
        }
        let text =
            serde_json::to_string(&answer).map_err(|e| worker::Error::RustError(e.to_string()))?;
        Response::ok(text)
    }

    async fn alarm(&self) -> Result<Response> {
        let now = (js_sys::Date::now() / 1000.0) as u64;
        let storage = self.state.storage();
        let idle = self
            .migrate()
            .and_then(|()| object::idle(&self.sql, now))
            .map_err(|e| worker::Error::RustError(format!("{e:?}")))?;
        match idle {
            object::Idle::Remove => storage.delete_all().await?,
            object::Idle::CheckAgainIn(seconds) => {
                storage
                    .set_alarm(std::time::Duration::from_secs(seconds))
                    .await?
            }
            object::Idle::Keep => {}
        }
        Response::ok("")
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
            let stub = id.get_stub().map_err(unavailable)?.into_rpc::<JsValue>();
            let body =
                serde_json::to_string(&call).map_err(|e| StateError::Failed(e.to_string()))?;
            let init = js::object(&[("method", "POST".into()), ("body", body.into())]);
            let failed = |e: String| StateError::Unavailable(e);
            let resp = js::call(&stub, "fetch", &[&"https://user-state/call".into(), &init])
                .await
                .map_err(failed)?;
            let text = js::call(&resp, "text", &[]).await.map_err(failed)?;
            let text = text.as_string().unwrap_or_default();
            wire::decode_answer(&text)
                .map_err(|e| StateError::Unavailable(format!("object answer: {e}")))?
        })
    }
}
