//! `callbacks`, `callback_calls` and `callback_attempts` (折り返し): as a call event changes
//! them, the statements the hub runs on its own copy and the outbox runs on D1
//! (`on_call_event`), a wrap-up's (`wrapup_statements`), and the stores whose queue a batch
//! changed; then the console's reads (the list, the badge's counts, one item with its calls
//! and attempts) and writes (a PATCH, an attempt, a bulk close), with their rows.
use crate::db::calls::log_select;
use crate::domain::access::{
    call_visible_sql, callback_customer_visible_sql, customer_visible_sql,
};
use crate::domain::front_desk;
use crate::platform::db;
use crate::platform::http::ApiResult;
use crate::platform::sql::{Stmt, Val};
use serde::{Deserialize, Serialize};
use worker::D1Result;

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

fn json_text<S: serde::Serializer>(v: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    let value: serde_json::Value = v
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(serde_json::Value::Null);
    Serialize::serialize(&value, ser)
}

/// One item as the list and the detail show it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct ItemRow {
    pub id: i64,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub phone: String,
    /// The customer with this number that the viewer may see (the first, by id).
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub status: String,
    pub note: String,
    pub closed_by_call: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub due_at: Option<i64>,
    pub created_at: i64,
    pub updated_by: Option<String>,
    pub updated_at: i64,
    /// Every call on the item, and those that were missed or went to voicemail.
    pub calls: i64,
    pub missed_calls: i64,
    /// The newest call on the item: its id and start.
    pub call_id: Option<String>,
    pub last_call_at: Option<i64>,
    /// The newest wrap-up note among its calls (a 折り返し予定 carries what was promised).
    pub wrapup_note: Option<String>,
    /// `{result, note, by, at}` of the newest attempt.
    #[serde(serialize_with = "json_text")]
    pub last_attempt: Option<String>,
    /// The due time is the default one (no one set it): N minutes after the item was created
    /// in hours, or after the store's next opening (`resources::hours`).
    #[serde(default)]
    pub due_default: bool,
    /// Not done and past its due time.
    #[serde(default)]
    pub overdue: bool,
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

/// 折り返し's list, as validated by its handler.
pub struct ListFilter<'a> {
    /// A status, `todo` (not done), or None: every item.
    pub status: Option<&'a str>,
    pub store: Option<i64>,
    /// An assignee's user id; 0: no one.
    pub assignee: Option<i64>,
    pub page: i64,
    pub per_page: i64,
    pub scope: Option<String>,
}

impl ListFilter<'_> {
    fn filter() -> String {
        format!(
            "(?1 IS NULL OR k.status = ?1 OR (?1 = 'todo' AND k.status != 'done')) AND {} \
             AND (?3 IS NULL OR k.store_id = ?3) \
             AND (?4 IS NULL OR (?4 = 0 AND k.assignee_id IS NULL) OR k.assignee_id = ?4)",
            call_visible_sql(2)
        )
    }

    fn args(&self) -> Vec<Val> {
        vec![
            self.status.into(),
            self.scope.as_deref().into(),
            self.store.into(),
            self.assignee.into(),
            self.per_page.into(),
            ((self.page - 1) * self.per_page).into(),
        ]
    }

    /// How many items match.
    pub fn count(&self) -> Stmt {
        let mut args = self.args();
        args.truncate(4);
        Stmt::new(
            format!(
                "SELECT count(*) AS n FROM callbacks k WHERE {}",
                Self::filter()
            ),
            args,
        )
    }

    /// The page: the ones still to do oldest first, the done ones newest first.
    pub fn page(&self) -> Stmt {
        let order = if self.status == Some("done") || self.status.is_none() {
            "k.updated_at DESC, k.id DESC"
        } else {
            "k.created_at ASC, k.id ASC"
        };
        Stmt::new(
            format!(
                "{} WHERE {} ORDER BY {order} LIMIT ?5 OFFSET ?6",
                item_select(2),
                Self::filter()
            ),
            self.args(),
        )
    }
}

/// The nav's badge: the items still to do that `scope` may see, 未対応 and 対応中 apart
/// ([`Counts`]).
pub fn counts(scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT sum(k.status = 'open') AS unstarted, sum(k.status = 'in_progress') AS in_progress \
             FROM callbacks k WHERE k.status != 'done' AND {}",
            call_visible_sql(1)
        ),
        vec![scope.into()],
    )
}

#[derive(Deserialize)]
pub struct Counts {
    pub unstarted: Option<i64>,
    pub in_progress: Option<i64>,
}

/// The open items `scope` may see that may be overdue: due before `now`, or with no due time
/// (the default one comes from their store's hours).
pub fn maybe_overdue(scope: Option<String>, now: i64) -> Stmt {
    Stmt::new(
        format!(
            "SELECT k.store_id, k.due_at, k.created_at FROM callbacks k \
             WHERE k.status != 'done' AND {} AND (k.due_at IS NULL OR k.due_at < ?2)",
            call_visible_sql(1)
        ),
        vec![scope.into(), now.into()],
    )
}

#[derive(Deserialize)]
pub struct Due {
    pub store_id: Option<i64>,
    pub due_at: Option<i64>,
    pub created_at: i64,
}

/// One item, if `scope` may see it.
pub fn item(id: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "{} WHERE k.id = ?1 AND {}",
            item_select(2),
            call_visible_sql(2)
        ),
        vec![id.into(), scope.into()],
    )
}

/// The calls on an item (`db::calls::CallLogEntry`), newest first, if `scope` may see it.
pub fn item_calls(id: i64, scope: Option<String>) -> Stmt {
    let visible = call_visible_sql(2).replace("k.", "cb.");
    Stmt::new(
        format!(
            "{} JOIN callback_calls x ON x.call_id = k.id \
             JOIN callbacks cb ON cb.id = x.callback_id \
             WHERE x.callback_id = ?1 AND {visible} ORDER BY k.started_at DESC LIMIT 100",
            log_select(2)
        ),
        vec![id.into(), scope.into()],
    )
}

/// The attempts on an item ([`AttemptRow`]), newest first, if `scope` may see it.
pub fn item_attempts(id: i64, scope: Option<String>) -> Stmt {
    let visible = call_visible_sql(2).replace("k.", "cb.");
    Stmt::new(
        format!(
            "SELECT a.id, a.result, a.note, a.by_name, a.at FROM callback_attempts a \
             JOIN callbacks cb ON cb.id = a.callback_id WHERE a.callback_id = ?1 AND {visible} \
             ORDER BY a.at DESC, a.id DESC LIMIT 200"
        ),
        vec![id.into(), scope.into()],
    )
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct AttemptRow {
    pub id: i64,
    pub result: String,
    pub note: String,
    pub by_name: String,
    pub at: i64,
}

/// The customers of an item's calls that `scope` may see (`n`: their ids).
pub fn item_customers(id: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT c.id AS n FROM customers c WHERE c.id IN (SELECT k.customer_id \
             FROM callback_calls x JOIN calls k ON k.id = x.call_id WHERE x.callback_id = ?1) \
             AND {}",
            customer_visible_sql(2)
        ),
        vec![id.into(), scope.into()],
    )
}

/// A change of an item (PATCH), by `by` at `now`, where `scope` may see it: a status (対応中 /
/// 未対応 clear the closing note), an assignee (`Some(None)` clears it) and a due time
/// (likewise); None leaves each as it is. Returns [`Updated`].
pub fn update(
    id: i64,
    status: Option<&str>,
    assignee: Option<Option<i64>>,
    due_at: Option<Option<i64>>,
    by: &str,
    now: i64,
    scope: Option<String>,
) -> Stmt {
    Stmt::new(
        format!(
            "UPDATE callbacks SET status = coalesce(?2, status), updated_by = ?3, updated_at = ?4, \
             note = CASE WHEN ?2 IS NULL OR ?2 = 'done' THEN note ELSE '' END, \
             closed_by_call = CASE WHEN ?2 IS NULL OR ?2 = 'done' THEN closed_by_call ELSE NULL END, \
             assignee_id = CASE WHEN ?6 THEN ?7 ELSE assignee_id END, \
             due_at = CASE WHEN ?8 THEN ?9 ELSE due_at END \
             WHERE id = ?1 AND {} RETURNING store_id, status, assignee_id, due_at",
            // SQLite's UPDATE takes no alias: the policy's fragment on the bare column.
            call_visible_sql(5).replace("k.", "")
        ),
        vec![
            id.into(),
            status.into(),
            by.into(),
            now.into(),
            scope.into(),
            (assignee.is_some() as i64).into(),
            assignee.flatten().into(),
            (due_at.is_some() as i64).into(),
            due_at.flatten().into(),
        ],
    )
}

#[derive(Deserialize)]
pub struct Updated {
    pub store_id: Option<i64>,
    pub status: String,
    pub assignee_id: Option<i64>,
    pub due_at: Option<i64>,
}

/// An item's store and how many attempts it has, if `scope` may see it ([`AttemptCount`]).
pub fn attempt_count(id: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT k.store_id, (SELECT count(*) FROM callback_attempts a \
             WHERE a.callback_id = k.id) AS attempts FROM callbacks k \
             WHERE k.id = ?1 AND {}",
            call_visible_sql(2)
        ),
        vec![id.into(), scope.into()],
    )
}

#[derive(Deserialize)]
pub struct AttemptCount {
    pub store_id: Option<i64>,
    pub attempts: i64,
}

/// An attempt logged on an item `scope` may see (returns its `id`), then the item made 対応中
/// if it was 未対応 (returns [`AttemptedItem`]).
pub fn add_attempt(
    id: i64,
    result: &str,
    note: &str,
    by_user: i64,
    by_name: &str,
    now: i64,
    scope: Option<String>,
) -> Vec<Stmt> {
    let visible = call_visible_sql(2).replace("k.", "");
    vec![
        Stmt::new(
            format!(
                "INSERT INTO callback_attempts (callback_id, result, note, by_user, by_name, at) \
                 SELECT id, ?3, ?4, ?5, ?6, ?7 FROM callbacks WHERE id = ?1 AND {visible} \
                 RETURNING id"
            ),
            vec![
                id.into(),
                scope.clone().into(),
                result.into(),
                note.into(),
                by_user.into(),
                by_name.into(),
                now.into(),
            ],
        ),
        Stmt::new(
            format!(
                "UPDATE callbacks SET status = CASE WHEN status = 'open' THEN 'in_progress' \
                 ELSE status END, updated_by = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND {visible} RETURNING store_id, status"
            ),
            vec![id.into(), scope.into(), by_name.into(), now.into()],
        ),
    ]
}

#[derive(Deserialize)]
pub struct AttemptedItem {
    pub store_id: Option<i64>,
    pub status: String,
}

/// Of the items `ids` (a JSON array), those still to do without any attempt, by id.
pub fn without_attempt(ids: &[i64]) -> Stmt {
    Stmt::new(
        "SELECT k.id FROM callbacks k WHERE k.id IN (SELECT value FROM json_each(?1)) \
         AND k.status != 'done' AND NOT EXISTS (SELECT 1 FROM callback_attempts a \
         WHERE a.callback_id = k.id) ORDER BY k.id",
        vec![db::json(ids)],
    )
}

/// Closes (対応済) the items `ids` that `scope` may see and that are still to do; returns
/// each one's `id` and `store_id` ([`Closed`]).
pub fn close(ids: &[i64], by: &str, now: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "UPDATE callbacks SET status = 'done', updated_by = ?3, updated_at = ?4 \
             WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'done' AND {} \
             RETURNING id, store_id",
            call_visible_sql(2).replace("k.", "")
        ),
        vec![db::json(ids), scope.into(), by.into(), now.into()],
    )
}

#[derive(Deserialize)]
pub struct Closed {
    pub id: i64,
    pub store_id: Option<i64>,
}
