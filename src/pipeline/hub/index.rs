//! The hub's pop index: what a pop needs, in the hub's own SQLite, so that a call pops without
//! waiting on D1. D1 stays the system of record; the index mirrors the tables the pop reads
//! (stores, prefixes, customers, their numbers) with the same names and columns, so the one
//! lookup (`cards::by_phone`, `stores::TABLE_SQL`) runs unchanged on either side and both
//! answer the same.
//!
//! Kept current three ways:
//! - every write path tells the hub what changed (`/index`: the route table, `Route::index_effect`)
//!   and the hub re-reads those rows from D1 before the write is answered;
//! - a rebuild from D1 runs on demand (`POST /api/admin/index/rebuild`), on the first event
//!   after the index's schema version changed, and when the periodic check finds that D1 and
//!   the index disagree (a change made straight in D1, by the CLI or a failed notice);
//! - the call figures of a card come from the hub's own `calls`, which the pipeline writes
//!   first (and the outbox copies to D1); a rebuild takes D1's calls, but for those whose
//!   writes still wait in the outbox (the hub's copy is newer).
use super::Hub;
use crate::db::stores::{self, TableRow};
use crate::domain::error::ApiError;
use crate::domain::messages::IndexChange;
use crate::domain::prefix::StoreTable;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use serde_json::Value;
use std::rc::Rc;

/// Bumped whenever the mirror's tables change shape: the hub then drops and rebuilds them.
pub(super) const INDEX_VERSION: i64 = 2;

/// The mirror's tables: the D1 columns the pop reads, nothing else.
pub(super) const MIRROR: &[(&str, &str)] = &[
    (
        "stores",
        "CREATE TABLE stores (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dialpad_office_id TEXT)",
    ),
    (
        "store_prefixes",
        "CREATE TABLE store_prefixes (prefix TEXT PRIMARY KEY, store_id INTEGER NOT NULL)",
    ),
    (
        "customers",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kana TEXT NOT NULL, \
           memo TEXT NOT NULL, home_store_id INTEGER, customer_type TEXT NOT NULL, flag TEXT, \
           visit_count INTEGER NOT NULL, total_spend INTEGER NOT NULL, last_visit_at TEXT, \
           updated_at TEXT NOT NULL, version INTEGER NOT NULL, custom TEXT NOT NULL DEFAULT '{}')",
    ),
    (
        "custom_fields",
        "CREATE TABLE custom_fields (id INTEGER PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL, \
           store_id INTEGER, on_card INTEGER NOT NULL, position INTEGER NOT NULL)",
    ),
    (
        "customer_phones",
        "CREATE TABLE customer_phones (phone TEXT NOT NULL, customer_id INTEGER NOT NULL, \
           PRIMARY KEY (phone, customer_id))",
    ),
];

/// The columns copied per table, in the order of the mirror's definitions.
pub(super) const STORE_COLS: &str = "id, name, dialpad_office_id";
pub(super) const PREFIX_COLS: &str = "prefix, store_id";
pub(super) const CUSTOMER_COLS: &str = "id, name, kana, memo, home_store_id, customer_type, flag, \
    visit_count, total_spend, last_visit_at, updated_at, version, custom";
/// The definitions of the custom fields (the card shows those marked `on_card`), reloaded
/// with the stores.
pub(super) const FIELD_COLS: &str = "id, label, kind, store_id, on_card, position";
pub(super) const PHONE_COLS: &str = "phone, customer_id";
/// The calls columns the hub keeps (all of D1's but the links written after the pop).
pub(super) const CALL_COLS: &str = "id, direction, caller, dialled, store_id, customer_id, state, \
    phase, rank, popped_by, is_test, started_at, connected_at, ended_at, duration_ms, answered_by, \
    updated_at, voicemail_url, recording_urls, transcript, summary";

/// Inserts a JSON array of D1 rows (objects) into a mirror table in one statement.
pub(super) fn insert_json_sql(table: &str, cols: &str) -> String {
    let values: Vec<String> = cols
        .split(',')
        .map(|c| format!("json_extract(value, '$.{}')", c.trim()))
        .collect();
    format!(
        "INSERT OR REPLACE INTO {table} ({cols}) SELECT {} FROM json_each(?)",
        values.join(", ")
    )
}

/// The `meta` key of the 顧客の共有 setting the hub's pops follow.
pub(super) const SHARING_KEY: &str = "customer_sharing";

impl Hub {
    /// 顧客の共有 as the hub knows it (pushed on save, read again by every rebuild).
    pub(super) fn sharing(&self) -> crate::domain::access::Sharing {
        self.meta_get(SHARING_KEY)
            .and_then(|v| crate::domain::access::Sharing::parse(&v))
            .unwrap_or_default()
    }

    /// Creates the mirror, dropping an older shape of it (then it needs a rebuild).
    pub(super) fn init_index(sql: &worker::SqlStorage) {
        #[derive(Deserialize)]
        struct V {
            value: Option<String>,
        }
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
            None,
        );
        let version = sql
            .exec("SELECT value FROM meta WHERE key = 'index_version'", None)
            .and_then(|c| c.to_array::<V>())
            .ok()
            .and_then(|v| v.into_iter().next())
            .and_then(|v| v.value);
        if version.as_deref() == Some(INDEX_VERSION.to_string().as_str()) {
            return;
        }
        for (table, create) in MIRROR {
            let _ = sql.exec(&format!("DROP TABLE IF EXISTS {table}"), None);
            let _ = sql.exec(create, None);
        }
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS customer_phones_customer ON customer_phones(customer_id)",
            None,
        );
        let _ = sql.exec("DELETE FROM meta WHERE key = 'index_built_at'", None);
        let _ = sql.exec(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('index_version', ?)",
            vec![INDEX_VERSION.to_string().into()],
        );
    }

    /// Whether the index was ever built (at this schema version).
    pub(super) fn index_built(&self) -> bool {
        self.meta_get("index_built_at").is_some()
    }

    /// Applies a change reported by a write path: re-reads those rows from D1.
    pub(super) async fn index_change(&self, change: &IndexChange) -> ApiResult<Value> {
        if let Some(sharing) = &change.sharing {
            self.meta_set(SHARING_KEY, sharing)?;
        }
        if change.all || !self.index_built() {
            return self.rebuild().await;
        }
        self.changed_during_rebuild(change);
        let db = self.env.d1("DB")?;
        let mut stmts = vec![];
        if change.stores {
            stmts.push(db.prepare(format!("SELECT {STORE_COLS} FROM stores")));
            stmts.push(db.prepare(format!("SELECT {PREFIX_COLS} FROM store_prefixes")));
            stmts.push(db.prepare(format!("SELECT {FIELD_COLS} FROM custom_fields")));
        }
        let ids = db::json(&change.customers);
        if !change.customers.is_empty() {
            stmts.push(db::stmt(
                &db,
                &format!(
                    "SELECT {CUSTOMER_COLS} FROM customers WHERE id IN (SELECT value FROM json_each(?1))"
                ),
                std::slice::from_ref(&ids),
            )?);
            stmts.push(db::stmt(
                &db,
                &format!(
                    "SELECT {PHONE_COLS} FROM customer_phones \
                     WHERE customer_id IN (SELECT value FROM json_each(?1))"
                ),
                std::slice::from_ref(&ids),
            )?);
        }
        if stmts.is_empty() {
            return Ok(serde_json::json!({"ok": true}));
        }
        let results = db.batch(stmts).await?;
        let mut r = results.iter();
        let sql = self.sql();
        // From here on, synchronous: the change lands whole.
        if change.stores {
            let stores: Vec<Value> = db::rows(r.next().expect("stores result"))?;
            let prefixes: Vec<Value> = db::rows(r.next().expect("prefixes result"))?;
            let fields: Vec<Value> = db::rows(r.next().expect("fields result"))?;
            self.stores_written();
            sql.exec("DELETE FROM stores", None)?;
            sql.exec("DELETE FROM store_prefixes", None)?;
            sql.exec("DELETE FROM custom_fields", None)?;
            self.insert_rows("stores", STORE_COLS, &stores)?;
            self.insert_rows("store_prefixes", PREFIX_COLS, &prefixes)?;
            self.meta_set(STORES_COUNTER, &stores.len().to_string())?;
            self.insert_rows("custom_fields", FIELD_COLS, &fields)?;
        }
        if !change.customers.is_empty() {
            let customers: Vec<Value> = db::rows(r.next().expect("customers result"))?;
            let phones: Vec<Value> = db::rows(r.next().expect("phones result"))?;
            let ids = serde_json::to_string(&change.customers).unwrap_or_else(|_| "[]".into());
            // The health counters follow the change: what these ids had before (a keyed
            // read of the changed rows only), what they have now.
            #[derive(Deserialize)]
            struct Had {
                customers: i64,
                phones: i64,
            }
            let had: Option<Had> = sql
                .exec(
                    "SELECT (SELECT count(*) FROM customers WHERE id IN (SELECT value FROM json_each(?1))) AS customers, \
                       (SELECT count(*) FROM customer_phones WHERE customer_id IN (SELECT value FROM json_each(?1))) AS phones",
                    vec![ids.as_str().into()],
                )
                .and_then(|c| c.one::<Had>())
                .ok();
            if let Some(had) = had {
                self.add_to(CUSTOMERS_COUNTER, customers.len() as i64 - had.customers)?;
                self.add_to(PHONES_COUNTER, phones.len() as i64 - had.phones)?;
            }
            sql.exec(
                "DELETE FROM customer_phones WHERE customer_id IN (SELECT value FROM json_each(?))",
                vec![ids.as_str().into()],
            )?;
            sql.exec(
                "DELETE FROM customers WHERE id IN (SELECT value FROM json_each(?))",
                vec![ids.as_str().into()],
            )?;
            self.insert_rows("customers", CUSTOMER_COLS, &customers)?;
            self.insert_rows("customer_phones", PHONE_COLS, &phones)?;
        }
        Ok(serde_json::json!({"ok": true}))
    }

    pub(super) fn insert_rows(&self, table: &str, cols: &str, rows: &[Value]) -> ApiResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(rows).map_err(|e| ApiError::Unavailable(e.to_string()))?;
        self.sql()
            .exec(&insert_json_sql(table, cols), vec![json.as_str().into()])?;
        Ok(())
    }

    /// The stores' lines as the index has them: read once, then from memory until
    /// [`Self::stores_written`]. A new call on a store's line needs them before its store is
    /// known; they change only when a store or a prefix is edited.
    pub(super) fn stores_table(&self) -> worker::Result<Rc<StoreTable>> {
        if let Some(t) = self.stores_table.borrow().as_ref() {
            return Ok(t.clone());
        }
        let rows: Vec<TableRow> = self.sql().exec(stores::TABLE_SQL, None)?.to_array()?;
        let table = Rc::new(stores::table_of(rows));
        *self.stores_table.borrow_mut() = Some(table.clone());
        Ok(table)
    }

    /// Before the index's stores or prefixes are written: the kept table is read again next
    /// time (synchronously after the writes, so never a half-written one).
    pub(super) fn stores_written(&self) {
        self.stores_table.borrow_mut().take();
    }

    /// The admin part of `/api/health`: counters kept as the index and the calls are written
    /// (never a `COUNT(*)` over the tables on the object that runs every pop).
    pub(super) fn index_stats(&self) -> Value {
        let at = |k: &str| {
            self.meta_get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .map(http::iso)
        };
        serde_json::json!({
            "version": INDEX_VERSION,
            "customers": self.counter(CUSTOMERS_COUNTER),
            "phones": self.counter(PHONES_COUNTER),
            "stores": self.counter(STORES_COUNTER),
            "events": self.counter(super::outbox::EVENTS_COUNTER) + self.events_waiting(),
            "lastRebuild": at("index_built_at"),
            "lastCheck": at("index_checked_at"),
            "bytes": self.sql().database_size(),
        })
    }
}

/// The health counters in `meta`.
pub(super) const CUSTOMERS_COUNTER: &str = "count_customers";
pub(super) const PHONES_COUNTER: &str = "count_phones";
pub(super) const STORES_COUNTER: &str = "count_stores";
