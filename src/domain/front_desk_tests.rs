//! Unit tests of `front_desk` (kept apart from the rules: templates, settings, wrap-ups, callbacks).
use super::*;

fn code(r: Result<String, ApiError>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn stored_sharing_reads_as_the_whole_document_does() {
    use crate::domain::access::Sharing;
    let chain = Settings {
        customer_sharing: "chain".into(),
        ..Settings::default()
    };
    for doc in [Settings::default(), chain] {
        let body = serde_json::to_string(&doc).unwrap();
        assert_eq!(stored_sharing(&body), doc.sharing(), "{body}");
    }
    assert_eq!(stored_sharing(r#"{"actions":[]}"#), Sharing::PerStore);
    assert_eq!(
        stored_sharing(r#"{"customerSharing":"other"}"#),
        Sharing::PerStore
    );
    assert_eq!(
        stored_sharing(r#"{"customerSharing":7}"#),
        Sharing::PerStore
    );
    assert_eq!(stored_sharing("not json"), Sharing::PerStore);
    assert_eq!(
        stored_sharing(r#"{"customerSharing":"chain"}"#),
        Sharing::Chain
    );
}

#[test]
fn templates_must_be_http_with_a_literal_host() {
    assert_eq!(
        url_template(" https://shop.example/new?tel={phone}&c={customerId} ").unwrap(),
        "https://shop.example/new?tel={phone}&c={customerId}"
    );
    assert!(url_template("HTTPS://shop.example").is_ok());
    assert_eq!(
        code(url_template("http://shop.example")),
        "invalid_action_url"
    );
    assert_eq!(
        code(url_template("HTTP://shop.example")),
        "invalid_action_url"
    );
    assert!(url_template("https://x.example/{store}/{callId}#{customerName}").is_ok());
    for bad in [
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "//shop.example/",
        "ftp://shop.example/",
        "https://{phone}.example/",
        "https://user@evil.example/",
        "https:///path",
        "https://shop.example/{nope}",
        "https://shop.example/{phone",
        "https://shop.example/phone}",
        "https://shop.example/a b",
    ] {
        assert_eq!(code(url_template(bad)), "invalid_action_url", "{bad}");
    }
    assert!(url_template(&format!("https://a.example/{}", "x".repeat(2000))).is_err());
}

#[test]
fn expansion_encodes_every_value() {
    let v = ActionValues {
        phone: "09012345678",
        customer_id: Some(42),
        customer_name: "山田 太郎&x=1",
        store: "西船橋",
        call_id: "123",
    };
    assert_eq!(
        expand(
            "https://a.example/o?t={phone}&c={customerId}&n={customerName}&s={store}&k={callId}",
            &v
        ),
        "https://a.example/o?t=09012345678&c=42&n=%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E%26x%3D1\
         &s=%E8%A5%BF%E8%88%B9%E6%A9%8B&k=123"
    );
    // An unknown caller: the number alone.
    let unknown = ActionValues {
        phone: "0312345678",
        ..Default::default()
    };
    assert_eq!(
        expand("https://a.example/?t={phone}&c={customerId}", &unknown),
        "https://a.example/?t=0312345678&c="
    );
    assert_eq!(encode_component("a/b?c#d"), "a%2Fb%3Fc%23d");
}

#[test]
fn settings_are_normalised_and_checked() {
    let s = settings(Settings {
        actions: vec![Action {
            label: " 新規受注 ".into(),
            url: "https://a.example/?t={phone}".into(),
            store_id: Some(1),
        }],
        categories: vec![" 予約 ".into(), "予約".into(), "".into(), "苦情".into()],
        dial_mode: "dialpad".into(),
        caller_ids: vec![CallerId {
            store_id: 1,
            number: "+81 50-1748-0000".into(),
        }],
        customer_sharing: "chain".into(),
    })
    .unwrap();
    assert_eq!(s.sharing(), crate::domain::access::Sharing::Chain);
    assert_eq!(
        Settings::default().sharing(),
        crate::domain::access::Sharing::PerStore
    );
    assert_eq!(s.actions[0].label, "新規受注");
    assert_eq!(s.categories, vec!["予約", "苦情"]);
    assert_eq!(s.caller_ids[0].number, "05017480000");

    let with = |f: &dyn Fn(&mut Settings)| {
        let mut s = Settings::default();
        f(&mut s);
        settings(s).unwrap_err().code()
    };
    assert_eq!(with(&|s| s.dial_mode = "skype".into()), "invalid_dial_mode");
    assert_eq!(
        with(&|s| s.customer_sharing = "チェーン共通".into()),
        "invalid_customer_sharing"
    );
    assert_eq!(
        with(&|s| s.actions = vec![Action {
            label: "".into(),
            url: "https://a.example".into(),
            store_id: None
        }]),
        "invalid_action_label"
    );
    assert_eq!(
        with(&|s| s.actions = vec![Action {
            label: "x".into(),
            url: "javascript:1".into(),
            store_id: None
        }]),
        "invalid_action_url"
    );
    assert_eq!(
        with(&|s| s.caller_ids = vec![CallerId {
            store_id: 1,
            number: "abc".into()
        }]),
        "invalid_caller_id"
    );
    assert_eq!(
        with(&|s| s.categories = vec!["あ".repeat(31)]),
        "invalid_category"
    );
    assert!(serde_json::from_str::<Settings>(r#"{"evil":1}"#).is_err());
    assert_eq!(
        serde_json::from_str::<Settings>("{}").unwrap().dial_mode,
        "tel"
    );
}

#[test]
fn wrapups_follow_the_lists() {
    let cats = vec!["予約".to_string()];
    assert_eq!(
        wrapup(" 予約 ", "対応済み", "メモ", &cats).unwrap(),
        Wrapup {
            category: "予約".into(),
            outcome: "対応済み".into(),
            note: "メモ".into()
        }
    );
    assert!(wrapup("", "", "", &cats).is_ok(), "a draft may be empty");
    assert_eq!(
        wrapup("注文", "", "", &cats).unwrap_err().code(),
        "invalid_category"
    );
    assert_eq!(
        wrapup("", "完了", "", &cats).unwrap_err().code(),
        "invalid_outcome"
    );
    assert_eq!(
        wrapup("", "", &"x".repeat(2001), &cats).unwrap_err().code(),
        "invalid_note"
    );
}

#[test]
fn callbacks() {
    assert_eq!(callback_status("in_progress").unwrap(), "in_progress");
    assert_eq!(
        callback_status("closed").unwrap_err().code(),
        "invalid_status"
    );
    assert!(needs_callback("inbound", "missed", "0312345678"));
    assert!(needs_callback("inbound", "voicemail", "0312345678"));
    assert!(!needs_callback("outbound", "missed", "0312345678"));
    assert!(
        !needs_callback("inbound", "missed", ""),
        "withheld: nobody to call back"
    );
    assert!(!needs_callback("inbound", "ended", "0312345678"));
    assert!(reaches_caller("inbound", "connected", true, "0312345678"));
    assert!(reaches_caller("inbound", "ended", true, "0312345678"));
    assert!(!reaches_caller("inbound", "ended", false, "0312345678"));
    assert!(!reaches_caller("inbound", "missed", false, "0312345678"));
    assert!(
        !reaches_caller("outbound", "connected", true, "0312345678"),
        "a call back is logged as an attempt, it closes nothing by itself"
    );
    assert_eq!(attempt(" 不在 ", "").unwrap(), ("不在", String::new()));
    assert_eq!(attempt("留守", "").unwrap_err().code(), "invalid_result");
    assert_eq!(
        attempt("伝言", &"x".repeat(1001)).unwrap_err().code(),
        "invalid_note"
    );
}

/// The corpus the browser's copy (public/admin/lib/front-desk.js) is tested with too.
#[test]
fn action_templates_shared_corpus() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/corpus/action-templates.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let v = &case["values"];
        let values = ActionValues {
            phone: v["phone"].as_str().unwrap(),
            customer_id: v["customerId"].as_i64(),
            customer_name: v["customerName"].as_str().unwrap(),
            store: v["store"].as_str().unwrap(),
            call_id: v["callId"].as_str().unwrap(),
        };
        let template = case["template"].as_str().unwrap();
        assert_eq!(
            expand(template, &values),
            case["expected"].as_str().unwrap(),
            "{template}"
        );
    }
}
