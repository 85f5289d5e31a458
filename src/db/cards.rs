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

/// The customers who have the number at `?1` (at most 10: a shared family or office number),
/// newest first, with `columns`.
fn by_phone_sql(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
         LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE p.phone = ?1 \
         ORDER BY c.updated_at DESC, c.id LIMIT 10"
    )
}

/// The lookup with the calls counted where `visible` (bound at `?3` to `bound`) says.
fn by_phone_counting(phone: &str, now_ms: i64, visible: &str, bound: Val) -> Stmt {
    Stmt::new(
        by_phone_sql(&card_columns_with(visible, 2)),
        vec![phone.into(), (now_ms - THIRTY_DAYS_MS).into(), bound],
    )
}

/// The card's four figures ([`CARD_COLUMNS`]') at the store bound at `?4`, named
/// `store_call_count` and so on ([`by_phone_with_store`]), each read from the index that
/// answers it best (measured with SQLite 3.40 on the hub's tables, one caller of 3,000 calls
/// at one store):
/// - the missed calls with `+k.store_id`, which keeps SQLite from the `calls_caller_store`
///   index (all the caller's calls of the last 30 days at the store, 237 µs) for
///   `calls_caller_phase` (the missed ones only, 10 µs);
/// - the count (every call of the caller at the store, 125 µs) only when some call of the
///   customer's numbers is at another store or at none (three seeks of `calls_caller_store`,
///   ~2 µs each): else every call the admins' count counts is at this store, so that count is
///   the store's, and `store_call_count` is NULL ([`store_figures`]).
///
/// `{STORE}` is the owner's rule for the store's calls ([`one_store_calls_sql`] at `?4`; the
/// missed count writes it after a unary `+`), `{MISSED}` the missed calls (`call::missed_sql`).
const STORE_FIGURES: &str = "\
  CASE WHEN EXISTS (SELECT 1 FROM customer_phones cp WHERE cp.customer_id = c.id AND ( \
      EXISTS (SELECT 1 FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND k.store_id IS NULL) \
      OR EXISTS (SELECT 1 FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND k.store_id < ?4) \
      OR EXISTS (SELECT 1 FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND k.store_id > ?4))) \
    THEN (SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {STORE})), 0) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) END AS store_call_count, \
  (SELECT max((SELECT max(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {STORE})) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS store_last_call, \
  (SELECT min((SELECT min(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND {STORE})) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS store_first_contact, \
  (SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 \
     AND {MISSED} AND +{STORE} AND k.started_at >= ?2)), 0) \
     FROM customer_phones cp WHERE cp.customer_id = c.id) AS store_missed_30d";

/// [`by_phone`] with the figures of one store beside the admins' (`store_call_count` and so
/// on, [`STORE_FIGURES`]): the pop reads both cards of a call on a store's line in one
/// statement, the admins' and the store's staff's ([`Viewer::only_store`]: the calls at that
/// store, [`one_store_calls_sql`]). The same rows (the same customers, in the same order)
/// and, but the four figures, the same cards ([`store_figures`]). Each figure is still read
/// from an index of its own (one pass over the calls for both was measured slower once a
/// caller has many calls); what is read once is everything else. Without a store (`None`)
/// the store's figures mean nothing (the pop reads them only for a call on a store's line)
/// and cost a few index seeks.
///
/// [`Viewer::only_store`]: crate::domain::access::Viewer::only_store
pub fn by_phone_with_store(phone: &str, now_ms: i64, store: Option<i64>) -> Stmt {
    // Put together once per isolate: the pop reads it on every call.
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let store = STORE_FIGURES
            .replace("{STORE}", &one_store_calls_sql(4))
            .replace("{MISSED}", &crate::domain::call::missed_sql("k"));
        by_phone_sql(&format!(
            "{}, {store}",
            card_columns_with(&call_visible_sql(3), 2)
        ))
    });
    Stmt::new(
        sql.as_str(),
        vec![
            phone.into(),
            (now_ms - THIRTY_DAYS_MS).into(),
            Val::Null,
            store.into(),
        ],
    )
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
    /// The figures at one store ([`by_phone_with_store`]; absent from every other read).
    #[serde(default)]
    store_call_count: Option<i64>,
    #[serde(default)]
    store_last_call: Option<i64>,
    #[serde(default)]
    store_first_contact: Option<i64>,
    #[serde(default)]
    store_missed_30d: Option<i64>,
}

/// The figures at the store of rows read with [`by_phone_with_store`], one per row (none for
/// rows read otherwise): the card figures of [`by_phone`] with the scope of the store's staff.
pub fn store_figures(rows: &[CardRow]) -> Vec<StoreFigures> {
    let mut figures = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(missed_30d) = r.store_missed_30d else {
            break;
        };
        figures.push(StoreFigures {
            customer: r.id,
            // NULL: every call counted for the admins is at the store (`STORE_FIGURES`).
            calls: r.store_call_count.unwrap_or(r.call_count),
            last_call: r.store_last_call,
            first_contact: r.store_first_contact,
            missed_30d,
        });
    }
    figures
}

/// A card's call-log figures counted at one store ([`store_figures`]).
pub struct StoreFigures {
    /// Whose card they are.
    pub customer: i64,
    calls: i64,
    last_call: Option<i64>,
    first_contact: Option<i64>,
    missed_30d: i64,
}

impl StoreFigures {
    /// `card` as the store's staff see it: everything as the admins' card but the figures,
    /// which are these.
    pub fn card(&self, card: &CustomerCard) -> CustomerCard {
        let mut c = card.clone();
        c.usage.calls = self.calls;
        c.usage.last_call = self.last_call;
        c.usage.first_contact = self.first_contact;
        c.usage.missed_30d = self.missed_30d;
        c
    }
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
    fn the_pop_reads_the_admins_card_as_by_phone_does_and_the_store_figures_beside() {
        let both = super::by_phone_with_store("0312345678", 1_000, Some(7));
        let admins = super::by_phone("0312345678", 1_000, None);
        // The admins' columns, the rows and their order are by_phone's own.
        let (cols, rest) = admins.sql.split_once(" FROM customer_phones p ").unwrap();
        assert!(both.sql.starts_with(&format!("{cols}, ")), "{}", both.sql);
        assert!(both
            .sql
            .ends_with(&format!(" FROM customer_phones p {rest}")));
        assert_eq!(both.params[..3], admins.params[..]);
        assert_eq!(both.params[3], super::Val::Int(7));
        // Every store figure counts the store's calls only.
        let store = &both.sql[cols.len()..];
        assert_eq!(store.matches("k.store_id = ?4").count(), 4);
        assert_eq!(store.matches("+k.store_id = ?4").count(), 1);
        assert!(!store.contains("?3"));
        // The store's calls as `Viewer::only_store` sees them; the missed ones as the card
        // reads them.
        assert!(store.contains(&crate::domain::access::one_store_calls_sql(4)));
        assert!(store.contains(&format!(
            "{} AND +k.store_id = ?4 AND k.started_at >= ?2",
            crate::domain::call::missed_sql("k")
        )));
    }

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
