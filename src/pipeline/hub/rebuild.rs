//! Rebuilding the pop index from D1 (`super::index`): on demand, on the first event after the
//! index's shape changed, and when the periodic check finds D1 and the index disagree; what
//! write paths and the outbox changed while a rebuild read its pages is applied after it.
use super::index::{
    insert_json_sql, CALL_COLS, CUSTOMERS_COUNTER, CUSTOMER_COLS, FIELD_COLS, PHONES_COUNTER,
    PHONE_COLS, PREFIX_COLS, SHARING_KEY, STORES_COUNTER, STORE_COLS,
};
use super::Hub;
use crate::domain::messages::IndexChange;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use serde_json::Value;

/// How often (while the hub is busy) the index is compared with D1.
pub(super) const CHECK_EVERY_MS: i64 = 5 * 60 * 1000;
const PAGE: i64 = 1000;
/// After a failed first build on an event's path, events pop without waiting on D1 for this
/// long before one tries again.
pub(super) const RETRY_BUILD_MS: i64 = 30_000;
/// One fingerprint of the mirrored tables, computed by the same SQL on D1 and on the index:
/// counts, ids, versions and number endings. Equal fingerprints mean nothing to rebuild.
const FINGERPRINT: &str = "SELECT \
    (SELECT count(*) || ':' || total(id) || ':' || total(version) || ':' || coalesce(max(updated_at), '') \
       || ':' || total(coalesce(home_store_id, 0)) FROM customers) || '|' || \
    (SELECT count(*) || ':' || total(customer_id + CAST(substr(phone, -6) AS INTEGER)) FROM customer_phones) || '|' || \
    (SELECT count(*) || ':' || total(id) || ':' || group_concat(name || coalesce(dialpad_office_id, ''), ',') FROM stores) || '|' || \
    (SELECT count(*) || ':' || total(store_id + CAST(prefix AS INTEGER)) FROM store_prefixes) || '|' || \
    (SELECT count(*) || ':' || total(id * (on_card + 1) + position) || ':' || coalesce(group_concat(label, ','), '') FROM custom_fields) AS f";
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

impl Hub {
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

    /// A write path changed these rows: a rebuild running now may have read them before the
    /// change, so it applies the change again once it has replaced the index.
    pub(super) fn changed_during_rebuild(&self, change: &IndexChange) {
        let mut r = self.rebuilds.borrow_mut();
        if r.running > 0 {
            r.changed.stores |= change.stores;
            r.changed.customers.extend_from_slice(&change.customers);
        }
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
}
