//! `customers` as the search and the CSV export read it: the search keys
//! (`domain::search::key`) of rows that were written without them, and a page of the export.
use crate::domain::access::customer_visible_sql;
use crate::domain::search;
use crate::platform::db::{self, Stmt};
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

/// A customer as the CSV export writes them.
#[derive(Deserialize)]
pub struct ExportRow {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub phones: Option<String>,
    pub store: Option<String>,
    pub customer_type: String,
    pub flag: Option<String>,
    pub visit_count: i64,
    pub total_spend: i64,
    pub last_visit_at: Option<String>,
    pub memo: String,
    pub custom: Option<String>,
}

/// The export's next page: up to `limit` customers that `scope` may see (`Viewer::scope`),
/// after id `after`, in id order.
pub fn export_page_stmt(scope: Option<i64>, after: i64, limit: i64) -> Stmt {
    Stmt::new(
        format!(
            "SELECT c.id, c.name, c.kana, (SELECT group_concat(phone, ' / ') FROM customer_phones WHERE customer_id = c.id) AS phones, \
               s.name AS store, c.customer_type, c.flag, c.visit_count, c.total_spend, c.last_visit_at, c.memo, c.custom \
             FROM customers c LEFT JOIN stores s ON s.id = c.home_store_id WHERE {} AND c.id > ?2 ORDER BY c.id LIMIT ?3",
            customer_visible_sql(1)
        ),
        vec![scope.into(), after.into(), limit.into()],
    )
}
