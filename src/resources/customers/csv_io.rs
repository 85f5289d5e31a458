//! CSV import and export of customers (the columns of `domain::csv`).
//!
//! Import is all or nothing and reports every problem of every row in one pass. It writes in
//! a handful of statements whatever the file's size: rows travel as JSON text bound to one
//! parameter and read with `json_each`, chunked so that no bound value nears D1's 2 MB limit,
//! and the statements go in one batch, which D1 runs as one transaction.
use crate::db::customers::{self as db_customers, export_page_stmt, ExportRow};
use crate::domain::access::Viewer;
use crate::domain::csv::{self, ImportRow, RowError};
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::domain::search;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::wasm_bindgen::{self, prelude::*, JsValue};
use worker::{js_sys, D1Database, D1PreparedStatement, Env, Request, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextDecoder)]
    type JsTextDecoder;
    #[wasm_bindgen(constructor, js_class = "TextDecoder", catch)]
    fn new(label: &str, options: &JsValue) -> Result<JsTextDecoder, JsValue>;
    #[wasm_bindgen(method, catch, js_class = "TextDecoder")]
    fn decode(this: &JsTextDecoder, input: &[u8]) -> Result<String, JsValue>;
}

/// UTF-8 when the bytes are valid UTF-8, else Shift_JIS (what Japanese Excel writes), decoded
/// by the runtime's WHATWG TextDecoder in fatal mode so a file in neither is refused.
fn decode_csv(bytes: &[u8], encoding: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::bad(
            "invalid_encoding",
            "file",
            "文字コードを判別できません (UTF-8 または Shift_JIS のCSVを指定してください)",
        )
    };
    let utf8 = std::str::from_utf8(bytes).ok();
    match (encoding, utf8) {
        ("utf-8", Some(t)) | ("auto", Some(t)) => Ok(t.to_string()),
        ("utf-8", None) => Err(bad()),
        ("shift_jis" | "auto", _) => {
            let opts = js_sys::Object::new();
            js_sys::Reflect::set(&opts, &"fatal".into(), &JsValue::TRUE).map_err(|_| bad())?;
            let decoder = JsTextDecoder::new("shift_jis", &opts).map_err(|_| bad())?;
            decoder.decode(bytes).map_err(|_| bad())
        }
        _ => Err(ApiError::bad(
            "invalid_encoding",
            "encoding",
            "encoding は auto, utf-8, shift_jis のいずれかです",
        )),
    }
}

/// A row as it travels to SQL inside the bound JSON.
#[derive(Serialize)]
struct Item<'a> {
    id: Option<i64>,
    name: &'a str,
    kana: &'a str,
    memo: &'a str,
    store: Option<i64>,
    #[serde(rename = "type")]
    customer_type: &'a str,
    flag: Option<&'a str>,
    visits: i64,
    spend: i64,
    last: Option<&'a str>,
    phones: &'a [String],
    name_key: String,
    kana_key: String,
    /// The customer's custom values after this row (JSON text) and their search key.
    custom: String,
    custom_key: String,
}

impl<'a> Item<'a> {
    /// `custom`: the customer's stored values (empty for a new one); the row's cells apply
    /// onto them (an empty cell clears, a column not in the file keeps).
    fn new(
        row: &'a ImportRow,
        id: Option<i64>,
        store: Option<i64>,
        mut custom: serde_json::Map<String, serde_json::Value>,
        defs: &[crate::domain::fields::Definition],
    ) -> Self {
        for (field, v) in &row.custom {
            match v {
                Some(v) => custom.insert(field.to_string(), json!(v)),
                None => custom.remove(&field.to_string()),
            };
        }
        Item {
            id,
            name: &row.name,
            kana: &row.kana,
            memo: &row.memo,
            store,
            customer_type: &row.customer_type,
            flag: row.flag.as_deref(),
            visits: row.visits,
            spend: row.spend,
            last: row.last_visit.as_deref(),
            phones: &row.phones,
            name_key: search::key(&row.name),
            kana_key: search::key(&row.kana),
            custom_key: crate::domain::fields::search_key(defs, &custom),
            custom: serde_json::Value::Object(custom).to_string(),
        }
    }
}

/// Largest JSON text bound to one statement (D1 refuses values over 2 MB).
const CHUNK_BYTES: usize = 512 * 1024;

/// Splits items into JSON arrays of at most [`CHUNK_BYTES`] each. Returns (json, rows) pairs.
fn chunks(items: &[Item]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut cur = String::from("[");
    let mut n = 0;
    for item in items {
        let text = serde_json::to_string(item).unwrap_or_default();
        if n > 0 && cur.len() + text.len() + 2 > CHUNK_BYTES {
            cur.push(']');
            out.push((std::mem::replace(&mut cur, String::from("[")), n));
            n = 0;
        }
        if n > 0 {
            cur.push(',');
        }
        cur.push_str(&text);
        n += 1;
    }
    if n > 0 {
        cur.push(']');
        out.push((cur, n));
    }
    out
}

fn update_stmts(db: &D1Database, json: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    db_customers::import_update(json)
        .iter()
        .map(|s| s.d1(db))
        .collect()
}

/// `by`: the admin importing, recorded as each new customer's `created_by` (as a create does).
fn insert_stmts(
    db: &D1Database,
    json: &str,
    rows: usize,
    by: i64,
) -> ApiResult<Vec<D1PreparedStatement>> {
    db_customers::import_insert(json, rows, by)
        .iter()
        .map(|s| s.d1(db))
        .collect()
}

/// `POST /api/customers/import?encoding=auto|utf-8|shift_jis` (admin). Body: the CSV file.
/// All or nothing: any bad row refuses the whole file with every problem listed.
pub async fn import(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let encoding = http::query_param(&req, "encoding")
        .unwrap_or_else(|| "auto".into())
        .to_lowercase();
    let bytes = http::read_body(&mut req, 5 * 1024 * 1024).await?;
    let text = decode_csv(&bytes, &encoding)?;
    let records = csv::parse(&text).map_err(|e| {
        ApiError::InvalidRows(vec![RowError {
            line: e.line,
            field: "file",
            message: e.message,
        }])
    })?;
    let db = env.d1("DB")?;
    let defs = crate::resources::custom_fields::load(&db).await?;
    let (rows, mut errors) = csv::read_rows_with(&records, &defs).map_err(ApiError::InvalidRows)?;

    // Stores, existing ids and the owners of every number, in one round trip.
    #[derive(Deserialize)]
    struct IdRow {
        id: i64,
    }
    let all_phones: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.phones.iter().map(String::as_str))
        .collect();
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.id).collect();
    let lookups = db
        .batch(vec![
            db.prepare(crate::db::stores::NAMES),
            db_customers::owners_of_numbers(&all_phones).d1(&db)?,
            db_customers::existing(&ids).d1(&db)?,
        ])
        .await?;
    let stores: Vec<crate::db::stores::StoreName> = db::rows(&lookups[0])?;
    let phone_owners: Vec<db_customers::PhoneRow> = db::rows(&lookups[1])?;
    let existing: Vec<i64> = db::rows::<IdRow>(&lookups[2])?
        .into_iter()
        .map(|r| r.id)
        .collect();

    let mut updates: Vec<(&ImportRow, i64, Option<i64>)> = Vec::new();
    let mut inserts = Vec::new();
    // (line, customer, the row's numbers) of every update, for the numbers' limit below.
    let mut updated_numbers: Vec<(usize, i64, &Vec<String>)> = Vec::new();
    for row in &rows {
        let store_id = match &row.home_store {
            None => None,
            Some(name) => match stores.iter().find(|s| &s.name == name) {
                Some(st) => Some(st.id),
                None => {
                    errors.push(RowError {
                        line: row.line,
                        field: "homeStore",
                        message: format!("店舗「{name}」は登録されていません"),
                    });
                    None
                }
            },
        };
        // Update: by id when given, else the one customer who already has the first number.
        let target = match row.id {
            Some(id) if existing.contains(&id) => Some(id),
            Some(id) => {
                errors.push(RowError {
                    line: row.line,
                    field: "id",
                    message: format!("ID {id} の顧客はいません"),
                });
                None
            }
            None => {
                let owners: Vec<i64> = phone_owners
                    .iter()
                    .filter(|p| Some(&p.phone) == row.phones.first())
                    .map(|p| p.customer_id)
                    .collect();
                (owners.len() == 1).then(|| owners[0])
            }
        };
        match target {
            Some(id) => {
                updated_numbers.push((row.line, id, &row.phones));
                updates.push((row, id, store_id));
            }
            None => inserts.push(Item::new(
                row,
                None,
                store_id,
                serde_json::Map::new(),
                &defs,
            )),
        }
    }
    // An update adds its numbers to the customer's: together they stay within MAX_PHONES.
    if !updated_numbers.is_empty() {
        let targets: Vec<i64> = updated_numbers.iter().map(|(_, id, _)| *id).collect();
        let have: Vec<db_customers::PhoneRow> =
            db::rows(&db_customers::numbers_of(&targets).d1(&db)?.all().await?)?;
        for (line, id, phones) in &updated_numbers {
            let mut all: Vec<&str> = have
                .iter()
                .filter(|p| p.customer_id == *id)
                .map(|p| p.phone.as_str())
                .collect();
            all.extend(phones.iter().map(String::as_str));
            all.sort_unstable();
            all.dedup();
            if all.len() > customer::MAX_PHONES {
                errors.push(RowError {
                    line: *line,
                    field: "phones",
                    message: format!(
                        "電話番号は1人{}件までです（登録済みの番号と合わせて{}件になります）",
                        customer::MAX_PHONES,
                        all.len()
                    ),
                });
            }
        }
    }
    if !errors.is_empty() {
        // One list in file order, a row's problems in column order.
        errors.sort_by_key(|e| e.line);
        return Err(ApiError::InvalidRows(errors));
    }
    // The updated customers' stored custom values, which the rows' cells apply onto.
    let stored: Vec<db_customers::CustomRow> = if updates.is_empty() {
        vec![]
    } else {
        let targets: Vec<i64> = updates.iter().map(|(_, id, _)| *id).collect();
        db::rows(&db_customers::customs_of(&targets).d1(&db)?.all().await?)?
    };
    let updates: Vec<Item> = updates
        .into_iter()
        .map(|(row, id, store)| {
            let custom = stored
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.custom.as_deref())
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            Item::new(row, Some(id), store, custom, &defs)
        })
        .collect();
    let mut batch = Vec::new();
    for (json, _) in chunks(&updates) {
        batch.extend(update_stmts(&db, &json)?);
    }
    for (json, n) in chunks(&inserts) {
        batch.extend(insert_stmts(&db, &json, n, session.uid)?);
    }
    let since = http::iso(http::now_ms() - 1000);
    db.batch(batch).await?;
    crate::resources::dialpad::sync::enqueue(
        env,
        crate::resources::dialpad::sync::Enqueue {
            since: Some(since),
            origin: crate::platform::url::origin(&req),
            ..Default::default()
        },
    )
    .await;
    // New customers' ids are D1's to give: the route tells the pop index to re-read
    // everything (one pass, `IndexEffect::All`).
    crate::resources::audit::Entry::by(
        &session,
        crate::resources::audit::Action::CustomersImported,
    )
    .count(rows.len() as i64)
    .detail(json!({ "created": inserts.len(), "updated": updates.len() }))
    .record();
    Ok(http::json_response(
        200,
        &json!({ "imported": rows.len(), "created": inserts.len(), "updated": updates.len() }),
    )?)
}

/// Rows read per D1 query while streaming an export.
const EXPORT_PAGE: i64 = 500;
/// Exports a user may start per minute: each reads the whole customer table.
const EXPORTS_PER_MINUTE: i64 = 3;

/// Where a streamed export is: the last id written, and whether the table is exhausted.
struct ExportCursor {
    db: D1Database,
    scope: Option<String>,
    after: Option<i64>,
    done: bool,
    /// The custom fields exported, one column each after the standard ones.
    defs: Vec<crate::domain::fields::Definition>,
    /// 操作履歴: recorded with the rows sent when the stream ends.
    audit: crate::resources::audit::ExportAudit,
}

/// The next page of an export as CSV text (the header first), or None at the end.
async fn export_page(mut cur: ExportCursor) -> worker::Result<Option<(Vec<u8>, ExportCursor)>> {
    if cur.done {
        cur.audit.finished();
        return Ok(None);
    }
    let Some(after) = cur.after else {
        let mut out = String::from("\u{feff}");
        let mut header = vec![
            "ID",
            "氏名",
            "フリガナ",
            "電話番号",
            "店舗",
            "区分",
            "フラグ",
            "来店回数",
            "累計利用額",
            "最終来店日",
            "メモ",
        ];
        header.extend(cur.defs.iter().map(|d| d.label.as_str()));
        out.push_str(&csv::write_row(&header));
        cur.after = Some(0);
        return Ok(Some((out.into_bytes(), cur)));
    };
    let rows: Vec<ExportRow> = db::page_rows(
        &cur.db,
        &export_page_stmt(cur.scope.clone(), after, EXPORT_PAGE),
    )
    .await?;
    if rows.is_empty() {
        cur.audit.finished();
        return Ok(None);
    }
    cur.done = (rows.len() as i64) < EXPORT_PAGE;
    cur.after = rows.last().map(|r| r.id);
    cur.audit.add_rows(rows.len());
    let mut out = String::new();
    for r in rows {
        let custom: serde_json::Map<String, serde_json::Value> = r
            .custom
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let values: Vec<&str> = cur
            .defs
            .iter()
            .map(|d| {
                custom
                    .get(&d.id.to_string())
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
            })
            .collect();
        let (id, visits, spend) = (
            r.id.to_string(),
            r.visit_count.to_string(),
            r.total_spend.to_string(),
        );
        let mut cells: Vec<&str> = vec![
            &id,
            &r.name,
            &r.kana,
            r.phones.as_deref().unwrap_or(""),
            r.store.as_deref().unwrap_or(""),
            &r.customer_type,
            r.flag.as_deref().unwrap_or(""),
            &visits,
            &spend,
            r.last_visit_at.as_deref().unwrap_or(""),
            &r.memo,
        ];
        cells.extend(values);
        // The numbers as Excel text (`="090…"`), so they keep their leading 0 there.
        out.push_str(&csv::write_row_with_text(&cells, &[3]));
    }
    Ok(Some((out.into_bytes(), cur)))
}

/// Counts one action of `key` if fewer than `max` happened in the last `window_ms`; a 429
/// otherwise. One statement, so parallel requests cannot both take the last slot.
pub(crate) async fn rate_limit(
    db: &D1Database,
    key: &str,
    max: i64,
    window_ms: i64,
) -> ApiResult<()> {
    let now = http::now_ms();
    let batch = crate::db::rate::count_action(key, now, window_ms, max)
        .iter()
        .map(|s| s.d1(db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    if db::changes(&results[1]) == 0 {
        return Err(ApiError::RateLimited((window_ms / 1000) as u32));
    }
    Ok(())
}

/// `GET /api/customers/export` — CSV in the import's own format (so it round-trips), of the
/// customers this user may see (staff: their store's and those with no store). Streamed a
/// page of rows at a time, so neither the Worker nor D1 holds the whole table at once, and
/// limited to a few exports per minute per user.
pub async fn export(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    rate_limit(
        &db,
        &format!("export:{}", session.uid),
        EXPORTS_PER_MINUTE,
        60_000,
    )
    .await?;
    let defs = crate::resources::custom_fields::load(&db)
        .await?
        .into_iter()
        .filter(|d| viewer.may_see_store_setting(d.store_id))
        .collect();
    let cursor = ExportCursor {
        db,
        scope: viewer.scope(),
        after: None,
        done: false,
        defs,
        audit: crate::resources::audit::ExportAudit::new(crate::resources::audit::Entry::by(
            &session,
            crate::resources::audit::Action::CustomersExported,
        )),
    };
    http::csv_download(
        "customers.csv",
        futures_util::stream::try_unfold(cursor, export_page),
    )
}
