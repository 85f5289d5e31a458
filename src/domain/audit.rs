//! 操作履歴 (the audit log): the one list of what is recorded, with the Japanese label the
//! page shows, the pseudonyms of a failed login's id and network, and the retention. Pure.
//!
//! Japan's personal-information law expects a business to be able to say who looked at a
//! customer's record and who changed what: every access to personal data through the console
//! is one row (`resources::audit` writes them after the answer, never on a pop's path).
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What was done. The code is what `audit_log.action` stores (never renamed: old rows keep
/// it); the label is what 操作履歴 shows and filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The popup's lookup (`POST /api/customers/lookup`): the caller's record shown.
    PopupOpened,
    /// The customer page (`GET /api/customers/{id}`).
    CustomerViewed,
    CustomerCreated,
    CustomerUpdated,
    CustomerMerged,
    CustomerDeleted,
    NoteAdded,
    WrapupSaved,
    CustomersExported,
    CustomersImported,
    AccountCreated,
    AccountUpdated,
    PasswordReset,
    AccountLoggedOut,
    SettingsChanged,
    Login,
    LoginFailed,
    AuditExported,
    /// A call's recording or voicemail played (its share link asked for).
    RecordingPlayed,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::PopupOpened,
        Action::CustomerViewed,
        Action::CustomerCreated,
        Action::CustomerUpdated,
        Action::CustomerMerged,
        Action::CustomerDeleted,
        Action::NoteAdded,
        Action::WrapupSaved,
        Action::CustomersExported,
        Action::CustomersImported,
        Action::AccountCreated,
        Action::AccountUpdated,
        Action::PasswordReset,
        Action::AccountLoggedOut,
        Action::SettingsChanged,
        Action::Login,
        Action::LoginFailed,
        Action::AuditExported,
        Action::RecordingPlayed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::PopupOpened => "popup_open",
            Action::CustomerViewed => "customer_view",
            Action::CustomerCreated => "customer_create",
            Action::CustomerUpdated => "customer_update",
            Action::CustomerMerged => "customer_merge",
            Action::CustomerDeleted => "customer_delete",
            Action::NoteAdded => "note_add",
            Action::WrapupSaved => "wrapup_save",
            Action::CustomersExported => "customer_export",
            Action::CustomersImported => "customer_import",
            Action::AccountCreated => "account_create",
            Action::AccountUpdated => "account_update",
            Action::PasswordReset => "account_password",
            Action::AccountLoggedOut => "account_logout",
            Action::SettingsChanged => "settings_change",
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::AuditExported => "audit_export",
            Action::RecordingPlayed => "recording_play",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::PopupOpened => "ポップアップ表示",
            Action::CustomerViewed => "顧客ページ表示",
            Action::CustomerCreated => "顧客登録",
            Action::CustomerUpdated => "顧客編集",
            Action::CustomerMerged => "顧客統合",
            Action::CustomerDeleted => "顧客削除",
            Action::NoteAdded => "ノート追加",
            Action::WrapupSaved => "対応記録保存",
            Action::CustomersExported => "顧客エクスポート",
            Action::CustomersImported => "顧客インポート",
            Action::AccountCreated => "アカウント追加",
            Action::AccountUpdated => "アカウント変更",
            Action::PasswordReset => "パスワード再設定",
            Action::AccountLoggedOut => "アカウントの全端末ログアウト",
            Action::SettingsChanged => "設定変更",
            Action::Login => "ログイン",
            Action::LoginFailed => "ログイン失敗",
            Action::AuditExported => "操作履歴エクスポート",
            Action::RecordingPlayed => "録音・留守電の再生",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The label of a stored code (a code from a later release shows as itself).
    pub fn label_of(code: &str) -> &str {
        match Action::from_code(code) {
            Some(a) => a.label(),
            None => code,
        }
    }
}

/// Japanese names of the settings areas a `settings_change` row names in its detail.
pub fn area_label(area: &str) -> &str {
    match area {
        "store" => "店舗",
        "front_desk" => "受付設定（アクションボタン・用件・発信）",
        "hours" => "営業日と折り返し",
        "store_hours" => "店舗の営業時間",
        "custom_field" => "フリー項目",
        "reports" => "着信分析の週次サマリー",
        "dialpad" => "Dialpad 連携",
        "dialpad_link" => "Dialpad ユーザーとの連携",
        other => other,
    }
}

/// A keyed pseudonym (HMAC-SHA256 with the Worker's session secret, 16 hex digits) of a value
/// that must not be stored as it is: a failed login's id (which may be someone's password
/// typed in the wrong box) and a client network. The same value gives the same pseudonym, so
/// repeated attempts can be told apart and counted; without the secret it cannot be reversed
/// or confirmed by guessing.
pub fn pseudonym(secret: &[u8], kind: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(b"audit:");
    mac.update(kind.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    let bytes = mac.finalize().into_bytes();
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Default when `AUDIT_RETENTION_DAYS` is unset: three years.
pub const DEFAULT_RETENTION_DAYS: i64 = 3 * 365;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// The epoch-ms cutoff before which audit rows are deleted by the daily cron, or `None` when
/// retention is off (`"0"`: keep everything). An unreadable value falls back to the default
/// rather than deleting more than intended.
pub fn retention_cutoff_ms(now_ms: i64, setting: Option<&str>) -> Option<i64> {
    let days = match setting.map(str::trim) {
        None | Some("") => DEFAULT_RETENTION_DAYS,
        Some(s) => match s.parse::<i64>() {
            Ok(0) => return None,
            Ok(d) if (1..=36_500).contains(&d) => d,
            _ => DEFAULT_RETENTION_DAYS,
        },
    };
    Some(now_ms - days * DAY_MS)
}

/// The detail of a row as one line of text for the page and the CSV: `key: value` pairs,
/// a settings area by its Japanese name.
pub fn detail_text(detail: &serde_json::Value) -> String {
    let Some(map) = detail.as_object() else {
        return match detail {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    };
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) if k == "area" => area_label(s).to_string(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("・"),
                other => other.to_string(),
            };
            format!("{}: {text}", detail_key_label(k))
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

fn detail_key_label(key: &str) -> &str {
    match key {
        "area" => "対象",
        "op" => "操作",
        "id" => "ID",
        "target" => "アカウント",
        "changes" => "変更",
        "from" => "統合元",
        "created" => "新規",
        "updated" => "更新",
        "loginHash" => "ログインID（ハッシュ）",
        "networkHash" => "接続元（ハッシュ）",
        "reason" => "理由",
        "via" => "経路",
        "complete" => "完了",
        "filters" => "条件",
        "kind" => "種類",
        "type" => "種類",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_has_a_unique_code_and_a_label() {
        let mut codes: Vec<_> = Action::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Action::ALL.len());
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert!(!a.label().is_empty());
        }
        assert_eq!(Action::from_code("nope"), None);
        assert_eq!(Action::label_of("popup_open"), "ポップアップ表示");
        assert_eq!(Action::label_of("future_thing"), "future_thing");
    }

    #[test]
    fn pseudonyms_are_keyed_stable_and_never_the_value() {
        let a = pseudonym(b"secret-one", "login", "yamada");
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, pseudonym(b"secret-one", "login", "yamada"));
        assert_ne!(a, pseudonym(b"secret-two", "login", "yamada"));
        assert_ne!(a, pseudonym(b"secret-one", "network", "yamada"));
        assert_ne!(a, pseudonym(b"secret-one", "login", "yamada2"));
        assert!(!a.contains("yamada"));
    }

    #[test]
    fn retention() {
        let now = 5_000 * DAY_MS;
        assert_eq!(retention_cutoff_ms(now, None), Some(now - 1095 * DAY_MS));
        assert_eq!(
            retention_cutoff_ms(now, Some("30")),
            Some(now - 30 * DAY_MS)
        );
        assert_eq!(retention_cutoff_ms(now, Some("0")), None);
        assert_eq!(
            retention_cutoff_ms(now, Some("soon")),
            Some(now - 1095 * DAY_MS)
        );
        assert_eq!(
            retention_cutoff_ms(now, Some("-1")),
            Some(now - 1095 * DAY_MS)
        );
    }

    #[test]
    fn details_read_as_text() {
        assert_eq!(detail_text(&serde_json::Value::Null), "");
        assert_eq!(
            detail_text(&json!({"area": "store", "op": "create", "id": 3})),
            "対象: 店舗 / ID: 3 / 操作: create"
        );
        assert_eq!(
            detail_text(&json!({"changes": ["role", "store"]})),
            "変更: role・store"
        );
    }
}

/// A time as Japan shows it (UTC+9, no DST), `YYYY-MM-DD HH:MM:SS`, for the CSV.
pub fn jst_text(ms: i64) -> String {
    let secs = (ms + 9 * 3600 * 1000).div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = super::date::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn japan_time_text() {
        // 2026-11-24 15:00:00 UTC = 2026-11-25 00:00:00 JST
        assert_eq!(super::jst_text(1_795_532_400_000), "2026-11-25 00:00:00");
        assert_eq!(
            super::jst_text(1_795_532_400_000 + 3_723_999),
            "2026-11-25 01:02:03"
        );
    }
}
