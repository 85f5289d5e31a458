//! Customer field rules: the one validator behind every write path (registration from the
//! popup, the customer page's edit, CSV import). Pure.
//!
//! Each function takes what a person typed and returns the value to store, or a 400 naming
//! the API field. CSV import reports the same errors per row, so a rule changed here changes
//! for every path at once.
use crate::domain::access::Viewer;
use crate::domain::error::{max_chars, ApiError};
use crate::domain::phone::{self, Phone};
use crate::domain::search;
use crate::domain::store::StoreRef;
use serde::{Deserialize, Serialize};

pub const TYPES: &[&str] = &["新規", "会員", "VIP"];
pub const FLAGS: &[&str] = &["要注意", "ブロック"];
/// 一般 (general), 好み (preferences), 苦情 (complaint), 注意 (caution), 重要 (important).
pub const NOTE_TYPES: &[&str] = &["一般", "好み", "苦情", "注意", "重要"];
/// The note types pinned on the popup (however old), and shown in a customer's shared view
/// (顧客の共有: チェーン共通).
pub const PINNED_NOTE_TYPES: [&str; 2] = ["注意", "苦情"];

pub const MAX_NAME: usize = 100;
pub const MAX_KANA: usize = 100;
pub const MAX_MEMO: usize = 2000;
pub const MAX_NOTE: usize = 2000;
/// A family or an office has a few numbers; hundreds would make every card (and every pop
/// message that carries it) unbounded.
pub const MAX_PHONES: usize = 10;
/// Largest count or amount stored: JavaScript's `Number.MAX_SAFE_INTEGER`. D1 hands integers
/// to the Worker as JS numbers, so anything larger would come back rounded (or undecodable).
pub const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

pub fn name(v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ApiError::bad(
            "missing_name",
            "name",
            "氏名を入力してください",
        ));
    }
    max_chars(v, MAX_NAME, "invalid_name", "name", "氏名")?;
    Ok(v.to_string())
}

/// フリガナ is stored in full-width katakana, however it was typed (ひらがな, ﾊﾝｶｸ).
pub fn kana(v: &str) -> Result<String, ApiError> {
    let v = search::to_katakana(&search::fold_width(v.trim()));
    max_chars(&v, MAX_KANA, "invalid_kana", "kana", "フリガナ")?;
    Ok(v)
}

pub fn memo(v: &str) -> Result<String, ApiError> {
    max_chars(v, MAX_MEMO, "invalid_memo", "memo", "メモ")?;
    Ok(v.to_string())
}

pub fn customer_type(v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(TYPES[0].to_string());
    }
    if !TYPES.contains(&v) {
        return Err(ApiError::bad(
            "invalid_type",
            "customerType",
            format!("区分は新規・会員・VIPのいずれかです: {v}"),
        ));
    }
    Ok(v.to_string())
}

pub fn flag(v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(f) if FLAGS.contains(&f) => Ok(Some(f.to_string())),
        Some(f) => Err(ApiError::bad(
            "invalid_flag",
            "flag",
            format!("フラグは要注意・ブロックのいずれかです: {f}"),
        )),
    }
}

/// One number, as typed. `field` is the request's name for it. A customer's number is a
/// Japanese number (10 or 11 digits starting with 0) or an international one in E.164 (`+`
/// and 8 to 15 digits): `12345` is a typo, not a number anyone can call back.
pub fn phone(raw: &str, field: &'static str) -> Result<String, ApiError> {
    match phone::normalize(raw) {
        Ok(Phone::Number(n)) if callable(&n) => Ok(n),
        Ok(Phone::Number(n)) if lost_leading_zero(&n) => Err(ApiError::bad(
            "phone_leading_zero_lost",
            field,
            format!(
                "電話番号の先頭の0が抜けています（Excelで開いて保存すると消えることがあります）: {} → 0{}",
                raw.trim(),
                n
            ),
        )),
        Ok(Phone::Number(_)) => Err(ApiError::bad(
            "invalid_phone",
            field,
            format!(
                "電話番号は市外局番からの10〜11桁、または+で始まる国際番号で入力してください: {}",
                raw.trim()
            ),
        )),
        Ok(Phone::Withheld) => Err(ApiError::bad(
            "missing_phone",
            field,
            "電話番号を入力してください",
        )),
        Err(_) => Err(ApiError::bad(
            "invalid_phone",
            field,
            format!("電話番号が正しくありません: {}", raw.trim()),
        )),
    }
}

/// A domestic number whose trunk 0 was dropped (a spreadsheet read it as a number):
/// 9 or 10 digits not starting with 0 or +.
fn lost_leading_zero(n: &str) -> bool {
    !n.starts_with(['0', '+']) && (9..=10).contains(&n.len()) && callable(&format!("0{n}"))
}

fn callable(n: &str) -> bool {
    match n.strip_prefix('+') {
        Some(intl) => (8..=15).contains(&intl.len()),
        None => n.starts_with('0') && (10..=11).contains(&n.len()),
    }
}

/// A customer's numbers: at least one, at most [`MAX_PHONES`], duplicates folded.
pub fn phones<'a>(list: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for raw in list {
        let n = phone(raw, "phones")?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad(
            "missing_phone",
            "phones",
            "電話番号を1件以上入力してください",
        ));
    }
    if out.len() > MAX_PHONES {
        return Err(ApiError::bad(
            "too_many_phones",
            "phones",
            format!("電話番号は{MAX_PHONES}件までです"),
        ));
    }
    Ok(out)
}

/// A count or an amount (来店回数, 累計利用額): a whole number from 0 to [`MAX_AMOUNT`].
pub fn amount(v: i64, field: &'static str, label: &str) -> Result<i64, ApiError> {
    if !(0..=MAX_AMOUNT).contains(&v) {
        return Err(ApiError::bad(
            "invalid_number",
            field,
            format!("{label}は0以上の整数で入力してください"),
        ));
    }
    Ok(v)
}

/// An amount as a spreadsheet writes it (`86,000`, `¥86000`, `86000円`); empty is 0.
pub fn amount_text(v: &str, field: &'static str, label: &str) -> Result<i64, ApiError> {
    let cleaned: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | '¥' | '円' | ' '))
        .collect();
    if cleaned.is_empty() {
        return Ok(0);
    }
    match cleaned.parse::<i64>() {
        Ok(n) => amount(n, field, label),
        Err(_) => Err(ApiError::bad(
            "invalid_number",
            field,
            format!("{label}が数値ではありません: {v}"),
        )),
    }
}

/// 最終来店日: `YYYY-MM-DD` (or `YYYY/M/D`, as spreadsheets write it), stored as `YYYY-MM-DD`.
/// Empty clears it.
pub fn last_visit(v: &str) -> Result<Option<String>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        ApiError::bad(
            "invalid_date",
            "lastVisit",
            format!("最終来店日は YYYY-MM-DD 形式です: {v}"),
        )
    };
    let norm = v.replace('/', "-");
    let parts: Vec<&str> = norm.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(bad());
    };
    if !(1900..=2100).contains(&y) {
        return Err(bad());
    }
    if !super::date::valid(i64::from(y), m, d) {
        return Err(bad());
    }
    Ok(Some(format!("{y:04}-{m:02}-{d:02}")))
}

pub fn note_type(v: &str) -> Result<String, ApiError> {
    if !NOTE_TYPES.contains(&v) {
        return Err(ApiError::bad(
            "invalid_note_type",
            "type",
            "種類は一般・好み・苦情・注意・重要のいずれかです",
        ));
    }
    Ok(v.to_string())
}

pub fn note_body(v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ApiError::bad(
            "missing_body",
            "body",
            "内容を入力してください",
        ));
    }
    max_chars(v, MAX_NOTE, "invalid_body", "body", "内容")?;
    Ok(v.to_string())
}

/// Another customer who already has one of the numbers being saved, as D1 has them.
#[derive(Debug, Clone, Deserialize)]
pub struct NumberOwner {
    pub phone: String,
    pub id: i64,
    pub name: String,
    pub home_store_id: Option<i64>,
    pub home_store_name: Option<String>,
}

/// A number being saved that another customer already has: the warning 「この番号は 山田 太郎
/// さんにも登録されています」. `customer` is that customer, or `None` when this viewer may not
/// see them (another store's customer): then only the fact is told, never who.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedNumber {
    pub phone: String,
    pub customer: Option<OtherCustomer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherCustomer {
    pub id: i64,
    pub name: String,
    pub home_store: Option<StoreRef>,
}

/// The most shared-number entries one answer lists (an office number can be on many records).
pub const MAX_SHARED: usize = 20;

/// What `viewer` is told about the other owners of the numbers being saved: each customer they
/// may see (the access policy) by id and name; the ones they may not, as one nameless entry
/// per number. At most [`MAX_SHARED`] entries.
pub fn shared_numbers(viewer: &Viewer, owners: &[NumberOwner]) -> Vec<SharedNumber> {
    let mut out: Vec<SharedNumber> = Vec::new();
    for o in owners {
        let entry = SharedNumber {
            phone: o.phone.clone(),
            customer: viewer
                .may_see_customer(o.home_store_id)
                .then(|| OtherCustomer {
                    id: o.id,
                    name: o.name.clone(),
                    home_store: match (o.home_store_id, &o.home_store_name) {
                        (Some(id), Some(name)) => Some(StoreRef {
                            id: Some(id),
                            name: name.clone(),
                        }),
                        _ => None,
                    },
                }),
        };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out.truncate(MAX_SHARED);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<T: std::fmt::Debug>(r: Result<T, ApiError>) -> &'static str {
        r.unwrap_err().field().unwrap()
    }

    #[test]
    fn names_and_texts() {
        assert_eq!(name("  山田 太郎 ").unwrap(), "山田 太郎");
        assert_eq!(field(name(" ")), "name");
        assert_eq!(field(name(&"x".repeat(101))), "name");
        assert!(name(&"山".repeat(100)).is_ok());
        assert_eq!(field(memo(&"x".repeat(2001))), "memo");
        assert_eq!(customer_type("").unwrap(), "新規");
        assert_eq!(field(customer_type("ゴールド")), "customerType");
        assert_eq!(flag(Some(" ")).unwrap(), None);
        assert_eq!(field(flag(Some("危険"))), "flag");
    }

    #[test]
    fn phone_lists() {
        assert_eq!(
            phones(["090-1234-5678", "09012345678", "+81 3 1111 2222"]).unwrap(),
            vec!["09012345678", "0311112222"]
        );
        assert_eq!(phones([]).unwrap_err().code(), "missing_phone");
        assert_eq!(phones(["abc"]).unwrap_err().code(), "invalid_phone");
        let many: Vec<String> = (0..11).map(|n| format!("0901234{n:04}")).collect();
        let e = phones(many.iter().map(String::as_str)).unwrap_err();
        assert_eq!(e.code(), "too_many_phones");
        assert!(phones(many[..10].iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn numbers_people_can_call_back() {
        assert_eq!(phone("090-1234-5678", "phone").unwrap(), "09012345678");
        assert_eq!(phone("03-1234-5678", "phone").unwrap(), "0312345678");
        assert_eq!(phone("+1 415 555 0100", "phone").unwrap(), "+14155550100");
        for bad in ["12345", "0901234", "090123456789", "110", "+1234"] {
            let e = phone(bad, "phone").unwrap_err();
            assert_eq!(e.code(), "invalid_phone", "{bad}");
            assert!(e.message().contains("10〜11桁"), "{bad}");
        }
    }

    #[test]
    fn kana_is_stored_in_katakana() {
        assert_eq!(kana(" やまだ たろう ").unwrap(), "ヤマダ タロウ");
        assert_eq!(kana("ﾔﾏﾀﾞ").unwrap(), "ヤマダ");
    }

    #[test]
    fn amounts_stay_exact_in_javascript() {
        assert_eq!(
            amount(MAX_AMOUNT, "visits", "来店回数").unwrap(),
            MAX_AMOUNT
        );
        assert_eq!(
            field(amount(MAX_AMOUNT + 1, "visits", "来店回数")),
            "visits"
        );
        assert_eq!(field(amount(-1, "totalSpend", "累計利用額")), "totalSpend");
        assert_eq!(amount_text("86,000", "totalSpend", "x").unwrap(), 86000);
        assert_eq!(amount_text("¥1,200円", "totalSpend", "x").unwrap(), 1200);
        assert_eq!(amount_text("", "visits", "x").unwrap(), 0);
        assert!(amount_text("99999999999999999999", "visits", "x").is_err());
        assert!(amount_text("x", "visits", "x").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(
            last_visit("2026/11/2").unwrap().as_deref(),
            Some("2026-11-02")
        );
        assert_eq!(last_visit(" ").unwrap(), None);
        assert!(last_visit("2026-02-30").is_err());
        assert!(last_visit("2026-13-01").is_err());
        assert!(last_visit("last tuesday").is_err());
    }

    #[test]
    fn notes() {
        assert!(note_type("苦情").is_ok());
        assert_eq!(field(note_type("雑談")), "type");
        assert_eq!(field(note_body("  ")), "body");
        assert_eq!(note_body(" ok ").unwrap(), "ok");
    }

    #[test]
    fn shared_numbers_name_only_customers_the_viewer_may_see() {
        use crate::domain::token::Role;
        let owner = |id, home: Option<i64>| NumberOwner {
            phone: "09011112222".into(),
            id,
            name: format!("顧客{id}"),
            home_store_id: home,
            home_store_name: home.map(|h| format!("店{h}")),
        };
        let owners = [
            owner(1, Some(1)),
            owner(2, Some(2)),
            owner(3, Some(2)),
            owner(4, None),
        ];
        let admin = Viewer::new(Role::Admin, []);
        let named = |v: Vec<SharedNumber>| -> Vec<Option<i64>> {
            v.iter()
                .map(|s| s.customer.as_ref().map(|c| c.id))
                .collect()
        };
        assert_eq!(
            named(shared_numbers(&admin, &owners)),
            vec![Some(1), Some(2), Some(3), Some(4)]
        );
        let nishi = Viewer::staff_of(Some(1));
        // Store 2's two customers: one nameless entry, no id, no name.
        let staff = shared_numbers(&nishi, &owners);
        assert_eq!(named(staff.clone()), vec![Some(1), None, Some(4)]);
        let text = serde_json::to_string(&staff).unwrap();
        assert!(!text.contains("顧客2") && !text.contains("顧客3") && !text.contains("店2"));
        assert_eq!(
            staff[0]
                .customer
                .as_ref()
                .unwrap()
                .home_store
                .as_ref()
                .unwrap()
                .name,
            "店1"
        );
        let many: Vec<NumberOwner> = (0..30).map(|n| owner(n, None)).collect();
        assert_eq!(shared_numbers(&admin, &many).len(), MAX_SHARED);
    }
}
