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
/// How often (while the hub is busy) the index is compared with D1.
pub(super) const CHECK_EVERY_MS: i64 = 5 * 60 * 1000;
const PAGE: i64 = 1000;
/// After a failed first build on an event's path, events pop without waiting on D1 for this
/// long before one tries again.
pub(super) const RETRY_BUILD_MS: i64 = 30_000;

/// The mirror's tables: the D1 columns the pop reads, nothing else.
const MIRROR: &[(&str, &str)] = &[
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
const STORE_COLS: &str = "id, name, dialpad_office_id";
const PREFIX_COLS: &str = "prefix, store_id";
const CUSTOMER_COLS: &str = "id, name, kana, memo, home_store_id, customer_type, flag, \
    visit_count, total_spend, last_visit_at, updated_at, version, custom";
/// The definitions of the custom fields (the card shows those marked `on_card`), reloaded
/// with the stores.
const FIELD_COLS: &str = "id, label, kind, store_id, on_card, position";
const PHONE_COLS: &str = "phone, customer_id";
/// The calls columns the hub keeps (all of D1's but the links written after the pop).
pub(super) const CALL_COLS: &str = "id, direction, caller, dialled, store_id, customer_id, state, \
    phase, rank, popped_by, is_test, started_at, connected_at, ended_at, duration_ms, answered_by, \
    updated_at, voicemail_url, recording_urls, transcript, summary";

/// One fingerprint of the mirrored tables, computed by the same SQL on D1 and on the index:
/// counts, ids, versions and number endings. Equal fingerprints mean nothing to rebuild.
const FINGERPRINT: &str = "SELECT \
    (SELECT count(*) || ':' || total(id) || ':' || total(version) || ':' || coalesce(max(updated_at), '') \
       || ':' || total(coalesce(home_store_id, 0)) FROM customers) || '|' || \
    (SELECT count(*) || ':' || total(customer_id + CAST(substr(phone, -6) AS INTEGER)) FROM customer_phones) || '|' || \
    (SELECT count(*) || ':' || total(id) || ':' || group_concat(name || coalesce(dialpad_office_id, ''), ',') FROM stores) || '|' || \
    (SELECT count(*) || ':' || total(store_id + CAST(prefix AS INTEGER)) FROM store_prefixes) || '|' || \
    (SELECT count(*) || ':' || total(id * (on_card + 1) + position) || ':' || coalesce(group_concat(label, ','), '') FROM custom_fields) AS f";

/// Inserts a JSON array of D1 rows (objects) into a mirror table in one statement.
fn insert_json_sql(table: &str, cols: &str) -> String {
    let values: Vec<String> = cols
        .split(',')
        .map(|c| format!("json_extract(value, '$.{}')", c.trim()))
        .collect();
    format!(
        "INSERT OR REPLACE INTO {table} ({cols}) SELECT {} FROM json_each(?)",
        values.join(", ")
    )
}

/// The rebuilds running now, what write paths changed meanwhile, and the calls the outbox
/// copied to D1 meanwhile (`Hub::rebuild`).
#[derive(Default)]
pub(super) struct Rebuilds {
    running: u32,
    changed: IndexChange,
    drained: std::collections::BTreeSet<String>,
}

#[derive(Deserialize)]
struct Fingerprint {
    f: Option<String>,
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

    /// A `meta` value. Read through an in-memory copy: the event path asks for several per
    /// event, and only this instance writes the table (the copy starts empty with the instance).
    pub(super) fn meta_get(&self, key: &str) -> Option<String> {
        if let Some(v) = self.meta.borrow().get(key) {
            return v.clone();
        }
        #[derive(Deserialize)]
        struct V {
            value: Option<String>,
        }
        let rows = self
            .sql()
            .exec("SELECT value FROM meta WHERE key = ?", vec![key.into()])
            .and_then(|c| c.to_array::<V>());
        // A failed read is not remembered as "absent".
        let Ok(rows) = rows else { return None };
        let v = rows.into_iter().next().and_then(|v| v.value);
        self.meta.borrow_mut().insert(key.to_string(), v.clone());
        v
    }

    pub(super) fn meta_set(&self, key: &str, value: &str) -> worker::Result<()> {
        self.meta.borrow_mut().remove(key);
        self.sql().exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value.into()],
        )?;
        self.meta
            .borrow_mut()
            .insert(key.to_string(), Some(value.to_string()));
        Ok(())
    }

    /// Forgets a `meta` value (no write when it is already absent).
    pub(super) fn meta_delete(&self, key: &str) -> worker::Result<()> {
        if self.meta.borrow().get(key).is_some_and(|v| v.is_none()) {
            return Ok(());
        }
        self.meta.borrow_mut().remove(key);
        self.sql()
            .exec("DELETE FROM meta WHERE key = ?", vec![key.into()])?;
        self.meta.borrow_mut().insert(key.to_string(), None);
        Ok(())
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
        // A rebuild running now may have read these rows before the change: it applies the
        // change again once it has replaced the index.
        {
            let mut r = self.rebuilds.borrow_mut();
            if r.running > 0 {
                r.changed.stores |= change.stores;
                r.changed.customers.extend_from_slice(&change.customers);
            }
        }
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

    fn insert_rows(&self, table: &str, cols: &str, rows: &[Value]) -> ApiResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(rows).map_err(|e| ApiError::Unavailable(e.to_string()))?;
        self.sql()
            .exec(&insert_json_sql(table, cols), vec![json.as_str().into()])?;
        Ok(())
    }

    /// Reads everything the index mirrors from D1 (page by page), then replaces the index in
    /// one synchronous step, so a pop never sees half of it. Calls come from D1 too, but for
    /// those the outbox has not copied yet (the hub's own are newer).
    pub(super) async fn rebuild(&self) -> ApiResult<Value> {
        self.rebuilds.borrow_mut().running += 1;
        let result = self.rebuild_from_d1().await;
        // What write paths changed while this rebuild (or one overlapping it) read its pages:
        // read again, onto the index just swapped in. Kept until the last rebuild is done, so
        // an overlapping one that swaps in later applies it again too.
        let change = {
            let mut r = self.rebuilds.borrow_mut();
            r.running -= 1;
            let change = r.changed.clone();
            if r.running == 0 {
                r.changed = IndexChange::default();
                r.drained.clear();
            }
            change
        };
        if result.is_ok() && (change.stores || !change.customers.is_empty()) {
            Box::pin(self.index_change(&change)).await?;
        }
        result
    }

    /// The outbox copied these operations to D1: a rebuild running now may have read those
    /// calls before, and must keep the hub's rows for them.
    pub(super) fn drained<'a>(&self, ops: impl Iterator<Item = &'a super::outbox::Op>) {
        let mut r = self.rebuilds.borrow_mut();
        if r.running > 0 {
            for op in ops {
                r.drained
                    .extend(op.call_ids().into_iter().map(str::to_string));
            }
        }
    }

    async fn rebuild_from_d1(&self) -> ApiResult<Value> {
        let started = http::now_ms();
        let db = self.env.d1("DB")?;
        let first = db
            .batch(vec![
                db.prepare(format!("SELECT {STORE_COLS} FROM stores")),
                db.prepare(format!("SELECT {PREFIX_COLS} FROM store_prefixes")),
                db.prepare(format!("SELECT {FIELD_COLS} FROM custom_fields")),
                db.prepare("SELECT body FROM front_desk_settings WHERE id = 1"),
            ])
            .await?;
        // 顧客の共有, as saved (the default when nothing is).
        let settings: Vec<Value> = db::rows(&first[3])?;
        let sharing = settings
            .first()
            .and_then(|r| r.get("body"))
            .and_then(Value::as_str)
            .map(crate::domain::front_desk::stored_sharing)
            .unwrap_or_default();
        self.meta_set(SHARING_KEY, sharing.as_str())?;
        let stores: Vec<Value> = db::rows(&first[0])?;
        let prefixes: Vec<Value> = db::rows(&first[1])?;
        let fields: Vec<Value> = db::rows(&first[2])?;
        let mut customers: Vec<Value> = vec![];
        let mut phones: Vec<Value> = vec![];
        let mut after = 0i64;
        loop {
            let page = db
                .batch(vec![
                    db::stmt(
                        &db,
                        &format!(
                            "SELECT {CUSTOMER_COLS} FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2"
                        ),
                        &[db::i(after), db::i(PAGE)],
                    )?,
                    db::stmt(
                        &db,
                        &format!(
                            "SELECT {PHONE_COLS} FROM customer_phones WHERE customer_id IN \
                             (SELECT id FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2)"
                        ),
                        &[db::i(after), db::i(PAGE)],
                    )?,
                ])
                .await?;
            let rows: Vec<Value> = db::rows(&page[0])?;
            let n = rows.len() as i64;
            after = rows
                .last()
                .and_then(|r| r.get("id"))
                .and_then(Value::as_i64)
                .unwrap_or(after);
            customers.extend(rows);
            phones.extend(db::rows::<Value>(&page[1])?);
            if n < PAGE {
                break;
            }
        }
        let mut calls: Vec<Value> = vec![];
        let mut after_call = String::new();
        loop {
            let page = db::stmt(
                &db,
                &format!("SELECT {CALL_COLS} FROM calls WHERE id > ?1 ORDER BY id LIMIT ?2"),
                &[db::s(&after_call), db::i(PAGE)],
            )?
            .all()
            .await?;
            let rows: Vec<Value> = db::rows(&page)?;
            let n = rows.len() as i64;
            if let Some(id) = rows
                .last()
                .and_then(|r| r.get("id"))
                .and_then(Value::as_str)
            {
                after_call = id.to_string();
            }
            calls.extend(rows);
            if n < PAGE {
                break;
            }
        }
        // The legs of the calls still open, and every recent delivery: what the next event's
        // dedupe and "is another leg still open" need.
        let legs: Vec<Value> = db::rows(
            &db::stmt(
                &db,
                &format!(
                    "SELECT call_id, state, group_id, received_at, event_ts, rank FROM call_events \
                     WHERE received_at > ?1 OR group_id IN (SELECT id FROM calls WHERE {})",
                    crate::domain::call::live_sql("")
                ),
                &[db::i(started - super::LEGS_KEEP_MS)],
            )?
            .all()
            .await?,
        )?;
        let sql = self.sql();
        self.stores_written();
        for table in [
            "stores",
            "store_prefixes",
            "custom_fields",
            "customers",
            "customer_phones",
        ] {
            sql.exec(&format!("DELETE FROM {table}"), None)?;
        }
        self.insert_rows("stores", STORE_COLS, &stores)?;
        self.insert_rows("store_prefixes", PREFIX_COLS, &prefixes)?;
        self.insert_rows("custom_fields", FIELD_COLS, &fields)?;
        for chunk in customers.chunks(PAGE as usize) {
            self.insert_rows("customers", CUSTOMER_COLS, chunk)?;
        }
        for chunk in phones.chunks(PAGE as usize) {
            self.insert_rows("customer_phones", PHONE_COLS, chunk)?;
        }
        // D1 is the record for every call the outbox has copied; the hub's own copy wins while
        // its writes still wait there, or when they were copied while this rebuild ran (its
        // page of that call may be older).
        let drained =
            serde_json::to_string(&self.rebuilds.borrow().drained).unwrap_or_else(|_| "[]".into());
        let calls_sql = format!(
            "{} WHERE json_extract(value, '$.id') NOT IN (SELECT call_id FROM outbox) \
             AND json_extract(value, '$.id') NOT IN (SELECT value FROM json_each(?2))",
            insert_json_sql("calls", CALL_COLS).replace("json_each(?)", "json_each(?1)")
        );
        for chunk in calls.chunks(PAGE as usize) {
            let json = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
            sql.exec(
                &calls_sql,
                vec![json.as_str().into(), drained.as_str().into()],
            )?;
        }
        let legs_json = serde_json::to_string(&legs).unwrap_or_else(|_| "[]".into());
        sql.exec(
            &insert_json_sql(
                "call_events",
                "call_id, state, group_id, received_at, event_ts, rank",
            )
            .replace("INSERT OR REPLACE", "INSERT OR IGNORE"),
            vec![legs_json.as_str().into()],
        )?;
        self.meta_set(CUSTOMERS_COUNTER, &customers.len().to_string())?;
        self.meta_set(PHONES_COUNTER, &phones.len().to_string())?;
        self.meta_set(STORES_COUNTER, &stores.len().to_string())?;
        let now = http::now_ms();
        self.meta_set("index_built_at", &now.to_string())?;
        self.meta_set("index_checked_at", &now.to_string())?;
        let summary = serde_json::json!({
            "event": "index_rebuilt", "customers": customers.len(), "phones": phones.len(),
            "stores": stores.len(), "calls": calls.len(), "ms": now - started,
        });
        worker::console_log!("{summary}");
        Ok(summary)
    }

    /// Compares the index with D1 (one small query each side); rebuilds when they differ.
    /// Run by the alarm at most every [`CHECK_EVERY_MS`].
    pub(super) async fn check_index(&self, now: i64) -> ApiResult<()> {
        let last = self
            .meta_get("index_checked_at")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if now - last < CHECK_EVERY_MS {
            return Ok(());
        }
        let db = self.env.d1("DB")?;
        let theirs = db.prepare(FINGERPRINT).first::<Fingerprint>(None).await?;
        let ours = self
            .sql()
            .exec(FINGERPRINT, None)?
            .to_array::<Fingerprint>()?
            .into_iter()
            .next();
        self.meta_set("index_checked_at", &now.to_string())?;
        if theirs.and_then(|f| f.f) != ours.and_then(|f| f.f) {
            worker::console_warn!("{}", serde_json::json!({"event": "index_differs_from_d1"}));
            self.rebuild().await?;
        }
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
    fn stores_written(&self) {
        self.stores_table.borrow_mut().take();
    }

    /// Adds `by` to the counter `key` kept in `meta`.
    pub(super) fn add_to(&self, key: &str, by: i64) -> worker::Result<()> {
        let n = self
            .meta_get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            + by;
        self.meta_set(key, &n.to_string())
    }

    fn counter(&self, key: &str) -> i64 {
        self.meta_get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
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
const CUSTOMERS_COUNTER: &str = "count_customers";
const PHONES_COUNTER: &str = "count_phones";
const STORES_COUNTER: &str = "count_stores";
/// Requests for the hub's figures (`/stats`): the health flood test reads it.
pub(super) const STATS_COUNTER: &str = "count_stats_requests";
