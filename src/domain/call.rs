//! A call's id as every part of the product accepts it: the hub records it, the popup looks it
//! up, the wrap-up and the claim name it. One rule, so an id one part records is never refused
//! (or accepted and then never found) by another. Also a call's phases as the call log reads
//! them (live, over, missed), in Rust and as the one SQL fragment every query uses. Pure.

/// Longest call id: Dialpad's ids are integers (at most 20 digits); group keys and test ids
/// stay well within this.
pub const MAX_CALL_ID_LEN: usize = 64;

/// A call id as a client sent it: trimmed, 1 to [`MAX_CALL_ID_LEN`] bytes, no control
/// characters or spaces inside.
pub fn call_id(raw: &str) -> Option<&str> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= MAX_CALL_ID_LEN
        && !v.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(v)
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

/// The phases of a call the staff can still act on (it rings, they talk, it is on hold): the
/// call log's `rank` 1 (ringing) or 2 (connected or on hold). 3 is over, 0 never moves a call.
const LIVE_RANKS: (i64, i64) = (1, 2);

/// The phases that leave the caller unanswered: 不在着信 (missed) and 留守電 (voicemail). A
/// 不在着信 filter, a card's "missed in 30 days" and the callback list count exactly these.
pub const MISSED_PHASES: [Phase; 2] = [Phase::Missed, Phase::Voicemail];

/// Whether a call of the call log with this `rank` is still live.
pub fn is_live_rank(rank: i64) -> bool {
    (LIVE_RANKS.0..=LIVE_RANKS.1).contains(&rank)
}

/// Whether a call of the call log with this `rank` is over (ended, missed or voicemail).
pub fn is_over_rank(rank: i64) -> bool {
    rank > LIVE_RANKS.1
}

/// Whether a call log `phase` left the caller unanswered.
pub fn is_missed(phase: &str) -> bool {
    MISSED_PHASES.iter().any(|p| p.as_str() == phase)
}

/// `rank` of `calls` (under `alias`, "" for none) qualified.
fn column(alias: &str, name: &str) -> String {
    if alias.is_empty() {
        name.to_string()
    } else {
        format!("{alias}.{name}")
    }
}

/// SQL: the call (table `calls` under `alias`, "" for none) is live ([`is_live_rank`]).
pub fn live_sql(alias: &str) -> String {
    format!(
        "{} BETWEEN {} AND {}",
        column(alias, "rank"),
        LIVE_RANKS.0,
        LIVE_RANKS.1
    )
}

/// SQL: the call (table `calls` under `alias`, "" for none) left the caller unanswered
/// ([`is_missed`]).
pub fn missed_sql(alias: &str) -> String {
    let list: Vec<String> = MISSED_PHASES
        .iter()
        .map(|p| format!("'{}'", p.as_str()))
        .collect();
    format!("{} IN ({})", column(alias, "phase"), list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_PHASE: [Phase; 8] = [
        Phase::Ringing,
        Phase::Connected,
        Phase::Hold,
        Phase::Ended,
        Phase::Missed,
        Phase::Voicemail,
        Phase::PostCall,
        Phase::Other,
    ];

    #[test]
    fn live_and_over_follow_the_phases_ranks() {
        for p in EVERY_PHASE {
            if p.rank() > 0 {
                assert_eq!(is_live_rank(p.rank()), p.is_live(), "{p:?}");
                assert_eq!(is_over_rank(p.rank()), !p.is_live(), "{p:?}");
            }
        }
        // Rank 0 (post-call, unknown states) never moves a call: neither live nor over.
        assert!(!is_live_rank(0) && !is_over_rank(0));
        assert_eq!(live_sql("k"), "k.rank BETWEEN 1 AND 2");
        assert_eq!(live_sql(""), "rank BETWEEN 1 AND 2");
    }

    #[test]
    fn missed_is_one_list_in_rust_and_sql() {
        let missed: Vec<&str> = EVERY_PHASE
            .iter()
            .map(|p| p.as_str())
            .filter(|p| is_missed(p))
            .collect();
        assert_eq!(missed, ["missed", "voicemail"]);
        assert!(!is_missed("ended") && !is_missed("connected") && !is_missed("unknown"));
        assert_eq!(missed_sql("k"), "k.phase IN ('missed', 'voicemail')");
        assert_eq!(missed_sql(""), "phase IN ('missed', 'voicemail')");
        // Every phase the SQL names is one the Rust rule calls missed, and the other way round.
        for p in EVERY_PHASE {
            let quoted = format!("'{}'", p.as_str());
            assert_eq!(
                missed_sql("").contains(&quoted),
                is_missed(p.as_str()),
                "{p:?}"
            );
        }
    }

    #[test]
    fn one_rule_for_every_call_id() {
        assert_eq!(call_id(" 6342343299702784 "), Some("6342343299702784"));
        assert_eq!(
            call_id(&"9".repeat(MAX_CALL_ID_LEN)).map(str::len),
            Some(64)
        );
        assert_eq!(call_id(&"9".repeat(MAX_CALL_ID_LEN + 1)), None);
        assert_eq!(call_id(""), None);
        assert_eq!(call_id("12 34"), None);
        assert_eq!(call_id("12\n34"), None);
    }
}
