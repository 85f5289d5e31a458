//! 折り返し's writes: status, 担当 and due time, the assignees to pick from, an attempt logged,
//! bulk close.
use super::*;
use crate::db::users;
use crate::domain::access::{call_visible_sql, Viewer};
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::platform::db::{self, i, opt_i, opt_s, s};
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
    let r = db::stmt(
        &db,
        &format!(
            "UPDATE callbacks SET status = coalesce(?2, status), updated_by = ?3, updated_at = ?4, \
             note = CASE WHEN ?2 IS NULL OR ?2 = 'done' THEN note ELSE '' END, \
             closed_by_call = CASE WHEN ?2 IS NULL OR ?2 = 'done' THEN closed_by_call ELSE NULL END, \
             assignee_id = CASE WHEN ?6 THEN ?7 ELSE assignee_id END, \
             due_at = CASE WHEN ?8 THEN ?9 ELSE due_at END \
             WHERE id = ?1 AND {} RETURNING store_id, status, assignee_id, due_at",
            // SQLite's UPDATE takes no alias: the policy's fragment on the bare column.
            call_visible_sql(5).replace("k.", "")
        ),
        &[
            i(id),
            opt_s(status),
            s(&session.name),
            i(now),
            db::scope(&viewer),
            i(assignee.is_some() as i64),
            opt_i(assignee.flatten()),
            i(body.due_at.is_some() as i64),
            opt_i(body.due_at.flatten()),
        ],
    )?
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
    #[derive(Deserialize)]
    struct Updated {
        store_id: Option<i64>,
        status: String,
        assignee_id: Option<i64>,
        due_at: Option<i64>,
    }
    let row: Updated = db::first(&r)?.ok_or(ApiError::NotFound)?;
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
    #[derive(Deserialize)]
    struct User {
        id: i64,
        name: String,
        role: String,
        store_id: Option<i64>,
        stores: Option<String>,
    }
    let users: Vec<User> = env
        .d1("DB")?
        .prepare(format!(
            "SELECT u.id, u.display_name AS name, coalesce(u.org_role, u.role) AS role, u.store_id, {} FROM users u \
                 WHERE u.disabled = 0 ORDER BY u.display_name, u.id LIMIT 500",
            users::STORES_OF_U
        ))
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
    #[derive(Deserialize)]
    struct Item {
        store_id: Option<i64>,
        attempts: i64,
    }
    #[derive(Deserialize)]
    struct User {
        role: String,
        store_id: Option<i64>,
        stores: Option<String>,
    }
    let results = db
        .batch(vec![
            db::stmt(
                db,
                &format!(
                    "SELECT k.store_id, (SELECT count(*) FROM callback_attempts a \
                     WHERE a.callback_id = k.id) AS attempts FROM callbacks k \
                     WHERE k.id = ?1 AND {}",
                    call_visible_sql(2)
                ),
                &[i(id), db::scope(viewer)],
            )?,
            db::stmt(
                db,
                &format!(
                    "SELECT coalesce(u.org_role, u.role) AS role, u.store_id, {} FROM users u WHERE u.id = ?1 AND u.disabled = 0",
                    users::STORES_OF_U
                ),
                &[opt_i(assignee)],
            )?,
            db.prepare("SELECT callback_require_outcome AS n FROM hours_settings WHERE id = 1"),
        ])
        .await?;
    let item: Item = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
    if closing && item.attempts == 0 && db::count(&results[2]).unwrap_or(0) != 0 {
        return Err(needs_outcome(None));
    }
    if assignee.is_some() {
        let user: Option<User> = db::first(&results[1])?;
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
    let visible = call_visible_sql(2).replace("k.", "");
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                &format!(
                    "INSERT INTO callback_attempts (callback_id, result, note, by_user, by_name, at) \
                     SELECT id, ?3, ?4, ?5, ?6, ?7 FROM callbacks WHERE id = ?1 AND {visible} \
                     RETURNING id"
                ),
                &[
                    i(id),
                    db::scope(&viewer),
                    s(result),
                    s(&note),
                    i(session.uid),
                    s(&session.name),
                    i(now),
                ],
            )?,
            db::stmt(
                &db,
                &format!(
                    "UPDATE callbacks SET status = CASE WHEN status = 'open' THEN 'in_progress' \
                     ELSE status END, updated_by = ?3, updated_at = ?4 \
                     WHERE id = ?1 AND {visible} RETURNING store_id, status"
                ),
                &[i(id), db::scope(&viewer), s(&session.name), i(now)],
            )?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Inserted {
        id: i64,
    }
    #[derive(Deserialize)]
    struct Item {
        store_id: Option<i64>,
        status: String,
    }
    let attempt: Inserted = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
    let item: Item = db::first(&results[1])?.ok_or(ApiError::NotFound)?;
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
        let missing: Vec<Missing> = db::stmt(
            &db,
            "SELECT k.id FROM callbacks k WHERE k.id IN (SELECT value FROM json_each(?1)) \
             AND k.status != 'done' AND NOT EXISTS (SELECT 1 FROM callback_attempts a \
             WHERE a.callback_id = k.id) ORDER BY k.id",
            &[db::json(&body.ids)],
        )?
        .all()
        .await?
        .results()?;
        if !missing.is_empty() {
            let ids: Vec<i64> = missing.iter().map(|m| m.id).collect();
            return Err(needs_outcome(Some(json!({ "ids": ids }))));
        }
    }
    let r = db::stmt(
        &db,
        &format!(
            "UPDATE callbacks SET status = 'done', updated_by = ?3, updated_at = ?4 \
             WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'done' AND {} \
             RETURNING id, store_id",
            call_visible_sql(2).replace("k.", "")
        ),
        &[
            db::json(&body.ids),
            db::scope(&viewer),
            s(&session.name),
            i(now),
        ],
    )?
    .all()
    .await?;
    #[derive(Deserialize)]
    struct Closed {
        id: i64,
        store_id: Option<i64>,
    }
    let rows: Vec<Closed> = db::rows(&r)?;
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
