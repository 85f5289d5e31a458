//! `callbacks` and `callback_calls` (折り返し) as a call event changes them: the statements the
//! hub runs on its own copy and the outbox runs on D1 (`on_call_event`), a wrap-up's
//! (`wrapup_statements`), and the stores whose queue a batch changed.
use crate::domain::front_desk;
use crate::platform::db;
use crate::platform::http::ApiResult;
use crate::platform::sql::Stmt;
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
