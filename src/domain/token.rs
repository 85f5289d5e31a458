//! JWT verification and issuing (HS256 only). Pure: callers pass the current time, so every
//! rejection path is unit-tested with a fixed clock.
//!
//! Two kinds of token pass through here:
//! - Dialpad webhooks: a webhook created with a secret sends each event as a compact JWT signed
//!   HS256 with that secret; the whole request body is the token and its claims are the event.
//! - Console sessions: issued at login, signed with `JWT_SECRET`.
use chrono::DateTime;
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken, ValidationError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Dialpad events are a few KiB; anything much larger is not an event.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;
/// Clock skew tolerated on `exp`/`nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// An `iat` further ahead than this was not issued by a sender with a sane clock.
pub const MAX_IAT_AHEAD_SECS: i64 = 300;
/// Session lifetime of a staff account (a store PC): 30 days, cut short by the idle timeout.
pub const SESSION_TTL_SECS: i64 = 30 * 24 * 3600;
/// Session lifetime of an admin account: 12 hours, whatever the activity.
pub const ADMIN_SESSION_TTL_SECS: i64 = 12 * 3600;
/// Default idle timeout (`SESSION_IDLE_MINUTES`): a store PC left logged in overnight asks
/// again the next morning.
pub const DEFAULT_IDLE_SECS: i64 = 12 * 3600;
/// A session's `last_seen` is written at most this often (so activity costs no write per
/// request); a shorter idle timeout refreshes at a tenth of it.
pub const TOUCH_EVERY_SECS: i64 = 5 * 60;
/// Most live sessions per user: the 21st login evicts the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

/// How long a session of `role` lasts at most.
pub fn session_ttl(role: Role) -> i64 {
    match role {
        Role::Admin => ADMIN_SESSION_TTL_SECS,
        Role::AreaManager | Role::Staff | Role::Reception => SESSION_TTL_SECS,
    }
}

/// The idle timeout from the variables: `SESSION_IDLE_SECS` (tests) wins over
/// `SESSION_IDLE_MINUTES`; missing, unparseable or not positive means the default.
pub fn idle_secs(idle_secs_var: Option<&str>, idle_minutes_var: Option<&str>) -> i64 {
    let parse = |v: Option<&str>| {
        v.and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
    };
    parse(idle_secs_var)
        .or_else(|| parse(idle_minutes_var).map(|m| m.saturating_mul(60)))
        .unwrap_or(DEFAULT_IDLE_SECS)
}

/// What a request does with its session's `last_seen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Used recently enough: nothing to write.
    Fresh,
    /// Still live, but `last_seen` is old enough to be refreshed now.
    Touch,
    /// Unused for longer than the idle timeout: the session is over.
    Expired,
}

pub fn idle_state(last_seen: i64, now_secs: i64, idle: i64) -> Idle {
    let since = now_secs - last_seen;
    if since >= idle {
        Idle::Expired
    } else if since >= (idle / 10).clamp(1, TOUCH_EVERY_SECS) {
        Idle::Touch
    } else {
        Idle::Fresh
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url segments, or an unreadable header.
    Malformed,
    /// `alg` other than HS256 (`none`, RS256, HS512, …).
    UnsupportedAlg,
    BadSignature,
    /// Signature fine, but the claims are not a JSON object of the expected shape.
    MalformedClaims,
    Expired,
    NotYetValid,
    IssuedInFuture,
    /// A session token without `exp`: every session must end.
    MissingExpiry,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed_token",
            TokenError::UnsupportedAlg => "unsupported_alg",
            TokenError::BadSignature => "bad_signature",
            TokenError::MalformedClaims => "malformed_claims",
            TokenError::Expired => "token_expired",
            TokenError::NotYetValid => "token_not_yet_valid",
            TokenError::IssuedInFuture => "iat_in_future",
            TokenError::MissingExpiry => "token_missing_exp",
        }
    }
}

fn verify<T: DeserializeOwned>(
    token: &str,
    secret: &[u8],
    now_secs: i64,
) -> Result<Claims<T>, TokenError> {
    let untrusted = UntrustedToken::new(token.trim()).map_err(|_| TokenError::Malformed)?;
    // Checked before anything else so `alg: none` and asymmetric algorithms never reach a
    // verifier (the classic JWT algorithm-confusion attacks).
    if untrusted.algorithm() != "HS256" {
        return Err(TokenError::UnsupportedAlg);
    }
    let key = Hs256Key::new(secret);
    let token = Hs256
        .validator::<T>(&key)
        .validate(&untrusted)
        .map_err(|e| match e {
            ValidationError::MalformedClaims(_) => TokenError::MalformedClaims,
            ValidationError::AlgorithmMismatch { .. } => TokenError::UnsupportedAlg,
            _ => TokenError::BadSignature,
        })?;
    let (_, claims) = token.into_parts();
    if let Some(exp) = claims.expiration {
        if exp.timestamp() + LEEWAY_SECS < now_secs {
            return Err(TokenError::Expired);
        }
    }
    if let Some(nbf) = claims.not_before {
        if nbf.timestamp() > now_secs + LEEWAY_SECS {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(iat) = claims.issued_at {
        if iat.timestamp() > now_secs + MAX_IAT_AHEAD_SECS {
            return Err(TokenError::IssuedInFuture);
        }
    }
    Ok(claims)
}

/// Verifies a Dialpad webhook body and returns its claims (the call event) as JSON.
pub fn verify_webhook(
    body: &str,
    secret: &[u8],
    now_secs: i64,
) -> Result<serde_json::Map<String, serde_json::Value>, TokenError> {
    verify::<serde_json::Map<String, serde_json::Value>>(body, secret, now_secs).map(|c| c.custom)
}

/// What an account is (`domain::access` decides what each may do; the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 管理者: everything.
    Admin,
    /// エリアマネージャー: their stores' customers, calls, callbacks and reports; no accounts,
    /// stores or settings.
    AreaManager,
    /// スタッフ: their stores.
    Staff,
    /// 受付センター: live calls and pops of every store; a customer only while handling their
    /// call or through the callback list.
    Reception,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::AreaManager, Role::Staff, Role::Reception];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::AreaManager => "area_manager",
            Role::Staff => "staff",
            Role::Reception => "reception",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// The console's name for the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::AreaManager => "エリアマネージャー",
            Role::Staff => "スタッフ",
            Role::Reception => "受付センター",
        }
    }
    /// What `users.role` stores (its CHECK allows `admin` and `staff` only; the finer role is
    /// `users.org_role`, migration 0019): `admin` for an admin, `staff` for everyone else.
    pub fn base(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            _ => "staff",
        }
    }
    /// `users.org_role` for the role (None: the base role says it all).
    pub fn org_role(self) -> Option<&'static str> {
        match self {
            Role::AreaManager | Role::Reception => Some(self.as_str()),
            Role::Admin | Role::Staff => None,
        }
    }
}

/// Claims of a console session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// users.id
    pub uid: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    /// The account's first store (`users.store_id`): where their new records go when they
    /// name none. Admins see every store and may have none.
    #[serde(default)]
    pub store: Option<i64>,
    /// Every store the account belongs to (`user_stores`, migration 0019), `store` included.
    #[serde(default)]
    pub stores: Vec<i64>,
    /// users.token_version at issue time; bumping it (password reset, disable, role or store
    /// change, "log out everywhere") revokes every token of the user.
    pub tv: i64,
    /// The session's row in D1 (`sessions.id`); deleting it (logout) revokes this token only.
    /// Tokens from before sessions were stored have none and are refused.
    #[serde(default)]
    pub sid: String,
}

impl Session {
    /// The account's stores: `stores` and `store` together, ascending, without duplicates
    /// (a token or row written before `user_stores` existed carries `store` alone).
    pub fn store_set(&self) -> Vec<i64> {
        store_set(self.stores.iter().copied().chain(self.store))
    }
}

/// A set of store ids: ascending, without duplicates (an account's stores, a viewer's). Built
/// by sorted insertion rather than `sort_unstable` + `dedup`: a set holds a handful of stores,
/// and the pop Worker links no general sort for it (docs/benchmarks.md, "Pop module size,
/// trimmed").
pub fn store_set(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut set = Vec::new();
    for id in ids {
        if let Err(at) = set.binary_search(&id) {
            set.insert(at, id);
        }
    }
    set
}

pub fn issue_session(session: &Session, secret: &[u8], now_secs: i64) -> String {
    let mut claims = Claims::new(session.clone());
    claims.expiration = DateTime::from_timestamp(now_secs + session_ttl(session.role), 0);
    claims.issued_at = DateTime::from_timestamp(now_secs, 0);
    Hs256
        .token(&Header::empty(), &claims, &Hs256Key::new(secret))
        .expect("serialising a Session cannot fail")
}

/// Verifies a session token; returns the session and its expiry (epoch seconds).
pub fn verify_session(
    token: &str,
    secret: &[u8],
    now_secs: i64,
) -> Result<(Session, i64), TokenError> {
    let claims = verify::<Session>(token, secret, now_secs)?;
    let exp = claims.expiration.ok_or(TokenError::MissingExpiry)?;
    Ok((claims.custom, exp.timestamp()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub const SECRET: &[u8] = b"test-webhook-secret";
    pub const NOW: i64 = 1_764_000_000;

    #[test]
    fn a_store_set_is_ascending_without_duplicates() {
        assert_eq!(store_set([]), Vec::<i64>::new());
        assert_eq!(store_set([5, 3, 5, 1, 3, 9, 1]), vec![1, 3, 5, 9]);
        // As the sort and dedup it replaces, for any input.
        for input in [vec![2, 2, 2], vec![9, 8, 7, 6], vec![-1, 4, 0, 4, -1]] {
            let mut want = input.clone();
            want.sort_unstable();
            want.dedup();
            assert_eq!(store_set(input), want);
        }
    }

    fn b64(bytes: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..=chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// Signs arbitrary header/claims JSON with HS256 (any `alg` text), for hostile cases.
    pub fn sign_raw(header: &str, claims: &str, secret: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
    }

    pub fn sign(claims: &serde_json::Value) -> String {
        sign_raw(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &claims.to_string(),
            SECRET,
        )
    }

    fn event() -> serde_json::Value {
        json!({"call_id": 1, "state": "ringing"})
    }

    #[test]
    fn accepts_a_valid_webhook() {
        let claims = verify_webhook(&sign(&event()), SECRET, NOW).unwrap();
        assert_eq!(claims["state"], "ringing");
        // Surrounding whitespace (a trailing newline from some HTTP clients) is tolerated.
        let padded = format!("  {}\n", sign(&event()));
        assert!(verify_webhook(&padded, SECRET, NOW).is_ok());
    }

    #[test]
    fn accepts_tokens_built_by_jwt_compact_itself() {
        let claims = Claims::new(event().as_object().unwrap().clone());
        let t = Hs256
            .token(&Header::empty(), &claims, &Hs256Key::new(SECRET))
            .unwrap();
        assert!(verify_webhook(&t, SECRET, NOW).is_ok());
    }

    #[test]
    fn rejects_each_bad_token() {
        let c = event().to_string();
        let cases: Vec<(String, TokenError)> = vec![
            (
                sign_raw(r#"{"alg":"HS256"}"#, &c, b"another-secret"),
                TokenError::BadSignature,
            ),
            (
                format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(c.as_bytes())),
                TokenError::UnsupportedAlg,
            ),
            (
                sign_raw(r#"{"alg":"none"}"#, &c, SECRET),
                TokenError::UnsupportedAlg,
            ),
            (
                sign_raw(r#"{"alg":"RS256"}"#, &c, SECRET),
                TokenError::UnsupportedAlg,
            ),
            (
                sign_raw(r#"{"alg":"HS512"}"#, &c, SECRET),
                TokenError::UnsupportedAlg,
            ),
            (
                sign_raw(r#"{"alg":"hs256"}"#, &c, SECRET),
                TokenError::UnsupportedAlg,
            ),
            ("not a token".into(), TokenError::Malformed),
            ("a.b".into(), TokenError::Malformed),
            ("".into(), TokenError::Malformed),
            (format!("{}.x", sign(&event())), TokenError::Malformed),
            ("!!!.@@@.###".into(), TokenError::Malformed),
            (sign_raw("not json", &c, SECRET), TokenError::Malformed),
            (
                sign_raw(r#"{"alg":"HS256"}"#, "not json", SECRET),
                TokenError::MalformedClaims,
            ),
            (
                sign_raw(r#"{"alg":"HS256"}"#, "[1,2]", SECRET),
                TokenError::MalformedClaims,
            ),
            (
                sign_raw(r#"{"alg":"HS256"}"#, r#"{"exp":"soon"}"#, SECRET),
                TokenError::MalformedClaims,
            ),
        ];
        for (token, want) in cases {
            assert_eq!(
                verify_webhook(&token, SECRET, NOW).unwrap_err(),
                want,
                "{token}"
            );
        }
        // A flipped signature byte.
        let mut t = sign(&event());
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            verify_webhook(&t, SECRET, NOW).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn time_claims() {
        let with = |extra: serde_json::Value| {
            let mut e = event();
            e.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            verify_webhook(&sign(&e), SECRET, NOW)
        };
        assert_eq!(
            with(json!({"exp": NOW - 3600})).unwrap_err(),
            TokenError::Expired
        );
        assert!(with(json!({"exp": NOW - 30})).is_ok(), "within leeway");
        assert!(with(json!({"exp": NOW + 60})).is_ok());
        assert_eq!(
            with(json!({"nbf": NOW + 3600})).unwrap_err(),
            TokenError::NotYetValid
        );
        assert_eq!(
            with(json!({"iat": NOW + 86400})).unwrap_err(),
            TokenError::IssuedInFuture
        );
        assert!(with(json!({"iat": NOW - 10})).is_ok());
    }

    #[test]
    fn admin_sessions_are_shorter_and_idle_sessions_end() {
        assert!(session_ttl(Role::Admin) < session_ttl(Role::Staff));
        assert_eq!(session_ttl(Role::Admin), 12 * 3600);
        assert_eq!(idle_secs(None, None), DEFAULT_IDLE_SECS);
        assert_eq!(idle_secs(None, Some("30")), 1800);
        assert_eq!(idle_secs(Some("3"), Some("30")), 3);
        assert_eq!(idle_secs(Some("0"), Some("x")), DEFAULT_IDLE_SECS);
        let idle = 12 * 3600;
        assert_eq!(idle_state(NOW, NOW, idle), Idle::Fresh);
        assert_eq!(idle_state(NOW, NOW + 299, idle), Idle::Fresh);
        assert_eq!(idle_state(NOW, NOW + 300, idle), Idle::Touch);
        assert_eq!(idle_state(NOW, NOW + idle - 1, idle), Idle::Touch);
        assert_eq!(idle_state(NOW, NOW + idle, idle), Idle::Expired);
        // A short timeout (tests) refreshes at least every second.
        assert_eq!(idle_state(NOW, NOW + 1, 3), Idle::Touch);
        assert_eq!(idle_state(NOW, NOW + 3, 3), Idle::Expired);
        let admin = Session {
            uid: 1,
            login: "a".into(),
            name: "a".into(),
            role: Role::Admin,
            store: None,
            stores: vec![],
            tv: 0,
            sid: "0123456789abcdef0123456789abcdef".into(),
        };
        let t = issue_session(&admin, b"jwt", NOW);
        assert_eq!(verify_session(&t, b"jwt", NOW).unwrap().1, NOW + 12 * 3600);
    }

    #[test]
    fn deeply_nested_claims_are_refused_not_a_crash() {
        let nested = format!(
            r#"{{"call_id":1,"x":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let t = sign_raw(r#"{"alg":"HS256"}"#, &nested, SECRET);
        assert_eq!(
            verify_webhook(&t, SECRET, NOW).unwrap_err(),
            TokenError::MalformedClaims
        );
    }

    #[test]
    fn roles_round_trip_through_their_names_and_columns() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
            // What `coalesce(org_role, role)` reads back.
            assert_eq!(Role::parse(r.org_role().unwrap_or(r.base())), Some(r));
        }
        assert_eq!(Role::parse("manager"), None);
        assert_eq!(Role::AreaManager.base(), "staff");
    }

    #[test]
    fn session_round_trip_and_expiry() {
        let s = Session {
            uid: 7,
            login: "nishi".into(),
            name: "西船橋スタッフ".into(),
            role: Role::Staff,
            store: Some(1),
            stores: vec![1, 4],
            tv: 0,
            sid: "0123456789abcdef0123456789abcdef".into(),
        };
        let t = issue_session(&s, b"jwt", NOW);
        let (back, exp) = verify_session(&t, b"jwt", NOW + 10).unwrap();
        assert_eq!(back, s);
        assert_eq!(exp, NOW + SESSION_TTL_SECS);
        assert_eq!(
            verify_session(&t, b"jwt", NOW + SESSION_TTL_SECS + 3600).unwrap_err(),
            TokenError::Expired
        );
        assert_eq!(
            verify_session(&t, b"other", NOW).unwrap_err(),
            TokenError::BadSignature
        );
        // A webhook-style token without exp is not a session.
        let no_exp = sign_raw(
            r#"{"alg":"HS256"}"#,
            &serde_json::to_string(&s).unwrap(),
            b"jwt",
        );
        assert_eq!(
            verify_session(&no_exp, b"jwt", NOW).unwrap_err(),
            TokenError::MissingExpiry
        );
        // A call event signed with the session secret does not parse as a session.
        let ev = sign_raw(r#"{"alg":"HS256"}"#, &event().to_string(), b"jwt");
        assert_eq!(
            verify_session(&ev, b"jwt", NOW).unwrap_err(),
            TokenError::MalformedClaims
        );
    }
}
