//! Merging two records of one person (admin): `POST /api/customers/{id}/merge {from}`. The
//! numbers, notes and calls of `from` move to `id`, visits and spend add up, the later last
//! visit and both memos stay, and `from` is deleted. One D1 batch: all of it or nothing.
use super::api;
use crate::db::cards;
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::platform::db::{self, i};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    from: i64,
}

/// Every write applies only when both customers exist (?1 the one kept, ?2 the one merged in),
/// so a missing one changes nothing.
const BOTH: &str = "(SELECT count(*) FROM customers WHERE id IN (?1, ?2)) = 2 \
  AND (SELECT count(DISTINCT phone) FROM customer_phones WHERE customer_id IN (?1, ?2)) <= ?3";

pub async fn merge(mut req: Request, env: &Env, id: i64) -> ApiResult<http::Written> {
    let session = auth::require_admin(&req, env).await?;
    let body: MergeBody = http::read_json(&mut req, 1024).await?;
    if body.from == id {
        return Err(ApiError::bad(
            "same_customer",
            "from",
            "同じ顧客どうしは統合できません",
        ));
    }
    let db = env.d1("DB")?;
    // ?3: the numbers one customer may have (every statement's guard); the record's update
    // also binds ?4, the spend/visits ceiling, and ?5, the memo's length.
    let args = [
        i(id),
        i(body.from),
        i(customer::MAX_PHONES as i64),
        i(customer::MAX_AMOUNT),
        i(customer::MAX_MEMO as i64),
    ];
    let stmt = |sql: String| db::stmt(&db, &sql, &args[..3]);
    let stmt5 = |sql: String| db::stmt(&db, &sql, &args);
    let results = db
        .batch(vec![
            stmt(
                "SELECT (SELECT count(*) FROM customers WHERE id IN (?1, ?2)) AS n, \
                   (SELECT count(DISTINCT phone) FROM customer_phones WHERE customer_id IN (?1, ?2)) AS phones, \
                   ?3 AS max_phones"
                    .into(),
            )?,
            stmt("SELECT home_store_id FROM customers WHERE id = ?2 AND ?1 IS NOT NULL AND ?3 IS NOT NULL".into())?,
            stmt(format!(
                "INSERT OR IGNORE INTO customer_phones (phone, customer_id) \
                 SELECT phone, ?1 FROM customer_phones WHERE customer_id = ?2 AND {BOTH}"
            ))?,
            stmt(format!(
                "UPDATE customer_notes SET customer_id = ?1 WHERE customer_id = ?2 AND {BOTH}"
            ))?,
            stmt(format!(
                "UPDATE calls SET customer_id = ?1 WHERE customer_id = ?2 AND {BOTH}"
            ))?,
            stmt5(format!(
                "UPDATE customers AS k SET \
                   visit_count = min(k.visit_count + f.visit_count, ?4), \
                   total_spend = min(k.total_spend + f.total_spend, ?4), \
                   last_visit_at = CASE WHEN k.last_visit_at IS NULL OR f.last_visit_at > k.last_visit_at \
                     THEN f.last_visit_at ELSE k.last_visit_at END, \
                   memo = substr(CASE WHEN f.memo = '' THEN k.memo WHEN k.memo = '' THEN f.memo \
                     ELSE k.memo || char(10) || f.memo END, 1, ?5), \
                   custom = json_patch(f.custom, k.custom), \
                   custom_key = CASE WHEN f.custom_key = '' THEN k.custom_key WHEN k.custom_key = '' THEN f.custom_key \
                     ELSE k.custom_key || char(10) || f.custom_key END, \
                   version = k.version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 FROM (SELECT * FROM customers WHERE id = ?2) AS f WHERE k.id = ?1 AND {BOTH}"
            ))?,
            stmt(format!("DELETE FROM customers WHERE id = ?2 AND {BOTH}"))?,
            // Admin only: usage over every store.
            cards::by_id_stmt(&db, id, http::now_ms(), None)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Check {
        n: i64,
        phones: i64,
    }
    let check: Check = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
    if check.n != 2 {
        return Err(ApiError::NotFound);
    }
    if check.phones > customer::MAX_PHONES as i64 {
        // Every write of the batch carried the same condition: nothing changed.
        return Err(ApiError::bad(
            "too_many_phones",
            "from",
            format!(
                "統合すると電話番号が{}件になります（1人{}件まで）。先に不要な番号を削除してください",
                check.phones,
                customer::MAX_PHONES
            ),
        ));
    }
    #[derive(Deserialize)]
    struct Home {
        home_store_id: Option<i64>,
    }
    let from_home = db::first::<Home>(&results[1])?.and_then(|h| h.home_store_id);
    let card = cards::one(results.last().expect("the batch ends with the read"))?;
    api::announce(env, &card, Some((body.from, from_home))).await;
    crate::resources::dialpad::sync::customers(env, &req, &[id, body.from]).await;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::CustomerMerged)
        .customer(id)
        .detail(json!({ "from": body.from }))
        .record();
    Ok(http::Written {
        response: http::json_response(200, &json!({ "customer": card }))?,
        customers: vec![body.from],
    })
}
