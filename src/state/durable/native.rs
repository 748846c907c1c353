//! The object namespace natively: one SQLite database in memory per object, calls
//! serialised to JSON and back exactly as over the Worker's stub. Used by the conformance
//! suite and the in-process tests.

use super::object;
use super::ops::{Answer, Call};
use super::sql::{Row, Sql, SqlValue};
use super::wire;
use super::{LocalBoxFuture, Objects};
use crate::json_codec;
use crate::state::StateError;
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

struct Db(Connection);

impl Sql for Db {
    fn exec(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, String> {
        let mut statement = self.0.prepare_cached(sql).map_err(|e| e.to_string())?;
        let values: Vec<Value> = params
            .iter()
            .map(|p| match p {
                SqlValue::Null => Value::Null,
                SqlValue::Int(i) => Value::Integer(*i),
                SqlValue::Text(t) => Value::Text(t.clone()),
            })
            .collect();
        let width = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                    ValueRef::Integer(n) => SqlValue::Int(n),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into()),
                    _ => SqlValue::Null,
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}

/// One object's database, in memory with its tables (for tests of the object's logic).
pub fn object_db() -> impl Sql {
    let db = empty_db();
    object::migrate(&db).expect("schema");
    db
}

/// A database with no tables yet (an object before `migrate`).
pub fn empty_db() -> impl Sql {
    Db(Connection::open_in_memory().expect("sqlite in memory"))
}

#[derive(Default)]
pub struct NativeObjects {
    objects: RefCell<HashMap<String, Db>>,
    calls: Cell<usize>,
    unavailable: Cell<bool>,
    /// Calls that fail before reaching the object, and calls whose answer is lost after it ran.
    before: crate::store::faults::Faults,
    after: crate::store::faults::Faults,
}

impl NativeObjects {
    pub fn new() -> NativeObjects {
        NativeObjects::default()
    }

    /// Calls made so far (for cost tests).
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    /// From now on calls fail with probability `before` without reaching the object, and with
    /// probability `after` once the object has run them (the answer is lost).
    pub fn inject_faults(&self, before: f64, after: f64, seed: u64) {
        self.before.set(before, seed);
        self.after.set(after, seed.rotate_left(17) ^ 0x9e37_79b9);
    }

    /// Faults injected so far: (before the object, after it committed).
    pub fn faults_injected(&self) -> (usize, usize) {
        (self.before.injected(), self.after.injected())
    }

    /// Makes every call fail as an unreachable object would.
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.set(down);
    }
}

impl Objects for NativeObjects {
    fn id_for(&self, name: &str) -> Result<String, StateError> {
        Ok(Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    fn is_valid_id(&self, id: &str) -> bool {
        // Natively every well-formed id is one (an unknown one is simply an empty object).
        super::is_object_id(id)
    }

    fn call(&self, call: Call) -> LocalBoxFuture<'_, Answer> {
        self.calls.set(self.calls.get() + 1);
        let down = self.unavailable.get() || self.before.hit();
        let lose_answer = !down && self.after.hit();
        let wire = serde_json::to_string(&call).expect("calls serialize");
        Box::pin(async move {
            if down {
                return Err(StateError::Unavailable("object unreachable (test)".into()));
            }
            let call: Call = json_codec::decode(&wire).map_err(StateError::Failed)?;
            let mut objects = self.objects.borrow_mut();
            let db = objects.entry(call.object.clone()).or_insert_with(|| {
                let db = Db(Connection::open_in_memory().expect("sqlite in memory"));
                object::migrate(&db).expect("schema");
                db
            });
            let answer = object::handle(db, call);
            if lose_answer {
                return Err(StateError::Unavailable(
                    "object answer lost after it ran (test)".into(),
                ));
            }
            let wire = serde_json::to_string(&answer).expect("answers serialize");
            wire::decode_answer(&wire).map_err(StateError::Failed)?
        })
    }
}
