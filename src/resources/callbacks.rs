//! 折り返し: the callback list. Every missed or voicemail call of a store lands here as 未対応
//! (`on_call_event`, called once from the webhook pipeline); staff move it to 対応中 and 対応済
//! (who and when are kept); a later answered call from the same number, inbound or outbound,
//! resolves it with a note saying so. Every change broadcasts a small `callbacks_changed`
//! message to the store's room, so the consoles' open counts follow live.
use crate::domain::access::{call_visible_sql, Viewer};
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::domain::messages::BroadcastRequest;
use crate::pipeline::hub_client;
use crate::platform::db::{self, i, opt_i, s};
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use crate::resources::accounts::auth;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{D1Result, Env, Request, Response};

/// What the pipeline knows about a call after an event (kept in the outbox with the event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallFacts {
    pub call_id: String,
    pub caller: String,
    pub direction: String,
    /// The call's phase after the event (not the leg's).
    pub phase: String,
    pub connected: bool,
    pub store_id: Option<i64>,
}

/// The pipeline's hook, run when the outbox copies the event to D1 (after the call row, in
/// the same batch): adds a missed call to its store's list, or resolves the number's open
/// callbacks when this call reached the caller. Idempotent (a retried drain changes nothing
/// twice). Every statement returns the store whose list changed, one row per store
/// ([`changed_message`] tells the consoles).
pub fn on_call_event(c: &CallFacts, now: i64) -> Option<Stmt> {
    if front_desk::needs_callback(&c.direction, &c.phase, &c.caller) {
        Some(Stmt::new(
            "INSERT INTO callbacks (call_id, store_id, phone, status, created_at, updated_at) \
             VALUES (?1, (SELECT id FROM stores WHERE id = ?2), ?3, 'open', ?4, ?4) \
             ON CONFLICT (call_id) DO NOTHING RETURNING store_id",
            vec![
                c.call_id.as_str().into(),
                c.store_id.into(),
                c.caller.as_str().into(),
                now.into(),
            ],
        ))
    } else if front_desk::reaches_caller(&c.phase, c.connected, &c.caller) {
        Some(Stmt::new(
            "UPDATE callbacks SET status = 'done', note = ?3, updated_by = '自動', updated_at = ?4 \
             WHERE phone = ?1 AND status != 'done' AND call_id != ?2 RETURNING store_id",
            vec![
                c.caller.as_str().into(),
                c.call_id.as_str().into(),
                front_desk::auto_resolve_note(&c.direction).into(),
                now.into(),
            ],
        ))
    } else {
        None
    }
}

/// The stores whose list a [`on_call_event`] statement changed, from its returned rows.
pub fn changed_stores(rows: &D1Result) -> ApiResult<Vec<Option<i64>>> {
    #[derive(Deserialize)]
    struct Changed {
        store_id: Option<i64>,
    }
    let mut stores = vec![];
    for row in db::rows::<Changed>(rows)? {
        if !stores.contains(&row.store_id) {
            stores.push(row.store_id);
        }
    }
    Ok(stores)
}

/// Tells the store's consoles (and the admins') that its callback list changed. `key` makes
/// the message once-only in the hub.
pub fn changed_message(store: Option<i64>, key: &str) -> BroadcastRequest {
    BroadcastRequest {
        key: key.to_string(),
        store_id: store,
        message: json!({ "type": "callbacks_changed", "storeId": store }).to_string(),
        staff_message: None,
    }
}

async fn changed(env: &Env, store: Option<i64>, key: &str) -> ApiResult<()> {
    hub_client::broadcast(env, &changed_message(store, key)).await?;
    Ok(())
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
struct CallbackRow {
    id: i64,
    call_id: String,
    store_id: Option<i64>,
    store_name: Option<String>,
    phone: String,
    customer_id: Option<i64>,
    customer_name: Option<String>,
    phase: String,
    started_at: i64,
    status: String,
    note: String,
    updated_by: Option<String>,
    updated_at: i64,
}

/// `GET /api/callbacks?status=open|in_progress|done|all&page=&perPage=` — the list, oldest
/// first for the ones still to do, newest first for the done ones. Staff: their store only.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    let (page, per) = http::page_params(&req);
    let status = match http::query_param(&req, "status").filter(|v| !v.is_empty()) {
        None => Some("open"),
        Some(v) if v == "all" => None,
        Some(v) if v == "todo" => Some("todo"),
        Some(v) => Some(front_desk::callback_status(&v)?),
    };
    let filter = format!(
        "(?1 IS NULL OR k.status = ?1 OR (?1 = 'todo' AND k.status != 'done')) AND {}",
        call_visible_sql(2)
    );
    let order = if status == Some("done") || status.is_none() {
        "k.updated_at DESC"
    } else {
        "k.created_at ASC"
    };
    let args = [
        db::opt_s(status),
        opt_i(viewer.scope()),
        i(per),
        i((page - 1) * per),
    ];
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                &format!("SELECT count(*) AS n FROM callbacks k WHERE {filter}"),
                &args[..2],
            )?,
            db::stmt(
                &db,
                &format!(
                    "SELECT k.id, k.call_id, k.store_id, st.name AS store_name, k.phone, \
                     cl.customer_id, cu.name AS customer_name, cl.phase, cl.started_at, k.status, \
                     k.note, k.updated_by, k.updated_at \
                     FROM callbacks k JOIN calls cl ON cl.id = k.call_id \
                     LEFT JOIN stores st ON st.id = k.store_id \
                     LEFT JOIN customers cu ON cu.id = cl.customer_id \
                     WHERE {filter} ORDER BY {order} LIMIT ?3 OFFSET ?4"
                ),
                &args,
            )?,
        ])
        .await?;
    let total = db::count(&results[0])?;
    let callbacks: Vec<CallbackRow> = db::rows(&results[1])?;
    Ok(http::json_response(
        200,
        &json!({ "callbacks": callbacks, "total": total, "page": page, "perPage": per }),
    )?)
}

/// `GET /api/callbacks/count` — how many are 未対応 for the user's stores (the nav's badge).
pub async fn count(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    let r = db::stmt(
        &env.d1("DB")?,
        &format!(
            "SELECT count(*) AS n FROM callbacks k WHERE k.status = 'open' AND {}",
            call_visible_sql(1)
        ),
        &[opt_i(viewer.scope())],
    )?
    .all()
    .await?;
    Ok(http::json_response(
        200,
        &json!({ "open": db::count(&r)? }),
    )?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

/// `PATCH /api/callbacks/{id}` `{"status": "open" | "in_progress" | "done"}` — who and when
/// are recorded.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: StatusBody = http::read_json(&mut req, 4096).await?;
    let status = front_desk::callback_status(&body.status)?;
    let viewer = Viewer::from(&session);
    let now = http::now_ms();
    #[derive(Deserialize)]
    struct Updated {
        store_id: Option<i64>,
    }
    let r = db::stmt(
        &env.d1("DB")?,
        &format!(
            "UPDATE callbacks SET status = ?2, updated_by = ?3, updated_at = ?4, \
             note = CASE WHEN ?2 = 'done' THEN note ELSE '' END \
             WHERE id = ?1 AND {} RETURNING store_id",
            // SQLite's UPDATE takes no alias: the policy's fragment on the bare column.
            call_visible_sql(5).replace("k.", "")
        ),
        &[
            i(id),
            s(status),
            s(&session.name),
            i(now),
            opt_i(viewer.scope()),
        ],
    )?
    .all()
    .await?;
    let row: Updated = db::first(&r)?.ok_or(ApiError::NotFound)?;
    changed(env, row.store_id, &format!("callbacks:patch:{id}:{now}")).await?;
    Ok(http::json_response(
        200,
        &json!({ "callback": { "id": id, "status": status, "updatedBy": session.name, "updatedAt": now } }),
    )?)
}
