//! What the pipeline writes to D1: each event once per (leg, state), and the call row it
//! updates. Every statement is idempotent, so a retry that runs it again changes nothing.
use crate::domain::dialpad::CallEvent;
use crate::platform::db::{self, i, opt_i, opt_s, s};
use crate::platform::http::ApiResult;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// Logs the event once per (leg, state) and occurrence: a retry (same `event_timestamp`)
/// changes nothing; a newer occurrence of a state the leg had before (connected, hold,
/// connected again) is a new event, to be delivered like any other. `rank` is the leg's phase
/// rank after this event, which tells whether the leg is still open (1, 2) or over (3).
pub fn insert_event_stmt(
    db: &D1Database,
    ev: &CallEvent,
    rank: i64,
    now_ms: i64,
) -> ApiResult<D1PreparedStatement> {
    db::stmt(
        db,
        "INSERT INTO call_events (call_id, state, group_id, received_at, event_ts, rank) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, state) DO UPDATE SET \
           event_ts = excluded.event_ts, received_at = excluded.received_at, delivered = 0 \
         WHERE excluded.event_ts > coalesce(call_events.event_ts, 0)",
        &[
            s(&ev.call_id),
            s(&ev.state),
            s(ev.group_id()),
            i(now_ms),
            opt_i(ev.event_timestamp),
            i(rank),
        ],
    )
}

/// The key of one delivery of an event: leg, state and occurrence. The hub sends a key once;
/// the call's single pop is claimed by one key.
pub fn event_key(ev: &CallEvent) -> String {
    format!(
        "{}:{}:{}",
        ev.call_id,
        ev.state,
        ev.event_timestamp.unwrap_or(0)
    )
}

/// Whether an earlier delivery of the event already reached the hub.
pub fn event_delivered_stmt(db: &D1Database, ev: &CallEvent) -> ApiResult<D1PreparedStatement> {
    db::stmt(
        db,
        "SELECT delivered FROM call_events WHERE call_id = ?1 AND state = ?2",
        &[s(&ev.call_id), s(&ev.state)],
    )
}

/// After the hub has the event: marks it delivered and fills in what this Worker decided
/// about the call (its store and customer) where the row has none yet.
pub fn finish_stmts(
    db: &D1Database,
    ev: &CallEvent,
    store: Option<i64>,
    customer: Option<i64>,
) -> ApiResult<Vec<D1PreparedStatement>> {
    Ok(vec![
        db::stmt(
            db,
            "UPDATE calls SET store_id = coalesce(store_id, ?2), customer_id = coalesce(customer_id, ?3) \
             WHERE id = ?1",
            &[s(ev.group_id()), opt_i(store), opt_i(customer)],
        )?,
        db::stmt(
            db,
            "UPDATE call_events SET delivered = 1 WHERE call_id = ?1 AND state = ?2",
            &[s(&ev.call_id), s(&ev.state)],
        )?,
    ])
}

/// What the call log row is updated with.
pub struct CallRow<'a> {
    pub id: &'a str,
    pub direction: &'a str,
    pub caller: &'a str,
    pub dialled: &'a str,
    pub state: &'a str,
    pub phase: &'a str,
    pub rank: i64,
    pub is_test: bool,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub answered_by: Option<&'a str>,
    pub now_ms: i64,
    /// The leg this event is about (`call_id`): its end ends the call only when no other leg
    /// of the call is still open (a transfer's first leg hangs up while the second talks).
    pub leg: &'a str,
    pub voicemail_url: Option<&'a str>,
    /// JSON array, or None when this event has no recordings.
    pub recording_urls: Option<String>,
    pub transcript: Option<&'a str>,
    pub summary: Option<&'a str>,
}

/// Upserts the call row. State only moves forward in rank (out-of-order retries never regress
/// it), and a leg's end ends the call only when no other leg is open; first-seen facts
/// (caller, dialled number, start) are kept; later facts and post-call enrichment fill in.
/// The store and customer are decided in Rust and written by [`finish_stmts`].
pub fn upsert_call_stmt(db: &D1Database, c: &CallRow) -> ApiResult<D1PreparedStatement> {
    // Whether this event moves the call's state (?7: its rank, ?15: its leg).
    const MOVES: &str =
        "(excluded.rank > 0 AND excluded.rank >= calls.rank AND NOT (excluded.rank = 3 AND EXISTS \
        (SELECT 1 FROM call_events e WHERE e.group_id = calls.id AND e.call_id != ?15 \
         GROUP BY e.call_id HAVING max(e.rank) BETWEEN 1 AND 2)))";
    db::stmt(
        db,
        &format!(
            "INSERT INTO calls (id, direction, caller, dialled, state, phase, rank, \
               is_test, started_at, connected_at, ended_at, duration_ms, answered_by, updated_at, \
               voicemail_url, recording_urls, transcript, summary) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?17, ?18, ?19) \
             ON CONFLICT (id) DO UPDATE SET \
               state = CASE WHEN {MOVES} THEN excluded.state ELSE calls.state END, \
               phase = CASE WHEN {MOVES} THEN excluded.phase ELSE calls.phase END, \
               ended_at = CASE WHEN {MOVES} THEN coalesce(excluded.ended_at, calls.ended_at) ELSE calls.ended_at END, \
               duration_ms = CASE WHEN {MOVES} THEN coalesce(excluded.duration_ms, calls.duration_ms) ELSE calls.duration_ms END, \
               rank = CASE WHEN {MOVES} THEN excluded.rank ELSE calls.rank END, \
               direction = CASE WHEN calls.direction = 'unknown' THEN excluded.direction ELSE calls.direction END, \
               caller = CASE WHEN calls.caller = '' THEN excluded.caller ELSE calls.caller END, \
               dialled = CASE WHEN calls.dialled = '' THEN excluded.dialled ELSE calls.dialled END, \
               started_at = min(calls.started_at, excluded.started_at), \
               connected_at = coalesce(calls.connected_at, excluded.connected_at), \
               answered_by = coalesce(calls.answered_by, excluded.answered_by), \
               voicemail_url = coalesce(excluded.voicemail_url, calls.voicemail_url), \
               recording_urls = coalesce(excluded.recording_urls, calls.recording_urls), \
               transcript = coalesce(excluded.transcript, calls.transcript), \
               summary = coalesce(excluded.summary, calls.summary), \
               updated_at = excluded.updated_at"
        ),
        &[
            s(c.id),
            s(c.direction),
            s(c.caller),
            s(c.dialled),
            s(c.state),
            s(c.phase),
            i(c.rank),
            i(c.is_test as i64),
            i(c.started_at),
            opt_i(c.connected_at),
            opt_i(c.ended_at),
            opt_i(c.duration_ms),
            opt_s(c.answered_by),
            i(c.now_ms),
            s(c.leg),
            opt_s(c.voicemail_url),
            opt_s(c.recording_urls.as_deref()),
            opt_s(c.transcript),
            opt_s(c.summary),
        ],
    )
}

/// Claims the call's one pop for `key` (`leg:state`) unless another event already has it.
pub fn claim_pop_stmt(db: &D1Database, call: &str, key: &str) -> ApiResult<D1PreparedStatement> {
    db::stmt(
        db,
        "UPDATE calls SET popped_by = ?2 WHERE id = ?1 AND popped_by IS NULL",
        &[s(call), s(key)],
    )
}

/// The call's state after this event's upsert.
pub fn call_state_stmt(db: &D1Database, call: &str) -> ApiResult<D1PreparedStatement> {
    db::stmt(
        db,
        "SELECT k.popped_by, k.state, k.phase, k.dialled, k.started_at, k.connected_at, k.ended_at, \
           k.duration_ms, k.store_id, s.name AS store_name, k.answered_by, k.voicemail_url, \
           k.recording_urls, k.transcript, k.summary \
         FROM calls k LEFT JOIN stores s ON s.id = k.store_id WHERE k.id = ?1",
        &[s(call)],
    )
}

#[derive(Deserialize)]
pub struct CallStateRow {
    pub popped_by: Option<String>,
    pub state: String,
    pub phase: String,
    pub dialled: String,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub answered_by: Option<String>,
    pub voicemail_url: Option<String>,
    pub recording_urls: Option<String>,
    pub transcript: Option<String>,
    pub summary: Option<String>,
}
