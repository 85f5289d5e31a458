//! Throttling rules. Pure: the Guard Durable Object stores the login counters and the hub keeps
//! each socket's message bucket in its attachment; this decides.
//!
//! Logins (fixed windows of attempts; an attempt is *reserved* before the password is hashed,
//! so parallel guesses cannot race past a limit, and a success clears its account key):
//! - per (account, client network): 5 attempts in 15 minutes. An attacker hammering from one
//!   network locks only that pair; the real user from their usual network is unaffected.
//! - per client network: 30 attempts in 15 minutes, so one client cannot spray many accounts.
//! - per account, from networks it never logged in from: 20 attempts in 15 minutes, so a botnet
//!   spread over many networks is slowed down; networks the account logged in from before (its
//!   usual ones, remembered 30 days) do not count against this budget, so nobody can lock the
//!   real user out.
//!
//! - per account, successful logins: 10 a minute (each is a session row; a loop of login and
//!   logout by one valid account is refused with 429 `rate_limited`).
//!
//! The counters of a network live in that network's guard object, those of an account in the
//! account's (`resources::accounts::guard`).
//!
//! A client network is an IPv4 address or an IPv6 /64 (one customer's prefix: a host can pick
//! any address in it).
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max_failures: i64,
    pub window_ms: i64,
}

const WINDOW_MS: i64 = 15 * 60 * 1000;

/// One account from one network.
pub const ACCOUNT: Rule = Rule {
    max_failures: 5,
    window_ms: WINDOW_MS,
};
/// One network, whatever the account.
pub const CLIENT: Rule = Rule {
    max_failures: 30,
    window_ms: WINDOW_MS,
};
/// One account, from networks it has not logged in from before.
pub const UNKNOWN_NETWORKS: Rule = Rule {
    max_failures: 20,
    window_ms: WINDOW_MS,
};
/// Successful logins of one account.
pub const SUCCESSES: Rule = Rule {
    max_failures: 10,
    window_ms: 60 * 1000,
};
/// How long a network where the account logged in stays "usual".
pub const KNOWN_NETWORK_MS: i64 = 30 * 24 * 3600 * 1000;

/// The client network of a `CF-Connecting-IP` value: the IPv4 address, or the /64 of an IPv6
/// address (IPv4-mapped IPv6 counts as IPv4). Anything unparseable is one shared network.
pub fn network(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => "unknown".into(),
    }
}

/// The Guard's counter keys for a login attempt: (account, network), network and, when the
/// network is not one of the account's usual ones, the account's unknown-network budget.
pub fn login_keys(account: &str, net: &str, known_network: bool) -> Vec<(String, Rule)> {
    let mut keys = vec![
        (format!("an:{account}|{net}"), ACCOUNT),
        (network_key(net), CLIENT),
    ];
    if !known_network {
        keys.push((format!("acct:{account}"), UNKNOWN_NETWORKS));
    }
    keys
}

/// The counter of a client network.
pub fn network_key(net: &str) -> String {
    format!("net:{net}")
}

/// The counter of an account's successful logins.
pub fn success_key(account: &str) -> String {
    format!("ok:{account}")
}

/// A stored counter: attempts since `window_start` (epoch ms).
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

/// The counter after one more attempt.
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

/// A token bucket for a socket's client messages (`sync` and anything else it sends): a
/// burst of `SOCKET_BURST`, refilled one token per `SOCKET_REFILL_MS`. A socket that runs dry
/// is closed, so a flood costs the hub one cheap check per message and then nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    /// Tokens left, in thousandths (so refills need no floats).
    #[serde(rename = "t")]
    pub milli_tokens: i64,
    /// When it was last updated (epoch ms); 0 = never (a full bucket).
    #[serde(rename = "at")]
    pub at: i64,
}

pub const SOCKET_BURST: i64 = 5;
pub const SOCKET_REFILL_MS: i64 = 2_000;
/// Largest message a console ever sends (`{"type":"sync","since":N}` is ~40 bytes).
pub const MAX_CLIENT_MESSAGE: usize = 512;
/// Most sockets one user may hold open at once (tabs, popups, devices).
pub const MAX_SOCKETS_PER_USER: usize = 10;

impl Bucket {
    /// Takes one token; `false` when the bucket is empty (the socket is flooding).
    pub fn take(&mut self, now: i64) -> bool {
        let full = SOCKET_BURST * 1000;
        let mut tokens = if self.at == 0 {
            full
        } else {
            let refill = (now - self.at).max(0) * 1000 / SOCKET_REFILL_MS;
            (self.milli_tokens + refill).min(full)
        };
        self.at = now;
        if tokens < 1000 {
            self.milli_tokens = tokens;
            return false;
        }
        tokens -= 1000;
        self.milli_tokens = tokens;
        true
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
    fn networks() {
        assert_eq!(network("203.0.113.9"), "203.0.113.9");
        assert_eq!(network(" 203.0.113.9 "), "203.0.113.9");
        assert_eq!(network("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            network("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
        assert_eq!(network("garbage"), "unknown");
        assert_eq!(network(""), "unknown");
    }

    #[test]
    fn keys_by_network() {
        let unknown = login_keys("admin", "203.0.113.9", false);
        assert_eq!(unknown.len(), 3);
        assert_eq!(unknown[0], ("an:admin|203.0.113.9".into(), ACCOUNT));
        assert_eq!(unknown[1], ("net:203.0.113.9".into(), CLIENT));
        assert_eq!(unknown[2], ("acct:admin".into(), UNKNOWN_NETWORKS));
        // A usual network does not spend the account's unknown-network budget.
        assert_eq!(login_keys("admin", "203.0.113.9", true).len(), 2);
        const { assert!(CLIENT.max_failures > ACCOUNT.max_failures) };
    }

    #[test]
    fn successful_logins_have_a_budget_per_minute() {
        let mut w = None;
        for _ in 0..SUCCESSES.max_failures {
            assert_eq!(retry_after(w, SUCCESSES, 5_000), None);
            w = Some(record_failure(w, SUCCESSES, 5_000));
        }
        assert_eq!(retry_after(w, SUCCESSES, 5_000), Some(60));
        assert_eq!(retry_after(w, SUCCESSES, 65_000), None);
        assert_eq!(success_key("admin"), "ok:admin");
        assert_eq!(network_key("203.0.113.9"), "net:203.0.113.9");
    }

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let mut b = Bucket::default();
        for _ in 0..SOCKET_BURST {
            assert!(b.take(10_000));
        }
        assert!(!b.take(10_000));
        assert!(!b.take(10_000 + SOCKET_REFILL_MS - 1));
        assert!(b.take(10_000 + 2 * SOCKET_REFILL_MS));
        assert!(!b.take(10_000 + 2 * SOCKET_REFILL_MS));
        // Never more than the burst, however long it rested.
        let mut rested = b;
        assert!((0..SOCKET_BURST).all(|_| rested.take(10_000_000)));
        assert!(!rested.take(10_000_000));
    }
}
