//! Customer handlers: registration (the popup's and 顧客's), search, detail, edit, delete (the popup's
//! lookup is in lookup.rs).
//! Each reads or writes in one D1 batch; the access check rides in the same batch and is
//! applied before anything read is returned.
use super::duplicates::check_attach;
use super::notes;
use crate::db::cards::{self, thirty_days_ago};
use crate::db::customers as db_customers;
use crate::domain::access::Viewer;
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::domain::messages::{BroadcastRequest, CustomerCard};
use crate::domain::phone::{self, Phone};
use crate::domain::protocol::{ChangedCustomer, SocketMessage};
use crate::domain::search;
use crate::platform::db::{self, i, opt_i, opt_s, s};
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

/// Customers one user may create per minute (popup and 顧客 together): a person at the front
/// desk registers a few an hour; a script squatting on numbers is stopped (429 `rate_limited`).
const CREATES_PER_MINUTE: i64 = 60;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCustomer {
    name: String,
    #[serde(default)]
    kana: String,
    #[serde(default)]
    memo: String,
    phone: String,
    #[serde(default)]
    home_store_id: Option<i64>,
    /// Custom field values (field id → value).
    #[serde(default)]
    fields: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/customers` — registers an unknown caller from the popup.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<http::Written> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    if !viewer.may_create_customer() {
        return Err(ApiError::Forbidden("role"));
    }
    let body: NewCustomer = http::read_json(&mut req, 16 * 1024).await?;
    let name = customer::name(&body.name)?;
    let kana = customer::kana(&body.kana)?;
    let memo = customer::memo(&body.memo)?;
    let phone = customer::phone(&body.phone, "phone")?;
    // Staff register customers for their own stores only: the one they chose among them,
    // else their first.
    let home_store = if viewer.is_admin() {
        body.home_store_id
    } else if viewer.is_reception() {
        // The desk answers for every store: it names the store of the call it handles.
        match body.home_store_id {
            Some(store) => Some(store),
            None => {
                return Err(ApiError::bad(
                    "store_required",
                    "homeStoreId",
                    "登録する店舗を選んでください",
                ))
            }
        }
    } else {
        body.home_store_id
            .filter(|s| viewer.belongs_to(Some(*s)))
            .or(session.store)
            .or(viewer.default_store())
    };
    // The route reads the call log (the table flushed the hub's outbox first), so that the
    // create links the caller's call that just popped.
    let db = env.d1("DB")?;
    super::csv_io::rate_limit(
        &db,
        &format!("create:{}", session.uid),
        CREATES_PER_MINUTE,
        60_000,
    )
    .await?;
    let (custom, custom_key) = if body.fields.is_empty() {
        (serde_json::Map::new(), String::new())
    } else {
        let defs = crate::resources::custom_fields::load(&db).await?;
        let custom = crate::domain::fields::apply(
            &defs,
            &serde_json::Map::new(),
            &body.fields,
            home_store,
            viewer.is_admin(),
        )?;
        let key = crate::domain::fields::search_key(&defs, &custom);
        (custom, key)
    };
    let duplicates = check_attach(&db, &viewer, std::slice::from_ref(&phone), None).await?;
    let now = http::now_ms();
    // One batch is one transaction: the customer, their number, the link of their earlier
    // calls and the card read back, together or not at all. An unknown store fails the
    // customer's foreign key and rolls the whole batch back.
    let new = db_customers::NewCustomer {
        name: &name,
        kana: &kana,
        memo: &memo,
        phone: &phone,
        home_store,
        created_by: session.uid,
        custom: &custom,
        custom_key: &custom_key,
    };
    let mut batch = db_customers::create(&new, viewer.scope())
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
    batch.push(cards::newest_stmt(&db, now, viewer.scope())?);
    let results = db.batch(batch).await.map_err(|e| match ApiError::from(e) {
        ApiError::BadRequest {
            code: "invalid_reference",
            ..
        } => ApiError::bad("unknown_store", "homeStoreId", "店舗が見つかりません"),
        other => other,
    })?;
    let card = cards::one(&results[3])?;
    announce(env, &card, None).await;
    crate::resources::dialpad::sync::customers(env, &req, &[card.id]).await;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::CustomerCreated)
        .customer(card.id)
        .record();
    Ok(http::Written {
        // `canEdit`: a reception desk registers, it never edits (the popup shows the card read-only).
        response: http::json_response(
            201,
            &json!({
                "customer": card,
                "duplicates": duplicates,
                "canEdit": viewer.may_edit_customer(home_store),
            }),
        )?,
        customers: vec![card.id],
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// `POST /api/customers/search` with `{"q", "page", "perPage"}` — search by number (any
/// format, any part of it), name or kana, among the customers this user may see. The query
/// travels in the body: a number in a URL ends up in logs.
pub async fn search(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let body: SearchBody = http::read_json(&mut req, 4096).await?;
    let q = body.q.trim();
    if q.chars().count() > crate::domain::search::MAX_QUERY_CHARS {
        return Err(ApiError::bad("invalid_query", "q", "検索語が長すぎます"));
    }
    let (page, per) = http::page_of(body.page, body.per_page);
    // A query that normalises to digits is a number search; anything else is a text search.
    let digits = match phone::normalize(q) {
        Ok(Phone::Number(n)) if !q.is_empty() => Some(n),
        _ => None,
    };
    let search = db_customers::Search {
        key: search::key(q),
        digits,
        page,
        per_page: per,
        thirty_days_ago: thirty_days_ago(http::now_ms()),
        scope: viewer.scope(),
    };
    let db = env.d1("DB")?;
    crate::db::customers::backfill_keys(&db).await?;
    let results = db
        .batch(vec![search.count().d1(&db)?, search.page().d1(&db)?])
        .await?;
    let total = db::count(&results[0])?;
    let customers = cards::cards_from(&results[1])?;
    Ok(http::json_response(
        200,
        &json!({ "customers": customers, "total": total, "page": page, "perPage": per }),
    )?)
}

/// `GET /api/customers/{id}` — the card, its notes and the last 10 calls from its numbers.
pub async fn detail(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db_customers::home(id).d1(&db)?,
            cards::by_id_stmt(&db, id, http::now_ms(), viewer.scope())?,
            crate::db::notes::list(id, 50).d1(&db)?,
            crate::db::calls::of_customer(id, 10, viewer.scope()).d1(&db)?,
            db_customers::custom(id).d1(&db)?,
            crate::resources::custom_fields::all_stmt(&db),
        ])
        .await?;
    let home = notes::check_visible(&results[0], &viewer)?;
    let history: Vec<crate::db::calls::CallLogEntry> = db::rows(&results[3])?;
    let can_edit = viewer.may_edit_customer(home.home_store_id);
    let custom_fields = custom_values(
        &crate::resources::custom_fields::from(&results[5])?,
        &db_customers::custom_from(&results[4])?,
        home.home_store_id,
        &viewer,
        can_edit,
    );
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::CustomerViewed)
        .customer(id)
        .call(http::query_param(&req, "callId").as_deref())
        .record();
    Ok(http::json_response(
        200,
        &json!({
            "customer": cards::one(&results[1])?,
            "notes": notes::from(&results[2])?,
            "history": history,
            "canEdit": can_edit,
            "customFields": custom_fields,
        }),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomerPatch {
    version: Option<i64>,
    name: Option<String>,
    kana: Option<String>,
    memo: Option<String>,
    customer_type: Option<String>,
    #[serde(default, with = "http::double_option")]
    flag: Option<Option<String>>,
    #[serde(default, with = "http::double_option")]
    home_store_id: Option<Option<i64>>,
    phones: Option<Vec<String>>,
    visits: Option<i64>,
    total_spend: Option<i64>,
    #[serde(default, with = "http::double_option")]
    last_visit: Option<Option<String>>,
    /// Custom field values to change (field id → value; null or "" clears).
    fields: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CustomerPatch {
    /// The fields this edit sends (their Japanese names), for 操作履歴.
    fn changed(&self) -> Vec<&'static str> {
        [
            (self.name.is_some(), "氏名"),
            (self.kana.is_some(), "フリガナ"),
            (self.memo.is_some(), "メモ"),
            (self.customer_type.is_some(), "区分"),
            (self.flag.is_some(), "フラグ"),
            (self.home_store_id.is_some(), "店舗"),
            (self.phones.is_some(), "電話番号"),
            (self.visits.is_some(), "来店回数"),
            (self.total_spend.is_some(), "累計利用額"),
            (self.last_visit.is_some(), "最終来店日"),
            (self.fields.is_some(), "フリー項目"),
        ]
        .into_iter()
        .filter_map(|(sent, label)| sent.then_some(label))
        .collect()
    }
}

/// The custom fields of a customer of `home` as the edit panel shows them: every field that
/// applies, its value, and whether this viewer may change it.
fn custom_values(
    defs: &[crate::domain::fields::Definition],
    values: &serde_json::Map<String, serde_json::Value>,
    home: Option<i64>,
    viewer: &Viewer,
    can_edit: bool,
) -> Vec<serde_json::Value> {
    defs.iter()
        .filter(|d| d.applies_to(home))
        .map(|d| {
            json!({
                "id": d.id,
                "label": d.label,
                "kind": d.kind,
                "options": d.options,
                "onCard": d.on_card,
                "staffEdit": d.staff_edit,
                "value": values.get(&d.id.to_string()),
                "canEdit": can_edit && (viewer.is_admin() || d.staff_edit),
            })
        })
        .collect()
}

/// `PATCH /api/customers/{id}` — an edit based on `version`. A stale version is a 409 with the
/// current record, so concurrent edits never silently drop text.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let patch: CustomerPatch = http::read_json(&mut req, 32 * 1024).await?;
    let changed = patch.changed();
    let version = patch.version.ok_or_else(|| {
        ApiError::bad(
            "missing_version",
            "version",
            "version (編集元の版) が必要です",
        )
    })?;
    // The columns this edit sets, with their values.
    let mut columns: Vec<(&'static str, db::Val)> = Vec::new();
    let mut set = |col: &'static str, v: db::Val| columns.push((col, v));
    if let Some(v) = &patch.name {
        let name = customer::name(v)?;
        set("name_key", s(&search::key(&name)));
        set("name", s(&name));
    }
    if let Some(v) = &patch.kana {
        let kana = customer::kana(v)?;
        set("kana_key", s(&search::key(&kana)));
        set("kana", s(&kana));
    }
    if let Some(v) = &patch.memo {
        set("memo", s(&customer::memo(v)?));
    }
    if let Some(v) = &patch.customer_type {
        set("customer_type", s(&customer::customer_type(v)?));
    }
    if let Some(v) = &patch.flag {
        set("flag", opt_s(customer::flag(v.as_deref())?.as_deref()));
    }
    if let Some(store) = patch.home_store_id {
        if !viewer.may_assign_home(store) {
            return Err(ApiError::Forbidden("other_store"));
        }
        set("home_store_id", opt_i(store));
    }
    if let Some(n) = patch.visits {
        set("visit_count", i(customer::amount(n, "visits", "来店回数")?));
    }
    if let Some(n) = patch.total_spend {
        set(
            "total_spend",
            i(customer::amount(n, "totalSpend", "累計利用額")?),
        );
    }
    if let Some(d) = &patch.last_visit {
        let day = customer::last_visit(d.as_deref().unwrap_or(""))?;
        set("last_visit_at", opt_s(day.as_deref()));
    }
    let phones = match &patch.phones {
        Some(list) => Some(customer::phones(list.iter().map(String::as_str))?),
        None => None,
    };
    let db = env.d1("DB")?;
    if let Some(changes) = patch.fields.as_ref().filter(|f| !f.is_empty()) {
        // The stored values and home store, read at the edit's version: a newer write fails
        // the version check below, so these are the values the edit changes.
        let read = db
            .batch(vec![
                db_customers::home(id).d1(&db)?,
                db_customers::custom(id).d1(&db)?,
                crate::resources::custom_fields::all_stmt(&db),
            ])
            .await?;
        // The access checks the write below makes, made first: nothing about the fields is
        // told to someone who may not edit this customer.
        let home = notes::check_visible(&read[0], &viewer)?;
        if !viewer.may_edit_customer(home.home_store_id) {
            return Err(ApiError::Forbidden("other_store"));
        }
        let home = patch.home_store_id.unwrap_or(home.home_store_id);
        let defs = crate::resources::custom_fields::from(&read[2])?;
        let custom = crate::domain::fields::apply(
            &defs,
            &db_customers::custom_from(&read[1])?,
            changes,
            home,
            viewer.is_admin(),
        )?;
        set(
            "custom_key",
            s(&crate::domain::fields::search_key(&defs, &custom)),
        );
        set("custom", db::json(&custom));
    }
    // One token per edit: the phone statements below apply only if this edit's version and
    // access checks passed (a batch is one transaction, but a zero-row UPDATE is no failure).
    let mut token = [0u8; 12];
    getrandom::getrandom(&mut token).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let token = crate::domain::password::to_hex(&token);
    let duplicates = match &phones {
        Some(phones) => check_attach(&db, &viewer, phones, Some(id)).await?,
        None => vec![],
    };
    let mut stmts = vec![
        db_customers::home(id),
        db_customers::update(id, version, &token, viewer.scope(), columns),
    ];
    if let Some(phones) = &phones {
        stmts.extend(db_customers::replace_phones(id, phones, &token));
    }
    let mut batch = stmts
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
    batch.push(cards::by_id_stmt(&db, id, http::now_ms(), viewer.scope())?);
    let results = db.batch(batch).await?;
    let home = notes::check_visible(&results[0], &viewer)?;
    if !viewer.may_edit_customer(home.home_store_id) {
        return Err(ApiError::Forbidden("other_store"));
    }
    let current = cards::one(results.last().expect("the batch ends with the read"))?;
    if db::changes(&results[1]) == 0 {
        return Err(ApiError::Conflict {
            code: "version_conflict",
            message: "他の人がこの顧客を更新しました。最新の内容を確認してから保存してください"
                .into(),
            current: serde_json::to_value(&current).ok(),
        });
    }
    announce(env, &current, None).await;
    crate::resources::dialpad::sync::customers(env, &req, &[id]).await;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::CustomerUpdated)
        .customer(id)
        .detail(json!({ "changes": changed }))
        .record();
    Ok(http::json_response(
        200,
        &json!({ "customer": current, "duplicates": duplicates }),
    )?)
}

/// Tells the consoles and popups that may see this customer (admins, and the staff of the
/// home store) that a caller's name or numbers changed, so open rows and popups follow
/// without a reload. `merged_from`: the customer just merged into this one (gone now) and
/// their home store, so a popup showing them switches to the one kept; the home store's staff
/// are told that id only when they could see that customer. Best effort: the write is done
/// whether or not the hub answers.
pub(crate) async fn announce(
    env: &Env,
    card: &CustomerCard,
    merged_from: Option<(i64, Option<i64>)>,
) {
    let store_id = card.home_store.as_ref().and_then(|h| h.id);
    let message = |merged_from: Option<i64>| SocketMessage::CustomerChanged {
        customer: ChangedCustomer {
            id: card.id,
            name: card.name.clone(),
            phones: card.phones.clone(),
        },
        store_id,
        merged_from,
    };
    let whole = message(merged_from.map(|(from, _)| from));
    let mut staff_message = None;
    if let Some((_, from_home)) = merged_from {
        let staff = Viewer::staff_of(store_id);
        if !staff.may_see_customer(from_home) {
            staff_message = Some(message(None).text());
        }
    }
    let req = BroadcastRequest {
        // Unique per change: the hub sends each key once.
        key: format!("customer:{}:{}:{}", card.id, card.version, http::now_ms()),
        store_id,
        message: whole.text(),
        // The store room is the customer's home store: its staff may see the customer.
        staff_message,
        live: false,
    };
    if let Err(e) = hub_client::broadcast(env, &req).await {
        worker::console_warn!("customer_changed not broadcast: {e:?}");
    }
}

/// `DELETE /api/customers/{id}` (admin).
pub async fn delete(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let r = db_customers::delete(id).d1(&env.d1("DB")?)?.run().await?;
    if db::changes(&r) == 0 {
        return Err(ApiError::NotFound);
    }
    crate::resources::dialpad::sync::customers(env, &req, &[id]).await;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::CustomerDeleted)
        .customer(id)
        .record();
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}
