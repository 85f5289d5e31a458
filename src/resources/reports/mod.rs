//! `POST /api/reports/calls` — 着信分析 (issue 27): how the phones are doing, per store, day
//! and hour. The call figures come from the per-store, per-hour rollups (`call_rollups`, kept
//! by the outbox: `db::rollups`), so a year reads at most stores × hours small rows; the
//! 折り返し figures from the items opened in the period, the callers from the period's calls
//! by a covering index (`calls_report`), the wrap-ups from the period's calls. One D1 batch.
//! Staff see their store only (`domain::access`); customer names only where the viewer may see
//! the customer.
use crate::db::reports as db_reports;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::report::{self, GroupBy, Period};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::{Env, Request, Response};

mod weekly;
pub use weekly::{get_settings, put_settings, send_test, weekly};

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
    let (start, end) = (period.start_ms(), period.end_ms());
    let stmts = db_reports::statements(period, stores, viewer.scope(), with_callers)
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
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
