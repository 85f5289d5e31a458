//! The call log (着信履歴) as the console, the popup and the customer page read it, and its
//! retention. The hub writes it (`db::calls`); this module only reads and prunes.
use crate::domain::access::{
    call_customer_columns_sql, call_visible_sql, customer_visible_sql, Viewer,
};
use crate::domain::error::ApiError;
use crate::domain::phone::{self, Phone};
use crate::platform::db::{self, i, opt_i, opt_s, s};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::hours;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, Env, Request, Response};

/// A call-log entry as every list shows it.
#[derive(Debug, Deserialize, Serialize)]
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
    /// The call's wrap-up (`resources::wrapups`), when someone wrote one.
    #[serde(default)]
    pub wrapup_category: Option<String>,
    #[serde(default)]
    pub wrapup_outcome: Option<String>,
    #[serde(default)]
    pub wrapup_note: Option<String>,
    #[serde(default)]
    pub wrapup_by: Option<String>,
    /// When it was saved, and its version (a save names the version it read).
    #[serde(default)]
    pub wrapup_at: Option<i64>,
    #[serde(default)]
    pub wrapup_version: Option<i64>,
    pub voicemail_url: Option<String>,
    /// Stored as a JSON array; sent as one.
    #[serde(serialize_with = "json_list")]
    pub recording_urls: Option<String>,
    pub transcript: Option<String>,
    pub summary: Option<String>,
    /// 時間外: the call started outside its store's hours (decided when read, from the
    /// store's hours: `resources::hours`), so the hub never waits for it.
    #[serde(default)]
    pub after_hours: bool,
}

/// Marks the calls that started outside their store's hours.
pub fn mark_after_hours(calls: &mut [CallLogEntry], ctx: &crate::resources::hours::HoursContext) {
    for c in calls {
        c.after_hours = ctx.after_hours(c.store_id, c.started_at);
    }
}

fn json_list<S: serde::Serializer>(v: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    let list: Vec<String> = v
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    serde::Serialize::serialize(&list, ser)
}

/// The one column list and join of a call-log read; `k` is the call, `WHERE` follows. `?{n}`
/// is the viewer's scope ([`Viewer::scope`]): the call's customer (id and name) is there only
/// when the viewer may see that customer (`access::call_customer_columns_sql`); the call
/// itself is limited by the caller's `WHERE` (`call_visible_sql`).
pub fn log_select(n: usize) -> String {
    format!(
        "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, \
  {}, k.state, k.phase, k.is_test, k.started_at, k.connected_at, \
  k.ended_at, k.duration_ms, k.answered_by, k.voicemail_url, k.recording_urls, k.transcript, k.summary, \
  w.category AS wrapup_category, w.outcome AS wrapup_outcome, w.note AS wrapup_note, w.updated_by AS wrapup_by, \
  w.updated_at AS wrapup_at, w.version AS wrapup_version \
  FROM calls k LEFT JOIN stores s ON s.id = k.store_id LEFT JOIN customers c ON c.id = k.customer_id \
  LEFT JOIN call_wrapups w ON w.call_id = k.id",
        call_customer_columns_sql(n)
    )
}

/// The last `limit` calls from `phone` that `viewer` may see, newest first.
pub fn from_number_stmt(
    db: &D1Database,
    viewer: Viewer,
    phone: &str,
    limit: i64,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "{} WHERE k.caller = ?1 AND {} ORDER BY k.started_at DESC LIMIT ?2",
        log_select(3),
        call_visible_sql(3)
    );
    db::stmt(db, &sql, &[s(phone), i(limit), opt_i(viewer.scope())])
}

/// The last `limit` calls from any of a customer's numbers that `viewer` may see.
pub fn of_customer_stmt(
    db: &D1Database,
    viewer: Viewer,
    customer: i64,
    limit: i64,
) -> ApiResult<D1PreparedStatement> {
    let sql = format!(
        "{} WHERE k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = ?1) \
         AND {} ORDER BY k.started_at DESC LIMIT ?2",
        log_select(3),
        call_visible_sql(3)
    );
    db::stmt(db, &sql, &[i(customer), i(limit), opt_i(viewer.scope())])
}

/// `GET /api/calls/recent?limit=` — the console's call list, newest first.
pub async fn recent(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let limit = http::query_param(&req, "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let sql = format!(
        "{} WHERE {} ORDER BY k.started_at DESC LIMIT ?2",
        log_select(1),
        call_visible_sql(1)
    );
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let mut batch = vec![db::stmt(&db, &sql, &[opt_i(viewer.scope()), i(limit)])?];
    batch.extend(hours::context_stmts(&db));
    let results = db.batch(batch).await?;
    let mut calls: Vec<CallLogEntry> = db::rows(&results[0])?;
    mark_after_hours(&mut calls, &hours::context_from(&results[1], &results[2])?);
    Ok(http::json_response(200, &json!({ "calls": calls }))?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogQuery {
    #[serde(default)]
    store: Option<i64>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    missed: bool,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
    /// The calls of one customer's numbers.
    #[serde(default)]
    customer: Option<i64>,
    /// A wrap-up's 用件 / 対応結果.
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

/// `POST /api/calls/search` with `{"store", "from": "YYYY-MM-DD", "to", "missed", "q",
/// "customer", "category", "outcome", "page", "perPage"}` (all optional) — the call log
/// (着信履歴). `customer` narrows to the calls of one customer's numbers; `category` /
/// `outcome` to a wrap-up's 用件 / 対応結果. The filters travel in the body:
/// a number in a URL ends up in logs. Dates are business days (営業日) in Japan time,
/// inclusive: a day starts at the organisation's cutoff (`/api/settings/hours`, 00:00 unless
/// set), so with 05:00 a call at 04:59 belongs to the day before. Staff: their store only.
pub async fn log(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let body: LogQuery = http::read_json(&mut req, 4096).await?;
    let (page, per) = http::page_of(body.page, body.per_page);
    let store = body.store;
    let day = |v: &Option<String>, name: &'static str, end: bool| -> ApiResult<Option<i64>> {
        match v.as_deref().filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => crate::domain::retention::jst_day_start_ms(v)
                .map(|ms| Some(if end { ms + 24 * 3600 * 1000 } else { ms }))
                .ok_or_else(|| ApiError::bad("invalid_date", name, "日付は YYYY-MM-DD 形式です")),
        }
    };
    let from = day(&body.from, "from", false)?;
    let to = day(&body.to, "to", true)?;
    let missed = body.missed;
    // A query that reads as a number matches part of the caller's number; anything else the
    // customer's name or フリガナ, folded like every search (`domain::search`).
    let (q, name_key) = match body.q.filter(|v| !v.trim().is_empty()) {
        Some(v) => match phone::normalize(&v) {
            Ok(Phone::Number(n)) => (Some(n), None),
            _ => {
                let key = crate::domain::search::key(&v);
                if key.chars().count() > 100 {
                    return Err(ApiError::bad("invalid_query", "q", "検索語が長すぎます"));
                }
                (None, Some(key))
            }
        },
        None => (None, None),
    };
    let customer = match body.customer {
        Some(n) if n <= 0 => {
            return Err(ApiError::bad(
                "invalid_customer",
                "customer",
                "顧客IDが正しくありません",
            ))
        }
        other => other,
    };
    let category = body.category.filter(|v| !v.is_empty());
    let outcome = body.outcome.filter(|v| !v.is_empty());
    // From/to are business days: the cutoff (minutes after midnight) shifts both bounds, read
    // in the same statement so the search makes no extra round trip.
    const CUTOFF: &str = "ifnull((SELECT cutoff_min FROM hours_settings WHERE id = 1), 0) * 60000";
    // The store filter narrows; the viewer's scope (?8) limits. Staff asking for another
    // store get nothing rather than an error: the filter is a view, not a permission.
    let filter = format!(
        "(?1 IS NULL OR k.store_id = ?1) AND (?2 IS NULL OR k.started_at >= ?2 + {CUTOFF}) AND (?3 IS NULL OR k.started_at < ?3 + {CUTOFF}) \
         AND (?4 = 0 OR {missed}) AND (?5 IS NULL OR instr(k.caller, ?5) > 0) AND {} \
         AND (?9 IS NULL OR (EXISTS (SELECT 1 FROM customers c WHERE c.id = ?9 AND {vis}) \
           AND (k.customer_id = ?9 OR k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = ?9)))) \
         AND (?10 IS NULL OR k.id IN (SELECT call_id FROM call_wrapups WHERE category = ?10)) \
         AND (?11 IS NULL OR k.id IN (SELECT call_id FROM call_wrapups WHERE outcome = ?11)) \
         AND (?12 IS NULL OR k.customer_id IN (SELECT c.id FROM customers c \
             WHERE (instr(c.name_key, ?12) > 0 OR instr(c.kana_key, ?12) > 0) AND {vis}) \
           OR k.caller IN (SELECT p.phone FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
             WHERE (instr(c.name_key, ?12) > 0 OR instr(c.kana_key, ?12) > 0) AND {vis}))",
        call_visible_sql(8),
        vis = customer_visible_sql(8),
        missed = crate::domain::call::missed_sql("k")
    );
    let args = [
        opt_i(store),
        opt_i(from),
        opt_i(to),
        i(missed as i64),
        opt_s(q.as_deref()),
        i(per),
        i((page - 1) * per),
        opt_i(viewer.scope()),
        opt_i(customer),
        opt_s(category.as_deref()),
        opt_s(outcome.as_deref()),
        opt_s(name_key.as_deref()),
    ];
    let db = env.d1("DB")?;
    if name_key.is_some() {
        crate::db::customers::backfill_keys(&db).await?;
    }
    let (total, rows, ctx) = hours::page_with_context(
        &db,
        db::stmt(
            &db,
            &format!("SELECT count(*) AS n FROM calls k WHERE {filter}"),
            &args,
        )?,
        db::stmt(
            &db,
            &format!(
                "{} WHERE {filter} ORDER BY k.started_at DESC LIMIT ?6 OFFSET ?7",
                log_select(8)
            ),
            &args,
        )?,
    )
    .await?;
    let mut calls: Vec<CallLogEntry> = db::rows(&rows)?;
    mark_after_hours(&mut calls, &ctx);
    Ok(http::json_response(
        200,
        &json!({ "calls": calls, "total": total, "page": page, "perPage": per }),
    )?)
}

/// Deletes calls (and their events) that started before `cutoff_ms`. Returns the row counts.
/// Events received inside the replay window stay whatever the retention: they are the dedupe
/// keys that stop a replayed token from popping again (`domain::replay`).
pub async fn prune(env: &Env, cutoff_ms: i64, now_ms: i64) -> ApiResult<(usize, usize)> {
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "DELETE FROM call_events WHERE (group_id IN (SELECT id FROM calls WHERE started_at < ?1) \
                 OR group_id NOT IN (SELECT id FROM calls) OR received_at < ?1) AND received_at < ?2",
                &[i(cutoff_ms), i(now_ms - crate::domain::replay::MAX_AGE_MS)],
            )?,
            db::stmt(&db, "DELETE FROM calls WHERE started_at < ?1", &[i(cutoff_ms)])?,
        ])
        .await?;
    Ok((db::changes(&results[1]), db::changes(&results[0])))
}
