//! `POST /api/reports/calls` — 着信分析 (issue 27): how the phones are doing, per store, day
//! and hour. The call figures come from the per-store, per-hour rollups (`call_rollups`, kept
//! by the outbox: `pipeline::rollup`), so a year reads at most stores × hours small rows; the
//! 折り返し figures from the items opened in the period, the callers from the period's calls
//! by a covering index (`calls_report`), the wrap-ups from the period's calls. One D1 batch.
//! Staff see their store only (`domain::access`); customer names only where the viewer may see
//! the customer.
use crate::domain::access::{customer_visible_sql, Viewer};
use crate::domain::error::ApiError;
use crate::domain::report::{self, GroupBy, Period};
use crate::platform::db::{self, i, json, opt_i};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::{Env, Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Query {
    from: String,
    to: String,
    #[serde(default)]
    stores: Option<Vec<i64>>,
    #[serde(default)]
    group_by: Option<String>,
    #[serde(default)]
    day_start_minutes: Option<i64>,
    /// Read the callers of a period longer than [`CALLERS_MAX_DAYS`] too.
    #[serde(default)]
    callers: Option<bool>,
}

/// Up to this many days the callers are read unless `callers: false`; beyond, only when asked.
pub const CALLERS_MAX_DAYS: i64 = 93;

/// The stores a report covers, by the access rule: `None` = every store (an admin who picked
/// none), else the ids (0 = calls no store matched). Staff get their store whatever they ask;
/// asking for another is a 403.
fn scope(viewer: Viewer, asked: Option<Vec<i64>>) -> ApiResult<Option<Vec<i64>>> {
    let asked = asked.filter(|v| !v.is_empty());
    if let Some(list) = &asked {
        if list.len() > 200 || list.iter().any(|s| *s < 0) {
            return Err(ApiError::bad(
                "invalid_stores",
                "stores",
                "店舗の指定が正しくありません",
            ));
        }
        if list
            .iter()
            .any(|s| !viewer.may_see_call((*s != 0).then_some(*s)))
        {
            return Err(ApiError::Forbidden("other_store"));
        }
    }
    Ok(match viewer.scope() {
        None => asked,
        Some(own) => Some(vec![own]),
    })
}

#[derive(Deserialize, Default, Clone)]
struct Sums {
    calls: i64,
    answered: i64,
    missed: i64,
    voicemail: i64,
    ring_n: i64,
    ring_ms: i64,
    ring_max_ms: i64,
    talk_n: i64,
    talk_ms: i64,
    withheld: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.missed += o.missed;
        self.voicemail += o.voicemail;
        self.ring_n += o.ring_n;
        self.ring_ms += o.ring_ms;
        self.ring_max_ms = self.ring_max_ms.max(o.ring_max_ms);
        self.talk_n += o.talk_n;
        self.talk_ms += o.talk_ms;
        self.withheld += o.withheld;
    }

    fn figures(&self, store_id: Option<i64>, store_name: &str) -> Value {
        let avg = |sum: i64, n: i64| (n > 0).then(|| report::secs(sum as f64 / n as f64));
        json!({
            "storeId": store_id,
            "storeName": store_name,
            "calls": self.calls,
            "answered": self.answered,
            "missed": self.missed,
            "voicemail": self.voicemail,
            "unanswered": self.calls - self.answered,
            "answerRate": report::rate(self.answered, self.calls),
            // Business hours are not known yet (the organisation issue): no figure.
            "outsideHours": Value::Null,
            "avgRingSec": avg(self.ring_ms, self.ring_n),
            "maxRingSec": (self.ring_n > 0).then(|| report::secs(self.ring_max_ms as f64)),
            "talkSec": report::secs(self.talk_ms as f64),
            "avgTalkSec": avg(self.talk_ms, self.talk_n),
            "withheld": self.withheld,
        })
    }
}

const SUMS: &str = "sum(r.calls) AS calls, sum(r.answered) AS answered, sum(r.missed) AS missed, \
  sum(r.voicemail) AS voicemail, sum(r.ring_n) AS ring_n, sum(r.ring_ms) AS ring_ms, \
  max(r.ring_max_ms) AS ring_max_ms, sum(r.talk_n) AS talk_n, sum(r.talk_ms) AS talk_ms, \
  sum(r.withheld) AS withheld";

/// The period's calls that count (inbound, not a test) in the stores at `?3`, between `?1` and
/// `?2` (epoch ms). Covered by `calls_report`.
const PERIOD_CALLS: &str = "FROM calls k WHERE k.started_at >= ?1 AND k.started_at < ?2 \
  AND k.direction = 'inbound' AND k.is_test = 0 \
  AND (?3 IS NULL OR coalesce(k.store_id, 0) IN (SELECT value FROM json_each(?3)))";

/// `POST /api/reports/calls` with `{from, to, stores?, groupBy?, dayStartMinutes?}`.
pub async fn calls(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let q: Query = http::read_json(&mut req, 8192).await?;
    let viewer = Viewer::from(&session);
    let period = Period::parse(&q.from, &q.to, q.day_start_minutes)?;
    let group = GroupBy::parse(q.group_by.as_deref())?;
    let stores = scope(viewer, q.stores)?;
    let with_callers = q.callers.unwrap_or(period.days() <= CALLERS_MAX_DAYS);
    let body = build(env, viewer, period, group, stores.as_deref(), with_callers).await?;
    Ok(http::json_response(200, &body)?)
}

/// The report as JSON (the page, the API and the weekly summary read the same).
pub async fn build(
    env: &Env,
    viewer: Viewer,
    period: Period,
    group: GroupBy,
    stores: Option<&[i64]>,
    with_callers: bool,
) -> ApiResult<Value> {
    let db = env.d1("DB")?;
    let prev = period.previous();
    let hour = |ms: i64| ms / 3_600_000;
    let (start, end) = (period.start_ms(), period.end_ms());
    let stores_v = stores.map_or(db::Val::Null, json);
    let in_stores = "(?3 IS NULL OR r.store_id IN (SELECT value FROM json_each(?3)))";
    let cut = i(period.day_start * 60_000);
    let day = Period::day_sql("r.hour", 4);
    let rollup_args = |from: i64| vec![i(hour(from)), i(hour(end)), stores_v.clone(), cut.clone()];
    let calls_args = vec![i(start), i(end), stores_v.clone()];
    let cb_in = "created_at >= ?1 AND created_at < ?2 \
      AND (?3 IS NULL OR coalesce(store_id, 0) IN (SELECT value FROM json_each(?3)))";
    let known = "EXISTS (SELECT 1 FROM customer_phones p WHERE p.phone = g.caller)";
    // Business days from midnight are the daily rollups' days.
    let daily = period.day_start == 0;
    let mut stmts = vec![
        // 0: per store (midnight business days: from the daily rollups)
        if daily {
            db::stmt(
                &db,
                &format!(
                    "SELECT r.store_id, s.name AS store_name, {SUMS} FROM call_rollups_day r \
                     LEFT JOIN stores s ON s.id = r.store_id \
                     WHERE r.day >= ?1 AND r.day < ?2 AND {in_stores} \
                     GROUP BY r.store_id ORDER BY r.store_id"
                ),
                &[i(period.first), i(period.last + 1), stores_v.clone()],
            )?
        } else {
            db::stmt(
                &db,
                &format!(
                    "SELECT r.store_id, s.name AS store_name, {SUMS} FROM call_rollups r \
                     LEFT JOIN stores s ON s.id = r.store_id \
                     WHERE r.hour >= ?1 AND r.hour < ?2 AND {in_stores} \
                     GROUP BY r.store_id ORDER BY r.store_id"
                ),
                &rollup_args(start)[..3],
            )?
        },
        // 1: weekday × hour of the day (clock time, JST)
        db::stmt(
            &db,
            &format!(
                "SELECT ({day} + 3) % 7 AS dow, (r.hour + 9) % 24 AS hod, sum(r.calls) AS calls, \
                   sum(r.calls - r.answered) AS unanswered \
                 FROM call_rollups r WHERE r.hour >= ?1 AND r.hour < ?2 AND {in_stores} \
                 GROUP BY dow, hod"
            ),
            &rollup_args(start),
        )?,
        // 2: per business day, this period and the previous one
        if daily {
            db::stmt(
                &db,
                &format!(
                    "SELECT r.day AS day, sum(r.calls) AS calls, sum(r.answered) AS answered, \
                       sum(r.calls - r.answered) AS unanswered \
                     FROM call_rollups_day r WHERE r.day >= ?1 AND r.day < ?2 AND {in_stores} \
                     GROUP BY r.day"
                ),
                &[i(prev.first), i(period.last + 1), stores_v.clone()],
            )?
        } else {
            db::stmt(
                &db,
                &format!(
                    "SELECT {day} AS day, sum(r.calls) AS calls, sum(r.answered) AS answered, \
                       sum(r.calls - r.answered) AS unanswered \
                     FROM call_rollups r WHERE r.hour >= ?1 AND r.hour < ?2 AND {in_stores} \
                     GROUP BY day"
                ),
                &rollup_args(prev.start_ms()),
            )?
        },
        // 3: 折り返し opened in the period
        db::stmt(
            &db,
            &format!(
                "SELECT count(*) AS opened, coalesce(sum(status = 'done'), 0) AS done, \
                   coalesce(sum(status != 'done'), 0) AS still_open, \
                   coalesce(sum(closed_by_call IS NOT NULL), 0) AS called_back_first \
                 FROM callbacks WHERE {cb_in}"
            ),
            &calls_args,
        )?,
        // 4: median and 90th percentile (nearest rank) of opened → 対応済, in whole minutes:
        // ranked over the minutes' counts, not over every item (`+status`: read by the
        // period's covering index, not by every done item's)
        db::stmt(
            &db,
            &format!(
                "SELECT min(CASE WHEN cum >= (50 * n + 99) / 100 THEN m END) AS p50, \
                   min(CASE WHEN cum >= (90 * n + 99) / 100 THEN m END) AS p90 \
                 FROM (SELECT m, sum(c) OVER (ORDER BY m) AS cum, sum(c) OVER () AS n \
                   FROM (SELECT (updated_at - created_at) / 60000 AS m, count(*) AS c \
                     FROM callbacks WHERE {cb_in} AND +status = 'done' GROUP BY m))"
            ),
            &calls_args,
        )?,
        // 5: wrap-ups (用件 × 対応結果) of the period's calls, from their rollups
        db::stmt(
            &db,
            &format!(
                "SELECT r.category, r.outcome, sum(r.n) AS n FROM call_wrapup_rollups r \
                 WHERE r.hour >= ?1 AND r.hour < ?2 AND {in_stores} \
                 GROUP BY r.category, r.outcome"
            ),
            &rollup_args(start)[..3],
        )?,
    ];
    // 6: callers, one grouping of the period's calls read three ways: how many numbers
    // (and how many registered), the top repeat callers (a name only where the viewer may
    // see the customer), unknown numbers that called 3 times or more (to register)
    if with_callers {
        stmts.push(db::stmt(
            &db,
            &format!(
                "WITH g AS MATERIALIZED (SELECT k.caller, count(*) AS n {PERIOD_CALLS} \
                   AND k.caller != '' GROUP BY k.caller), \
                 h AS MATERIALIZED (SELECT g.caller, g.n, {known} AS known FROM g) \
                 SELECT 'all' AS kind, NULL AS phone, count(*) AS calls, \
                   coalesce(sum(known), 0) AS known, NULL AS name FROM h \
                 UNION ALL SELECT * FROM (SELECT 'repeat', h.caller, h.n, h.known, \
                   (SELECT c.name FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
                    WHERE p.phone = h.caller AND {} ORDER BY c.id LIMIT 1) \
                   FROM h WHERE h.n >= 2 ORDER BY h.n DESC, h.caller LIMIT 10) \
                 UNION ALL SELECT * FROM (SELECT 'unknown', h.caller, h.n, h.known, NULL \
                   FROM h WHERE h.n >= 3 AND NOT h.known ORDER BY h.n DESC, h.caller LIMIT 20)",
                customer_visible_sql(4)
            ),
            &[calls_args.clone(), vec![opt_i(viewer.scope())]].concat(),
        )?);
    }
    let results = db.batch(stmts).await?;

    // Per store, and the total.
    // Read as they are (not `#[serde(flatten)]`, which buffers JS numbers as floats).
    #[derive(Deserialize)]
    struct StoreRow {
        store_id: i64,
        store_name: Option<String>,
    }
    let rows: Vec<StoreRow> = db::rows(&results[0])?;
    let sums: Vec<Sums> = db::rows(&results[0])?;
    let mut total = Sums::default();
    let per_store: Vec<Value> = rows
        .iter()
        .zip(&sums)
        .map(|(r, sums)| {
            total.add(sums);
            let name = match (r.store_id, &r.store_name) {
                (0, _) => "不明".to_string(),
                (_, Some(n)) => n.clone(),
                (id, None) => format!("削除された店舗 ({id})"),
            };
            sums.figures((r.store_id != 0).then_some(r.store_id), &name)
        })
        .collect();

    #[derive(Deserialize)]
    struct Cell {
        dow: usize,
        hod: usize,
        calls: i64,
        unanswered: i64,
    }
    let mut heat_calls = vec![vec![0i64; 24]; 7];
    let mut heat_unanswered = vec![vec![0i64; 24]; 7];
    for c in db::rows::<Cell>(&results[1])? {
        if c.dow < 7 && c.hod < 24 {
            heat_calls[c.dow][c.hod] = c.calls;
            heat_unanswered[c.dow][c.hod] = c.unanswered;
        }
    }

    #[derive(Deserialize)]
    struct Day {
        day: i64,
        calls: i64,
        answered: i64,
        unanswered: i64,
    }
    let days: BTreeMap<i64, Day> = db::rows::<Day>(&results[2])?
        .into_iter()
        .map(|d| (d.day, d))
        .collect();
    let series_of = |p: Period| {
        let mut buckets: Vec<(String, [i64; 3])> = vec![];
        for d in p.first..=p.last {
            let label = report::bucket(group, d);
            let v = days
                .get(&d)
                .map_or([0; 3], |x| [x.calls, x.answered, x.unanswered]);
            match buckets.last_mut() {
                Some((l, acc)) if *l == label => {
                    for k in 0..3 {
                        acc[k] += v[k];
                    }
                }
                _ => buckets.push((label, v)),
            }
        }
        buckets
            .into_iter()
            .map(|(label, v)| {
                json!({"label": label, "calls": v[0], "answered": v[1], "unanswered": v[2]})
            })
            .collect::<Vec<_>>()
    };

    #[derive(Deserialize)]
    struct Cb {
        opened: i64,
        done: i64,
        still_open: i64,
        called_back_first: i64,
    }
    let cb: Option<Cb> = db::first(&results[3])?;
    #[derive(Deserialize)]
    struct Pct {
        p50: Option<i64>,
        p90: Option<i64>,
    }
    let pct: Option<Pct> = db::first(&results[4])?;
    let (p50, p90) = pct.map_or((None, None), |p| (p.p50, p.p90));

    #[derive(Deserialize)]
    struct Caller {
        kind: String,
        phone: Option<String>,
        calls: i64,
        known: i64,
        name: Option<String>,
    }
    let callers = match results.get(6) {
        None => Value::Null,
        Some(rows) => {
            let (mut numbers, mut known) = (0, 0);
            let (mut repeat, mut unknown) = (vec![], vec![]);
            for c in db::rows::<Caller>(rows)? {
                let phone = c.phone.unwrap_or_default();
                match c.kind.as_str() {
                    "all" => (numbers, known) = (c.calls, c.known),
                    "repeat" => repeat.push(json!({"phone": phone, "calls": c.calls,
                        "known": c.known != 0, "name": c.name})),
                    _ => unknown.push(json!({"phone": phone, "calls": c.calls})),
                }
            }
            json!({
                "numbers": numbers,
                "known": known,
                "unknown": numbers - known,
                "withheld": total.withheld,
                "repeat": repeat,
                "unknownFrequent": unknown,
            })
        }
    };

    #[derive(Deserialize)]
    struct Wrap {
        category: String,
        outcome: String,
        n: i64,
    }
    let mut categories: BTreeMap<String, i64> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, i64> = BTreeMap::new();
    for w in db::rows::<Wrap>(&results[5])? {
        *categories.entry(w.category).or_default() += w.n;
        *outcomes.entry(w.outcome).or_default() += w.n;
    }
    let counted = |m: BTreeMap<String, i64>| {
        let mut v: Vec<(String, i64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .map(|(label, count)| {
                json!({"label": if label.is_empty() { "（未入力）".to_string() } else { label }, "count": count})
            })
            .collect::<Vec<_>>()
    };

    let cb = cb.unwrap_or(Cb {
        opened: 0,
        done: 0,
        still_open: 0,
        called_back_first: 0,
    });
    Ok(json!({
        "period": {
            "from": report::ymd(period.first),
            "to": report::ymd(period.last),
            "days": period.days(),
            "dayStartMinutes": period.day_start,
            "startAt": http::iso(start),
            "endAt": http::iso(end),
            "previous": {"from": report::ymd(prev.first), "to": report::ymd(prev.last)},
        },
        "groupBy": group.as_str(),
        "stores": per_store,
        "total": total.figures(None, "合計"),
        "businessHours": Value::Null,
        "heatmap": {
            "weekdays": ["月", "火", "水", "木", "金", "土", "日"],
            "calls": heat_calls,
            "unanswered": heat_unanswered,
        },
        "series": series_of(period),
        "previousSeries": series_of(prev),
        "callbacks": {
            "opened": cb.opened,
            "done": cb.done,
            "open": cb.still_open,
            "calledBackFirst": cb.called_back_first,
            "medianMinutes": p50,
            "p90Minutes": p90,
        },
        "callers": callers,
        // Longer periods read the callers only when asked (`callers: true`): the one figure
        // that reads every call of the period.
        "callersMaxDays": CALLERS_MAX_DAYS,
        "wrapups": {"categories": counted(categories), "outcomes": counted(outcomes)},
    }))
}

#[derive(Deserialize)]
struct WeeklyRow {
    webhook_url: Option<String>,
    last_sent_week: Option<String>,
}

async fn weekly_settings(db: &worker::D1Database) -> ApiResult<Option<WeeklyRow>> {
    Ok(db
        .prepare("SELECT webhook_url, last_sent_week FROM report_settings WHERE id = 1")
        .first(None)
        .await?)
}

/// `GET /api/settings/reports` (admin): the weekly summary's destination.
pub async fn get_settings(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let row = weekly_settings(&env.d1("DB")?).await?;
    Ok(http::json_response(
        200,
        &json!({
            "webhookUrl": row.as_ref().and_then(|r| r.webhook_url.clone()),
            "lastSentWeek": row.and_then(|r| r.last_sent_week),
        }),
    )?)
}

/// `PUT /api/settings/reports` (admin) `{webhookUrl: "https://…" | null}`.
pub async fn put_settings(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Body {
        webhook_url: Option<String>,
    }
    let body: Body = http::read_json(&mut req, 4096).await?;
    let url = report::webhook_url(body.webhook_url.as_deref())?;
    db::stmt(
        &env.d1("DB")?,
        "INSERT INTO report_settings (id, webhook_url, updated_by, updated_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET webhook_url = excluded.webhook_url, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        &[
            crate::platform::db::opt_s(url.as_deref()),
            crate::platform::db::s(&session.name),
            i(http::now_ms()),
        ],
    )?
    .run()
    .await?;
    crate::resources::audit::settings_changed(&session, "reports", "update", None);
    Ok(http::json_response(200, &json!({ "webhookUrl": url }))?)
}

/// `POST /api/settings/reports/test` (admin): sends last week's summary now.
pub async fn send_test(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let db = env.d1("DB")?;
    let url = weekly_settings(&db)
        .await?
        .and_then(|r| r.webhook_url)
        .ok_or_else(|| {
            ApiError::bad(
                "no_webhook_url",
                "webhookUrl",
                "送信先のURLを先に保存してください",
            )
        })?;
    let (period, _) = report::last_week(http::now_ms());
    let status = send_summary(env, &url, period).await?;
    Ok(http::json_response(
        200,
        &json!({ "sent": (200..300).contains(&status), "status": status }),
    )?)
}

/// Last week's figures of every store (an admin's view), as chat text, posted to `url` as
/// `{"text": …}` (what Slack's and Google Chat's incoming webhooks take). Returns the status.
async fn send_summary(env: &Env, url: &str, period: Period) -> ApiResult<u16> {
    let admin = Viewer {
        role: crate::domain::token::Role::Admin,
        store: None,
    };
    let r = build(env, admin, period, GroupBy::Day, None, false).await?;
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    let rows: Vec<report::SummaryRow> = r["stores"]
        .as_array()
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| report::SummaryRow {
            store: s["storeName"].as_str().unwrap_or("").to_string(),
            calls: n(s, "calls"),
            answered: n(s, "answered"),
            missed: n(s, "missed"),
            voicemail: n(s, "voicemail"),
        })
        .collect();
    #[derive(Deserialize)]
    struct Open {
        n: i64,
    }
    let open: Option<Open> = env
        .d1("DB")?
        .prepare("SELECT count(*) AS n FROM callbacks WHERE status != 'done'")
        .first(None)
        .await?;
    let text = report::summary_text(&period, &rows, open.map_or(0, |o| o.n));
    let headers = worker::Headers::new();
    headers.set("Content-Type", "application/json")?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(json!({ "text": text }).to_string().into()));
    let req = Request::new_with_init(url, &init)?;
    let resp = worker::Fetch::Request(req)
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("weekly summary: {e}")))?;
    Ok(resp.status_code())
}

/// From the crons: last week's summary, once, from Monday 09:00 Japan time on, when a
/// destination is set. The week is claimed before sending (a second cron run the same
/// minute does not send it twice); a failed send is logged and not retried until next week.
pub async fn weekly(env: &Env, now_ms: i64) -> ApiResult<Value> {
    if !report::weekly_due(now_ms) {
        return Ok(json!({"event": "weekly_summary", "sent": false, "why": "not due"}));
    }
    let db = env.d1("DB")?;
    let (period, label) = report::last_week(now_ms);
    let Some(url) = weekly_settings(&db).await?.and_then(|r| r.webhook_url) else {
        return Ok(json!({"event": "weekly_summary", "sent": false, "why": "no destination"}));
    };
    let claimed = db::stmt(
        &db,
        "UPDATE report_settings SET last_sent_week = ?1 \
         WHERE id = 1 AND (last_sent_week IS NULL OR last_sent_week < ?1)",
        &[crate::platform::db::s(&label)],
    )?
    .run()
    .await?;
    if db::changes(&claimed) == 0 {
        return Ok(
            json!({"event": "weekly_summary", "sent": false, "why": "already sent", "week": label}),
        );
    }
    let status = send_summary(env, &url, period).await?;
    Ok(json!({"event": "weekly_summary", "sent": true, "week": label, "status": status}))
}
