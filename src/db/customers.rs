//! `customers` as the search reads it: the search keys (`domain::search::key`) of rows that
//! were written without them.
use crate::domain::search;
use crate::platform::db;
use crate::platform::http::ApiResult;
use serde::Deserialize;
use serde_json::json;

/// Most customers rows written before search keys existed (or by a script straight into D1)
/// get theirs here, in bounded steps: one read, one write.
pub async fn backfill_keys(db: &worker::D1Database) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        name: String,
        kana: String,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT id, name, kana FROM customers WHERE name_key IS NULL LIMIT 1000")
        .all()
        .await?
        .results()?;
    if rows.is_empty() {
        return Ok(0);
    }
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| json!([r.id, search::key(&r.name), search::key(&r.kana)]))
        .collect();
    db::stmt(
        db,
        "UPDATE customers SET name_key = json_extract(j.value, '$[1]'), kana_key = json_extract(j.value, '$[2]') \
         FROM json_each(?1) j WHERE customers.id = json_extract(j.value, '$[0]')",
        &[db::json(&keys)],
    )?
    .run()
    .await?;
    Ok(rows.len())
}
