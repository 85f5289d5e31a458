//! 折り返し: a queue of promises. One open item per (number, store) holds every call that asked
//! for a call back — a missed call or a voicemail (`on_call_event`, from the webhook pipeline),
//! a wrap-up saved with 対応結果 = 折り返し予定 (`wrapup_statements`) — and every attempt to
//! call back (result, note, who, when). Staff move an item to 対応中 and 対応済, take it
//! (担当: 自分), close several at once. A later call from the number answered at the SAME store
//! closes the open item by itself and says so (with that call); an answered call at another
//! store closes nothing. Every change broadcasts a small `callbacks_changed` message to the
//! store's room, so the consoles' badges follow live.
use crate::domain::access::{call_visible_sql, customer_visible_sql, Viewer};
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::domain::messages::BroadcastRequest;
use crate::pipeline::hub_client;
use crate::platform::db::{self, i, opt_i, opt_s, s};
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use crate::resources::accounts::auth;
use crate::resources::calls::{log_select, CallLogEntry};
use crate::resources::hours::{self, HoursContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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
    /// When the call started (older outbox rows have none: the event's time is used).
    #[serde(default)]
    pub started_at: Option<i64>,
}

/// Puts `call_id` (from `phone`, on `store`'s line) on the open item of that number and store,
/// opening one when there is none. Idempotent: a call already on an item is left where it is.
/// The last statement returns the item's store when the call was added (one row), nothing
/// otherwise.
fn join_queue(call_id: &str, phone: &str, store: Option<i64>, reason: &str, now: i64) -> Vec<Stmt> {
    vec![
        // A no-op when the number already has an open item at the store (for a known store
        // the unique index says so too).
        Stmt::new(
            "INSERT OR IGNORE INTO callbacks (store_id, phone, status, created_at, updated_at) \
             SELECT (SELECT id FROM stores WHERE id = ?2), ?1, 'open', ?4, ?4 \
             WHERE NOT EXISTS (SELECT 1 FROM callback_calls WHERE call_id = ?3) \
               AND NOT EXISTS (SELECT 1 FROM callbacks k WHERE k.phone = ?1 \
                 AND k.store_id IS (SELECT id FROM stores WHERE id = ?2) AND k.status != 'done')",
            vec![phone.into(), store.into(), call_id.into(), now.into()],
        ),
        Stmt::new(
            "INSERT OR IGNORE INTO callback_calls (callback_id, call_id, reason, added_at) \
             SELECT k.id, ?3, ?5, ?4 FROM callbacks k \
             WHERE k.phone = ?1 AND k.store_id IS (SELECT id FROM stores WHERE id = ?2) \
               AND k.status != 'done' \
               AND NOT EXISTS (SELECT 1 FROM callback_calls WHERE call_id = ?3) \
             ORDER BY k.id DESC LIMIT 1 \
             RETURNING (SELECT store_id FROM callbacks WHERE id = callback_id) AS store_id",
            vec![
                phone.into(),
                store.into(),
                call_id.into(),
                now.into(),
                reason.into(),
            ],
        ),
    ]
}

/// The pipeline's hook, run when the outbox copies the event to D1 (after the call row, in
/// the same batch): puts a missed or voicemail call on its number's item, or closes the open
/// item of the number at this store when this inbound call was answered there (never an item
/// the call itself is on, nor one with a call that started after it). Idempotent (a retried
/// drain changes nothing twice). The last statement returns the store whose list changed,
/// one row per change ([`changed_message`] tells the consoles).
pub fn on_call_event(c: &CallFacts, now: i64) -> Vec<Stmt> {
    if front_desk::needs_callback(&c.direction, &c.phase, &c.caller) {
        join_queue(&c.call_id, &c.caller, c.store_id, &c.phase, now)
    } else if front_desk::reaches_caller(&c.direction, &c.phase, c.connected, &c.caller)
        && c.store_id.is_some()
    {
        vec![Stmt::new(
            "UPDATE callbacks SET status = 'done', note = ?4, closed_by_call = ?2, \
               updated_by = '自動', updated_at = ?5 \
             WHERE phone = ?1 AND store_id = ?3 AND status != 'done' \
               AND NOT EXISTS (SELECT 1 FROM callback_calls x JOIN calls cl ON cl.id = x.call_id \
                 WHERE x.callback_id = callbacks.id AND (x.call_id = ?2 OR cl.started_at >= ?6)) \
             RETURNING store_id",
            vec![
                c.caller.as_str().into(),
                c.call_id.as_str().into(),
                c.store_id.into(),
                front_desk::AUTO_CLOSE_NOTE.into(),
                now.into(),
                c.started_at.unwrap_or(now).into(),
            ],
        )]
    } else {
        vec![]
    }
}

/// A wrap-up saved with 折り返し予定 on a call puts the call's number on the queue (its store's
/// open item). The last statement returns the store when the call was added.
pub fn wrapup_statements(call_id: &str, phone: &str, store: Option<i64>, now: i64) -> Vec<Stmt> {
    if phone.is_empty() {
        return vec![];
    }
    join_queue(call_id, phone, store, "wrapup", now)
}

/// The stores whose list an [`on_call_event`] statement changed, from its returned rows.
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
        live: false,
    }
}

pub async fn changed(env: &Env, store: Option<i64>, key: &str) -> ApiResult<()> {
    hub_client::broadcast(env, &changed_message(store, key)).await?;
    Ok(())
}

fn json_text<S: serde::Serializer>(v: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    let value: Value = v
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null);
    Serialize::serialize(&value, ser)
}

/// One item as the list and the detail show it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
struct ItemRow {
    id: i64,
    store_id: Option<i64>,
    store_name: Option<String>,
    phone: String,
    /// The customer with this number that the viewer may see (the first, by id).
    customer_id: Option<i64>,
    customer_name: Option<String>,
    status: String,
    note: String,
    closed_by_call: Option<String>,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    due_at: Option<i64>,
    created_at: i64,
    updated_by: Option<String>,
    updated_at: i64,
    /// Every call on the item, and those that were missed or went to voicemail.
    calls: i64,
    missed_calls: i64,
    /// The newest call on the item: its id and start.
    call_id: Option<String>,
    last_call_at: Option<i64>,
    /// The newest wrap-up note among its calls (a 折り返し予定 carries what was promised).
    wrapup_note: Option<String>,
    /// `{result, note, by, at}` of the newest attempt.
    #[serde(serialize_with = "json_text")]
    last_attempt: Option<String>,
    /// The due time is the default one (no one set it): N minutes after the item was created
    /// in hours, or after the store's next opening (`resources::hours`).
    #[serde(default)]
    due_default: bool,
    /// Not done and past its due time.
    #[serde(default)]
    overdue: bool,
}

impl ItemRow {
    /// Fills the default due time and the overdue flag.
    fn with_due(mut self, ctx: &HoursContext, now: i64) -> Self {
        if self.due_at.is_none() && self.status != "done" {
            self.due_at = Some(ctx.default_due(self.store_id, self.created_at));
            self.due_default = true;
        }
        self.overdue = self.status != "done" && self.due_at.is_some_and(|d| d < now);
        self
    }
}

/// The item's columns; `k` is the item, the viewer's scope is bound at `?{n}`.
fn item_select(n: usize) -> String {
    let customer = |col: &str| {
        format!(
            "(SELECT c.{col} FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
             WHERE p.phone = k.phone AND {} ORDER BY c.id LIMIT 1)",
            customer_visible_sql(n)
        )
    };
    format!(
        "SELECT k.id, k.store_id, st.name AS store_name, k.phone, {} AS customer_id, \
         {} AS customer_name, k.status, k.note, k.closed_by_call, k.assignee_id, \
         u.display_name AS assignee_name, k.due_at, k.created_at, k.updated_by, k.updated_at, \
         (SELECT count(*) FROM callback_calls x WHERE x.callback_id = k.id) AS calls, \
         (SELECT count(*) FROM callback_calls x WHERE x.callback_id = k.id AND x.reason != 'wrapup') AS missed_calls, \
         (SELECT x.call_id FROM callback_calls x JOIN calls cl ON cl.id = x.call_id \
           WHERE x.callback_id = k.id ORDER BY cl.started_at DESC LIMIT 1) AS call_id, \
         (SELECT max(cl.started_at) FROM callback_calls x JOIN calls cl ON cl.id = x.call_id \
           WHERE x.callback_id = k.id) AS last_call_at, \
         (SELECT w.note FROM callback_calls x JOIN call_wrapups w ON w.call_id = x.call_id \
           WHERE x.callback_id = k.id AND w.note != '' ORDER BY w.updated_at DESC LIMIT 1) AS wrapup_note, \
         (SELECT json_object('result', a.result, 'note', a.note, 'by', a.by_name, 'at', a.at) \
           FROM callback_attempts a WHERE a.callback_id = k.id ORDER BY a.at DESC, a.id DESC LIMIT 1) AS last_attempt \
         FROM callbacks k LEFT JOIN stores st ON st.id = k.store_id \
         LEFT JOIN users u ON u.id = k.assignee_id",
        customer("id"),
        customer("name"),
    )
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
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    hub_client::flush(env).await;
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
    let filter = format!(
        "(?1 IS NULL OR k.status = ?1 OR (?1 = 'todo' AND k.status != 'done')) AND {} \
         AND (?3 IS NULL OR k.store_id = ?3) \
         AND (?4 IS NULL OR (?4 = 0 AND k.assignee_id IS NULL) OR k.assignee_id = ?4)",
        call_visible_sql(2)
    );
    let order = if status == Some("done") || status.is_none() {
        "k.updated_at DESC, k.id DESC"
    } else {
        "k.created_at ASC, k.id ASC"
    };
    let args = [
        opt_s(status),
        opt_i(viewer.scope()),
        opt_i(store),
        opt_i(assignee),
        i(per),
        i((page - 1) * per),
    ];
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                &format!("SELECT count(*) AS n FROM callbacks k WHERE {filter}"),
                &args[..4],
            )?,
            db::stmt(
                &db,
                &format!(
                    "{} WHERE {filter} ORDER BY {order} LIMIT ?5 OFFSET ?6",
                    item_select(2)
                ),
                &args,
            )?,
            hours::context_stmts(&db).remove(0),
            hours::context_stmts(&db).remove(1),
        ])
        .await?;
    let total = db::count(&results[0])?;
    let ctx = hours::context_from(&results[2], &results[3])?;
    let now = http::now_ms();
    let callbacks: Vec<ItemRow> = db::rows::<ItemRow>(&results[1])?
        .into_iter()
        .map(|r| r.with_due(&ctx, now))
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
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    #[derive(Deserialize)]
    struct Counts {
        unstarted: Option<i64>,
        in_progress: Option<i64>,
    }
    #[derive(Deserialize)]
    struct Due {
        store_id: Option<i64>,
        due_at: Option<i64>,
        created_at: i64,
    }
    let db = env.d1("DB")?;
    let mut batch = vec![
        db::stmt(
            &db,
            &format!(
                "SELECT sum(k.status = 'open') AS unstarted, sum(k.status = 'in_progress') AS in_progress \
                 FROM callbacks k WHERE k.status != 'done' AND {}",
                call_visible_sql(1)
            ),
            &[opt_i(viewer.scope())],
        )?,
        // Overdue needs each open item's due time (the default one from its store's hours).
        db::stmt(
            &db,
            &format!(
                "SELECT k.store_id, k.due_at, k.created_at FROM callbacks k \
                 WHERE k.status != 'done' AND {} AND (k.due_at IS NULL OR k.due_at < ?2)",
                call_visible_sql(1)
            ),
            &[opt_i(viewer.scope()), i(http::now_ms())],
        )?,
    ];
    batch.extend(hours::context_stmts(&db));
    let results = db.batch(batch).await?;
    let ctx = hours::context_from(&results[2], &results[3])?;
    let now = http::now_ms();
    let overdue = db::rows::<Due>(&results[1])?
        .into_iter()
        .filter(|d| {
            d.due_at
                .unwrap_or_else(|| ctx.default_due(d.store_id, d.created_at))
                < now
        })
        .count();
    let r = &results[0];
    let c = db::first::<Counts>(r)?;
    let (unstarted, in_progress) = c.map_or((0, 0), |c| {
        (c.unstarted.unwrap_or(0), c.in_progress.unwrap_or(0))
    });
    Ok(http::json_response(
        200,
        &json!({ "open": unstarted + in_progress, "unstarted": unstarted, "inProgress": in_progress,
            "overdue": overdue }),
    )?)
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
struct AttemptRow {
    id: i64,
    result: String,
    note: String,
    by_name: String,
    at: i64,
}

/// `GET /api/callbacks/{id}` — the item with its calls (each with its wrap-up; a customer's
/// name only when the viewer may see that customer) and its attempts, newest first.
pub async fn detail(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let visible = call_visible_sql(2).replace("k.", "cb.");
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                &format!(
                    "{} WHERE k.id = ?1 AND {}",
                    item_select(2),
                    call_visible_sql(2)
                ),
                &[i(id), opt_i(viewer.scope())],
            )?,
            db::stmt(
                &db,
                &format!(
                    "{} JOIN callback_calls x ON x.call_id = k.id \
                     JOIN callbacks cb ON cb.id = x.callback_id \
                     WHERE x.callback_id = ?1 AND {visible} ORDER BY k.started_at DESC LIMIT 100",
                    log_select(2)
                ),
                &[i(id), opt_i(viewer.scope())],
            )?,
            db::stmt(
                &db,
                &format!(
                    "SELECT a.id, a.result, a.note, a.by_name, a.at FROM callback_attempts a \
                     JOIN callbacks cb ON cb.id = a.callback_id WHERE a.callback_id = ?1 AND {visible} \
                     ORDER BY a.at DESC, a.id DESC LIMIT 200"
                ),
                &[i(id), opt_i(viewer.scope())],
            )?,
            // The customers of those calls this viewer may see.
            db::stmt(
                &db,
                &format!(
                    "SELECT c.id AS n FROM customers c WHERE c.id IN (SELECT k.customer_id \
                     FROM callback_calls x JOIN calls k ON k.id = x.call_id WHERE x.callback_id = ?1) \
                     AND {}",
                    customer_visible_sql(2)
                ),
                &[i(id), opt_i(viewer.scope())],
            )?,
            hours::context_stmts(&db).remove(0),
            hours::context_stmts(&db).remove(1),
        ])
        .await?;
    let ctx = hours::context_from(&results[4], &results[5])?;
    let item: ItemRow = db::first::<ItemRow>(&results[0])?
        .ok_or(ApiError::NotFound)?
        .with_due(&ctx, http::now_ms());
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
        check_update(&db, viewer, id, closing, other_assignee).await?;
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
            opt_i(viewer.scope()),
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
    }
    let users: Vec<User> = env
        .d1("DB")?
        .prepare(
            "SELECT id, display_name AS name, role, store_id FROM users WHERE disabled = 0 \
             ORDER BY display_name, id LIMIT 500",
        )
        .all()
        .await?
        .results()?;
    let list: Vec<Value> = users
        .into_iter()
        .filter(|u| {
            crate::domain::token::Role::parse(&u.role).is_some_and(|role| {
                Viewer {
                    role,
                    store: u.store_id,
                }
                .may_see_call(store)
            })
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
    viewer: Viewer,
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
                &[i(id), opt_i(viewer.scope())],
            )?,
            db::stmt(
                db,
                "SELECT role, store_id FROM users WHERE id = ?1 AND disabled = 0",
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
            crate::domain::token::Role::parse(&u.role).is_some_and(|role| {
                Viewer {
                    role,
                    store: u.store_id,
                }
                .may_see_call(item.store_id)
            })
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
                    opt_i(viewer.scope()),
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
                &[i(id), opt_i(viewer.scope()), s(&session.name), i(now)],
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
            opt_i(viewer.scope()),
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
