//! Guard: the Durable Object that counts failed logins (one per tenant). Its SQLite storage
//! survives eviction, and a single object serialises the counters, so parallel guesses cannot
//! race past the limit.
use crate::domain::error::ApiError;
use crate::domain::limiter::{self, Window};
use crate::platform::http::{self, ApiResult};
use crate::platform::stub;
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

#[derive(Serialize, Deserialize)]
struct Keys {
    keys: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    retry_after: Option<u32>,
}

async fn call(env: &Env, path: &str, keys: &[String]) -> ApiResult<Verdict> {
    let guard = stub::object(env, "GUARD")?;
    stub::post(
        &guard,
        path,
        &Keys {
            keys: keys.to_vec(),
        },
    )
    .await
}

/// Refuses with 429 when any key is locked.
pub async fn check(env: &Env, keys: &[String]) -> ApiResult<()> {
    match call(env, "/check", keys).await?.retry_after {
        Some(secs) => Err(ApiError::RateLimited(secs)),
        None => Ok(()),
    }
}

pub async fn failed(env: &Env, keys: &[String]) -> ApiResult<()> {
    call(env, "/fail", keys).await.map(|_| ())
}

pub async fn succeeded(env: &Env, keys: &[String]) -> ApiResult<()> {
    call(env, "/reset", keys).await.map(|_| ())
}

#[durable_object]
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

    fn handle(&self, path: &str, keys: &[String]) -> ApiResult<Verdict> {
        let now = http::now_ms();
        let sql = self.state.storage().sql();
        let mut retry: Option<u32> = None;
        for key in keys.iter().take(4) {
            let rule = limiter::rule_for(key);
            match path {
                "/check" => {}
                "/fail" => {
                    let w = limiter::record_failure(self.load(key)?, rule, now);
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
                "/reset" => {
                    sql.exec(
                        "DELETE FROM attempts WHERE key = ?",
                        vec![key.as_str().into()],
                    )?;
                }
                _ => return Err(ApiError::NotFound),
            }
            if let Some(s) = limiter::retry_after(self.load(key)?, rule, now) {
                retry = Some(retry.map_or(s, |r| r.max(s)));
            }
        }
        // Old windows are worthless: drop them so the table stays small.
        sql.exec(
            "DELETE FROM attempts WHERE window_start < ?",
            vec![(now - limiter::CLIENT.window_ms.max(limiter::ACCOUNT.window_ms)).into()],
        )?;
        Ok(Verdict { retry_after: retry })
    }
}

impl DurableObject for Guard {
    fn new(state: State, _env: Env) -> Self {
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, \
             failures INTEGER NOT NULL)",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = async {
            let body: Keys = http::read_json(&mut req, 4096).await?;
            let verdict = self.handle(&path, &body.keys)?;
            Ok(http::json_response(200, &verdict)?)
        }
        .await;
        http::respond(result)
    }
}
