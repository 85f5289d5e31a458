//! `/api/calls/wrapup`: the wrap-up of one call (用件, 対応結果, note), saved on the call. Anyone
//! who may see the call may read and write it; a save names the version it read (two desks
//! never overwrite each other's without a word). The call log shows and filters it
//! (`resources::calls`).
use crate::db::calls::{self as db_calls, CallLogEntry};
use crate::db::rollups;
use crate::db::wrapups as db_wrapups;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::domain::messages::BroadcastRequest;
use crate::domain::protocol::SocketMessage;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use crate::resources::accounts::auth;
use crate::resources::callbacks;
use crate::resources::settings;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

fn call_id_param(v: Option<String>) -> ApiResult<String> {
    v.as_deref()
        .and_then(crate::domain::call::call_id)
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad("invalid_call_id", "callId", "callId を指定してください"))
}

/// `GET /api/calls/wrapup?callId=` — the call (with who answered and the line that rang) and
/// its wrap-up.
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let call_id = call_id_param(http::query_param(&req, "callId"))?;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let call: Option<CallLogEntry> = db_calls::visible_by_id(&call_id, viewer.scope())
        .d1(&db)?
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
    /// The version read with `GET` (`call.wrapupVersion`); 0 or absent: there was none yet.
    #[serde(default)]
    version: Option<i64>,
}

/// `PUT /api/calls/wrapup` — saves the wrap-up (the whole of it) on a call the user may see,
/// if `version` is the one stored (409 `version_conflict` with `error.current` otherwise: the
/// other person's text, who and when). A save with 対応結果 = 折り返し予定 puts the number on
/// the 折り返し queue; every save tells the call's consoles `call_wrapup`, live.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: WrapupBody = http::read_json(&mut req, 16 * 1024).await?;
    let call_id = call_id_param(Some(body.call_id))?;
    let version = body.version.unwrap_or(0);
    if !(0..=i64::from(i32::MAX)).contains(&version) {
        return Err(ApiError::bad(
            "invalid_version",
            "version",
            "version が正しくありません",
        ));
    }
    let db = env.d1("DB")?;
    let categories = settings::load(&db).await?.categories;
    let w = front_desk::wrapup(&body.category, &body.outcome, &body.note, &categories)?;
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    let save = db_wrapups::Wrapup {
        call_id: &call_id,
        category: &w.category,
        outcome: &w.outcome,
        note: &w.note,
        by: &session.name,
        now,
        version,
    };
    let results = db
        .batch(
            db_wrapups::save(&save, viewer.scope())
                .into_iter()
                // 着信分析's wrap-up counts of the call's hour, in the same transaction.
                .chain(rollups::refresh(&[&call_id]))
                .map(|s| s.d1(&db))
                .collect::<ApiResult<Vec<_>>>()?,
        )
        .await?;
    let current: Option<db_wrapups::Current> = db::first(&results[1])?;
    let current = current.ok_or(ApiError::NotFound)?;
    if db::changes(&results[0]) == 0 {
        let by = current.by_name.clone().unwrap_or_default();
        return Err(ApiError::Conflict {
            code: "version_conflict",
            message: format!(
                "他の人（{by}）が先に保存しました。内容を確認してから保存してください"
            ),
            current: serde_json::to_value(&current).ok(),
        });
    }
    if w.outcome == front_desk::CALLBACK_OUTCOME {
        let stmts = callbacks::wrapup_statements(&call_id, &current.caller, current.store_id, now);
        if !stmts.is_empty() {
            let prepared = stmts
                .iter()
                .map(|s| s.d1(&db))
                .collect::<ApiResult<Vec<_>>>()?;
            let r = db.batch(prepared).await?;
            if let Some(last) = r.last() {
                for store in callbacks::changed_stores(last)? {
                    callbacks::changed(env, store, &format!("callbacks:wrapup:{call_id}:{now}"))
                        .await?;
                }
            }
        }
    }
    let message = SocketMessage::CallWrapup {
        call_id: call_id.clone(),
        category: current.category.clone(),
        outcome: current.outcome.clone(),
        by: current.by_name.clone(),
        at: current.at,
        version: current.version,
    };
    // Best effort: the wrap-up is saved whether or not a console hears of it now.
    if let Err(e) = hub_client::broadcast(
        env,
        &BroadcastRequest {
            key: format!("wrapup:{call_id}:{}", current.version),
            store_id: current.store_id,
            message: message.text(),
            staff_message: None,
            live: true,
        },
    )
    .await
    {
        worker::console_warn!("call_wrapup not broadcast: {e:?}");
    }
    crate::resources::dialpad::wrapup_saved(env, &call_id, &current.category, &current.outcome)
        .await;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::WrapupSaved)
        .call(Some(&call_id))
        .customer_of_call()
        .record();
    Ok(http::json_response(
        200,
        &json!({ "wrapup": { "callId": call_id, "category": current.category,
            "outcome": current.outcome, "note": current.note, "updatedBy": current.by_name,
            "updatedAt": current.at, "version": current.version } }),
    )?)
}
