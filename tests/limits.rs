//! Field limits (issue 24): the longest value each field takes is written once in
//! `tests/corpus/field-limits.json`, which the browser's `maxlength`s are checked against too
//! (`tests/unit-limits.test.mjs`). Here every limit is the server's constant, and the
//! validators that take user text accept exactly that many characters and refuse one more.
use cti_edge::domain::{account, customer, dialpad, fields, front_desk, hours, password, report};
use cti_edge::domain::{search, store};
use serde_json::Value;

fn corpus() -> Value {
    serde_json::from_str(include_str!("corpus/field-limits.json")).expect("field-limits.json")
}

/// The server's constant for each key of the corpus.
fn server_limit(key: &str) -> Option<usize> {
    Some(match key {
        "customer.name" => customer::MAX_NAME,
        "customer.kana" => customer::MAX_KANA,
        "customer.memo" => customer::MAX_MEMO,
        "note.body" => customer::MAX_NOTE,
        "account.login" => account::MAX_LOGIN_CHARS,
        "account.name" => account::MAX_NAME_CHARS,
        "account.password_bytes" => password::MAX_PASSWORD_BYTES,
        "store.name" => store::MAX_NAME_CHARS,
        "search.query" => search::MAX_QUERY_CHARS,
        "wrapup.note" => front_desk::MAX_WRAPUP_NOTE_CHARS,
        "callback.attempt_note" => front_desk::MAX_ATTEMPT_NOTE_CHARS,
        "action.label" => front_desk::MAX_LABEL_CHARS,
        "action.template" => front_desk::MAX_TEMPLATE_CHARS,
        "wrapup.category" => front_desk::MAX_CATEGORY_CHARS,
        "custom_field.label" => fields::MAX_LABEL,
        "custom_field.option" => fields::MAX_OPTION,
        "custom_field.text" => fields::MAX_TEXT,
        "hours.holiday_note" => hours::MAX_HOLIDAY_NOTE_CHARS,
        "dialpad.label" => dialpad::MAX_LABEL_CHARS,
        "weekly.url_bytes" => report::MAX_WEBHOOK_URL_LEN,
        _ => return None,
    })
}

#[test]
fn every_limit_in_the_corpus_is_the_servers_constant() {
    let c = corpus();
    let limits = c["limits"].as_object().expect("limits");
    assert!(!limits.is_empty());
    for (key, max) in limits {
        let max = max.as_u64().expect("a number") as usize;
        assert_eq!(server_limit(key), Some(max), "{key}");
    }
}

#[test]
fn the_validators_take_the_limit_and_refuse_one_more() {
    let c = corpus();
    let max = |key: &str| c["limits"][key].as_u64().expect(key) as usize;
    // Kanji: one character, three bytes, so a byte count would refuse these.
    let text = |n: usize| "山".repeat(n);
    type Check = fn(&str) -> bool;
    let checks: [(&str, Check); 6] = [
        ("customer.name", |v| customer::name(v).is_ok()),
        ("customer.kana", |v| customer::kana(v).is_ok()),
        ("customer.memo", |v| customer::memo(v).is_ok()),
        ("note.body", |v| customer::note_body(v).is_ok()),
        ("account.login", |v| account::login_id(v).is_ok()),
        ("account.name", |v| account::display_name(v).is_ok()),
    ];
    for (key, ok) in checks {
        let n = max(key);
        assert!(ok(&text(n)), "{key}: {n} characters are taken");
        assert!(!ok(&text(n + 1)), "{key}: {} characters are refused", n + 1);
    }
    let n = max("account.login");
    assert_eq!(
        account::login_attempt(&text(n)).map(|v| v.chars().count()),
        Some(n)
    );
    assert_eq!(account::login_attempt(&text(n + 1)), None);
}
