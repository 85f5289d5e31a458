//! `customers` and `customer_phones`: the search keys (`domain::search::key`) of rows that
//! were written without them, a page of the CSV export, 顧客's search, and the writes
//! (registration, edit, delete, merge). The card itself is read with `db::cards`.
use crate::db::cards::card_columns;
use crate::domain::access::{call_links_customer_sql, call_visible_sql, customer_visible_sql};
use crate::domain::search;
use crate::platform::db::{self, Stmt, Val};
use crate::platform::http::ApiResult;
use serde::Deserialize;
use serde_json::json;

/// Most customers rows written before search keys existed (or by a script straight into D1)
/// get theirs here, in bounded steps: one read, one write.
pub async fn backfill_keys(db: &worker::D1Database) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        name: String,
        kana: String,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT id, name, kana FROM customers WHERE name_key IS NULL LIMIT 1000")
        .all()
        .await?
        .results()?;
    if rows.is_empty() {
        return Ok(0);
    }
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| json!([r.id, search::key(&r.name), search::key(&r.kana)]))
        .collect();
    db::stmt(
        db,
        "UPDATE customers SET name_key = json_extract(j.value, '$[1]'), kana_key = json_extract(j.value, '$[2]') \
         FROM json_each(?1) j WHERE customers.id = json_extract(j.value, '$[0]')",
        &[db::json(&keys)],
    )?
    .run()
    .await?;
    Ok(rows.len())
}

/// A customer as the CSV export writes them.
#[derive(Deserialize)]
pub struct ExportRow {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub phones: Option<String>,
    pub store: Option<String>,
    pub customer_type: String,
    pub flag: Option<String>,
    pub visit_count: i64,
    pub total_spend: i64,
    pub last_visit_at: Option<String>,
    pub memo: String,
    pub custom: Option<String>,
}

/// The export's next page: up to `limit` customers that `scope` may see (`Viewer::scope`),
/// after id `after`, in id order.
pub fn export_page_stmt(scope: Option<String>, after: i64, limit: i64) -> Stmt {
    Stmt::new(
        format!(
            "SELECT c.id, c.name, c.kana, (SELECT group_concat(phone, ' / ') FROM customer_phones WHERE customer_id = c.id) AS phones, \
               s.name AS store, c.customer_type, c.flag, c.visit_count, c.total_spend, c.last_visit_at, c.memo, c.custom \
             FROM customers c LEFT JOIN stores s ON s.id = c.home_store_id WHERE {} AND c.id > ?2 ORDER BY c.id LIMIT ?3",
            customer_visible_sql(1)
        ),
        vec![scope.into(), after.into(), limit.into()],
    )
}

/// A customer's home store, to apply the access policy (no row: no such customer).
pub fn home(customer: i64) -> Stmt {
    Stmt::new(
        "SELECT id, home_store_id FROM customers WHERE id = ?1",
        vec![customer.into()],
    )
}

#[derive(Deserialize)]
pub struct Home {
    pub home_store_id: Option<i64>,
}

/// A customer's stored custom field values, as one JSON object ([`custom_from`] reads it).
pub fn custom(customer: i64) -> Stmt {
    Stmt::new(
        "SELECT custom FROM customers WHERE id = ?1",
        vec![customer.into()],
    )
}

/// The values [`custom`] read, empty when there is no row.
pub fn custom_from(r: &worker::D1Result) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    #[derive(Deserialize)]
    struct Row {
        custom: Option<String>,
    }
    let row: Option<Row> = db::first(r)?;
    Ok(row
        .and_then(|r| r.custom)
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default())
}

/// A customer as registered (the popup's 新規登録 and 顧客's), validated by the handler.
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub kana: &'a str,
    pub memo: &'a str,
    pub phone: &'a str,
    pub home_store: Option<i64>,
    pub created_by: i64,
    pub custom: &'a serde_json::Map<String, serde_json::Value>,
    pub custom_key: &'a str,
}

/// Registers a customer: the row, their number, and the link of their earlier calls from the
/// number that `scope` (`Viewer::scope`, the creator's) may see and whose store may see the
/// new customer: a staff create links its own store's calls only, never another store's (no
/// squatting on a number another store's caller uses). One batch, so all or nothing (an
/// unknown store fails the row's foreign key); `cards::newest_stmt` reads the card back.
pub fn create(c: &NewCustomer, scope: Option<String>) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "INSERT INTO customers (name, kana, memo, home_store_id, name_key, kana_key, created_by, custom, custom_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            vec![
                c.name.into(),
                c.kana.into(),
                c.memo.into(),
                c.home_store.into(),
                search::key(c.name).into(),
                search::key(c.kana).into(),
                c.created_by.into(),
                db::json(c.custom),
                c.custom_key.into(),
            ],
        ),
        Stmt::new(
            "INSERT INTO customer_phones (phone, customer_id) VALUES (?1, last_insert_rowid())",
            vec![c.phone.into()],
        ),
        Stmt::new(
            format!(
                "UPDATE calls AS k SET customer_id = (SELECT max(id) FROM customers) \
                 WHERE k.caller = ?1 AND k.customer_id IS NULL AND {} AND {}",
                call_visible_sql(2),
                call_links_customer_sql(3)
            ),
            vec![c.phone.into(), scope.into(), c.home_store.into()],
        ),
    ]
}

/// 顧客's search: by number (any part of it), folded name, kana or custom values, among the
/// customers `scope` may see.
pub struct Search {
    /// The query folded (`domain::search::key`); empty: every customer.
    pub key: String,
    /// The query as a number, when it reads as one.
    pub digits: Option<String>,
    pub page: i64,
    pub per_page: i64,
    /// Epoch ms 30 days ago (the cards' missed calls).
    pub thirty_days_ago: i64,
    pub scope: Option<String>,
}

impl Search {
    /// Text matches the folded keys; `instr`, not LIKE, so the query's length in bytes is no
    /// limit (D1 caps a LIKE pattern at 50 bytes: about 16 kanji).
    fn filter() -> String {
        format!(
            "(?1 = '' OR (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id \
               AND instr(p.phone, ?2) > 0)) OR instr(c.name_key, ?3) > 0 OR instr(c.kana_key, ?3) > 0 \
               OR instr(c.custom_key, ?3) > 0) AND {}",
            customer_visible_sql(4)
        )
    }

    fn args(&self) -> Vec<Val> {
        vec![
            self.key.as_str().into(),
            self.digits.as_deref().into(),
            self.key.as_str().into(),
            self.scope.as_deref().into(),
            self.per_page.into(),
            ((self.page - 1) * self.per_page).into(),
            self.thirty_days_ago.into(),
            self.scope.as_deref().into(),
        ]
    }

    /// How many customers match.
    pub fn count(&self) -> Stmt {
        let mut args = self.args();
        args.truncate(4);
        Stmt::new(
            format!(
                "SELECT count(*) AS n FROM customers c WHERE {}",
                Self::filter()
            ),
            args,
        )
    }

    /// The page asked for, as cards, in kana order.
    pub fn page(&self) -> Stmt {
        Stmt::new(
            format!(
                "SELECT {} FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id \
                 WHERE {} ORDER BY c.kana, c.name, c.id LIMIT ?5 OFFSET ?6",
                card_columns(7),
                Self::filter()
            ),
            self.args(),
        )
    }
}

/// An edit of a customer based on `version`, with the columns it sets (validated by the
/// handler). It applies only where the row is at that version and `scope` may see it; `token`
/// marks the row, so that the statements of [`replace_phones`] apply only if this one did (a
/// batch is one transaction, but a zero-row UPDATE is no failure).
pub fn update(
    id: i64,
    version: i64,
    token: &str,
    scope: Option<String>,
    columns: Vec<(&'static str, Val)>,
) -> Stmt {
    // ?1 id, ?2 version, ?3 edit token, ?4 the viewer's scope; the columns follow.
    let assignments: String = columns
        .iter()
        .enumerate()
        .map(|(n, (col, _))| format!(", {col} = ?{}", n + 5))
        .collect();
    let mut args: Vec<Val> = vec![id.into(), version.into(), token.into(), scope.into()];
    args.extend(columns.into_iter().map(|(_, v)| v));
    Stmt::new(
        format!(
            "UPDATE customers AS c SET version = version + 1, edit_token = ?3, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'){assignments} \
             WHERE c.id = ?1 AND c.version = ?2 AND {}",
            customer_visible_sql(4)
        ),
        args,
    )
}

/// A customer's numbers replaced by `phones`, if the [`update`] marked with `token` applied.
pub fn replace_phones(id: i64, phones: &[String], token: &str) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "DELETE FROM customer_phones WHERE customer_id = ?1 \
             AND (SELECT edit_token FROM customers WHERE id = ?1) = ?2",
            vec![id.into(), token.into()],
        ),
        Stmt::new(
            "INSERT OR IGNORE INTO customer_phones (phone, customer_id) SELECT value, ?1 FROM json_each(?2) \
             WHERE (SELECT edit_token FROM customers WHERE id = ?1) = ?3",
            vec![id.into(), db::json(phones), token.into()],
        ),
    ]
}

pub fn delete(id: i64) -> Stmt {
    Stmt::new("DELETE FROM customers WHERE id = ?1", vec![id.into()])
}

/// Every write of a merge applies only when both customers exist (?1 the one kept, ?2 the
/// one merged in) and their numbers together stay within ?3, so a missing one changes nothing.
const BOTH: &str = "(SELECT count(*) FROM customers WHERE id IN (?1, ?2)) = 2 \
  AND (SELECT count(DISTINCT phone) FROM customer_phones WHERE customer_id IN (?1, ?2)) <= ?3";

/// Merges customer `from` into `id` (the numbers, notes and calls of `from` move to `id`,
/// visits and spend add up to at most `max_amount`, the later last visit and both memos stay
/// (cut at `max_memo`), and `from` is deleted), if together they have at most `max_phones`
/// numbers. First [`MergeCheck`], then `from`'s [`Home`], then the writes.
pub fn merge(id: i64, from: i64, max_phones: i64, max_amount: i64, max_memo: i64) -> Vec<Stmt> {
    let args = vec![
        id.into(),
        from.into(),
        max_phones.into(),
        max_amount.into(),
        max_memo.into(),
    ];
    let stmt = |sql: String| Stmt::new(sql, args[..3].to_vec());
    let stmt5 = |sql: String| Stmt::new(sql, args.clone());
    vec![
        stmt(
            "SELECT (SELECT count(*) FROM customers WHERE id IN (?1, ?2)) AS n, \
               (SELECT count(DISTINCT phone) FROM customer_phones WHERE customer_id IN (?1, ?2)) AS phones, \
               ?3 AS max_phones"
                .into(),
        ),
        stmt("SELECT home_store_id FROM customers WHERE id = ?2 AND ?1 IS NOT NULL AND ?3 IS NOT NULL".into()),
        stmt(format!(
            "INSERT OR IGNORE INTO customer_phones (phone, customer_id) \
             SELECT phone, ?1 FROM customer_phones WHERE customer_id = ?2 AND {BOTH}"
        )),
        stmt(format!(
            "UPDATE customer_notes SET customer_id = ?1 WHERE customer_id = ?2 AND {BOTH}"
        )),
        stmt(format!(
            "UPDATE calls SET customer_id = ?1 WHERE customer_id = ?2 AND {BOTH}"
        )),
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
        )),
        stmt(format!("DELETE FROM customers WHERE id = ?2 AND {BOTH}")),
    ]
}

/// What a [`merge`]'s first statement reads: both customers there (`n` = 2), and their
/// numbers together.
#[derive(Deserialize)]
pub struct MergeCheck {
    pub n: i64,
    pub phones: i64,
}

/// The other customers (not `except`) who have one of `phones`: the home stores of all of
/// them (`Home` rows), then the first `limit` by number (`domain::customer::NumberOwner`).
pub fn owners(phones: &[String], except: Option<i64>, limit: usize) -> Vec<Stmt> {
    let args = vec![db::json(phones), except.into()];
    const WHERE: &str =
        "p.phone IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR c.id <> ?2)";
    vec![
        Stmt::new(
            format!(
                "SELECT DISTINCT c.home_store_id FROM customer_phones p \
                 JOIN customers c ON c.id = p.customer_id WHERE {WHERE}"
            ),
            args.clone(),
        ),
        Stmt::new(
            format!(
                "SELECT p.phone, c.id, c.name, c.home_store_id, hs.name AS home_store_name \
                 FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
                 LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE {WHERE} \
                 ORDER BY p.phone, c.id LIMIT {limit}"
            ),
            args,
        ),
    ]
}

/// The customers of the first `limit` numbers that customers of different home stores share
/// ([`SharedRow`]), by number.
pub fn shared_across_stores(limit: i64) -> Stmt {
    Stmt::new(
        "SELECT p.phone, c.id, c.name, c.home_store_id, hs.name AS home_store_name \
         FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
         LEFT JOIN stores hs ON hs.id = c.home_store_id \
         WHERE p.phone IN (SELECT p2.phone FROM customer_phones p2 JOIN customers c2 ON c2.id = p2.customer_id \
           GROUP BY p2.phone HAVING count(DISTINCT c2.home_store_id) > 1 ORDER BY p2.phone LIMIT ?1) \
         ORDER BY p.phone, c.id",
        vec![limit.into()],
    )
}

#[derive(Deserialize)]
pub struct SharedRow {
    pub phone: String,
    pub id: i64,
    pub name: String,
    pub home_store_id: Option<i64>,
    pub home_store_name: Option<String>,
}

/// The columns of an imported row, in `customers`' order, from its JSON item `j`.
const IMPORT_FIELDS: &str = "json_extract(j.value, '$.name'), json_extract(j.value, '$.kana'), \
  json_extract(j.value, '$.memo'), json_extract(j.value, '$.store'), json_extract(j.value, '$.type'), \
  json_extract(j.value, '$.flag'), json_extract(j.value, '$.visits'), json_extract(j.value, '$.spend'), \
  json_extract(j.value, '$.last'), json_extract(j.value, '$.name_key'), json_extract(j.value, '$.kana_key'), \
  json_extract(j.value, '$.custom'), json_extract(j.value, '$.custom_key')";

/// The CSV import's updates: `json`, an array of items with their `id`, replaces those
/// customers' fields and adds their numbers.
pub fn import_update(json: &str) -> [Stmt; 2] {
    [
        Stmt::new(
            format!(
                "UPDATE customers SET (name, kana, memo, home_store_id, customer_type, flag, visit_count, \
                   total_spend, last_visit_at, name_key, kana_key, custom, custom_key) = (SELECT {IMPORT_FIELDS} FROM json_each(?1) j \
                   WHERE json_extract(j.value, '$.id') = customers.id), version = version + 1, \
                   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))"
            ),
            vec![json.into()],
        ),
        Stmt::new(
            "INSERT OR IGNORE INTO customer_phones (phone, customer_id) \
             SELECT p.value, json_extract(j.value, '$.id') FROM json_each(?1) j, json_each(j.value, '$.phones') p",
            vec![json.into()],
        ),
    ]
}

/// The CSV import's new customers: `json`, an array of `rows` items, created by `by`, with
/// their numbers.
pub fn import_insert(json: &str, rows: usize, by: i64) -> [Stmt; 2] {
    [
        Stmt::new(
            format!(
                "INSERT INTO customers (name, kana, memo, home_store_id, customer_type, flag, visit_count, \
                   total_spend, last_visit_at, name_key, kana_key, custom, custom_key, created_by) \
                 SELECT {IMPORT_FIELDS}, ?2 FROM json_each(?1) j ORDER BY j.key"
            ),
            vec![json.into(), by.into()],
        ),
        // The rows just inserted hold the highest ids, in the chunk's order (the batch is one
        // transaction, so nothing else inserts in between): row k got max(id) - rows + 1 + k.
        Stmt::new(
            "INSERT OR IGNORE INTO customer_phones (phone, customer_id) \
             SELECT p.value, (SELECT max(id) FROM customers) - ?2 + 1 + j.key \
             FROM json_each(?1) j, json_each(j.value, '$.phones') p",
            vec![json.into(), (rows as i64).into()],
        ),
    ]
}

/// Who has each of `phones` ([`PhoneRow`]).
pub fn owners_of_numbers(phones: &[&str]) -> Stmt {
    Stmt::new(
        "SELECT phone, customer_id FROM customer_phones WHERE phone IN (SELECT value FROM json_each(?1))",
        vec![db::json(phones)],
    )
}

/// The numbers of the customers `ids` ([`PhoneRow`]).
pub fn numbers_of(ids: &[i64]) -> Stmt {
    Stmt::new(
        "SELECT phone, customer_id FROM customer_phones \
         WHERE customer_id IN (SELECT value FROM json_each(?1))",
        vec![db::json(ids)],
    )
}

#[derive(Deserialize)]
pub struct PhoneRow {
    pub phone: String,
    pub customer_id: i64,
}

/// Which of the customers `ids` exist (`id`).
pub fn existing(ids: &[i64]) -> Stmt {
    Stmt::new(
        "SELECT id FROM customers WHERE id IN (SELECT value FROM json_each(?1))",
        vec![db::json(ids)],
    )
}

/// The stored custom values of the customers `ids` ([`CustomRow`]).
pub fn customs_of(ids: &[i64]) -> Stmt {
    Stmt::new(
        "SELECT id, custom FROM customers WHERE id IN (SELECT value FROM json_each(?1))",
        vec![db::json(ids)],
    )
}

#[derive(Deserialize)]
pub struct CustomRow {
    pub id: i64,
    pub custom: Option<String>,
}

/// A customer's name and home store ([`NameRow`]).
pub fn name_and_home(id: i64) -> Stmt {
    Stmt::new(
        "SELECT id, name, home_store_id FROM customers WHERE id = ?1",
        vec![id.into()],
    )
}

#[derive(Deserialize)]
pub struct NameRow {
    pub id: i64,
    pub name: String,
    pub home_store_id: Option<i64>,
}

/// Every customer's id, in order, or those updated since `since` (an ISO time).
pub fn ids(since: Option<&str>) -> Stmt {
    match since {
        Some(since) => Stmt::new(
            "SELECT id FROM customers WHERE updated_at >= ?1 ORDER BY id",
            vec![since.into()],
        ),
        None => Stmt::new("SELECT id FROM customers ORDER BY id", vec![]),
    }
}

/// A customer as a Dialpad contact: id, name and numbers (`phones`, a JSON array, in the
/// order they were added).
pub fn as_contact(id: i64) -> Stmt {
    Stmt::new(
        "SELECT c.id, c.name, (SELECT json_group_array(phone) FROM \
           (SELECT phone FROM customer_phones WHERE customer_id = c.id ORDER BY rowid)) AS phones \
         FROM customers c WHERE c.id = ?1",
        vec![id.into()],
    )
}
