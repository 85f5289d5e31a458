//! Custom fields (フリー項目): the business's own facts about customers. Pure: the rules for
//! a field's definition and for a value typed into it, the one validator behind every write
//! path (create, edit, CSV import).
//!
//! Values are stored as text in one JSON object per customer (`customers.custom`, keyed by
//! the field's id), so a write binds one parameter whatever the number of fields (D1 allows
//! 100 bound parameters) and the pop index carries them in the customer's own row.
use crate::domain::error::{max_chars, ApiError};
use crate::domain::search;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// text, number, date, one of a list, yes/no.
pub const KINDS: &[&str] = &["text", "number", "date", "choice", "yesno"];
pub const MAX_LABEL: usize = 30;
pub const MAX_TEXT: usize = 200;
pub const MAX_OPTIONS: usize = 30;
pub const MAX_OPTION: usize = 30;
pub const MAX_FIELDS: usize = 50;
pub const YES: &str = "はい";
pub const NO: &str = "いいえ";

/// A field as defined on 設定.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub id: i64,
    pub label: String,
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
    /// `None`: every store's customers; else the customers of that store.
    pub store_id: Option<i64>,
    pub on_card: bool,
    pub position: i64,
    /// Staff may edit it (else admins only).
    pub staff_edit: bool,
}

impl Definition {
    /// Whether the field applies to a customer of `home` store.
    pub fn applies_to(&self, home: Option<i64>) -> bool {
        self.store_id.is_none() || self.store_id == home
    }
}

/// A field's name (its CSV column too: `csv::field_label` also refuses a standard column's).
pub fn label(v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ApiError::bad(
            "missing_label",
            "label",
            "項目名を入力してください",
        ));
    }
    max_chars(v, MAX_LABEL, "invalid_label", "label", "項目名")?;
    Ok(v.to_string())
}

pub fn kind(v: &str) -> Result<String, ApiError> {
    if !KINDS.contains(&v) {
        return Err(ApiError::bad(
            "invalid_kind",
            "kind",
            "種類は text, number, date, choice, yesno のいずれかです",
        ));
    }
    Ok(v.to_string())
}

/// A list's choices: for `choice`, 1 to [`MAX_OPTIONS`] distinct non-empty entries; for other
/// kinds, none (ignored).
pub fn options(kind: &str, list: &[String]) -> Result<Vec<String>, ApiError> {
    if kind != "choice" {
        return Ok(vec![]);
    }
    let mut out: Vec<String> = Vec::new();
    for o in list {
        let o = o.trim();
        if o.is_empty() {
            continue;
        }
        max_chars(o, MAX_OPTION, "invalid_options", "options", "選択肢")?;
        if !out.iter().any(|x| x == o) {
            out.push(o.to_string());
        }
    }
    if out.is_empty() || out.len() > MAX_OPTIONS {
        return Err(ApiError::bad(
            "invalid_options",
            "options",
            format!("選択肢を1〜{MAX_OPTIONS}件入力してください"),
        ));
    }
    Ok(out)
}

fn bad_value(def: &Definition, what: &str, v: &str) -> ApiError {
    ApiError::bad(
        "invalid_field_value",
        "fields",
        format!("{}: {what}: {v}", def.label),
    )
}

/// A value typed into `def`, as stored (text). `None`: empty, the value is cleared.
pub fn value(def: &Definition, raw: &Value) -> Result<Option<String>, ApiError> {
    let text = match raw {
        Value::Null => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) if def.kind == "yesno" => return Ok(Some(yes_no(*b).into())),
        Value::Number(n) if def.kind == "number" => n.to_string(),
        other => {
            return Err(bad_value(
                def,
                "値の形式が正しくありません",
                &other.to_string(),
            ))
        }
    };
    value_text(def, &text)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        YES
    } else {
        NO
    }
}

/// A value as text (the form's, or a CSV cell).
pub fn value_text(def: &Definition, v: &str) -> Result<Option<String>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match def.kind.as_str() {
        "text" => {
            if v.chars().count() > MAX_TEXT {
                return Err(bad_value(
                    def,
                    &format!("{MAX_TEXT}文字以内で入力してください"),
                    &format!("{}文字", v.chars().count()),
                ));
            }
            Ok(Some(v.to_string()))
        }
        "number" => {
            let cleaned: String = search::fold_width(v)
                .chars()
                .filter(|c| *c != ',')
                .collect();
            match cleaned.parse::<f64>() {
                Ok(n) if n.is_finite() && cleaned.len() <= 20 => Ok(Some(cleaned)),
                _ => Err(bad_value(def, "数値で入力してください", v)),
            }
        }
        "date" => match crate::domain::customer::last_visit(v) {
            Ok(d) => Ok(d),
            Err(_) => Err(bad_value(def, "日付は YYYY-MM-DD 形式です", v)),
        },
        "choice" => match def.options.iter().find(|o| o.as_str() == v) {
            Some(o) => Ok(Some(o.clone())),
            None => Err(bad_value(
                def,
                &format!("{}のいずれかです", def.options.join("・")),
                v,
            )),
        },
        "yesno" => match v.to_lowercase().as_str() {
            "はい" | "yes" | "true" | "1" | "○" | "有" => Ok(Some(YES.into())),
            "いいえ" | "no" | "false" | "0" | "×" | "無" => Ok(Some(NO.into())),
            _ => Err(bad_value(def, "はい・いいえのいずれかです", v)),
        },
        _ => Err(bad_value(def, "種類が正しくありません", v)),
    }
}

/// Who changes what: an edit of `changes` (field id → raw value) applied onto `current` (the
/// stored object) for a customer of `home`. Unknown fields, fields of another store and bad
/// values are a 400; a staff member changing an admin-only field is a 403. Returns the new
/// object.
pub fn apply(
    defs: &[Definition],
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
    home: Option<i64>,
    admin: bool,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = current.clone();
    for (key, raw) in changes {
        let def = key
            .parse::<i64>()
            .ok()
            .and_then(|id| defs.iter().find(|d| d.id == id))
            .filter(|d| d.applies_to(home))
            .ok_or_else(|| {
                ApiError::bad(
                    "unknown_field",
                    "fields",
                    format!("フリー項目 {key} はありません"),
                )
            })?;
        let new = value(def, raw)?;
        let old = current.get(key).and_then(Value::as_str).map(str::to_string);
        if new == old {
            continue;
        }
        if !admin && !def.staff_edit {
            return Err(ApiError::Forbidden("field_admin_only"));
        }
        match new {
            Some(v) => out.insert(key.clone(), Value::String(v)),
            None => out.remove(key),
        };
    }
    Ok(out)
}

/// The search key of a customer's values: the folded text of its text and list fields.
pub fn search_key(defs: &[Definition], values: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for d in defs {
        if d.kind != "text" && d.kind != "choice" {
            continue;
        }
        if let Some(v) = values.get(&d.id.to_string()).and_then(Value::as_str) {
            parts.push(search::key(v));
        }
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(id: i64, kind: &str) -> Definition {
        Definition {
            id,
            label: format!("項目{id}"),
            kind: kind.into(),
            options: if kind == "choice" {
                vec!["佐藤".into(), "鈴木".into()]
            } else {
                vec![]
            },
            store_id: None,
            on_card: true,
            position: id,
            staff_edit: true,
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn definitions() {
        assert_eq!(label(" 指名 ").unwrap(), "指名");
        assert_eq!(label("").unwrap_err().code(), "missing_label");
        assert_eq!(label(&"x".repeat(31)).unwrap_err().code(), "invalid_label");
        assert!(kind("choice").is_ok());
        assert_eq!(kind("color").unwrap_err().code(), "invalid_kind");
        assert_eq!(
            options("choice", &["A".into(), " ".into(), "A".into(), "B".into()]).unwrap(),
            vec!["A", "B"]
        );
        assert_eq!(
            options("choice", &[]).unwrap_err().code(),
            "invalid_options"
        );
        assert!(options("text", &["A".into()]).unwrap().is_empty());
    }

    #[test]
    fn values_by_kind() {
        let t = def(1, "text");
        assert_eq!(
            value(&t, &json!(" 花粉症 ")).unwrap().as_deref(),
            Some("花粉症")
        );
        assert_eq!(value(&t, &json!("")).unwrap(), None);
        assert!(value(&t, &json!("x".repeat(201))).is_err());
        let n = def(2, "number");
        assert_eq!(value(&n, &json!("1,200")).unwrap().as_deref(), Some("1200"));
        assert_eq!(value(&n, &json!(3)).unwrap().as_deref(), Some("3"));
        assert_eq!(value(&n, &json!("１２")).unwrap().as_deref(), Some("12"));
        assert_eq!(
            value(&n, &json!("abc")).unwrap_err().code(),
            "invalid_field_value"
        );
        let d = def(3, "date");
        assert_eq!(
            value(&d, &json!("2026/1/5")).unwrap().as_deref(),
            Some("2026-01-05")
        );
        assert!(value(&d, &json!("2026-02-30")).is_err());
        let c = def(4, "choice");
        assert_eq!(value(&c, &json!("鈴木")).unwrap().as_deref(), Some("鈴木"));
        let e = value(&c, &json!("田中")).unwrap_err();
        assert_eq!(e.field(), Some("fields"));
        assert!(e.message().contains("佐藤・鈴木"));
        let y = def(5, "yesno");
        assert_eq!(value(&y, &json!(true)).unwrap().as_deref(), Some(YES));
        assert_eq!(value(&y, &json!("0")).unwrap().as_deref(), Some(NO));
        assert!(value(&y, &json!("maybe")).is_err());
        assert!(value(&t, &json!([1])).is_err());
        assert!(value(&t, &json!(true)).is_err());
    }

    #[test]
    fn edits_follow_the_fields_own_rules() {
        let mut admin_only = def(2, "text");
        admin_only.staff_edit = false;
        let mut other_store = def(3, "text");
        other_store.store_id = Some(9);
        let defs = vec![def(1, "choice"), admin_only, other_store];
        let current = map(json!({"1": "佐藤", "2": "VIP対応"}));
        // Staff change a staff field; the admin-only one sent unchanged is no change.
        let out = apply(
            &defs,
            &current,
            &map(json!({"1": "鈴木", "2": "VIP対応"})),
            Some(1),
            false,
        )
        .unwrap();
        assert_eq!(out, map(json!({"1": "鈴木", "2": "VIP対応"})));
        let e = apply(&defs, &current, &map(json!({"2": "x"})), Some(1), false).unwrap_err();
        assert!(matches!(e, ApiError::Forbidden("field_admin_only")));
        assert!(
            apply(&defs, &current, &map(json!({"2": null})), Some(1), true)
                .unwrap()
                .get("2")
                .is_none()
        );
        let e = apply(&defs, &current, &map(json!({"3": "x"})), Some(1), true).unwrap_err();
        assert_eq!(e.code(), "unknown_field");
        assert!(apply(&defs, &current, &map(json!({"3": "x"})), Some(9), true).is_ok());
        assert_eq!(
            apply(&defs, &current, &map(json!({"x": "x"})), None, true)
                .unwrap_err()
                .code(),
            "unknown_field"
        );
        assert_eq!(
            apply(&defs, &current, &map(json!({"1": "田中"})), None, true)
                .unwrap_err()
                .code(),
            "invalid_field_value"
        );
    }

    #[test]
    fn search_key_has_text_and_list_values() {
        let defs = vec![def(1, "choice"), def(2, "number"), def(3, "text")];
        let k = search_key(&defs, &map(json!({"1": "鈴木", "2": "12", "3": "ﾊﾅｺ"})));
        assert!(k.contains(&search::key("鈴木")));
        assert!(k.contains(&search::key("ハナコ")));
        assert!(!k.contains("12"));
    }
}
