//! Guard: the Durable Object that throttles logins (one per tenant). Its SQLite storage
//! survives eviction, and a single object handles one request at a time, so reserving an
//! attempt is atomic: the Worker reserves *before* hashing the password, and 40 parallel
//! guesses against one account get at most 5 evaluations, the rest 429 at once.
//! The rules (keys, limits, networks) are `domain::limiter`'s.
use crate::domain::error::ApiError;
use crate::domain::limiter::{self, Rule, Window};
use crate::platform::http::{self, ApiResult};
use crate::platform::stub;
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

#[derive(Serialize, Deserialize)]
struct Attempt {
    account: String,
    network: String,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    retry_after: Option<u32>,
}

async fn call(env: &Env, path: &str, account: &str, network: &str) -> ApiResult<Verdict> {
    let guard = stub::object(env, "GUARD")?;
    let attempt = Attempt {
        account: account.to_lowercase(),
        network: network.to_string(),
    };
    stub::post(&guard, path, &attempt).await
}

/// Reserves one login attempt for `account` from `network`, or refuses with 429 when a limit
/// is reached. The attempt counts as a failure until `succeeded` says otherwise.
pub async fn reserve(env: &Env, account: &str, network: &str) -> ApiResult<()> {
    match call(env, "/reserve", account, network).await?.retry_after {
        Some(secs) => Err(ApiError::RateLimited(secs)),
        None => Ok(()),
    }
}

/// The attempt succeeded: clears the (account, network) counter and remembers the network as
/// one of the account's usual ones.
pub async fn succeeded(env: &Env, account: &str, network: &str) -> ApiResult<()> {
    call(env, "/success", account, network).await.map(|_| ())
}

#[cfg_attr(feature = "console", durable_object)]
pub struct Guard {
    state: State,
}

#[derive(Deserialize)]
struct Row {
    window_start: i64,
    failures: i64,
}

impl Guard {
    fn load(&self, key: &str) -> worker::Result<Option<Window>> {
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT window_start, failures FROM attempts WHERE key = ?",
                vec![key.into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().map(|r| Window {
            window_start: r.window_start,
            failures: r.failures,
        }))
    }

    fn known(&self, a: &Attempt, now: i64) -> worker::Result<bool> {
        #[derive(Deserialize)]
        struct K {
            #[allow(dead_code)]
            seen: i64,
        }
        let rows: Vec<K> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT seen FROM known WHERE account = ? AND network = ? AND seen > ?",
                vec![
                    a.account.as_str().into(),
                    a.network.as_str().into(),
                    (now - limiter::KNOWN_NETWORK_MS).into(),
                ],
            )?
            .to_array()?;
        Ok(!rows.is_empty())
    }

    fn reserve(&self, a: &Attempt, now: i64) -> ApiResult<Verdict> {
        let keys: Vec<(String, Rule)> =
            limiter::login_keys(&a.account, &a.network, self.known(a, now)?);
        let mut retry: Option<u32> = None;
        for (key, rule) in &keys {
            if let Some(s) = limiter::retry_after(self.load(key)?, *rule, now) {
                retry = Some(retry.map_or(s, |r| r.max(s)));
            }
        }
        if retry.is_some() {
            // Refused attempts are not counted: they cost nothing, and counting them would let
            // an attacker extend a lock forever.
            return Ok(Verdict { retry_after: retry });
        }
        let sql = self.state.storage().sql();
        for (key, rule) in &keys {
            let w = limiter::record_failure(self.load(key)?, *rule, now);
            sql.exec(
                "INSERT INTO attempts (key, window_start, failures) VALUES (?, ?, ?) \
                 ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, \
                 failures = excluded.failures",
                vec![
                    key.as_str().into(),
                    w.window_start.into(),
                    w.failures.into(),
                ],
            )?;
        }
        // Old windows are worthless: drop them so the table stays small.
        sql.exec(
            "DELETE FROM attempts WHERE window_start < ?",
            vec![(now - limiter::CLIENT.window_ms.max(limiter::ACCOUNT.window_ms)).into()],
        )?;
        Ok(Verdict { retry_after: None })
    }

    fn success(&self, a: &Attempt, now: i64) -> ApiResult<Verdict> {
        let sql = self.state.storage().sql();
        // The reservation was no failure after all: the (account, network) counter starts
        // afresh, and the attempt is handed back to the network's and the account's budgets.
        let keys = limiter::login_keys(&a.account, &a.network, self.known(a, now)?);
        sql.exec(
            "DELETE FROM attempts WHERE key = ?",
            vec![keys[0].0.as_str().into()],
        )?;
        for (key, _) in &keys[1..] {
            sql.exec(
                "UPDATE attempts SET failures = max(failures - 1, 0) WHERE key = ?",
                vec![key.as_str().into()],
            )?;
        }
        sql.exec(
            "INSERT INTO known (account, network, seen) VALUES (?, ?, ?) \
             ON CONFLICT (account, network) DO UPDATE SET seen = excluded.seen",
            vec![
                a.account.as_str().into(),
                a.network.as_str().into(),
                now.into(),
            ],
        )?;
        sql.exec(
            "DELETE FROM known WHERE seen < ?",
            vec![(now - limiter::KNOWN_NETWORK_MS).into()],
        )?;
        Ok(Verdict { retry_after: None })
    }
}

#[cfg(feature = "console")]
impl DurableObject for Guard {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, \
             failures INTEGER NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS known (account TEXT NOT NULL, network TEXT NOT NULL, \
             seen INTEGER NOT NULL, PRIMARY KEY (account, network))",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = async {
            let a: Attempt = http::read_json(&mut req, 4096).await?;
            let now = http::now_ms();
            let verdict = match path.as_str() {
                "/reserve" => self.reserve(&a, now)?,
                "/success" => self.success(&a, now)?,
                _ => return Err(ApiError::NotFound),
            };
            Ok(http::json_response(200, &verdict)?)
        }
        .await;
        http::respond(result)
    }
}
