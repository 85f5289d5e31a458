//! `calls` and `call_events`. What a call event writes: the event once per (leg, state,
//! occurrence), and the call row it updates. The same statements run twice: in the hub's
//! SQLite when the event arrives (that decides the pop) and in D1 when the outbox drains (the
//! call log). Every statement is idempotent, so a drain that runs again after a failure
//! changes nothing. Then the call log as the console, the popup and the customer page read it
//! (one row type, [`CallLogEntry`], also the hub's stale sweep's), and its retention.
use crate::domain::access::{call_customer_columns_sql, call_visible_sql, customer_visible_sql};
use crate::domain::dialpad::{CallEvent, Direction, Phase};
use crate::platform::sql::{Stmt, Val};
use serde::{Deserialize, Serialize};

/// One delivery of one leg's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub call_id: String,
    pub state: String,
    pub group_id: String,
    pub received_at: i64,
    pub event_ts: Option<i64>,
    /// The leg's own phase rank after this event: 1, 2 open; 3 over; 0 says nothing.
    pub rank: i64,
}

/// What the call row is upserted with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    pub id: String,
    pub direction: String,
    pub caller: String,
    pub dialled: String,
    pub state: String,
    pub phase: String,
    pub rank: i64,
    pub is_test: bool,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub answered_by: Option<String>,
    pub now_ms: i64,
    /// The leg this event is about: its end ends the call only when no other leg of the call
    /// is still open (a transfer's first leg hangs up while the second talks).
    pub leg: String,
    pub voicemail_url: Option<String>,
    /// JSON array, or None when this event has no recordings.
    pub recording_urls: Option<String>,
    pub transcript: Option<String>,
    pub summary: Option<String>,
}

/// The key of one delivery of an event: leg, state and occurrence. The hub sends a key once;
/// the call's single pop is claimed by one key.
/// The Dialpad user who answered, on the event that connected the call (`target` of type
/// `user`).
pub fn answering_user(ev: &CallEvent) -> Option<&crate::domain::dialpad::Party> {
    (ev.phase == Phase::Connected)
        .then(|| {
            ev.target
                .as_ref()
                .filter(|t| t.kind.as_deref() == Some("user"))
        })
        .flatten()
}

pub fn event_key(ev: &CallEvent) -> String {
    format!(
        "{}:{}:{}",
        ev.call_id,
        ev.state,
        ev.event_timestamp.unwrap_or(0)
    )
}

/// The rows an event writes, decided from the event alone.
pub fn rows(ev: &CallEvent, is_test: bool, now: i64) -> (EventRow, CallRow) {
    // A child leg that went unanswered (one phone of a ring group) does not end the customer's
    // call: another leg may still pick it up.
    let child_leg = ev.call_id != ev.group_id();
    let rank = if child_leg && ev.phase == Phase::Missed {
        0
    } else {
        ev.phase.rank()
    };
    let occurred = ev.occurred_at(now);
    let terminal = matches!(ev.phase, Phase::Ended | Phase::Missed | Phase::Voicemail) && rank > 0;
    let ended_at = terminal.then(|| ev.date_ended.unwrap_or(occurred));
    let duration = if ev.phase == Phase::Ended {
        ev.duration_ms
            .or_else(|| Some(ended_at? - ev.date_connected?))
    } else {
        None
    };
    let answered_by = answering_user(ev).and_then(|t| t.name.clone());
    let event = EventRow {
        call_id: ev.call_id.clone(),
        state: ev.state.clone(),
        group_id: ev.group_id().to_string(),
        received_at: now,
        event_ts: ev.event_timestamp,
        // The leg's own rank: a missed child leg is over, even though it does not end the call.
        rank: ev.phase.rank(),
    };
    let call = CallRow {
        id: ev.group_id().to_string(),
        direction: ev.direction.as_str().to_string(),
        caller: ev.customer_phone().as_str().to_string(),
        dialled: ev.internal.as_str().to_string(),
        state: ev.state.clone(),
        phase: ev.phase.as_str().to_string(),
        rank,
        is_test,
        started_at: ev.date_started.or(ev.date_rang).unwrap_or(occurred),
        connected_at: ev.date_connected,
        ended_at,
        duration_ms: duration,
        answered_by,
        now_ms: now,
        leg: ev.call_id.clone(),
        voicemail_url: ev.voicemail_link.clone(),
        recording_urls: (!ev.recording_urls.is_empty())
            .then(|| serde_json::to_string(&ev.recording_urls).unwrap_or_default()),
        transcript: ev.transcription_text.clone(),
        summary: ev.recap_summary.clone(),
    };
    (event, call)
}

/// Whether an event may claim the call's one pop: the first live inbound event does.
pub fn may_pop(ev: &CallEvent) -> bool {
    ev.direction != Direction::Outbound && ev.phase.is_live()
}

/// Logs the event once per (leg, state) and occurrence: a retry (same `event_timestamp`)
/// changes nothing and returns no row; a newer occurrence of a state the leg had before
/// (connected, hold, connected again) is a new event, to be delivered like any other.
pub fn insert_event(e: &EventRow) -> Stmt {
    Stmt::new(
        "INSERT INTO call_events (call_id, state, group_id, received_at, event_ts, rank) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, state) DO UPDATE SET \
           event_ts = excluded.event_ts, received_at = excluded.received_at \
         WHERE excluded.event_ts > coalesce(call_events.event_ts, 0) RETURNING 1 AS fresh",
        vec![
            e.call_id.as_str().into(),
            e.state.as_str().into(),
            e.group_id.as_str().into(),
            e.received_at.into(),
            e.event_ts.into(),
            e.rank.into(),
        ],
    )
}

/// Upserts the call row. State only moves forward in rank (out-of-order retries never regress
/// it), and a leg's end ends the call only when no other leg is open; first-seen facts
/// (caller, dialled number, start) are kept; later facts and post-call enrichment fill in.
pub fn upsert_call(c: &CallRow) -> Stmt {
    // Whether this event moves the call's state (?7: its rank, ?15: its leg).
    macro_rules! moves {
        () => {
            "(excluded.rank > 0 AND excluded.rank >= calls.rank AND NOT (excluded.rank = 3 AND EXISTS \
            (SELECT 1 FROM call_events e WHERE e.group_id = calls.id AND e.call_id != ?15 \
             GROUP BY e.call_id HAVING max(e.rank) BETWEEN 1 AND 2)))"
        };
    }
    // A hangup without `date_connected` reads as unanswered, but a call this side saw
    // connected (a connected or hold event of any of its legs, or a connection time) was
    // answered: it ended, it was not missed.
    macro_rules! was_connected {
        () => {
            "(excluded.phase = 'missed' AND excluded.state = 'hangup' AND \
            (calls.connected_at IS NOT NULL OR EXISTS (SELECT 1 FROM call_events e \
             WHERE e.group_id = calls.id AND e.rank = 2)))"
        };
    }
    // One literal, put together by the compiler: nothing to format on every event.
    Stmt::new(
        concat!(
            "INSERT INTO calls (id, direction, caller, dialled, state, phase, rank, \
               is_test, started_at, connected_at, ended_at, duration_ms, answered_by, updated_at, \
               voicemail_url, recording_urls, transcript, summary) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?17, ?18, ?19) \
             ON CONFLICT (id) DO UPDATE SET \
               state = CASE WHEN ", moves!(), " THEN excluded.state ELSE calls.state END, \
               phase = CASE WHEN ", moves!(), " THEN (CASE WHEN ", was_connected!(), " THEN 'ended' \
                 ELSE excluded.phase END) ELSE calls.phase END, \
               ended_at = CASE WHEN ", moves!(), " THEN coalesce(excluded.ended_at, calls.ended_at) ELSE calls.ended_at END, \
               duration_ms = CASE WHEN ", moves!(), " THEN coalesce(excluded.duration_ms, calls.duration_ms, \
                 CASE WHEN ", was_connected!(), " THEN excluded.ended_at - calls.connected_at END) \
                 ELSE calls.duration_ms END, \
               rank = CASE WHEN ", moves!(), " THEN excluded.rank ELSE calls.rank END, \
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
               updated_at = max(calls.updated_at, excluded.updated_at)"
        ),
        vec![
            c.id.as_str().into(),
            c.direction.as_str().into(),
            c.caller.as_str().into(),
            c.dialled.as_str().into(),
            c.state.as_str().into(),
            c.phase.as_str().into(),
            c.rank.into(),
            (c.is_test as i64).into(),
            c.started_at.into(),
            c.connected_at.into(),
            c.ended_at.into(),
            c.duration_ms.into(),
            c.answered_by.as_deref().into(),
            c.now_ms.into(),
            c.leg.as_str().into(),
            c.voicemail_url.as_deref().into(),
            c.recording_urls.as_deref().into(),
            c.transcript.as_deref().into(),
            c.summary.as_deref().into(),
        ],
    )
}

/// Claims the call's one pop for `key` unless another event already has it.
pub fn claim_pop(call: &str, key: &str) -> Stmt {
    Stmt::new(
        "UPDATE calls SET popped_by = ?2 WHERE id = ?1 AND popped_by IS NULL",
        vec![call.into(), key.into()],
    )
}

/// Fills in the call's store and customer where the row has none yet. A store or customer
/// deleted meanwhile is left out rather than failing the write (D1 checks foreign keys).
pub fn finish(call: &str, store: Option<i64>, customer: Option<i64>) -> Stmt {
    Stmt::new(
        "UPDATE calls SET \
           store_id = coalesce(store_id, (SELECT id FROM stores WHERE id = ?2)), \
           customer_id = coalesce(customer_id, (SELECT id FROM customers WHERE id = ?3)) \
         WHERE id = ?1",
        vec![call.into(), store.into(), customer.into()],
    )
}

/// The call's state after this event's upsert.
pub fn call_state(call: &str) -> Stmt {
    Stmt::new(
        "SELECT k.popped_by, k.state, k.phase, k.dialled, k.started_at, k.connected_at, k.ended_at, \
           k.duration_ms, k.store_id, s.name AS store_name, k.answered_by, k.voicemail_url, \
           k.recording_urls, k.transcript, k.summary \
         FROM calls k LEFT JOIN stores s ON s.id = k.store_id WHERE k.id = ?1",
        vec![call.into()],
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

/// Closes calls whose end never arrived (`pipeline::stale`): the same statement in the hub
/// and, through the outbox, in D1. `?1` is a JSON array of call ids; `?2` the cutoff, so that
/// a call that got an event meanwhile stays open.
pub fn close_stale(ids_json: &str, cutoff: i64) -> Stmt {
    Stmt::new(
        format!(
            "UPDATE calls SET state = 'unknown', phase = 'unknown', rank = 3, \
               ended_at = coalesce(ended_at, updated_at) \
             WHERE id IN (SELECT value FROM json_each(?1)) AND {} AND updated_at < ?2",
            crate::domain::call::live_sql("")
        ),
        vec![Val::Text(ids_json.to_string()), cutoff.into()],
    )
}

/// A call-log entry as every list shows it (and as the hub's stale sweep reads a call).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct CallLogEntry {
    pub id: String,
    pub direction: String,
    pub caller: String,
    pub dialled: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub state: String,
    pub phase: String,
    pub is_test: i64,
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub answered_by: Option<String>,
    /// The call's wrap-up (`resources::wrapups`), when someone wrote one.
    #[serde(default)]
    pub wrapup_category: Option<String>,
    #[serde(default)]
    pub wrapup_outcome: Option<String>,
    #[serde(default)]
    pub wrapup_note: Option<String>,
    #[serde(default)]
    pub wrapup_by: Option<String>,
    /// When it was saved, and its version (a save names the version it read).
    #[serde(default)]
    pub wrapup_at: Option<i64>,
    #[serde(default)]
    pub wrapup_version: Option<i64>,
    pub voicemail_url: Option<String>,
    /// Stored as a JSON array; sent as one.
    #[serde(serialize_with = "json_list")]
    pub recording_urls: Option<String>,
    pub transcript: Option<String>,
    pub summary: Option<String>,
    /// 時間外: the call started outside its store's hours (decided when read, from the
    /// store's hours: `resources::hours`), so the hub never waits for it.
    #[serde(default)]
    pub after_hours: bool,
    /// When the call last changed: read by the stale sweep ([`stale`]) only, never sent.
    #[serde(default, skip_serializing)]
    pub updated_at: i64,
}

fn json_list<S: serde::Serializer>(v: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    let list: Vec<String> = v
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    serde::Serialize::serialize(&list, ser)
}

/// The calls to close as stale (`pipeline::stale`, on the hub's copy): live, and without an
/// event since `cutoff`, oldest first, at most `limit`.
pub fn stale(cutoff: i64, limit: i64) -> Stmt {
    Stmt::new(
        format!(
            "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, \
             s.name AS store_name, k.state, k.phase, k.is_test, k.started_at, k.connected_at, k.updated_at \
             FROM calls k LEFT JOIN stores s ON s.id = k.store_id \
             WHERE {} AND k.updated_at < ?1 ORDER BY k.updated_at LIMIT ?2",
            crate::domain::call::live_sql("k")
        ),
        vec![cutoff.into(), limit.into()],
    )
}

/// The one column list and join of a call-log read; `k` is the call, `WHERE` follows. `?{n}`
/// is the viewer's scope (`Viewer::scope`): the call's customer (id and name) is there only
/// when the viewer may see that customer (`access::call_customer_columns_sql`); the call
/// itself is limited by the caller's `WHERE` (`call_visible_sql`).
pub fn log_select(n: usize) -> String {
    format!(
        "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, \
  {}, k.state, k.phase, k.is_test, k.started_at, k.connected_at, \
  k.ended_at, k.duration_ms, k.answered_by, k.voicemail_url, k.recording_urls, k.transcript, k.summary, \
  w.category AS wrapup_category, w.outcome AS wrapup_outcome, w.note AS wrapup_note, w.updated_by AS wrapup_by, \
  w.updated_at AS wrapup_at, w.version AS wrapup_version \
  FROM calls k LEFT JOIN stores s ON s.id = k.store_id LEFT JOIN customers c ON c.id = k.customer_id \
  LEFT JOIN call_wrapups w ON w.call_id = k.id",
        call_customer_columns_sql(n)
    )
}

/// One call, if `scope` (`Viewer::scope`) may see it.
pub fn visible_by_id(call_id: &str, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "{} WHERE k.id = ?1 AND {}",
            log_select(2),
            call_visible_sql(2)
        ),
        vec![call_id.into(), scope.into()],
    )
}

/// The last `limit` calls from `phone` that `scope` may see, newest first.
pub fn from_number(phone: &str, limit: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "{} WHERE k.caller = ?1 AND {} ORDER BY k.started_at DESC LIMIT ?2",
            log_select(3),
            call_visible_sql(3)
        ),
        vec![phone.into(), limit.into(), scope.into()],
    )
}

/// The last `limit` calls from any of a customer's numbers that `scope` may see.
pub fn of_customer(customer: i64, limit: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "{} WHERE k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = ?1) \
             AND {} ORDER BY k.started_at DESC LIMIT ?2",
            log_select(3),
            call_visible_sql(3)
        ),
        vec![customer.into(), limit.into(), scope.into()],
    )
}

/// The console's call list: the last `limit` calls `scope` may see, newest first.
pub fn recent(limit: i64, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "{} WHERE {} ORDER BY k.started_at DESC LIMIT ?2",
            log_select(1),
            call_visible_sql(1)
        ),
        vec![scope.into(), limit.into()],
    )
}

/// The call log's search (着信履歴), as validated by its handler: every filter optional.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub store: Option<i64>,
    /// Epoch ms of the first day's midnight (JST) and of the day after the last: the
    /// organisation's business-day cutoff is added in SQL.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub missed: bool,
    /// Part of the caller's number.
    pub number: Option<String>,
    /// The calls of one customer's numbers.
    pub customer: Option<i64>,
    pub category: Option<String>,
    pub outcome: Option<String>,
    /// Part of the customer's folded name or フリガナ (`domain::search::key`).
    pub name_key: Option<String>,
    pub page: i64,
    pub per_page: i64,
    /// The viewer's scope (`Viewer::scope`).
    pub scope: Option<String>,
}

impl LogFilter {
    /// The condition on `k` and its 12 values (`?6`, `?7`: the page's limit and offset).
    fn filter(&self) -> (String, Vec<Val>) {
        // From/to are business days: the cutoff (minutes after midnight) shifts both bounds,
        // read in the same statement so the search makes no extra round trip.
        const CUTOFF: &str =
            "ifnull((SELECT cutoff_min FROM hours_settings WHERE id = 1), 0) * 60000";
        // The store filter narrows; the viewer's scope (?8) limits. Staff asking for another
        // store get nothing rather than an error: the filter is a view, not a permission.
        let filter = format!(
            "(?1 IS NULL OR k.store_id = ?1) AND (?2 IS NULL OR k.started_at >= ?2 + {CUTOFF}) AND (?3 IS NULL OR k.started_at < ?3 + {CUTOFF}) \
             AND (?4 = 0 OR {missed}) AND (?5 IS NULL OR instr(k.caller, ?5) > 0) AND {} \
             AND (?9 IS NULL OR (EXISTS (SELECT 1 FROM customers c WHERE c.id = ?9 AND {vis}) \
               AND (k.customer_id = ?9 OR k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = ?9)))) \
             AND (?10 IS NULL OR k.id IN (SELECT call_id FROM call_wrapups WHERE category = ?10)) \
             AND (?11 IS NULL OR k.id IN (SELECT call_id FROM call_wrapups WHERE outcome = ?11)) \
             AND (?12 IS NULL OR k.customer_id IN (SELECT c.id FROM customers c \
                 WHERE (instr(c.name_key, ?12) > 0 OR instr(c.kana_key, ?12) > 0) AND {vis}) \
               OR k.caller IN (SELECT p.phone FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
                 WHERE (instr(c.name_key, ?12) > 0 OR instr(c.kana_key, ?12) > 0) AND {vis}))",
            call_visible_sql(8),
            vis = customer_visible_sql(8),
            missed = crate::domain::call::missed_sql("k")
        );
        let args = vec![
            self.store.into(),
            self.from.into(),
            self.to.into(),
            (self.missed as i64).into(),
            self.number.as_deref().into(),
            self.per_page.into(),
            ((self.page - 1) * self.per_page).into(),
            self.scope.as_deref().into(),
            self.customer.into(),
            self.category.as_deref().into(),
            self.outcome.as_deref().into(),
            self.name_key.as_deref().into(),
        ];
        (filter, args)
    }

    /// How many calls match.
    pub fn count(&self) -> Stmt {
        let (filter, args) = self.filter();
        Stmt::new(
            format!("SELECT count(*) AS n FROM calls k WHERE {filter}"),
            args,
        )
    }

    /// The page asked for, newest first.
    pub fn page(&self) -> Stmt {
        let (filter, args) = self.filter();
        Stmt::new(
            format!(
                "{} WHERE {filter} ORDER BY k.started_at DESC LIMIT ?6 OFFSET ?7",
                log_select(8)
            ),
            args,
        )
    }
}

/// Retention: deletes the calls that started before `cutoff_ms`, then their events (the
/// second statement, the calls; the first, the events). Events received inside the replay
/// window stay whatever the retention: they are the dedupe keys that stop a replayed token
/// from popping again (`domain::replay`).
pub fn prune(cutoff_ms: i64, now_ms: i64) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "DELETE FROM call_events WHERE (group_id IN (SELECT id FROM calls WHERE started_at < ?1) \
             OR group_id NOT IN (SELECT id FROM calls) OR received_at < ?1) AND received_at < ?2",
            vec![
                cutoff_ms.into(),
                (now_ms - crate::domain::replay::MAX_AGE_MS).into(),
            ],
        ),
        Stmt::new(
            "DELETE FROM calls WHERE started_at < ?1",
            vec![cutoff_ms.into()],
        ),
    ]
}

/// A call's numbers and its recorded store ([`CallNumbers`]), whoever may see it (the caller
/// decides that from the store).
pub fn numbers(call_id: &str) -> Stmt {
    Stmt::new(
        "SELECT k.caller, k.dialled, k.store_id, s.name AS store_name \
         FROM calls k LEFT JOIN stores s ON s.id = k.store_id WHERE k.id = ?1",
        vec![call_id.into()],
    )
}

#[derive(Deserialize)]
pub struct CallNumbers {
    pub caller: String,
    pub dialled: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
}

/// A call's id, if `scope` may see the call.
pub fn visible_id(call_id: &str, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT k.id FROM calls k WHERE k.id = ?1 AND {}",
            call_visible_sql(2)
        ),
        vec![call_id.into(), scope.into()],
    )
}
