//! The CTI pipeline: a verified call event -> store + customer lookup -> call log -> hub.
//!
//! Idempotent end to end, because Dialpad retries any 5xx (about 2, 4 and 8 s later, possibly
//! out of order): the event log is keyed by (leg, state), the call's single pop is claimed by
//! one `leg:state` key, and the hub sends each key once. A retry of an event whose first
//! delivery failed half-way therefore completes it without duplicating anything.
use super::hub_client;
use super::record::{self, CallRow, CallStateRow};
use crate::domain::access::Viewer;
use crate::domain::dialpad::{self, CallEvent, Direction, Phase};
use crate::domain::error::ApiError;
use crate::domain::messages::{
    BroadcastRequest, CallDetails, CallMessage, CustomerCard, StoreRef, CALL_STATE, INCOMING_CALL,
};
use crate::domain::phone::{self, Phone};
use crate::domain::replay;
use crate::domain::token;
use crate::domain::token::Role;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::customers::queries;
use crate::resources::stores;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

/// Whether plain-JSON (unsigned) webhooks are accepted. Off unless explicitly configured:
/// anyone who knows the URL could otherwise pop windows on every console.
fn unsigned_allowed(env: &Env) -> bool {
    env.var("ALLOW_UNSIGNED_WEBHOOKS")
        .map(|v| v.to_string() == "true")
        .unwrap_or(false)
}

/// Shortest `UNSIGNED_WEBHOOK_KEY` accepted: a long random key, not a password.
const MIN_UNSIGNED_KEY: usize = 32;

/// An unsigned event must carry the hook URL's `?key=`, equal (compared in constant time) to
/// the secret `UNSIGNED_WEBHOOK_KEY` of at least 32 characters: knowing the URL alone is not
/// enough to pop windows.
fn check_unsigned_key(req: &Request, env: &Env) -> ApiResult<()> {
    let expected = env
        .secret("UNSIGNED_WEBHOOK_KEY")
        .map(|s| s.to_string())
        .or_else(|_| env.var("UNSIGNED_WEBHOOK_KEY").map(|v| v.to_string()))
        .ok()
        .filter(|k| k.len() >= MIN_UNSIGNED_KEY)
        .ok_or(ApiError::Misconfigured("UNSIGNED_WEBHOOK_KEY"))?;
    let given = http::query_param(req, "key").unwrap_or_default();
    if !http::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Unauthenticated("bad_webhook_key"));
    }
    Ok(())
}

/// `POST /api/dialpad/webhook`
pub async fn webhook(mut req: Request, env: &Env) -> ApiResult<Response> {
    let started = http::now_ms();
    let result = async {
        let body = http::read_body(&mut req, token::MAX_WEBHOOK_BYTES).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::Webhook(token::TokenError::Malformed))?
            .trim();
        let signed = !text.starts_with('{');
        let claims = if !signed {
            if !unsigned_allowed(env) {
                return Err(ApiError::Unsigned);
            }
            check_unsigned_key(&req, env)?;
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map_err(|_| ApiError::Webhook(token::TokenError::MalformedClaims))?
        } else {
            let secret = auth::secret(env, "DIALPAD_WEBHOOK_SECRET")?;
            token::verify_webhook(text, secret.as_bytes(), started / 1000)?
        };
        replay::check(&claims, started).map_err(ApiError::Replay)?;
        match dialpad::parse(&claims) {
            Ok(event) => process(env, &event, false, started).await,
            // An unsigned body (allowed by configuration) proved nothing: its flaws are
            // the sender's to fix.
            Err(e) if !signed => Err(e.into()),
            // Genuine, but about no call we could name: recorded in the log, answered 2xx
            // (a 4xx would tell Dialpad a genuine event was forged, and drop it).
            Err(e) => {
                log(json!({"event": "webhook", "decision": "unattributable", "code": e.code,
                    "field": e.field, "state": claims.get("state"), "ms": http::now_ms() - started}));
                Ok(json!({ "ok": true, "status": "unattributable" }))
            }
        }
    }
    .await;
    if let Err(e) = &result {
        log(json!({
            "event": "webhook_rejected", "status": e.status(), "code": e.code(),
            "ms": http::now_ms() - started,
        }));
    }
    let outcome = result?;
    Ok(http::json_response(200, &outcome)?)
}

fn log(v: serde_json::Value) {
    worker::console_log!("{v}");
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestCallBody {
    customer_phone: String,
    incoming_number: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
}

/// A number written the way the README and the seed write examples, `0501748XXXX`: digits
/// (and separators) with X's standing for the digits to fill in.
fn is_placeholder(number: &str) -> bool {
    let mut x = false;
    for c in number.chars() {
        match c {
            'X' | 'x' | 'Ｘ' | 'ｘ' => x = true,
            '0'..='9' | '+' | '-' | ' ' | '(' | ')' => {}
            _ => return false,
        }
    }
    x
}

/// `POST /api/dialpad/test-call` (admin): the same path as a real call, marked `isTest`, so a
/// deployment can be checked end to end without phoning it.
pub async fn test_call(mut req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let body: TestCallBody = http::read_json(&mut req, 4096).await?;
    for (value, field) in [
        (&body.customer_phone, "customerPhone"),
        (&body.incoming_number, "incomingNumber"),
    ] {
        if is_placeholder(value) {
            return Err(ApiError::bad(
                "placeholder_number",
                field,
                format!(
                    "「{value}」の X は例の伏せ字です。X を実際の電話番号の数字に置き換えてください \
                     (the X's in `{field}` are placeholders: replace them with a real number)"
                ),
            ));
        }
    }
    let now = http::now_ms();
    let mut claims = serde_json::Map::new();
    claims.insert(
        "call_id".into(),
        body.call_id.unwrap_or_else(|| format!("test-{now}")).into(),
    );
    claims.insert(
        "state".into(),
        body.state.unwrap_or_else(|| "ringing".into()).into(),
    );
    claims.insert("direction".into(), "inbound".into());
    claims.insert("external_number".into(), body.customer_phone.into());
    claims.insert("internal_number".into(), body.incoming_number.into());
    claims.insert("date_started".into(), now.into());
    claims.insert("event_timestamp".into(), now.into());
    let event = dialpad::parse(&claims).map_err(|e| {
        // Name the request's own fields, not Dialpad's.
        let field = match e.field {
            "external_number" => "customerPhone",
            "internal_number" => "incomingNumber",
            "call_id" => "callId",
            other => other,
        };
        ApiError::bad(e.code, field, format!("`{field}` is missing or invalid"))
    })?;
    // Unlike a Dialpad event, this is typed by an admin: a number that is not one is a mistake
    // to report, not a withheld caller to record.
    for (kind, field, code) in [
        (
            event.external_kind,
            "customerPhone",
            "invalid_external_number",
        ),
        (
            event.internal_kind,
            "incomingNumber",
            "invalid_internal_number",
        ),
    ] {
        if kind == dialpad::NumberKind::Unusable {
            return Err(ApiError::bad(
                code,
                field,
                format!("`{field}` is not a phone number"),
            ));
        }
    }
    let outcome = process(env, &event, true, now).await?;
    Ok(http::json_response(
        200,
        &json!({ "success": true, "message": "Test call broadcasted", "data": outcome }),
    )?)
}

/// Runs one verified event through the pipeline. Returns the JSON answered to the sender.
pub async fn process(
    env: &Env,
    ev: &CallEvent,
    is_test: bool,
    now: i64,
) -> ApiResult<serde_json::Value> {
    let db = env.d1("DB")?;
    let caller = ev.customer_phone().as_str().to_string();
    let dialled = ev.internal.as_str().to_string();
    let key = record::event_key(ev);

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
    let answered_by = (ev.phase == Phase::Connected)
        .then(|| {
            ev.target
                .as_ref()
                .filter(|t| t.kind.as_deref() == Some("user"))
        })
        .flatten()
        .and_then(|t| t.name.as_deref());
    let row = CallRow {
        id: ev.group_id(),
        direction: ev.direction.as_str(),
        caller: &caller,
        dialled: &dialled,
        state: &ev.state,
        phase: ev.phase.as_str(),
        rank,
        is_test,
        started_at: ev.date_started.or(ev.date_rang).unwrap_or(occurred),
        connected_at: ev.date_connected,
        ended_at,
        duration_ms: duration,
        answered_by,
        now_ms: now,
        leg: &ev.call_id,
        voicemail_url: ev.voicemail_link.as_deref(),
        recording_urls: (!ev.recording_urls.is_empty())
            .then(|| serde_json::to_string(&ev.recording_urls).unwrap_or_default()),
        transcript: ev.transcription_text.as_deref(),
        summary: ev.recap_summary.as_deref(),
    };
    // One pop per customer call: the first live inbound event claims it.
    let may_pop = ev.direction != Direction::Outbound && ev.phase.is_live();

    // One D1 round trip for everything before the broadcast: log the event (once per leg and
    // state), learn whether an earlier delivery already reached the hub, look the customer up,
    // upsert the call, claim the call's one pop, read the call back, and load the store
    // prefixes. Every step is idempotent, so a retry or duplicate that runs it again changes
    // nothing. The store and the customer are decided here, in Rust, by the rules that
    // decide them everywhere, and written after the broadcast (`record::finish_stmts`).
    let mut batch = vec![
        // The leg's own rank: a missed child leg is over, even though it does not end the call.
        record::insert_event_stmt(&db, ev, ev.phase.rank(), now)?,
        record::event_delivered_stmt(&db, ev)?,
        queries::by_phone_stmt(&db, &caller, now)?,
        record::upsert_call_stmt(&db, &row)?,
        stores::table_stmt(&db),
    ];
    if may_pop {
        batch.push(record::claim_pop_stmt(&db, ev.group_id(), &key)?);
    }
    batch.push(record::call_state_stmt(&db, ev.group_id())?);
    let results = db.batch(batch).await?;
    #[derive(Deserialize)]
    struct Delivered {
        delivered: i64,
    }
    let delivered = db::first::<Delivered>(&results[1])?.map_or(0, |d| d.delivered);
    if delivered != 0 {
        log(
            json!({"event": "webhook", "callId": ev.group_id(), "leg": ev.call_id,
            "state": ev.state, "decision": "duplicate", "ms": http::now_ms() - now}),
        );
        return Ok(json!({ "ok": true, "status": "duplicate", "callId": ev.group_id() }));
    }
    // Stored data never fails a genuine event: a customer row that cannot be read pops the
    // call without its card (and says so in the log) rather than answering 5xx, which Dialpad
    // would retry three times and then drop.
    let cards = if caller.is_empty() {
        vec![]
    } else {
        match queries::cards_from(&results[2]) {
            Ok(cards) => cards.into_iter().map(CustomerCard::for_pop).collect(),
            Err(e) => {
                log(
                    json!({"event": "customer_unreadable", "callId": ev.group_id(),
                    "caller": phone::mask(&caller), "error": e.code(), "detail": format!("{e:?}")}),
                );
                vec![]
            }
        }
    };
    let call: CallStateRow = results
        .last()
        .map(db::first)
        .transpose()?
        .flatten()
        .ok_or_else(|| ApiError::Unavailable("call row missing after upsert".into()))?;
    let store = match (call.store_id, &call.store_name) {
        (Some(id), Some(name)) => StoreRef {
            id: Some(id),
            name: name.clone(),
        },
        _ => stores::store_of_call(
            &stores::table_from(&results[4])?,
            &call.dialled,
            ev.office_id(),
            ev.entry_number(),
        ),
    };
    let customer_id = (cards.len() == 1).then(|| cards[0].id);

    let customer_found = match (cards.len(), ev.customer_phone()) {
        (_, Phone::Withheld) => "withheld",
        (0, _) => "unknown",
        (1, _) => "found",
        _ => "multiple",
    };
    let enriches = ev.voicemail_link.is_some()
        || !ev.recording_urls.is_empty()
        || ev.transcription_text.is_some()
        || ev.recap_summary.is_some();
    if ev.phase == Phase::PostCall && !enriches {
        db.batch(record::finish_stmts(&db, ev, store.id, customer_id)?)
            .await?;
        log(
            json!({"event": "webhook", "callId": ev.group_id(), "leg": ev.call_id,
            "state": ev.state, "store": store.name, "customer": customer_found,
            "caller": phone::mask(&caller), "sockets": 0, "decision": "recorded",
            "ms": http::now_ms() - now}),
        );
        return Ok(json!({ "ok": true, "status": "recorded", "callId": ev.group_id() }));
    }

    let pops = call.popped_by.as_deref() == Some(key.as_str());
    // The store's staff see only the cards the access policy gives them; the admin room
    // hears the whole message.
    let staff = Viewer {
        role: Role::Staff,
        store: store.id,
    };
    let staff_cards: Vec<CustomerCard> = cards
        .iter()
        .filter(|c| staff.may_see_customer(c.home_store.as_ref().and_then(|h| h.id)))
        .cloned()
        .collect();
    let staff_differs = staff_cards.len() != cards.len();
    let message = CallMessage {
        kind: if pops { INCOMING_CALL } else { CALL_STATE }.to_string(),
        call_id: ev.group_id().to_string(),
        leg_id: ev.call_id.clone(),
        customer_phone: caller.clone(),
        incoming_number: dialled,
        timestamp: http::iso(occurred),
        is_test,
        // The call's state after this event, not the leg's: a late or partial event never
        // moves the popup backwards.
        state: call.state,
        phase: call.phase,
        direction: ev.direction.as_str().to_string(),
        store: store.clone(),
        customer: (cards.len() == 1).then(|| cards[0].clone()),
        candidates: if cards.len() > 1 { cards } else { vec![] },
        contact_name: ev.contact.as_ref().and_then(|c| c.name.clone()),
        started_at: call.started_at,
        connected_at: call.connected_at,
        ended_at: call.ended_at,
        duration_ms: call.duration_ms,
        details: CallDetails {
            answered_by: call.answered_by,
            voicemail_url: call.voicemail_url,
            recording_urls: call
                .recording_urls
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
            transcript: call.transcript,
            summary: call.summary,
        },
    };
    let text = serde_json::to_string(&message).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let staff_message = if staff_differs {
        let mut m = message.clone();
        m.customer = (staff_cards.len() == 1).then(|| staff_cards[0].clone());
        m.candidates = if staff_cards.len() > 1 {
            staff_cards
        } else {
            vec![]
        };
        Some(serde_json::to_string(&m).map_err(|e| ApiError::Unavailable(e.to_string()))?)
    } else {
        None
    };
    let result = hub_client::broadcast(
        env,
        &BroadcastRequest {
            key: key.clone(),
            store_id: store.id,
            message: text,
            staff_message,
        },
    )
    .await?;
    // Before the event is marked delivered, so that a retry after a failure here redoes it.
    crate::resources::callbacks::on_call_event(
        env,
        &db,
        &crate::resources::callbacks::CallFacts {
            call_id: ev.group_id(),
            caller: &caller,
            direction: ev.direction.as_str(),
            phase: &message.phase,
            connected: message.connected_at.is_some(),
            store_id: store.id,
        },
        now,
    )
    .await?;
    db.batch(record::finish_stmts(&db, ev, store.id, customer_id)?)
        .await?;
    log(
        json!({"event": "webhook", "callId": ev.group_id(), "leg": ev.call_id,
        "state": ev.state, "store": store.name, "customer": customer_found,
        "caller": phone::mask(&caller), "sockets": result.delivered,
        "decision": if pops { "pop" } else { "update" }, "ms": http::now_ms() - now}),
    );
    Ok(json!({
        "ok": true,
        "status": if result.duplicate { "duplicate" } else { "broadcast" },
        "type": message.kind,
        "callId": message.call_id,
        "delivered": result.delivered,
        "seq": result.seq,
        "store": message.store,
        "customerFound": customer_found,
    }))
}

#[cfg(test)]
mod placeholder_tests {
    use super::is_placeholder;

    #[test]
    fn placeholders_are_told_apart_from_numbers() {
        assert!(is_placeholder("0501748XXXX"));
        assert!(is_placeholder("050-1748-xxxx"));
        assert!(!is_placeholder("05017481234"));
        assert!(!is_placeholder("anonymous"));
        assert!(!is_placeholder(""));
    }
}
