//! Guard: the Durable Objects that throttle logins. One object per client network and one per
//! account (named `<tenant>/net:<network>` and `<tenant>/acct:<login id>`), so the guard scales
//! with the accounts and networks instead of one object seeing every attempt of the business,
//! and each object's table holds only its own few counters (looked up by primary key). Their
//! SQLite storage survives eviction, and an object handles one request at a time, so reserving
//! an attempt is atomic: the Worker reserves (network first, then account) *before* hashing the
//! password, and 40 parallel guesses against one account get at most 5 evaluations, the rest
//! 429 at once. A botnet spraying one password over every account is slowed per network (each
//! network object) and per account (each account object's unknown-network budget).
//! The rules (keys, limits, networks) are `domain::limiter`'s.
use crate::db::guard as db_guard;
use crate::domain::error::ApiError;
use crate::domain::limiter::{self, Rule, Window};
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use crate::platform::stub;
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

/// Which of the two objects an attempt is asked of.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum Scope {
    Network,
    Account,
}

#[derive(Serialize, Deserialize)]
struct Attempt {
    scope: Scope,
    account: String,
    network: String,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    retry_after: Option<u32>,
}

/// The name of the guard object for `scope` (see the module's doc).
fn object_name(tenant: &str, scope: Scope, account: &str, network: &str) -> String {
    match scope {
        Scope::Network => format!("{tenant}/net:{network}"),
        Scope::Account => format!("{tenant}/acct:{account}"),
    }
}

async fn call(
    env: &Env,
    path: &str,
    scope: Scope,
    account: &str,
    network: &str,
) -> ApiResult<Verdict> {
    let account = account.to_lowercase();
    let name = object_name(&stub::tenant(env), scope, &account, network);
    let guard = stub::named(env, "GUARD", &name)?;
    let attempt = Attempt {
        scope,
        account,
        network: network.to_string(),
    };
    stub::post(&guard, path, &attempt).await
}

fn verdict(v: Verdict) -> ApiResult<()> {
    match v.retry_after {
        Some(secs) => Err(ApiError::RateLimited(secs)),
        None => Ok(()),
    }
}

/// Reserves one login attempt for `account` from `network` (the network's object first, so a
/// network spraying many accounts is stopped before it reaches theirs), or refuses with 429
/// when a limit is reached. The attempt counts as a failure until `succeeded` says otherwise.
pub async fn reserve(env: &Env, account: &str, network: &str) -> ApiResult<()> {
    verdict(call(env, "/reserve", Scope::Network, account, network).await?)?;
    verdict(call(env, "/reserve", Scope::Account, account, network).await?)
}

/// The attempt succeeded: clears the (account, network) counter, remembers the network as one
/// of the account's usual ones and hands the attempt back to the network's budget. Refuses
/// with 429 when the account had `limiter::SUCCESSES` successful logins in the last minute
/// (no session is made then).
pub async fn succeeded(env: &Env, account: &str, network: &str) -> ApiResult<()> {
    let account_verdict = call(env, "/success", Scope::Account, account, network).await?;
    call(env, "/success", Scope::Network, account, network).await?;
    verdict(account_verdict)
}

#[cfg_attr(feature = "console", durable_object)]
pub struct Guard {
    state: State,
}

/// Runs one of the guard's statements (`db::guard`) on this object's storage.
fn exec(sql: &worker::SqlStorage, stmt: &Stmt) -> worker::Result<worker::SqlCursor> {
    stmt.exec(sql)
}

impl Guard {
    fn load(&self, key: &str) -> worker::Result<Option<Window>> {
        let rows: Vec<db_guard::WindowRow> =
            exec(&self.state.storage().sql(), &db_guard::window(key))?.to_array()?;
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
        let rows: Vec<K> = exec(
            &self.state.storage().sql(),
            &db_guard::known(&a.account, &a.network, now - limiter::KNOWN_NETWORK_MS),
        )?
        .to_array()?;
        Ok(!rows.is_empty())
    }

    /// This object's counters for an attempt: the network's, or the account's (the
    /// (account, network) pair and, from an unusual network, the account's budget).
    fn keys(&self, a: &Attempt, now: i64) -> worker::Result<Vec<(String, Rule)>> {
        let known = a.scope == Scope::Account && self.known(a, now)?;
        let all = limiter::login_keys(&a.account, &a.network, known);
        Ok(all
            .into_iter()
            .filter(|(key, _)| (a.scope == Scope::Network) == key.starts_with("net:"))
            .collect())
    }

    fn reserve(&self, a: &Attempt, now: i64) -> ApiResult<Verdict> {
        let keys: Vec<(String, Rule)> = self.keys(a, now)?;
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
            self.put(key, limiter::record_failure(self.load(key)?, *rule, now))?;
        }
        // Old windows are worthless: drop them (through `attempts_window`) so the table stays
        // small.
        exec(
            &sql,
            &db_guard::prune_windows(
                now - limiter::CLIENT.window_ms.max(limiter::ACCOUNT.window_ms),
            ),
        )?;
        Ok(Verdict { retry_after: None })
    }

    fn success(&self, a: &Attempt, now: i64) -> ApiResult<Verdict> {
        let sql = self.state.storage().sql();
        if a.scope == Scope::Network {
            // The reservation was no failure after all: handed back to the network's budget.
            exec(
                &sql,
                &db_guard::hand_back(&limiter::network_key(&a.network)),
            )?;
            return Ok(Verdict { retry_after: None });
        }
        // The (account, network) counter starts afresh, and the attempt is handed back to the
        // account's unknown-network budget.
        let keys = self.keys(a, now)?;
        exec(&sql, &db_guard::forget(&keys[0].0))?;
        for (key, _) in &keys[1..] {
            exec(&sql, &db_guard::hand_back(key))?;
        }
        exec(&sql, &db_guard::remember(&a.account, &a.network, now))?;
        exec(
            &sql,
            &db_guard::prune_known(now - limiter::KNOWN_NETWORK_MS),
        )?;
        // Successful logins have a budget of their own (each one is a session).
        let key = limiter::success_key(&a.account);
        let window = self.load(&key)?;
        if let Some(secs) = limiter::retry_after(window, limiter::SUCCESSES, now) {
            return Ok(Verdict {
                retry_after: Some(secs),
            });
        }
        let w = limiter::record_failure(window, limiter::SUCCESSES, now);
        self.put(&key, w)?;
        Ok(Verdict { retry_after: None })
    }

    fn put(&self, key: &str, w: Window) -> worker::Result<()> {
        exec(
            &self.state.storage().sql(),
            &db_guard::put(key, w.window_start, w.failures),
        )?;
        Ok(())
    }

    /// How many counters this object holds (tests: each object holds only its own).
    fn keys_held(&self) -> worker::Result<Vec<String>> {
        #[derive(Deserialize)]
        struct K {
            key: String,
        }
        let rows: Vec<K> = exec(&self.state.storage().sql(), &db_guard::keys())?.to_array()?;
        Ok(rows.into_iter().map(|k| k.key).collect())
    }
}

#[cfg(feature = "console")]
impl DurableObject for Guard {
    fn new(state: State, _env: Env) -> Self {
        crate::platform::sql::create_all(&state.storage().sql(), crate::db::guard::SCHEMA);
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = async {
            if path == "/keys" {
                return Ok(http::json_response(
                    200,
                    &serde_json::json!({ "keys": self.keys_held()? }),
                )?);
            }
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
