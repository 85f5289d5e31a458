//! Business hours: `/api/stores/{id}/hours` (a store's weekly hours, holidays and required
//! wrap-up) and `/api/settings/hours` (the business-day cutoff, a callback's default due time,
//! the required outcome). Everyone signed in reads them (the console and the popup need them);
//! admins write them. What a moment means for them is `domain::hours`'s alone.
use crate::db::hours::{self as db_hours, SettingsRow, StoreHoursRow};
use crate::domain::error::ApiError;
use crate::domain::hours::{self, Hours, Schedule};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, Request, Response};

/// The organisation's hours settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgHours {
    pub cutoff_min: i64,
    pub callback_due_min: i64,
    pub callback_require_outcome: bool,
}

impl Default for OrgHours {
    fn default() -> Self {
        OrgHours {
            cutoff_min: 0,
            callback_due_min: 30,
            callback_require_outcome: false,
        }
    }
}

/// Every store's schedule (and required wrap-up) and the settings, as read in one batch.
#[derive(Debug, Default)]
pub struct HoursContext {
    pub org: OrgHours,
    pub stores: HashMap<i64, (Schedule, bool)>,
}

impl HoursContext {
    /// 時間外: the call started outside its store's configured hours.
    pub fn after_hours(&self, store: Option<i64>, at: i64) -> bool {
        store
            .and_then(|id| self.stores.get(&id))
            .is_some_and(|(s, _)| !s.is_open(at))
    }

    /// The default due time of a callback of `store` created at `at`.
    pub fn default_due(&self, store: Option<i64>, at: i64) -> i64 {
        let empty = Schedule::default();
        let schedule = store
            .and_then(|id| self.stores.get(&id))
            .map_or(&empty, |(s, _)| s);
        hours::callback_due(schedule, at, self.org.callback_due_min)
    }
}

/// The two statements `context_from` reads, to put in a caller's batch.
pub fn context_stmts(db: &D1Database) -> Vec<D1PreparedStatement> {
    vec![
        db.prepare(db_hours::ALL_STORE_HOURS),
        db.prepare(db_hours::SETTINGS),
    ]
}

/// A page of a list in one batch: its total (a `count(*) AS n`), its rows, and the hours
/// context the rows are marked with (after hours, 折り返し due).
pub async fn page_with_context(
    db: &D1Database,
    total: D1PreparedStatement,
    rows: D1PreparedStatement,
) -> ApiResult<(i64, D1Result, HoursContext)> {
    let mut context = context_stmts(db);
    let settings = context.pop().expect("two statements");
    let stores = context.pop().expect("two statements");
    let mut results = db.batch(vec![total, rows, stores, settings]).await?;
    let ctx = context_from(&results[2], &results[3])?;
    let total = db::count(&results[0])?;
    Ok((total, results.swap_remove(1), ctx))
}

fn org_of(row: Option<SettingsRow>) -> OrgHours {
    row.map_or_else(OrgHours::default, |r| OrgHours {
        cutoff_min: r.cutoff_min,
        callback_due_min: r.callback_due_min,
        callback_require_outcome: r.callback_require_outcome != 0,
    })
}

pub fn context_from(store_rows: &D1Result, settings: &D1Result) -> ApiResult<HoursContext> {
    let stores = db::rows::<StoreHoursRow>(store_rows)?
        .into_iter()
        .map(|r| {
            (
                r.store_id,
                (hours::schedule(&r.body), r.require_wrapup != 0),
            )
        })
        .collect();
    Ok(HoursContext {
        org: org_of(db::first(settings)?),
        stores,
    })
}

/// Reads the context on its own.
pub async fn context(db: &D1Database) -> ApiResult<HoursContext> {
    let r = db.batch(context_stmts(db)).await?;
    context_from(&r[0], &r[1])
}

pub async fn org(db: &D1Database) -> ApiResult<OrgHours> {
    let row: Option<SettingsRow> = db.prepare(db_hours::SETTINGS).first(None).await?;
    Ok(org_of(row))
}

fn hhmm(min: i64) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

fn settings_body(o: &OrgHours) -> serde_json::Value {
    json!({ "settings": {
        "businessDayCutoff": hhmm(o.cutoff_min),
        "callbackDueMinutes": o.callback_due_min,
        "callbackRequireOutcome": o.callback_require_outcome,
    } })
}

/// `GET /api/settings/hours`: the settings, and whether each store with hours is open now
/// (the consoles mark a ringing call 時間外 and may mute its ring from this).
pub async fn get_settings(req: Request, env: &Env) -> ApiResult<Response> {
    auth::authenticate(&req, env).await?;
    let ctx = context(&env.d1("DB")?).await?;
    let now = http::now_ms();
    let mut body = settings_body(&ctx.org);
    let mut stores: Vec<_> = ctx
        .stores
        .iter()
        .filter(|(_, (s, _))| s.configured())
        .map(|(id, (s, _))| json!({ "storeId": id, "openNow": s.is_open(now) }))
        .collect();
    stores.sort_by_key(|v| v["storeId"].as_i64());
    body["stores"] = json!(stores);
    body["requireWrapup"] = json!(ctx
        .stores
        .iter()
        .filter(|(_, (_, r))| *r)
        .map(|(id, _)| *id)
        .collect::<std::collections::BTreeSet<_>>());
    Ok(http::json_response(200, &body)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsInput {
    business_day_cutoff: Option<String>,
    callback_due_minutes: Option<i64>,
    callback_require_outcome: Option<bool>,
}

/// `PUT /api/settings/hours` (admin): any of the three fields; the others keep their value.
pub async fn put_settings(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: SettingsInput = http::read_json(&mut req, 4096).await?;
    let db = env.d1("DB")?;
    let mut o = org(&db).await?;
    if let Some(c) = &input.business_day_cutoff {
        o.cutoff_min = hours::cutoff_minutes(c)?;
    }
    if let Some(n) = input.callback_due_minutes {
        if !(1..=10_080).contains(&n) {
            return Err(ApiError::bad(
                "invalid_due_minutes",
                "callbackDueMinutes",
                "折り返しの期限は1〜10080分で入力してください",
            ));
        }
        o.callback_due_min = n;
    }
    if let Some(b) = input.callback_require_outcome {
        o.callback_require_outcome = b;
    }
    db_hours::save_settings(
        o.cutoff_min,
        o.callback_due_min,
        o.callback_require_outcome,
        &session.name,
        http::now_ms(),
    )
    .d1(&db)?
    .run()
    .await?;
    crate::resources::audit::settings_changed(&session, "hours", "update", None);
    Ok(http::json_response(200, &settings_body(&o))?)
}

async fn store_exists(db: &D1Database, id: i64) -> ApiResult<()> {
    let row: Option<serde_json::Value> = crate::db::stores::exists(id).d1(db)?.first(None).await?;
    row.map(|_| ()).ok_or(ApiError::NotFound)
}

fn store_body(id: i64, hours: &Hours, require_wrapup: bool, now: i64) -> serde_json::Value {
    let (_, schedule) = hours::validate(hours.clone()).unwrap_or_default();
    json!({
        "storeId": id,
        "hours": hours,
        "requireWrapup": require_wrapup,
        "configured": schedule.configured(),
        "openNow": schedule.is_open(now),
        "nextOpening": schedule.next_opening(now).map(http::iso),
    })
}

/// `GET /api/stores/{id}/hours`
pub async fn get_store(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    auth::authenticate(&req, env).await?;
    let db = env.d1("DB")?;
    store_exists(&db, id).await?;
    let row: Option<StoreHoursRow> = db_hours::store_hours(id).d1(&db)?.first(None).await?;
    let (hours, require) = row.map_or((Hours::default(), false), |r| {
        (
            serde_json::from_str(&r.body).unwrap_or_default(),
            r.require_wrapup != 0,
        )
    });
    Ok(http::json_response(
        200,
        &store_body(id, &hours, require, http::now_ms()),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoreInput {
    hours: Option<Hours>,
    require_wrapup: Option<bool>,
}

/// `PUT /api/stores/{id}/hours` (admin) `{hours: {weekly, holidays}, requireWrapup}`: either
/// field; the other keeps its value.
pub async fn put_store(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: StoreInput = http::read_json(&mut req, 64 * 1024).await?;
    let hours = input
        .hours
        .map(hours::validate)
        .transpose()?
        .map(|(h, _)| h);
    let db = env.d1("DB")?;
    store_exists(&db, id).await?;
    let body = hours
        .as_ref()
        .map(|h| serde_json::to_string(h).unwrap_or_else(|_| "{}".into()));
    let now = http::now_ms();
    let saved: db_hours::SavedStoreHours = db_hours::save_store_hours(
        id,
        body.as_deref(),
        input.require_wrapup,
        &session.name,
        now,
    )
    .d1(&db)?
    .first(None)
    .await?
    .ok_or(ApiError::NotFound)?;
    let hours: Hours = serde_json::from_str(&saved.body).unwrap_or_default();
    crate::resources::audit::settings_changed(&session, "store_hours", "update", Some(id));
    Ok(http::json_response(
        200,
        &store_body(id, &hours, saved.require_wrapup != 0, now),
    )?)
}
