//! `/api/calls/wrapup`: the wrap-up of one call (用件, 対応結果, note), saved on the call. Anyone
//! who may see the call may read and write it. The call log shows and filters it
//! (`resources::calls`).
use crate::domain::access::{call_visible_sql, Viewer};
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::platform::db::{self, i, opt_i, s};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::calls::{log_select, CallLogEntry};
use crate::resources::settings;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

fn call_id_param(v: Option<String>) -> ApiResult<String> {
    v.map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && c.len() <= 100)
        .ok_or_else(|| ApiError::bad("invalid_call_id", "callId", "callId を指定してください"))
}

/// `GET /api/calls/wrapup?callId=` — the call (with who answered and the line that rang) and
/// its wrap-up.
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let call_id = call_id_param(http::query_param(&req, "callId"))?;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let sql = format!(
        "{} WHERE k.id = ?1 AND {}",
        log_select(2),
        call_visible_sql(2)
    );
    let call: Option<CallLogEntry> = db::stmt(&db, &sql, &[s(&call_id), opt_i(viewer.scope())])?
        .first(None)
        .await?;
    let call = call.ok_or(ApiError::NotFound)?;
    Ok(http::json_response(200, &json!({ "call": call }))?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WrapupBody {
    call_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

/// `PUT /api/calls/wrapup` — saves the wrap-up (the whole of it) on a call the user may see.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let body: WrapupBody = http::read_json(&mut req, 16 * 1024).await?;
    let call_id = call_id_param(Some(body.call_id))?;
    let db = env.d1("DB")?;
    let categories = settings::load(&db).await?.categories;
    let w = front_desk::wrapup(&body.category, &body.outcome, &body.note, &categories)?;
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    let r = db::stmt(
        &db,
        &format!(
            "INSERT INTO call_wrapups (call_id, category, outcome, note, updated_by, updated_at) \
             SELECT k.id, ?2, ?3, ?4, ?5, ?6 FROM calls k WHERE k.id = ?1 AND {} \
             ON CONFLICT (call_id) DO UPDATE SET category = excluded.category, \
             outcome = excluded.outcome, note = excluded.note, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
            call_visible_sql(7)
        ),
        &[
            s(&call_id),
            s(&w.category),
            s(&w.outcome),
            s(&w.note),
            s(&session.name),
            i(now),
            opt_i(viewer.scope()),
        ],
    )?
    .run()
    .await?;
    if db::changes(&r) == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(http::json_response(
        200,
        &json!({ "wrapup": { "callId": call_id, "category": w.category, "outcome": w.outcome,
            "note": w.note, "updatedBy": session.name, "updatedAt": now } }),
    )?)
}
