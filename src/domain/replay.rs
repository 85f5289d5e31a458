//! The replay window for webhook events. Pure.
//!
//! A signed token stays valid for as long as its secret does, so anyone who captured one could
//! send it again and pop a window for a call long over. Dialpad stamps every event with
//! `event_timestamp` (epoch ms) and delivers it at once, retrying within about 15 seconds; an
//! event older than [`MAX_AGE_MS`] or more than [`MAX_AHEAD_MS`] ahead of our clock is
//! therefore not a delivery but a replay (or a sender with a broken clock), and is refused.
//! The dedupe keys (`call_events`, kept at least [`MAX_AGE_MS`] whatever the call-log
//! retention) cover everything inside the window.
use serde_json::{Map, Value};

pub const MAX_AGE_MS: i64 = 15 * 60 * 1000;
pub const MAX_AHEAD_MS: i64 = 2 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    TooOld,
    FromTheFuture,
}

impl Replay {
    pub fn code(self) -> &'static str {
        match self {
            Replay::TooOld => "stale_event",
            Replay::FromTheFuture => "event_from_future",
        }
    }
}

/// When the event happened, as the sender says: `event_timestamp` (ms), else `iat` (s).
pub fn stamped_at(claims: &Map<String, Value>) -> Option<i64> {
    let ms = claims
        .get("event_timestamp")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite());
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .map(|s| s * 1000.0);
    ms.or(iat).map(|v| v as i64)
}

/// Inside the window, or no stamp at all (then only the dedupe keys stand between a replay and
/// a second pop: Dialpad always stamps its events).
pub fn check(claims: &Map<String, Value>, now_ms: i64) -> Result<(), Replay> {
    match stamped_at(claims) {
        Some(t) if t < now_ms - MAX_AGE_MS => Err(Replay::TooOld),
        Some(t) if t > now_ms + MAX_AHEAD_MS => Err(Replay::FromTheFuture),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_764_000_000_000;

    fn at(v: Value) -> Map<String, Value> {
        json!({"call_id": 1, "state": "ringing", "event_timestamp": v})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn window_edges() {
        assert_eq!(check(&at(json!(NOW)), NOW), Ok(()));
        assert_eq!(check(&at(json!(NOW - MAX_AGE_MS)), NOW), Ok(()));
        assert_eq!(
            check(&at(json!(NOW - MAX_AGE_MS - 1)), NOW),
            Err(Replay::TooOld)
        );
        assert_eq!(check(&at(json!(NOW + MAX_AHEAD_MS)), NOW), Ok(()));
        assert_eq!(
            check(&at(json!(NOW + MAX_AHEAD_MS + 1)), NOW),
            Err(Replay::FromTheFuture)
        );
        // Fractional milliseconds, as some payloads carry.
        assert_eq!(check(&at(json!((NOW as f64) - 0.5)), NOW), Ok(()));
    }

    #[test]
    fn falls_back_to_iat_and_tolerates_no_stamp() {
        let mut c = at(Value::Null);
        assert_eq!(check(&c, NOW), Ok(()));
        c.insert("iat".into(), json!((NOW - MAX_AGE_MS - 60_000) / 1000));
        assert_eq!(check(&c, NOW), Err(Replay::TooOld));
        c.insert("event_timestamp".into(), json!("yesterday"));
        assert_eq!(
            check(&c, NOW),
            Err(Replay::TooOld),
            "an unreadable stamp falls back to iat"
        );
    }
}
