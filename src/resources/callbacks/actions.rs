//! 折り返し's writes: status, 担当 and due time, the assignees to pick from, an attempt logged,
//! bulk close.
use super::*;
use crate::db::callbacks as db_callbacks;
use crate::db::hours as db_hours;
use crate::db::users;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::hours::{self};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    status: Option<String>,
    /// `"me"` takes the item, `null` clears the owner; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    /// Epoch ms, `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    due_at: Option<Option<i64>>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /api/callbacks/{id}` `{status?: "open"|"in_progress"|"done", assignee?: "me"|null,
/// dueAt?: ms|null}` — who and when are recorded; 対応中/未対応 clear the closing note.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: UpdateBody = http::read_json(&mut req, 4096).await?;
    let status = body
        .status
        .as_deref()
        .map(front_desk::callback_status)
        .transpose()?;
    let assignee: Option<Option<i64>> = match &body.assignee {
        None => None,
        Some(None) => Some(None),
        Some(Some(v)) if v == "me" => Some(Some(session.uid)),
        Some(Some(v)) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => Some(Some(n)),
            _ => {
                return Err(ApiError::bad(
                    "invalid_assignee",
                    "assignee",
                    "担当は \"me\"（自分）・ユーザーID・null（なし）で指定してください",
                ))
            }
        },
    };
    if let Some(Some(t)) = body.due_at {
        if !(0..=253_402_300_799_000).contains(&t) {
            return Err(ApiError::bad(
                "invalid_due_at",
                "dueAt",
                "期限の日時が正しくありません",
            ));
        }
    }
    if status.is_none() && assignee.is_none() && body.due_at.is_none() {
        return Err(ApiError::bad(
            "nothing_to_change",
            "status",
            "変更する項目（状態・担当・期限）を指定してください",
        ));
    }
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    let db = env.d1("DB")?;
    let closing = status == Some("done");
    let other_assignee = assignee.flatten().filter(|a| *a != session.uid);
    if closing || other_assignee.is_some() {
        check_update(&db, &viewer, id, closing, other_assignee).await?;
    }
    let r = db_callbacks::update(
        id,
        status,
        assignee,
        body.due_at,
        &session.name,
        now,
        viewer.scope(),
    )
    .d1(&db)?
    .all()
    .await
    .map_err(|e| match ApiError::from_storage(e.to_string()) {
        ApiError::Conflict { .. } => ApiError::Conflict {
            code: "callback_already_open",
            message: "この番号の未完了の折り返しが既にあります".into(),
            current: None,
        },
        other => other,
    })?;
    let row: db_callbacks::Updated = db::first(&r)?.ok_or(ApiError::NotFound)?;
    changed(env, row.store_id, &format!("callbacks:patch:{id}:{now}")).await?;
    Ok(http::json_response(
        200,
        &json!({ "callback": { "id": id, "status": row.status, "assigneeId": row.assignee_id,
            "dueAt": row.due_at, "updatedBy": session.name, "updatedAt": now } }),
    )?)
}

/// `GET /api/callbacks/assignees?store=` — who an item of `store` may be assigned to: the
/// active accounts that may see the store's calls (`domain::access`), for the 担当 select.
/// Only someone who may see the store's calls gets the list.
pub async fn assignees(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let store = match http::query_param(&req, "store").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::bad("invalid_store", "store", "店舗の指定が正しくありません")
        })?),
    };
    if !viewer.may_see_call(store) {
        return Err(ApiError::Forbidden("other_store"));
    }
    let users: Vec<users::Assignable> = users::assignable()
        .d1(&env.d1("DB")?)?
        .all()
        .await?
        .results()?;
    let list: Vec<Value> = users
        .into_iter()
        .filter(|u| {
            users::viewer_of(&u.role, u.store_id, u.stores.as_deref())
                .is_some_and(|v| v.may_see_call(store))
        })
        .map(|u| json!({ "id": u.id, "name": u.name, "role": u.role }))
        .collect();
    Ok(http::json_response(200, &json!({ "users": list }))?)
}

/// 409 when the rule 「完了には対応結果が必要」 is on and an item has no attempt.
fn needs_outcome(current: Option<Value>) -> ApiError {
    ApiError::Conflict {
        code: "callback_needs_outcome",
        message:
            "完了にする前に、折り返しの対応結果（不在・伝言・つながった・その他）を記録してください"
                .into(),
        current,
    }
}

/// Before a PATCH: closing needs an attempt when the rule is on; an assignee other than the
/// caller must be an active account that may see the item's store (`domain::access`).
async fn check_update(
    db: &worker::D1Database,
    viewer: &Viewer,
    id: i64,
    closing: bool,
    assignee: Option<i64>,
) -> ApiResult<()> {
    let results = db
        .batch(vec![
            db_callbacks::attempt_count(id, viewer.scope()).d1(db)?,
            users::active_role(assignee).d1(db)?,
            db_hours::require_outcome().d1(db)?,
        ])
        .await?;
    let item: db_callbacks::AttemptCount = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
    if closing && item.attempts == 0 && db::count(&results[2]).unwrap_or(0) != 0 {
        return Err(needs_outcome(None));
    }
    if assignee.is_some() {
        let user: Option<users::RoleRow> = db::first(&results[1])?;
        let ok = user.is_some_and(|u| {
            users::viewer_of(&u.role, u.store_id, u.stores.as_deref())
                .is_some_and(|v| v.may_see_call(item.store_id))
        });
        if !ok {
            return Err(ApiError::bad(
                "invalid_assignee",
                "assignee",
                "担当にできるのはこの店舗のユーザー（または管理者）だけです",
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttemptBody {
    result: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/callbacks/{id}/attempts` `{result: 不在|伝言|つながった|その他, note?}` — logs an
/// attempt to call back (who and when); a 未対応 item becomes 対応中. 201 `{attempt}`.
pub async fn add_attempt(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: AttemptBody = http::read_json(&mut req, 8192).await?;
    let (result, note) = front_desk::attempt(&body.result, &body.note)?;
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    let db = env.d1("DB")?;
    let batch = db_callbacks::add_attempt(
        id,
        result,
        &note,
        session.uid,
        &session.name,
        now,
        viewer.scope(),
    )
    .iter()
    .map(|s| s.d1(&db))
    .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    #[derive(Deserialize)]
    struct Inserted {
        id: i64,
    }
    let attempt: Inserted = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
    let item: db_callbacks::AttemptedItem = db::first(&results[1])?.ok_or(ApiError::NotFound)?;
    changed(
        env,
        item.store_id,
        &format!("callbacks:attempt:{}", attempt.id),
    )
    .await?;
    Ok(http::json_response(
        201,
        &json!({
            "attempt": { "id": attempt.id, "result": result, "note": note, "byName": session.name, "at": now },
            "callback": { "id": id, "status": item.status },
        }),
    )?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    ids: Vec<i64>,
}

/// At most this many items per bulk close.
const MAX_CLOSE: usize = 200;

/// `POST /api/callbacks/close` `{ids}` — closes (対応済) the listed items this user may see
/// that are still to do → `{closed: [ids]}`.
pub async fn close(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: CloseBody = http::read_json(&mut req, 16 * 1024).await?;
    if body.ids.is_empty() || body.ids.len() > MAX_CLOSE {
        return Err(ApiError::bad(
            "invalid_ids",
            "ids",
            format!("完了にする項目を1〜{MAX_CLOSE}件選んでください"),
        ));
    }
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    let db = env.d1("DB")?;
    if hours::org(&db).await?.callback_require_outcome {
        #[derive(Deserialize)]
        struct Missing {
            id: i64,
        }
        let missing: Vec<Missing> = db_callbacks::without_attempt(&body.ids)
            .d1(&db)?
            .all()
            .await?
            .results()?;
        if !missing.is_empty() {
            let ids: Vec<i64> = missing.iter().map(|m| m.id).collect();
            return Err(needs_outcome(Some(json!({ "ids": ids }))));
        }
    }
    let r = db_callbacks::close(&body.ids, &session.name, now, viewer.scope())
        .d1(&db)?
        .all()
        .await?;
    let rows: Vec<db_callbacks::Closed> = db::rows(&r)?;
    let mut stores: Vec<Option<i64>> = vec![];
    for row in &rows {
        if !stores.contains(&row.store_id) {
            stores.push(row.store_id);
        }
    }
    for store in stores {
        changed(
            env,
            store,
            &format!("callbacks:close:{}:{store:?}:{now}", session.uid),
        )
        .await?;
    }
    let mut closed: Vec<i64> = rows.iter().map(|r| r.id).collect();
    closed.sort_unstable();
    Ok(http::json_response(200, &json!({ "closed": closed }))?)
}
