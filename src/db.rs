//! D1 access. Every statement binds its values (`?1`, `?2` …); no SQL is built from input.
use crate::dialpad::CallEvent;
use crate::http::ApiResult;
use crate::messages::{CustomerCard, StoreRef, Usage};
use crate::prefix::StorePrefix;
use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
pub fn i(v: i64) -> JsValue {
    // D1 takes JS numbers; every id and epoch-ms value here is far below 2^53.
    JsValue::from_f64(v as f64)
}
pub fn opt_i(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, i)
}
pub fn opt_s(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, s)
}

pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<D1PreparedStatement> {
    Ok(db.prepare(sql).bind(args)?)
}

pub const PREFIXES_SQL: &str = "SELECT p.prefix, p.store_id, s.name AS store_name \
     FROM store_prefixes p JOIN stores s ON s.id = p.store_id";

#[derive(Deserialize)]
struct PrefixRow {
    prefix: String,
    store_id: i64,
    store_name: String,
}

pub fn prefixes_from(r: &D1Result) -> ApiResult<Vec<StorePrefix>> {
    Ok(r.results::<PrefixRow>()?
        .into_iter()
        .map(|p| StorePrefix {
            prefix: p.prefix,
            store_id: p.store_id,
            store_name: p.store_name,
        })
        .collect())
}

pub async fn load_prefixes(db: &D1Database) -> ApiResult<Vec<StorePrefix>> {
    prefixes_from(&db.prepare(PREFIXES_SQL).all().await?)
}

/// Finds the store for a dialled number (longest prefix wins).
pub fn store_for(dialled: &str, prefixes: &[StorePrefix]) -> StoreRef {
    crate::prefix::longest_match(dialled, prefixes)
        .map(|p| StoreRef {
            id: Some(p.store_id),
            name: p.store_name.clone(),
        })
        .unwrap_or_else(StoreRef::unknown)
}

/// The customer card columns, usage included. The call-log figures count calls from any of
/// the customer's numbers (so calls made before the customer was registered count too) and
/// leave out test calls. ?1: the phone, ?2: epoch ms 30 days ago.
const CARD_COLUMNS: &str = "c.id, c.name, c.kana, c.memo, c.customer_type, c.flag, \
  c.visit_count, c.total_spend, c.last_visit_at, c.updated_at, c.version, c.home_store_id, hs.name AS home_store_name, \
  (SELECT group_concat(phone, ',') FROM customer_phones WHERE customer_id = c.id) AS phones, \
  (SELECT count(*) FROM calls k WHERE k.is_test = 0 AND k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = c.id)) AS call_count, \
  (SELECT max(started_at) FROM calls k WHERE k.is_test = 0 AND k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = c.id)) AS last_call, \
  (SELECT min(started_at) FROM calls k WHERE k.is_test = 0 AND k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = c.id)) AS first_contact, \
  (SELECT count(*) FROM calls k WHERE k.is_test = 0 AND k.phase IN ('missed', 'voicemail') AND k.started_at >= ?2 \
     AND k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = c.id)) AS missed_30d";

pub fn customers_by_phone_stmt(
    db: &D1Database,
    phone: &str,
    now_ms: i64,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
         LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE p.phone = ?1 \
         ORDER BY c.updated_at DESC, c.id LIMIT 10"
    );
    stmt(db, &sql, &[s(phone), i(now_ms - 30 * 24 * 3600 * 1000)])
}

pub fn customer_by_id_stmt(
    db: &D1Database,
    id: i64,
    now_ms: i64,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id \
         WHERE c.id = ?1"
    );
    stmt(db, &sql, &[i(id), i(now_ms - 30 * 24 * 3600 * 1000)])
}

#[derive(Deserialize)]
struct CardRow {
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
}

pub fn cards_from(r: &D1Result) -> ApiResult<Vec<CustomerCard>> {
    Ok(r.results::<CardRow>()?
        .into_iter()
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
        })
        .collect())
}

/// Step 1 of recording an event: log it once per (leg, state). Returns the statement; its
/// companion `event_delivered_stmt` tells whether an earlier delivery already reached the hub.
pub fn insert_event_stmt(
    db: &D1Database,
    ev: &CallEvent,
    now_ms: i64,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO call_events (call_id, state, group_id, received_at, event_ts) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (call_id, state) DO NOTHING",
        &[
            s(&ev.call_id),
            s(&ev.state),
            s(ev.group_id()),
            i(now_ms),
            opt_i(ev.event_timestamp),
        ],
    )
}

pub fn event_delivered_stmt(db: &D1Database, ev: &CallEvent) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "SELECT delivered FROM call_events WHERE call_id = ?1 AND state = ?2",
        &[s(&ev.call_id), s(&ev.state)],
    )
}

pub async fn mark_delivered(db: &D1Database, ev: &CallEvent) -> ApiResult<()> {
    stmt(
        db,
        "UPDATE call_events SET delivered = 1 WHERE call_id = ?1 AND state = ?2",
        &[s(&ev.call_id), s(&ev.state)],
    )?
    .run()
    .await?;
    Ok(())
}

/// What the call log row is updated with.
pub struct CallRow<'a> {
    pub id: &'a str,
    pub direction: &'a str,
    pub caller: &'a str,
    pub dialled: &'a str,
    pub state: &'a str,
    pub phase: &'a str,
    pub rank: i64,
    pub is_test: bool,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub answered_by: Option<&'a str>,
    pub now_ms: i64,
}

/// Upserts the call row. State only moves forward in rank (out-of-order retries never regress
/// it); first-seen facts (caller, store, start) are kept; later facts fill in. The store is
/// the one with the longest prefix of the dialled number (the rule of `prefix::longest_match`,
/// here in SQL so the whole pipeline is one round trip); the customer is set when exactly one
/// has the caller's number.
pub fn upsert_call_stmt(db: &D1Database, c: &CallRow) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO calls (id, direction, caller, dialled, store_id, customer_id, state, phase, rank, \
           is_test, started_at, connected_at, ended_at, duration_ms, answered_by, updated_at) \
         VALUES (?1, ?2, ?3, ?4, \
           (SELECT p.store_id FROM store_prefixes p WHERE substr(?4, 1, length(p.prefix)) = p.prefix \
              ORDER BY length(p.prefix) DESC LIMIT 1), \
           (SELECT CASE WHEN count(*) = 1 THEN max(customer_id) END FROM customer_phones \
              WHERE phone = ?3 AND ?3 != ''), \
           ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (id) DO UPDATE SET \
           state = CASE WHEN excluded.rank > 0 AND excluded.rank >= calls.rank THEN excluded.state ELSE calls.state END, \
           phase = CASE WHEN excluded.rank > 0 AND excluded.rank >= calls.rank THEN excluded.phase ELSE calls.phase END, \
           rank = max(calls.rank, excluded.rank), \
           direction = CASE WHEN calls.direction = 'unknown' THEN excluded.direction ELSE calls.direction END, \
           caller = CASE WHEN calls.caller = '' THEN excluded.caller ELSE calls.caller END, \
           dialled = CASE WHEN calls.dialled = '' THEN excluded.dialled ELSE calls.dialled END, \
           store_id = coalesce(calls.store_id, excluded.store_id), \
           customer_id = coalesce(calls.customer_id, excluded.customer_id), \
           started_at = min(calls.started_at, excluded.started_at), \
           connected_at = coalesce(calls.connected_at, excluded.connected_at), \
           ended_at = coalesce(excluded.ended_at, calls.ended_at), \
           duration_ms = coalesce(excluded.duration_ms, calls.duration_ms), \
           answered_by = coalesce(calls.answered_by, excluded.answered_by), \
           updated_at = excluded.updated_at",
        &[
            s(c.id),
            s(c.direction),
            s(c.caller),
            s(c.dialled),
            s(c.state),
            s(c.phase),
            i(c.rank),
            i(c.is_test as i64),
            i(c.started_at),
            opt_i(c.connected_at),
            opt_i(c.ended_at),
            opt_i(c.duration_ms),
            opt_s(c.answered_by),
            i(c.now_ms),
        ],
    )
}

/// Claims the call's one pop for `key` (`leg:state`) unless another event already has it.
pub fn claim_pop_stmt(db: &D1Database, call: &str, key: &str) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "UPDATE calls SET popped_by = ?2 WHERE id = ?1 AND popped_by IS NULL",
        &[s(call), s(key)],
    )
}

pub fn popped_by_stmt(db: &D1Database, call: &str) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "SELECT k.popped_by, k.state, k.phase, k.started_at, k.connected_at, k.ended_at, k.duration_ms, \
           k.store_id, s.name AS store_name FROM calls k LEFT JOIN stores s ON s.id = k.store_id WHERE k.id = ?1",
        &[s(call)],
    )
}

#[derive(Deserialize)]
pub struct CallStateRow {
    pub popped_by: Option<String>,
    pub state: String,
    pub phase: String,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
}

/// A call-log entry as the console and the popup list it.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct CallLogEntry {
    pub id: String,
    pub direction: String,
    pub caller: String,
    pub dialled: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub state: String,
    pub phase: String,
    pub is_test: i64,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub answered_by: Option<String>,
}

const LOG_COLUMNS: &str = "k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, \
  k.customer_id, c.name AS customer_name, k.state, k.phase, k.is_test, k.started_at, k.connected_at, \
  k.ended_at, k.duration_ms, k.answered_by";

/// Recent calls, newest first; `store` restricts to one store (staff).
pub async fn recent_calls(
    db: &D1Database,
    store: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<CallLogEntry>> {
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM calls k LEFT JOIN stores s ON s.id = k.store_id \
         LEFT JOIN customers c ON c.id = k.customer_id \
         WHERE (?1 IS NULL OR k.store_id = ?1) ORDER BY k.started_at DESC LIMIT ?2"
    );
    Ok(stmt(db, &sql, &[opt_i(store), i(limit)])?
        .all()
        .await?
        .results()?)
}

/// The last calls from one number, for the popup's history.
pub fn history_stmt(db: &D1Database, phone: &str, limit: i64) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM calls k LEFT JOIN stores s ON s.id = k.store_id \
         LEFT JOIN customers c ON c.id = k.customer_id \
         WHERE k.caller = ?1 ORDER BY k.started_at DESC LIMIT ?2"
    );
    stmt(db, &sql, &[s(phone), i(limit)])
}

#[derive(Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub login_id: String,
    pub display_name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub password_hash: String,
    pub token_version: i64,
    pub disabled: i64,
}

impl UserRow {
    /// The session this account gets (None when its role is unknown).
    pub fn session(self) -> Option<crate::token::Session> {
        Some(crate::token::Session {
            role: crate::token::Role::parse(&self.role)?,
            uid: self.id,
            login: self.login_id,
            name: self.display_name,
            store: self.store_id,
            tv: self.token_version,
        })
    }
}

pub async fn user_by_login(db: &D1Database, login: &str) -> ApiResult<Option<UserRow>> {
    Ok(stmt(
        db,
        "SELECT id, login_id, display_name, role, store_id, password_hash, token_version, disabled \
         FROM users WHERE login_id = ?1",
        &[s(login)],
    )?
    .first::<UserRow>(None)
    .await?)
}

pub async fn user_by_id(db: &D1Database, id: i64) -> ApiResult<Option<UserRow>> {
    Ok(stmt(
        db,
        "SELECT id, login_id, display_name, role, store_id, password_hash, token_version, disabled \
         FROM users WHERE id = ?1",
        &[i(id)],
    )?
    .first::<UserRow>(None)
    .await?)
}

/// Deletes calls (and their events) that started before `cutoff_ms`. Returns the row counts.
pub async fn prune_calls(env: &worker::Env, cutoff_ms: i64) -> ApiResult<(usize, usize)> {
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            stmt(
                &db,
                "DELETE FROM call_events WHERE group_id IN (SELECT id FROM calls WHERE started_at < ?1) \
                 OR received_at < ?1",
                &[i(cutoff_ms)],
            )?,
            stmt(&db, "DELETE FROM calls WHERE started_at < ?1", &[i(cutoff_ms)])?,
        ])
        .await?;
    let n = |r: &D1Result| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0);
    Ok((n(&results[1]), n(&results[0])))
}
