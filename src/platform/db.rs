//! D1 binding helpers. Every statement binds its values (`?1`, `?2` …); no SQL is built from
//! input. Queries live with the resource they belong to.
use crate::platform::http::ApiResult;
use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
pub fn i(v: i64) -> JsValue {
    // D1 takes JS numbers; ids, epoch ms and stored amounts are kept below 2^53
    // (`customer::MAX_AMOUNT`).
    JsValue::from_f64(v as f64)
}
pub fn opt_i(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, i)
}
pub fn opt_s(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, s)
}
/// A viewer's scope (`access::Viewer::scope`): NULL for every store, else their stores as
/// one JSON array, for the `access` SQL fragments.
pub fn scope(viewer: &crate::domain::access::Viewer) -> JsValue {
    opt_s(viewer.scope().as_deref())
}
/// A list bound as one JSON text, read in SQL with `json_each(?n)`: one parameter whatever
/// the list's length (D1 allows 100 per statement).
pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> JsValue {
    s(&serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<D1PreparedStatement> {
    Ok(db.prepare(sql).bind(args)?)
}

/// Rows changed by a write.
pub fn changes(r: &D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

pub fn rows<T: DeserializeOwned>(r: &D1Result) -> ApiResult<Vec<T>> {
    Ok(r.results::<T>()?)
}

pub fn first<T: DeserializeOwned>(r: &D1Result) -> ApiResult<Option<T>> {
    Ok(r.results::<T>()?.into_iter().next())
}

pub fn count(r: &D1Result) -> ApiResult<i64> {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    Ok(first::<N>(r)?.map_or(0, |r| r.n))
}
