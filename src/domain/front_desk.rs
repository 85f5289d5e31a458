//! The front desk's rules: the popup's action buttons (URL templates), the wrap-up of a call
//! (用件 / 対応結果 / note), the callback list's statuses and how click-to-call dials. Pure:
//! no `worker` types, unit-tested natively.
//!
//! An action URL is a template an admin writes once, e.g.
//! `https://shop.example/orders/new?tel={phone}&c={customerId}`. The popup fills it in with
//! each value percent-encoded (as `encodeURIComponent` does), so a value can never change the
//! address's scheme or host: the template must start with `https://` (it carries names) and name its
//! host literally, without placeholders.
use crate::domain::error::ApiError;
use crate::domain::phone::{self, Phone};
use serde::{Deserialize, Serialize};

/// The placeholders an action URL may use.
pub const PLACEHOLDERS: &[&str] = &["phone", "customerId", "customerName", "store", "callId"];

/// 対応結果: fixed, so the call log's filter means the same thing in every store.
pub const OUTCOMES: &[&str] = &["対応済み", "折り返し予定", "担当者へ引継ぎ", "対応不要"];

/// The 用件 list a fresh installation starts with; admins edit it on the 設定 page.
pub const DEFAULT_CATEGORIES: &[&str] =
    &["予約", "問い合わせ", "注文", "変更・キャンセル", "その他"];

pub const MAX_ACTIONS: usize = 20;
pub const MAX_CATEGORIES: usize = 30;
pub const MAX_LABEL_CHARS: usize = 20;
pub const MAX_CATEGORY_CHARS: usize = 30;
pub const MAX_TEMPLATE_CHARS: usize = 2000;
pub const MAX_WRAPUP_NOTE_CHARS: usize = 2000;

/// Checks an action URL template. Returns it trimmed.
pub fn url_template(t: &str) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::bad("invalid_action_url", "url", m.to_string());
    let t = t.trim();
    if t.is_empty() || t.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(bad("URLを入力してください（2000文字以内）"));
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("URLに空白や制御文字は使えません"));
    }
    let lower = t.to_ascii_lowercase();
    // https only: the URL carries the caller's name and number.
    let rest = if lower.starts_with("https://") {
        &t[8..]
    } else {
        return Err(bad("URLは https:// で始めてください"));
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.is_empty() || host.contains(['{', '}', '@', '\\']) {
        return Err(bad(
            "ホスト名はそのまま書いてください（差し込み項目や @ は使えません）",
        ));
    }
    // Every `{…}` must be a known placeholder, and braces must pair.
    let mut chars = rest[host_end..].char_indices();
    let tail = &rest[host_end..];
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                let close = tail[i + 1..]
                    .find('}')
                    .ok_or_else(|| bad("{ に対応する } がありません"))?;
                let name = &tail[i + 1..i + 1 + close];
                if !PLACEHOLDERS.contains(&name) {
                    return Err(ApiError::bad(
                        "invalid_action_url",
                        "url",
                        format!(
                            "使えない差し込み項目です: {{{name}}}（使えるのは {} ）",
                            PLACEHOLDERS
                                .iter()
                                .map(|p| format!("{{{p}}}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    ));
                }
                for _ in 0..=close {
                    chars.next();
                }
            }
            '}' => return Err(bad("} に対応する { がありません")),
            _ => {}
        }
    }
    Ok(t.to_string())
}

/// What the placeholders stand for in one popup.
#[derive(Debug, Default, Clone)]
pub struct ActionValues<'a> {
    pub phone: &'a str,
    pub customer_id: Option<i64>,
    pub customer_name: &'a str,
    pub store: &'a str,
    pub call_id: &'a str,
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded.
pub fn encode_component(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fills a template checked by [`url_template`]; an unknown caller leaves the customer's
/// placeholders empty. `public/admin/lib/front-desk.js` does the same in the popup.
pub fn expand(template: &str, v: &ActionValues) -> String {
    let id = v.customer_id.map(|n| n.to_string()).unwrap_or_default();
    let mut out = template.to_string();
    for (name, value) in [
        ("phone", v.phone),
        ("customerId", id.as_str()),
        ("customerName", v.customer_name),
        ("store", v.store),
        ("callId", v.call_id),
    ] {
        out = out.replace(&format!("{{{name}}}"), &encode_component(value));
    }
    out
}

/// One action button: its label, URL template, and the store it is for (None: every store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    pub label: String,
    pub url: String,
    #[serde(default)]
    pub store_id: Option<i64>,
}

/// A store's own number, shown as the caller ID when dialling through Dialpad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallerId {
    pub store_id: i64,
    pub number: String,
}

/// How click-to-call dials: `tel:` (the computer's default phone app) or `dialpad://` (the
/// Dialpad app, with the store's number as caller ID when one is set).
pub const DIAL_MODES: &[&str] = &["tel", "dialpad"];

/// The front desk's settings document, as the 設定 page edits it and the popup reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default = "default_dial_mode")]
    pub dial_mode: String,
    #[serde(default)]
    pub caller_ids: Vec<CallerId>,
    /// 顧客の共有: `store` (店舗ごと) or `chain` (チェーン共通); see `access::Sharing`.
    #[serde(default = "default_sharing")]
    pub customer_sharing: String,
}

fn default_sharing() -> String {
    crate::domain::access::Sharing::default().as_str().into()
}

impl Settings {
    /// The 顧客の共有 setting (an unknown stored value reads as the default, 店舗ごと).
    pub fn sharing(&self) -> crate::domain::access::Sharing {
        crate::domain::access::Sharing::parse(&self.customer_sharing).unwrap_or_default()
    }
}

/// 顧客の共有 of a stored settings document, read from its one member (the hub's rebuild):
/// the same answer as `Settings::sharing` for every document `settings` let through, without
/// linking the whole document's parser into the pop Worker (docs/benchmarks.md, "Pop module
/// size, trimmed"). Unreadable, missing or unknown: the default, 店舗ごと.
pub fn stored_sharing(body: &str) -> crate::domain::access::Sharing {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("customerSharing")?
                .as_str()
                .and_then(crate::domain::access::Sharing::parse)
        })
        .unwrap_or_default()
}

fn default_dial_mode() -> String {
    "tel".into()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            actions: vec![],
            categories: DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect(),
            dial_mode: default_dial_mode(),
            caller_ids: vec![],
            customer_sharing: default_sharing(),
        }
    }
}

/// Checks and normalises a settings document (trimmed labels, checked URLs, unique categories,
/// domestic-digit caller IDs).
pub fn settings(mut s: Settings) -> Result<Settings, ApiError> {
    if s.actions.len() > MAX_ACTIONS {
        return Err(ApiError::bad(
            "too_many_actions",
            "actions",
            format!("ボタンは{MAX_ACTIONS}個までです"),
        ));
    }
    for a in &mut s.actions {
        let label = a.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(ApiError::bad(
                "invalid_action_label",
                "label",
                format!("ボタン名は1〜{MAX_LABEL_CHARS}文字で入力してください"),
            ));
        }
        a.label = label.to_string();
        a.url = url_template(&a.url)?;
    }
    let mut categories: Vec<String> = Vec::new();
    for c in &s.categories {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if c.chars().count() > MAX_CATEGORY_CHARS {
            return Err(ApiError::bad(
                "invalid_category",
                "categories",
                format!("用件は{MAX_CATEGORY_CHARS}文字以内です: {c}"),
            ));
        }
        if !categories.iter().any(|x| x == c) {
            categories.push(c.to_string());
        }
    }
    if categories.len() > MAX_CATEGORIES {
        return Err(ApiError::bad(
            "too_many_categories",
            "categories",
            format!("用件は{MAX_CATEGORIES}個までです"),
        ));
    }
    s.categories = categories;
    if !DIAL_MODES.contains(&s.dial_mode.as_str()) {
        return Err(ApiError::bad(
            "invalid_dial_mode",
            "dialMode",
            "発信方法は tel か dialpad です",
        ));
    }
    for c in &mut s.caller_ids {
        c.number = match phone::normalize(&c.number) {
            Ok(Phone::Number(n)) if n.len() >= 10 => n,
            _ => {
                return Err(ApiError::bad(
                    "invalid_caller_id",
                    "callerIds",
                    format!("発信者番号の形式が正しくありません: {}", c.number),
                ))
            }
        };
    }
    s.caller_ids.retain(|c| !c.number.is_empty());
    if crate::domain::access::Sharing::parse(&s.customer_sharing).is_none() {
        return Err(ApiError::bad(
            "invalid_customer_sharing",
            "customerSharing",
            "顧客の共有は store（店舗ごと）か chain（チェーン共通）です",
        ));
    }
    Ok(s)
}

/// A call's wrap-up as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapup {
    pub category: String,
    pub outcome: String,
    pub note: String,
}

/// Checks a wrap-up against the current 用件 list. Empty fields are allowed (saved as they are:
/// a wrap-up may be filled in bit by bit).
pub fn wrapup(
    category: &str,
    outcome: &str,
    note: &str,
    categories: &[String],
) -> Result<Wrapup, ApiError> {
    let category = category.trim();
    if !category.is_empty() && !categories.iter().any(|c| c == category) {
        return Err(ApiError::bad(
            "invalid_category",
            "category",
            "用件は設定の一覧から選んでください",
        ));
    }
    let outcome = outcome.trim();
    if !outcome.is_empty() && !OUTCOMES.contains(&outcome) {
        return Err(ApiError::bad(
            "invalid_outcome",
            "outcome",
            format!("対応結果は {} のいずれかです", OUTCOMES.join("・")),
        ));
    }
    if note.chars().count() > MAX_WRAPUP_NOTE_CHARS {
        return Err(ApiError::bad(
            "invalid_note",
            "note",
            format!("メモは{MAX_WRAPUP_NOTE_CHARS}文字以内です"),
        ));
    }
    Ok(Wrapup {
        category: category.to_string(),
        outcome: outcome.to_string(),
        note: note.to_string(),
    })
}

/// 未対応 / 対応中 / 対応済 as stored.
pub const CALLBACK_STATUSES: &[&str] = &["open", "in_progress", "done"];

pub fn callback_status(v: &str) -> Result<&'static str, ApiError> {
    CALLBACK_STATUSES
        .iter()
        .find(|s| **s == v)
        .copied()
        .ok_or_else(|| {
            ApiError::bad(
                "invalid_status",
                "status",
                "状態は open（未対応）・in_progress（対応中）・done（対応済）のいずれかです",
            )
        })
}

/// Does a call in `phase` put the caller on the store's callback list?
pub fn needs_callback(direction: &str, phase: &str, caller: &str) -> bool {
    direction != "outbound" && crate::domain::call::is_missed(phase) && !caller.is_empty()
}

/// Does a call in `phase` reach the caller, closing the open callback of its number at its
/// store? Only an inbound call that was answered: a call from the number answered at the same
/// store (the caller checks the store). An outbound call closes nothing by itself: whoever
/// called logs the attempt.
pub fn reaches_caller(direction: &str, phase: &str, connected: bool, caller: &str) -> bool {
    direction != "outbound"
        && !caller.is_empty()
        && (phase == "connected" || (phase == "ended" && connected))
}

/// The note an automatically closed callback gets (with the call that closed it).
pub const AUTO_CLOSE_NOTE: &str = "後の着信（応答済み）で自動的に完了";

/// The 対応結果 that puts the call's number on the callback queue.
pub const CALLBACK_OUTCOME: &str = "折り返し予定";

/// The results of an attempt to call back.
pub const ATTEMPT_RESULTS: &[&str] = &["不在", "伝言", "つながった", "その他"];
pub const MAX_ATTEMPT_NOTE_CHARS: usize = 1000;

/// Checks an attempt (result from [`ATTEMPT_RESULTS`], a note of at most 1000 characters).
pub fn attempt(result: &str, note: &str) -> Result<(&'static str, String), ApiError> {
    let result = ATTEMPT_RESULTS
        .iter()
        .find(|r| **r == result.trim())
        .copied()
        .ok_or_else(|| {
            ApiError::bad(
                "invalid_result",
                "result",
                format!("結果は {} のいずれかです", ATTEMPT_RESULTS.join("・")),
            )
        })?;
    let note = note.trim();
    if note.chars().count() > MAX_ATTEMPT_NOTE_CHARS {
        return Err(ApiError::bad(
            "invalid_note",
            "note",
            format!("メモは{MAX_ATTEMPT_NOTE_CHARS}文字以内です"),
        ));
    }
    Ok((result, note.to_string()))
}

#[cfg(test)]
#[path = "front_desk_tests.rs"]
mod tests;
