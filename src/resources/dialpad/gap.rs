//! The gap filler: the console's cron lists the calls Dialpad has concluded since the last run
//! (`GET /api/v2/call`, `started_after` / `started_before`, paged by `cursor`) and hands each
//! to the hub as the webhook would have, marked reconciled: the hub's own dedupe decides (a
//! call it already knows is a duplicate, so a call delivered both ways is one call), it
//! records the rest — 着信履歴, the caller's history, 折り返し when missed — and pops nothing.
//! The consoles get a `calls_recovered` notice per store when missed calls were recovered.
use crate::db::dialpad as db_dialpad;
use crate::domain::messages::{BroadcastRequest, EventRequest};
use crate::domain::protocol::SocketMessage;
use crate::platform::dialpad::{Endpoint, Outcome};
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use worker::{D1Database, Env, Method};

/// Each run looks back this far before the last run's end: a call is listed once it has
/// concluded, so a long call started before the last run is found by a later one.
const OVERLAP_MS: i64 = 2 * 3600 * 1000;
/// The first run looks back this far.
const FIRST_LOOK_BACK_MS: i64 = 24 * 3600 * 1000;
/// A call that ended this recently is left to its webhook (which may still be on its way).
const GRACE_MS: i64 = 5 * 60 * 1000;
/// Pages read per run at most (the rest next run).
const MAX_PAGES: usize = 50;

const KEY: &str = "gap_fill";

/// The last run: `{lastRun, until, filled, missed, seen, lastError, totalFilled}`.
pub async fn state(db: &D1Database) -> ApiResult<Value> {
    let row: Option<db_dialpad::StateRow> = db_dialpad::state(KEY).d1(db)?.first(None).await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.value).ok())
        .unwrap_or(Value::Null))
}

async fn save(db: &D1Database, v: &Value, now: i64) -> ApiResult<()> {
    db_dialpad::save_state(KEY, &v.to_string(), now)
        .d1(db)?
        .run()
        .await?;
    Ok(())
}

/// A concluded call of the list as the webhook's claims: its end (hangup, missed or
/// voicemail), with the fields the webhook path reads.
pub fn claims_of(call: &Value) -> Option<Map<String, Value>> {
    let obj = call.as_object()?;
    obj.get("call_id").filter(|v| !v.is_null())?;
    let mut claims = Map::new();
    for k in [
        "call_id",
        "master_call_id",
        "entry_point_call_id",
        "operator_call_id",
        "direction",
        "external_number",
        "internal_number",
        "date_started",
        "date_rang",
        "date_connected",
        "date_ended",
        "duration",
        "total_duration",
        "contact",
        "target",
        "entry_point_target",
        "group_id",
        "voicemail_share_link",
        "transcription_text",
    ] {
        if let Some(v) = obj.get(k).filter(|v| !v.is_null()) {
            claims.insert(k.to_string(), v.clone());
        }
    }
    let voicemail = obj
        .get("voicemail_share_link")
        .and_then(Value::as_str)
        .is_some_and(|l| !l.is_empty());
    let connected = obj.get("date_connected").is_some_and(|v| !v.is_null());
    let state = if voicemail && !connected {
        "voicemail"
    } else if connected {
        "hangup"
    } else {
        "missed"
    };
    claims.insert("state".into(), json!(state));
    let ts = ["date_ended", "date_started"]
        .iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()).cloned());
    if let Some(ts) = ts {
        claims.insert("event_timestamp".into(), ts);
    }
    Some(claims)
}

fn ms(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// One run (the cron). None when the gap filler is off.
pub async fn run(env: &Env, now: i64) -> ApiResult<Option<Value>> {
    let Some((client, settings)) = super::active(env).await? else {
        return Ok(None);
    };
    if !settings.gap_fill {
        return Ok(None);
    }
    let db = env.d1("DB")?;
    let last = state(&db).await?;
    let total_before = last["totalFilled"].as_i64().unwrap_or(0);
    let from = last["until"]
        .as_i64()
        .map(|u| u - OVERLAP_MS)
        .unwrap_or(now - FIRST_LOOK_BACK_MS);
    let until = now - GRACE_MS;
    let mut cursor: Option<String> = None;
    let (mut seen, mut filled) = (0_i64, 0_i64);
    let mut missed: BTreeMap<Option<i64>, i64> = BTreeMap::new();
    let mut error: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![
            ("started_after", from.to_string()),
            ("started_before", now.to_string()),
        ];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = match client
            .send(
                Endpoint::CallList,
                Method::Get,
                "/api/v2/call",
                &query,
                None,
            )
            .await
        {
            Outcome::Ok(v) => v,
            Outcome::Limited(ms) => {
                error = Some(format!("429: retry after {ms} ms"));
                break;
            }
            Outcome::Refused(st, why) => {
                error = Some(format!("{st}: {why}"));
                break;
            }
            Outcome::Failed(why) => {
                error = Some(why);
                break;
            }
        };
        for call in page["items"].as_array().cloned().unwrap_or_default() {
            seen += 1;
            if call["date_ended"]
                .as_i64()
                .or_else(|| ms(&call["date_ended"]))
                .is_some_and(|e| e > until)
            {
                continue;
            }
            let Some(claims) = claims_of(&call) else {
                continue;
            };
            let answer = hub_client::event(
                env,
                &EventRequest {
                    claims,
                    is_test: false,
                    received_at: http::now_ms(),
                    reconciled: true,
                },
            )
            .await;
            match answer {
                Ok(a) if a["status"] == "recorded" => {
                    filled += 1;
                    if a["phase"]
                        .as_str()
                        .is_some_and(crate::domain::call::is_missed)
                    {
                        *missed.entry(a["storeId"].as_i64()).or_default() += 1;
                    }
                }
                Ok(_) => {}
                // A call the hub refuses (malformed) is skipped; the hub failing ends the run,
                // which starts again from the same point next time.
                Err(e) if e.status() < 500 => {}
                Err(e) => {
                    error = Some(format!("hub: {}", e.code()));
                    break;
                }
            }
        }
        if error.is_some() {
            break;
        }
        cursor = crate::platform::dialpad::next_cursor(&page);
        if cursor.is_none() {
            break;
        }
    }
    let missed_total: i64 = missed.values().sum();
    let v = json!({
        "lastRun": now,
        // Only a complete run moves the window on.
        "until": if error.is_none() { json!(until) } else { last["until"].clone() },
        "seen": seen,
        "filled": filled,
        "missed": missed_total,
        "lastError": error,
        "totalFilled": total_before + filled,
    });
    save(&db, &v, now).await?;
    for (store, n) in missed {
        let message = SocketMessage::CallsRecovered {
            store_id: store,
            missed: n,
        };
        let _ = hub_client::broadcast(
            env,
            &BroadcastRequest {
                key: format!("recovered:{now}:{}", store.unwrap_or(0)),
                store_id: store,
                message: message.text(),
                staff_message: None,
                live: false,
            },
        )
        .await;
    }
    worker::console_log!(
        "{}",
        json!({"event": "gap_fill", "seen": seen, "filled": filled, "missed": missed_total, "error": v["lastError"]})
    );
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concluded_call_becomes_its_end() {
        let missed = json!({"call_id": 1, "direction": "inbound", "external_number": "+819012345678",
            "internal_number": "+815017481234", "date_started": 10, "date_ended": 20, "labels": ["x"]});
        let c = claims_of(&missed).unwrap();
        assert_eq!(c["state"], "missed");
        assert_eq!(c["event_timestamp"], 20);
        assert!(!c.contains_key("labels"));
        let talked = json!({"call_id": 2, "date_connected": 12, "date_ended": 30});
        assert_eq!(claims_of(&talked).unwrap()["state"], "hangup");
        let vm = json!({"call_id": 3, "voicemail_share_link": "https://dialpad.com/v/1"});
        assert_eq!(claims_of(&vm).unwrap()["state"], "voicemail");
        assert!(claims_of(&json!({"state": "hangup"})).is_none());
    }
}
