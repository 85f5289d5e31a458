//! 折り返し's reads: the list (filters, paging), the nav's count and one item's detail (its
//! calls with their wrap-ups, its attempts).
use crate::db::callbacks::{self as db_callbacks, AttemptRow, ItemRow};
use crate::db::calls::CallLogEntry;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::hours::{self, HoursContext};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

/// Fills the default due time and the overdue flag.
fn with_due(mut row: ItemRow, ctx: &HoursContext, now: i64) -> ItemRow {
    if row.due_at.is_none() && row.status != "done" {
        row.due_at = Some(ctx.default_due(row.store_id, row.created_at));
        row.due_default = true;
    }
    row.overdue = row.status != "done" && row.due_at.is_some_and(|d| d < now);
    row
}

/// `assignee=me|none|<user id>` of the list.
fn assignee_filter(v: Option<String>, uid: i64) -> ApiResult<Option<i64>> {
    match v.as_deref().map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some("me") => Ok(Some(uid)),
        Some("none") => Ok(Some(0)),
        Some(n) => n
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad(
                    "invalid_assignee",
                    "assignee",
                    "担当は me・none・ユーザーIDのいずれかです",
                )
            }),
    }
}

/// `GET /api/callbacks?status=todo|open|in_progress|done|all&store=&assignee=me|none|<id>&page=&perPage=`
/// — one row per item; the ones still to do oldest first, the done ones newest first. Staff:
/// their store only (a `store` filter cannot widen that).
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let (page, per) = http::page_params(&req);
    let status = match http::query_param(&req, "status").filter(|v| !v.is_empty()) {
        None => Some("todo"),
        Some(v) if v == "all" => None,
        Some(v) if v == "todo" => Some("todo"),
        Some(v) => Some(front_desk::callback_status(&v)?),
    };
    let store = match http::query_param(&req, "store").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::bad("invalid_store", "store", "店舗の指定が正しくありません")
        })?),
    };
    let assignee = assignee_filter(http::query_param(&req, "assignee"), session.uid)?;
    let filter = db_callbacks::ListFilter {
        status,
        store,
        assignee,
        page,
        per_page: per,
        scope: viewer.scope(),
    };
    let db = env.d1("DB")?;
    let (total, rows, ctx) =
        hours::page_with_context(&db, filter.count().d1(&db)?, filter.page().d1(&db)?).await?;
    let now = http::now_ms();
    let callbacks: Vec<ItemRow> = db::rows::<ItemRow>(&rows)?
        .into_iter()
        .map(|r| with_due(r, &ctx, now))
        .collect();
    Ok(http::json_response(
        200,
        &json!({ "callbacks": callbacks, "total": total, "page": page, "perPage": per }),
    )?)
}

/// `GET /api/callbacks/count` — the items still to do for the user's stores (the nav's badge):
/// `open` counts 未対応 and 対応中 together; `unstarted` and `inProgress` apart.
pub async fn count(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let mut batch = vec![
        db_callbacks::counts(viewer.scope()).d1(&db)?,
        // Overdue needs each open item's due time (the default one from its store's hours).
        db_callbacks::maybe_overdue(viewer.scope(), http::now_ms()).d1(&db)?,
    ];
    batch.extend(hours::context_stmts(&db));
    let results = db.batch(batch).await?;
    let ctx = hours::context_from(&results[2], &results[3])?;
    let now = http::now_ms();
    let overdue = db::rows::<db_callbacks::Due>(&results[1])?
        .into_iter()
        .filter(|d| {
            d.due_at
                .unwrap_or_else(|| ctx.default_due(d.store_id, d.created_at))
                < now
        })
        .count();
    let r = &results[0];
    let c = db::first::<db_callbacks::Counts>(r)?;
    let (unstarted, in_progress) = c.map_or((0, 0), |c| {
        (c.unstarted.unwrap_or(0), c.in_progress.unwrap_or(0))
    });
    Ok(http::json_response(
        200,
        &json!({ "open": unstarted + in_progress, "unstarted": unstarted, "inProgress": in_progress,
            "overdue": overdue }),
    )?)
}

/// `GET /api/callbacks/{id}` — the item with its calls (each with its wrap-up; a customer's
/// name only when the viewer may see that customer) and its attempts, newest first.
pub async fn detail(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let scope = Viewer::from(&session).scope();
    let db = env.d1("DB")?;
    let mut batch = vec![
        db_callbacks::item(id, scope.clone()).d1(&db)?,
        db_callbacks::item_calls(id, scope.clone()).d1(&db)?,
        db_callbacks::item_attempts(id, scope.clone()).d1(&db)?,
        // The customers of those calls this viewer may see.
        db_callbacks::item_customers(id, scope).d1(&db)?,
    ];
    // The hours context (its two statements, in order).
    batch.extend(hours::context_stmts(&db));
    let results = db.batch(batch).await?;
    let ctx = hours::context_from(&results[4], &results[5])?;
    let item: ItemRow = db::first::<ItemRow>(&results[0])?.ok_or(ApiError::NotFound)?;
    let item = with_due(item, &ctx, http::now_ms());
    let mut calls: Vec<CallLogEntry> = db::rows(&results[1])?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let visible_customers: Vec<i64> = db::rows::<N>(&results[3])?
        .into_iter()
        .map(|r| r.n)
        .collect();
    for c in &mut calls {
        if c.customer_id
            .is_some_and(|id| !visible_customers.contains(&id))
        {
            c.customer_id = None;
            c.customer_name = None;
        }
    }
    crate::resources::calls::mark_after_hours(&mut calls, &ctx);
    let attempts: Vec<AttemptRow> = db::rows(&results[2])?;
    Ok(http::json_response(
        200,
        &json!({ "callback": item, "calls": calls, "attempts": attempts }),
    )?)
}
