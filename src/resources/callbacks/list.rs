//! 折り返し's reads: the list (filters, paging), the nav's count and one item's detail (its
//! calls with their wrap-ups, its attempts).
use crate::db::calls::{log_select, CallLogEntry};
use crate::domain::access::{
    call_visible_sql, callback_customer_visible_sql, customer_visible_sql, Viewer,
};
use crate::domain::error::ApiError;
use crate::domain::front_desk;
use crate::platform::db::{self, i, opt_i, opt_s};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::hours::{self, HoursContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{Env, Request, Response};

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
            callback_customer_visible_sql(n)
        )
    };
    format!(
        "SELECT k.id, k.store_id, st.name AS store_name, k.phone, {} AS customer_id, \
         coalesce({}, {}) AS customer_name, k.status, k.note, k.closed_by_call, k.assignee_id, \
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
        // Under チェーン共通, another store's customer by name (never by id).
        crate::domain::access::shared_name_sql("k.phone"),
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
        db::scope(&viewer),
        opt_i(store),
        opt_i(assignee),
        i(per),
        i((page - 1) * per),
    ];
    let db = env.d1("DB")?;
    let (total, rows, ctx) = hours::page_with_context(
        &db,
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
    )
    .await?;
    let now = http::now_ms();
    let callbacks: Vec<ItemRow> = db::rows::<ItemRow>(&rows)?
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
            &[db::scope(&viewer)],
        )?,
        // Overdue needs each open item's due time (the default one from its store's hours).
        db::stmt(
            &db,
            &format!(
                "SELECT k.store_id, k.due_at, k.created_at FROM callbacks k \
                 WHERE k.status != 'done' AND {} AND (k.due_at IS NULL OR k.due_at < ?2)",
                call_visible_sql(1)
            ),
            &[db::scope(&viewer), i(http::now_ms())],
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
                &[i(id), db::scope(&viewer)],
            )?,
            db::stmt(
                &db,
                &format!(
                    "{} JOIN callback_calls x ON x.call_id = k.id \
                     JOIN callbacks cb ON cb.id = x.callback_id \
                     WHERE x.callback_id = ?1 AND {visible} ORDER BY k.started_at DESC LIMIT 100",
                    log_select(2)
                ),
                &[i(id), db::scope(&viewer)],
            )?,
            db::stmt(
                &db,
                &format!(
                    "SELECT a.id, a.result, a.note, a.by_name, a.at FROM callback_attempts a \
                     JOIN callbacks cb ON cb.id = a.callback_id WHERE a.callback_id = ?1 AND {visible} \
                     ORDER BY a.at DESC, a.id DESC LIMIT 200"
                ),
                &[i(id), db::scope(&viewer)],
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
                &[i(id), db::scope(&viewer)],
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
