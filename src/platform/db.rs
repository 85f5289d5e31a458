//! D1 helpers. Every statement binds its values (`?1`, `?2` …); no SQL is built from input.
//! The values are the one vocabulary of bound values, [`Val`] (`platform::sql`): these are its
//! shorthands, and [`stmt`] prepares a [`Stmt`] for D1.
use crate::platform::http::ApiResult;
pub use crate::platform::sql::{Stmt, Val};
use serde::de::DeserializeOwned;
use worker::{D1Database, D1PreparedStatement, D1Result};

pub fn s(v: &str) -> Val {
    Val::Text(v.to_string())
}
/// An integer. D1 takes JS numbers; ids, epoch ms and stored amounts are kept below 2^53
/// (`customer::MAX_AMOUNT`).
pub fn i(v: i64) -> Val {
    Val::Int(v)
}
pub fn opt_i(v: Option<i64>) -> Val {
    v.into()
}
pub fn opt_s(v: Option<&str>) -> Val {
    v.into()
}
/// A viewer's scope (`access::Viewer::scope`): NULL for every store, else their stores as
/// one JSON array, for the `access` SQL fragments.
pub fn scope(viewer: &crate::domain::access::Viewer) -> Val {
    opt_s(viewer.scope().as_deref())
}
/// A list bound as one JSON text, read in SQL with `json_each(?n)`: one parameter whatever
/// the list's length (D1 allows 100 per statement).
pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> Val {
    s(&serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

/// `sql` with `args` bound, prepared for D1.
pub fn stmt(db: &D1Database, sql: &str, args: &[Val]) -> ApiResult<D1PreparedStatement> {
    Stmt::new(sql.to_string(), args.to_vec()).d1(db)
}

/// The rows `stmt` reads, for a step of a streamed answer (whose steps answer
/// `worker::Result`): a page of an export.
pub async fn page_rows<T: DeserializeOwned>(
    db: &D1Database,
    stmt: &Stmt,
) -> worker::Result<Vec<T>> {
    stmt.d1(db)
        .map_err(|e| worker::Error::RustError(format!("{e:?}")))?
        .all()
        .await?
        .results()
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
