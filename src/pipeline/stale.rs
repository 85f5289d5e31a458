//! Calls whose end never arrived. Dialpad's `hangup` can be lost (a delivery that failed four
//! times is dropped); without it a call would stay 着信中 or 通話中 for ever in the call log and
//! on every console. After [`STALE_AFTER_MS`] without an event, the cron closes it as `unknown`
//! (不明) and tells the consoles, like any other change of the call.
use crate::db::calls::CallLogEntry;
use crate::domain::messages::{BroadcastRequest, CallMessage, StoreRef, CALL_STATE};
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use serde_json::json;
use worker::Env;

/// The longest a real call goes without any event: a ringing call ends within minutes, and
/// Dialpad sends `hold`/`connected` on every change of a long conversation.
pub const STALE_AFTER_MS: i64 = 4 * 3600 * 1000;
/// The phase and state a closed call gets.
pub const UNKNOWN: &str = "unknown";
/// At most this many per run; the next run takes the rest.
pub const BATCH: i64 = 200;

/// What the consoles are told about a call closed as stale.
pub fn message(call: &CallLogEntry, now_ms: i64) -> ApiResult<BroadcastRequest> {
    let message = CallMessage {
        kind: CALL_STATE.to_string(),
        call_id: call.id.clone(),
        leg_id: call.id.clone(),
        customer_phone: call.caller.clone(),
        incoming_number: call.dialled.clone(),
        timestamp: http::iso(now_ms),
        is_test: false,
        state: UNKNOWN.into(),
        phase: UNKNOWN.into(),
        direction: call.direction.clone(),
        store: match (call.store_id, &call.store_name) {
            (Some(id), Some(name)) => StoreRef {
                id: Some(id),
                name: name.clone(),
            },
            _ => StoreRef::unknown(),
        },
        customer: None,
        candidates: vec![],
        contact_name: None,
        started_at: call.started_at,
        connected_at: call.connected_at,
        ended_at: Some(call.updated_at),
        duration_ms: None,
        details: Default::default(),
    };
    Ok(BroadcastRequest {
        key: format!("{}:stale", call.id),
        store_id: call.store_id,
        message: serde_json::to_string(&message)
            .map_err(|e| crate::domain::error::ApiError::Unavailable(e.to_string()))?,
        staff_message: None,
        live: false,
    })
}

/// The cron's part: asks the hub, which owns the calls' live state, to close the stale ones
/// (it tells the consoles and copies the change to D1 through its outbox), and to forget the
/// calls the retention setting deletes from D1 (`retention_cutoff`), so that the figures of
/// a card stay those of D1.
pub async fn close(
    env: &Env,
    now_ms: i64,
    retention_cutoff: Option<i64>,
) -> ApiResult<serde_json::Value> {
    let closed: serde_json::Value = hub_client::sweep(env, now_ms, retention_cutoff).await?;
    Ok(
        json!({"event": "stale_calls_closed", "calls": closed.get("closed"),
        "cutoff": http::iso(now_ms - STALE_AFTER_MS)}),
    )
}
