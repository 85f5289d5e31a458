//! Dialpad call events: parsing and classification. Pure.
//!
//! Dialpad sends one event per state transition of each call leg (Call Events docs). Fields
//! follow its published call schema (`CallProto` in dialpad/dialpad-python-sdk,
//! `src/dialpad/schemas/call.py`): ids are integers (up to 2^63, so never `f64`), timestamps
//! are epoch milliseconds, optional fields are often `null` or `{}`, and new fields and states
//! appear over time.
//!
//! **Acceptance.** A token that verifies is a genuine Dialpad event, so parsing is total over
//! its content: a field of an unexpected type or value is treated as absent (a number that is
//! not a phone number as withheld/unknown, a missing or unusable `state` as the state
//! `unknown`), never as an error. The one exception is a missing or unusable `call_id`: there is
//! no call to record it on, and inventing one would put a ghost call in the log (or pop one).
//! [`parse`] then returns an [`EventError`]; since the token verified, the webhook should answer
//! it with a 2xx and log it as unattributable (Dialpad never retries a 4xx, and a 4xx would
//! call a genuine event forged) rather than refuse it.
use crate::domain::phone::{self, Phone};
use serde_json::{Map, Value};

/// Longest id kept from an event (call ids: the one rule of `domain::call`); longer input is
/// refused or cut.
const MAX_ID_LEN: usize = crate::domain::call::MAX_CALL_ID_LEN;
const MAX_NAME_CHARS: usize = 200;
/// The longest Dialpad call label a 用件 or 対応結果 maps to (設定; `tests/corpus/field-limits.json`).
pub const MAX_LABEL_CHARS: usize = 64;
/// Longest URL kept (voicemail and recording links).
const MAX_URL_LEN: usize = 2048;
/// Most recording URLs kept from one event.
const MAX_RECORDINGS: usize = 10;
/// Longest transcript or recap text kept from one event (characters).
const MAX_TEXT_CHARS: usize = 20_000;
/// The state recorded for an event whose `state` is missing or not a state name.
pub const UNKNOWN_STATE: &str = "unknown";

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

pub use crate::domain::call::Phase;

/// Classifies a state of the published subscription enum (`call_states` in
/// `CreateCallEventSubscription`); anything else is [`Phase::Other`].
pub fn classify(state: &str, date_connected: Option<i64>) -> Phase {
    match state {
        "ringing" | "calling" | "preanswer" | "queued" => Phase::Ringing,
        "connected" | "merged" | "takeover" | "barge" | "monitor" | "eavesdrop" => Phase::Connected,
        "hold" | "parked" => Phase::Hold,
        "hangup" if date_connected.is_some() => Phase::Ended,
        "hangup" | "missed" | "blocked" => Phase::Missed,
        // `voicemail_uploaded` arrives after the caller left the message: it carries the link,
        // and the call is already in voicemail, so it only enriches (rank 0).
        "voicemail" => Phase::Voicemail,
        "voicemail_uploaded" | "postcall" | "transcription" | "call_transcription"
        | "recording" | "csat" | "pcsat" | "ai_playbook" | "admin" | "admin_recording"
        | "dispositions" | "recap_summary" | "recap_outcome" | "recap_purposes"
        | "recap_action_items" => Phase::PostCall,
        _ => Phase::Other,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub id: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
}

/// What an `internal_number` / `external_number` held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// A phone number (domestic or foreign).
    Number,
    /// No number on purpose: absent, null, empty, `"blocked"`, `"anonymous"` and the like.
    Withheld,
    /// Something that is not a phone number (wrong type, letters, too long): kept as withheld.
    Unusable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub call_id: String,
    pub master_call_id: Option<String>,
    pub entry_point_call_id: Option<String>,
    /// The state name (`unknown` when the event had none usable).
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
    /// The agent leg of a call-center call points at its operator call.
    pub operator_call_id: Option<String>,
    /// Dialpad's `group_id` (a string such as `Office:123`; not a leg id).
    pub group: Option<String>,
    pub external_kind: NumberKind,
    pub internal_kind: NumberKind,
    /// `target.office_id`: the Dialpad office the call was routed in.
    pub target_office_id: Option<String>,
    /// `entry_point_target`: where an inbound call first dialled.
    pub entry_point_target: Option<Party>,
    pub entry_point_phone: Phone,
    pub entry_point_office_id: Option<String>,
    pub total_duration_ms: Option<i64>,
    pub talk_time_ms: Option<i64>,
    pub hold_time_ms: Option<i64>,
    /// `voicemail_link` (Call Events payload), else `voicemail_share_link` (`CallProto`).
    pub voicemail_link: Option<String>,
    /// `recording_details[].url` (`CallRecordingDetailsProto`) and `recording_url`.
    pub recording_urls: Vec<String>,
    /// `transcription_text` (`CallProto`).
    pub transcription_text: Option<String>,
    /// The AI recap's summary text of a `recap_summary` event (`recap_summary`, a string or
    /// an object with a `summary`/`text`/`content` string: the published schema does not
    /// name this field, so both shapes are read).
    pub recap_summary: Option<String>,
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

    /// The Dialpad office the call was routed in (`target.office_id`, else the entry point's):
    /// the store fallback when the dialled number is hidden.
    pub fn office_id(&self) -> Option<&str> {
        self.target_office_id
            .as_deref()
            .or(self.entry_point_office_id.as_deref())
    }

    /// The number the call entered on (`entry_point_target.phone`), when there is one.
    pub fn entry_number(&self) -> Option<&str> {
        match &self.entry_point_phone {
            Phone::Number(n) => Some(n),
            Phone::Withheld => None,
        }
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

/// An id as Dialpad sends it (an integer, kept exact) or a string of id characters.
fn id_value(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s)
            if !s.is_empty()
                && s.len() <= MAX_ID_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(s.clone())
        }
        _ => None,
    }
}

fn id_field(map: &Map<String, Value>, field: &str) -> Option<String> {
    id_value(map.get(field))
}

/// Epoch milliseconds or a duration in ms; fractions are cut, anything else is absent.
fn ms_value(v: Option<&Value>) -> Option<i64> {
    // Anything outside 0..year 3000 is not a call timestamp or duration.
    const MAX: i64 = 32_503_680_000_000;
    let v =
        match v? {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(i),
                None => n
                    .as_f64()
                    .filter(|f| f.is_finite() && (0.0..=MAX as f64).contains(f))
                    .map(|f| f as i64),
            },
            Value::String(s) => s.trim().parse::<f64>().ok().and_then(|f| {
                (f.is_finite() && (0.0..=MAX as f64).contains(&f)).then_some(f as i64)
            }),
            _ => None,
        }?;
    (0..=MAX).contains(&v).then_some(v)
}

fn ms_field(map: &Map<String, Value>, field: &str) -> Option<i64> {
    ms_value(map.get(field))
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

fn long_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => {
            Some(s.trim().chars().take(MAX_TEXT_CHARS).collect())
        }
        Value::Object(o) => ["summary", "text", "content"]
            .iter()
            .find_map(|k| long_text(o.get(*k))),
        _ => None,
    }
}

fn url_value(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = s.trim();
            ((s.starts_with("https://") || s.starts_with("http://"))
                && s.len() <= MAX_URL_LEN
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
            .then(|| s.to_string())
        }
        _ => None,
    }
}

fn party(map: &Map<String, Value>, field: &str) -> Option<Party> {
    let o = map.get(field)?.as_object()?;
    let p = Party {
        id: text_field(o.get("id")),
        name: text_field(o.get("name")),
        kind: text_field(o.get("type")),
    };
    (p.id.is_some() || p.name.is_some() || p.kind.is_some()).then_some(p)
}

/// A number field: never an error. What is not a phone number is kept as withheld.
fn phone_value(v: Option<&Value>) -> (Phone, NumberKind) {
    match v {
        None | Some(Value::Null) => (Phone::Withheld, NumberKind::Withheld),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("blocked") => {
            (Phone::Withheld, NumberKind::Withheld)
        }
        Some(Value::String(s)) => match phone::normalize(s) {
            Ok(Phone::Withheld) => (Phone::Withheld, NumberKind::Withheld),
            Ok(p) => (p, NumberKind::Number),
            Err(_) => (Phone::Withheld, NumberKind::Unusable),
        },
        Some(_) => (Phone::Withheld, NumberKind::Unusable),
    }
}

fn recording_urls(map: &Map<String, Value>) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    let details = map.get("recording_details").and_then(Value::as_array);
    let from_details = details
        .into_iter()
        .flatten()
        .filter_map(|d| url_value(d.as_object()?.get("url")));
    let single = match map.get("recording_url") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| url_value(Some(v))).collect(),
        v => url_value(v).into_iter().collect::<Vec<_>>(),
    };
    for u in from_details.chain(single) {
        if urls.len() < MAX_RECORDINGS && !urls.contains(&u) {
            urls.push(u);
        }
    }
    urls
}

/// Parses verified claims into a call event. Fails only without a usable `call_id`.
pub fn parse(claims: &Map<String, Value>) -> Result<CallEvent, EventError> {
    let call_id = match claims.get("call_id") {
        None | Some(Value::Null) => return Err(err("missing_call_id", "call_id")),
        v => id_value(v).ok_or(err("invalid_call_id", "call_id"))?,
    };
    let state = match claims.get("state") {
        // Exactly a state name, or `unknown`: a state is never guessed (a guessed `ringing`
        // would pop).
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= MAX_ID_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            s.clone()
        }
        _ => UNKNOWN_STATE.to_string(),
    };
    let direction = match claims.get("direction").and_then(Value::as_str) {
        Some("inbound") => Direction::Inbound,
        Some("outbound") => Direction::Outbound,
        _ => Direction::Unknown,
    };
    let date_connected = ms_field(claims, "date_connected");
    let (external, external_kind) = phone_value(claims.get("external_number"));
    let (internal, internal_kind) = phone_value(claims.get("internal_number"));
    let target_obj = claims.get("target").and_then(Value::as_object);
    let entry_obj = claims.get("entry_point_target").and_then(Value::as_object);
    let entry_point_phone = match entry_obj.map(|o| phone_value(o.get("phone"))) {
        Some((p, NumberKind::Number)) => p,
        _ => Phone::Withheld,
    };
    Ok(CallEvent {
        master_call_id: id_field(claims, "master_call_id"),
        entry_point_call_id: id_field(claims, "entry_point_call_id"),
        phase: classify(&state, date_connected),
        direction,
        external,
        internal,
        contact: party(claims, "contact"),
        target: party(claims, "target"),
        date_started: ms_field(claims, "date_started"),
        date_rang: ms_field(claims, "date_rang"),
        date_connected,
        date_ended: ms_field(claims, "date_ended"),
        event_timestamp: ms_field(claims, "event_timestamp"),
        duration_ms: ms_field(claims, "duration"),
        operator_call_id: id_field(claims, "operator_call_id"),
        group: text_field(claims.get("group_id")),
        external_kind,
        internal_kind,
        target_office_id: target_obj.and_then(|o| id_value(o.get("office_id"))),
        entry_point_target: party(claims, "entry_point_target"),
        entry_point_phone,
        entry_point_office_id: entry_obj.and_then(|o| id_value(o.get("office_id"))),
        total_duration_ms: ms_field(claims, "total_duration"),
        talk_time_ms: ms_field(claims, "talk_time"),
        hold_time_ms: ms_field(claims, "hold_time"),
        voicemail_link: url_value(claims.get("voicemail_link"))
            .or_else(|| url_value(claims.get("voicemail_share_link"))),
        recording_urls: recording_urls(claims),
        transcription_text: long_text(claims.get("transcription_text")),
        recap_summary: long_text(claims.get("recap_summary")),
        call_id,
        state,
    })
}

#[cfg(test)]
#[path = "dialpad_tests.rs"]
mod tests;
