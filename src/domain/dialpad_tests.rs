//! Unit tests of `dialpad` (kept apart: the payload builders are long).
use super::*;
use serde_json::json;

/// Shaped like a real Dialpad inbound `ringing` event (fields as in the Call Events docs).
pub fn ringing() -> Value {
    json!({
        "call_id": 6342343299702784_u64,
        "master_call_id": null,
        "entry_point_call_id": null,
        "operator_call_id": null,
        "state": "ringing",
        "direction": "inbound",
        "external_number": "+819012345678",
        "internal_number": "+815017481234",
        "date_started": 1764000000000_i64,
        "date_rang": 1764000000500_i64,
        "date_first_rang": 1764000000500_i64,
        "date_connected": null,
        "date_ended": null,
        "event_timestamp": 1764000000600_i64,
        "duration": null,
        "total_duration": null,
        "is_transferred": false,
        "was_recorded": false,
        "call_recording_ids": [],
        "group_id": "Office:5012345678901234",
        "labels": [],
        "contact": {"id": 5139283921928192_u64, "name": "山田 太郎", "phone": "+819012345678",
                    "email": "", "type": "local"},
        "target": {"id": 4785074604081152_u64, "name": "西船橋店", "phone": "+815017481234",
                   "email": "", "type": "office", "office_id": 4785074604081152_u64},
        "proxy_target": {},
        "voicemail_link": null
    })
}

fn parse_json(v: Value) -> Result<CallEvent, EventError> {
    parse(v.as_object().unwrap())
}

fn with(mut v: Value, k: &str, x: Value) -> Value {
    v.as_object_mut().unwrap().insert(k.into(), x);
    v
}

#[test]
fn parses_a_real_shaped_ringing_event() {
    let e = parse_json(ringing()).unwrap();
    assert_eq!(e.call_id, "6342343299702784");
    assert_eq!(e.state, "ringing");
    assert_eq!(e.phase, Phase::Ringing);
    assert_eq!(e.direction, Direction::Inbound);
    assert_eq!(e.external, Phone::Number("09012345678".into()));
    assert_eq!(e.internal, Phone::Number("05017481234".into()));
    assert_eq!(
        e.contact.as_ref().unwrap().name.as_deref(),
        Some("山田 太郎")
    );
    assert_eq!(e.target.as_ref().unwrap().kind.as_deref(), Some("office"));
    assert_eq!(e.group_id(), "6342343299702784");
    assert_eq!(e.occurred_at(0), 1764000000600);
}

#[test]
fn hangup_tells_answered_from_missed() {
    let answered = with(
        with(ringing(), "state", json!("hangup")),
        "date_connected",
        json!(1764000005000_i64),
    );
    assert_eq!(parse_json(answered).unwrap().phase, Phase::Ended);
    let missed = with(ringing(), "state", json!("hangup"));
    assert_eq!(parse_json(missed).unwrap().phase, Phase::Missed);
}

#[test]
fn legs_group_by_entry_point_then_master() {
    let leg = with(
        with(ringing(), "entry_point_call_id", json!(111)),
        "master_call_id",
        json!(222),
    );
    assert_eq!(parse_json(leg).unwrap().group_id(), "111");
    let leg = with(ringing(), "master_call_id", json!(222));
    assert_eq!(parse_json(leg).unwrap().group_id(), "222");
}

#[test]
fn tolerates_unknown_and_missing_fields() {
    let e = parse_json(
        json!({"call_id": "abc-1", "state": "some_future_state", "whatever": [1, {"x": 2}]}),
    )
    .unwrap();
    assert_eq!(e.phase, Phase::Other);
    assert_eq!(e.direction, Direction::Unknown);
    assert_eq!(e.external, Phone::Withheld);
    assert!(e.contact.is_none());
    let anon = parse_json(with(ringing(), "external_number", json!("anonymous"))).unwrap();
    assert!(anon.external.is_withheld());
    // Dialpad's duration is a float of milliseconds.
    let d = parse_json(with(ringing(), "duration", json!(19954.075))).unwrap();
    assert_eq!(d.duration_ms, Some(19954));
}

#[test]
fn classification_table() {
    for (s, want) in [
        ("calling", Phase::Ringing),
        ("preanswer", Phase::Ringing),
        ("queued", Phase::Ringing),
        ("connected", Phase::Connected),
        ("hold", Phase::Hold),
        ("missed", Phase::Missed),
        ("voicemail", Phase::Voicemail),
        ("transcription", Phase::PostCall),
        ("recording", Phase::PostCall),
        ("recap_summary", Phase::PostCall),
        ("brand_new", Phase::Other),
    ] {
        assert_eq!(classify(s, None), want, "{s}");
    }
    assert!(Phase::Ended.rank() > Phase::Connected.rank());
    assert!(Phase::Connected.rank() > Phase::Ringing.rank());
    assert_eq!(Phase::PostCall.rank(), 0);
}

#[test]
fn only_an_unusable_call_id_is_an_error() {
    let cases = [
        (json!({"state": "ringing"}), "missing_call_id"),
        (
            json!({"call_id": null, "state": "ringing"}),
            "missing_call_id",
        ),
        (
            json!({"call_id": 1.5, "state": "ringing"}),
            "invalid_call_id",
        ),
        (
            json!({"call_id": true, "state": "ringing"}),
            "invalid_call_id",
        ),
        (
            json!({"call_id": {}, "state": "ringing"}),
            "invalid_call_id",
        ),
        (
            json!({"call_id": "1; DROP TABLE calls", "state": "ringing"}),
            "invalid_call_id",
        ),
        (
            json!({"call_id": "x".repeat(65), "state": "ringing"}),
            "invalid_call_id",
        ),
    ];
    for (v, code) in cases {
        assert_eq!(parse_json(v.clone()).unwrap_err().code, code, "{v}");
    }
}

#[test]
fn a_missing_or_odd_state_is_recorded_as_unknown() {
    for st in [
        json!(null),
        json!(3),
        json!(""),
        json!("RINGING"),
        json!("ring ing"),
        json!("📞"),
        json!("r".repeat(1000)),
        json!(["ringing"]),
    ] {
        let e = parse_json(with(ringing(), "state", st.clone())).unwrap();
        assert_eq!(e.state, UNKNOWN_STATE, "{st}");
        assert_eq!(e.phase, Phase::Other, "{st}");
        assert!(!e.phase.is_live(), "an unknown state never pops");
    }
    let mut v = ringing();
    v.as_object_mut().unwrap().remove("state");
    assert_eq!(parse_json(v).unwrap().state, UNKNOWN_STATE);
}

#[test]
fn numbers_that_are_not_phone_numbers_are_withheld_never_errors() {
    for (raw, kind) in [
        (json!("blocked"), NumberKind::Withheld),
        (json!("BLOCKED"), NumberKind::Withheld),
        (json!("anonymous"), NumberKind::Withheld),
        (json!(""), NumberKind::Withheld),
        (json!(null), NumberKind::Withheld),
        (json!("090-abcd"), NumberKind::Unusable),
        (json!("sip:alice@example.com"), NumberKind::Unusable),
        (json!("1".repeat(1000)), NumberKind::Unusable),
        (json!(9012345678_u64), NumberKind::Unusable),
        (json!({"number": "+819012345678"}), NumberKind::Unusable),
        (json!(["+819012345678"]), NumberKind::Unusable),
    ] {
        for field in ["external_number", "internal_number"] {
            let e = parse_json(with(ringing(), field, raw.clone())).unwrap();
            let (p, k) = if field == "external_number" {
                (&e.external, e.external_kind)
            } else {
                (&e.internal, e.internal_kind)
            };
            assert!(p.is_withheld(), "{field} {raw}");
            assert_eq!(k, kind, "{field} {raw}");
        }
    }
    let foreign = parse_json(with(ringing(), "external_number", json!("+14155550100"))).unwrap();
    assert_eq!(foreign.external, Phone::Number("+14155550100".into()));
    assert_eq!(foreign.external_kind, NumberKind::Number);
}

#[test]
fn ids_are_exact_64_bit_integers_or_strings_and_may_be_null() {
    let v = json!({
        "call_id": 9223372036854775807_i64,
        "master_call_id": 9007199254740993_u64,
        "entry_point_call_id": "6342343299702785",
        "operator_call_id": null,
        "group_id": null,
        "state": "ringing",
    });
    let e = parse_json(v).unwrap();
    assert_eq!(e.call_id, "9223372036854775807");
    assert_eq!(e.master_call_id.as_deref(), Some("9007199254740993"));
    assert_eq!(e.entry_point_call_id.as_deref(), Some("6342343299702785"));
    assert_eq!(e.operator_call_id, None);
    assert_eq!(e.group, None);
    assert_eq!(e.group_id(), "6342343299702785");
    // Odd related ids are dropped, not fatal.
    for bad in [json!({}), json!([1]), json!(1.5), json!(true), json!("a b")] {
        let e = parse_json(with(ringing(), "master_call_id", bad.clone())).unwrap();
        assert_eq!(e.master_call_id, None, "{bad}");
    }
}

#[test]
fn durations_times_and_objects_of_every_shape_are_accepted() {
    let mut v = ringing();
    let o = v.as_object_mut().unwrap();
    o.insert("total_duration".into(), json!(463.294));
    o.insert("duration".into(), json!(19954.075));
    o.insert("talk_time".into(), json!(15000));
    o.insert("hold_time".into(), json!(0));
    o.insert("date_started".into(), json!("1764000000000"));
    o.insert("date_ended".into(), json!(-5));
    o.insert("date_connected".into(), json!("yesterday"));
    o.insert("entry_point_target".into(), json!({}));
    o.insert("proxy_target".into(), json!({}));
    o.insert("transferred_from".into(), json!({}));
    o.insert("contact".into(), json!("bob"));
    o.insert("direction".into(), json!(1));
    o.insert(
        "routing_breadcrumbs".into(),
        json!([{"target_id": 1, "target_type": "office"}]),
    );
    o.insert("labels".into(), json!(["予約"]));
    o.insert("call_recording_ids".into(), json!([]));
    o.insert("integrations".into(), json!(null));
    o.insert("custom_data".into(), json!({"k": "v"}));
    o.insert("brand_new".into(), json!({"deep": [[[1]]]}));
    let e = parse_json(v).unwrap();
    assert_eq!(e.total_duration_ms, Some(463));
    assert_eq!(e.duration_ms, Some(19954));
    assert_eq!(e.talk_time_ms, Some(15000));
    assert_eq!(e.hold_time_ms, Some(0));
    assert_eq!(e.date_started, Some(1764000000000));
    assert_eq!(e.date_ended, None);
    assert_eq!(e.date_connected, None);
    assert_eq!(e.entry_point_target, None);
    assert_eq!(e.contact, None);
    assert_eq!(e.direction, Direction::Unknown);
}

#[test]
fn reads_what_the_enrichment_needs() {
    let mut v = ringing();
    let o = v.as_object_mut().unwrap();
    o.insert("state".into(), json!("recording"));
    o.insert(
        "recording_details".into(),
        json!([
            {"id": "r1", "recording_type": "callrecording", "url": "https://dialpad.com/r/1", "duration": 1000, "start_time": 1},
            {"id": "r2", "recording_type": "admincallrecording", "url": "https://dialpad.com/r/2"},
            {"id": "r3", "url": "javascript:alert(1)"},
            {"id": "r4"},
            "not an object"
        ]),
    );
    o.insert(
        "recording_url".into(),
        json!(["https://dialpad.com/r/1", "https://dialpad.com/r/5"]),
    );
    o.insert("voicemail_link".into(), json!("https://dialpad.com/vm/9"));
    o.insert("transcription_text".into(), json!("  予約の変更です  "));
    o.insert("recap_summary".into(), json!({"summary": "予約変更の電話"}));
    o.insert(
        "entry_point_target".into(),
        json!({"id": 1, "name": "代表", "phone": "+815017481000", "type": "office", "office_id": 4785074604081152_u64}),
    );
    o.insert("operator_call_id".into(), json!(6342343299702790_u64));
    let e = parse_json(v).unwrap();
    assert_eq!(e.phase, Phase::PostCall);
    assert_eq!(
        e.recording_urls,
        vec![
            "https://dialpad.com/r/1",
            "https://dialpad.com/r/2",
            "https://dialpad.com/r/5"
        ]
    );
    assert_eq!(
        e.voicemail_link.as_deref(),
        Some("https://dialpad.com/vm/9")
    );
    assert_eq!(e.transcription_text.as_deref(), Some("予約の変更です"));
    assert_eq!(e.recap_summary.as_deref(), Some("予約変更の電話"));
    assert_eq!(e.target_office_id.as_deref(), Some("4785074604081152"));
    assert_eq!(e.entry_point_phone, Phone::Number("05017481000".into()));
    assert_eq!(e.entry_point_office_id.as_deref(), Some("4785074604081152"));
    assert_eq!(
        e.entry_point_target.unwrap().kind.as_deref(),
        Some("office")
    );
    assert_eq!(e.operator_call_id.as_deref(), Some("6342343299702790"));
    assert_eq!(e.event_timestamp, Some(1764000000600));
    // The published CallProto name for the voicemail link, and a plain-string recap.
    let v = with(
        with(
            ringing(),
            "voicemail_share_link",
            json!("https://dialpad.com/s/vm"),
        ),
        "recap_summary",
        json!("要約"),
    );
    let e = parse_json(v).unwrap();
    assert_eq!(
        e.voicemail_link.as_deref(),
        Some("https://dialpad.com/s/vm")
    );
    assert_eq!(e.recap_summary.as_deref(), Some("要約"));
    // Caps: at most 10 recordings, long text cut.
    let many: Vec<Value> = (0..50)
        .map(|i| json!({"url": format!("https://dialpad.com/r/{i}")}))
        .collect();
    let e = parse_json(with(
        with(ringing(), "recording_details", Value::Array(many)),
        "transcription_text",
        json!("あ".repeat(50_000)),
    ))
    .unwrap();
    assert_eq!(e.recording_urls.len(), MAX_RECORDINGS);
    assert_eq!(
        e.transcription_text.unwrap().chars().count(),
        MAX_TEXT_CHARS
    );
}

#[test]
fn states_outside_the_published_enum_are_other() {
    for s in [
        "transfer_unavailable",
        "unhold",
        "abandoned",
        "call_recording",
        "unpark",
    ] {
        assert_eq!(classify(s, None), Phase::Other, "{s}");
    }
    for s in [
        "voicemail_uploaded",
        "recap_outcome",
        "dispositions",
        "admin_recording",
    ] {
        assert_eq!(classify(s, None), Phase::PostCall, "{s}");
    }
    assert_eq!(classify("blocked", None), Phase::Missed);
}
