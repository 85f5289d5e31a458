//! Dialpad call events: parsing and classification. Pure.
//!
//! Dialpad sends one event per state transition of each call leg (Call Events docs). Fields
//! follow its payloads: ids are integers (up to 2^63, so never `f64`), timestamps are epoch
//! milliseconds, optional fields are often `null`, and new fields and states appear over time,
//! so anything unknown is tolerated and only what the popup needs is validated.
use crate::domain::phone::{self, Phone, PhoneError};
use serde_json::{Map, Value};

/// Longest text kept from a free-form field (names, states); longer input is refused or cut.
const MAX_ID_LEN: usize = 64;
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
    Unknown,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Unknown => "unknown",
        }
    }
}

/// Where a state puts the call, for the popup and the call log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not answered yet: ringing, calling, preanswer, queued.
    Ringing,
    /// Talking: connected, merged, takeover and the supervisor states.
    Connected,
    Hold,
    /// Hung up after being answered.
    Ended,
    /// Hung up without an answer (Dialpad sends `hangup` with `date_connected: null`, or `missed`).
    Missed,
    Voicemail,
    /// Arrives after the call (transcription, recording, recap_*, csat …): logged, never re-pops.
    PostCall,
    /// A state this code does not know: logged, shown as-is, does not move the call's phase.
    Other,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Ringing => "ringing",
            Phase::Connected => "connected",
            Phase::Hold => "hold",
            Phase::Ended => "ended",
            Phase::Missed => "missed",
            Phase::Voicemail => "voicemail",
            Phase::PostCall => "postcall",
            Phase::Other => "other",
        }
    }

    /// Order of the lifecycle. Retries can arrive out of order; the call log keeps the
    /// highest rank seen so a late `connected` never regresses an ended call. 0: no change.
    pub fn rank(self) -> i64 {
        match self {
            Phase::Ringing => 1,
            Phase::Connected | Phase::Hold => 2,
            Phase::Ended | Phase::Missed | Phase::Voicemail => 3,
            Phase::PostCall | Phase::Other => 0,
        }
    }

    /// A live phase: one the staff can still act on while the phone rings or they talk.
    pub fn is_live(self) -> bool {
        matches!(self, Phase::Ringing | Phase::Connected | Phase::Hold)
    }
}

pub fn classify(state: &str, date_connected: Option<i64>) -> Phase {
    match state {
        "ringing" | "calling" | "preanswer" | "queued" => Phase::Ringing,
        "connected" | "merged" | "takeover" | "barge" | "monitor" | "eavesdrop" | "unpark" => {
            Phase::Connected
        }
        "hold" | "parked" => Phase::Hold,
        "hangup" if date_connected.is_some() => Phase::Ended,
        "hangup" | "missed" | "abandoned" | "blocked" | "transfer_unavailable" => Phase::Missed,
        "voicemail" | "voicemail_uploaded" => Phase::Voicemail,
        "postcall" | "transcription" | "call_transcription" | "recording" | "csat" | "pcsat"
        | "ai_playbook" | "admin" | "admin_recording" | "call_recording" | "dispositions" => {
            Phase::PostCall
        }
        s if s.starts_with("recap_") => Phase::PostCall,
        _ => Phase::Other,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub id: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub call_id: String,
    pub master_call_id: Option<String>,
    pub entry_point_call_id: Option<String>,
    pub state: String,
    pub phase: Phase,
    pub direction: Direction,
    /// The other party: the caller of an inbound call.
    pub external: Phone,
    /// The Dialpad number involved: the dialled number of an inbound call.
    pub internal: Phone,
    pub contact: Option<Party>,
    /// Who the call is routed to (user, office, call center …).
    pub target: Option<Party>,
    pub date_started: Option<i64>,
    pub date_rang: Option<i64>,
    pub date_connected: Option<i64>,
    pub date_ended: Option<i64>,
    pub event_timestamp: Option<i64>,
    pub duration_ms: Option<i64>,
}

impl CallEvent {
    /// The id that ties the legs of one customer call together (transfers, ring groups):
    /// Dialpad points every leg at the call that entered the system.
    pub fn group_id(&self) -> &str {
        self.entry_point_call_id
            .as_deref()
            .or(self.master_call_id.as_deref())
            .unwrap_or(&self.call_id)
    }

    /// The customer's number and the business's number, whatever the direction.
    pub fn customer_phone(&self) -> &Phone {
        &self.external
    }

    /// Best timestamp for "when did this happen", epoch ms.
    pub fn occurred_at(&self, received_ms: i64) -> i64 {
        self.event_timestamp
            .or(self.date_ended)
            .or(self.date_connected)
            .or(self.date_rang)
            .or(self.date_started)
            .unwrap_or(received_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    pub code: &'static str,
    pub field: &'static str,
}

fn err(code: &'static str, field: &'static str) -> EventError {
    EventError { code, field }
}

/// An id: Dialpad uses integers; strings of id characters are accepted too (simulators, tests).
fn id_field(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, EventError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= MAX_ID_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(err("invalid_field", field)),
    }
}

fn ms_field(map: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, EventError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            // Anything outside 0..year 3000 is not a call timestamp or duration.
            Some(v) if (0.0..=32_503_680_000_000.0).contains(&v) => Ok(Some(v as i64)),
            _ => Err(err("invalid_field", field)),
        },
        Some(_) => Err(err("invalid_field", field)),
    }
}

fn text_field(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Some(s.trim().chars().take(MAX_NAME_CHARS).collect())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn party(map: &Map<String, Value>, field: &'static str) -> Result<Option<Party>, EventError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(Party {
            id: text_field(o.get("id")),
            name: text_field(o.get("name")),
            kind: text_field(o.get("type")),
        })),
        Some(_) => Err(err("invalid_field", field)),
    }
}

fn phone_field(
    map: &Map<String, Value>,
    field: &'static str,
    code: &'static str,
) -> Result<Phone, EventError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(Phone::Withheld),
        Some(Value::String(s)) => phone::normalize(s).map_err(|e| match e {
            PhoneError::InvalidCharacters | PhoneError::TooLong => err(code, field),
        }),
        Some(_) => Err(err(code, field)),
    }
}

/// Parses verified claims into a call event, or says which field is wrong.
pub fn parse(claims: &Map<String, Value>) -> Result<CallEvent, EventError> {
    let call_id = match claims.get("call_id") {
        None | Some(Value::Null) => return Err(err("missing_call_id", "call_id")),
        Some(_) => id_field(claims, "call_id")
            .map_err(|_| err("invalid_call_id", "call_id"))?
            .expect("present"),
    };
    let state = match claims.get("state") {
        None | Some(Value::Null) => return Err(err("missing_state", "state")),
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= MAX_ID_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            s.clone()
        }
        Some(_) => return Err(err("invalid_state", "state")),
    };
    let direction = match claims.get("direction") {
        None | Some(Value::Null) => Direction::Unknown,
        Some(Value::String(s)) => match s.as_str() {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            _ => Direction::Unknown,
        },
        Some(_) => return Err(err("invalid_field", "direction")),
    };
    let date_connected = ms_field(claims, "date_connected")?;
    Ok(CallEvent {
        master_call_id: id_field(claims, "master_call_id")?,
        entry_point_call_id: id_field(claims, "entry_point_call_id")?,
        phase: classify(&state, date_connected),
        direction,
        external: phone_field(claims, "external_number", "invalid_external_number")?,
        internal: phone_field(claims, "internal_number", "invalid_internal_number")?,
        contact: party(claims, "contact")?,
        target: party(claims, "target")?,
        date_started: ms_field(claims, "date_started")?,
        date_rang: ms_field(claims, "date_rang")?,
        date_connected,
        date_ended: ms_field(claims, "date_ended")?,
        event_timestamp: ms_field(claims, "event_timestamp")?,
        duration_ms: ms_field(claims, "duration")?,
        call_id,
        state,
    })
}

#[cfg(test)]
mod tests {
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
    fn reports_the_bad_field() {
        let cases = [
            (json!({"state": "ringing"}), "missing_call_id"),
            (
                json!({"call_id": null, "state": "ringing"}),
                "missing_call_id",
            ),
            (json!({"call_id": 1}), "missing_state"),
            (
                json!({"call_id": 1.5, "state": "ringing"}),
                "invalid_call_id",
            ),
            (
                json!({"call_id": true, "state": "ringing"}),
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
            (json!({"call_id": 1, "state": 3}), "invalid_state"),
            (json!({"call_id": 1, "state": "RINGING"}), "invalid_state"),
            (json!({"call_id": 1, "state": "ring ing"}), "invalid_state"),
            (
                json!({"call_id": 1, "state": "ringing", "external_number": "090-abcd"}),
                "invalid_external_number",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "external_number": 9012345678_u64}),
                "invalid_external_number",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "internal_number": "1".repeat(1000)}),
                "invalid_internal_number",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "date_started": "yesterday"}),
                "invalid_field",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "date_started": -5}),
                "invalid_field",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "contact": "bob"}),
                "invalid_field",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "direction": 1}),
                "invalid_field",
            ),
            (
                json!({"call_id": 1, "state": "ringing", "master_call_id": {}}),
                "invalid_field",
            ),
        ];
        for (v, code) in cases {
            assert_eq!(parse_json(v.clone()).unwrap_err().code, code, "{v}");
        }
    }
}
