//! A statement both SQLite engines run: D1 (the system of record) and the hub's own storage
//! (the pop index and the live calls). The pipeline's rules are written once, as SQL with
//! bound values, and run in the hub first (the pop) and in D1 later (the outbox), so the two
//! can never decide differently.
use crate::platform::http::ApiResult;
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// One bound value. Serialisable, so a statement's values can wait in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The text: most are literals, kept as they are (a webhook runs a dozen statements).
    pub sql: std::borrow::Cow<'static, str>,
    pub params: Vec<Val>,
}

impl Stmt {
    pub fn new(sql: impl Into<std::borrow::Cow<'static, str>>, params: Vec<Val>) -> Self {
        Stmt {
            sql: sql.into(),
            params,
        }
    }

    /// The statement for D1.
    pub fn d1(&self, db: &D1Database) -> ApiResult<D1PreparedStatement> {
        Ok(db.prepare(&*self.sql).bind(&self.js_params())?)
    }

    /// Runs the statement on a Durable Object's SQLite storage (`?1` … bind by position
    /// there too).
    pub fn exec(&self, sql: &worker::SqlStorage) -> worker::Result<worker::SqlCursor> {
        sql.exec_raw(&self.sql, self.js_params())
    }

    /// The values as the runtime takes them, for D1 and the hub's SQLite alike: D1 takes JS
    /// numbers, and so does SQLite storage (`SqlStorageValue::Integer` is the same number,
    /// after asking JS whether it is a safe integer); ids, epoch ms and amounts stay below 2^53.
    fn js_params(&self) -> Vec<JsValue> {
        self.params
            .iter()
            .map(|v| match v {
                Val::Null => JsValue::NULL,
                Val::Int(i) => JsValue::from_f64(*i as f64),
                Val::Text(s) => JsValue::from_str(s),
            })
            .collect()
    }
}

/// Creates a Durable Object's own tables and indexes on its SQLite storage, in order. Run on
/// every wake-up: each statement says `IF NOT EXISTS`, so all but the first run change
/// nothing, and a failure leaves the object to answer from what it has.
pub fn create_all(sql: &worker::SqlStorage, ddl: &[&str]) {
    for statement in ddl {
        let _ = sql.exec(statement, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json() {
        let v = vec![Val::Null, Val::Int(-3), Val::Text("9".into())];
        let j = serde_json::to_string(&v).unwrap();
        assert_eq!(j, r#"[null,-3,"9"]"#);
        assert_eq!(serde_json::from_str::<Vec<Val>>(&j).unwrap(), v);
    }
}
