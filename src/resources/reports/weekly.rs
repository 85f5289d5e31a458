//! 着信分析's weekly summary: its destination (設定), a test send, and the cron's send of last
//! week's figures, once a week.
use super::build;
use crate::db::reports::{self as db_reports, WeeklyRow};
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::report::{self, GroupBy, Period};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

async fn weekly_settings(db: &worker::D1Database) -> ApiResult<Option<WeeklyRow>> {
    Ok(db.prepare(db_reports::WEEKLY_SETTINGS).first(None).await?)
}

/// `GET /api/settings/reports` (admin): the weekly summary's destination.
pub async fn get_settings(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let row = weekly_settings(&env.d1("DB")?).await?;
    Ok(http::json_response(
        200,
        &json!({
            "webhookUrl": row.as_ref().and_then(|r| r.webhook_url.clone()),
            "lastSentWeek": row.and_then(|r| r.last_sent_week),
        }),
    )?)
}

/// `PUT /api/settings/reports` (admin) `{webhookUrl: "https://…" | null}`.
pub async fn put_settings(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Body {
        webhook_url: Option<String>,
    }
    let body: Body = http::read_json(&mut req, 4096).await?;
    let url = report::webhook_url(body.webhook_url.as_deref())?;
    db_reports::save_weekly_url(url.as_deref(), &session.name, http::now_ms())
        .d1(&env.d1("DB")?)?
        .run()
        .await?;
    crate::resources::audit::settings_changed(&session, "reports", "update", None);
    Ok(http::json_response(200, &json!({ "webhookUrl": url }))?)
}

/// `POST /api/settings/reports/test` (admin): sends last week's summary now.
pub async fn send_test(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let db = env.d1("DB")?;
    let url = weekly_settings(&db)
        .await?
        .and_then(|r| r.webhook_url)
        .ok_or_else(|| {
            ApiError::bad(
                "no_webhook_url",
                "webhookUrl",
                "送信先のURLを先に保存してください",
            )
        })?;
    let (period, _) = report::last_week(http::now_ms());
    let status = send_summary(env, &url, period).await?;
    Ok(http::json_response(
        200,
        &json!({ "sent": (200..300).contains(&status), "status": status }),
    )?)
}

/// Last week's figures of every store (an admin's view), as chat text, posted to `url` as
/// `{"text": …}` (what Slack's and Google Chat's incoming webhooks take). Returns the status.
async fn send_summary(env: &Env, url: &str, period: Period) -> ApiResult<u16> {
    let admin = Viewer::new(crate::domain::token::Role::Admin, []);
    let r = build(env, admin, period, GroupBy::Day, None, false).await?;
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    let rows: Vec<report::SummaryRow> = r["stores"]
        .as_array()
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| report::SummaryRow {
            store: s["storeName"].as_str().unwrap_or("").to_string(),
            calls: n(s, "calls"),
            answered: n(s, "answered"),
            missed: n(s, "missed"),
            voicemail: n(s, "voicemail"),
        })
        .collect();
    #[derive(Deserialize)]
    struct Open {
        n: i64,
    }
    let open: Option<Open> = env
        .d1("DB")?
        .prepare(db_reports::OPEN_CALLBACKS)
        .first(None)
        .await?;
    let text = report::summary_text(&period, &rows, open.map_or(0, |o| o.n));
    let headers = worker::Headers::new();
    headers.set("Content-Type", "application/json")?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(json!({ "text": text }).to_string().into()));
    let req = Request::new_with_init(url, &init)?;
    let resp = worker::Fetch::Request(req)
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("weekly summary: {e}")))?;
    Ok(resp.status_code())
}

/// From the crons: last week's summary, once, from Monday 09:00 Japan time on, when a
/// destination is set. The week is claimed before sending (a second cron run the same
/// minute does not send it twice); a failed send is logged and not retried until next week.
pub async fn weekly(env: &Env, now_ms: i64) -> ApiResult<Value> {
    if !report::weekly_due(now_ms) {
        return Ok(json!({"event": "weekly_summary", "sent": false, "why": "not due"}));
    }
    let db = env.d1("DB")?;
    let (period, label) = report::last_week(now_ms);
    let Some(url) = weekly_settings(&db).await?.and_then(|r| r.webhook_url) else {
        return Ok(json!({"event": "weekly_summary", "sent": false, "why": "no destination"}));
    };
    let claimed = db_reports::claim_week(&label).d1(&db)?.run().await?;
    if db::changes(&claimed) == 0 {
        return Ok(
            json!({"event": "weekly_summary", "sent": false, "why": "already sent", "week": label}),
        );
    }
    let status = send_summary(env, &url, period).await?;
    Ok(json!({"event": "weekly_summary", "sent": true, "week": label, "status": status}))
}
