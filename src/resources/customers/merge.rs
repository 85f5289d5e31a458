//! Merging two records of one person (admin): `POST /api/customers/{id}/merge {from}`. The
//! numbers, notes and calls of `from` move to `id`, visits and spend add up, the later last
//! visit and both memos stay, and `from` is deleted. One D1 batch: all of it or nothing.
use super::api;
use crate::db::cards;
use crate::db::customers as db_customers;
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::platform::db;
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
    // Every write carries the guard: both customers there, and at most the numbers one
    // customer may have. Admin only: the card read back counts usage over every store.
    let mut batch = db_customers::merge(
        id,
        body.from,
        customer::MAX_PHONES as i64,
        customer::MAX_AMOUNT,
        customer::MAX_MEMO as i64,
    )
    .iter()
    .map(|s| s.d1(&db))
    .collect::<ApiResult<Vec<_>>>()?;
    batch.push(cards::by_id_stmt(&db, id, http::now_ms(), None)?);
    let results = db.batch(batch).await?;
    let check: db_customers::MergeCheck = db::first(&results[0])?.ok_or(ApiError::NotFound)?;
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
    let from_home = db::first::<db_customers::Home>(&results[1])?.and_then(|h| h.home_store_id);
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
