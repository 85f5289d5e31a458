//! The call log (着信履歴) as the console, the popup and the customer page read it, and its
//! retention. The hub writes it; this module only reads and prunes, with `db::calls`'
//! statements.
use crate::db::calls::{self as db_calls, CallLogEntry};
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::phone::{self, Phone};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::hours;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

/// Marks the calls that started outside their store's hours.
pub fn mark_after_hours(calls: &mut [CallLogEntry], ctx: &crate::resources::hours::HoursContext) {
    for c in calls {
        c.after_hours = ctx.after_hours(c.store_id, c.started_at);
    }
}

/// `GET /api/calls/recent?limit=` — the console's call list, newest first.
pub async fn recent(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let limit = http::query_param(&req, "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let mut batch = vec![db_calls::recent(limit, viewer.scope()).d1(&db)?];
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
    // A query that reads as a number matches part of the caller's number; anything else the
    // customer's name or フリガナ, folded like every search (`domain::search`).
    let (q, name_key) = match body.q.filter(|v| !v.trim().is_empty()) {
        Some(v) => match phone::normalize(&v) {
            Ok(Phone::Number(n)) => (Some(n), None),
            _ => {
                let key = crate::domain::search::key(&v);
                if key.chars().count() > crate::domain::search::MAX_QUERY_CHARS {
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
    let filter = db_calls::LogFilter {
        store: body.store,
        from,
        to,
        missed: body.missed,
        number: q,
        customer,
        category: body.category.filter(|v| !v.is_empty()),
        outcome: body.outcome.filter(|v| !v.is_empty()),
        name_key,
        page,
        per_page: per,
        scope: viewer.scope(),
    };
    let db = env.d1("DB")?;
    if filter.name_key.is_some() {
        crate::db::customers::backfill_keys(&db).await?;
    }
    let (total, rows, ctx) =
        hours::page_with_context(&db, filter.count().d1(&db)?, filter.page().d1(&db)?).await?;
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
    let batch = db_calls::prune(cutoff_ms, now_ms)
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    Ok((db::changes(&results[1]), db::changes(&results[0])))
}
