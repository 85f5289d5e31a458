//! Login throttling rules (fixed windows of failures). Pure: the Guard Durable Object stores
//! the counters; this decides.
//!
//! Per account: 5 failed logins in 15 minutes lock that login id until the window ends, so a
//! password cannot be guessed online. Per client IP: 30 failures in 15 minutes, so one client
//! cannot spray many accounts. A successful login clears the account's counter.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max_failures: i64,
    pub window_ms: i64,
}

pub const ACCOUNT: Rule = Rule {
    max_failures: 5,
    window_ms: 15 * 60 * 1000,
};
pub const CLIENT: Rule = Rule {
    max_failures: 30,
    window_ms: 15 * 60 * 1000,
};

pub fn rule_for(key: &str) -> Rule {
    if key.starts_with("ip:") {
        CLIENT
    } else {
        ACCOUNT
    }
}

/// A stored counter: failures since `window_start` (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub window_start: i64,
    pub failures: i64,
}

/// Seconds to wait before trying again, or `None` when an attempt is allowed now.
pub fn retry_after(w: Option<Window>, rule: Rule, now: i64) -> Option<u32> {
    let w = w?;
    let ends = w.window_start + rule.window_ms;
    (now < ends && w.failures >= rule.max_failures).then(|| ((ends - now + 999) / 1000) as u32)
}

/// The counter after one more failure.
pub fn record_failure(w: Option<Window>, rule: Rule, now: i64) -> Window {
    match w {
        Some(w) if now < w.window_start + rule.window_ms => Window {
            failures: w.failures + 1,
            ..w
        },
        _ => Window {
            window_start: now,
            failures: 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_until_the_window_ends() {
        let mut w = None;
        for _ in 0..ACCOUNT.max_failures {
            assert_eq!(retry_after(w, ACCOUNT, 1_000), None);
            w = Some(record_failure(w, ACCOUNT, 1_000));
        }
        assert_eq!(retry_after(w, ACCOUNT, 1_000), Some(900));
        assert_eq!(
            retry_after(w, ACCOUNT, 1_000 + ACCOUNT.window_ms - 1),
            Some(1)
        );
        assert_eq!(retry_after(w, ACCOUNT, 1_000 + ACCOUNT.window_ms), None);
        // A failure after the window starts a new one.
        let fresh = record_failure(w, ACCOUNT, 1_000 + ACCOUNT.window_ms);
        assert_eq!(fresh.failures, 1);
    }

    #[test]
    fn rules_by_key() {
        assert_eq!(rule_for("ip:203.0.113.9"), CLIENT);
        assert_eq!(rule_for("acct:admin"), ACCOUNT);
        const { assert!(CLIENT.max_failures > ACCOUNT.max_failures) };
    }
}
