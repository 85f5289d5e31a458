//! `stores`, `store_prefixes` and the stores' Dialpad offices, as the hub's pop and the
//! console's lookup read them: the whole store table in one statement, on D1 or on the hub's
//! index (which mirrors these tables), and its rows.
use crate::domain::prefix::{StoreOffice, StorePrefix, StoreTable};
use crate::platform::db;
use crate::platform::http::ApiResult;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, D1Result};

/// The whole store table in one statement: prefixes, then Dialpad office ids.
pub const TABLE_SQL: &str =
    "SELECT 'prefix' AS kind, p.prefix AS key, p.store_id, s.name AS store_name \
     FROM store_prefixes p JOIN stores s ON s.id = p.store_id \
     UNION ALL SELECT 'office', s.dialpad_office_id, s.id, s.name FROM stores s \
     WHERE s.dialpad_office_id IS NOT NULL";

pub fn table_stmt(db: &D1Database) -> D1PreparedStatement {
    db.prepare(TABLE_SQL)
}

#[derive(Deserialize)]
pub struct TableRow {
    kind: String,
    key: String,
    store_id: i64,
    store_name: String,
}

pub fn table_from(r: &D1Result) -> ApiResult<StoreTable> {
    Ok(table_of(db::rows::<TableRow>(r)?))
}

/// The table from rows read anywhere (D1 or the hub's index).
pub fn table_of(rows: Vec<TableRow>) -> StoreTable {
    let mut table = StoreTable::default();
    for row in rows {
        if row.kind == "office" {
            table.offices.push(StoreOffice {
                office_id: row.key,
                store_id: row.store_id,
                store_name: row.store_name,
            });
        } else {
            table.prefixes.push(StorePrefix {
                prefix: row.key,
                store_id: row.store_id,
                store_name: row.store_name,
            });
        }
    }
    table
}
