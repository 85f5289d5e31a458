//! Calls whose end never arrived. Dialpad's `hangup` can be lost (a delivery that failed four
//! times is dropped); without it a call would stay 着信中 or 通話中 for ever in the call log and
//! on every console. After [`STALE_AFTER_MS`] without an event, the cron closes it as `unknown`
//! (不明) and tells the consoles, like any other change of the call.
use super::hub_client;
use crate::domain::messages::{BroadcastRequest, CallMessage, StoreRef, CALL_STATE};
use crate::platform::db::{self, i};
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use serde_json::json;
use worker::Env;

/// The longest a real call goes without any event: a ringing call ends within minutes, and
/// Dialpad sends `hold`/`connected` on every change of a long conversation.
pub const STALE_AFTER_MS: i64 = 4 * 3600 * 1000;
/// The phase and state a closed call gets.
pub const UNKNOWN: &str = "unknown";
/// At most this many per run; the next run takes the rest.
const BATCH: i64 = 200;

#[derive(Deserialize)]
struct Stale {
    id: String,
    direction: String,
    caller: String,
    dialled: String,
    store_id: Option<i64>,
    store_name: Option<String>,
    started_at: i64,
    connected_at: Option<i64>,
    updated_at: i64,
}

/// Closes the stale calls and broadcasts their end. Returns a log line.
pub async fn close(env: &Env, now_ms: i64) -> ApiResult<serde_json::Value> {
    let db = env.d1("DB")?;
    let cutoff = now_ms - STALE_AFTER_MS;
    // Read and close the same rows in one transaction: the SELECT and the UPDATE see the
    // same set (the UPDATE re-checks the condition, so a call that got an event meanwhile
    // stays open).
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, \
                   k.started_at, k.connected_at, k.updated_at \
                 FROM calls k LEFT JOIN stores s ON s.id = k.store_id \
                 WHERE k.rank BETWEEN 1 AND 2 AND k.updated_at < ?1 ORDER BY k.updated_at LIMIT ?2",
                &[i(cutoff), i(BATCH)],
            )?,
            db::stmt(
                &db,
                "UPDATE calls SET state = 'unknown', phase = 'unknown', rank = 3, \
                   ended_at = coalesce(ended_at, updated_at) \
                 WHERE id IN (SELECT id FROM calls WHERE rank BETWEEN 1 AND 2 AND updated_at < ?1 \
                   ORDER BY updated_at LIMIT ?2)",
                &[i(cutoff), i(BATCH)],
            )?,
        ])
        .await?;
    let stale: Vec<Stale> = db::rows(&results[0])?;
    for call in &stale {
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
        let text = serde_json::to_string(&message)
            .map_err(|e| crate::domain::error::ApiError::Unavailable(e.to_string()))?;
        hub_client::broadcast(
            env,
            &BroadcastRequest {
                key: format!("{}:stale", call.id),
                store_id: call.store_id,
                message: text,
                staff_message: None,
            },
        )
        .await?;
    }
    Ok(json!({"event": "stale_calls_closed", "calls": stale.len(), "cutoff": http::iso(cutoff)}))
}
