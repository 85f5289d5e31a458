//! The popup's lookup (`POST /api/customers/lookup`): who is calling, as this user may see
//! them — the card, candidates, notes, the number's history and its last wrap-ups — in one
//! D1 batch after the hub's outbox is flushed.
use super::notes;
use crate::db::cards;
use crate::db::stores as db_stores;
use crate::domain::access::{CustomerView, Viewer};
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::domain::messages::CustomerCard;
use crate::domain::phone::{self, Phone};
use crate::domain::store as domain_store;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::stores;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LookupBody {
    #[serde(default)]
    call_id: Option<serde_json::Value>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    incoming: Option<String>,
}

/// `POST /api/customers/lookup` with `{"callId"}` (the popup: the numbers come from the call
/// log, so no number travels in a URL) or `{"phone", "incoming"?}` — everything the popup
/// shows for a caller: the store the call came in on, the customer (or several sharing the
/// number) this user may see, their latest notes, and the number's recent calls. A call this
/// user may not see is a 404.
pub async fn lookup(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let mut viewer = Viewer::from(&session);
    let body: LookupBody = http::read_json(&mut req, 4096).await?;
    let db = env.d1("DB")?;
    let (raw_phone, raw_incoming, this_call) = match &body.call_id {
        Some(id) => {
            let id = match id {
                serde_json::Value::String(s) if crate::domain::call::call_id(s).is_some() => {
                    s.trim().to_string()
                }
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return Err(ApiError::bad(
                        "invalid_call_id",
                        "callId",
                        "callId が正しくありません",
                    ))
                }
            };
            let found = db
                .batch(vec![
                    crate::db::calls::numbers(&id).d1(&db)?,
                    db_stores::table_stmt(&db),
                ])
                .await?;
            let call: crate::db::calls::CallNumbers =
                db::first(&found[0])?.ok_or(ApiError::NotFound)?;
            // The store the hub decided when it popped the call (by the dialled number, the
            // Dialpad office or the entry number) and recorded; the call's row reaches D1
            // through the hub's outbox (flushed above, best effort). A row without one yet is
            // decided by the same rule, from what the call log holds of it.
            let lines = domain_store::CallLines {
                recorded: call.store_id.zip(call.store_name.as_deref()),
                dialled: &call.dialled,
                ..Default::default()
            };
            let store = domain_store::of_call(lines, &db_stores::table_from(&found[1])?).id;
            if !viewer.may_see_call(store) {
                return Err(ApiError::NotFound);
            }
            // Handling this call: a reception desk sees the caller as the store's staff do.
            viewer = viewer.handling(store);
            (call.caller, Some(call.dialled), Some(id))
        }
        None => (body.phone.unwrap_or_default(), body.incoming, None),
    };
    let incoming = match raw_incoming.filter(|v| !v.trim().is_empty()) {
        Some(raw) => Some(customer::phone(&raw, "incoming")?),
        None => None,
    };
    // A withheld caller (a call's empty number) has no customer, only the line it came in on.
    let phone = match (&body.call_id, phone::normalize(&raw_phone)) {
        (Some(_), Ok(Phone::Withheld)) => None,
        (Some(_), Err(_)) => None,
        _ => Some(customer::phone(&raw_phone, "phone")?),
    };
    let now = http::now_ms();
    let number = phone.clone().unwrap_or_default();
    let results = db
        .batch(vec![
            cards::by_phone_for(&db, &number, now, viewer.scope())?,
            crate::db::calls::from_number(&number, 10, viewer.scope()).d1(&db)?,
            db_stores::table_stmt(&db),
            crate::db::notes::of_number(&number).d1(&db)?,
            crate::db::wrapups::recent_of_number(&number, this_call.as_deref(), viewer.scope())
                .d1(&db)?,
            // 顧客の共有, and the pinned notes a shared view shows.
            db.prepare(crate::db::settings::FRONT_DESK),
            crate::db::notes::pinned_of_number(&number, customer::PINNED_NOTE_TYPES).d1(&db)?,
        ])
        .await?;
    let sharing = crate::resources::settings::from_row(&results[5])?.sharing();
    let (cards, hidden): (Vec<_>, Vec<_>) = cards::cards_from(&results[0])?
        .into_iter()
        .partition(|c| viewer.may_see_customer(c.home_store.as_ref().and_then(|h| h.id)));
    // The number belongs to customers this user may not see (another store's) and to none
    // they may: the popup says so instead of offering a registration that would be refused.
    // Who they are stays hidden (the access policy decides; `hidden` never leaves this scope).
    let other_store = cards.is_empty() && !hidden.is_empty();
    // Under チェーン共通, that other store's customer in their shared view (read-only), with
    // their pinned 注意/苦情 notes; under 店舗ごと nothing of them.
    let shared: Vec<CustomerCard> = if cards.is_empty() {
        hidden
            .iter()
            .filter(|c| {
                viewer.customer_view(c.home_store.as_ref().and_then(|h| h.id), sharing)
                    == Some(CustomerView::Shared)
            })
            .map(|c| c.clone().shared_view())
            .collect()
    } else {
        vec![]
    };
    let shared_notes: Vec<crate::db::notes::Note> = match shared.as_slice() {
        [one] => notes::from(&results[6])?
            .into_iter()
            .filter(|n| n.customer_id == Some(one.id))
            .collect(),
        _ => vec![],
    };
    // A withheld number's "history" would be every withheld call: none is shown.
    let (mut history, wrapups): (
        Vec<crate::db::calls::CallLogEntry>,
        Vec<crate::db::wrapups::Recent>,
    ) = match phone {
        Some(_) => (db::rows(&results[1])?, db::rows(&results[4])?),
        None => (vec![], vec![]),
    };
    // A call of this user's store may be linked to a customer they may not see: the row keeps
    // its call, not that customer's name.
    for h in &mut history {
        if !viewer.is_admin() && !cards.iter().any(|c| Some(c.id) == h.customer_id) {
            // Under チェーン共通 the row keeps the shared name the call log's rule gave it
            // (`access::call_customer_columns_sql`), without the link.
            if sharing != crate::domain::access::Sharing::Chain {
                h.customer_name = None;
            }
            h.customer_id = None;
        }
    }
    let table = db_stores::table_from(&results[2])?;
    let store = incoming.as_deref().map(|n| stores::store_for(n, &table));
    // The popup shows the latest notes of the one customer it shows.
    let notes: Vec<crate::db::notes::Note> = match cards.as_slice() {
        [one] => notes::from(&results[3])?
            .into_iter()
            .filter(|n| n.customer_id == Some(one.id))
            .take(3)
            .collect(),
        _ => vec![],
    };
    let can_edit = match cards.as_slice() {
        [one] => viewer.may_edit_customer(one.home_store.as_ref().and_then(|h| h.id)),
        _ => false,
    };
    // A shared view (チェーン共通) shows a customer's name and flags: on record like a card.
    crate::resources::audit::popup_opened(
        &session,
        &cards
            .iter()
            .chain(shared.iter())
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        this_call.as_deref(),
    );
    Ok(http::json_response(
        200,
        &json!({
            "phone": phone,
            "incomingNumber": incoming,
            "store": store,
            "customer": if cards.len() == 1 { Some(&cards[0]) } else { None },
            "candidates": if cards.len() > 1 { cards.clone() } else { vec![] },
            "history": history,
            "notes": notes,
            "canEdit": can_edit,
            "wrapups": wrapups,
            "otherStore": other_store,
            "shared": shared,
            "sharedNotes": shared_notes,
        }),
    )?)
}
