//! The customer card and how it is read: the one column list every customer read uses.
use crate::domain::access::{call_visible_sql, one_store_calls_sql};
use crate::domain::messages::{CustomerCard, StoreRef, Usage};
use crate::platform::db::{self, i};
use crate::platform::http::ApiResult;
use crate::platform::sql::{Stmt, Val};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement, D1Result};

const THIRTY_DAYS_MS: i64 = 30 * 24 * 3600 * 1000;

/// The customer card columns, usage included. The call-log figures count calls from any of
/// the customer's numbers (so calls made before the customer was registered count too) and
/// leave out test calls. `?{n}` is bound to epoch ms 30 days ago and `?{s}` to the viewer's
/// scope (see [`card_columns`]): a staff member's figures count only calls they may see.
///
/// Written so that a frequent caller costs little (the pop reads this on every call): the
/// first and last call are taken per number (`caller = ?` lets SQLite read one end of
/// `calls_caller_usage` instead of every entry, which `caller IN (…)` prevents), and the
/// missed calls from `calls_caller_phase` (migrations/0010: the phase before the date, so only
/// the missed calls of the last 30 days are read). Only the call count still reads each of
/// the caller's entries. Every figure is read number by number (`k.caller = cp.phone`), the
/// counts too: with two `caller IN (…)` counts in one statement SQLite took ~5× as long for a
/// caller of 10–100 calls (66 → 18 µs at 100, 115 → 58 µs at 1,000, measured on these
/// statements), and the numbers of one customer are distinct, so the sums count each call once.
const CARD_COLUMNS: &str = "c.id, c.name, c.kana, c.memo, c.customer_type, c.flag, \
  c.visit_count, c.total_spend, c.last_visit_at, c.updated_at, c.version, c.home_store_id, hs.name AS home_store_name, \
  (SELECT group_concat(phone, ',') FROM customer_phones WHERE customer_id = c.id) AS phones, \
  (SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {VIS})), 0) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS call_count, \
  (SELECT max((SELECT max(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {VIS})) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS last_call, \
  (SELECT min((SELECT min(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {VIS})) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS first_contact, \
  (SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 \
     AND {MISSED} AND {VIS} AND k.started_at >= ?{n})), 0) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS missed_30d, \
  (SELECT json_group_array(json_object('id', f.id, 'label', f.label, 'kind', f.kind, 'value', f.v)) FROM \
     (SELECT d.id, d.label, d.kind, json_extract(c.custom, '$.\"' || d.id || '\"') AS v FROM custom_fields d \
      WHERE d.on_card = 1 AND (d.store_id IS NULL OR d.store_id = c.home_store_id) ORDER BY d.position, d.id) f \
   WHERE f.v IS NOT NULL AND f.v <> '') AS card_fields";

/// Every customer who has `phone` (at most 10: a shared family or office number), with usage
/// counted over the calls of `scope` ([`Viewer::scope`]; `None`: every call, the pop's view).
pub fn by_phone_for(
    db: &D1Database,
    phone: &str,
    now_ms: i64,
    scope: Option<String>,
) -> ApiResult<D1PreparedStatement> {
    by_phone(phone, now_ms, scope).d1(db)
}

/// The lookup itself, for D1 and for the hub's pop index alike (the index mirrors the tables
/// it reads, so both answer the same).
pub fn by_phone(phone: &str, now_ms: i64, scope: Option<String>) -> Stmt {
    by_phone_counting(phone, now_ms, &call_visible_sql(3), scope.into())
}

/// The lookup with the calls counted where `visible` (bound at `?3` to `bound`) says.
fn by_phone_counting(phone: &str, now_ms: i64, visible: &str, bound: Val) -> Stmt {
    let sql = format!(
        "SELECT {} FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
         LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE p.phone = ?1 \
         ORDER BY c.updated_at DESC, c.id LIMIT 10",
        card_columns_with(visible, 2)
    );
    Stmt::new(
        sql,
        vec![phone.into(), (now_ms - THIRTY_DAYS_MS).into(), bound],
    )
}

/// [`by_phone`] for the staff of one store (`store`: [`Viewer::only_store`]), as the pop
/// reads the store's card on every call: the same rows and figures as [`by_phone`] with that
/// viewer's scope, the calls counted by [`one_store_calls_sql`] (the hub's
/// `calls_caller_store` index answers them; measured with SQLite on these statements, 148 →
/// 14 µs for a caller of 10 calls, 650 → 180 µs at 5,000).
///
/// [`Viewer::only_store`]: crate::domain::access::Viewer::only_store
pub fn by_phone_at_store(phone: &str, now_ms: i64, store: i64) -> Stmt {
    by_phone_counting(phone, now_ms, &one_store_calls_sql(3), store.into())
}

pub fn by_id_stmt(
    db: &D1Database,
    id: i64,
    now_ms: i64,
    scope: Option<String>,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT {} FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id \
         WHERE c.id = ?1",
        card_columns(2)
    );
    db::stmt(
        db,
        &sql,
        &[
            i(id),
            i(now_ms - THIRTY_DAYS_MS),
            db::opt_s(scope.as_deref()),
        ],
    )
}

/// The newest customer (the one this batch just inserted: a batch is one transaction), for a
/// create's answer. ?1 is bound NULL and unused so that ?2 stays the 30-day bound.
pub fn newest_stmt(
    db: &D1Database,
    now_ms: i64,
    scope: Option<String>,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT {} FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id \
         WHERE c.id = (SELECT max(id) FROM customers) AND ?1 IS NULL",
        card_columns(2)
    );
    db::stmt(
        db,
        &sql,
        &[
            db::Val::Null,
            i(now_ms - THIRTY_DAYS_MS),
            db::opt_s(scope.as_deref()),
        ],
    )
}

/// The card's column list with the 30-day bound at `?n` and the viewer's scope at `?n+1`, so
/// a card read fits any statement.
pub fn card_columns(n: usize) -> String {
    card_columns_with(&call_visible_sql(n + 1), n)
}

/// The card's column list with the 30-day bound at `?n` and `visible` as the calls counted.
fn card_columns_with(visible: &str, n: usize) -> String {
    CARD_COLUMNS
        .replace("{VIS}", visible)
        .replace("{MISSED}", &crate::domain::call::missed_sql("k"))
        .replace("?{n}", &format!("?{n}"))
}

pub fn thirty_days_ago(now_ms: i64) -> i64 {
    now_ms - THIRTY_DAYS_MS
}

#[derive(Deserialize)]
pub struct CardRow {
    id: i64,
    name: String,
    kana: String,
    memo: String,
    customer_type: String,
    flag: Option<String>,
    visit_count: i64,
    total_spend: i64,
    last_visit_at: Option<String>,
    updated_at: String,
    version: i64,
    home_store_id: Option<i64>,
    home_store_name: Option<String>,
    phones: Option<String>,
    call_count: i64,
    last_call: Option<i64>,
    first_contact: Option<i64>,
    missed_30d: i64,
    card_fields: Option<String>,
}

pub fn cards_from(r: &D1Result) -> ApiResult<Vec<CustomerCard>> {
    Ok(cards_of(db::rows::<CardRow>(r)?))
}

/// Cards from rows read anywhere (D1 or the hub's index).
pub fn cards_of(rows: Vec<CardRow>) -> Vec<CustomerCard> {
    rows.into_iter()
        .map(|c| CustomerCard {
            id: c.id,
            name: c.name,
            kana: c.kana,
            memo: c.memo,
            customer_type: c.customer_type,
            flag: c.flag,
            home_store: match (c.home_store_id, c.home_store_name) {
                (Some(id), Some(name)) => Some(StoreRef { id: Some(id), name }),
                _ => None,
            },
            phones: c
                .phones
                .map(|p| p.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            usage: Usage {
                visits: c.visit_count,
                total_spend: c.total_spend,
                last_visit: c.last_visit_at,
                calls: c.call_count,
                last_call: c.last_call,
                first_contact: c.first_contact,
                missed_30d: c.missed_30d,
            },
            updated_at: c.updated_at,
            version: c.version,
            fields: c
                .card_fields
                .and_then(|f| serde_json::from_str(&f).ok())
                .unwrap_or_default(),
            shared: false,
        })
        .collect()
}

/// The card of one customer, or 404.
pub fn one(r: &D1Result) -> ApiResult<CustomerCard> {
    cards_from(r)?
        .pop()
        .ok_or(crate::domain::error::ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_counts_only_calls_in_scope() {
        let cols = super::card_columns(7);
        // Each of the four call figures is limited by the scope bound at ?8.
        assert_eq!(
            cols.matches(&crate::domain::access::call_visible_sql(8))
                .count(),
            4
        );
        assert!(cols.contains("k.started_at >= ?7"));
    }
}
