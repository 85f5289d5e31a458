//! `stores`, `store_prefixes` and the stores' Dialpad offices, as the hub's pop and the
//! console's lookup read them: the whole store table in one statement, on D1 or on the hub's
//! index (which mirrors these tables), and its rows; then 店舗's list and writes (create,
//! edit, delete).
use crate::domain::prefix::{StoreOffice, StorePrefix, StoreTable};
use crate::platform::db::{self, Stmt};
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

/// Every store, by id ([`StoreRow`]).
pub fn all() -> Stmt {
    Stmt::new(
        "SELECT id, name, dialpad_office_id FROM stores ORDER BY id",
        vec![],
    )
}

#[derive(Deserialize)]
pub struct StoreRow {
    pub id: i64,
    pub name: String,
    pub dialpad_office_id: Option<String>,
}

/// Whether `name` is taken by a store other than `store` (a row: yes), then the first of
/// `prefixes` that another store has ([`PrefixHit`]).
pub fn taken(name: Option<&str>, prefixes: &[String], store: Option<i64>) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "SELECT id FROM stores WHERE name = ?1 AND (?2 IS NULL OR id != ?2)",
            vec![name.into(), store.into()],
        ),
        Stmt::new(
            "SELECT p.prefix, s.name FROM store_prefixes p JOIN stores s ON s.id = p.store_id \
             WHERE p.prefix IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR p.store_id != ?2)",
            vec![db::json(prefixes), store.into()],
        ),
    ]
}

#[derive(Deserialize)]
pub struct PrefixHit {
    pub prefix: String,
    pub name: String,
}

/// A new store with its prefixes; the first statement returns its `id`.
pub fn create(name: &str, office: Option<&str>, prefixes: &[String]) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "INSERT INTO stores (name, dialpad_office_id) VALUES (?1, ?2) RETURNING id",
            vec![name.into(), office.into()],
        ),
        Stmt::new(
            "INSERT INTO store_prefixes (prefix, store_id) \
             SELECT j.value, s.id FROM json_each(?1) j, stores s WHERE s.name = ?2",
            vec![db::json(prefixes), name.into()],
        ),
    ]
}

/// A store's edit: its name (None keeps it), its Dialpad office (None keeps it, `Some(None)`
/// clears it) and, when given, its whole list of prefixes; then the store read back
/// ([`StoreWithPrefixes`]).
pub fn update(
    id: i64,
    name: Option<&str>,
    office: Option<Option<&str>>,
    prefixes: Option<&[String]>,
) -> Vec<Stmt> {
    let mut v = vec![Stmt::new(
        "UPDATE stores SET name = coalesce(?2, name), \
           dialpad_office_id = CASE WHEN ?3 THEN ?4 ELSE dialpad_office_id END WHERE id = ?1",
        vec![
            id.into(),
            name.into(),
            (office.is_some() as i64).into(),
            office.flatten().into(),
        ],
    )];
    if let Some(prefixes) = prefixes {
        v.push(Stmt::new(
            "DELETE FROM store_prefixes WHERE store_id = ?1 AND EXISTS (SELECT 1 FROM stores WHERE id = ?1)",
            vec![id.into()],
        ));
        v.push(Stmt::new(
            "INSERT INTO store_prefixes (prefix, store_id) SELECT value, ?2 FROM json_each(?1) \
             WHERE EXISTS (SELECT 1 FROM stores WHERE id = ?2)",
            vec![db::json(prefixes), id.into()],
        ));
    }
    v.push(with_prefixes(id));
    v
}

/// One store with its prefixes ([`StoreWithPrefixes`]).
pub fn with_prefixes(id: i64) -> Stmt {
    Stmt::new(
        "SELECT id, name, dialpad_office_id, (SELECT group_concat(prefix, ' ') FROM (SELECT prefix FROM store_prefixes \
           WHERE store_id = ?1 ORDER BY prefix)) AS prefixes FROM stores WHERE id = ?1",
        vec![id.into()],
    )
}

#[derive(Deserialize)]
pub struct StoreWithPrefixes {
    pub id: i64,
    pub name: String,
    pub dialpad_office_id: Option<String>,
    /// Space-separated, in order.
    pub prefixes: Option<String>,
}

/// Deletes a store (its prefixes; its calls keep their data with no store) unless customers
/// or accounts still belong to it: the first statement counts them ([`InUse`]), and each
/// write holds only while the store is unused (one batch, one transaction). The last
/// statement's change count says whether the store was deleted.
pub fn delete(id: i64) -> Vec<Stmt> {
    const UNUSED: &str = "NOT EXISTS (SELECT 1 FROM customers WHERE home_store_id = ?1) \
         AND NOT EXISTS (SELECT 1 FROM users WHERE store_id = ?1)";
    vec![
        Stmt::new(
            "SELECT (SELECT count(*) FROM customers WHERE home_store_id = ?1) AS customers, \
               (SELECT count(*) FROM users WHERE store_id = ?1) AS users",
            vec![id.into()],
        ),
        Stmt::new(
            format!("DELETE FROM store_prefixes WHERE store_id = ?1 AND {UNUSED}"),
            vec![id.into()],
        ),
        Stmt::new(
            format!("UPDATE calls SET store_id = NULL WHERE store_id = ?1 AND {UNUSED}"),
            vec![id.into()],
        ),
        Stmt::new(
            format!("DELETE FROM stores WHERE id = ?1 AND {UNUSED}"),
            vec![id.into()],
        ),
    ]
}

#[derive(Deserialize)]
pub struct InUse {
    pub customers: i64,
    pub users: i64,
}

/// The store `id` (a row: it exists).
pub fn exists(id: i64) -> Stmt {
    Stmt::new("SELECT id FROM stores WHERE id = ?1", vec![id.into()])
}

/// How many of the stores `set` (one JSON array) exist (`n`).
pub fn count_of(set: &[i64]) -> Stmt {
    Stmt::new(
        "SELECT count(*) AS n FROM stores WHERE id IN (SELECT value FROM json_each(?1))",
        vec![db::json(set)],
    )
}

/// Every store's id and name (`StoreName`).
pub const NAMES: &str = "SELECT id, name FROM stores";

#[derive(Deserialize)]
pub struct StoreName {
    pub id: i64,
    pub name: String,
}
